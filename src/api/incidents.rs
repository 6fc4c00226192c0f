//! Incidents: filing (with idempotency), the triage queue, detail, changes, transitions, the
//! timeline, milestones, obligations and notifications.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::{decode_cursor, etag, if_match, in_tx, page_limit, paginate, with_conn, Page};
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

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/incidents", web::post().to(file))
        .route("/incidents", web::get().to(list))
        .route("/incidents/{id}", web::get().to(get))
        .route("/incidents/{id}", web::patch().to(update))
        .route("/incidents/{id}/transitions", web::post().to(transition))
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

/// Who filed an incident, as the timeline and the audit trail name them.
pub struct Filer<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub request_id: Option<&'a str>,
}

/// Stores a new incident (routed by [`refresh_derived`]) with its obligations, its outbox rows, its
/// timeline entry and its audit entry, in the caller's transaction: the one filing path of the
/// handler and the benchmark seeder. Returns the obligations created.
pub fn record_filing(
    conn: &mut AnyConnection,
    settings: &Settings,
    by: &Filer<'_>,
    incident: &Incident,
    hospital: &Organization,
) -> ApiResult<Vec<Obligation>> {
    db::incidents::insert(conn, incident)?;
    let obligations = outbox::apply_first_routing(conn, settings, incident, hospital)?;
    let proxy = by.role == Role::DutyOfficer;
    db::updates::add(
        conn,
        &incident.id,
        UpdateKind::Filed,
        None,
        serde_json::json!({"reported_via": incident.reported_via, "proxy": proxy, "severity": incident.severity,
                           "rules_version": incident.rules_version,
                           "authorities": incident.routing.iter().map(|r| r.authority).collect::<Vec<_>>()}),
        Some((by.id, by.name)),
    )?;
    db::audit::append_first(
        conn,
        &db::audit::AuditEvent {
            actor_id: Some(by.id),
            actor_label: by.role.as_str(),
            action: "incident.create",
            target_type: "incident",
            target_id: &incident.id,
            incident_id: Some(&incident.id),
            request_id: by.request_id,
            details: serde_json::json!({"reference": incident.reference, "hospital_id": incident.hospital_id, "proxy": proxy}),
        },
    )?;
    Ok(obligations)
}

fn idempotency_key(req: &HttpRequest) -> ApiResult<Option<String>> {
    match req.headers().get("Idempotency-Key") {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(s) if !s.trim().is_empty() && s.len() <= 200 => Ok(Some(s.trim().to_owned())),
            _ => Err(ApiError::validation("Idempotency-Key", "must be 1 to 200 visible ASCII characters")),
        },
    }
}

/// Personal data as filed (defaults apply to omitted fields).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body; it is read field by field
pub struct PersonalDataInput {
    /// As the hospital states it. For a cyber attack on `emr`, `pacs`, `lab`, `pharmacy` or
    /// `ordering`, `none` counts as `suspected` unless `none_reason` says why (DOMAIN.md 2.2).
    pub status: crate::domain::PersonalDataStatus,
    /// Why no personal data is affected although patient systems were hit.
    #[schema(max_length = 1000, pattern = "@text")]
    pub none_reason: Option<String>,
    /// Numbers of persons per kind, as far as known.
    pub persons: Option<crate::domain::incident::Persons>,
    /// Total number of persons affected, as far as known (kept; the threshold uses the larger of
    /// this and the sum of `persons`).
    #[schema(minimum = 0, maximum = 200000000, example = 40000)]
    pub persons_estimate: Option<i64>,
    /// 要配慮個人情報 (medical records always are). Default true.
    pub sensitive: Option<bool>,
    /// Risk of financial damage (e.g. card data). Default false.
    pub financial_risk: Option<bool>,
    /// The hospital's own strong encryption. Replaces `encrypted` (refused with 422): encryption by
    /// an attacker is never protection.
    pub strong_encryption: Option<StrongEncryptionInput>,
    /// 特定個人情報 (My Number) is involved. Default false.
    pub my_number: Option<bool>,
    pub medium: Option<crate::domain::DataMedium>,
    /// Affected data items, e.g. "氏名", "病名" (1–100 characters each).
    #[schema(max_items = 50)]
    pub data_items: Option<Vec<DataItem>>,
}

/// The hospital's own strong encryption of the data, as filed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body; it is read field by field
pub struct StrongEncryptionInput {
    /// The hospital had protected the data with strong encryption before the event. Default false.
    pub protected: Option<bool>,
    /// `true`, `false` or `"unknown"` (default). Only `false` allows the exemption.
    pub key_compromised: Option<crate::domain::incident::KeyCompromised>,
    /// Duty officers only: why the exemption holds for ransomware, unauthorized access, account
    /// compromise or supply chain (PPC Q&A).
    #[schema(max_length = 1000, pattern = "@text")]
    pub officer_reason: Option<String>,
}

/// A contractor (委託先) involved, as filed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body; it is read field by field
pub struct ContractorInput {
    #[schema(min_length = 1, max_length = 200, pattern = "@name")]
    pub name: String,
    /// The breach happened at the contractor. Default false.
    pub breach_at_contractor: Option<bool>,
    /// When the contractor told the hospital; not in the future.
    pub notified_hospital_at: Option<DateTime<Utc>>,
}

/// The public announcement (公表), as filed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body; it is read field by field
pub struct PublicAnnouncementInput {
    /// Not in the future.
    pub at: DateTime<Utc>,
    #[schema(min_length = 1, max_length = 500, pattern = "@line", example = "病院ウェブサイトに掲載")]
    pub method: String,
}

/// A CVE identifier.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(pattern = "^CVE-[0-9]{4}-[0-9]{4,19}$", example = "CVE-2024-3400")]
#[allow(dead_code)] // documents the body
pub struct CveId(String);

/// One affected data item.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(min_length = 1, max_length = 100, pattern = "@line")]
#[allow(dead_code)] // documents the body
pub struct DataItem(String);

/// Ransomware facts as filed (government common format).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body; it is read field by field
pub struct RansomwareInput {
    /// Text of the ransom note.
    #[schema(max_length = 20000, pattern = "@text")]
    pub note_text: Option<String>,
    /// Extension of encrypted files, e.g. ".lockbit".
    #[schema(max_length = 50, pattern = "@text")]
    pub encrypted_extension: Option<String>,
    /// Ransomware family if known.
    #[schema(max_length = 100, pattern = "@text")]
    pub family: Option<String>,
    #[schema(max_items = 3)]
    pub kinds: Option<Vec<crate::domain::RansomwareKind>>,
}

/// An indicator of compromise as filed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body; it is read field by field
pub struct IocInput {
    #[serde(rename = "type")]
    pub ioc_type: crate::domain::incident::IocType,
    #[schema(min_length = 1, max_length = 2000, pattern = "@line")]
    pub value: String,
}

/// Who to call back: a phone, because the hospital's e-mail may be down.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body; it is read field by field
pub struct IncidentContactInput {
    #[schema(min_length = 1, max_length = 100, pattern = "@name", example = "情報システム室 佐藤")]
    pub name: String,
    /// 9–15 digits; spaces, hyphens, parentheses and a leading + allowed.
    #[schema(min_length = 1, max_length = 40, pattern = "@phone", example = "03-1234-5678")]
    pub phone: String,
    /// Empty or absent: none.
    #[schema(max_length = 254, pattern = "@email")]
    pub email: Option<String>,
}

/// A filing: the incident facts a hospital reports. Omitted optional fields take their defaults;
/// text is trimmed; unknown fields are refused (422).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body; it is read field by field
pub struct IncidentInput {
    #[schema(min_length = 1, max_length = 200, pattern = "@name")]
    pub title: String,
    pub category: Category,
    /// RFC 3339 with offset; not in the future (5 minutes of clock skew are tolerated).
    pub detected_at: DateTime<Utc>,
    /// When anyone at the hospital first learned of the event or its possibility (default:
    /// `detected_at`; not before it, not in the future). Deadlines count from its Japanese day,
    /// which is day 1.
    pub aware_at: Option<DateTime<Utc>>,
    /// When the event itself happened (発生日), as far as known; not in the future.
    pub occurred_at: Option<DateTime<Utc>>,
    pub discovered_by: Option<crate::domain::DiscoveredBy>,
    /// How the attacker got in, apart from the device (`attack_vector`).
    pub entry_technique: Option<crate::domain::EntryTechnique>,
    #[schema(max_items = 50)]
    pub vulnerabilities: Option<Vec<CveId>>,
    pub contractor: Option<ContractorInput>,
    pub public_announcement: Option<PublicAnnouncementInput>,
    /// Nothing is said about a ransom unless recorded here.
    pub ransom_response: Option<crate::domain::RansomResponse>,
    /// Containment taken so far.
    #[schema(max_length = 5000, pattern = "@text")]
    pub containment: Option<String>,
    /// Consent to sharing the report with NCO (common format).
    pub nco_sharing_consent: Option<bool>,
    /// Default empty.
    #[schema(max_length = 10000, pattern = "@text")]
    pub description: Option<String>,
    /// Default `unknown`.
    pub attack_vector: Option<crate::domain::AttackVector>,
    /// Duplicates are ignored.
    #[schema(max_items = 20)]
    pub affected_systems: Option<Vec<crate::domain::AffectedSystem>>,
    pub care_impact: crate::domain::CareImpact,
    /// Default: status `none`.
    pub personal_data: Option<PersonalDataInput>,
    /// Default false.
    pub ransom_demand: Option<bool>,
    pub ransomware: Option<RansomwareInput>,
    #[schema(max_items = 200)]
    pub iocs: Option<Vec<IocInput>>,
    /// Default `unknown`.
    pub offline_backup: Option<crate::domain::OfflineBackup>,
    /// Default false.
    pub bcp_activated: Option<bool>,
    /// Default false.
    pub support_requested: Option<bool>,
    pub contact: IncidentContactInput,
    /// A training exercise (default false): routed only to drill contacts, excluded from statistics.
    pub drill: Option<bool>,
    /// Duty officers (required for them): the hospital filed for. Reporters: absent, null or their own hospital.
    pub hospital_id: Option<String>,
    /// Default `web` for reporters, `phone` for officers.
    pub reported_via: Option<ReportedVia>,
}

/// File an incident: a reporter for its own hospital, or a duty officer on a hospital's behalf
/// after a phone call (`hospital_id`, `reported_via: "phone"`).
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a filing safely: the same key and body replay the first response")),
    request_body(content = IncidentInput, description = "Incident facts; officers add `hospital_id` and `reported_via`",
        example = json!({"title": "電子カルテのランサムウェア感染", "category": "ransomware", "detected_at": "2026-11-20T06:10:00+09:00",
            "description": "電子カルテサーバーが暗号化され、脅迫文が表示された", "attack_vector": "vpn", "affected_systems": ["emr", "pacs"],
            "care_impact": "emergency_suspended", "personal_data": {"status": "suspected", "persons_estimate": 40000},
            "ransom_demand": true, "ransomware": {"note_text": "Your files are encrypted", "encrypted_extension": ".lockbit", "kinds": ["encryption", "leak_threat"]},
            "offline_backup": "affected", "bcp_activated": true, "contact": {"name": "情報システム室 佐藤", "phone": "03-1234-5678"}})),
    responses((status = 201, body = IncidentView, headers(("Location" = String), ("ETag" = String))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn file(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: web::Json<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    let proxy = match user.role {
        Role::Reporter => false,
        Role::DutyOfficer => true,
        _ => return Err(ApiError::Forbidden("only hospital reporters and duty officers file incidents".into())),
    };
    require(&user, if proxy { Action::ProxyFileIncident } else { Action::FileIncident })?;
    let key = idempotency_key(&req)?;
    let body = body.into_inner();
    let request_hash = hex::encode(Sha256::digest(serde_json::to_vec(&body).unwrap_or_default()));
    let now = db::now();
    let parsed = IncidentFacts::parse(&body, now, FILING_KEYS);
    let mut errors = parsed.as_ref().err().cloned().unwrap_or_default();
    if let Ok(f) = &parsed {
        errors.extend(officer_only_facts(&user, None, f));
    }
    let hospital_id = match (proxy, body.get("hospital_id")) {
        (true, Some(Value::String(h))) => Some(h.clone()),
        (true, _) => {
            errors.push(FieldError::new("hospital_id", "is required when an officer files on a hospital's behalf"));
            None
        }
        (false, None | Some(Value::Null)) => Some(user.org_id.clone()),
        (false, Some(Value::String(h))) if *h == user.org_id => Some(h.clone()),
        (false, Some(_)) => {
            errors.push(FieldError::new("hospital_id", "reporters file for their own hospital only"));
            None
        }
    };
    let reported_via = match body.get("reported_via") {
        None | Some(Value::Null) => Some(if proxy { ReportedVia::Phone } else { ReportedVia::Web }),
        Some(Value::String(s)) => match ReportedVia::parse(s) {
            Some(v) => Some(v),
            None => {
                errors.push(FieldError::new("reported_via", "must be one of: web, phone"));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("reported_via", "must be a string"));
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let facts = parsed.map_err(ApiError::Validation)?;
    let (hospital_id, reported_via) = match (hospital_id, reported_via) {
        (Some(h), Some(v)) => (h, v),
        _ => return Err(ApiError::validation("body", "is incomplete")),
    };

    // A replay needs no new reference; look before taking one.
    if let Some(k) = key.clone() {
        let (uid, h) = (user.id.clone(), request_hash.clone());
        if let Some(r) = with_conn(&state, move |c| Ok(db::idempotency::get(c, &uid, &k)?)).await? {
            return replay(r, &h);
        }
    }
    let reference = with_conn(&state, move |c| Ok(db::incidents::next_reference(c, now)?)).await?;
    let st = state.clone();
    let u = user.clone();
    let k = key.clone();
    let h = request_hash.clone();
    // The key was looked up above; a request racing this one with the same key loses at the
    // insert below (the key's primary key) and replays the winner's answer.
    let result = in_tx(&state, move |conn| {
        let hospital = db::orgs::get(conn, &hospital_id)?
            .filter(|o| o.kind == OrgKind::Hospital)
            .ok_or_else(|| ApiError::validation("hospital_id", "no such hospital"))?;
        let prefecture = hospital
            .prefecture
            .ok_or_else(|| ApiError::validation("hospital_id", "the hospital has no prefecture on record"))?;
        let at = FiledAt { hospital_id: &hospital.id, prefecture, beds: hospital.beds };
        let mut incident = Incident::filed(db::new_id(), reference, at, facts, now, reported_via, &u.id);
        refresh_derived(&mut incident, &hospital, &st.settings, now);
        let actor = Filer { id: &u.id, name: &u.name, role: u.role, request_id: u.request_id.as_deref() };
        let obligations = record_filing(conn, &st.settings, &actor, &incident, &hospital)?;
        let v = view_with(&incident, &hospital, obligations);
        let body = serde_json::to_string(&v).map_err(anyhow::Error::from)?;
        if let Some(k) = &k {
            if !db::idempotency::insert(conn, &u.id, k, &h, 201, &body, &incident.id)? {
                return Err(ApiError::IdempotencyKeyInUse); // rolls this filing back
            }
        }
        Ok((incident.id, body))
    })
    .await;
    let (id, body) = match (result, key) {
        (Ok(filed), _) => filed,
        // Two requests with one key raced: the loser replays the winner's answer.
        (Err(ApiError::IdempotencyKeyInUse), Some(k)) => {
            let uid = user.id.clone();
            let r = with_conn(&state, move |c| Ok(db::idempotency::get(c, &uid, &k)?))
                .await?
                .ok_or(ApiError::IdempotencyKeyInUse)?;
            return replay(r, &request_hash);
        }
        (Err(e), _) => return Err(e),
    };
    state.metrics.incidents_filed.inc();
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/incidents/{id}")))
        .insert_header(("ETag", etag(1)))
        .content_type("application/json")
        .body(body))
}

fn idempotency_mismatch() -> ApiError {
    ApiError::validation("Idempotency-Key", "was already used with a different request body")
}

fn replay(r: db::idempotency::IdempotencyRecord, request_hash: &str) -> ApiResult<HttpResponse> {
    if r.request_hash != request_hash {
        return Err(idempotency_mismatch());
    }
    Ok(replayed(r.response_status as u16, &r.resource_id, r.response_body))
}

fn replayed(status: u16, id: &str, body: String) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::CREATED);
    HttpResponse::build(code)
        .insert_header(("Location", format!("/api/v1/incidents/{id}")))
        .insert_header(("Idempotent-Replayed", "true"))
        .content_type("application/json")
        .body(body)
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
const TRIAGE_KEYS: &[&str] = &["severity", "severity_reason", "deadline_reason"];

/// Changes to an incident: facts as a JSON merge patch (reporters, officers); `severity` with
/// `severity_reason` (officers).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // documents the body; it is read field by field
pub struct IncidentPatch {
    /// Any incident fact, merge-patch style (nested objects merge; null removes an optional field).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub facts: Map<String, Value>,
    /// Officers: override the suggested severity.
    pub severity: Option<Severity>,
    /// Required with `severity`.
    #[schema(max_length = 500)]
    pub severity_reason: Option<String>,
    /// Officers: why a deadline may move later with this change of facts. Without it a later date
    /// is held (recorded on the timeline) and earlier dates move at once.
    #[schema(max_length = 500)]
    pub deadline_reason: Option<String>,
}

/// Change facts or triage fields (`If-Match` required). Routing is recomputed: newly required
/// authorities are notified.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path), ("If-Match" = String, Header, description = "ETag of the version changed")),
    request_body = IncidentPatch,
    responses((status = 200, body = IncidentView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let version = if_match(&req);
    let st = state.clone();
    let (v, scope) = in_tx(&state, move |conn| {
        let (mut i, h, scope) = load(conn, &user, &id)?;
        let wants_triage = TRIAGE_KEYS.iter().any(|k| body.contains_key(*k));
        let wants_facts = body.keys().any(|k| !TRIAGE_KEYS.contains(&k.as_str()));
        if wants_facts {
            require(&user, Action::ChangeFacts)?;
        }
        if wants_triage {
            require(&user, Action::ChangeTriage)?;
        }
        if !wants_facts && !wants_triage {
            return Err(ApiError::validation("body", "names no field to change"));
        }
        if version? != i.version {
            return Err(ApiError::PreconditionFailed);
        }
        let now = db::now();
        let mut facts_map = body.clone();
        facts_map.retain(|k, _| !TRIAGE_KEYS.contains(&k.as_str()));
        let mut errors = Vec::new();
        let new_facts = if wants_facts {
            match i.facts.patched(&facts_map, now, &[]) {
                Ok(f) => Some(f),
                Err(e) => {
                    errors.extend(e);
                    None
                }
            }
        } else {
            None
        };
        let mut triage = Map::new();
        for k in TRIAGE_KEYS {
            if let Some(v) = body.get(*k) {
                triage.insert((*k).to_owned(), v.clone());
            }
        }
        let wants_severity = triage.contains_key("severity") || triage.contains_key("severity_reason");
        let mut r = Reader::new(&triage, "", &mut errors);
        let severity = r.enumeration::<Severity>("severity", wants_severity);
        let reason = r.string("severity_reason", wants_severity, 1, 500);
        let deadline_reason = r.string("deadline_reason", false, 1, 500);
        r.finish();
        if let Some(f) = &new_facts {
            errors.extend(officer_only_facts(&user, Some(&i.facts), f));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let before = serde_json::to_value(&i.facts).unwrap_or(Value::Null);
        let old_severity = i.severity;
        let old_routes: Vec<_> = i.routing.iter().map(|r| r.authority).collect();
        if let Some(f) = new_facts {
            i.facts = f;
        }
        if let (Some(s), Some(reason)) = (severity, reason.as_deref()) {
            i.severity = s;
            i.severity_overridden = true;
            timeline(
                conn,
                &user,
                &i.id,
                UpdateKind::SeverityChange,
                None,
                serde_json::json!({"from": old_severity, "to": s, "reason": reason, "override": true}),
            )?;
        }
        refresh_derived(&mut i, &h, &st.settings, now);
        if i.severity != old_severity && severity.is_none() {
            timeline(
                conn,
                &user,
                &i.id,
                UpdateKind::SeverityChange,
                None,
                serde_json::json!({"from": old_severity, "to": i.severity, "override": false}),
            )?;
        }
        let after = serde_json::to_value(&i.facts).unwrap_or(Value::Null);
        let changed: Vec<String> = after
            .as_object()
            .map(|a| a.iter().filter(|(k, v)| before.get(k.as_str()) != Some(v)).map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        if !changed.is_empty() {
            timeline(conn, &user, &i.id, UpdateKind::FactsChanged, None, serde_json::json!({"fields": changed}))?;
        }
        i.version += 1;
        i.updated_at = now;
        if !db::incidents::update(conn, &i)? {
            return Err(ApiError::PreconditionFailed);
        }
        let queued = outbox::apply_routing(conn, &st.settings, &i, &h, "initial")?;
        follow_deadlines(conn, Some((&user.id, &user.name)), &i, &st.settings, &changed, deadline_reason.as_deref())?;
        let new_routes: Vec<_> = i.routing.iter().map(|r| r.authority).filter(|a| !old_routes.contains(a)).collect();
        audit_incident(
            conn,
            &user,
            &i.id,
            "incident.update",
            serde_json::json!({"fields": changed, "severity": severity, "severity_reason": reason,
                               "new_authorities": new_routes, "notifications_queued": queued}),
        )?;
        Ok((view(conn, &i, &h)?, scope))
    })
    .await?;
    state.outbox_wake.notify_one();
    Ok(respond(&v, &scope))
}

/// Facts only a duty officer may record: the reason the encryption exemption holds (PPC Q&A).
fn officer_only_facts(user: &AuthUser, before: Option<&IncidentFacts>, after: &IncidentFacts) -> Vec<FieldError> {
    let reason = |f: &IncidentFacts| f.personal_data.strong_encryption.officer_reason.clone();
    if user.role != Role::DutyOfficer && before.and_then(reason) != reason(after) {
        vec![FieldError::new(
            "personal_data.strong_encryption.officer_reason",
            "is recorded by a duty officer only (the encryption exemption for attacks needs the ministry's review)",
        )]
    } else {
        Vec::new()
    }
}

/// Who a derived timeline entry is written by: a signed-in user, or hikeshi itself (`None`).
pub type Author<'a> = Option<(&'a str, &'a str)>;

/// Routes a hospital's open incidents again after a fact about the hospital changed (its legal
/// status, municipality or regional roles): new authorities are told, obligations follow as after a
/// change of the incident's own facts. Returns how many incidents changed.
pub(crate) fn reroute_hospital(
    conn: &mut AnyConnection,
    user: &AuthUser,
    settings: &Settings,
    hospital: &Organization,
    changed: &[String],
) -> ApiResult<usize> {
    let fields: Vec<String> = changed.iter().map(|f| format!("hospital.{f}")).collect();
    reroute(conn, Some((&user.id, &user.name)), settings, hospital, &fields, false)
}

/// Routes every open incident that was routed with an older rule set again with the current one
/// (`hikeshi rules apply`): dates move earlier at once and later ones are held, as after any change
/// of facts, and each move is on the timeline. Returns how many incidents changed.
pub fn apply_current_rules(conn: &mut AnyConnection, settings: &Settings) -> ApiResult<usize> {
    let mut n = 0;
    let mut after: Option<String> = None;
    loop {
        let page = db::orgs::list(conn, Some(OrgKind::Hospital), after.as_deref(), 200)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for hospital in &page {
            n += reroute(conn, None, settings, hospital, &["rules_version".to_owned()], true)?;
        }
    }
    Ok(n)
}

/// Routes a hospital's open incidents again; `stale_rules_only` limits it to incidents routed with
/// another rule set (whose dates are recomputed even when their routes stay).
fn reroute(
    conn: &mut AnyConnection,
    author: Author<'_>,
    settings: &Settings,
    hospital: &Organization,
    fields: &[String],
    stale_rules_only: bool,
) -> ApiResult<usize> {
    let now = db::now();
    let mut n = 0;
    for mut i in db::incidents::open_of_hospital(conn, &hospital.id)? {
        let stale = i.rules_version != crate::domain::routing::RULES_VERSION;
        if stale_rules_only && !stale {
            continue;
        }
        let before = i.routing.clone();
        refresh_derived(&mut i, hospital, settings, now);
        if i.routing == before && !stale {
            continue;
        }
        i.version += 1;
        i.updated_at = now;
        if !db::incidents::update(conn, &i)? {
            return Err(ApiError::Conflict("an incident of this hospital changed meanwhile; try again".into()));
        }
        outbox::apply_routing(conn, settings, &i, hospital, "initial")?;
        db::updates::add(conn, &i.id, UpdateKind::FactsChanged, None, serde_json::json!({"fields": fields}), author)?;
        follow_deadlines(conn, author, &i, settings, fields, None)?;
        n += 1;
    }
    Ok(n)
}

/// Moves the dates of unfulfilled obligations to what the facts now give (DOMAIN.md 2.4): earlier
/// at once, later only with an officer's reason; each move, applied or held, goes on the timeline.
fn follow_deadlines(
    conn: &mut AnyConnection,
    author: Author<'_>,
    i: &Incident,
    settings: &Settings,
    changed: &[String],
    officer_reason: Option<&str>,
) -> ApiResult<()> {
    let planned = crate::domain::obligations::plan(&i.routing, i.facts.aware_at, &settings.deadlines);
    let current = db::obligations::current(conn, &i.id)?;
    for c in crate::domain::obligations::recompute(&current, &planned, officer_reason) {
        if c.applied {
            db::obligations::set_dates(conn, &c)?;
        }
        let mut data = serde_json::to_value(&c).unwrap_or(Value::Null);
        if let Some(m) = data.as_object_mut() {
            m.insert("fields".into(), serde_json::json!(changed));
            m.insert("reason".into(), serde_json::json!(officer_reason));
        }
        db::updates::add(conn, &i.id, UpdateKind::DeadlineChanged, None, data, author)?;
    }
    Ok(())
}

/// A status change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub to: IncidentStatus,
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// Move the incident through its lifecycle (duty officers). An illegal move is 409 listing the allowed ones.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/transitions", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TransitionRequest,
    responses((status = 200, body = IncidentView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Not allowed from the current status; `allowed` lists the possible ones", body = Problem), (status = 422, body = Problem)))]
pub async fn transition(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<TransitionRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let b = body.into_inner();
    if b.reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(ApiError::validation("reason", "must be at most 1000 characters"));
    }
    let st = state.clone();
    let (v, scope) = in_tx(&state, move |conn| {
        let (mut i, h, scope) = load(conn, &user, &id)?;
        require(&user, Action::Transition)?;
        apply_transition(conn, &st.settings, &user, &mut i, &h, b.to, b.reason.as_deref())?;
        Ok((view(conn, &i, &h)?, scope))
    })
    .await?;
    Ok(respond(&v, &scope))
}

/// Moves an incident to `to` (checked), with timeline and audit entries. Used by officers and by
/// dispatch acceptance.
pub fn apply_transition(
    conn: &mut AnyConnection,
    settings: &Settings,
    user: &AuthUser,
    i: &mut Incident,
    h: &Organization,
    to: IncidentStatus,
    reason: Option<&str>,
) -> ApiResult<()> {
    let from = i.status;
    check_incident_transition(from, to, i.milestones.fully_normal.is_some()).map_err(|e| match e {
        TransitionError::NotAllowed { allowed, .. } => ApiError::IllegalTransition {
            detail: e_to_string(from, to, &allowed),
            allowed: allowed.iter().map(|s| s.as_str().to_owned()).collect(),
        },
        TransitionError::MilestoneMissing { milestone } => ApiError::IllegalTransition {
            detail: format!("recovered requires the {milestone} milestone to be recorded first"),
            allowed: crate::domain::lifecycle::allowed_incident_transitions(from)
                .iter()
                .filter(|s| **s != IncidentStatus::Recovered)
                .map(|s| s.as_str().to_owned())
                .collect(),
        },
    })?;
    let now = db::now();
    i.status = to;
    if to == IncidentStatus::Triaged {
        i.triaged_at = Some(now);
    }
    if matches!(to, IncidentStatus::Closed | IncidentStatus::Withdrawn) {
        i.closed_at = Some(now);
    }
    i.priority = priority_of(i, h, settings, now);
    i.version += 1;
    i.updated_at = now;
    if !db::incidents::update(conn, i)? {
        return Err(ApiError::PreconditionFailed);
    }
    timeline(conn, user, &i.id, UpdateKind::StatusChange, reason, serde_json::json!({"from": from, "to": to}))?;
    audit_incident(
        conn,
        user,
        &i.id,
        "incident.transition",
        serde_json::json!({"from": from, "to": to, "reason": reason}),
    )
}

fn e_to_string(from: IncidentStatus, to: IncidentStatus, allowed: &[IncidentStatus]) -> String {
    let list: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
    format!(
        "an incident cannot move from {from} to {to}; allowed: {}",
        if list.is_empty() { "none (final state)".to_owned() } else { list.join(", ") }
    )
}

/// A timeline entry to add: a note, or a status report under the four headings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code)] // documents the body; it is read field by field
pub enum NewUpdate {
    /// A note.
    Note {
        #[schema(min_length = 1, max_length = 10000, pattern = "@line")]
        body: String,
    },
    /// A status report under the four headings.
    StatusReport {
        /// 被害状況.
        #[schema(min_length = 1, max_length = 10000, pattern = "@line")]
        damage: String,
        /// 対応状況.
        #[schema(min_length = 1, max_length = 10000, pattern = "@line")]
        response: String,
        /// 復旧状況.
        #[schema(min_length = 1, max_length = 10000, pattern = "@line")]
        recovery: String,
        /// 再発防止策.
        #[schema(min_length = 1, max_length = 10000, pattern = "@line")]
        prevention: String,
    },
}

/// The timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/updates", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path), super::PageQuery),
    responses((status = 200, body = Page<TimelineEntry>), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn list_updates(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    q: web::Query<super::PageQuery>,
) -> ApiResult<web::Json<Page<TimelineEntry>>> {
    let id = id.into_inner();
    let limit = page_limit(q.limit)?;
    let after: Option<String> = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = with_conn(&state, move |conn| {
        let (i, _, scope) = load(conn, &user, &id)?;
        let mut rows = db::updates::list(conn, &i.id, after.as_deref(), limit + 1)?;
        super::record_read(conn, &user, "incident.timeline_read", Some(&i.id), serde_json::json!({"after": after}))?;
        super::need_to_know::timeline(conn, &mut rows, scope.sight())?;
        Ok(rows)
    })
    .await?;
    Ok(web::Json(paginate(rows, limit, |e| e.id.clone(), |e| e)))
}

/// Add a note or a status report (status reports are also sent to MHLW).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewUpdate,
    responses((status = 201, body = TimelineEntry), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut errors = Vec::new();
    let mut r = Reader::new(&body, "", &mut errors);
    let kind = r.string("kind", true, 1, 20);
    let (entry_kind, text, data) = match kind.as_deref() {
        Some("note") => {
            let text = r.string("body", true, 1, 10_000);
            (UpdateKind::Note, text, Value::Object(Map::new()))
        }
        Some("status_report") => {
            let mut d = Map::new();
            for k in ["damage", "response", "recovery", "prevention"] {
                if let Some(s) = r.string(k, true, 1, 10_000) {
                    d.insert(k.into(), Value::String(s));
                }
            }
            (UpdateKind::StatusReport, None, Value::Object(d))
        }
        Some(_) => {
            r.error("kind", "must be note or status_report");
            (UpdateKind::Note, None, Value::Null)
        }
        None => (UpdateKind::Note, None, Value::Null),
    };
    r.finish();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let st = state.clone();
    let entry = in_tx(&state, move |conn| {
        let (i, h, _) = load(conn, &user, &id)?;
        require(&user, Action::AddUpdate)?;
        super::need_to_know::require_work(conn, &user, &i.id)?;
        let e = timeline(conn, &user, &i.id, entry_kind, text.as_deref(), data)?;
        if entry_kind == UpdateKind::StatusReport {
            outbox::status_report_to_mhlw(conn, &st.settings, &i, &h, &e.id)?;
        }
        audit_incident(
            conn,
            &user,
            &i.id,
            "incident.update_added",
            serde_json::json!({"kind": entry_kind, "entry": e.id}),
        )?;
        Ok(e)
    })
    .await?;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Created().json(entry))
}

/// When a milestone was reached.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneRequest {
    /// RFC 3339 with offset; not in the future, not before detection.
    pub at: DateTime<chrono::FixedOffset>,
}

/// Record a recovery milestone (reporters, responders, officers).
#[utoipa::path(put, path = "/api/v1/incidents/{id}/milestones/{name}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path), ("name" = Milestone, Path)), request_body = MilestoneRequest,
    responses((status = 200, body = IncidentView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_milestone(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: web::Json<MilestoneRequest>,
) -> ApiResult<HttpResponse> {
    let (id, name) = path.into_inner();
    let milestone = Milestone::parse(&name).ok_or(ApiError::NotFound)?;
    let at = chrono::SubsecRound::trunc_subsecs(body.at.with_timezone(&Utc), 6);
    let (v, scope) = in_tx(&state, move |conn| {
        let (mut i, h, scope) = load(conn, &user, &id)?;
        require(&user, Action::SetMilestone)?;
        super::need_to_know::require_work(conn, &user, &i.id)?;
        let now = db::now();
        if at > now + Duration::minutes(5) {
            return Err(ApiError::validation("at", "must not be in the future"));
        }
        if at < i.facts.detected_at {
            return Err(ApiError::validation("at", "must not be before the incident was detected"));
        }
        let previous = i.milestones.get(milestone);
        i.milestones.set(milestone, at);
        i.version += 1;
        i.updated_at = now;
        if !db::incidents::update(conn, &i)? {
            return Err(ApiError::PreconditionFailed);
        }
        timeline(
            conn,
            &user,
            &i.id,
            UpdateKind::Milestone,
            None,
            serde_json::json!({"milestone": milestone, "at": at, "previous": previous}),
        )?;
        audit_incident(
            conn,
            &user,
            &i.id,
            "incident.milestone",
            serde_json::json!({"milestone": milestone, "at": at}),
        )?;
        Ok((view(conn, &i, &h)?, scope))
    })
    .await?;
    Ok(respond(&v, &scope))
}

/// Reporting obligations and deadlines of an incident.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/obligations", tag = "routing", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Obligation>), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list_obligations(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> ApiResult<web::Json<Vec<Obligation>>> {
    let id = id.into_inner();
    let list = with_conn(&state, move |conn| {
        let (i, _, _) = load(conn, &user, &id)?;
        Ok(db::obligations::for_incident(conn, &i.id)?)
    })
    .await?;
    Ok(web::Json(list))
}

/// The submission of a report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfilRequest {
    /// When it was submitted (RFC 3339 with offset; not in the future).
    pub at: DateTime<chrono::FixedOffset>,
    /// Receipt number given by the authority.
    #[schema(max_length = 200)]
    pub reference: Option<String>,
}

/// Record that an obligation was fulfilled (reporters, officers).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/obligations/{oid}/fulfil", tag = "routing", security(("bearer" = [])),
    params(("id" = String, Path), ("oid" = String, Path)), request_body = FulfilRequest,
    responses((status = 200, body = Obligation), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Already fulfilled", body = Problem), (status = 422, body = Problem)))]
pub async fn fulfil_obligation(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: web::Json<FulfilRequest>,
) -> ApiResult<web::Json<Obligation>> {
    let (id, oid) = path.into_inner();
    let b = body.into_inner();
    let at = chrono::SubsecRound::trunc_subsecs(b.at.with_timezone(&Utc), 6);
    let reference = b.reference.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if reference.as_ref().is_some_and(|r| r.chars().count() > 200) {
        return Err(ApiError::validation("reference", "must be at most 200 characters"));
    }
    let st = state.clone();
    let o = in_tx(&state, move |conn| {
        let (mut i, h, _) = load(conn, &user, &id)?;
        require(&user, Action::FulfilObligation)?;
        let o = db::obligations::get(conn, &i.id, &oid)?.ok_or(ApiError::NotFound)?;
        let now = db::now();
        if at > now + Duration::minutes(5) {
            return Err(ApiError::validation("at", "must not be in the future"));
        }
        if !db::obligations::fulfil(conn, &o.id, at, reference.as_deref(), &user.id)? {
            return Err(ApiError::Conflict("this obligation is already fulfilled".into()));
        }
        i.overdue_obligations = db::obligations::count_overdue(conn, &i.id, now)? as i32;
        i.priority = priority_of(&i, &h, &st.settings, now);
        // Version-free: recording a submission must not fail because someone edited the facts meanwhile.
        db::incidents::set_overdue(conn, &i.id, i.overdue_obligations, &i.priority, now)?;
        timeline(
            conn,
            &user,
            &i.id,
            UpdateKind::Obligation,
            None,
            serde_json::json!({"obligation": o.kind, "fulfilled_at": at, "reference": reference}),
        )?;
        audit_incident(
            conn,
            &user,
            &i.id,
            "obligation.fulfil",
            serde_json::json!({"obligation": o.id, "kind": o.kind}),
        )?;
        db::obligations::get(conn, &i.id, &o.id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(web::Json(o))
}

/// Notifications sent (or being sent) for an incident, per authority.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/notifications", tag = "routing", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Notification>), (status = 401, body = Problem), (status = 403, description = "Responders do not see notifications", body = Problem), (status = 404, body = Problem)))]
pub async fn list_notifications(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> ApiResult<web::Json<Vec<Notification>>> {
    let id = id.into_inner();
    let list = with_conn(&state, move |conn| {
        let (i, _, scope) = load(conn, &user, &id)?;
        let list = super::need_to_know::notifications(db::notifications::for_incident(conn, &i.id)?, scope.sight())?;
        super::record_read(conn, &user, "incident.notifications_read", Some(&i.id), serde_json::json!({}))?;
        Ok(list)
    })
    .await?;
    Ok(web::Json(list))
}

/// Send a notification again now (duty officers).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/notifications/{nid}/resend", tag = "routing", security(("bearer" = [])),
    params(("id" = String, Path), ("nid" = String, Path)),
    responses((status = 202, body = Notification), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn resend_notification(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, nid) = path.into_inner();
    let st = state.clone();
    let n = in_tx(&state, move |conn| {
        let (i, _, _) = load(conn, &user, &id)?;
        require(&user, Action::ResendNotification)?;
        let n = db::notifications::get(conn, &nid)?
            .filter(|n| n.incident_id.as_deref() == Some(i.id.as_str()))
            .ok_or(ApiError::NotFound)?;
        db::notifications::resend(conn, &n.id, &outbox::mail_domain(&st.settings))?;
        timeline(
            conn,
            &user,
            &i.id,
            UpdateKind::Notification,
            None,
            serde_json::json!({"resend": n.id, "authority": n.authority, "previous_status": n.status}),
        )?;
        audit_incident(conn, &user, &i.id, "notification.resend", serde_json::json!({"notification": n.id}))?;
        db::notifications::get(conn, &n.id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Accepted().json(n))
}
