//! What accumulates on an incident: the timeline, recovery milestones, reporting obligations and
//! the notifications sent about it.

use super::*;

/// A timeline entry to add: a note, or a status report under the four headings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
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
    params(("id" = String, Path), crate::api::PageQuery),
    responses((status = 200, body = Page<TimelineEntry>), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn list_updates(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    q: web::Query<crate::api::PageQuery>,
) -> ApiResult<web::Json<Page<TimelineEntry>>> {
    let id = id.into_inner();
    let limit = page_limit(q.limit)?;
    let after: Option<String> = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = with_conn(&state, move |conn| {
        let (i, _, scope) = load(conn, &user, &id)?;
        let mut rows = db::updates::list(conn, &i.id, after.as_deref(), limit + 1)?;
        crate::api::record_read(
            conn,
            &user,
            "incident.timeline_read",
            Some(&i.id),
            serde_json::json!({"after": after}),
        )?;
        crate::api::need_to_know::timeline(conn, &mut rows, scope.sight())?;
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
        crate::api::need_to_know::require_work(conn, &user, &i.id)?;
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
        crate::api::need_to_know::require_work(conn, &user, &i.id)?;
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
        let list =
            crate::api::need_to_know::notifications(db::notifications::for_incident(conn, &i.id)?, scope.sight())?;
        crate::api::record_read(conn, &user, "incident.notifications_read", Some(&i.id), serde_json::json!({}))?;
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
