//! Filing an incident: the request body, idempotency, and the one filing path (also the seeder's).

use super::*;

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

/// The longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 200;

fn idempotency_key(req: &HttpRequest) -> ApiResult<Option<String>> {
    match req.headers().get("Idempotency-Key") {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(s) if !s.trim().is_empty() && s.len() <= MAX_IDEMPOTENCY_KEY => Ok(Some(s.trim().to_owned())),
            _ => Err(ApiError::validation("Idempotency-Key", "must be 1 to 200 visible ASCII characters")),
        },
    }
}

/// Personal data as filed (defaults apply to omitted fields).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
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
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
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
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
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
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
pub struct PublicAnnouncementInput {
    /// Not in the future.
    pub at: DateTime<Utc>,
    #[schema(min_length = 1, max_length = 500, pattern = "@line", example = "病院ウェブサイトに掲載")]
    pub method: String,
}

/// A CVE identifier.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(max_length = 30, pattern = "^CVE-[0-9]{4}-[0-9]{4,19}$", example = "CVE-2024-3400")]
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
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
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
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
pub struct IocInput {
    /// A STIX 2.1 cyber-observable type (`ipv4-addr`, `file:sha256`, ...), or a common alias (`ip`,
    /// `ipv4`, `ip-dst`, `domain`, `hostname`, `sha256`, `md5`, `email`, `filename`, `regkey`, `AS`,
    /// ...): stored under the STIX name.
    #[serde(rename = "type")]
    #[schema(min_length = 1, max_length = 100, pattern = "@line", example = "ipv4-addr")]
    pub ioc_type: String,
    /// Checked against the type and stored in one spelling (lower-case hashes and domains,
    /// compressed IPv6); defanged values (`hxxp://evil[.]example`) are refanged.
    #[schema(min_length = 1, max_length = 2000, pattern = "@line", example = "203.0.113.7")]
    pub value: String,
    #[schema(max_length = 500, pattern = "@text")]
    pub note: Option<String>,
}

/// Who to call back: a phone, because the hospital's e-mail may be down.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
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
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
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
    /// The remote-access product the attacker came through, when known: incidents at other
    /// hospitals naming the same vendor and product are linked into a campaign.
    pub entry_point: Option<crate::domain::national::RemoteAccess>,
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
    /// A repeated type and value is stored once.
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
    #[schema(min_length = 1, max_length = 64)]
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
        let event = crate::domain::WebhookEvent::IncidentFiled;
        crate::notify::webhooks::emit(conn, &st, event, &incident, &hospital, serde_json::json!({}), &incident.id)?;
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
    state.campaign_wake.notify_one();
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
