//! Prepared reports from one incident's data: the PPC report's nine items (施行規則第8条第1項),
//! ready to paste into the PPC online form, and the government common ransomware format (NCO).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::with_conn;
use crate::auth::{AuthUser, Scope};
use crate::db::incidents::Incident;
use crate::db::obligations::Obligation;
use crate::db::orgs::Organization;
use crate::db::{self};
use crate::domain::letters::StatusReport;
use crate::domain::reports::{nco_ddos, nco_ransomware, NcoInput};
use crate::error::{ApiResult, Problem};
use crate::notify::outbox;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/incidents/{id}/reports/ppc", web::get().to(ppc))
        .route("/incidents/{id}/reports/nco-ransomware", web::get().to(nco))
        .route("/incidents/{id}/reports/nco-ddos", web::get().to(nco_ddos_report));
}

pub use crate::domain::reports::{PreparedReport, ReportItem};

/// The PPC report of an incident (see `domain::reports`).
pub fn ppc_report(
    i: &Incident,
    h: &Organization,
    obligations: &[Obligation],
    status: Option<&StatusReport>,
) -> PreparedReport {
    let fulfilled = db::obligations::fulfilled(obligations);
    crate::domain::reports::ppc_report(&outbox::ppc_input(i, h, &fulfilled, status))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `json` (default) or `text`.
    pub format: Option<ReportFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Json,
    Text,
}

fn respond(r: PreparedReport, format: Option<ReportFormat>) -> HttpResponse {
    match format.unwrap_or(ReportFormat::Json) {
        ReportFormat::Json => HttpResponse::Ok().json(r),
        ReportFormat::Text => HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(r.text),
    }
}

fn load(conn: &mut db::AnyConnection, user: &AuthUser, id: &str) -> ApiResult<(Incident, Organization, Scope)> {
    super::incidents::load(conn, user, id)
}

/// The PPC report text and items (速報 until the preliminary report is recorded, then 確報).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/reports/ppc", tag = "routing", security(("bearer" = [])),
    params(("id" = String, Path), FormatQuery),
    responses((status = 200, content((PreparedReport = "application/json"), (String = "text/plain"))), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn ppc(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    q: web::Query<FormatQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let r = with_conn(&state, move |conn| {
        let (i, h, _) = load(conn, &user, &id)?;
        let obligations = db::obligations::for_incident(conn, &i.id)?;
        let status = crate::notify::outbox::latest_status_report(conn, &i.id)?;
        super::record_read(conn, &user, "report.read", Some(&i.id), serde_json::json!({"report": "ppc"}))?;
        Ok(ppc_report(&i, &h, &obligations, status.as_ref()))
    })
    .await?;
    Ok(respond(r, q.format))
}

/// A common format (ransomware or DDoS) of an incident.
fn nco_of(
    conn: &mut db::AnyConnection,
    user: &AuthUser,
    id: &str,
    name: &str,
    write: fn(&NcoInput<'_>) -> PreparedReport,
) -> ApiResult<PreparedReport> {
    let (i, h, scope) = load(conn, user, id)?;
    let obligations = db::obligations::for_incident(conn, &i.id)?;
    super::record_read(conn, user, "report.read", Some(&i.id), serde_json::json!({"report": name}))?;
    let status = crate::notify::outbox::latest_status_report(conn, &i.id)?;
    let fulfilled = db::obligations::fulfilled(&obligations);
    Ok(write(&NcoInput {
        ppc: outbox::ppc_input(&i, &h, &fulfilled, status.as_ref()),
        prefecture_name: i.prefecture.name_ja(),
        status: i.status,
        show_contact: scope.sees_contact_data(),
        follow_up: status.is_some(),
    }))
}

/// The government common ransomware format (NCO), with the APPI items when the PPC is routed.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/reports/nco-ransomware", tag = "routing", security(("bearer" = [])),
    params(("id" = String, Path), FormatQuery),
    responses((status = 200, content((PreparedReport = "application/json"), (String = "text/plain"))), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn nco(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    q: web::Query<FormatQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let r = with_conn(&state, move |conn| nco_of(conn, &user, &id, "nco-ransomware", nco_ransomware)).await?;
    Ok(respond(r, q.format))
}

/// The government common format for DDoS attacks (NCO).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/reports/nco-ddos", tag = "routing", security(("bearer" = [])),
    params(("id" = String, Path), FormatQuery),
    responses((status = 200, content((PreparedReport = "application/json"), (String = "text/plain"))), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn nco_ddos_report(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    q: web::Query<FormatQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let r = with_conn(&state, move |conn| nco_of(conn, &user, &id, "nco-ddos", nco_ddos)).await?;
    Ok(respond(r, q.format))
}
