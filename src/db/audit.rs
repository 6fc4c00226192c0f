//! The tamper-evident audit trail. Entries form hash chains: one per incident (`incident:<id>`),
//! per user (`user:<id>`) and per other target, so that writes to different incidents never wait
//! on one global lock. Each entry carries the hash of its predecessor; `audit_heads` holds each
//! chain's last sequence number and hash, so deleting the newest entry is detected too.
//!
//! With `HIKESHI_AUDIT_KEY` set, entries are chained with HMAC-SHA256 under that key (`keyed`), so
//! a chain cannot be recomputed by someone who can write the database but does not hold the key.
//! Checkpoints record, under the key, the head of every chain that changed since the previous one
//! and the counts of entries and reads; `verify` names a chain deleted, truncated or recomputed
//! since a checkpoint. Reads of incident data are one MAC'd row each in `audit_reads`, outside the
//! chains, so reads never wait on each other. All three tables refuse UPDATE and DELETE (triggers).
//!
//! The key reaches this module as the *ambient key* of the work being done ([`with_key`]): the
//! API's connection helper, the workers and the command line set it around their database work,
//! so the forty places that record an event need not each carry it.

use std::cell::RefCell;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::schema::{audit_checkpoints, audit_heads, audit_log, audit_reads};
use super::{ts, utc, AnyConnection, DbResult, LiteralLimitDsl};

/// The key of the keyed chain (`HIKESHI_AUDIT_KEY`); never printed.
pub struct AuditKey(Vec<u8>);

impl AuditKey {
    pub fn new(secret: &str) -> Self {
        AuditKey(secret.as_bytes().to_vec())
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(***)")
    }
}

thread_local! {
    static KEY: RefCell<Option<Arc<AuditKey>>> = const { RefCell::new(None) };
}

/// Restores the previous ambient key when dropped (also when `f` panics).
struct Restore(Option<Arc<AuditKey>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let prev = self.0.take();
        KEY.with(|k| *k.borrow_mut() = prev);
    }
}

/// Runs `f` with `key` as the ambient audit key of this thread: entries and reads recorded inside
/// are keyed with it.
pub fn with_key<T>(key: Option<Arc<AuditKey>>, f: impl FnOnce() -> T) -> T {
    let _restore = Restore(KEY.with(|k| k.replace(key)));
    f()
}

pub(crate) fn ambient_key() -> Option<Arc<AuditKey>> {
    KEY.with(|k| k.borrow().clone())
}

/// HMAC-SHA256 under `key`, or plain SHA-256 without one (as anyone can compute it), of length-prefixed parts (the prefixes
/// keep field boundaries unambiguous); hex.
pub fn digest(parts: &[&str], key: Option<&AuditKey>) -> String {
    let feed = |update: &mut dyn FnMut(&[u8])| {
        for part in parts {
            update(&(part.len() as u64).to_be_bytes());
            update(part.as_bytes());
        }
    };
    match key {
        Some(k) => {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&k.0).expect("HMAC takes keys of any length");
            feed(&mut |b| m.update(b));
            hex::encode(m.finalize().into_bytes())
        }
        None => {
            let mut h = Sha256::new();
            feed(&mut |b| h.update(b));
            hex::encode(h.finalize())
        }
    }
}

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

#[derive(Queryable, Selectable, Insertable, Debug, Clone, Serialize, Deserialize)]
#[diesel(table_name = audit_log)]
/// An audit entry as stored (and as an extract carries it).
pub struct AuditRow {
    pub id: String,
    pub chain: String,
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub incident_id: Option<String>,
    pub request_id: Option<String>,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
    pub keyed: bool,
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
    /// Chained under `HIKESHI_AUDIT_KEY` (HMAC-SHA256) rather than plain SHA-256.
    pub keyed: bool,
}

pub fn entry_hash(r: &AuditRow, key: Option<&AuditKey>) -> String {
    let at = r.at.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true);
    digest(
        &[
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
        ],
        key,
    )
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
    // Creates the chain's head or moves it one on; either way the row stays locked until commit and
    // `hash` is still the predecessor's (the genesis value for a new chain).
    let head: Head = diesel::sql_query(
        "INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 1, $2) \
         ON CONFLICT (chain) DO UPDATE SET seq = audit_heads.seq + 1 RETURNING seq, hash",
    )
    .bind::<Text, _>(&chain)
    .bind::<Text, _>(GENESIS)
    .get_result(conn)?;
    let row = entry(ev, chain, head.seq, head.hash);
    diesel::update(audit_heads::table.filter(audit_heads::chain.eq(&row.chain)))
        .set(audit_heads::hash.eq(&row.hash))
        .execute(conn)?;
    diesel::insert_into(audit_log::table).values(&row).execute(conn)?;
    Ok(())
}

/// Appends the first entry of a chain that cannot exist yet (a new incident's, in the transaction
/// that files it): the head is written with its hash at once. Fails (unique violation) if the
/// chain exists after all, so it can never fork a chain.
pub fn append_first(conn: &mut AnyConnection, ev: &AuditEvent<'_>) -> DbResult<()> {
    let row = entry(ev, chain_for(ev), 1, GENESIS.to_owned());
    diesel::insert_into(audit_heads::table)
        .values((audit_heads::chain.eq(&row.chain), audit_heads::seq.eq(1_i64), audit_heads::hash.eq(&row.hash)))
        .execute(conn)?;
    diesel::insert_into(audit_log::table).values(&row).execute(conn)?;
    Ok(())
}

/// The entry `seq` of `chain` after `prev_hash`, hashed (keyed with the ambient key when set).
fn entry(ev: &AuditEvent<'_>, chain: String, seq: i64, prev_hash: String) -> AuditRow {
    let key = ambient_key();
    let mut row = AuditRow {
        id: super::new_id(),
        chain,
        seq,
        at: ts(super::now()),
        actor_id: ev.actor_id.map(Into::into),
        actor_label: ev.actor_label.into(),
        action: ev.action.into(),
        target_type: ev.target_type.into(),
        target_id: ev.target_id.into(),
        incident_id: ev.incident_id.map(Into::into),
        request_id: ev.request_id.map(Into::into),
        details: super::to_json(&ev.details),
        prev_hash,
        hash: String::new(),
        keyed: key.is_some(),
    };
    row.hash = entry_hash(&row, key.as_deref());
    row
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
                keyed: r.keyed,
            })
        })
        .collect()
}

/// A read of incident data: who read what (and with which filter).
#[derive(Debug, Clone)]
pub struct ReadEvent<'a> {
    pub actor_id: Option<&'a str>,
    pub actor_label: &'a str,
    /// `incident.read`, `incident.timeline_read`, `incident.notifications_read`, `report.read`,
    /// `export.csv`, ...
    pub action: &'a str,
    pub incident_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub details: serde_json::Value,
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone, Serialize, Deserialize)]
#[diesel(table_name = audit_reads)]
/// A read record as stored (and as an extract carries it).
pub struct ReadRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub incident_id: Option<String>,
    pub request_id: Option<String>,
    pub details: String,
    pub keyed: bool,
    pub mac: String,
}

/// One read record as served by `GET /audit/reads`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReadEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub incident_id: Option<String>,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// HMAC-SHA256 of the record under `HIKESHI_AUDIT_KEY` (SHA-256 when `keyed` is false).
    pub mac: String,
    pub keyed: bool,
}

pub(crate) fn read_mac(r: &ReadRow, key: Option<&AuditKey>) -> String {
    let at = r.at.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true);
    digest(
        &[
            &r.id,
            &at,
            r.actor_id.as_deref().unwrap_or(""),
            &r.actor_label,
            &r.action,
            r.incident_id.as_deref().unwrap_or(""),
            r.request_id.as_deref().unwrap_or(""),
            &r.details,
        ],
        key,
    )
}

/// Records a read: one inserted row, no chain and no lock, so reads never wait on each other.
pub fn record_read(conn: &mut AnyConnection, ev: &ReadEvent<'_>) -> DbResult<()> {
    let key = ambient_key();
    let mut row = ReadRow {
        id: super::new_id(),
        at: ts(super::now()),
        actor_id: ev.actor_id.map(Into::into),
        actor_label: ev.actor_label.into(),
        action: ev.action.into(),
        incident_id: ev.incident_id.map(Into::into),
        request_id: ev.request_id.map(Into::into),
        details: super::to_json(&ev.details),
        keyed: key.is_some(),
        mac: String::new(),
    };
    row.mac = read_mac(&row, key.as_deref());
    diesel::insert_into(audit_reads::table).values(&row).execute(conn)?;
    Ok(())
}

/// A page of read records, oldest first, filtered by incident or reader, after the id `after`.
pub fn reads(
    conn: &mut AnyConnection,
    incident_id: Option<&str>,
    actor_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> DbResult<Vec<ReadEntry>> {
    let mut q = audit_reads::table.select(ReadRow::as_select()).into_boxed();
    if let Some(i) = incident_id {
        q = q.filter(audit_reads::incident_id.eq(i.to_owned()));
    }
    if let Some(a) = actor_id {
        q = q.filter(audit_reads::actor_id.eq(a.to_owned()));
    }
    if let Some(a) = after {
        q = q.filter(audit_reads::id.gt(a.to_owned()));
    }
    let rows: Vec<ReadRow> = q.order(audit_reads::id.asc()).literal_limit(limit).load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(ReadEntry {
                details: super::from_json(&r.details)?,
                id: r.id,
                at: utc(r.at),
                actor_id: r.actor_id,
                actor_label: r.actor_label,
                action: r.action,
                incident_id: r.incident_id,
                request_id: r.request_id,
                mac: r.mac,
                keyed: r.keyed,
            })
        })
        .collect()
}

/// The chains with entries, their rows in order, read in pages (for verification and export).
pub(crate) fn rows_after(
    conn: &mut AnyConnection,
    after: Option<(&str, i64)>,
    only_chain: Option<&str>,
    limit: i64,
) -> DbResult<Vec<AuditRow>> {
    let mut q = audit_log::table.select(AuditRow::as_select()).into_boxed();
    if let Some(c) = only_chain {
        q = q.filter(audit_log::chain.eq(c.to_owned()));
    }
    if let Some((chain, seq)) = after {
        q = q.filter(
            audit_log::chain.gt(chain.to_owned()).or(audit_log::chain.eq(chain.to_owned()).and(audit_log::seq.gt(seq))),
        );
    }
    Ok(q.order((audit_log::chain.asc(), audit_log::seq.asc())).literal_limit(limit).load(conn)?)
}

pub(crate) fn read_rows_after(conn: &mut AnyConnection, after: Option<&str>, limit: i64) -> DbResult<Vec<ReadRow>> {
    let mut q = audit_reads::table.select(ReadRow::as_select()).into_boxed();
    if let Some(a) = after {
        q = q.filter(audit_reads::id.gt(a.to_owned()));
    }
    Ok(q.order(audit_reads::id.asc()).literal_limit(limit).load(conn)?)
}

/// Every chain head: (chain, seq, hash).
pub(crate) fn heads(conn: &mut AnyConnection) -> DbResult<Vec<(String, i64, String)>> {
    Ok(audit_heads::table
        .select((audit_heads::chain, audit_heads::seq, audit_heads::hash))
        .order(audit_heads::chain.asc())
        .load(conn)?)
}

/// A checkpoint row.
#[derive(Queryable, Selectable, Insertable, Debug, Clone, Serialize, Deserialize)]
#[diesel(table_name = audit_checkpoints)]
pub struct CheckpointRow {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub entries: i64,
    pub reads: i64,
    /// JSON `[[chain, seq, hash], ...]`: the chains that changed since the previous checkpoint.
    pub heads: String,
    pub keyed: bool,
    pub prev_mac: String,
    pub mac: String,
}

pub(crate) fn checkpoint_mac(c: &CheckpointRow, key: Option<&AuditKey>) -> String {
    let at = c.at.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true);
    digest(&[&c.prev_mac, &c.seq.to_string(), &at, &c.entries.to_string(), &c.reads.to_string(), &c.heads], key)
}

pub(crate) fn checkpoints(conn: &mut AnyConnection) -> DbResult<Vec<CheckpointRow>> {
    Ok(audit_checkpoints::table.select(CheckpointRow::as_select()).order(audit_checkpoints::seq.asc()).load(conn)?)
}

/// When the newest checkpoint was made.
pub fn last_checkpoint_at(conn: &mut AnyConnection) -> DbResult<Option<DateTime<Utc>>> {
    let at: Option<NaiveDateTime> =
        audit_checkpoints::table.select(diesel::dsl::max(audit_checkpoints::at)).first(conn)?;
    Ok(at.map(utc))
}

/// Chain heads per checkpoint row at most: bounds what one checkpoint holds in memory (about 110 bytes
/// a head) however many chains changed since the last one (a campaign: thousands in five minutes).
pub const CHECKPOINT_HEADS: i64 = 1000;

/// Makes a checkpoint (call inside a write transaction): the heads of the chains that changed since
/// the previous one, marked in the same statement, and the counts of entries and reads; keyed with
/// the ambient key. The heads go `CHECKPOINT_HEADS` to a row, in chain order, each row linked to the
/// one before it; the first row is made even when nothing changed. Empty when another instance made
/// the same checkpoint at the same moment.
pub fn checkpoint(conn: &mut AnyConnection) -> DbResult<Vec<CheckpointRow>> {
    checkpoint_paged(conn, CHECKPOINT_HEADS)
}

/// [`checkpoint`] with `per_row` heads per row at most.
pub fn checkpoint_paged(conn: &mut AnyConnection, per_row: i64) -> DbResult<Vec<CheckpointRow>> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let prev: Option<(i64, String)> = audit_checkpoints::table
        .select((audit_checkpoints::seq, audit_checkpoints::mac))
        .order(audit_checkpoints::seq.desc())
        .first(conn)
        .optional()?;
    let (mut prev_seq, mut prev_mac) = prev.unwrap_or((0, super::audit::GENESIS.to_owned()));
    let entries: Count =
        diesel::sql_query("SELECT CAST(COALESCE(SUM(seq), 0) AS BIGINT) AS n FROM audit_heads").get_result(conn)?;
    let reads: i64 = audit_reads::table.count().get_result(conn)?;
    let mut made = Vec::new();
    let mut after = String::new(); // chains are ids: every one sorts after ""
    loop {
        let Some((row, last_chain)) = checkpoint_row(conn, prev_seq, &prev_mac, entries.n, reads, &after, per_row)?
        else {
            return Ok(made); // another instance took this sequence number
        };
        prev_seq = row.seq;
        prev_mac = row.mac.clone();
        made.push(row);
        match last_chain {
            Some(last) => after = last,
            None => return Ok(made),
        }
    }
}

/// One checkpoint row: up to `per_row` changed heads after the chain `after`, marked checkpointed.
/// None when the sequence number was taken by another instance; else the row and, when the row is
/// full (more heads may follow), the last chain it holds.
fn checkpoint_row(
    conn: &mut AnyConnection,
    prev_seq: i64,
    prev_mac: &str,
    entries: i64,
    reads: i64,
    after: &str,
    per_row: i64,
) -> DbResult<Option<(CheckpointRow, Option<String>)>> {
    #[derive(QueryableByName)]
    struct Changed {
        #[diesel(sql_type = diesel::sql_types::Text)]
        chain: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        hash: String,
    }
    let mut changed: Vec<Changed> = diesel::sql_query(format!(
        "UPDATE audit_heads SET checkpointed_seq = seq WHERE chain IN (SELECT chain FROM audit_heads \
         WHERE seq > checkpointed_seq AND chain > $1 ORDER BY chain LIMIT {per_row}) RETURNING chain, seq, hash"
    ))
    .bind::<diesel::sql_types::Text, _>(after)
    .load(conn)?;
    changed.sort_by(|a, b| a.chain.cmp(&b.chain));
    let heads: Vec<(&str, i64, &str)> = changed.iter().map(|c| (c.chain.as_str(), c.seq, c.hash.as_str())).collect();
    let key = ambient_key();
    let mut row = CheckpointRow {
        seq: prev_seq + 1,
        at: ts(super::now()),
        entries,
        reads,
        heads: super::to_json(&heads),
        keyed: key.is_some(),
        prev_mac: prev_mac.to_owned(),
        mac: String::new(),
    };
    row.mac = checkpoint_mac(&row, key.as_deref());
    use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
    let inserted = diesel::sql_query(
        "INSERT INTO audit_checkpoints (seq, at, entries, reads, heads, keyed, prev_mac, mac) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (seq) DO NOTHING",
    )
    .bind::<BigInt, _>(row.seq)
    .bind::<Timestamp, _>(row.at)
    .bind::<BigInt, _>(row.entries)
    .bind::<BigInt, _>(row.reads)
    .bind::<Text, _>(&row.heads)
    .bind::<Bool, _>(row.keyed)
    .bind::<Text, _>(&row.prev_mac)
    .bind::<Text, _>(&row.mac)
    .execute(conn)?;
    let full = changed.len() as i64 == per_row;
    let last_chain = if full { changed.pop().map(|c| c.chain) } else { None };
    Ok((inserted == 1).then_some((row, last_chain)))
}
