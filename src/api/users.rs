//! User accounts (admin) and the two-factor policy per role.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{decode_cursor, etag, if_match, in_tx, page_limit, paginate, update_if_match, with_conn, Page};
use crate::auth::policy::{require, Action};
use crate::auth::{passwords, AuthUser};
use crate::db::users::User;
use crate::db::{self, AnyConnection};
use crate::domain::parse::{check_name, looks_like_email};
use crate::domain::password::Password;
use crate::domain::{Availability, FieldError, OrgKind, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(list))
        .route("/users", web::post().to(create))
        .route("/users/{id}", web::patch().to(update))
        .route("/security-policy", web::get().to(get_policy))
        .route("/security-policy", web::put().to(put_policy));
}

/// The organisation kind each role belongs to.
pub fn org_kind_for(role: Role) -> OrgKind {
    match role {
        Role::Reporter => OrgKind::Hospital,
        Role::DutyOfficer | Role::Admin => OrgKind::Ministry,
        Role::Responder => OrgKind::ResponderTeam,
        Role::Liaison => OrgKind::Authority,
    }
}

/// Creates an account after checking the e-mail, the password policy and that the role fits the
/// organisation. Hashes the password, so call it off the async threads.
pub fn create_account(
    conn: &mut AnyConnection,
    org_id: &str,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
) -> ApiResult<User> {
    let mut errors = Vec::new();
    if !looks_like_email(email.trim()) {
        errors.push(FieldError::new("email", "must be an e-mail address"));
    }
    if let Err(e) = check_name(name, 1, 100) {
        errors.push(FieldError::new("name", e));
    }
    if let Err(e) = Password::parse(password) {
        errors.push(FieldError::new("password", e));
    }
    match db::orgs::get(conn, org_id)? {
        None => errors.push(FieldError::new("org_id", "no such organisation")),
        Some(o) if o.kind != org_kind_for(role) => errors.push(FieldError::new(
            "role",
            format!("a {role} belongs to an organisation of kind {}, not {}", org_kind_for(role), o.kind),
        )),
        Some(_) => {}
    }
    if db::users::by_email(conn, email)?.is_some() {
        errors.push(FieldError::new("email", "is already registered"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let user = User::new(org_id, email, name.trim(), role, passwords::hash(password)?);
    db::users::insert(conn, &user)?;
    Ok(user)
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 100, pattern = "@name")]
    pub name: String,
    pub role: Role,
    #[schema(min_length = 1, max_length = 64)]
    pub org_id: String,
    /// 8+ characters mixing letters, digits and symbols, or 13+ characters.
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
}

/// Changes to an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[schema(min_length = 1, max_length = 100, pattern = "@name")]
    pub name: Option<String>,
    pub active: Option<bool>,
    /// Lift every wait that failed sign-ins put on clients of this account.
    pub unlock: Option<bool>,
    /// Set a new password (policy applies).
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
    /// Remove the user's two-factor enrolment (lost phone).
    pub reset_totp: Option<bool>,
    pub availability: Option<Availability>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Only users of this organisation.
    pub org_id: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn audit_user(conn: &mut AnyConnection, actor: &AuthUser, target: &User, action: &str) -> ApiResult<()> {
    let details = serde_json::json!({"email": target.email, "role": target.role, "active": target.active});
    super::audit_by(conn, actor, action, ("user", &target.id), None, details)
}

/// List users (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(UserListQuery),
    responses((status = 200, body = Page<User>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<UserListQuery>,
) -> ApiResult<web::Json<Page<User>>> {
    require(&user, Action::ManageUsers)?;
    let limit = page_limit(q.limit)?;
    let after: Option<String> = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let org = q.org_id.clone();
    let rows = with_conn(&state, move |c| Ok(db::users::list(c, org.as_deref(), after.as_deref(), limit + 1)?)).await?;
    Ok(web::Json(paginate(rows, limit, |u| u.id.clone(), |u| u)))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = NewUser,
    responses((status = 201, body = User), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, body: web::Json<NewUser>) -> ApiResult<HttpResponse> {
    require(&user, Action::ManageUsers)?;
    let b = body.into_inner();
    let created = in_tx(&state, move |conn| {
        let u = create_account(conn, &b.org_id, &b.email, &b.name, b.role, &b.password)?;
        audit_user(conn, &user, &u, "user.create")?;
        Ok(u)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", created.id)))
        .insert_header(("ETag", etag(created.version)))
        .json(created))
}

/// Change a user (admin; `If-Match` required).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path), ("If-Match" = String, Header, description = "ETag of the version changed")), request_body = UserPatch,
    responses((status = 200, body = User), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<UserPatch>,
) -> ApiResult<HttpResponse> {
    require(&user, Action::ManageUsers)?;
    let version = if_match(&req)?;
    let id = id.into_inner();
    let p = body.into_inner();
    let mut errors = Vec::new();
    if let Some(pw) = &p.password {
        if let Err(e) = Password::parse(pw) {
            errors.push(FieldError::new("password", e));
        }
    }
    if let Some(Err(e)) = p.name.as_deref().map(|n| check_name(n, 1, 100)) {
        errors.push(FieldError::new("name", e));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let new_hash = match p.password.clone() {
        Some(pw) => Some(passwords::hash_off_thread(pw).await?),
        None => None,
    };
    let updated = in_tx(&state, move |conn| {
        let password_changed = new_hash.is_some();
        let current = db::users::get(conn, &id)?;
        let change = |conn: &mut AnyConnection, mut u: db::users::User| {
            if let Some(n) = p.name {
                u.name = n.trim().to_owned();
            }
            if let Some(a) = p.active {
                u.active = a;
            }
            if p.unlock == Some(true) {
                db::sign_in::clear(conn, &u.email)?;
            }
            if p.reset_totp == Some(true) {
                u.totp_secret = None;
                u.totp_pending_secret = None;
                u.totp_last_step = None;
            }
            if let Some(a) = p.availability {
                u.availability = Some(a);
            }
            if let Some(h) = new_hash {
                u.password_hash = h;
            }
            u.totp_enabled = u.totp_secret.is_some();
            Ok(u)
        };
        let (_, u) = update_if_match(conn, version, current, change, db::users::update_versioned)?;
        // A new password, a disabled account or a removed second factor ends every session of the
        // account at once: whoever held the old credentials is out on their next request.
        let reason = if !u.active {
            Some("disabled")
        } else if password_changed {
            Some("password_reset")
        } else if p.reset_totp == Some(true) {
            Some("totp_reset")
        } else {
            None
        };
        if let Some(reason) = reason {
            db::users::end_sessions_of(conn, &u.id, reason)?;
        }
        audit_user(conn, &user, &u, "user.update")?;
        Ok(u)
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(updated.version))).json(updated))
}

/// Which roles must use two-factor authentication.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityPolicy {
    #[schema(max_items = 5)]
    pub totp_required_roles: Vec<Role>,
}

/// The two-factor policy (admin).
#[utoipa::path(get, path = "/api/v1/security-policy", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = SecurityPolicy), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn get_policy(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<SecurityPolicy>> {
    require(&user, Action::ManageSecurityPolicy)?;
    let st = state.clone();
    let roles = with_conn(&state, move |c| super::auth::totp_required_roles(c, &st)).await?;
    Ok(web::Json(SecurityPolicy { totp_required_roles: roles }))
}

/// Require two-factor authentication for roles (admin). Users of those roles without it are asked
/// to enrol at their next sign-in.
#[utoipa::path(put, path = "/api/v1/security-policy", tag = "users", security(("bearer" = [])), request_body = SecurityPolicy,
    responses((status = 200, body = SecurityPolicy), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<SecurityPolicy>,
) -> ApiResult<web::Json<SecurityPolicy>> {
    require(&user, Action::ManageSecurityPolicy)?;
    let mut roles = body.into_inner().totp_required_roles;
    if roles.len() > Role::ALL.len() {
        return Err(ApiError::validation("totp_required_roles", "lists a role more than once"));
    }
    roles.sort();
    roles.dedup();
    let saved = roles.clone();
    in_tx(&state, move |conn| {
        db::settings::put(conn, "totp_required_roles", &db::to_json(&saved))?;
        let details = serde_json::json!({"totp_required_roles": saved});
        super::audit_by(conn, &user, "security_policy.update", ("setting", "totp_required_roles"), None, details)?;
        Ok(())
    })
    .await?;
    Ok(web::Json(SecurityPolicy { totp_required_roles: roles }))
}
