//! Reporting obligations and their deadlines, created by routing.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema::{incidents, obligations};
use super::{parse_enum, ts, utc, AnyConnection, DbResult};
use crate::domain::obligations::{Current, DeadlineChange, Planned};
use crate::domain::reports::Fulfilled;
use crate::domain::{Authority, ObligationKind};

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = obligations)]
#[diesel(treat_none_as_default_value = false)] // None is NULL: rows insert many to a statement on SQLite too
struct ObligationRow {
    id: String,
    incident_id: String,
    kind: String,
    authority: String,
    due_at: Option<NaiveDateTime>,
    reminder_at: Option<NaiveDateTime>,
    reminded_at: Option<NaiveDateTime>,
    overdue_notified_at: Option<NaiveDateTime>,
    fulfilled_at: Option<NaiveDateTime>,
    fulfilled_reference: Option<String>,
    fulfilled_by: Option<String>,
    created_at: NaiveDateTime,
    version: i32,
    legal_due_at: Option<NaiveDateTime>,
}

/// A duty to report, with its deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Obligation {
    pub id: String,
    pub incident_id: String,
    pub kind: ObligationKind,
    pub authority: Authority,
    /// The date the service holds the hospital to: 23:59:59 JST of the due day (the day of awareness
    /// is day 1; a target for the PPC 速報); absent for "promptly" duties. Reminders and overdue
    /// notices go by this date.
    pub due_at: Option<DateTime<Utc>>,
    /// The legal deadline after a move off a Saturday, Sunday, holiday or 12/29–1/3; equal to
    /// `due_at` when there is none.
    pub legal_due_at: Option<DateTime<Utc>>,
    /// When the hospital is reminded.
    pub reminder_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    /// Receipt number of the submission, if any (the Message-ID when hikeshi's own e-mail fulfilled it).
    pub fulfilled_reference: Option<String>,
    /// True when hikeshi's own e-mail fulfilled it (no person recorded a submission).
    #[serde(skip)]
    pub fulfilled_by_mail: bool,
    /// True when past due and not fulfilled.
    pub overdue: bool,
    pub created_at: DateTime<Utc>,
}

impl Obligation {
    fn from_row(r: ObligationRow, now: DateTime<Utc>) -> DbResult<Self> {
        let due = r.due_at.map(utc);
        let fulfilled = r.fulfilled_at.map(utc);
        Ok(Obligation {
            kind: parse_enum(&r.kind)?,
            authority: parse_enum(&r.authority)?,
            overdue: fulfilled.is_none() && due.is_some_and(|d| d < now),
            due_at: due,
            legal_due_at: r.legal_due_at.map(utc).or(due),
            reminder_at: r.reminder_at.map(utc),
            reminded_at: r.reminded_at.map(utc),
            fulfilled_at: fulfilled,
            fulfilled_reference: r.fulfilled_reference,
            fulfilled_by_mail: fulfilled.is_some() && r.fulfilled_by.is_none(),
            id: r.id,
            incident_id: r.incident_id,
            created_at: utc(r.created_at),
        })
    }
}

/// Creates the planned obligations the incident does not have yet (one of each kind), in one
/// statement; returns those created, as stored.
pub fn create_missing(conn: &mut AnyConnection, incident_id: &str, planned: &[Planned]) -> DbResult<Vec<Obligation>> {
    if planned.is_empty() {
        return Ok(Vec::new());
    }
    let now = super::now();
    let rows: Vec<ObligationRow> = planned
        .iter()
        .map(|&Planned { kind, authority, due_at, legal_due_at, reminder_at }| ObligationRow {
            id: super::new_id(),
            incident_id: incident_id.into(),
            kind: kind.as_str().into(),
            authority: authority.as_str().into(),
            due_at: due_at.map(ts),
            reminder_at: reminder_at.map(ts),
            reminded_at: None,
            overdue_notified_at: None,
            fulfilled_at: None,
            fulfilled_reference: None,
            fulfilled_by: None,
            created_at: ts(now),
            version: 1,
            legal_due_at: legal_due_at.map(ts),
        })
        .collect();
    let created: Vec<String> = crate::with_inner!(conn, |c| diesel::insert_into(obligations::table)
        .values(&rows)
        .on_conflict((obligations::incident_id, obligations::kind))
        .do_nothing()
        .returning(obligations::id)
        .get_results(c))?;
    rows.into_iter().filter(|r| created.contains(&r.id)).map(|r| Obligation::from_row(r, now)).collect()
}

/// The fulfilled obligations as the prepared reports cite them.
pub fn fulfilled(obligations: &[Obligation]) -> Vec<Fulfilled> {
    obligations
        .iter()
        .filter_map(|o| {
            o.fulfilled_at.map(|at| Fulfilled {
                kind: o.kind,
                at,
                reference: o.fulfilled_reference.clone(),
                by_mail: o.fulfilled_by_mail,
            })
        })
        .collect()
}

/// The obligations of an incident as the recomputation sees them.
pub fn current(conn: &mut AnyConnection, incident_id: &str) -> DbResult<Vec<Current>> {
    Ok(for_incident(conn, incident_id)?
        .into_iter()
        .map(|o| Current {
            id: o.id,
            kind: o.kind,
            due_at: o.due_at,
            legal_due_at: o.legal_due_at,
            reminder_at: o.reminder_at,
            fulfilled: o.fulfilled_at.is_some(),
        })
        .collect())
}

/// Moves an unfulfilled obligation to new dates. A reminder or overdue notice already sent is
/// forgotten when its date moves, so that the new date is reminded of again.
pub fn set_dates(conn: &mut AnyConnection, c: &DeadlineChange) -> DbResult<()> {
    diesel::update(obligations::table.filter(obligations::id.eq(&c.obligation_id)))
        .filter(obligations::fulfilled_at.is_null())
        .set((
            obligations::due_at.eq(c.to.map(ts)),
            obligations::legal_due_at.eq(c.legal_to.map(ts)),
            obligations::reminder_at.eq(c.reminder_to.map(ts)),
            obligations::reminded_at.eq(None::<NaiveDateTime>),
            obligations::overdue_notified_at.eq(None::<NaiveDateTime>),
            obligations::version.eq(obligations::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn for_incident(conn: &mut AnyConnection, incident_id: &str) -> DbResult<Vec<Obligation>> {
    let now = super::now();
    obligations::table
        .filter(obligations::incident_id.eq(incident_id))
        .select(ObligationRow::as_select())
        .order(obligations::id.asc())
        .load(conn)?
        .into_iter()
        .map(|r| Obligation::from_row(r, now))
        .collect()
}

pub fn get(conn: &mut AnyConnection, incident_id: &str, id: &str) -> DbResult<Option<Obligation>> {
    let now = super::now();
    obligations::table
        .filter(obligations::incident_id.eq(incident_id))
        .filter(obligations::id.eq(id))
        .select(ObligationRow::as_select())
        .first(conn)
        .optional()?
        .map(|r| Obligation::from_row(r, now))
        .transpose()
}

/// Records the submission; false when it was already fulfilled.
pub fn fulfil(
    conn: &mut AnyConnection,
    id: &str,
    at: DateTime<Utc>,
    reference: Option<&str>,
    by: &str,
) -> DbResult<bool> {
    let n =
        diesel::update(obligations::table.filter(obligations::id.eq(id)).filter(obligations::fulfilled_at.is_null()))
            .set((
                obligations::fulfilled_at.eq(ts(at)),
                obligations::fulfilled_reference.eq(reference),
                obligations::fulfilled_by.eq(by),
                obligations::version.eq(obligations::version + 1),
            ))
            .execute(conn)?;
    Ok(n == 1)
}

/// Marks the obligation of `kind` fulfilled now (e.g. the MHLW initial report once hikeshi's mail went out).
pub fn fulfil_kind(conn: &mut AnyConnection, incident_id: &str, kind: ObligationKind, reference: &str) -> DbResult<()> {
    diesel::update(
        obligations::table
            .filter(obligations::incident_id.eq(incident_id))
            .filter(obligations::kind.eq(kind.as_str()))
            .filter(obligations::fulfilled_at.is_null()),
    )
    .set((obligations::fulfilled_at.eq(ts(super::now())), obligations::fulfilled_reference.eq(reference)))
    .execute(conn)?;
    Ok(())
}

/// Incidents whose deadlines still run: a withdrawn report was a false alarm. (A macro, because a
/// boxed subquery is not a valid fragment on the multi-backend connection.)
macro_rules! live_incidents {
    () => {
        incidents::table.filter(incidents::status.ne("withdrawn")).select(incidents::id)
    };
}

/// Open obligations whose reminder time has passed, whose deadline has not, and that were not
/// reminded yet (past the deadline the overdue notice replaces the reminder).
pub fn due_for_reminder(conn: &mut AnyConnection, now: DateTime<Utc>, limit: i64) -> DbResult<Vec<Obligation>> {
    obligations::table
        .filter(obligations::incident_id.eq_any(live_incidents!()))
        .filter(obligations::due_at.is_null().or(obligations::due_at.ge(ts(now))))
        .filter(obligations::fulfilled_at.is_null())
        .filter(obligations::reminded_at.is_null())
        .filter(obligations::reminder_at.le(ts(now)))
        .select(ObligationRow::as_select())
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(|r| Obligation::from_row(r, now))
        .collect()
}

/// Open obligations past due that were not reported overdue yet.
pub fn newly_overdue(conn: &mut AnyConnection, now: DateTime<Utc>, limit: i64) -> DbResult<Vec<Obligation>> {
    obligations::table
        .filter(obligations::incident_id.eq_any(live_incidents!()))
        .filter(obligations::fulfilled_at.is_null())
        .filter(obligations::overdue_notified_at.is_null())
        .filter(obligations::due_at.lt(ts(now)))
        .select(ObligationRow::as_select())
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(|r| Obligation::from_row(r, now))
        .collect()
}

/// Claims the reminder (false when another worker already did).
pub fn mark_reminded(conn: &mut AnyConnection, id: &str) -> DbResult<bool> {
    let n =
        diesel::update(obligations::table.filter(obligations::id.eq(id)).filter(obligations::reminded_at.is_null()))
            .set(obligations::reminded_at.eq(ts(super::now())))
            .execute(conn)?;
    Ok(n == 1)
}

/// Claims the overdue notice (false when another worker already did).
pub fn mark_overdue_notified(conn: &mut AnyConnection, id: &str) -> DbResult<bool> {
    let n = diesel::update(
        obligations::table.filter(obligations::id.eq(id)).filter(obligations::overdue_notified_at.is_null()),
    )
    .set(obligations::overdue_notified_at.eq(ts(super::now())))
    .execute(conn)?;
    Ok(n == 1)
}

/// Open obligations past due for one incident.
pub fn count_overdue(conn: &mut AnyConnection, incident_id: &str, now: DateTime<Utc>) -> DbResult<i64> {
    Ok(obligations::table
        .filter(obligations::incident_id.eq(incident_id))
        .filter(obligations::incident_id.eq_any(live_incidents!()))
        .filter(obligations::fulfilled_at.is_null())
        .filter(obligations::due_at.lt(ts(now)))
        .count()
        .get_result(conn)?)
}

/// All open obligations past due (for `/metrics`).
pub fn count_all_overdue(conn: &mut AnyConnection, now: DateTime<Utc>) -> DbResult<i64> {
    Ok(obligations::table
        .filter(obligations::incident_id.eq_any(live_incidents!()))
        .filter(obligations::fulfilled_at.is_null())
        .filter(obligations::due_at.lt(ts(now)))
        .count()
        .get_result(conn)?)
}
