//! The incident timeline: notes, status reports and automatic entries for every change.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::incident_updates;
use super::{from_json, parse_enum, to_json, ts, utc, AnyConnection, DbResult, LiteralLimitDsl};
use crate::domain::UpdateKind;

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = incident_updates)]
struct UpdateRow {
    id: String,
    incident_id: String,
    kind: String,
    body: Option<String>,
    data: String,
    author_id: Option<String>,
    author_name: String,
    created_at: NaiveDateTime,
}

/// One timeline entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: String,
    pub kind: UpdateKind,
    /// Free text (notes).
    pub body: Option<String>,
    /// Structured content: a status report's four headings, or what changed (from, to, reason...).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub author_id: Option<String>,
    pub author_name: String,
    pub created_at: DateTime<Utc>,
}

/// Appends an entry to an incident's timeline.
pub fn add(
    conn: &mut AnyConnection,
    incident_id: &str,
    kind: UpdateKind,
    body: Option<&str>,
    data: serde_json::Value,
    author: Option<(&str, &str)>,
) -> DbResult<TimelineEntry> {
    let row = UpdateRow {
        id: super::new_id(),
        incident_id: incident_id.into(),
        kind: kind.as_str().into(),
        body: body.map(Into::into),
        data: to_json(&data),
        author_id: author.map(|a| a.0.to_owned()),
        author_name: author.map(|a| a.1.to_owned()).unwrap_or_else(|| "hikeshi".into()),
        created_at: ts(super::now()),
    };
    diesel::insert_into(incident_updates::table).values(&row).execute(conn)?;
    decode(row)
}

fn decode(r: UpdateRow) -> DbResult<TimelineEntry> {
    Ok(TimelineEntry {
        kind: parse_enum(&r.kind)?,
        data: from_json(&r.data)?,
        id: r.id,
        body: r.body,
        author_id: r.author_id,
        author_name: r.author_name,
        created_at: utc(r.created_at),
    })
}

/// A page of an incident's timeline, oldest first, after entry id `after`.
pub fn list(
    conn: &mut AnyConnection,
    incident_id: &str,
    after: Option<&str>,
    limit: i64,
) -> DbResult<Vec<TimelineEntry>> {
    let mut q = incident_updates::table
        .filter(incident_updates::incident_id.eq(incident_id.to_owned()))
        .select(UpdateRow::as_select())
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(incident_updates::id.gt(a.to_owned()));
    }
    q.order(incident_updates::id.asc()).literal_limit(limit).load(conn)?.into_iter().map(decode).collect()
}

/// The newest status report of an incident, if any.
pub fn latest_status_report(conn: &mut AnyConnection, incident_id: &str) -> DbResult<Option<serde_json::Value>> {
    let row: Option<String> = incident_updates::table
        .filter(incident_updates::incident_id.eq(incident_id))
        .filter(incident_updates::kind.eq(UpdateKind::StatusReport.as_str()))
        .order(incident_updates::id.desc())
        .select(incident_updates::data)
        .first(conn)
        .optional()?;
    row.map(|d| from_json(&d).map_err(Into::into)).transpose()
}
