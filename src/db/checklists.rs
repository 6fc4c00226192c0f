//! A hospital's MHLW checklist state (DOMAIN.md 6): the current state of each item it recorded,
//! and every change, kept.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::{checklist_history, checklist_items, users};
use super::{parse_enum, ts, utc, AnyConnection, DbResult};
use crate::domain::ChecklistItem;

/// One item as the hospital last recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChecklistEntry {
    pub item: ChecklistItem,
    pub done: bool,
    /// Since when the measure has been in place, as the hospital said (JST date).
    pub at: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
    pub updated_by_name: String,
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChecklistChange {
    pub item: ChecklistItem,
    pub done: bool,
    pub at: Option<NaiveDate>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by_name: String,
}

/// An item's new state, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemState {
    pub item: ChecklistItem,
    pub done: bool,
    pub at: Option<NaiveDate>,
}

type EntryRow = (String, bool, Option<NaiveDate>, chrono::NaiveDateTime, Option<String>);

/// The current state of every item the hospital recorded, in the checklist's order.
pub fn current(conn: &mut AnyConnection, org_id: &str) -> DbResult<Vec<ChecklistEntry>> {
    let rows: Vec<EntryRow> = checklist_items::table
        .left_join(users::table.on(users::id.eq(checklist_items::updated_by)))
        .filter(checklist_items::org_id.eq(org_id))
        .select((
            checklist_items::item,
            checklist_items::done,
            checklist_items::done_since,
            checklist_items::updated_at,
            users::name.nullable(),
        ))
        .load(conn)?;
    let mut out = rows
        .into_iter()
        .map(|(item, done, at, updated_at, name)| {
            Ok(ChecklistEntry {
                item: parse_enum(&item)?,
                done,
                at,
                updated_at: utc(updated_at),
                updated_by_name: name.unwrap_or_default(),
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
    out.sort_by_key(|e| e.item);
    Ok(out)
}

/// The latest `limit` changes, newest first.
pub fn history(conn: &mut AnyConnection, org_id: &str, limit: i64) -> DbResult<Vec<ChecklistChange>> {
    let rows: Vec<EntryRow> = checklist_history::table
        .left_join(users::table.on(users::id.eq(checklist_history::recorded_by)))
        .filter(checklist_history::org_id.eq(org_id))
        .order((checklist_history::recorded_at.desc(), checklist_history::id.desc()))
        .limit(limit)
        .select((
            checklist_history::item,
            checklist_history::done,
            checklist_history::done_since,
            checklist_history::recorded_at,
            users::name.nullable(),
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(item, done, at, recorded_at, name)| {
            Ok(ChecklistChange {
                item: parse_enum(&item)?,
                done,
                at,
                recorded_at: utc(recorded_at),
                recorded_by_name: name.unwrap_or_default(),
            })
        })
        .collect()
}

/// Records the items whose state differs from the current one (each change also in the history).
/// Returns the items changed.
pub fn set(
    conn: &mut AnyConnection,
    org_id: &str,
    user_id: &str,
    states: &[ItemState],
    now: DateTime<Utc>,
) -> DbResult<Vec<ChecklistItem>> {
    let before = current(conn, org_id)?;
    let changed: Vec<&ItemState> = states
        .iter()
        .filter(|s| !before.iter().any(|b| b.item == s.item && b.done == s.done && b.at == s.at))
        .collect();
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    let at = ts(now);
    let current_rows: Vec<_> = changed
        .iter()
        .map(|s| {
            (
                checklist_items::org_id.eq(org_id),
                checklist_items::item.eq(s.item.as_str()),
                checklist_items::done.eq(s.done),
                checklist_items::done_since.eq(s.at),
                checklist_items::updated_at.eq(at),
                checklist_items::updated_by.eq(user_id),
            )
        })
        .collect();
    // An upsert: two saves of one checklist at once both succeed (the later one stands).
    {
        use diesel::upsert::excluded;
        crate::with_inner!(conn, |c| diesel::insert_into(checklist_items::table)
            .values(&current_rows)
            .on_conflict((checklist_items::org_id, checklist_items::item))
            .do_update()
            .set((
                checklist_items::done.eq(excluded(checklist_items::done)),
                checklist_items::done_since.eq(excluded(checklist_items::done_since)),
                checklist_items::updated_at.eq(excluded(checklist_items::updated_at)),
                checklist_items::updated_by.eq(excluded(checklist_items::updated_by)),
            ))
            .execute(c))?;
    }
    let history_rows: Vec<_> = changed
        .iter()
        .map(|s| {
            (
                checklist_history::id.eq(super::new_id()),
                checklist_history::org_id.eq(org_id),
                checklist_history::item.eq(s.item.as_str()),
                checklist_history::done.eq(s.done),
                checklist_history::done_since.eq(s.at),
                checklist_history::recorded_at.eq(at),
                checklist_history::recorded_by.eq(user_id),
            )
        })
        .collect();
    crate::with_inner!(conn, |c| diesel::insert_into(checklist_history::table).values(&history_rows).execute(c))?;
    Ok(changed.iter().map(|s| s.item).collect())
}
