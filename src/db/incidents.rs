//! Incidents: the reported facts (one JSON document) plus the columns that queues, filters and
//! statistics query.

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema::{dispatches, incident_routes, incidents, notifications, organizations, reference_counters};
use super::{from_json, parse_enum, to_json, ts, utc, AnyConnection, DbResult, LiteralLimitDsl, StaticCondition};
use crate::auth::Scope;
use crate::domain::priority::Priority;
use crate::domain::routing::Route;
use crate::domain::{Category, DispatchStatus, IncidentStatus, Prefecture, Severity};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = incidents)]
#[diesel(treat_none_as_null = true)]
struct IncidentRow {
    id: String,
    reference: String,
    hospital_id: String,
    prefecture: String,
    beds: Option<i32>,
    title: String,
    category: String,
    care_impact: String,
    personal_data_status: String,
    facts: String,
    drill: bool,
    status: String,
    severity: String,
    severity_overridden: bool,
    tlp: String,
    priority_score: i32,
    priority_factors: String,
    /// When the waiting-time factor of an untriaged incident next changes (housekeeping reads the due).
    priority_due_at: NaiveDateTime,
    routing: String,
    overdue_obligations: i32,
    detected_at: NaiveDateTime,
    aware_at: NaiveDateTime,
    reported_at: NaiveDateTime,
    reported_via: String,
    reported_by: String,
    triaged_at: Option<NaiveDateTime>,
    dispatch_accepted_at: Option<NaiveDateTime>,
    on_site_at: Option<NaiveDateTime>,
    emr_restored_at: Option<NaiveDateTime>,
    emergency_accepting_at: Option<NaiveDateTime>,
    new_outpatients_accepting_at: Option<NaiveDateTime>,
    fully_normal_at: Option<NaiveDateTime>,
    report_published_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    version: i32,
    updated_at: NaiveDateTime,
    rules_version: String,
}

pub use crate::domain::incident::{Incident, Milestones};

/// An incident from its row.
fn from_row(r: IncidentRow) -> DbResult<Incident> {
    let t = |o: Option<NaiveDateTime>| o.map(utc);
    Ok(Incident {
        prefecture: Prefecture::parse(&r.prefecture)
            .ok_or_else(|| anyhow::anyhow!("corrupt prefecture {:?}", r.prefecture))?,
        facts: from_json(&r.facts)?,
        status: parse_enum(&r.status)?,
        severity: parse_enum(&r.severity)?,
        tlp: parse_enum(&r.tlp)?,
        priority: Priority { score: r.priority_score, factors: from_json(&r.priority_factors)? },
        routing: from_json(&r.routing)?,
        reported_via: parse_enum(&r.reported_via)?,
        milestones: Milestones {
            emr_restored: t(r.emr_restored_at),
            emergency_accepting: t(r.emergency_accepting_at),
            new_outpatients_accepting: t(r.new_outpatients_accepting_at),
            fully_normal: t(r.fully_normal_at),
            report_published: t(r.report_published_at),
        },
        id: r.id,
        reference: r.reference,
        hospital_id: r.hospital_id,
        beds: r.beds,
        severity_overridden: r.severity_overridden,
        overdue_obligations: r.overdue_obligations,
        reported_at: utc(r.reported_at),
        reported_by: r.reported_by,
        triaged_at: t(r.triaged_at),
        dispatch_accepted_at: t(r.dispatch_accepted_at),
        on_site_at: t(r.on_site_at),
        closed_at: t(r.closed_at),
        version: r.version,
        updated_at: utc(r.updated_at),
        rules_version: r.rules_version,
    })
}

/// The row of an incident.
fn to_row(i: &Incident) -> IncidentRow {
    let f = &i.facts;
    let m = &i.milestones;
    IncidentRow {
        id: i.id.clone(),
        reference: i.reference.clone(),
        hospital_id: i.hospital_id.clone(),
        prefecture: i.prefecture.code(),
        beds: i.beds,
        title: f.title.clone(),
        category: f.category.as_str().into(),
        care_impact: f.care_impact.as_str().into(),
        personal_data_status: f.personal_data.status.as_str().into(),
        facts: to_json(f),
        drill: f.drill,
        status: i.status.as_str().into(),
        severity: i.severity.as_str().into(),
        severity_overridden: i.severity_overridden,
        tlp: i.tlp.as_str().into(),
        priority_score: i.priority.score,
        priority_factors: to_json(&i.priority.factors),
        // The factor counts full hours since filing: a filing's priority (hour 0) is next due an
        // hour after it; a change to an older incident is due at once (recomputed on the next pass).
        priority_due_at: ts(i.reported_at + chrono::Duration::hours(1)),
        routing: to_json(&i.routing),
        overdue_obligations: i.overdue_obligations,
        detected_at: ts(f.detected_at),
        aware_at: ts(f.aware_at),
        reported_at: ts(i.reported_at),
        reported_via: i.reported_via.as_str().into(),
        reported_by: i.reported_by.clone(),
        triaged_at: i.triaged_at.map(ts),
        dispatch_accepted_at: i.dispatch_accepted_at.map(ts),
        on_site_at: i.on_site_at.map(ts),
        emr_restored_at: m.emr_restored.map(ts),
        emergency_accepting_at: m.emergency_accepting.map(ts),
        new_outpatients_accepting_at: m.new_outpatients_accepting.map(ts),
        fully_normal_at: m.fully_normal.map(ts),
        report_published_at: m.report_published.map(ts),
        closed_at: i.closed_at.map(ts),
        version: i.version,
        updated_at: ts(i.updated_at),
        rules_version: i.rules_version.clone(),
    }
}

/// The next human reference `HK-<year>-<6 digits>`, taken before the filing's transaction (a failed
/// filing leaves a gap, which is harmless). On PostgreSQL from a sequence per year, which locks
/// nothing and commits nothing: a counter row would be one row every filing waits for, and its own
/// commit (a WAL flush) per filing. On SQLite, which has one writer anyway, a counter row per year.
pub fn next_reference(conn: &mut AnyConnection, at: DateTime<Utc>) -> DbResult<String> {
    let year = at.with_timezone(&chrono_tz::Asia::Tokyo).year();
    let n = match conn {
        AnyConnection::Postgresql(_) => match reference_from_sequence(conn, year)? {
            Some(n) => n,
            None => {
                create_reference_sequence(conn, year)?;
                reference_from_sequence(conn, year)?
                    .ok_or_else(|| anyhow::anyhow!("the reference sequence of {year} could not be created"))?
            }
        },
        AnyConnection::Sqlite(_) => reference_from_counter(conn, year)?,
    };
    Ok(format!("HK-{year}-{n:06}"))
}

#[derive(QueryableByName)]
struct Next {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    n: Option<i64>,
}

/// The sequence of a year's references (PostgreSQL).
fn reference_sequence(year: i32) -> String {
    format!("incident_reference_{year}")
}

/// The next value of the year's sequence; None when it does not exist yet (`nextval(NULL)` is NULL).
fn reference_from_sequence(conn: &mut AnyConnection, year: i32) -> DbResult<Option<i64>> {
    let next: Next = diesel::sql_query("SELECT nextval(to_regclass($1)) AS n")
        .bind::<diesel::sql_types::Text, _>(reference_sequence(year))
        .get_result(conn)?;
    Ok(next.n)
}

/// Creates the year's sequence, starting after the year's counter row (references taken before
/// sequences were used). Another instance creating it at the same moment is no error.
fn create_reference_sequence(conn: &mut AnyConnection, year: i32) -> DbResult<()> {
    let taken: Option<i32> = reference_counters::table
        .filter(reference_counters::year.eq(year))
        .select(reference_counters::last_value)
        .first(conn)
        .optional()?;
    let start = i64::from(taken.unwrap_or(0)) + 1;
    // Both values are integers of our own making: nothing from a request reaches this text.
    let created = diesel::sql_query(format!(
        "CREATE SEQUENCE IF NOT EXISTS {} START WITH {start} MINVALUE 1",
        reference_sequence(year)
    ))
    .execute(conn);
    match created {
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) | Ok(_) => {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The next value of the year's counter row (SQLite): one upsert.
fn reference_from_counter(conn: &mut AnyConnection, year: i32) -> DbResult<i64> {
    let next: Next = diesel::sql_query(
        "INSERT INTO reference_counters (year, last_value) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last_value = reference_counters.last_value + 1 RETURNING last_value AS n",
    )
    .bind::<diesel::sql_types::Integer, _>(year)
    .get_result(conn)?;
    next.n.ok_or_else(|| anyhow::anyhow!("the reference counter returned nothing").into())
}

pub fn insert(conn: &mut AnyConnection, i: &Incident) -> DbResult<()> {
    diesel::insert_into(incidents::table).values(to_row(i)).execute(conn)?;
    Ok(())
}

/// Writes `i` if the stored version is `i.version - 1` (optimistic lock); false when stale.
pub fn update(conn: &mut AnyConnection, i: &Incident) -> DbResult<bool> {
    // A change of facts may change what links the incident to others: the campaign detector looks
    // at it again.
    let n =
        diesel::update(incidents::table.filter(incidents::id.eq(&i.id)).filter(incidents::version.eq(i.version - 1)))
            .set((to_row(i), incidents::links_checked_at.eq(None::<NaiveDateTime>)))
            .execute(conn)?;
    Ok(n == 1)
}

/// Replaces the authorities an incident is routed to (liaisons' visibility follows these).
/// Replaces an incident's routes; `fresh`: the incident has none yet (it is being filed), so
/// nothing is deleted. One multi-row insert.
pub fn set_routes(conn: &mut AnyConnection, incident_id: &str, routes: &[Route], fresh: bool) -> DbResult<()> {
    if !fresh {
        diesel::delete(incident_routes::table.filter(incident_routes::incident_id.eq(incident_id))).execute(conn)?;
    }
    if routes.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = routes
        .iter()
        .map(|r| {
            (
                incident_routes::incident_id.eq(incident_id),
                incident_routes::authority.eq(r.authority.as_str()),
                incident_routes::requirement.eq(r.requirement.as_str()),
            )
        })
        .collect();
    crate::with_inner!(conn, |c| diesel::insert_into(incident_routes::table).values(&rows).execute(c))?;
    Ok(())
}

/// Incidents with their hospital beside them (left join: the planners drop it where no
/// organisation column is read, as the primary key makes it a no-op).
type Boxed<'a> = diesel::dsl::IntoBoxed<
    'a,
    diesel::dsl::LeftJoin<incidents::table, organizations::table>,
    super::conn::MultiBackend,
>;

fn scoped(scope: &Scope) -> Boxed<'static> {
    let q = incidents::table.left_join(organizations::table).into_boxed();
    match scope {
        Scope::All => q,
        Scope::Hospital(org) => q.filter(incidents::hospital_id.eq(org.clone())),
        Scope::Team(team) => {
            // Only dispatches that open the incident to the team (not declined or cancelled ones).
            let opening: Vec<&str> = DispatchStatus::ALL
                .iter()
                .filter(|s| crate::auth::policy::dispatch_opens_incident(**s))
                .map(|s| s.as_str())
                .collect();
            q.filter(
                incidents::id.eq_any(
                    dispatches::table
                        .filter(dispatches::team_id.eq(team.clone()))
                        .filter(dispatches::status.eq_any(opening))
                        .select(dispatches::incident_id),
                ),
            )
        }
        Scope::Authority { authority, prefecture } => {
            let q = q.filter(
                incidents::id.eq_any(
                    incident_routes::table
                        .filter(incident_routes::authority.eq(authority.as_str()))
                        .select(incident_routes::incident_id),
                ),
            );
            match prefecture {
                Some(p) => q.filter(incidents::prefecture.eq(p.code())),
                None => q,
            }
        }
        Scope::Nothing => q.filter(incidents::id.eq("")),
    }
}

/// The id of the incident with this reference (`HK-2026-000123`), if any.
pub fn id_by_reference(conn: &mut AnyConnection, reference: &str) -> DbResult<Option<String>> {
    Ok(incidents::table
        .filter(incidents::reference.eq(reference.to_owned()))
        .select(incidents::id)
        .first(conn)
        .optional()?)
}

/// An incident if it exists and `scope` may see it.
pub fn get_visible(conn: &mut AnyConnection, id: &str, scope: &Scope) -> DbResult<Option<Incident>> {
    scoped(scope)
        .filter(incidents::id.eq(id.to_owned()))
        .select(IncidentRow::as_select())
        .first(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// List order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Triage queue: priority descending, then oldest first.
    Priority,
    /// Newest first.
    Recent,
}

/// Position after which the next page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub score: i32,
    #[serde(rename = "r")]
    pub reported_at: DateTime<Utc>,
    #[serde(rename = "i")]
    pub id: String,
}

/// Filters of `GET /incidents`.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub status: Option<IncidentStatus>,
    pub category: Option<Category>,
    pub severity: Option<Severity>,
    pub prefecture: Option<Prefecture>,
    pub hospital_id: Option<String>,
    pub drill: Option<bool>,
    /// true: care not yet fully back ([`ACTIVE`]); false: recovered, closed or withdrawn.
    pub active: Option<bool>,
    /// Reported at or after the first time and before the second (the CSV export's period).
    pub reported: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Incidents whose care is not yet fully back, as the partial index `incidents_active_queue` is
/// defined (constant text, so that reused plans can use that index).
const ACTIVE: &str = "\"incidents\".\"status\" IN ('reported', 'triaged', 'responding', 'recovering')";
const NOT_ACTIVE: &str = "\"incidents\".\"status\" NOT IN ('reported', 'triaged', 'responding', 'recovering')";

/// The active condition (`status` before recovery), for queries outside this module.
pub(super) fn active_condition() -> StaticCondition {
    StaticCondition::new(ACTIVE)
}

/// Visible incidents matching the filters, in `order`, after the cursor.
pub(super) fn page_query(scope: &Scope, f: &Filters, order: Order, after: Option<&Cursor>) -> Boxed<'static> {
    let mut q = scoped(scope);
    if let Some(s) = f.status {
        q = q.filter(incidents::status.eq(s.as_str()));
    }
    if let Some(c) = f.category {
        q = q.filter(incidents::category.eq(c.as_str()));
    }
    if let Some(s) = f.severity {
        q = q.filter(incidents::severity.eq(s.as_str()));
    }
    if let Some(p) = f.prefecture {
        q = q.filter(incidents::prefecture.eq(p.code()));
    }
    if let Some(h) = &f.hospital_id {
        q = q.filter(incidents::hospital_id.eq(h.clone()));
    }
    if let Some(d) = f.drill {
        q = q.filter(incidents::drill.eq(d));
    }
    if let Some((from, before)) = f.reported {
        q = q.filter(incidents::reported_at.ge(ts(from))).filter(incidents::reported_at.lt(ts(before)));
    }
    match f.active {
        Some(true) => q = q.filter(StaticCondition::new(ACTIVE)),
        Some(false) => q = q.filter(StaticCondition::new(NOT_ACTIVE)),
        None => {}
    }
    match order {
        Order::Priority => {
            if let Some(c) = after {
                let r = ts(c.reported_at);
                q = q.filter(incidents::priority_score.lt(c.score).or(incidents::priority_score.eq(c.score).and(
                    incidents::reported_at.gt(r).or(incidents::reported_at.eq(r).and(incidents::id.gt(c.id.clone()))),
                )));
            }
            q = q.order((incidents::priority_score.desc(), incidents::reported_at.asc(), incidents::id.asc()));
        }
        Order::Recent => {
            if let Some(c) = after {
                let r = ts(c.reported_at);
                q = q.filter(
                    incidents::reported_at.lt(r).or(incidents::reported_at.eq(r).and(incidents::id.lt(c.id.clone()))),
                );
            }
            q = q.order((incidents::reported_at.desc(), incidents::id.desc()));
        }
    }
    q
}

/// One page of visible incidents, in full.
pub fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filters,
    order: Order,
    after: Option<&Cursor>,
    limit: i64,
) -> DbResult<Vec<Incident>> {
    page_query(scope, f, order, after)
        .select(IncidentRow::as_select())
        .literal_limit(limit)
        .load(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = incidents)]
struct SummaryRow {
    id: String,
    reference: String,
    hospital_id: String,
    prefecture: String,
    beds: Option<i32>,
    title: String,
    category: String,
    care_impact: String,
    drill: bool,
    status: String,
    severity: String,
    priority_score: i32,
    priority_factors: String,
    overdue_obligations: i32,
    reported_at: NaiveDateTime,
    version: i32,
    updated_at: NaiveDateTime,
}

/// A priority as stored, its factors passed through as the JSON they were stored as (a page shows
/// them without needing them parsed; the document is still checked to be JSON).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredPriority {
    pub score: i32,
    pub factors: Box<serde_json::value::RawValue>,
}

/// What a list (the triage queue) shows of an incident: read without the facts and routing
/// documents, which are most of a row's size.
#[derive(Debug, Clone)]
pub struct ListItem {
    pub id: String,
    pub reference: String,
    pub hospital_id: String,
    pub prefecture: Prefecture,
    pub beds: Option<i32>,
    pub title: String,
    pub category: Category,
    pub care_impact: crate::domain::CareImpact,
    pub drill: bool,
    pub status: IncidentStatus,
    pub severity: Severity,
    pub priority: StoredPriority,
    pub overdue_obligations: i32,
    pub reported_at: DateTime<Utc>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    /// None if the hospital row is missing.
    pub hospital: Option<ListHospital>,
    /// At least one of the incident's notifications is dead.
    pub delivery_failed: bool,
}

/// The hospital's columns a list shows.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = organizations)]
struct HospitalRow {
    name: String,
    beds: Option<i32>,
    code: Option<String>,
    regional_roles: String,
    legal_status: Option<String>,
}

/// The hospital as a list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListHospital {
    pub name: String,
    pub beds: Option<i32>,
    pub code: Option<String>,
    pub regional_roles: Vec<crate::domain::RegionalRole>,
    pub legal_status: Option<crate::domain::LegalStatus>,
}

/// A notification that gave up, as the partial index `notifications_dead` is defined (the value is
/// in the text so that PostgreSQL's reused plan of the queue can use that index).
const NOTIFICATION_DEAD: &str = "\"notifications\".\"status\" = 'dead'";

/// Whether any of the incident's notifications gave up: [`dead_notification`].
pub(super) type DeadNotification = diesel::dsl::exists<
    diesel::dsl::Filter<
        diesel::dsl::Filter<
            diesel::dsl::Select<notifications::table, notifications::id>,
            diesel::dsl::Eq<notifications::incident_id, diesel::dsl::Nullable<incidents::id>>,
        >,
        StaticCondition,
    >,
>;

/// Whether any of the incident's notifications gave up (a list column).
pub(super) fn dead_notification() -> DeadNotification {
    diesel::dsl::exists(
        notifications::table
            .select(notifications::id)
            .filter(notifications::incident_id.eq(incidents::id.nullable()))
            .filter(StaticCondition::new(NOTIFICATION_DEAD)),
    )
}

/// One page of visible incidents, as list items, with their hospitals and whether any of their
/// notifications is dead: one statement (the queue is the officers' most frequent read).
pub fn list_items(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filters,
    order: Order,
    after: Option<&Cursor>,
    limit: i64,
) -> DbResult<Vec<ListItem>> {
    let rows: Vec<(SummaryRow, Option<HospitalRow>, bool)> = page_query(scope, f, order, after)
        .select((SummaryRow::as_select(), Option::<HospitalRow>::as_select(), dead_notification()))
        .literal_limit(limit)
        .load(conn)?;
    rows.into_iter()
        .map(|(r, h, dead)| {
            Ok(ListItem {
                prefecture: Prefecture::parse(&r.prefecture)
                    .ok_or_else(|| anyhow::anyhow!("corrupt prefecture {:?}", r.prefecture))?,
                category: parse_enum(&r.category)?,
                care_impact: parse_enum(&r.care_impact)?,
                status: parse_enum(&r.status)?,
                severity: parse_enum(&r.severity)?,
                priority: StoredPriority {
                    score: r.priority_score,
                    factors: serde_json::value::RawValue::from_string(r.priority_factors)
                        .map_err(|e| anyhow::anyhow!("corrupt JSON column: {e}"))?,
                },
                hospital: h
                    .map(|h| -> DbResult<ListHospital> {
                        Ok(ListHospital {
                            regional_roles: from_json(&h.regional_roles)?,
                            legal_status: h.legal_status.as_deref().map(parse_enum).transpose()?,
                            name: h.name,
                            beds: h.beds,
                            code: h.code,
                        })
                    })
                    .transpose()?,
                delivery_failed: dead,
                id: r.id,
                reference: r.reference,
                hospital_id: r.hospital_id,
                beds: r.beds,
                title: r.title,
                drill: r.drill,
                overdue_obligations: r.overdue_obligations,
                reported_at: utc(r.reported_at),
                version: r.version,
                updated_at: utc(r.updated_at),
            })
        })
        .collect()
}

/// A page of untriaged incidents whose waiting-time factor is due to change by `now` (their priority
/// grows hour by hour), in id order after `after`. The status is written into the statement so that
/// the partial index `incidents_priority_due` serves prepared (generic) plans too.
pub fn untriaged_due(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    after: Option<&str>,
    limit: i64,
) -> DbResult<Vec<Incident>> {
    let mut q = incidents::table
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>("status = 'reported'"))
        .filter(incidents::priority_due_at.le(ts(now)))
        .select(IncidentRow::as_select())
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(incidents::id.gt(a.to_owned()));
    }
    q.order(incidents::id.asc()).literal_limit(limit).load(conn)?.into_iter().map(from_row).collect()
}

/// One recomputed priority of an untriaged incident (housekeeping): the version it was computed
/// from, and when it is next due to change by itself.
pub struct PriorityChange<'a> {
    pub id: &'a str,
    pub version: i32,
    pub priority: &'a Priority,
    pub due_at: DateTime<Utc>,
}

/// Writes a page of recomputed priorities in one statement (the rows travel as one JSON array).
/// A row is written only while the incident is still untriaged and at the version it was computed
/// from: a concurrent edit wins, and the incident, still due, is recomputed on the next pass.
/// Returns how many rows were written.
pub fn set_priorities(conn: &mut AnyConnection, changes: &[PriorityChange<'_>]) -> DbResult<usize> {
    if changes.is_empty() {
        return Ok(0);
    }
    let rows: Vec<serde_json::Value> = changes
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id,
                "version": c.version,
                "score": c.priority.score,
                "factors": to_json(&c.priority.factors),
                // The text form diesel stores on SQLite (compared as text there), also read by PostgreSQL.
                "due": ts(c.due_at).format("%Y-%m-%d %H:%M:%S%.f").to_string(),
            })
        })
        .collect();
    let rows = to_json(&rows);
    let n = match conn {
        AnyConnection::Postgresql(c) => diesel::sql_query(
            "UPDATE incidents AS i SET priority_score = (v->>'score')::integer, priority_factors = v->>'factors', \
             priority_due_at = (v->>'due')::timestamp \
             FROM jsonb_array_elements($1::jsonb) AS v \
             WHERE i.id = v->>'id' AND i.version = (v->>'version')::integer AND i.status = 'reported'",
        )
        .bind::<diesel::sql_types::Text, _>(rows)
        .execute(c)?,
        AnyConnection::Sqlite(c) => diesel::sql_query(
            "UPDATE incidents SET priority_score = v.value->>'score', priority_factors = v.value->>'factors', \
             priority_due_at = v.value->>'due' \
             FROM json_each($1) AS v \
             WHERE incidents.id = v.value->>'id' AND incidents.version = v.value->>'version' \
             AND incidents.status = 'reported'",
        )
        .bind::<diesel::sql_types::Text, _>(rows)
        .execute(c)?,
    };
    Ok(n)
}

/// A hospital's incidents whose deadlines still run (not closed, not withdrawn).
pub fn open_of_hospital(conn: &mut AnyConnection, hospital_id: &str) -> DbResult<Vec<Incident>> {
    incidents::table
        .filter(incidents::hospital_id.eq(hospital_id))
        .filter(incidents::status.ne_all([IncidentStatus::Closed.as_str(), IncidentStatus::Withdrawn.as_str()]))
        .select(IncidentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Stores a recomputed priority without touching the version (no user-visible change of facts).
pub fn set_priority(conn: &mut AnyConnection, id: &str, p: &Priority) -> DbResult<()> {
    diesel::update(incidents::table.filter(incidents::id.eq(id)))
        .set((incidents::priority_score.eq(p.score), incidents::priority_factors.eq(to_json(&p.factors))))
        .execute(conn)?;
    Ok(())
}

/// Stores a new overdue count and priority without a version check (a worker's change must not be
/// lost to a concurrent edit, nor block it); the version still moves so clients see the change.
pub fn set_overdue(conn: &mut AnyConnection, id: &str, n: i32, p: &Priority, now: DateTime<Utc>) -> DbResult<()> {
    diesel::update(incidents::table.filter(incidents::id.eq(id)))
        .set((
            incidents::overdue_obligations.eq(n),
            incidents::priority_score.eq(p.score),
            incidents::priority_factors.eq(to_json(&p.factors)),
            incidents::version.eq(incidents::version + 1),
            incidents::updated_at.eq(ts(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The `settings` key recording that stored indicators use the STIX 2.1 names.
const IOC_VOCABULARY_KEY: &str = "ioc_vocabulary";
const IOC_VOCABULARY: &str = "stix-2.1";

/// Rewrites indicators stored before the STIX 2.1 vocabulary (`ip`, `hash`, `domain`, ...) under
/// their STIX names and canonical values, merging duplicates, once per database (`settings`
/// remembers it). Reading already understands both vocabularies (`domain::incident::Ioc`), so this
/// only makes the stored text what queries and exports expect. Each rewritten incident gets an
/// audit entry naming the change; its version does not move (the reported facts are the same) and a
/// row changed meanwhile by a user is left to its own write. Returns how many incidents changed.
pub fn upgrade_stored_iocs(conn: &mut AnyConnection) -> DbResult<usize> {
    if super::settings::get(conn, IOC_VOCABULARY_KEY)?.as_deref() == Some(IOC_VOCABULARY) {
        return Ok(0);
    }
    let rows: Vec<(String, i32, String)> = incidents::table
        .filter(incidents::facts.like("%\"iocs\":[{%"))
        .select((incidents::id, incidents::version, incidents::facts))
        .load(conn)?;
    let mut changed = 0;
    for (id, version, stored) in rows {
        let facts: crate::domain::incident::IncidentFacts = from_json(&stored)?;
        let mut facts = facts;
        facts.iocs = crate::domain::incident::merge_duplicates(std::mem::take(&mut facts.iocs));
        let rewritten = to_json(&facts);
        if rewritten == stored {
            continue;
        }
        conn.transaction(|conn| -> DbResult<()> {
            let n = diesel::update(incidents::table.filter(incidents::id.eq(&id)).filter(incidents::version.eq(version)))
                .set(incidents::facts.eq(&rewritten))
                .execute(conn)?;
            if n == 1 {
                super::audit::append(
                    conn,
                    &super::audit::AuditEvent {
                        actor_id: None,
                        actor_label: "system",
                        action: "incident.iocs_renamed",
                        target_type: "incident",
                        target_id: &id,
                        incident_id: Some(&id),
                        request_id: None,
                        details: serde_json::json!({"vocabulary": IOC_VOCABULARY, "before": from_json::<serde_json::Value>(&stored)?.get("iocs")}),
                    },
                )?;
                changed += 1;
            }
            Ok(())
        })?;
    }
    super::settings::put(conn, IOC_VOCABULARY_KEY, IOC_VOCABULARY)?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use crate::domain::IncidentStatus;

    #[test]
    fn the_active_conditions_name_the_statuses_before_recovery() {
        let active =
            [IncidentStatus::Reported, IncidentStatus::Triaged, IncidentStatus::Responding, IncidentStatus::Recovering];
        let list = active.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ");
        assert!(super::ACTIVE.ends_with(&format!(" IN ({list})")), "{}", super::ACTIVE);
        assert!(super::NOT_ACTIVE.ends_with(&format!(" NOT IN ({list})")), "{}", super::NOT_ACTIVE);
    }

    #[test]
    fn the_dead_condition_names_the_dead_status() {
        let dead = crate::domain::NotificationStatus::Dead.as_str();
        assert!(super::NOTIFICATION_DEAD.ends_with(&format!("= '{dead}'")), "{}", super::NOTIFICATION_DEAD);
    }
}
