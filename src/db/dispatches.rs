//! Dispatches of responder teams to incidents, and hospitals' support requests.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema::{dispatches, support_requests};
use super::{from_json, parse_enum, to_json, ts, utc, AnyConnection, DbResult, LiteralLimitDsl};
use crate::domain::{DispatchStatus, Skill, SupportMode};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = dispatches)]
#[diesel(treat_none_as_null = true)]
struct DispatchRow {
    id: String,
    incident_id: String,
    team_id: String,
    responder_ids: String,
    mode: String,
    status: String,
    assigned_at: NaiveDateTime,
    accepted_at: Option<NaiveDateTime>,
    en_route_at: Option<NaiveDateTime>,
    on_site_at: Option<NaiveDateTime>,
    released_at: Option<NaiveDateTime>,
    ended_at: Option<NaiveDateTime>,
    created_by: String,
    version: i32,
    updated_at: NaiveDateTime,
}

/// A team sent to an incident, with the time of each step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Dispatch {
    pub id: String,
    pub incident_id: String,
    pub team_id: String,
    pub responder_ids: Vec<String>,
    pub mode: SupportMode,
    pub status: DispatchStatus,
    pub assigned_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub en_route_at: Option<DateTime<Utc>>,
    pub on_site_at: Option<DateTime<Utc>>,
    pub released_at: Option<DateTime<Utc>>,
    /// When it was declined or cancelled.
    pub ended_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl Dispatch {
    fn from_row(r: DispatchRow) -> DbResult<Self> {
        let t = |o: Option<NaiveDateTime>| o.map(utc);
        Ok(Dispatch {
            responder_ids: from_json(&r.responder_ids)?,
            mode: parse_enum(&r.mode)?,
            status: parse_enum(&r.status)?,
            accepted_at: t(r.accepted_at),
            en_route_at: t(r.en_route_at),
            on_site_at: t(r.on_site_at),
            released_at: t(r.released_at),
            ended_at: t(r.ended_at),
            id: r.id,
            incident_id: r.incident_id,
            team_id: r.team_id,
            assigned_at: utc(r.assigned_at),
            created_by: r.created_by,
            version: r.version,
            updated_at: utc(r.updated_at),
        })
    }

    fn to_row(&self) -> DispatchRow {
        DispatchRow {
            id: self.id.clone(),
            incident_id: self.incident_id.clone(),
            team_id: self.team_id.clone(),
            responder_ids: to_json(&self.responder_ids),
            mode: self.mode.as_str().into(),
            status: self.status.as_str().into(),
            assigned_at: ts(self.assigned_at),
            accepted_at: self.accepted_at.map(ts),
            en_route_at: self.en_route_at.map(ts),
            on_site_at: self.on_site_at.map(ts),
            released_at: self.released_at.map(ts),
            ended_at: self.ended_at.map(ts),
            created_by: self.created_by.clone(),
            version: self.version,
            updated_at: ts(self.updated_at),
        }
    }

    /// Records `status` reached at `at`.
    pub fn stamp(&mut self, status: DispatchStatus, at: DateTime<Utc>) {
        self.status = status;
        match status {
            DispatchStatus::Assigned => self.assigned_at = at,
            DispatchStatus::Accepted => self.accepted_at = Some(at),
            DispatchStatus::EnRoute => self.en_route_at = Some(at),
            DispatchStatus::OnSite => self.on_site_at = Some(at),
            DispatchStatus::Released => self.released_at = Some(at),
            DispatchStatus::Declined | DispatchStatus::Cancelled => self.ended_at = Some(at),
        }
    }
}

pub fn insert(conn: &mut AnyConnection, d: &Dispatch) -> DbResult<()> {
    diesel::insert_into(dispatches::table).values(d.to_row()).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut AnyConnection, id: &str) -> DbResult<Option<Dispatch>> {
    dispatches::table
        .filter(dispatches::id.eq(id))
        .select(DispatchRow::as_select())
        .first(conn)
        .optional()?
        .map(Dispatch::from_row)
        .transpose()
}

/// Writes `d` if the stored version is `d.version - 1`.
pub fn update(conn: &mut AnyConnection, d: &Dispatch) -> DbResult<bool> {
    let n = diesel::update(
        dispatches::table.filter(dispatches::id.eq(&d.id)).filter(dispatches::version.eq(d.version - 1)),
    )
    .set(d.to_row())
    .execute(conn)?;
    Ok(n == 1)
}

/// Filters of the dispatch list.
#[derive(Debug, Clone, Default)]
pub struct DispatchFilter {
    pub team_id: Option<String>,
    pub incident_id: Option<String>,
    /// Only dispatches naming this responder.
    pub responder_id: Option<String>,
    pub active_only: bool,
}

/// Dispatches, newest first.
pub fn list(conn: &mut AnyConnection, f: &DispatchFilter, after: Option<&str>, limit: i64) -> DbResult<Vec<Dispatch>> {
    let mut q = dispatches::table.select(DispatchRow::as_select()).into_boxed();
    if let Some(t) = &f.team_id {
        q = q.filter(dispatches::team_id.eq(t.clone()));
    }
    if let Some(i) = &f.incident_id {
        q = q.filter(dispatches::incident_id.eq(i.clone()));
    }
    if f.active_only {
        q = q.filter(dispatches::status.eq_any(ACTIVE));
    }
    if let Some(r) = &f.responder_id {
        // responder_ids is a JSON array of quoted uuids: match the quoted id exactly.
        q = q.filter(dispatches::responder_ids.like(format!("%\"{r}\"%")));
    }
    if let Some(a) = after {
        q = q.filter(dispatches::id.lt(a.to_owned()));
    }
    q.order(dispatches::id.desc()).literal_limit(limit).load(conn)?.into_iter().map(Dispatch::from_row).collect()
}

/// The statuses of a team's dispatches to an incident.
pub fn team_statuses(conn: &mut AnyConnection, incident_id: &str, team_id: &str) -> DbResult<Vec<DispatchStatus>> {
    let rows: Vec<String> = dispatches::table
        .filter(dispatches::incident_id.eq(incident_id))
        .filter(dispatches::team_id.eq(team_id))
        .select(dispatches::status)
        .load(conn)?;
    Ok(rows.iter().map(|s| parse_enum(s)).collect::<Result<_, _>>()?)
}

const ACTIVE: [&str; 4] = ["assigned", "accepted", "en_route", "on_site"];

/// Active dispatches per team (the team's load).
pub fn active_counts(conn: &mut AnyConnection) -> DbResult<Vec<(String, i64)>> {
    Ok(dispatches::table
        .filter(dispatches::status.eq_any(ACTIVE))
        .group_by(dispatches::team_id)
        .select((dispatches::team_id, diesel::dsl::count_star()))
        .load(conn)?)
}

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = support_requests)]
#[diesel(treat_none_as_null = true)]
struct SupportRow {
    id: String,
    incident_id: String,
    needs: String,
    mode: String,
    note: Option<String>,
    status: String,
    requested_by: String,
    requested_at: NaiveDateTime,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    decision_reason: Option<String>,
}

crate::text_enum! {
    /// State of a support request.
    pub enum SupportStatus { Pending = "pending", Approved = "approved", Declined = "declined" }
}

/// A hospital's request for first-response support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SupportRequest {
    pub id: String,
    pub incident_id: String,
    pub needs: Vec<Skill>,
    pub mode: SupportMode,
    pub note: Option<String>,
    pub status: SupportStatus,
    /// The user who asked; empty for callers who may not see people (liaisons).
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

impl SupportRequest {
    fn from_row(r: SupportRow) -> DbResult<Self> {
        Ok(SupportRequest {
            needs: from_json(&r.needs)?,
            mode: parse_enum(&r.mode)?,
            status: parse_enum(&r.status)?,
            id: r.id,
            incident_id: r.incident_id,
            note: r.note,
            requested_by: r.requested_by,
            requested_at: utc(r.requested_at),
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(utc),
            decision_reason: r.decision_reason,
        })
    }

    fn to_row(&self) -> SupportRow {
        SupportRow {
            id: self.id.clone(),
            incident_id: self.incident_id.clone(),
            needs: to_json(&self.needs),
            mode: self.mode.as_str().into(),
            note: self.note.clone(),
            status: self.status.as_str().into(),
            requested_by: self.requested_by.clone(),
            requested_at: ts(self.requested_at),
            decided_by: self.decided_by.clone(),
            decided_at: self.decided_at.map(ts),
            decision_reason: self.decision_reason.clone(),
        }
    }
}

pub fn insert_support(conn: &mut AnyConnection, s: &SupportRequest) -> DbResult<()> {
    diesel::insert_into(support_requests::table).values(s.to_row()).execute(conn)?;
    Ok(())
}

pub fn get_support(conn: &mut AnyConnection, id: &str) -> DbResult<Option<SupportRequest>> {
    support_requests::table
        .filter(support_requests::id.eq(id))
        .select(SupportRow::as_select())
        .first(conn)
        .optional()?
        .map(SupportRequest::from_row)
        .transpose()
}

/// Records a decision on a pending request; false when it was already decided.
pub fn decide_support(conn: &mut AnyConnection, s: &SupportRequest) -> DbResult<bool> {
    let n = diesel::update(
        support_requests::table
            .filter(support_requests::id.eq(&s.id))
            .filter(support_requests::status.eq(SupportStatus::Pending.as_str())),
    )
    .set(s.to_row())
    .execute(conn)?;
    Ok(n == 1)
}

pub fn support_for_incident(conn: &mut AnyConnection, incident_id: &str) -> DbResult<Vec<SupportRequest>> {
    support_requests::table
        .filter(support_requests::incident_id.eq(incident_id))
        .select(SupportRow::as_select())
        .order(support_requests::id.asc())
        .load(conn)?
        .into_iter()
        .map(SupportRequest::from_row)
        .collect()
}
