//! Verifying the audit trail (`hikeshi audit verify`) and extracts of it (`hikeshi audit export`,
//! `hikeshi audit verify --extract`): every chain's links and hashes (HMACs under the key for keyed
//! entries), every read record's MAC, the checkpoints' own chain, and what the checkpoints recorded
//! against what is there now, so that an entry altered, a chain deleted, truncated or recomputed,
//! read records removed, or everything deleted is named.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::audit::{
    checkpoint_mac, checkpoints, digest, entry_hash, heads, read_mac, read_rows_after, rows_after, AuditKey, AuditRow,
    CheckpointRow, ReadRow, GENESIS,
};
use super::schema::incidents;
use super::{AnyConnection, DbResult};

/// One place where the trail does not verify.
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

/// What verification found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// A key was given: keyed entries, reads and checkpoints were checked with it.
    pub key_given: bool,
    pub chains: u64,
    pub entries: u64,
    pub reads: u64,
    pub checkpoints: u64,
    /// Entries, reads and checkpoints written without a key (plain SHA-256).
    pub unkeyed: u64,
    /// Keyed items that could not be checked because no key was given.
    pub unchecked: u64,
    pub problems: Vec<BrokenLink>,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, chain: &str, seq: i64, entry_id: Option<&str>, reason: String) {
        // A broken trail can break everywhere; the first hundred places are enough to act on.
        if self.problems.len() < 100 {
            self.problems.push(BrokenLink { chain: chain.into(), seq, entry_id: entry_id.map(Into::into), reason });
        }
    }

    /// One line for people: what was verified, and whether the chain is keyed.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} entries in {} chains, {} reads, {} checkpoints",
            self.entries, self.chains, self.reads, self.checkpoints
        );
        if !self.key_given {
            s.push_str(&format!(
                "; the chain is unkeyed here: HIKESHI_AUDIT_KEY is not set, so {} keyed items could not be checked",
                self.unchecked
            ));
        } else if self.unkeyed > 0 {
            s.push_str(&format!("; {} items were written before the key was set (SHA-256 only)", self.unkeyed));
        }
        s
    }
}

/// What the checkpoints recorded: each chain's head at its latest checkpoint, and the counts.
#[derive(Default)]
struct Recorded {
    heads: BTreeMap<String, (i64, String, i64)>,
    entries: i64,
    reads: i64,
    last: i64,
}

fn check_checkpoints(list: &[CheckpointRow], key: Option<&AuditKey>, report: &mut Report) -> Recorded {
    let mut rec = Recorded::default();
    let mut prev_mac = GENESIS.to_owned();
    let mut keyed_seen = false;
    for (n, cp) in list.iter().enumerate() {
        let chain = "checkpoints";
        report.checkpoints += 1;
        if cp.seq != n as i64 + 1 {
            report.problem(chain, n as i64 + 1, None, "checkpoint missing (deleted)".into());
        } else if cp.prev_mac != prev_mac {
            report.problem(chain, cp.seq, None, "does not link to the checkpoint before it".into());
        }
        match (cp.keyed, key) {
            (true, Some(k)) if checkpoint_mac(cp, Some(k)) != cp.mac => {
                report.problem(chain, cp.seq, None, "checkpoint was altered (its MAC does not verify)".into())
            }
            (true, None) => report.unchecked += 1,
            (false, _) if checkpoint_mac(cp, None) != cp.mac => {
                report.problem(chain, cp.seq, None, "checkpoint was altered (hash mismatch)".into())
            }
            (false, _) if keyed_seen => report.problem(
                chain,
                cp.seq,
                None,
                "an unkeyed checkpoint after keyed ones (written without the key)".into(),
            ),
            (false, _) => report.unkeyed += 1,
            _ => {}
        }
        keyed_seen |= cp.keyed;
        prev_mac = cp.mac.clone();
        match serde_json::from_str::<Vec<(String, i64, String)>>(&cp.heads) {
            Ok(heads) => {
                for (c, seq, hash) in heads {
                    rec.heads.insert(c, (seq, hash, cp.seq));
                }
            }
            Err(_) => report.problem(chain, cp.seq, None, "checkpoint heads are unreadable".into()),
        }
        rec.entries = cp.entries;
        rec.reads = cp.reads;
        rec.last = cp.seq;
    }
    rec
}

/// Walks one chain's rows in order.
struct ChainWalk {
    chain: String,
    prev: String,
    next_seq: i64,
    keyed_seen: bool,
    broken: bool,
    /// The hash found at the seq a checkpoint recorded, if that seq was reached.
    at_recorded: Option<String>,
    recorded: Option<(i64, String, i64)>,
}

impl ChainWalk {
    fn new(chain: &str, recorded: Option<(i64, String, i64)>) -> Self {
        ChainWalk {
            chain: chain.into(),
            prev: GENESIS.into(),
            next_seq: 1,
            keyed_seen: false,
            broken: false,
            at_recorded: None,
            recorded,
        }
    }

    fn row(&mut self, r: &AuditRow, key: Option<&AuditKey>, report: &mut Report) {
        report.entries += 1;
        if self.recorded.as_ref().is_some_and(|(s, _, _)| *s == r.seq) {
            self.at_recorded = Some(r.hash.clone());
        }
        if self.broken {
            return;
        }
        let mut fail = |w: &mut ChainWalk, seq: i64, id: Option<&str>, reason: &str| {
            report.problem(&w.chain, seq, id, reason.into());
            w.broken = true;
        };
        if r.seq != self.next_seq {
            let seq = self.next_seq;
            return fail(self, seq, None, "entry missing (deleted)");
        }
        if r.prev_hash != self.prev {
            return fail(self, r.seq, Some(&r.id), "prev_hash does not match the previous entry");
        }
        match (r.keyed, key) {
            (true, Some(_)) if entry_hash(r, key) != r.hash => {
                return fail(self, r.seq, Some(&r.id), "entry was altered (its HMAC does not verify)")
            }
            (true, None) => report.unchecked += 1,
            (false, _) if entry_hash(r, None) != r.hash => {
                return fail(self, r.seq, Some(&r.id), "entry was altered (hash mismatch)")
            }
            (false, _) if self.keyed_seen => {
                return fail(self, r.seq, Some(&r.id), "an unkeyed entry after keyed ones: the chain was rewritten")
            }
            (false, _) => report.unkeyed += 1,
            _ => {}
        }
        self.keyed_seen |= r.keyed;
        self.prev = r.hash.clone();
        self.next_seq += 1;
    }

    /// The chain's end against its head (`None`: no head row) and its checkpoint record.
    fn finish(self, head: Option<&(i64, String)>, report: &mut Report) {
        report.chains += 1;
        let last = self.next_seq - 1;
        if !self.broken {
            match head {
                Some((seq, hash)) if *seq != last || *hash != self.prev => report.problem(
                    &self.chain,
                    last + 1,
                    None,
                    format!("chain ends at seq {last} but its head records seq {seq}"),
                ),
                None => report.problem(&self.chain, last, None, "entries without a chain head (head deleted)".into()),
                _ => {}
            }
        }
        if let Some((seq, hash, cp)) = &self.recorded {
            match &self.at_recorded {
                None => report.problem(
                    &self.chain,
                    *seq,
                    None,
                    format!(
                        "truncated: checkpoint {cp} recorded this chain up to seq {seq}, it now ends at seq {last}"
                    ),
                ),
                Some(found) if found != hash => report.problem(
                    &self.chain,
                    *seq,
                    None,
                    format!("recomputed: the entry at seq {seq} differs from what checkpoint {cp} recorded"),
                ),
                _ => {}
            }
        }
    }
}

fn check_read(r: &ReadRow, key: Option<&AuditKey>, report: &mut Report) {
    report.reads += 1;
    match (r.keyed, key) {
        (true, Some(_)) if read_mac(r, key) != r.mac => {
            report.problem("reads", 0, Some(&r.id), "read record was altered (its MAC does not verify)".into())
        }
        (true, None) => report.unchecked += 1,
        (false, _) if read_mac(r, None) != r.mac => {
            report.problem("reads", 0, Some(&r.id), "read record was altered (hash mismatch)".into())
        }
        (false, _) => report.unkeyed += 1,
        _ => {}
    }
}

const PAGE: i64 = 5_000;

/// Verifies the whole trail in the database.
pub fn verify(conn: &mut AnyConnection, key: Option<&AuditKey>) -> DbResult<Report> {
    let mut report = Report { key_given: key.is_some(), ..Report::default() };
    let recorded = check_checkpoints(&checkpoints(conn)?, key, &mut report);
    let head_map: BTreeMap<String, (i64, String)> = heads(conn)?.into_iter().map(|(c, s, h)| (c, (s, h))).collect();
    let mut seen = BTreeSet::new();
    let mut walk: Option<ChainWalk> = None;
    let mut after: Option<(String, i64)> = None;
    loop {
        let rows = rows_after(conn, after.as_ref().map(|(c, s)| (c.as_str(), *s)), None, PAGE)?;
        for r in &rows {
            if walk.as_ref().is_none_or(|w| w.chain != r.chain) {
                if let Some(w) = walk.take() {
                    let head = head_map.get(&w.chain);
                    w.finish(head, &mut report);
                }
                seen.insert(r.chain.clone());
                walk = Some(ChainWalk::new(&r.chain, recorded.heads.get(&r.chain).cloned()));
            }
            if let Some(w) = walk.as_mut() {
                w.row(r, key, &mut report);
            }
        }
        match rows.last() {
            Some(r) if rows.len() as i64 == PAGE => after = Some((r.chain.clone(), r.seq)),
            _ => break,
        }
    }
    if let Some(w) = walk.take() {
        let head = head_map.get(&w.chain);
        w.finish(head, &mut report);
    }
    for (chain, (seq, _, cp)) in &recorded.heads {
        if !seen.contains(chain) {
            report.problem(chain, *seq, None, format!("deleted: checkpoint {cp} recorded {seq} entries, none is left"));
        }
    }
    for (chain, (seq, _)) in &head_map {
        if !seen.contains(chain) && !recorded.heads.contains_key(chain) && *seq > 0 {
            report.problem(chain, *seq, None, format!("deleted: its head records {seq} entries, none is left"));
        }
    }
    if (report.entries as i64) < recorded.entries {
        report.problem(
            "*",
            0,
            None,
            format!("{} entries where checkpoint {} recorded {}", report.entries, recorded.last, recorded.entries),
        );
    }
    let mut after: Option<String> = None;
    loop {
        let rows = read_rows_after(conn, after.as_deref(), PAGE)?;
        for r in &rows {
            check_read(r, key, &mut report);
        }
        match rows.last() {
            Some(r) if rows.len() as i64 == PAGE => after = Some(r.id.clone()),
            _ => break,
        }
    }
    if (report.reads as i64) < recorded.reads {
        report.problem(
            "reads",
            0,
            None,
            format!("{} read records where checkpoint {} recorded {}", report.reads, recorded.last, recorded.reads),
        );
    }
    // Every incident is created with an audit entry: one without a chain lost it, even when the
    // entries, the heads and the checkpoints were all deleted.
    let ids: Vec<String> = incidents::table.select(incidents::id).order(incidents::id.asc()).load(conn)?;
    for id in ids {
        let chain = format!("incident:{id}");
        if !seen.contains(&chain) && !recorded.heads.contains_key(&chain) && !head_map.contains_key(&chain) {
            report.problem(&chain, 1, None, "deleted: the incident exists but its audit chain does not".into());
        }
    }
    Ok(report)
}

/// A verifiable extract of the trail, for handing over (for example to the police).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extract {
    /// `hikeshi-audit-extract/1`.
    pub format: String,
    pub made_at: DateTime<Utc>,
    /// The incident it is limited to, if any.
    pub incident_id: Option<String>,
    /// Whole chains, in chain and sequence order.
    pub entries: Vec<AuditRow>,
    pub reads: Vec<ReadRow>,
    /// Every checkpoint of the trail (including the one made for this extract).
    pub checkpoints: Vec<CheckpointRow>,
    pub seal: Seal,
}

/// What the extract holds, MAC'd under the key: each chain's last (seq, hash) and the reads' ids.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Seal {
    pub chains: Vec<(String, i64, String)>,
    pub reads: usize,
    pub keyed: bool,
    pub mac: String,
}

fn seal_mac(chains: &[(String, i64, String)], read_ids: &[&str], key: Option<&AuditKey>) -> String {
    let chains = serde_json::to_string(chains).unwrap_or_default();
    let reads = read_ids.join(",");
    digest(&["hikeshi-audit-extract/1", &chains, &reads], key)
}

/// Reads an extract of the trail (all of it, or one incident's chain and reads); make a checkpoint
/// first, so the extract carries one that covers it.
pub fn extract(conn: &mut AnyConnection, incident_id: Option<&str>, key: Option<&AuditKey>) -> DbResult<Extract> {
    let only = incident_id.map(|i| format!("incident:{i}"));
    let mut entries = Vec::new();
    let mut after: Option<(String, i64)> = None;
    loop {
        let rows = rows_after(conn, after.as_ref().map(|(c, s)| (c.as_str(), *s)), only.as_deref(), PAGE)?;
        let full = rows.len() as i64 == PAGE;
        after = rows.last().map(|r| (r.chain.clone(), r.seq));
        entries.extend(rows);
        if !full {
            break;
        }
    }
    let mut reads = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let rows = read_rows_after(conn, after.as_deref(), PAGE)?;
        let full = rows.len() as i64 == PAGE;
        after = rows.last().map(|r| r.id.clone());
        reads.extend(rows.into_iter().filter(|r| incident_id.is_none() || r.incident_id.as_deref() == incident_id));
        if !full {
            break;
        }
    }
    let mut chains: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for r in &entries {
        chains.insert(r.chain.clone(), (r.seq, r.hash.clone()));
    }
    let chains: Vec<(String, i64, String)> = chains.into_iter().map(|(c, (s, h))| (c, s, h)).collect();
    let read_ids: Vec<&str> = reads.iter().map(|r| r.id.as_str()).collect();
    let seal = Seal { mac: seal_mac(&chains, &read_ids, key), reads: reads.len(), keyed: key.is_some(), chains };
    Ok(Extract {
        format: "hikeshi-audit-extract/1".into(),
        made_at: super::now(),
        incident_id: incident_id.map(Into::into),
        entries,
        reads,
        checkpoints: checkpoints(conn)?,
        seal,
    })
}

/// Verifies an extract on its own (no database): chains, reads, checkpoints and the seal.
pub fn verify_extract(x: &Extract, key: Option<&AuditKey>) -> Report {
    let mut report = Report { key_given: key.is_some(), ..Report::default() };
    if x.format != "hikeshi-audit-extract/1" {
        report.problem("extract", 0, None, format!("unknown format {:?}", x.format));
        return report;
    }
    let recorded = check_checkpoints(&x.checkpoints, key, &mut report);
    let sealed: BTreeMap<&str, (i64, String)> =
        x.seal.chains.iter().map(|(c, s, h)| (c.as_str(), (*s, h.clone()))).collect();
    let mut walk: Option<ChainWalk> = None;
    let mut seen = BTreeSet::new();
    let finish = |w: ChainWalk, report: &mut Report| {
        let head = sealed.get(w.chain.as_str()).cloned();
        w.finish(head.as_ref(), report);
    };
    for r in &x.entries {
        if walk.as_ref().is_none_or(|w| w.chain != r.chain) {
            if let Some(w) = walk.take() {
                finish(w, &mut report);
            }
            seen.insert(r.chain.as_str());
            walk = Some(ChainWalk::new(&r.chain, recorded.heads.get(&r.chain).cloned()));
        }
        if let Some(w) = walk.as_mut() {
            w.row(r, key, &mut report);
        }
    }
    if let Some(w) = walk.take() {
        finish(w, &mut report);
    }
    for (chain, (seq, _)) in &sealed {
        if !seen.contains(chain) {
            report.problem(chain, *seq, None, "sealed in the extract but its entries are missing".into());
        }
    }
    for r in &x.reads {
        check_read(r, key, &mut report);
    }
    let read_ids: Vec<&str> = x.reads.iter().map(|r| r.id.as_str()).collect();
    let expected = seal_mac(&x.seal.chains, &read_ids, if x.seal.keyed { key } else { None });
    if x.seal.keyed && key.is_none() {
        report.unchecked += 1;
    } else if expected != x.seal.mac || x.seal.reads != x.reads.len() {
        report.problem("extract", 0, None, "the seal does not match the extract's contents".into());
    }
    report
}
