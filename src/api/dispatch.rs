//! First-response support: hospitals' support requests, responder teams and their availability,
//! ranked team suggestions, and dispatches moving `assigned → accepted → en_route → on_site → released`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::incidents::{apply_transition, priority_of, scope_of};
use super::{decode_cursor, etag, if_match, in_tx, page_limit, paginate, with_conn, Page};
use crate::auth::policy::{allows, require, sees_dispatch, Action};
use crate::auth::{AuthUser, Scope};
use crate::db::dispatches::{Dispatch, DispatchFilter, SupportRequest, SupportStatus};
use crate::db::incidents::Incident;
use crate::db::notifications::{self, NewNotification};
use crate::db::orgs::Organization;
use crate::db::{self, AnyConnection};
use crate::domain::letters;
use crate::domain::lifecycle::check_dispatch_transition;
use crate::domain::parse::Reader;
use crate::domain::{
    Availability, Category, DispatchStatus, IncidentStatus, Locale, OrgKind, Prefecture, Role, Skill, SupportMode,
    UpdateKind,
};
use crate::error::{ApiError, ApiResult, Problem};
use crate::notify::{outbox, templates};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/incidents/{id}/support-requests", web::post().to(request_support))
        .route("/incidents/{id}/support-requests", web::get().to(list_support))
        .route("/support-requests/{id}/decision", web::post().to(decide_support))
        .route("/incidents/{id}/dispatches", web::post().to(dispatch))
        .route("/dispatches", web::get().to(list_dispatches))
        .route("/dispatches/{id}/status", web::post().to(dispatch_status))
        .route("/responder-teams", web::get().to(list_teams))
        .route("/responder-teams/suggestions", web::get().to(suggestions))
        .route("/responder-teams/{id}", web::patch().to(update_team))
        .route("/responders/{id}", web::patch().to(update_responder));
}

fn audit_event(
    conn: &mut AnyConnection,
    user: &AuthUser,
    incident_id: &str,
    action: &str,
    target: (&str, &str),
    details: Value,
) -> ApiResult<()> {
    super::audit_by(conn, user, action, target, Some(incident_id), details)
}

fn timeline(
    conn: &mut AnyConnection,
    user: &AuthUser,
    incident_id: &str,
    kind: UpdateKind,
    data: Value,
) -> ApiResult<()> {
    super::incidents::timeline(conn, user, incident_id, kind, None, data).map(|_| ())
}

fn load_incident(conn: &mut AnyConnection, user: &AuthUser, id: &str) -> ApiResult<(Incident, Organization)> {
    super::incidents::load(conn, user, id).map(|(i, h, _)| (i, h))
}

fn enqueue_mail(
    conn: &mut AnyConnection,
    state: &AppState,
    incident: &Incident,
    kind: &str,
    dedup: String,
    to: Vec<String>,
    m: templates::Rendered,
) -> ApiResult<()> {
    if to.is_empty() {
        return Ok(());
    }
    notifications::enqueue(
        conn,
        NewNotification {
            thread: Default::default(),
            incident_id: Some(incident.id.clone()),
            kind: kind.into(),
            authority: None,
            contact_id: None,
            dedup_key: dedup,
            recipients: to,
            locale: Locale::Ja,
            subject: m.subject,
            body_text: m.text,
            body_html: m.html,
        },
        &outbox::mail_domain(&state.settings),
    )?;
    Ok(())
}

fn incident_url(state: &AppState, i: &Incident) -> String {
    format!("{}/incidents/{}", state.settings.public_url(), i.id)
}

/// A hospital's request for experts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSupportRequest {
    /// Each skill once.
    #[schema(max_items = 6)]
    pub needs: Vec<Skill>,
    pub mode: SupportMode,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Ask for first-response support (reporters of the hospital, officers).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/support-requests", tag = "dispatch", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewSupportRequest,
    responses((status = 201, body = SupportRequest), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn request_support(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<NewSupportRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    if b.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::validation("note", "must be at most 2000 characters"));
    }
    if b.needs.len() > Skill::ALL.len() {
        return Err(ApiError::validation("needs", "lists a skill more than once"));
    }
    let id = id.into_inner();
    let s = in_tx(&state, move |conn| {
        let (i, _) = load_incident(conn, &user, &id)?;
        require(&user, Action::RequestSupport)?;
        let mut needs: Vec<Skill> = Vec::new();
        for n in &b.needs {
            if !needs.contains(n) {
                needs.push(*n);
            }
        }
        let s = SupportRequest {
            id: db::new_id(),
            incident_id: i.id.clone(),
            needs,
            mode: b.mode,
            note: b.note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            status: SupportStatus::Pending,
            requested_by: user.id.clone(),
            requested_at: db::now(),
            decided_by: None,
            decided_at: None,
            decision_reason: None,
        };
        db::dispatches::insert_support(conn, &s)?;
        timeline(
            conn,
            &user,
            &i.id,
            UpdateKind::Support,
            json!({"request": s.id, "needs": s.needs, "mode": s.mode, "status": "pending"}),
        )?;
        audit_event(
            conn,
            &user,
            &i.id,
            "support.request",
            ("support_request", &s.id),
            json!({"needs": s.needs, "mode": s.mode}),
        )?;
        Ok(s)
    })
    .await?;
    Ok(HttpResponse::Created().json(s))
}

/// Support requests of an incident.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/support-requests", tag = "dispatch", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<SupportRequest>), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list_support(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> ApiResult<web::Json<Vec<SupportRequest>>> {
    let id = id.into_inner();
    let list = with_conn(&state, move |conn| {
        let (i, _) = load_incident(conn, &user, &id)?;
        let sight = super::incidents::scope_of(conn, &user)?.sight();
        Ok(super::need_to_know::support_requests(db::dispatches::support_for_incident(conn, &i.id)?, sight))
    })
    .await?;
    Ok(web::Json(list))
}

/// An officer's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupportDecision {
    pub approve: bool,
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Approve or decline a support request (duty officers); the hospital is told by e-mail.
#[utoipa::path(post, path = "/api/v1/support-requests/{id}/decision", tag = "dispatch", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = SupportDecision,
    responses((status = 200, body = SupportRequest), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Already decided", body = Problem), (status = 422, body = Problem)))]
pub async fn decide_support(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<SupportDecision>,
) -> ApiResult<web::Json<SupportRequest>> {
    let b = body.into_inner();
    let reason = b.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(ApiError::validation("reason", "must be 1 to 1000 characters"));
    }
    let id = id.into_inner();
    let st = state.clone();
    let s = in_tx(&state, move |conn| {
        let mut s = db::dispatches::get_support(conn, &id)?.ok_or(ApiError::NotFound)?;
        let (i, _) = load_incident(conn, &user, &s.incident_id)?;
        require(&user, Action::DecideSupport)?;
        s.status = if b.approve { SupportStatus::Approved } else { SupportStatus::Declined };
        s.decided_by = Some(user.id.clone());
        s.decided_at = Some(db::now());
        s.decision_reason = Some(reason.clone());
        if !db::dispatches::decide_support(conn, &s)? {
            return Err(ApiError::Conflict("this request was already decided".into()));
        }
        timeline(
            conn,
            &user,
            &i.id,
            UpdateKind::Support,
            json!({"request": s.id, "status": s.status, "reason": reason}),
        )?;
        audit_event(
            conn,
            &user,
            &i.id,
            "support.decide",
            ("support_request", &s.id),
            json!({"approve": b.approve, "reason": reason}),
        )?;
        let to = outbox::hospital_recipients(conn, &i)?;
        let m = templates::render(&letters::support_decision(
            Locale::Ja,
            &i.reference,
            b.approve,
            &reason,
            &incident_url(&st, &i),
            i.facts.drill,
        ));
        enqueue_mail(conn, &st, &i, "support_decision", format!("support:{}", s.id), to, m)?;
        Ok(s)
    })
    .await?;
    state.outbox_wake.notify_one();
    Ok(web::Json(s))
}

/// A dispatch order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDispatch {
    #[schema(min_length = 1, max_length = 64)]
    pub team_id: String,
    /// Responders of that team who go (at least one).
    #[schema(max_items = 50, value_type = Vec<super::IdRef>)]
    pub responder_ids: Vec<String>,
    pub mode: SupportMode,
}

/// Dispatch a responder team (duty officers); its responders are e-mailed.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/dispatches", tag = "dispatch", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewDispatch,
    responses((status = 201, body = Dispatch), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn dispatch(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<NewDispatch>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let id = id.into_inner();
    let st = state.clone();
    let d = in_tx(&state, move |conn| {
        let (i, h) = load_incident(conn, &user, &id)?;
        require(&user, Action::Dispatch)?;
        if matches!(i.status, IncidentStatus::Closed | IncidentStatus::Withdrawn | IncidentStatus::Recovered) {
            return Err(ApiError::Conflict(format!("the incident is {}", i.status)));
        }
        let team = db::orgs::get(conn, &b.team_id)?
            .filter(|o| o.kind == OrgKind::ResponderTeam)
            .ok_or_else(|| ApiError::validation("team_id", "no such responder team"))?;
        let members = db::users::by_org_and_role(conn, Some(&team.id), Role::Responder)?;
        if b.responder_ids.len() > 50 {
            return Err(ApiError::validation("responder_ids", "must name at most 50 responders"));
        }
        let mut ids = b.responder_ids.clone();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Err(ApiError::validation("responder_ids", "must name at least one responder"));
        }
        if let Some(bad) = ids.iter().find(|r| !members.iter().any(|m| &&m.id == r)) {
            return Err(ApiError::validation("responder_ids", &format!("{bad} is not a responder of this team")));
        }
        let now = db::now();
        let d = Dispatch {
            id: db::new_id(),
            incident_id: i.id.clone(),
            team_id: team.id.clone(),
            responder_ids: ids.clone(),
            mode: b.mode,
            status: DispatchStatus::Assigned,
            assigned_at: now,
            accepted_at: None,
            en_route_at: None,
            on_site_at: None,
            released_at: None,
            ended_at: None,
            created_by: user.id.clone(),
            version: 1,
            updated_at: now,
        };
        db::dispatches::insert(conn, &d)?;
        let about = json!({"dispatch": {"id": d.id, "team_id": d.team_id, "status": d.status, "mode": d.mode}});
        let key = format!("{}:{}", d.id, d.status);
        crate::notify::webhooks::emit(conn, &st, crate::domain::WebhookEvent::DispatchUpdated, &i, &h, about, &key)?;
        timeline(
            conn,
            &user,
            &i.id,
            UpdateKind::Dispatch,
            json!({"dispatch": d.id, "team": team.name, "status": d.status, "mode": d.mode}),
        )?;
        audit_event(
            conn,
            &user,
            &i.id,
            "dispatch.create",
            ("dispatch", &d.id),
            json!({"team_id": team.id, "responders": ids, "mode": d.mode}),
        )?;
        let to: Vec<String> = members.iter().filter(|m| ids.contains(&m.id)).map(|m| m.email.clone()).collect();
        let m = templates::render(&letters::dispatch_assigned(
            Locale::Ja,
            &i.reference,
            &h.name,
            i.prefecture,
            d.mode,
            &incident_url(&st, &i),
            i.facts.drill,
        ));
        enqueue_mail(conn, &st, &i, "dispatch_assigned", format!("dispatch:{}", d.id), to, m)?;
        Ok(d)
    })
    .await?;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/dispatches/{}", d.id))).json(d))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DispatchQuery {
    /// Responders: only dispatches naming me.
    pub mine: Option<bool>,
    pub incident_id: Option<String>,
    /// Only assigned, accepted, en_route and on_site.
    pub active: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Dispatches: responders see their team's; officers and admins all; hospitals those to their incidents.
#[utoipa::path(get, path = "/api/v1/dispatches", tag = "dispatch", security(("bearer" = [])), params(DispatchQuery),
    responses((status = 200, body = Page<Dispatch>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "`incident_id` names no incident visible to you", body = Problem), (status = 422, body = Problem)))]
pub async fn list_dispatches(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<DispatchQuery>,
) -> ApiResult<web::Json<Page<Dispatch>>> {
    let q = q.into_inner();
    let limit = page_limit(q.limit)?;
    let after: Option<String> = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = with_conn(&state, move |conn| {
        let mut f = DispatchFilter {
            incident_id: q.incident_id.clone(),
            active_only: q.active.unwrap_or(false),
            ..Default::default()
        };
        match user.role {
            Role::Responder => f.team_id = Some(user.org_id.clone()),
            Role::DutyOfficer | Role::Admin => {}
            Role::Reporter | Role::Liaison => {
                // Only through an incident they can see.
                let Some(iid) = &q.incident_id else {
                    return Err(ApiError::validation("incident_id", "is required for your role"));
                };
                let scope = scope_of(conn, &user)?;
                db::incidents::get_visible(conn, iid, &scope)?.ok_or(ApiError::NotFound)?;
            }
        }
        f.responder_id = (q.mine == Some(true)).then(|| user.id.clone());
        Ok(db::dispatches::list(conn, &f, after.as_deref(), limit + 1)?)
    })
    .await?;
    Ok(web::Json(paginate(rows, limit, |d| d.id.clone(), |d| d)))
}

/// A dispatch step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchStatusRequest {
    pub status: DispatchStatus,
    /// When it happened (RFC 3339 with offset); default now.
    pub at: Option<DateTime<chrono::FixedOffset>>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Move a dispatch (its team's responders; officers may cancel). Accepting moves the incident to `responding`.
#[utoipa::path(post, path = "/api/v1/dispatches/{id}/status", tag = "dispatch", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = DispatchStatusRequest,
    responses((status = 200, body = Dispatch), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Not allowed from the current status; `allowed` lists the possible ones", body = Problem), (status = 422, body = Problem)))]
pub async fn dispatch_status(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<DispatchStatusRequest>,
) -> ApiResult<web::Json<Dispatch>> {
    let b = body.into_inner();
    let id = id.into_inner();
    let now = db::now();
    let explicit_at = b.at.is_some();
    let at = b.at.map(|t| chrono::SubsecRound::trunc_subsecs(t.with_timezone(&Utc), 6)).unwrap_or(now);
    if at > now + Duration::minutes(5) {
        return Err(ApiError::validation("at", "must not be in the future"));
    }
    let note = b.note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::validation("note", "must be at most 2000 characters"));
    }
    let st = state.clone();
    let d = in_tx(&state, move |conn| {
        let mut d = db::dispatches::get(conn, &id)?.ok_or(ApiError::NotFound)?;
        // Responders of another team cannot see this dispatch at all.
        if !sees_dispatch(&user, &d.team_id) {
            return Err(ApiError::NotFound);
        }
        require(
            &user,
            if b.status == DispatchStatus::Cancelled { Action::CancelDispatch } else { Action::MoveDispatch },
        )?;
        check_dispatch_transition(d.status, b.status).map_err(|e| ApiError::IllegalTransition {
            detail: e.to_string(),
            allowed: e.allowed.iter().map(|s| s.as_str().to_owned()).collect(),
        })?;
        let latest = [Some(d.assigned_at), d.accepted_at, d.en_route_at, d.on_site_at].into_iter().flatten().max();
        // Without an explicit time, "now" never precedes a step recorded a moment ahead of this clock.
        let at = if explicit_at { at } else { latest.map_or(at, |l| at.max(l)) };
        if latest.is_some_and(|l| at < l) {
            return Err(ApiError::validation("at", "must not be before the dispatch's previous step"));
        }
        let from = d.status;
        d.stamp(b.status, at);
        d.version += 1;
        d.updated_at = db::now();
        if !db::dispatches::update(conn, &d)? {
            return Err(ApiError::PreconditionFailed);
        }
        let mut i = db::incidents::get_visible(conn, &d.incident_id, &Scope::All)?.ok_or(ApiError::NotFound)?;
        let h = db::orgs::get(conn, &i.hospital_id)?.ok_or(ApiError::NotFound)?;
        let team = db::orgs::get(conn, &d.team_id)?.map(|t| t.name).unwrap_or_default();
        let about = json!({"dispatch": {"id": d.id, "team_id": d.team_id, "status": d.status, "from": from, "at": at}});
        let key = format!("{}:{}", d.id, d.status);
        crate::notify::webhooks::emit(conn, &st, crate::domain::WebhookEvent::DispatchUpdated, &i, &h, about, &key)?;
        timeline(
            conn,
            &user,
            &i.id,
            UpdateKind::Dispatch,
            json!({"dispatch": d.id, "team": team, "from": from, "to": d.status, "at": at, "note": note}),
        )?;
        audit_event(
            conn,
            &user,
            &i.id,
            "dispatch.status",
            ("dispatch", &d.id),
            json!({"from": from, "to": d.status, "at": at}),
        )?;
        // The incident follows its first accepted dispatch and its first arrival on site.
        let mut changed = false;
        if d.status == DispatchStatus::Accepted && i.dispatch_accepted_at.is_none() {
            i.dispatch_accepted_at = Some(at);
            changed = true;
        }
        if d.status == DispatchStatus::OnSite && i.on_site_at.is_none() {
            i.on_site_at = Some(at);
            changed = true;
        }
        if changed {
            i.version += 1;
            i.updated_at = db::now();
            i.priority = priority_of(&i, &h, &st.settings, db::now());
            if !db::incidents::update(conn, &i)? {
                return Err(ApiError::PreconditionFailed);
            }
        }
        if d.status == DispatchStatus::Accepted {
            if i.status == IncidentStatus::Reported {
                apply_transition(
                    conn,
                    &st.settings,
                    &user,
                    &mut i,
                    &h,
                    IncidentStatus::Triaged,
                    Some("dispatch accepted"),
                )?;
            }
            if i.status == IncidentStatus::Triaged {
                apply_transition(
                    conn,
                    &st.settings,
                    &user,
                    &mut i,
                    &h,
                    IncidentStatus::Responding,
                    Some("dispatch accepted"),
                )?;
            }
        }
        let to = outbox::hospital_recipients(conn, &i)?;
        let m = templates::render(&letters::dispatch_status_notice(
            Locale::Ja,
            &i.reference,
            &team,
            d.status,
            at,
            &incident_url(&st, &i),
            i.facts.drill,
        ));
        enqueue_mail(conn, &st, &i, "dispatch_status", format!("dispatch:{}:{}", d.id, d.status), to, m)?;
        Ok(d)
    })
    .await?;
    state.outbox_wake.notify_one();
    Ok(web::Json(d))
}

mod teams;
pub use teams::*;

#[cfg(test)]
mod tests;
