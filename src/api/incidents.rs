//! Incidents: filing (with idempotency), the triage queue, detail, changes, transitions, the
//! timeline, milestones, obligations and notifications.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::{decode_cursor, etag, if_match, in_tx, page_limit, paginate, update_if_match, with_conn, Page};
use crate::auth::policy::{incident_scope, require, Action};
use crate::auth::{AuthUser, Scope};
use crate::config::Settings;
use crate::db::incidents::{Cursor, Filters, Incident, Milestones, Order};
use crate::db::notifications::Notification;
use crate::db::obligations::Obligation;
use crate::db::orgs::Organization;
use crate::db::updates::TimelineEntry;
use crate::db::{self, AnyConnection};
use crate::domain::incident::FiledAt;
use crate::domain::incident::{IncidentFacts, FILING_KEYS};
use crate::domain::lifecycle::{check_incident_transition, TransitionError};
use crate::domain::parse::Reader;
use crate::domain::priority::{score, Priority};
use crate::domain::routing::Route;
use crate::domain::{
    Category, FieldError, IncidentStatus, LegalStatus, Milestone, OrgKind, Prefecture, RegionalRole, ReportedVia, Role,
    Severity, UpdateKind,
};
use crate::error::{ApiError, ApiResult, Problem};
use crate::notify::outbox;
use crate::state::AppState;

mod changes;
mod filing;
mod sharing;
mod timeline;
pub use changes::*;
pub use filing::*;
pub use sharing::*;
pub use timeline::*;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/incidents", web::post().to(file))
        .route("/incidents", web::get().to(list))
        .route("/incidents/{id}", web::get().to(get))
        .route("/incidents/{id}", web::patch().to(update))
        .route("/incidents/{id}/transitions", web::post().to(transition))
        .route("/incidents/{id}/stix", web::get().to(stix))
        .route("/incidents/{id}/misp", web::get().to(misp))
        .route("/incidents/{id}/updates", web::get().to(list_updates))
        .route("/incidents/{id}/updates", web::post().to(add_update))
        .route("/incidents/{id}/milestones/{name}", web::put().to(set_milestone))
        .route("/incidents/{id}/obligations", web::get().to(list_obligations))
        .route("/incidents/{id}/obligations/{oid}/fulfil", web::post().to(fulfil_obligation))
        .route("/incidents/{id}/notifications", web::get().to(list_notifications))
        .route("/incidents/{id}/notifications/{nid}/resend", web::post().to(resend_notification));
}

/// The hospital an incident belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HospitalRef {
    pub id: String,
    pub name: String,
    pub prefecture: Prefecture,
    /// Prefecture name in Japanese.
    pub prefecture_name: String,
    pub beds: Option<i32>,
    pub regional_roles: Vec<RegionalRole>,
    pub legal_status: Option<LegalStatus>,
    /// 医療機関コード.
    pub code: Option<String>,
}

impl HospitalRef {
    pub fn of(h: &Organization, prefecture: Prefecture) -> Self {
        HospitalRef {
            id: h.id.clone(),
            name: h.name.clone(),
            prefecture,
            prefecture_name: prefecture.name_ja().into(),
            beds: h.beds,
            regional_roles: h.regional_roles.clone(),
            legal_status: h.legal_status,
            code: h.code.clone(),
        }
    }
}

/// An incident in full.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentView {
    pub id: String,
    /// Human reference `HK-<year>-<6 digits>`.
    #[schema(example = "HK-2026-000042")]
    pub reference: String,
    pub hospital: HospitalRef,
    #[serde(flatten)]
    pub facts: IncidentFacts,
    pub status: IncidentStatus,
    pub severity: Severity,
    /// True when an officer set the severity (with a reason).
    pub severity_overridden: bool,
    /// The TLP 2.0 marking of the STIX and MISP exports (default `amber+strict`); officers change it.
    pub tlp: crate::domain::Tlp,
    /// Queue priority with each contributing factor.
    pub priority: Priority,
    /// Authorities this incident is routed to, why (with sources), and the obligations each creates.
    pub routing: Vec<Route>,
    /// The rule set version (`GET /rules`) the routing was computed with.
    pub rules_version: String,
    pub obligations: Vec<Obligation>,
    pub milestones: Milestones,
    pub overdue_obligations: i32,
    pub version: i32,
    pub reported_at: DateTime<Utc>,
    pub reported_via: ReportedVia,
    /// The user who filed it; absent for callers who may not see people (liaisons).
    #[schema(required = false)]
    pub reported_by: String,
    pub triaged_at: Option<DateTime<Utc>>,
    /// When the first dispatch was accepted.
    pub dispatch_accepted_at: Option<DateTime<Utc>>,
    /// When responders first arrived on site.
    pub on_site_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// An incident in a list (the triage queue).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentSummary {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub category: Category,
    pub status: IncidentStatus,
    pub severity: Severity,
    #[schema(value_type = Priority)]
    pub priority: db::incidents::StoredPriority,
    pub hospital: HospitalRef,
    pub care_impact: crate::domain::CareImpact,
    pub drill: bool,
    pub overdue_obligations: i32,
    /// A notification to an authority could not be delivered: phone them.
    pub delivery_failed: bool,
    pub reported_at: DateTime<Utc>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// The caller's incident scope (liaisons: their organisation's authority and prefecture).
pub fn scope_of(conn: &mut AnyConnection, user: &AuthUser) -> ApiResult<Scope> {
    let liaison = if user.role == Role::Liaison {
        db::orgs::get(conn, &user.org_id)?.map(|o| (o.authority, o.prefecture))
    } else {
        None
    };
    Ok(incident_scope(user, liaison))
}

/// A visible incident and its hospital, or 404.
pub(crate) fn load(conn: &mut AnyConnection, user: &AuthUser, id: &str) -> ApiResult<(Incident, Organization, Scope)> {
    let scope = scope_of(conn, user)?;
    let incident = db::incidents::get_visible(conn, id, &scope)?.ok_or(ApiError::NotFound)?;
    let hospital = db::orgs::get(conn, &incident.hospital_id)?.ok_or(ApiError::NotFound)?;
    Ok((incident, hospital, scope))
}

/// The configurable rules of this deployment.
pub fn rules(settings: &Settings) -> crate::domain::incident::Rules<'_> {
    crate::domain::incident::Rules {
        deadlines: &settings.deadlines,
        weights: &settings.priority,
        active_cyber_defence: settings.rules.active_cyber_defence,
    }
}

/// The queue priority of an incident now.
pub fn priority_of(i: &Incident, hospital: &Organization, settings: &Settings, now: DateTime<Utc>) -> Priority {
    score(&i.priority_input(&outbox::hospital_facts(hospital), now), &settings.priority)
}

/// Recomputes routing, priority and (unless overridden) severity after the facts changed.
pub fn refresh_derived(i: &mut Incident, hospital: &Organization, settings: &Settings, now: DateTime<Utc>) {
    i.refresh(&outbox::hospital_facts(hospital), &rules(settings), now);
}

fn view(conn: &mut AnyConnection, i: &Incident, hospital: &Organization) -> ApiResult<IncidentView> {
    Ok(view_with(i, hospital, db::obligations::for_incident(conn, &i.id)?))
}

/// The view of an incident whose obligations the caller holds.
fn view_with(i: &Incident, hospital: &Organization, obligations: Vec<Obligation>) -> IncidentView {
    IncidentView {
        id: i.id.clone(),
        reference: i.reference.clone(),
        hospital: HospitalRef::of(hospital, i.prefecture),
        facts: i.facts.clone(),
        status: i.status,
        severity: i.severity,
        severity_overridden: i.severity_overridden,
        tlp: i.tlp,
        priority: i.priority.clone(),
        routing: i.routing.clone(),
        rules_version: i.rules_version.clone(),
        obligations,
        milestones: i.milestones.clone(),
        overdue_obligations: i.overdue_obligations,
        version: i.version,
        reported_at: i.reported_at,
        reported_via: i.reported_via,
        reported_by: i.reported_by.clone(),
        triaged_at: i.triaged_at,
        dispatch_accepted_at: i.dispatch_accepted_at,
        on_site_at: i.on_site_at,
        closed_at: i.closed_at,
        updated_at: i.updated_at,
    }
}

/// The view as JSON, through the need-to-know policy of the caller's scope.
fn view_json(v: &IncidentView, scope: &Scope) -> Value {
    super::need_to_know::incident_json(serde_json::to_value(v).unwrap_or(Value::Null), scope.sight())
}

fn respond(v: &IncidentView, scope: &Scope) -> HttpResponse {
    HttpResponse::Ok().insert_header(("ETag", etag(v.version))).json(view_json(v, scope))
}

fn audit_incident(
    conn: &mut AnyConnection,
    user: &AuthUser,
    incident_id: &str,
    action: &str,
    details: Value,
) -> ApiResult<()> {
    super::audit_by(conn, user, action, ("incident", incident_id), Some(incident_id), details)
}

/// Adds a timeline entry written by the signed-in user.
pub(crate) fn timeline(
    conn: &mut AnyConnection,
    user: &AuthUser,
    incident_id: &str,
    kind: UpdateKind,
    body: Option<&str>,
    data: Value,
) -> ApiResult<TimelineEntry> {
    Ok(db::updates::add(conn, incident_id, kind, body, data, Some((&user.id, &user.name)))?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentListQuery {
    pub status: Option<IncidentStatus>,
    pub category: Option<Category>,
    pub severity: Option<Severity>,
    pub prefecture: Option<Prefecture>,
    pub hospital_id: Option<String>,
    /// true: drills only; false: real incidents only; absent: both.
    pub drill: Option<bool>,
    /// true: incidents whose care is not yet fully back (reported, triaged, responding,
    /// recovering): the triage queue's working set; false: recovered, closed or withdrawn;
    /// absent: all.
    pub active: Option<bool>,
    /// `priority` (triage queue: priority desc, then oldest; officers' default) or `recent` (newest first).
    pub order: Option<Order>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Incidents visible to the caller; duty officers get the triage queue by default.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", security(("bearer" = [])), params(IncidentListQuery),
    responses((status = 200, body = Page<IncidentSummary>), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<IncidentListQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let limit = page_limit(q.limit)?;
    let after: Option<Cursor> = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let order = q.order.unwrap_or(if matches!(user.role, Role::DutyOfficer | Role::Admin) {
        Order::Priority
    } else {
        Order::Recent
    });
    let filters = Filters {
        status: q.status,
        category: q.category,
        severity: q.severity,
        prefecture: q.prefecture,
        hospital_id: q.hospital_id,
        drill: q.drill,
        active: q.active,
        reported: None,
    };
    let mut rows = with_conn(&state, move |conn| {
        let scope = scope_of(conn, &user)?;
        Ok(db::queue_page::list(conn, &scope, &filters, order, after.as_ref(), limit + 1)?)
    })
    .await?;
    // The items are JSON already (db::queue_page): the page is put together around them.
    let next_cursor = super::cut_page(&mut rows, limit, |r| r.cursor.clone());
    let mut body = Vec::with_capacity(64 + rows.iter().map(|r| r.json.len() + 1).sum::<usize>());
    body.extend_from_slice(b"{\"items\":[");
    for (n, r) in rows.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&r.json);
    }
    body.extend_from_slice(b"],\"next_cursor\":");
    serde_json::to_writer(&mut body, &next_cursor).map_err(anyhow::Error::from)?;
    body.push(b'}');
    Ok(HttpResponse::Ok().content_type(actix_web::http::header::ContentType::json()).body(body))
}

/// A page of the queue as typed values: what [`list`] writes without them, kept as the reference
/// its writing is tested against (`tests/api/incidents.rs`).
pub fn summaries(
    conn: &mut AnyConnection,
    scope: &Scope,
    filters: &Filters,
    order: Order,
    after: Option<&Cursor>,
    limit: i64,
) -> ApiResult<Vec<IncidentSummary>> {
    Ok(db::incidents::list_items(conn, scope, filters, order, after, limit)?.into_iter().map(summary_of).collect())
}

fn summary_of(i: db::incidents::ListItem) -> IncidentSummary {
    // A missing hospital row still shows the incident, with what the incident knows.
    let h = i.hospital.unwrap_or_else(|| db::incidents::ListHospital {
        name: String::new(),
        beds: i.beds,
        code: None,
        regional_roles: vec![],
        legal_status: None,
    });
    let hospital = HospitalRef {
        id: i.hospital_id,
        name: h.name,
        prefecture: i.prefecture,
        prefecture_name: i.prefecture.name_ja().into(),
        beds: h.beds,
        regional_roles: h.regional_roles,
        legal_status: h.legal_status,
        code: h.code,
    };
    IncidentSummary {
        delivery_failed: i.delivery_failed,
        id: i.id,
        reference: i.reference,
        title: i.title,
        category: i.category,
        status: i.status,
        severity: i.severity,
        priority: i.priority,
        hospital,
        care_impact: i.care_impact,
        drill: i.drill,
        overdue_obligations: i.overdue_obligations,
        reported_at: i.reported_at,
        version: i.version,
        updated_at: i.updated_at,
    }
}

/// One incident (the read is recorded in the audit trail's read log).
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = IncidentView, headers(("ETag" = String))), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (v, scope) = with_conn(&state, move |conn| {
        let (i, h, scope) = load(conn, &user, &id)?;
        super::record_read(conn, &user, "incident.read", Some(&i.id), serde_json::json!({}))?;
        Ok((view(conn, &i, &h)?, scope))
    })
    .await?;
    Ok(respond(&v, &scope))
}

/// Keys of a PATCH that belong to triage rather than facts.
const TRIAGE_KEYS: &[&str] = &["severity", "severity_reason", "deadline_reason", "tlp"];
