//! `POST /routing/preview`: which authorities a draft would go to, why, and the deadlines, shown
//! to the hospital before it files.

use actix_web::web;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::with_conn;
use crate::auth::policy::{require, Action};
use crate::auth::AuthUser;
use crate::db;
use crate::domain::deadlines::jst_date;
use crate::domain::incident::{IncidentContact, IncidentFacts, PersonalData};
use crate::domain::parse::Reader;
use crate::domain::routing::Reason;
use crate::domain::{Authority, CareImpact, Channel, ObligationKind, OrgKind, PersonalDataStatus, Requirement, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::notify::outbox;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/routing/preview", web::post().to(preview));
}

/// An obligation with its computed deadline.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PreviewObligation {
    pub kind: ObligationKind,
    pub due_at: Option<DateTime<Utc>>,
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
    "affected_systems",
    "ransom_demand",
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
#[allow(dead_code)] // documents the body; it is read field by field
pub struct PersonalDataDraft {
    pub status: Option<PersonalDataStatus>,
    #[schema(minimum = 0, maximum = 200000000)]
    pub persons_estimate: Option<i64>,
    pub sensitive: Option<bool>,
    pub financial_risk: Option<bool>,
    pub encrypted: Option<bool>,
    #[schema(max_items = 50)]
    pub data_items: Option<Vec<super::incidents::DataItem>>,
}

/// An incident draft: what routing depends on. The other fields of a filing are accepted and
/// ignored (they are checked when the incident is filed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body; it is read field by field
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
    pub affected_systems: Option<serde_json::Value>,
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
    let personal_data = r
        .object("personal_data", |p| PersonalData {
            status: p.enumeration("status", false).unwrap_or(PersonalDataStatus::None),
            persons_estimate: p.integer("persons_estimate", 0, 200_000_000),
            sensitive: p.boolean("sensitive", true),
            financial_risk: p.boolean("financial_risk", false),
            encrypted: p.boolean("encrypted", false),
            data_items: p.strings("data_items", 50, 100),
        })
        .unwrap_or_default();
    let drill = r.boolean("drill", false);
    let hospital_id = r.string("hospital_id", user.role == Role::DutyOfficer, 1, 64);
    r.finish();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let Some(category) = category else { return Err(ApiError::validation("category", "is required")) };
    let hospital_id = if user.role == Role::Reporter { user.org_id.clone() } else { hospital_id.unwrap_or_default() };
    let facts = IncidentFacts {
        title: String::new(),
        category,
        detected_at: detected.unwrap_or(aware),
        aware_at: aware,
        description: String::new(),
        attack_vector: crate::domain::AttackVector::Unknown,
        affected_systems: vec![],
        care_impact,
        personal_data,
        ransom_demand: false,
        ransomware: None,
        iocs: vec![],
        offline_backup: crate::domain::OfflineBackup::Unknown,
        bcp_activated: false,
        support_requested: false,
        contact: IncidentContact { name: String::new(), phone: String::new(), email: None },
        drill,
    };
    let st = state.clone();
    let preview = with_conn(&state, move |conn| {
        let hospital = db::orgs::get(conn, &hospital_id)?
            .filter(|o| o.kind == OrgKind::Hospital)
            .ok_or_else(|| ApiError::validation("hospital_id", "no such hospital"))?;
        let prefecture = hospital.prefecture.ok_or_else(|| ApiError::validation("hospital_id", "has no prefecture"))?;
        let today = jst_date(now);
        let mut routes = Vec::new();
        for r in outbox::compute_routes(&facts, &hospital, &st.settings) {
            let contacts = db::contacts::select_for(conn, r.authority, prefecture, &hospital.id, drill, today)?
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
                .map(|(kind, due_at, reminder_at)| PreviewObligation { kind, due_at, reminder_at })
                .collect();
            routes.push(PreviewRoute {
                authority: r.authority,
                requirement: r.requirement,
                reasons: r.reasons,
                obligations,
                contacts,
            });
        }
        Ok(RoutingPreview { aware_at: aware, routes })
    })
    .await?;
    Ok(web::Json(preview))
}
