//! Prepared reports from one incident's data: the PPC report's nine items (施行規則第8条第1項),
//! ready to paste into the PPC online form, and the government common ransomware format (NCO).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::with_conn;
use crate::auth::{AuthUser, Scope};
use crate::db::incidents::Incident;
use crate::db::obligations::Obligation;
use crate::db::orgs::Organization;
use crate::db::{self};
use crate::domain::{ObligationKind, PersonalDataStatus, RansomwareKind};
use crate::error::{ApiResult, Problem};
use crate::notify::templates::{format_jst, Label, StatusReport};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/incidents/{id}/reports/ppc", web::get().to(ppc))
        .route("/incidents/{id}/reports/nco-ransomware", web::get().to(nco));
}

/// One numbered item of a report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportItem {
    pub number: u8,
    pub heading_ja: String,
    pub heading_en: String,
    pub text: String,
}

/// A prepared report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PreparedReport {
    pub reference: String,
    /// `ppc_preliminary` (速報) until it is fulfilled, then `ppc_final` (確報); `nco_ransomware`.
    pub report_type: String,
    pub hospital_name: String,
    pub items: Vec<ReportItem>,
    /// The whole report as plain text, to paste into a web form.
    pub text: String,
}

const UNKNOWN: &str = "調査中";

fn item(number: u8, ja: &str, en: &str, text: String) -> ReportItem {
    ReportItem { number, heading_ja: ja.into(), heading_en: en.into(), text }
}

fn or_unknown(s: String) -> String {
    if s.trim().is_empty() {
        UNKNOWN.into()
    } else {
        s
    }
}

fn as_text(title: &str, items: &[ReportItem]) -> String {
    let mut s = format!("{title}\n\n");
    for i in items {
        s.push_str(&format!("{}. {}（{}）\n{}\n\n", i.number, i.heading_ja, i.heading_en, i.text));
    }
    s
}

fn fulfilled(obligations: &[Obligation], kind: ObligationKind) -> Option<&Obligation> {
    obligations.iter().find(|o| o.kind == kind && o.fulfilled_at.is_some())
}

/// The nine items of the PPC report, as known so far.
pub fn ppc_report(
    i: &Incident,
    h: &Organization,
    obligations: &[Obligation],
    status: Option<&StatusReport>,
) -> PreparedReport {
    let f = &i.facts;
    let pd = &f.personal_data;
    let overview = format!(
        "{}、{}において{}が発生しました（{}）。{}",
        format_jst(f.detected_at),
        h.name,
        f.category.label_ja(),
        f.title,
        f.description
    );
    let persons = match pd.persons_estimate {
        Some(n) => format!("約{n}人（{}）", if pd.status == PersonalDataStatus::Confirmed { "確認" } else { "見込み" }),
        None => UNKNOWN.into(),
    };
    let mut cause = format!("{}（侵入経路: {}）", f.category.label_ja(), f.attack_vector.label_ja());
    if let Some(fam) = f.ransomware.as_ref().and_then(|r| r.family.as_deref()) {
        cause.push_str(&format!("。ランサムウェアの種類: {fam}"));
    }
    let mut harm = Vec::new();
    if f.ransomware.as_ref().is_some_and(|r| r.kinds.contains(&RansomwareKind::LeakThreat)) {
        harm.push("窃取した情報を公開するとの脅迫があり、公開による二次被害のおそれがあります".to_owned());
    }
    if pd.financial_risk {
        harm.push("財産的被害が生じるおそれがあります".into());
    }
    if f.ransom_demand {
        harm.push("身代金の要求を受けています（支払いの予定はありません）".into());
    }
    let notice = match fulfilled(obligations, ObligationKind::PatientNotice) {
        Some(o) => format!("本人への通知を実施しました（{}）", o.fulfilled_at.map(format_jst).unwrap_or_default()),
        None => "本人への通知を準備中です".into(),
    };
    let published = match i.milestones.report_published {
        Some(t) => format!("公表済み（{}）", format_jst(t)),
        None => "公表について検討中です".into(),
    };
    let mut other = vec![format!("hikeshi 参照番号: {}", i.reference)];
    if let Some(o) = fulfilled(obligations, ObligationKind::PoliceReport) {
        other.push(format!("警察へ相談・届出済み（{}）", o.fulfilled_at.map(format_jst).unwrap_or_default()));
    }
    other.push(format!("厚生労働省へ報告済み（{}）", format_jst(i.reported_at)));
    let items = vec![
        item(1, "概要", "Overview", overview),
        item(
            2,
            "漏えい等が発生し、又は発生したおそれがある個人データの項目",
            "Affected data items",
            or_unknown(pd.data_items.join("、")),
        ),
        item(3, "個人データに係る本人の数", "Number of persons", persons),
        item(4, "原因", "Cause", cause),
        item(5, "二次被害又はそのおそれの有無及びその内容", "Secondary harm", or_unknown(harm.join("。"))),
        item(6, "本人への対応の実施状況", "Notice to persons", notice),
        item(7, "公表の実施状況", "Public announcement", published),
        item(
            8,
            "再発防止のための措置",
            "Recurrence prevention",
            or_unknown(status.map(|s| s.prevention.clone()).unwrap_or_default()),
        ),
        item(9, "その他参考となる事項", "Other", other.join("。")),
    ];
    let report_type =
        if fulfilled(obligations, ObligationKind::PpcPreliminary).is_some() { "ppc_final" } else { "ppc_preliminary" };
    let title = format!(
        "個人情報保護委員会への漏えい等報告（{}）— {} {}",
        if report_type == "ppc_final" { "確報" } else { "速報" },
        h.name,
        i.reference
    );
    PreparedReport {
        reference: i.reference.clone(),
        report_type: report_type.into(),
        hospital_name: h.name.clone(),
        text: as_text(&title, &items),
        items,
    }
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
        item(4, "被害の認知日時", "Discovered", format_jst(f.detected_at)),
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
        text: as_text(&title, &items),
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
