//! The tamper-evident audit trail. Entries form hash chains: one per incident (`incident:<id>`),
//! per user (`user:<id>`) and per other target, so that writes to different incidents never wait
//! on one global lock. Each entry carries the SHA-256 of its predecessor; `audit_heads` holds each
//! chain's last sequence number and hash, so deleting the newest entry is detected too.
//! Audit rows are only ever inserted.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::schema::{audit_heads, audit_log};
use super::{ts, utc, AnyConnection, DbResult, LiteralLimitDsl};

/// The hash a chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, by whom, to what.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub actor_id: Option<&'a str>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub incident_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub details: serde_json::Value,
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = audit_log)]
struct AuditRow {
    id: String,
    chain: String,
    seq: i64,
    at: NaiveDateTime,
    actor_id: Option<String>,
    actor_label: String,
    action: String,
    target_type: String,
    target_id: String,
    incident_id: Option<String>,
    request_id: Option<String>,
    details: String,
    prev_hash: String,
    hash: String,
}

/// One audit entry as served by `GET /audit`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    /// The hash chain this entry belongs to.
    pub chain: String,
    /// Position in its chain, from 1.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub incident_id: Option<String>,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

fn entry_hash(r: &AuditRow) -> String {
    let at = r.at.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true);
    let mut h = Sha256::new();
    for part in [
        r.prev_hash.as_str(),
        r.chain.as_str(),
        &r.seq.to_string(),
        &at,
        r.actor_id.as_deref().unwrap_or(""),
        &r.actor_label,
        &r.action,
        &r.target_type,
        &r.target_id,
        r.incident_id.as_deref().unwrap_or(""),
        r.request_id.as_deref().unwrap_or(""),
        &r.details,
    ] {
        // Length-prefixing keeps field boundaries unambiguous.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The chain an event belongs to: its incident's, else its target's.
pub fn chain_for(ev: &AuditEvent<'_>) -> String {
    match ev.incident_id {
        Some(i) => format!("incident:{i}"),
        None => format!("{}:{}", ev.target_type, ev.target_id),
    }
}

/// Appends an entry; call inside the transaction that makes the change.
pub fn append(conn: &mut AnyConnection, ev: &AuditEvent<'_>) -> DbResult<()> {
    #[derive(QueryableByName)]
    struct Head {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        hash: String,
    }
    use diesel::sql_types::Text;
    let chain = chain_for(ev);
    diesel::sql_query("INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING")
        .bind::<Text, _>(&chain)
        .bind::<Text, _>(GENESIS)
        .execute(conn)?;
    // The UPDATE takes the chain's row lock until commit; `hash` is still the predecessor's here.
    let head: Head = diesel::sql_query("UPDATE audit_heads SET seq = seq + 1 WHERE chain = $1 RETURNING seq, hash")
        .bind::<Text, _>(&chain)
        .get_result(conn)?;
    let mut row = AuditRow {
        id: super::new_id(),
        chain: chain.clone(),
        seq: head.seq,
        at: ts(super::now()),
        actor_id: ev.actor_id.map(Into::into),
        actor_label: ev.actor_label.into(),
        action: ev.action.into(),
        target_type: ev.target_type.into(),
        target_id: ev.target_id.into(),
        incident_id: ev.incident_id.map(Into::into),
        request_id: ev.request_id.map(Into::into),
        details: super::to_json(&ev.details),
        prev_hash: head.hash,
        hash: String::new(),
    };
    row.hash = entry_hash(&row);
    diesel::update(audit_heads::table.filter(audit_heads::chain.eq(&chain)))
        .set(audit_heads::hash.eq(&row.hash))
        .execute(conn)?;
    diesel::insert_into(audit_log::table).values(&row).execute(conn)?;
    Ok(())
}

/// A page of entries, oldest first, filtered by incident or actor, after the entry id `after`.
pub fn list(
    conn: &mut AnyConnection,
    incident_id: Option<&str>,
    actor_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> DbResult<Vec<AuditEntry>> {
    let mut q = audit_log::table.select(AuditRow::as_select()).into_boxed();
    if let Some(i) = incident_id {
        q = q.filter(audit_log::incident_id.eq(i.to_owned()));
    }
    if let Some(a) = actor_id {
        q = q.filter(audit_log::actor_id.eq(a.to_owned()));
    }
    if let Some(a) = after {
        q = q.filter(audit_log::id.gt(a.to_owned()));
    }
    let rows: Vec<AuditRow> = q.order(audit_log::id.asc()).literal_limit(limit).load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditEntry {
                details: super::from_json(&r.details)?,
                id: r.id,
                chain: r.chain,
                seq: r.seq,
                at: utc(r.at),
                actor_id: r.actor_id,
                actor_label: r.actor_label,
                action: r.action,
                target_type: r.target_type,
                target_id: r.target_id,
                incident_id: r.incident_id,
                request_id: r.request_id,
                prev_hash: r.prev_hash,
                hash: r.hash,
            })
        })
        .collect()
}

/// The first place where the trail does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub chain: String,
    pub seq: i64,
    pub entry_id: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "chain {} at seq {}", self.chain, self.seq)?;
        if let Some(id) = &self.entry_id {
            write!(f, " (entry {id})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Verification result: entries checked, or the first broken link.
pub fn verify(conn: &mut AnyConnection) -> DbResult<Result<u64, BrokenLink>> {
    let heads: Vec<(String, i64, String)> = audit_heads::table
        .select((audit_heads::chain, audit_heads::seq, audit_heads::hash))
        .order(audit_heads::chain.asc())
        .load(conn)?;
    let mut checked = 0u64;
    for (chain, head_seq, head_hash) in &heads {
        let rows: Vec<AuditRow> = audit_log::table
            .filter(audit_log::chain.eq(chain))
            .select(AuditRow::as_select())
            .order(audit_log::seq.asc())
            .load(conn)?;
        let mut prev = GENESIS.to_owned();
        let mut expected_seq = 1;
        for r in &rows {
            let broken = |reason: &str| BrokenLink {
                chain: chain.clone(),
                seq: r.seq,
                entry_id: Some(r.id.clone()),
                reason: reason.into(),
            };
            if r.seq != expected_seq {
                return Ok(Err(BrokenLink {
                    chain: chain.clone(),
                    seq: expected_seq,
                    entry_id: None,
                    reason: "entry missing (deleted)".into(),
                }));
            }
            if r.prev_hash != prev {
                return Ok(Err(broken("prev_hash does not match the previous entry")));
            }
            if entry_hash(r) != r.hash {
                return Ok(Err(broken("entry was altered (hash mismatch)")));
            }
            prev = r.hash.clone();
            expected_seq += 1;
            checked += 1;
        }
        if expected_seq - 1 != *head_seq || prev != *head_hash {
            return Ok(Err(BrokenLink {
                chain: chain.clone(),
                seq: expected_seq,
                entry_id: None,
                reason: format!("chain ends at seq {} but its head records seq {head_seq}", expected_seq - 1),
            }));
        }
    }
    let orphans: i64 = audit_log::table
        .filter(diesel::dsl::not(audit_log::chain.eq_any(heads.iter().map(|h| h.0.clone()).collect::<Vec<_>>())))
        .count()
        .get_result(conn)?;
    if orphans > 0 {
        return Ok(Err(BrokenLink {
            chain: "?".into(),
            seq: 0,
            entry_id: None,
            reason: format!("{orphans} entries belong to no known chain"),
        }));
    }
    Ok(Ok(checked))
}
