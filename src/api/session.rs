//! Browser sessions for the web interface: the same sign-in and refresh as `/auth/login` and
//! `/auth/refresh`, but the refresh token travels only in an `HttpOnly; SameSite=Strict` cookie
//! scoped to `/api/v1/auth/session`, so page scripts never hold a long-lived credential. The
//! access token is returned in the body and kept in memory by the page.
//!
//! Cross-site request forgery: a cookie is sent automatically, so these endpoints require the
//! custom header `X-Hikeshi-CSRF: 1` (a cross-origin page cannot send it without a CORS preflight,
//! which hikeshi never grants), and refuse requests whose `Origin` is not this service or whose
//! `Sec-Fetch-Site` says another site sent them.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, ToSchema};

use super::auth::{self, LoginRequest, OtpRequest, RefreshRequest, TokenResponse};
use super::in_tx;
use crate::auth::jwt::token_hash;
use crate::auth::EnrollingUser;
use crate::config::Settings;
use crate::db;
use crate::db::audit::{self, AuditEvent};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// The refresh cookie's name.
pub const COOKIE: &str = "hikeshi_refresh";
/// The only path the browser sends the cookie to.
pub const COOKIE_PATH: &str = "/api/v1/auth/session";
/// The header every cookie-authenticated request must carry.
pub const CSRF_HEADER: &str = "X-Hikeshi-CSRF";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/session", web::post().to(create))
        .route("/auth/session", web::delete().to(delete))
        .route("/auth/session/refresh", web::post().to(refresh))
        .route("/auth/session/totp", web::post().to(totp));
}

/// Documents the cookie in the OpenAPI components.
pub struct RefreshCookie;

impl Modify for RefreshCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "refresh_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                COOKIE,
                "HttpOnly refresh token set by POST /api/v1/auth/session; send X-Hikeshi-CSRF: 1 with it",
            ))),
        );
    }
}

/// A browser session's access token (the refresh token is in the cookie, never in the body).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionResponse {
    /// JWT for `Authorization: Bearer`, valid `expires_in` seconds; keep it in memory only.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: i64,
    /// True when the role requires two-factor authentication and it is not enrolled yet.
    pub totp_enrolment_required: bool,
}

/// Whether the cookie may go without `Secure`: only for a service on the loopback over plain HTTP.
pub fn cookie_secure(settings: &Settings) -> bool {
    let url = settings.public_url().to_ascii_lowercase();
    let Some(rest) = url.strip_prefix("http://") else { return true };
    let host = rest.split('/').next().unwrap_or("");
    let host = if host.starts_with('[') {
        host.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or("").to_owned()
    };
    !(host == "127.0.0.1" || host == "localhost" || host == "[::1]")
}

fn origin_of(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or("")),
        None => lower,
    }
}

/// Refuses a cookie request that a page of another site could have sent.
pub fn check_csrf(req: &HttpRequest, settings: &Settings) -> ApiResult<()> {
    let header = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if header != "1" {
        return Err(ApiError::Forbidden(format!("browser session requests must send {CSRF_HEADER}: 1")));
    }
    if let Some(site) = req.headers().get("Sec-Fetch-Site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return Err(ApiError::Forbidden(format!("cross-site request refused (Sec-Fetch-Site: {site})")));
        }
    }
    if let Some(origin) = req.headers().get("Origin").and_then(|v| v.to_str().ok()) {
        let origin = origin.trim().to_ascii_lowercase();
        let info = req.connection_info();
        let own = format!("{}://{}", info.scheme(), info.host()).to_ascii_lowercase();
        if origin != origin_of(settings.public_url()) && origin != own {
            return Err(ApiError::Forbidden("request from another origin refused".into()));
        }
    }
    Ok(())
}

fn set_cookie(settings: &Settings, token: &str) -> Cookie<'static> {
    Cookie::build(COOKIE, token.to_owned())
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(cookie_secure(settings))
        .same_site(SameSite::Strict)
        .max_age(time::Duration::days(settings.auth.refresh_token_days))
        .finish()
}

fn clear_cookie(settings: &Settings) -> Cookie<'static> {
    Cookie::build(COOKIE, "")
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(cookie_secure(settings))
        .same_site(SameSite::Strict)
        .max_age(time::Duration::ZERO)
        .finish()
}

fn respond(settings: &Settings, t: TokenResponse) -> HttpResponse {
    HttpResponse::Ok().cookie(set_cookie(settings, &t.refresh_token)).json(SessionResponse {
        access_token: t.access_token,
        token_type: t.token_type,
        expires_in: t.expires_in,
        totp_enrolment_required: t.totp_enrolment_required,
    })
}

/// An error response that also clears the cookie (the session it names is no good).
fn refuse(settings: &Settings, e: ApiError) -> HttpResponse {
    let mut res = actix_web::ResponseError::error_response(&e);
    let _ = res.add_cookie(&clear_cookie(settings));
    res
}

/// Browser sign-in: like `/auth/login`, but the refresh token is set as an HttpOnly cookie.
#[utoipa::path(post, path = "/api/v1/auth/session", operation_id = "session_create", tag = "auth", request_body = LoginRequest, security(()),
    params(("X-Hikeshi-CSRF" = String, Header, description = "Must be `1`")),
    responses((status = 200, description = "Signed in; `Set-Cookie: hikeshi_refresh=...; HttpOnly; SameSite=Strict`", body = SessionResponse),
        (status = 401, description = "Wrong credentials, locked account, or `otp` missing (type otp-required)", body = Problem),
        (status = 403, description = "Missing X-Hikeshi-CSRF header or a cross-site request", body = Problem),
        (status = 422, body = Problem), (status = 429, description = "Too many attempts from this client", body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    check_csrf(&req, &state.settings)?;
    let settings = state.settings.clone();
    let tokens = auth::login(state, req, body).await?.into_inner();
    Ok(respond(&settings, tokens))
}

/// Browser two-factor enrolment: confirms like `/auth/totp/confirm`. Enrolment ends every session
/// opened with the password alone, this one too, so the cookie moves to the new session.
#[utoipa::path(post, path = "/api/v1/auth/session/totp", operation_id = "session_totp", tag = "auth", request_body = OtpRequest,
    security(("bearer" = [])),
    params(("X-Hikeshi-CSRF" = String, Header, description = "Must be `1`")),
    responses((status = 200, description = "Enrolled; the cookie is set to the new session", body = SessionResponse),
        (status = 401, body = Problem),
        (status = 403, description = "Missing X-Hikeshi-CSRF header or a cross-site request", body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: EnrollingUser,
    body: web::Json<OtpRequest>,
) -> ApiResult<HttpResponse> {
    check_csrf(&req, &state.settings)?;
    let settings = state.settings.clone();
    let tokens = auth::totp_confirm(state, user, body).await?.into_inner();
    Ok(respond(&settings, tokens))
}

/// Browser refresh: exchanges the refresh cookie for a new access token and rotates the cookie.
#[utoipa::path(post, path = "/api/v1/auth/session/refresh", operation_id = "session_refresh", tag = "auth", security(("refresh_cookie" = [])),
    params(("X-Hikeshi-CSRF" = String, Header, description = "Must be `1`")),
    responses((status = 200, description = "A new access token; the cookie is rotated", body = SessionResponse),
        (status = 401, description = "No cookie, or its session ended; the cookie is cleared", body = Problem),
        (status = 403, description = "Missing X-Hikeshi-CSRF header or a cross-site request", body = Problem)))]
pub async fn refresh(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    check_csrf(&req, &state.settings)?;
    let settings = state.settings.clone();
    let Some(token) = req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(refuse(&settings, ApiError::Unauthorized("no browser session".into())));
    };
    match auth::refresh(state, web::Json(RefreshRequest { refresh_token: token })).await {
        Ok(t) => Ok(respond(&settings, t.into_inner())),
        Err(e @ ApiError::Unauthorized(_)) => Ok(refuse(&settings, e)),
        Err(e) => Err(e),
    }
}

/// Browser sign-out: revokes the cookie's session and clears the cookie (204 without a session too).
#[utoipa::path(delete, path = "/api/v1/auth/session", operation_id = "session_delete", tag = "auth", security((), ("refresh_cookie" = [])),
    params(("X-Hikeshi-CSRF" = String, Header, description = "Must be `1`")),
    responses((status = 204, description = "Signed out; the cookie is cleared"),
        (status = 403, description = "Missing X-Hikeshi-CSRF header or a cross-site request", body = Problem)))]
pub async fn delete(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    check_csrf(&req, &state.settings)?;
    if let Some(token) = req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|v| !v.is_empty()) {
        let hash = token_hash(&token);
        in_tx(&state, move |conn| {
            let Some(row) = db::users::refresh_by_hash(conn, &hash)? else { return Ok(()) };
            db::users::revoke_family(conn, &row.family_id, "logout")?;
            if let Some(user) = db::users::get(conn, &row.user_id)? {
                audit::append(
                    conn,
                    &AuditEvent {
                        actor_id: Some(&user.id),
                        actor_label: &user.email,
                        action: "auth.logout",
                        target_type: "user",
                        target_id: &user.id,
                        incident_id: None,
                        request_id: None,
                        details: serde_json::json!({"via": "browser_session"}),
                    },
                )?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(HttpResponse::NoContent().cookie(clear_cookie(&state.settings)).finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> Settings {
        Settings { public_url: url.into(), ..Settings::default() }
    }

    #[test]
    fn the_cookie_is_secure_except_on_a_plain_http_loopback() {
        for (url, secure) in [
            ("http://127.0.0.1:8080", false),
            ("http://localhost:8080/", false),
            ("http://[::1]:8080", false),
            ("https://127.0.0.1:8443", true),
            ("https://hikeshi.mhlw.example", true),
            ("http://hikeshi.example", true),
            ("http://127.0.0.1.nip.io", true),
            ("http://localhost.evil.example", true),
        ] {
            assert_eq!(cookie_secure(&with_url(url)), secure, "{url}");
        }
    }

    #[test]
    fn origin_is_scheme_and_authority() {
        assert_eq!(origin_of("https://Hikeshi.example/base/"), "https://hikeshi.example");
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }
}
