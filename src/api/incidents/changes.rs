//! Changing an incident: facts (re-routing what follows from them), status transitions, and
//! routing again after the hospital or the rules changed.

use super::*;

/// Changes to an incident: facts as a JSON merge patch (reporters, officers); `severity` with
/// `severity_reason` (officers).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
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
    /// Officers: the TLP 2.0 marking of the STIX and MISP exports.
    pub tlp: Option<crate::domain::Tlp>,
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
        let (current, h, scope) = load(conn, &user, &id)?;
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
        let (mut changed, mut severity, mut reason, mut deadline_reason) = (Vec::new(), None, None, None);
        let mut tlp = None;
        let mut old_routes = Vec::new();
        let (_, i) = update_if_match(
            conn,
            version?,
            Some(current),
            |conn, mut i| {
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
                severity = r.enumeration::<Severity>("severity", wants_severity);
                reason = r.string("severity_reason", wants_severity, 1, 500);
                deadline_reason = r.string("deadline_reason", false, 1, 500);
                tlp = r.enumeration::<crate::domain::Tlp>("tlp", false);
                r.finish();
                if let Some(f) = &new_facts {
                    errors.extend(officer_only_facts(&user, Some(&i.facts), f));
                }
                if !errors.is_empty() {
                    return Err(ApiError::Validation(errors));
                }
                let before = serde_json::to_value(&i.facts).unwrap_or(Value::Null);
                let old_severity = i.severity;
                old_routes = i.routing.iter().map(|r| r.authority).collect();
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
                if let Some(t) = tlp {
                    i.tlp = t;
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
                changed = after
                    .as_object()
                    .map(|a| {
                        a.iter().filter(|(k, v)| before.get(k.as_str()) != Some(v)).map(|(k, _)| k.clone()).collect()
                    })
                    .unwrap_or_default();
                if !changed.is_empty() {
                    timeline(
                        conn,
                        &user,
                        &i.id,
                        UpdateKind::FactsChanged,
                        None,
                        serde_json::json!({"fields": changed}),
                    )?;
                }
                Ok(i)
            },
            db::incidents::update,
        )?;
        let queued = outbox::apply_routing(conn, &st.settings, &i, &h, "initial")?;
        let key = format!("{}:{}", i.id, i.version);
        let fields = serde_json::json!({"fields": changed});
        crate::notify::webhooks::emit(conn, &st, crate::domain::WebhookEvent::IncidentUpdated, &i, &h, fields, &key)?;
        follow_deadlines(conn, Some((&user.id, &user.name)), &i, &st.settings, &changed, deadline_reason.as_deref())?;
        let new_routes: Vec<_> = i.routing.iter().map(|r| r.authority).filter(|a| !old_routes.contains(a)).collect();
        audit_incident(
            conn,
            &user,
            &i.id,
            "incident.update",
            serde_json::json!({"fields": changed, "severity": severity, "severity_reason": reason, "tlp": tlp,
                               "new_authorities": new_routes, "notifications_queued": queued}),
        )?;
        Ok((view(conn, &i, &h)?, scope))
    })
    .await?;
    state.outbox_wake.notify_one();
    state.campaign_wake.notify_one();
    Ok(respond(&v, &scope))
}

/// Facts only a duty officer may record: the reason the encryption exemption holds (PPC Q&A).
pub(super) fn officer_only_facts(
    user: &AuthUser,
    before: Option<&IncidentFacts>,
    after: &IncidentFacts,
) -> Vec<FieldError> {
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
        let key = format!("{}:{}", i.id, i.version);
        let status = serde_json::json!({"status": i.status});
        crate::notify::webhooks::emit(conn, &st, crate::domain::WebhookEvent::IncidentUpdated, &i, &h, status, &key)?;
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
