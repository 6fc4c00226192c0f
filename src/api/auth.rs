//! Sign-in, token refresh with reuse detection, logout, two-factor enrolment, and `/me`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{in_tx, with_conn};
use crate::auth::jwt::{random_hex, token_hash, Claims, AUDIENCE, ISSUER};
use crate::auth::ratelimit::client_ip;
use crate::auth::throttle::{client_key, Policy};
use crate::auth::{passwords, totp, AuthUser, EnrollingUser};
use crate::db::audit::{self, AuditEvent};
use crate::db::users::User;
use crate::db::{self, AnyConnection};
use crate::domain::{OrgKind, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::notify::outbox;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/login", web::post().to(login))
        .route("/auth/refresh", web::post().to(refresh))
        .route("/auth/logout", web::post().to(logout))
        .route("/auth/totp/setup", web::post().to(totp_setup))
        .route("/auth/totp/confirm", web::post().to(totp_confirm))
        .route("/auth/totp", web::delete().to(totp_disable))
        .route("/me", web::get().to(me));
}

/// Sign-in request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(max_length = 254, example = "reporter@tokyo-general.example")]
    pub email: String,
    #[schema(max_length = 1024)]
    pub password: String,
    /// Six-digit code from the authenticator app, when two-factor authentication is enrolled.
    #[schema(max_length = 16)]
    pub otp: Option<String>,
}

/// Tokens issued at sign-in and refresh.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer`, valid `expires_in` seconds.
    pub access_token: String,
    /// Opaque, single-use; exchange at `/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: i64,
    /// True when the role requires two-factor authentication and it is not enrolled yet: the token
    /// then only opens `/auth/totp/*`, `/me` and logout.
    pub totp_enrolment_required: bool,
}

/// Refresh request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(max_length = 512)]
    pub refresh_token: String,
}

fn generic_failure() -> ApiError {
    ApiError::Unauthorized(
        "e-mail or password is wrong, or the account is temporarily locked after repeated failures / \
         メールアドレスまたはパスワードが違うか、アカウントが一時的にロックされています"
            .into(),
    )
}

/// Roles that must use two-factor authentication: the admin's policy in the database, else configuration.
pub fn totp_required_roles(conn: &mut AnyConnection, state: &AppState) -> ApiResult<Vec<Role>> {
    match db::settings::get(conn, "totp_required_roles")? {
        Some(json) => Ok(db::from_json(&json)?),
        None => Ok(state.settings.auth.totp_required_roles.clone()),
    }
}

fn issue(
    conn: &mut AnyConnection,
    state: &AppState,
    user: &User,
    family_id: &str,
    enrol: bool,
) -> ApiResult<TokenResponse> {
    let now = db::now();
    let ttl = state.settings.auth.access_token_seconds;
    let claims = Claims {
        sub: user.id.clone(),
        org: user.org_id.clone(),
        role: user.role,
        iat: now.timestamp(),
        exp: now.timestamp() + ttl,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        jti: db::new_id(),
        fam: family_id.into(),
        enrol,
    };
    let refresh = random_hex(32);
    db::users::insert_refresh(
        conn,
        &user.id,
        family_id,
        &token_hash(&refresh),
        Duration::days(state.settings.auth.refresh_token_days),
    )?;
    Ok(TokenResponse {
        access_token: state.keys.sign(&claims)?,
        refresh_token: refresh,
        token_type: "Bearer".into(),
        expires_in: ttl,
        totp_enrolment_required: enrol,
    })
}

fn audit_user(conn: &mut AnyConnection, user: &User, action: &str, details: serde_json::Value) -> ApiResult<()> {
    audit::append(
        conn,
        &AuditEvent {
            actor_id: Some(&user.id),
            actor_label: &user.email,
            action,
            target_type: "user",
            target_id: &user.id,
            incident_id: None,
            request_id: None,
            details,
        },
    )?;
    Ok(())
}

/// Counts a failed credential check of `client` against the account `email` (`user` when it
/// exists): a client that keeps failing waits longer and longer (`auth::throttle`), and the owner is
/// told by e-mail when one starts to wait. Returns whether mail was enqueued.
fn count_failure(
    conn: &mut AnyConnection,
    st: &AppState,
    user: Option<&User>,
    email: &str,
    client: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<bool> {
    let policy = Policy::from_settings(&st.settings.auth);
    let (failures, wait) = db::sign_in::record_failure(conn, email, client, now, &policy)?;
    let (Some(user), Some(wait)) = (user, wait) else { return Ok(false) };
    let details = serde_json::json!({"client": client, "failures": failures, "wait_seconds": wait.num_seconds()});
    audit_user(conn, user, "auth.throttled", details)?;
    Ok(failures == policy.after && outbox::sign_in_throttled(conn, &st.settings, user, client, failures, wait, now)?)
}

/// 429 while `client` must wait before its next attempt at `email` is even checked (read on the
/// caller's connection, beside whatever else it reads first).
fn refuse_while_waiting(conn: &mut AnyConnection, st: &AppState, email: &str, client: &str) -> ApiResult<()> {
    let now = db::now();
    let wait =
        Policy::from_settings(&st.settings.auth).must_wait(&db::sign_in::standing(conn, email, client, now)?, now);
    match wait {
        Some(w) => Err(ApiError::TooManyRequests { retry_after_seconds: w.num_seconds().max(1) as u64 }),
        None => Ok(()),
    }
}

/// The client a sign-in attempt is counted against.
fn client_of(state: &AppState, req: &HttpRequest) -> (Option<std::net::IpAddr>, String) {
    let ip = client_ip(req, &state.trusted_proxies);
    (ip, ip.map_or_else(|| "unknown".to_owned(), client_key))
}

/// Sign in with e-mail, password and (when enrolled) a one-time password.
///
/// Failed attempts never lock the account: after `auth.throttle_after` failures from one client,
/// that client waits (429 with `Retry-After`, doubling with each further failure) and the owner is
/// told by e-mail; the owner's other clients are not affected.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse),
        (status = 401, description = "Wrong credentials, a disabled account, or `otp` missing (type otp-required)", body = Problem),
        (status = 422, body = Problem),
        (status = 429, description = "This client must wait before its next attempt (see `Retry-After`)", body = Problem)))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let (ip, client) = client_of(&state, &req);
    if let Some(ip) = ip {
        state.login_limiter.check(ip).map_err(|s| ApiError::TooManyRequests { retry_after_seconds: s })?;
    }
    let body = body.into_inner();
    if body.password.len() > 1024 || body.email.len() > 254 {
        return Err(generic_failure());
    }
    let (email, c, st) = (body.email.clone(), client.clone(), state.clone());
    let user = with_conn(&state, move |conn| {
        refuse_while_waiting(conn, &st, &email, &c)?;
        Ok(db::users::by_email(conn, &email)?)
    })
    .await?;
    let dummy = state.dummy_hash.clone();
    let password = body.password.clone();
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    // Verify even for an unknown e-mail, against a dummy hash, so both failures take the same time.
    let known = stored.is_some();
    let password_ok = passwords::verify_off_thread(password, stored.unwrap_or(dummy)).await? && known;
    let st = state.clone();
    let (outcome, mailed) = in_tx(&state, move |conn| {
        let now = db::now();
        // An address without an account is counted like one, so waits do not reveal which exist.
        let Some(user) = user.map(|u| db::users::get(conn, &u.id)).transpose()?.flatten() else {
            count_failure(conn, &st, None, &body.email, &client, now)?;
            return Ok((Err(generic_failure()), false));
        };
        if !user.active {
            audit_user(conn, &user, "auth.login_refused", serde_json::json!({"reason": "inactive"}))?;
            return Ok((Err(generic_failure()), false));
        }
        if !password_ok {
            let mailed = count_failure(conn, &st, Some(&user), &body.email, &client, now)?;
            audit_user(conn, &user, "auth.login_failed", serde_json::json!({"client": client}))?;
            return Ok((Err(generic_failure()), mailed));
        }
        let mut user = user;
        let mut enrol = false;
        if let Some(secret) = user.totp_secret.clone() {
            let Some(code) = body.otp.as_deref() else { return Ok((Err(ApiError::OtpRequired), false)) };
            match totp::check(&secret, code) {
                Some(step) if user.totp_last_step.is_none_or(|last| step as i64 > last) => {
                    user.totp_last_step = Some(step as i64);
                }
                _ => {
                    // Wrong codes count like wrong passwords: a stolen password alone cannot guess forever.
                    let mailed = count_failure(conn, &st, Some(&user), &body.email, &client, now)?;
                    audit_user(conn, &user, "auth.otp_failed", serde_json::json!({"client": client}))?;
                    return Ok((
                        Err(ApiError::Unauthorized("the one-time password is wrong or was already used".into())),
                        mailed,
                    ));
                }
            }
        } else if totp_required_roles(conn, &st)?.contains(&user.role) {
            enrol = true;
        }
        db::sign_in::record_success(conn, &body.email, &client, now)?;
        db::users::save(conn, &user)?;
        audit_user(conn, &user, "auth.login", serde_json::json!({"totp": user.totp_secret.is_some()}))?;
        let family = db::new_id();
        db::users::start_session(conn, &family, &user.id)?;
        Ok((Ok(issue(conn, &st, &user, &family, enrol)?), false))
    })
    .await?;
    if mailed {
        state.outbox_wake.notify_one();
    }
    outcome.map(web::Json)
}

/// Exchange a refresh token for a new pair; reusing an old one revokes its whole family.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let hash = token_hash(body.refresh_token.trim());
    let st = state.clone();
    let outcome = in_tx(&state, move |conn| {
        let Some(row) = db::users::refresh_by_hash(conn, &hash)? else {
            return Ok(Err(ApiError::Unauthorized("unknown refresh token".into())));
        };
        let Some(user) = db::users::get(conn, &row.user_id)? else { return Ok(Err(generic_failure())) };
        if row.revoked_at.is_some() || !db::users::session_live(conn, &row.family_id, &row.user_id)? {
            return Ok(Err(ApiError::Unauthorized("this session was signed out".into())));
        }
        if row.used_at.is_some() || !db::users::mark_refresh_used(conn, &row.id)? {
            // A used token presented again means it was stolen or replayed: end the whole session.
            db::users::revoke_family(conn, &row.family_id, "refresh_reuse")?;
            audit_user(conn, &user, "auth.refresh_reuse", serde_json::json!({"family": row.family_id}))?;
            return Ok(Err(ApiError::Unauthorized("refresh token reuse detected: the session was revoked".into())));
        }
        if db::utc(row.expires_at) < db::now() || !user.active {
            return Ok(Err(ApiError::Unauthorized("refresh token expired".into())));
        }
        let enrol = user.totp_secret.is_none() && totp_required_roles(conn, &st)?.contains(&user.role);
        Ok(Ok(issue(conn, &st, &user, &row.family_id, enrol)?))
    })
    .await?;
    outcome.map(web::Json)
}

/// Sign out: revokes the session's refresh-token family.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = Problem)))]
pub async fn logout(state: web::Data<AppState>, user: EnrollingUser) -> ApiResult<HttpResponse> {
    let u = user.0;
    in_tx(&state, move |conn| {
        db::users::revoke_family(conn, &u.family_id, "logout")?;
        if let Some(user) = db::users::get(conn, &u.id)? {
            audit_user(conn, &user, "auth.logout", serde_json::json!({}))?;
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new two-factor secret to scan.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TotpSetup {
    /// Base32 secret (for manual entry).
    pub secret: String,
    /// `otpauth://` URL for authenticator apps.
    pub otpauth_url: String,
}

/// A one-time password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpRequest {
    #[schema(min_length = 6, max_length = 6, pattern = "^[0-9]{6}$", example = "123456")]
    pub code: String,
}

/// Start two-factor enrolment: returns a secret to confirm with a code.
#[utoipa::path(post, path = "/api/v1/auth/totp/setup", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TotpSetup), (status = 401, body = Problem), (status = 409, description = "Already enrolled", body = Problem)))]
pub async fn totp_setup(state: web::Data<AppState>, user: EnrollingUser) -> ApiResult<web::Json<TotpSetup>> {
    let id = user.0.id;
    let setup = in_tx(&state, move |conn| {
        let mut u = db::users::get(conn, &id)?.ok_or(ApiError::NotFound)?;
        if u.totp_secret.is_some() {
            return Err(ApiError::Conflict("two-factor authentication is already enrolled".into()));
        }
        let secret = totp::new_secret();
        let url = totp::otpauth_url(&secret, &u.email)?;
        u.totp_pending_secret = Some(secret.clone());
        db::users::save(conn, &u)?;
        Ok(TotpSetup { secret, otpauth_url: url })
    })
    .await?;
    Ok(web::Json(setup))
}

/// Confirm enrolment with a current code; returns fresh tokens without the enrolment restriction.
#[utoipa::path(post, path = "/api/v1/auth/totp/confirm", tag = "auth", security(("bearer" = [])), request_body = OtpRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn totp_confirm(
    state: web::Data<AppState>,
    user: EnrollingUser,
    body: web::Json<OtpRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let u = user.0;
    let st = state.clone();
    let out = in_tx(&state, move |conn| {
        let mut user = db::users::get(conn, &u.id)?.ok_or(ApiError::NotFound)?;
        let Some(pending) = user.totp_pending_secret.clone() else {
            return Err(ApiError::Conflict("start with /auth/totp/setup".into()));
        };
        let Some(step) = totp::check(&pending, &body.code) else {
            return Err(ApiError::validation("code", "is not the current code of the new secret"));
        };
        user.totp_secret = Some(pending);
        user.totp_pending_secret = None;
        user.totp_last_step = Some(step as i64);
        db::users::save(conn, &user)?;
        // Sessions opened with the password alone (this one included) end; the caller continues
        // in a new session opened with both factors.
        let ended = db::users::end_sessions_of(conn, &user.id, "totp_enrolled")?;
        audit_user(conn, &user, "auth.totp_enrolled", serde_json::json!({"sessions_ended": ended}))?;
        let family = db::new_id();
        db::users::start_session(conn, &family, &user.id)?;
        issue(conn, &st, &user, &family, false)
    })
    .await?;
    Ok(web::Json(out))
}

/// Turning two-factor authentication off: the password and a current, unused code (OWASP ASVS 2.8:
/// a stolen session alone cannot remove the second factor).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpRemoval {
    #[schema(max_length = 1024)]
    pub password: String,
    #[schema(min_length = 6, max_length = 6, pattern = "^[0-9]{6}$", example = "123456")]
    pub code: String,
}

/// Turn two-factor authentication off (not allowed where the role requires it). Needs the password
/// and a current code that was not used before; a wrong one counts as a failed sign-in. Every
/// session of the account ends, this one too.
#[utoipa::path(delete, path = "/api/v1/auth/totp", tag = "auth", security(("bearer" = [])), request_body = TotpRemoval,
    responses((status = 204, description = "Disabled; every session of the account ended"),
        (status = 401, description = "Wrong password or code, or a code used before", body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 429, description = "This client must wait before its next attempt", body = Problem)))]
pub async fn totp_disable(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    body: web::Json<TotpRemoval>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let (_, client) = client_of(&state, &req);
    let (id, c, st) = (user.id.clone(), client.clone(), state.clone());
    let stored = with_conn(&state, move |conn| {
        let u = db::users::get(conn, &id)?.ok_or(ApiError::NotFound)?;
        refuse_while_waiting(conn, &st, &u.email, &c)?;
        Ok(u.password_hash)
    })
    .await?;
    let password_ok = body.password.len() <= 1024 && passwords::verify_off_thread(body.password, stored).await?;
    let st = state.clone();
    let (outcome, mailed) = in_tx(&state, move |conn| {
        let now = db::now();
        let mut u = db::users::get(conn, &user.id)?.ok_or(ApiError::NotFound)?;
        let Some(secret) = u.totp_secret.clone() else {
            return Err(ApiError::Conflict("two-factor authentication is not enrolled".into()));
        };
        if totp_required_roles(conn, &st)?.contains(&u.role) {
            return Err(ApiError::Conflict("your role requires two-factor authentication".into()));
        }
        let fresh_code =
            totp::check(&secret, &body.code).filter(|step| u.totp_last_step.is_none_or(|l| *step as i64 > l));
        match (password_ok, fresh_code) {
            (true, Some(step)) => {
                u.totp_secret = None;
                u.totp_last_step = Some(step as i64);
                db::users::save(conn, &u)?;
                // Every session was opened with the second factor that no longer exists: all end.
                let ended = db::users::end_sessions_of(conn, &u.id, "totp_removed")?;
                audit_user(conn, &u, "auth.totp_disabled", serde_json::json!({"sessions_ended": ended}))?;
                Ok((Ok(()), false))
            }
            _ => {
                let mailed = count_failure(conn, &st, Some(&u), &u.email, &client, now)?;
                audit_user(conn, &u, "auth.totp_disable_refused", serde_json::json!({"client": client}))?;
                Ok((
                    Err(ApiError::Unauthorized(
                        "the password or the one-time code is wrong, or the code was used before / \
                         パスワードまたはワンタイムコードが違います"
                            .into(),
                    )),
                    mailed,
                ))
            }
        }
    })
    .await?;
    if mailed {
        state.outbox_wake.notify_one();
    }
    outcome.map(|()| HttpResponse::NoContent().finish())
}

/// The caller's organisation, briefly.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgRef {
    pub id: String,
    pub kind: OrgKind,
    pub name: String,
}

/// The signed-in user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub org: OrgRef,
    pub totp_enabled: bool,
}

/// Who am I?
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(state: web::Data<AppState>, user: EnrollingUser) -> ApiResult<web::Json<Me>> {
    let id = user.0.id;
    let me = with_conn(&state, move |conn| {
        let u = db::users::get(conn, &id)?.ok_or(ApiError::NotFound)?;
        let o = db::orgs::get(conn, &u.org_id)?.ok_or(ApiError::NotFound)?;
        Ok(Me {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            org: OrgRef { id: o.id, kind: o.kind, name: o.name },
            totp_enabled: u.totp_secret.is_some(),
        })
    })
    .await?;
    Ok(web::Json(me))
}
