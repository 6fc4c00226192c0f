//! `POST /routing/preview`: which authorities a draft would go to, why, and the deadlines, shown
//! to the hospital before it files.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::with_conn;
use crate::auth::policy::{require, Action};
use crate::auth::AuthUser;
use crate::db;
use crate::domain::deadlines::jst_date;
use crate::domain::incident::{read_contractor, read_personal_data, IncidentFacts};
use crate::domain::parse::Reader;
use crate::domain::routing::{route, rule_set, Reason, RoutingFacts, RuleSet, Source};
use crate::domain::vocabulary::Term;
use crate::domain::{AffectedSystem, Authority, CareImpact, Channel, ObligationKind, OrgKind, Requirement, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::notify::outbox;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/routing/preview", web::post().to(preview))
        .route("/rules", web::get().to(rules))
        .route("/vocabulary", web::get().to(vocabulary));
}

/// The rule set: its version, and each rule's condition in words, outputs and sources.
#[utoipa::path(get, path = "/api/v1/rules", tag = "routing", security(("bearer" = [])),
    responses((status = 200, body = RuleSet), (status = 401, body = Problem)))]
pub async fn rules(state: web::Data<AppState>, _user: AuthUser) -> web::Json<RuleSet> {
    web::Json(rule_set(&state.settings.deadlines))
}

/// Every enumeration's labels `{ja, en}` by enumeration and value: the one vocabulary of the web UI,
/// e-mails, reports and CSV headers. No sign-in needed (the sign-in page uses it).
#[utoipa::path(get, path = "/api/v1/vocabulary", tag = "routing",
    responses((status = 200, description = "enumeration → its values in order, each `{value, ja, en}`",
        body = std::collections::BTreeMap<String, Vec<Term>>)))]
pub async fn vocabulary() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .json(crate::domain::vocabulary::vocabulary())
}

/// An obligation with its computed deadline.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PreviewObligation {
    pub kind: ObligationKind,
    /// The date the service holds the hospital to (a target for the PPC 速報).
    pub due_at: Option<DateTime<Utc>>,
    /// The legal deadline after a closed-day move (equal to `due_at` when none).
    pub legal_due_at: Option<DateTime<Utc>>,
    pub reminder_at: Option<DateTime<Utc>>,
}

/// Who would receive the report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PreviewContact {
    pub name: String,
    pub channel: Channel,
    /// E-mail address or portal URL.
    pub address: String,
    pub instructions: Option<String>,
}

/// One authority of the preview.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PreviewRoute {
    pub authority: Authority,
    pub requirement: Requirement,
    pub reasons: Vec<Reason>,
    pub sources: Vec<Source>,
    pub obligations: Vec<PreviewObligation>,
    pub contacts: Vec<PreviewContact>,
}

/// The routing of a draft.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoutingPreview {
    /// Deadlines count from this time (aware_at, else detected_at, else now).
    pub aware_at: DateTime<Utc>,
    pub routes: Vec<PreviewRoute>,
}

/// Keys of a filing that the preview does not need but accepts.
const OTHER_FILING_KEYS: &[&str] = &[
    "title",
    "description",
    "attack_vector",
    "ransom_demand",
    "occurred_at",
    "discovered_by",
    "entry_technique",
    "vulnerabilities",
    "public_announcement",
    "ransom_response",
    "containment",
    "nco_sharing_consent",
    "ransomware",
    "iocs",
    "offline_backup",
    "bcp_activated",
    "support_requested",
    "contact",
    "reported_via",
];

/// The id of a hospital, as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(min_length = 1, max_length = 64, pattern = "@line")]
#[allow(dead_code)] // documents the body
pub struct HospitalIdInput(String);

/// Personal data of a draft (all optional).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
pub struct PersonalDataDraft {
    pub status: Option<crate::domain::PersonalDataStatus>,
    #[schema(max_length = 1000, pattern = "@text")]
    pub none_reason: Option<String>,
    pub persons: Option<crate::domain::incident::Persons>,
    #[schema(minimum = 0, maximum = 200000000)]
    pub persons_estimate: Option<i64>,
    pub sensitive: Option<bool>,
    pub financial_risk: Option<bool>,
    pub strong_encryption: Option<super::incidents::StrongEncryptionInput>,
    pub my_number: Option<bool>,
    pub medium: Option<crate::domain::DataMedium>,
    #[schema(max_items = 50)]
    pub data_items: Option<Vec<super::incidents::DataItem>>,
}

/// An incident draft: what routing depends on. The other fields of a filing are accepted and
/// ignored (they are checked when the incident is filed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
pub struct RoutingDraft {
    pub category: crate::domain::Category,
    pub care_impact: Option<CareImpact>,
    /// Not in the future.
    pub detected_at: Option<DateTime<Utc>>,
    /// Deadlines count from here (default `detected_at`, else now); not in the future.
    pub aware_at: Option<DateTime<Utc>>,
    pub personal_data: Option<PersonalDataDraft>,
    pub drill: Option<bool>,
    /// Duty officers: required, the hospital the draft is for. Reporters: ignored (their own).
    pub hospital_id: Option<HospitalIdInput>,
    pub title: Option<serde_json::Value>,
    pub description: Option<serde_json::Value>,
    pub attack_vector: Option<serde_json::Value>,
    /// Systems hit: a cyber attack on a patient system makes personal data `suspected` unless
    /// `none` is stated with a reason.
    #[schema(max_items = 20)]
    pub affected_systems: Option<Vec<AffectedSystem>>,
    /// Only `breach_at_contractor` matters to routing.
    pub contractor: Option<super::incidents::ContractorInput>,
    pub occurred_at: Option<serde_json::Value>,
    pub discovered_by: Option<serde_json::Value>,
    pub entry_technique: Option<serde_json::Value>,
    pub vulnerabilities: Option<serde_json::Value>,
    pub public_announcement: Option<serde_json::Value>,
    pub ransom_response: Option<serde_json::Value>,
    pub containment: Option<serde_json::Value>,
    pub nco_sharing_consent: Option<serde_json::Value>,
    pub ransom_demand: Option<serde_json::Value>,
    pub ransomware: Option<serde_json::Value>,
    pub iocs: Option<serde_json::Value>,
    pub offline_backup: Option<serde_json::Value>,
    pub bcp_activated: Option<serde_json::Value>,
    pub support_requested: Option<serde_json::Value>,
    pub contact: Option<serde_json::Value>,
    pub reported_via: Option<serde_json::Value>,
}

/// Preview the routing of an incident draft (only `category` is required).
#[utoipa::path(post, path = "/api/v1/routing/preview", tag = "routing", security(("bearer" = [])),
    request_body(content = RoutingDraft, description = "An incident draft: the fields of POST /incidents, all optional but `category`",
        example = json!({"category": "ransomware", "care_impact": "emergency_suspended", "personal_data": {"status": "suspected"}})),
    responses((status = 200, body = RoutingPreview), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn preview(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<Map<String, Value>>,
) -> ApiResult<web::Json<RoutingPreview>> {
    require(&user, Action::PreviewRouting)?;
    let body = body.into_inner();
    let now = db::now();
    let mut errors = Vec::new();
    let mut r = Reader::new(&body, "", &mut errors);
    r.allow(OTHER_FILING_KEYS);
    let category = r.enumeration("category", true);
    let care_impact = r.enumeration("care_impact", false).unwrap_or(CareImpact::None);
    let limit = Some(now + Duration::minutes(5));
    let detected = r.time("detected_at", false, limit);
    let aware = r.time("aware_at", false, limit).or(detected).unwrap_or(now);
    let personal_data = r.object("personal_data", |p| read_personal_data(p, false)).unwrap_or_default();
    let affected_systems = r.enumerations::<AffectedSystem>("affected_systems", 20);
    let contractor_breach =
        r.object("contractor", |c| read_contractor(c, limit)).flatten().is_some_and(|c| c.breach_at_contractor);
    let drill = r.boolean("drill", false);
    let hospital_id = r.string("hospital_id", user.role == Role::DutyOfficer, 1, 64);
    r.finish();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let Some(category) = category else { return Err(ApiError::validation("category", "is required")) };
    let hospital_id = if user.role == Role::Reporter { user.org_id.clone() } else { hospital_id.unwrap_or_default() };
    let draft = IncidentFacts {
        category,
        care_impact,
        affected_systems,
        personal_data,
        ..IncidentFacts::draft(detected.unwrap_or(aware), aware)
    };
    let st = state.clone();
    let preview = with_conn(&state, move |conn| {
        let hospital = db::orgs::get(conn, &hospital_id)?
            .filter(|o| o.kind == OrgKind::Hospital)
            .ok_or_else(|| ApiError::validation("hospital_id", "no such hospital"))?;
        let prefecture = hospital.prefecture.ok_or_else(|| ApiError::validation("hospital_id", "has no prefecture"))?;
        let today = jst_date(now);
        let mut routes = Vec::new();
        let mut facts =
            RoutingFacts::of(&draft, &outbox::hospital_facts(&hospital), st.settings.rules.active_cyber_defence);
        facts.contractor_breach = contractor_breach;
        for r in route(&facts, &st.settings.deadlines) {
            let at = db::contacts::ContactsFor {
                prefecture,
                municipality: hospital.municipality.as_deref(),
                hospital_id: &hospital.id,
            };
            let contacts = db::contacts::select_for(conn, r.authority, at, drill, today)?
                .into_iter()
                .map(|c| PreviewContact {
                    name: c.name,
                    channel: c.channel,
                    address: c.address,
                    instructions: c.instructions,
                })
                .collect();
            let obligations = outbox::obligation_times(&r, aware, &st.settings)
                .into_iter()
                .map(|p| PreviewObligation {
                    kind: p.kind,
                    due_at: p.due_at,
                    legal_due_at: p.legal_due_at,
                    reminder_at: p.reminder_at,
                })
                .collect();
            routes.push(PreviewRoute {
                authority: r.authority,
                requirement: r.requirement,
                reasons: r.reasons,
                sources: r.sources,
                obligations,
                contacts,
            });
        }
        Ok(RoutingPreview { aware_at: aware, routes })
    })
    .await?;
    Ok(web::Json(preview))
}
