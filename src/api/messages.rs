//! Correspondence on an incident (e-mail in and out, phone calls) and the officers' inbox of mail
//! that matched no incident.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::incidents::load;
use super::{checked, in_tx, page_limit, with_conn};
use crate::auth::policy::{require, Action, Scope};
use crate::auth::AuthUser;
use crate::db::messages::Message;
use crate::db::{self};
use crate::domain::{Authority, FieldError, MessageDirection};
use crate::error::{ApiError, ApiResult, Problem};
use crate::notify::correspondence::{self, Call, Recipient};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/incidents/{id}/messages", web::get().to(list))
        .route("/incidents/{id}/messages", web::post().to(send))
        .route("/incidents/{id}/calls", web::post().to(log_call))
        .route("/incidents/{id}/messages/{mid}/attachments/{aid}", web::get().to(attachment))
        .route("/inbox", web::get().to(inbox))
        .route("/inbox/{id}/attachments/{aid}", web::get().to(inbox_attachment))
        .route("/inbox/{id}/assign", web::post().to(assign));
}

/// A message written in hikeshi. Officers write to the hospital or to an authority contact the
/// incident was reported to; the hospital writes to the ministry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// `hospital`, `ministry`, or the id of a contact this incident was reported to.
    #[schema(min_length = 1, max_length = 64, example = "hospital")]
    pub to: String,
    #[schema(min_length = 1, max_length = 200, pattern = "@line", example = "ログのご提出について")]
    pub subject: String,
    #[schema(min_length = 1, max_length = 20000, pattern = "@text")]
    pub body: String,
}

/// A phone call an officer logs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    /// `in`: they called; `out`: the officer called.
    pub direction: MessageDirection,
    /// Who was on the other end.
    #[schema(min_length = 1, max_length = 200, pattern = "@name", example = "情報システム室 佐藤")]
    pub with: String,
    /// When the call took place; not in the future.
    pub at: DateTime<Utc>,
    #[schema(min_length = 1, max_length = 10000, pattern = "@text")]
    pub summary: String,
    /// The authority, when the call was with one; otherwise it was with the hospital.
    pub authority: Option<Authority>,
}

/// The incident an inbox message belongs to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    #[schema(min_length = 1, max_length = 64)]
    pub incident_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// At most this many (default 50, at most 200).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Only messages older than this one (the last id of the previous page).
    #[param(max_length = 64)]
    pub before: Option<String>,
}

/// The correspondence of an incident, oldest first: e-mail read from the inbox, e-mail written
/// here, phone calls. Officers and the hospital see all of it; an authority's liaison its own
/// authority's; responder teams none (403).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/messages", tag = "correspondence", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Message>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let list = with_conn(&state, move |conn| {
        let (i, _, scope) = load(conn, &user, &id)?;
        let list = crate::api::need_to_know::messages(db::messages::for_incident(conn, &i.id)?, scope.sight())?;
        crate::api::record_read(conn, &user, "incident.messages_read", Some(&i.id), serde_json::json!({}))?;
        Ok(list)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Write to the hospital or an authority contact (duty officers), or to the ministry (the hospital).
/// The e-mail goes through the outbox as an answer in its thread, so the reply returns here.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/messages", tag = "correspondence", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewMessage,
    responses((status = 201, body = Message), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn send(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<NewMessage>,
) -> ApiResult<HttpResponse> {
    require(&user, Action::Correspond)?;
    let id = id.into_inner();
    let b = body.into_inner();
    let st = state.clone();
    let m = in_tx(&state, move |conn| {
        let (i, _, _) = load(conn, &user, &id)?;
        let mut errors = Vec::new();
        let to = Recipient::parse(&b.to);
        match &to {
            None => errors.push(FieldError::new("to", "must be \"hospital\", \"ministry\" or a contact id")),
            Some(to) if !correspondence::allowed(user.role, to) => errors.push(FieldError::new(
                "to",
                match user.role {
                    crate::domain::Role::Reporter => "a hospital writes to \"ministry\"",
                    _ => "duty officers write to \"hospital\" or to a contact this incident was reported to",
                },
            )),
            Some(_) => {}
        }
        let subject = checked("subject", &b.subject, 1, 200, &mut errors, true);
        let text = checked("body", &b.body, 1, 20_000, &mut errors, false);
        let (Some(to), true) = (to, errors.is_empty()) else {
            return Err(ApiError::Validation(errors));
        };
        correspondence::send(conn, &st.settings, &user, &i, &to, &subject, &text)
    })
    .await?;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Created().json(m))
}

/// Log a phone call on the incident (duty officers): many hospitals under ransomware can only phone.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/calls", tag = "correspondence", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewCall,
    responses((status = 201, body = Message), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn log_call(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<NewCall>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let b = body.into_inner();
    require(&user, Action::LogCall)?;
    let m = in_tx(&state, move |conn| {
        let (i, _, _) = load(conn, &user, &id)?;
        let mut errors = Vec::new();
        let with = checked("with", &b.with, 1, 200, &mut errors, true);
        let summary = checked("summary", &b.summary, 1, 10_000, &mut errors, false);
        if b.at > db::now() + Duration::minutes(5) {
            errors.push(FieldError::new("at", "must not be in the future"));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        correspondence::log_call(
            conn,
            &user,
            &i,
            Call { direction: b.direction, with, at: b.at, summary, authority: b.authority },
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(m))
}

/// Inbound mail that waits for an incident (duty officers), newest first: it matched no incident,
/// or its sender is not a party to the incident it names.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "correspondence", security(("bearer" = [])),
    params(InboxQuery),
    responses((status = 200, body = Vec<Message>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn inbox(state: web::Data<AppState>, user: AuthUser, q: web::Query<InboxQuery>) -> ApiResult<HttpResponse> {
    require(&user, Action::ReadInbox)?;
    let limit = page_limit(q.limit)?;
    let before = q.into_inner().before;
    let list = with_conn(&state, move |conn| {
        let list = db::messages::inbox(conn, before.as_deref(), limit)?;
        crate::api::record_read(conn, &user, "inbox.read", None, serde_json::json!({"count": list.len()}))?;
        Ok(list)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Put an inbox message on an incident (duty officers). The sender is named as it is known for
/// that incident; the message appears on the incident's timeline.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/assign", tag = "correspondence", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Assignment,
    responses((status = 200, body = Message), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The message is not in the inbox any more", body = Problem), (status = 422, body = Problem)))]
pub async fn assign(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<Assignment>,
) -> ApiResult<HttpResponse> {
    require(&user, Action::ReadInbox)?;
    let id = id.into_inner();
    let b = body.into_inner();
    let m = in_tx(&state, move |conn| {
        let m = db::messages::get(conn, &id)?.ok_or(ApiError::NotFound)?;
        let Some(i) = db::incidents::get_visible(conn, &b.incident_id, &Scope::All)? else {
            return Err(ApiError::Validation(vec![FieldError::new("incident_id", "no such incident")]));
        };
        if m.incident_id.is_some() {
            return Err(ApiError::Conflict("the message is on an incident already".into()));
        }
        let (_, party) = db::messages::classify_sender(conn, Some(&i), m.from_address.as_deref().unwrap_or(""))?;
        if !db::messages::assign(conn, &m.id, &i.id, &party)? {
            return Err(ApiError::Conflict("the message is on an incident already".into()));
        }
        let m = db::messages::get(conn, &m.id)?.ok_or(ApiError::NotFound)?;
        db::updates::add(
            conn,
            &i.id,
            crate::domain::UpdateKind::Message,
            None,
            m.timeline_data(),
            Some((&user.id, &user.name)),
        )?;
        super::audit_by(
            conn,
            &user,
            "message.assigned",
            ("message", &m.id),
            Some(&i.id),
            serde_json::json!({"from": m.from_address}),
        )?;
        Ok(m)
    })
    .await?;
    Ok(HttpResponse::Ok().json(m))
}

/// The stored content as a download: never rendered by the browser (`attachment`, no sniffing), the
/// name encoded per RFC 6266 by actix's `ContentDisposition`.
fn download(a: &crate::db::messages::Attachment, content: Vec<u8>) -> HttpResponse {
    use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
    let name = a.filename.clone().unwrap_or_else(|| format!("attachment-{}", &a.sha256[..12]));
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::FilenameExt(actix_web::http::header::ExtendedValue {
            charset: actix_web::http::header::Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: name.into_bytes(),
        })],
    };
    HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(disposition)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(content)
}

/// Download an attachment of an incident's message, as stored (never opened by hikeshi); for those
/// who may read the message. 404 when the attachment was too large to keep.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/messages/{mid}/attachments/{aid}", tag = "correspondence", security(("bearer" = [])),
    params(("id" = String, Path), ("mid" = String, Path), ("aid" = String, Path)),
    responses((status = 200, description = "The attachment's bytes", content_type = "application/octet-stream"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn attachment(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, mid, aid) = path.into_inner();
    let (a, content) = with_conn(&state, move |conn| {
        let (i, _, scope) = load(conn, &user, &id)?;
        // The message, if it is this incident's and the caller may read it (the list's own policy).
        let message = db::messages::get(conn, &mid)?.filter(|m| m.incident_id.as_deref() == Some(i.id.as_str()));
        let visible = crate::api::need_to_know::messages(message.into_iter().collect(), scope.sight())?;
        if visible.is_empty() {
            return Err(ApiError::NotFound);
        }
        let found = db::messages::attachment_content(conn, &mid, &aid)?.ok_or(ApiError::NotFound)?;
        crate::api::record_read(
            conn,
            &user,
            "message.attachment_read",
            Some(&i.id),
            serde_json::json!({"message": mid, "attachment": aid, "sha256": found.0.sha256}),
        )?;
        Ok(found)
    })
    .await?;
    Ok(download(&a, content))
}

/// Download an attachment of a message in the inbox (duty officers).
#[utoipa::path(get, path = "/api/v1/inbox/{id}/attachments/{aid}", tag = "correspondence", security(("bearer" = [])),
    params(("id" = String, Path), ("aid" = String, Path)),
    responses((status = 200, description = "The attachment's bytes", content_type = "application/octet-stream"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn inbox_attachment(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    require(&user, Action::ReadInbox)?;
    let (mid, aid) = path.into_inner();
    let (a, content) = with_conn(&state, move |conn| {
        let m = db::messages::get(conn, &mid)?.filter(|m| m.incident_id.is_none()).ok_or(ApiError::NotFound)?;
        let found = db::messages::attachment_content(conn, &m.id, &aid)?.ok_or(ApiError::NotFound)?;
        crate::api::record_read(
            conn,
            &user,
            "message.attachment_read",
            None,
            serde_json::json!({"message": m.id, "attachment": aid, "sha256": found.0.sha256}),
        )?;
        Ok(found)
    })
    .await?;
    Ok(download(&a, content))
}
