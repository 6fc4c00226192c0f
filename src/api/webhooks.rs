//! Webhook subscriptions (admins): where events are pushed, which events, whose need-to-know the
//! payloads pass, and the signing secret (shown once, rotated with an overlap).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{etag, if_match, in_tx, update_if_match, with_conn};
use crate::auth::policy::{require, Action};
use crate::auth::AuthUser;
use crate::db::webhooks::Webhook;
use crate::db::{self, AnyConnection};
use crate::domain::{FieldError, WebhookEvent};
use crate::error::{ApiError, ApiResult, Problem};
use crate::notify::webhooks::{check_url, new_secret, OWNER_ROLES, ROTATION_OVERLAP_HOURS};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhooks", web::get().to(list))
        .route("/webhooks", web::post().to(create))
        .route("/webhooks/{id}", web::patch().to(update))
        .route("/webhooks/{id}", web::delete().to(delete));
}

/// A subscription as listed (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    /// The user whose need-to-know the payloads pass (admins and officers: every incident; a
    /// hospital's reporter: that hospital's).
    pub owner_id: String,
    pub active: bool,
    /// Until when the secret before the last rotation still signs (beside the current one).
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Only in the answer that creates the subscription or rotates its secret: `whsec_` and base64
    /// (Standard Webhooks). It cannot be read again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookView {
    fn of(w: &Webhook, secret: Option<String>) -> Self {
        WebhookView {
            id: w.id.clone(),
            url: w.url.clone(),
            events: w.events.clone(),
            owner_id: w.owner_id.clone(),
            active: w.active,
            previous_secret_until: w.previous_until,
            version: w.version,
            created_at: w.created_at,
            updated_at: w.updated_at,
            secret,
        }
    }
}

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `https`, or `http` to a loopback address.
    #[schema(min_length = 1, max_length = 2000, example = "https://siem.hospital.example/hikeshi")]
    pub url: String,
    /// One or more (`campaign.detected` reaches only subscriptions that see every hospital).
    #[schema(min_items = 1, max_items = 6)]
    pub events: Vec<WebhookEvent>,
    /// Whose need-to-know the payloads pass (an admin, a duty officer, or a hospital's reporter for
    /// that hospital's events); default: the admin creating it.
    #[schema(min_length = 1, max_length = 64)]
    pub owner_id: Option<String>,
}

/// A change to a subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[schema(min_length = 1, max_length = 2000)]
    pub url: Option<String>,
    #[schema(min_items = 1, max_items = 6)]
    pub events: Option<Vec<WebhookEvent>>,
    /// Paused subscriptions receive nothing; deliveries already waiting fail.
    pub active: Option<bool>,
    /// A new secret, returned once; the old one keeps signing beside it for 24 hours.
    pub rotate_secret: Option<bool>,
}

fn check_events(events: &[WebhookEvent], errors: &mut Vec<FieldError>) {
    if events.is_empty() {
        errors.push(FieldError::new("events", "must name at least one event"));
    }
    if events.len() > WebhookEvent::ALL.len() {
        errors.push(FieldError::new("events", "names an event more than once"));
    }
}

fn checked_url(url: &str, errors: &mut Vec<FieldError>) -> String {
    match check_url(url.trim()) {
        Ok(u) if u.len() <= 2000 => u,
        Ok(_) => {
            errors.push(FieldError::new("url", "must be at most 2000 characters"));
            String::new()
        }
        Err(m) => {
            errors.push(FieldError::new("url", m));
            String::new()
        }
    }
}

fn check_owner(conn: &mut AnyConnection, owner_id: &str, errors: &mut Vec<FieldError>) -> ApiResult<()> {
    match db::users::get(conn, owner_id)? {
        Some(u) if u.active && OWNER_ROLES.contains(&u.role) => {}
        Some(_) => errors.push(FieldError::new(
            "owner_id",
            "must be an active admin, duty officer or hospital reporter (their need-to-know is the payloads')",
        )),
        None => errors.push(FieldError::new("owner_id", "no such user")),
    }
    Ok(())
}

fn audit(conn: &mut AnyConnection, user: &AuthUser, w: &Webhook, action: &str, rotated: bool) -> ApiResult<()> {
    let details = serde_json::json!({"url": w.url, "events": w.events, "owner_id": w.owner_id,
                                     "active": w.active, "secret_rotated": rotated});
    super::audit_by(conn, user, action, ("webhook", &w.id), None, details)
}

/// List the subscriptions (admin; secrets are never listed).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Vec<WebhookView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    require(&user, Action::ManageWebhooks)?;
    let all = with_conn(&state, |conn| Ok(db::webhooks::list(conn)?)).await?;
    Ok(HttpResponse::Ok().json(all.iter().map(|w| WebhookView::of(w, None)).collect::<Vec<_>>()))
}

/// Subscribe an endpoint to events (admin). The answer carries the signing secret, once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])), request_body = NewWebhook,
    responses((status = 201, body = WebhookView, headers(("Location" = String), ("ETag" = String))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<NewWebhook>,
) -> ApiResult<HttpResponse> {
    require(&user, Action::ManageWebhooks)?;
    let b = body.into_inner();
    let st = state.clone();
    let (w, secret) = in_tx(&state, move |conn| {
        let mut errors = Vec::new();
        let url = checked_url(&b.url, &mut errors);
        check_events(&b.events, &mut errors);
        let owner_id = b.owner_id.clone().unwrap_or_else(|| user.id.clone());
        check_owner(conn, &owner_id, &mut errors)?;
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let now = db::now();
        let mut events = b.events.clone();
        events.sort();
        events.dedup();
        let secret = new_secret();
        let w = Webhook {
            id: db::new_id(),
            url,
            events,
            owner_id,
            secret: secret.clone(),
            previous_secret: None,
            previous_until: None,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        db::webhooks::insert(conn, &w)?;
        audit(conn, &user, &w, "webhook.create", false)?;
        Ok((w, secret))
    })
    .await?;
    st.webhooks.invalidate();
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/webhooks/{}", w.id)))
        .insert_header(("ETag", etag(w.version)))
        .json(WebhookView::of(&w, Some(secret))))
}

/// Change a subscription, pause it, or rotate its secret (admin; `If-Match` required). A rotation
/// answers the new secret once; the previous one keeps signing beside it for 24 hours.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), ("If-Match" = String, Header, description = "ETag of the version changed")), request_body = WebhookPatch,
    responses((status = 200, body = WebhookView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<WebhookPatch>,
) -> ApiResult<HttpResponse> {
    require(&user, Action::ManageWebhooks)?;
    let version = if_match(&req)?;
    let id = id.into_inner();
    let b = body.into_inner();
    let rotate = b.rotate_secret == Some(true);
    let st = state.clone();
    let (w, secret) = in_tx(&state, move |conn| {
        let current = db::webhooks::get(conn, &id)?;
        let mut secret = None;
        let (_, next) = update_if_match(
            conn,
            version,
            current,
            |_, mut w| {
                let mut errors = Vec::new();
                if let Some(u) = &b.url {
                    w.url = checked_url(u, &mut errors);
                }
                if let Some(e) = &b.events {
                    check_events(e, &mut errors);
                    w.events = e.clone();
                    w.events.sort();
                    w.events.dedup();
                }
                if let Some(a) = b.active {
                    w.active = a;
                }
                if !errors.is_empty() {
                    return Err(ApiError::Validation(errors));
                }
                if rotate {
                    let fresh = new_secret();
                    w.previous_secret = Some(std::mem::replace(&mut w.secret, fresh.clone()));
                    w.previous_until = Some(db::now() + chrono::Duration::hours(ROTATION_OVERLAP_HOURS));
                    secret = Some(fresh);
                }
                Ok(w)
            },
            db::webhooks::update,
        )?;
        audit(conn, &user, &next, "webhook.update", rotate)?;
        Ok((next, secret))
    })
    .await?;
    st.webhooks.invalidate();
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(w.version))).json(WebhookView::of(&w, secret)))
}

/// Remove a subscription (admin). Deliveries still waiting for it end as `dead` without alerting.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> ApiResult<HttpResponse> {
    require(&user, Action::ManageWebhooks)?;
    let id = id.into_inner();
    let st = state.clone();
    in_tx(&state, move |conn| {
        let w = db::webhooks::get(conn, &id)?.ok_or(ApiError::NotFound)?;
        db::notifications::end_webhook_deliveries(conn, &w.id, "the subscription was removed")?;
        db::webhooks::delete(conn, &w.id)?;
        audit(conn, &user, &w, "webhook.delete", false)
    })
    .await?;
    st.webhooks.invalidate();
    Ok(HttpResponse::NoContent().finish())
}
