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
use crate::domain::reports::{as_text, item, or_unknown, Fulfilled, PpcInput};
use crate::error::{ApiResult, Problem};
use crate::notify::templates::{format_jst, Label, StatusReport};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/incidents/{id}/reports/ppc", web::get().to(ppc))
        .route("/incidents/{id}/reports/nco-ransomware", web::get().to(nco));
}

pub use crate::domain::reports::{PreparedReport, ReportItem};

/// The PPC report of an incident (see `domain::reports`).
pub fn ppc_report(
    i: &Incident,
    h: &Organization,
    obligations: &[Obligation],
    status: Option<&StatusReport>,
) -> PreparedReport {
    let fulfilled: Vec<Fulfilled> = obligations
        .iter()
        .filter_map(|o| {
            o.fulfilled_at.map(|at| Fulfilled {
                kind: o.kind,
                at,
                reference: o.fulfilled_reference.clone(),
                by_mail: o.fulfilled_by_mail,
            })
        })
        .collect();
    crate::domain::reports::ppc_report(&PpcInput {
        reference: &i.reference,
        facts: &i.facts,
        hospital_name: &h.name,
        hospital_code: h.code.as_deref(),
        routes: &i.routing,
        fulfilled: &fulfilled,
        prevention: status.map(|s| s.prevention.as_str()),
    })
}

/// The fields of the government common format for ransomware cases (NCO, since 2025-10-01).
/// `show_contact` is false for callers who may not see patient-facing contact data (liaisons).
pub fn nco_report(i: &Incident, h: &Organization, show_contact: bool) -> PreparedReport {
    let f = &i.facts;
    let rw = f.ransomware.as_ref();
    let kinds: Vec<&str> = rw.map(|r| r.kinds.iter().map(|k| k.label_ja()).collect()).unwrap_or_default();
    let iocs: Vec<String> = f.iocs.iter().map(|x| format!("{}: {}", x.ioc_type, x.value)).collect();
    let systems: Vec<&str> = f.affected_systems.iter().map(|s| s.label_ja()).collect();
    let items = vec![
        item(
            1,
            "被害組織",
            "Organisation",
            format!(
                "{}（医療機関コード {}、{}）",
                h.name,
                h.code.clone().unwrap_or_else(|| "-".into()),
                i.prefecture.name_ja()
            ),
        ),
        item(2, "業種", "Sector", "医療".into()),
        item(
            3,
            "連絡先",
            "Contact",
            if show_contact {
                format!("{} {}", f.contact.name, f.contact.phone)
            } else {
                "非開示（厚生労働省の当番へお問い合わせください）/ withheld: ask the MHLW duty officer".into()
            },
        ),
        item(4, "被害の認知日時", "Aware", format_jst(f.aware_at)),
        item(5, "ランサムウェアの種別", "Ransomware type", or_unknown(kinds.join("、"))),
        item(
            6,
            "脅迫文（ランサムノート）",
            "Ransom note",
            or_unknown(rw.and_then(|r| r.note_text.clone()).unwrap_or_default()),
        ),
        item(
            7,
            "暗号化されたファイルの拡張子",
            "Encrypted file extension",
            or_unknown(rw.and_then(|r| r.encrypted_extension.clone()).unwrap_or_default()),
        ),
        item(
            8,
            "ランサムウェアの名称",
            "Ransomware family",
            or_unknown(rw.and_then(|r| r.family.clone()).unwrap_or_default()),
        ),
        item(9, "侵入経路", "Intrusion method", f.attack_vector.label_ja().into()),
        item(10, "被害を受けたシステム", "Affected systems", or_unknown(systems.join("、"))),
        item(11, "IoC（侵害の痕跡）", "Indicators of compromise", or_unknown(iocs.join("\n"))),
        item(12, "身代金の要求", "Ransom demanded", if f.ransom_demand { "あり".into() } else { "なし".into() }),
        item(13, "バックアップの状況", "Offline backup", f.offline_backup.label_ja().into()),
        item(14, "業務への影響", "Impact on operations", f.care_impact.label_ja().into()),
        item(15, "個人情報の漏えい", "Personal data", f.personal_data.status.label_ja().into()),
    ];
    let title = format!("ランサムウェア被害 政府統一様式 — {} {}", h.name, i.reference);
    PreparedReport {
        reference: i.reference.clone(),
        report_type: "nco_ransomware".into(),
        hospital_name: h.name.clone(),
        text: as_text(&title, &[], &items),
        header: Vec::new(),
        items,
    }
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
        Ok(ppc_report(&i, &h, &obligations, status.as_ref()))
    })
    .await?;
    Ok(respond(r, q.format))
}

/// The government common ransomware format's fields.
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
    let r = with_conn(&state, move |conn| {
        let (i, h, scope) = load(conn, &user, &id)?;
        Ok(nco_report(&i, &h, scope.sees_contact_data()))
    })
    .await?;
    Ok(respond(r, q.format))
}
