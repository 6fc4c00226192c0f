//! The HTTP API under `/api/v1`: one module per resource. A handler extracts, parses into domain
//! types, runs one transaction through `db`, and maps the result to a response.

pub mod advisories;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod contacts;
pub mod dispatch;
pub mod health;
pub mod incidents;
pub mod messages;
pub mod need_to_know;
pub mod openapi;
pub mod organizations;
pub mod profile;
pub mod reports;
pub mod routing;
pub mod session;
pub mod stats;
pub mod users;
pub mod webhooks;

use actix_web::web;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::AnyConnection;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Runs `f` with a pooled connection on the blocking thread pool, with the service's audit key as
/// the ambient key of what it records.
pub async fn with_conn<T, F>(state: &web::Data<AppState>, f: F) -> ApiResult<T>
where
    F: FnOnce(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = state.pool.clone();
    let key = state.audit_key.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        crate::db::audit::with_key(key, || f(&mut conn))
    })
    .await?
}

/// Runs `f` in one write transaction: the change, its audit entry and its outbox rows commit together.
pub async fn in_tx<T, F>(state: &web::Data<AppState>, f: F) -> ApiResult<T>
where
    F: FnOnce(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    with_conn(state, move |conn| conn.write_transaction(f)).await
}

/// Records that the signed-in user read incident data (`action`: what, `details`: with which filter).
pub fn record_read(
    conn: &mut AnyConnection,
    user: &crate::auth::AuthUser,
    action: &str,
    incident_id: Option<&str>,
    details: serde_json::Value,
) -> ApiResult<()> {
    crate::db::audit::record_read(
        conn,
        &crate::db::audit::ReadEvent {
            actor_id: Some(&user.id),
            actor_label: user.role.as_str(),
            action,
            incident_id,
            request_id: user.request_id.as_deref(),
            details,
        },
    )?;
    Ok(())
}

/// Records, in the caller's transaction, an audit entry for something the signed-in user did to
/// `target` (`(type, id)`), chained to its incident when it concerns one.
pub fn audit_by(
    conn: &mut AnyConnection,
    user: &crate::auth::AuthUser,
    action: &str,
    target: (&str, &str),
    incident_id: Option<&str>,
    details: serde_json::Value,
) -> ApiResult<()> {
    crate::db::audit::append(
        conn,
        &crate::db::audit::AuditEvent {
            actor_id: Some(&user.id),
            actor_label: user.role.as_str(),
            action,
            target_type: target.0,
            target_id: target.1,
            incident_id,
            request_id: user.request_id.as_deref(),
            details,
        },
    )?;
    Ok(())
}

/// A text field of a body read by hand: `line` for one line (`check_name`), otherwise free text
/// (`check_text`); trimmed, or empty with its error added to `errors` (so every field is reported).
pub fn checked(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    errors: &mut Vec<crate::domain::FieldError>,
    line: bool,
) -> String {
    let check = if line {
        crate::domain::parse::check_name(value, min, max)
    } else {
        crate::domain::parse::check_text(value, min, max)
    };
    match check {
        Ok(v) => v,
        Err(m) => {
            errors.push(crate::domain::FieldError::new(field, m));
            String::new()
        }
    }
}

/// A JSON body that may be left out: an empty body means the defaults; anything else must be a
/// body of `T`, or the request is refused (422 naming the field, 400 for what is not JSON) and
/// nothing happens. (actix's `Option<Json<T>>` would take a body it cannot read for no body.)
pub fn optional_body<T: DeserializeOwned + Default>(bytes: &web::Bytes) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| crate::error::deserialize_problem(&e))
}

/// `?limit=&cursor=` of every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Opaque cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

pub fn page_limit(limit: Option<i64>) -> ApiResult<i64> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=200).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::validation("limit", "must be from 1 to 200")),
    }
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

pub fn encode_cursor<T: Serialize>(c: &T) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap_or_default())
}

pub fn decode_cursor<T: DeserializeOwned>(s: &str) -> ApiResult<T> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| ApiError::validation("cursor", "is not a cursor this server issued"))
}

/// Builds a page from `limit + 1` fetched rows: the extra row only tells that there is more.
pub fn paginate<R, T: ToSchema, C: Serialize>(
    mut rows: Vec<R>,
    limit: i64,
    cursor_of: impl Fn(&R) -> C,
    map: impl FnMut(R) -> T,
) -> Page<T> {
    let next_cursor = cut_page(&mut rows, limit, cursor_of);
    Page { items: rows.into_iter().map(map).collect(), next_cursor }
}

/// Cuts `limit + 1` fetched rows to the page's `limit`; the cursor of the next page if the extra
/// row was there.
pub fn cut_page<R, C: Serialize>(rows: &mut Vec<R>, limit: i64, cursor_of: impl Fn(&R) -> C) -> Option<String> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if more {
        rows.last().map(|r| encode_cursor(&cursor_of(r)))
    } else {
        None
    }
}

/// Parses the `If-Match` header into a version: 428 without it, 412 when it does not parse.
pub fn if_match(req: &actix_web::HttpRequest) -> ApiResult<i32> {
    let v = req
        .headers()
        .get(actix_web::http::header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed)?;
    v.trim().trim_start_matches("W/").trim_matches('"').parse().map_err(|_| ApiError::PreconditionFailed)
}

/// A stored row that changes only under an optimistic lock.
pub trait Versioned: Clone {
    fn version(&self) -> i32;
    /// Moves the version on, changed at `at`.
    fn advance(&mut self, at: chrono::DateTime<chrono::Utc>);
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn version(&self) -> i32 {
                self.version
            }
            fn advance(&mut self, at: chrono::DateTime<chrono::Utc>) {
                self.version += 1;
                self.updated_at = at;
            }
        }
    )*};
}
versioned!(
    crate::db::contacts::Contact,
    crate::db::orgs::Organization,
    crate::db::users::User,
    crate::domain::incident::Incident,
    crate::db::webhooks::Webhook
);

/// The one `If-Match` update of a `PATCH`, inside its transaction: the row (404 when `current` is
/// None) must be at the version the client read (412); `change` makes the next value from it (and
/// may refuse with 422); the version moves on; `store` writes it unless another writer came first
/// (412). Returns the row as it was and as it is now.
pub fn update_if_match<T: Versioned>(
    conn: &mut AnyConnection,
    if_match: i32,
    current: Option<T>,
    change: impl FnOnce(&mut AnyConnection, T) -> ApiResult<T>,
    store: impl FnOnce(&mut AnyConnection, &T) -> crate::db::DbResult<bool>,
) -> ApiResult<(T, T)> {
    let before = current.ok_or(ApiError::NotFound)?;
    if before.version() != if_match {
        return Err(ApiError::PreconditionFailed);
    }
    let mut next = change(conn, before.clone())?;
    next.advance(crate::db::now());
    if !store(conn, &next)? {
        return Err(ApiError::PreconditionFailed);
    }
    Ok((before, next))
}

/// The `ETag` value for a version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The identifier of a stored resource as an input names it (ids are 36 characters; an id of no
/// resource is refused where it is used).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(min_length = 1, max_length = 64, example = "01938d6e-9a40-7c3e-8b1e-5f2a0d4c4f7e")]
pub struct IdRef(pub String);

/// The longest path segment under `/api/` (ids are 36 characters): longer ones name nothing (404).
pub const MAX_PATH_SEGMENT: usize = 64;
/// The longest value of a query parameter (cursors are about 80 characters): longer ones are 422.
pub const MAX_QUERY_VALUE: usize = 512;
/// The longest `If-Match` or CSRF header the contract admits (longer ones never match: 412, 403).
pub const MAX_HEADER_PARAMETER: usize = 128;

/// Middleware: bounds every input that is not a body (bodies have their size limit and each field
/// its own): a path segment under `/api/` longer than [`MAX_PATH_SEGMENT`] is 404, a query value
/// longer than [`MAX_QUERY_VALUE`] is 422 naming the parameter. `openapi.yaml` states both.
pub async fn input_bounds(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if req.path().starts_with("/api/") {
        if req.path().split('/').any(|s| s.len() > MAX_PATH_SEGMENT) {
            return Err(ApiError::NotFound.into());
        }
        for (name, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
            if value.chars().count() > MAX_QUERY_VALUE {
                let message = format!("must be at most {MAX_QUERY_VALUE} characters");
                return Err(ApiError::validation(&name, &message).into());
            }
        }
    }
    next.call(req).await
}

/// The per-client request allowance under `/api/v1` (`rate_limit_per_minute`).
pub struct ApiRateLimit(pub crate::auth::ratelimit::RateLimiter);

/// Middleware: counts each `/api/` request against its client's allowance; 429 with
/// `Retry-After` when it is spent. The client is the peer, or what a trusted proxy forwarded.
pub async fn rate_limit(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if req.path().starts_with("/api/") {
        if let (Some(limit), Some(state)) =
            (req.app_data::<web::Data<ApiRateLimit>>(), req.app_data::<web::Data<AppState>>())
        {
            if let Some(ip) = crate::auth::ratelimit::client_ip(req.request(), &state.trusted_proxies) {
                limit.0.check(ip).map_err(|s| ApiError::TooManyRequests { retry_after_seconds: s })?;
            }
        }
    }
    next.call(req).await
}

/// CORS for the origins in `cors_allowed_origins` (and the service's own `public_url`, whose
/// pages send `Origin` too): the API's methods and headers, `ETag`/`Location`/`Retry-After`
/// readable. Without configured origins the middleware is off and browsers allow none.
pub fn cors(settings: &crate::config::Settings) -> actix_cors::Cors {
    use actix_web::http::header;
    let own = settings.public_url.trim_end_matches('/').to_owned();
    settings
        .cors_allowed_origins
        .iter()
        .map(|o| o.trim_end_matches('/').to_owned())
        .chain(std::iter::once(own))
        .fold(actix_cors::Cors::default(), |c, o| c.allowed_origin(&o))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_MATCH, header::ACCEPT])
        .allowed_header("Idempotency-Key")
        .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER])
        .max_age(600)
}

/// Registers every `/api/v1` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            // JSON only: nothing here may be rendered or framed by a browser.
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add(("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")),
            )
            .configure(auth::routes)
            .configure(session::routes)
            .configure(organizations::routes)
            .configure(profile::routes)
            .configure(campaigns::routes)
            .configure(advisories::routes)
            .configure(users::routes)
            .configure(stats::routes)
            .configure(incidents::routes)
            .configure(reports::routes)
            .configure(routing::routes)
            .configure(contacts::routes)
            .configure(dispatch::routes)
            .configure(audit::routes)
            .configure(webhooks::routes)
            .configure(messages::routes),
    );
}
