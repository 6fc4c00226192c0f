//! `AuthUser`: the verified caller of a request, from `Authorization: Bearer <access JWT>`.
//! A missing, malformed, expired or foreign token is always 401, and so is a token whose session
//! has ended (logout, password reset, disabled account, second factor enrolled or removed, refresh
//! reuse): every request looks its session up, so revocation takes effect on the next request on
//! every instance. The look-up is one primary-key read (its cost is measured in the README).

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::db;
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;

/// A signed-in user with two-factor enrolment satisfied.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub org_id: String,
    pub role: Role,
    /// The refresh-token family of this session.
    pub family_id: String,
    /// The request id, recorded in the audit trail.
    pub request_id: Option<String>,
    /// The user's name as stored when the request began (timeline entries name their author).
    pub name: String,
}

/// A signed-in user who may still have to enrol two-factor authentication: accepted only by the
/// endpoints needed to enrol (and `/me`, logout).
#[derive(Debug, Clone)]
pub struct EnrollingUser(pub AuthUser);

/// The caller's token, verified, with whether it only opens two-factor enrolment.
fn token_of(req: &HttpRequest) -> Result<(web::Data<AppState>, AuthUser, bool), ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("app state missing")))?;
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::Unauthorized("send Authorization: Bearer <access token>".into()))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| ApiError::Unauthorized("the Authorization scheme must be Bearer".into()))?;
    let claims = state.keys.verify(token.trim()).map_err(ApiError::Unauthorized)?;
    let request_id = req.extensions().get::<tracing_actix_web::RequestId>().map(|r| r.to_string());
    let user = AuthUser {
        id: claims.sub,
        org_id: claims.org,
        role: claims.role,
        family_id: claims.fam,
        request_id,
        name: String::new(),
    };
    Ok((state, user, claims.enrol))
}

/// The verified caller whose session is still live.
async fn authenticate(req: HttpRequest) -> Result<(AuthUser, bool), ApiError> {
    let (state, mut user, enrol) = token_of(&req)?;
    let (family, id) = (user.family_id.clone(), user.id.clone());
    let live = crate::api::with_conn(&state, move |conn| Ok(db::users::live_session_name(conn, &family, &id)?)).await?;
    user.name = live.ok_or_else(|| ApiError::Unauthorized("this session has ended: sign in again".into()))?;
    Ok((user, enrol))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (user, enrol) = authenticate(req).await?;
            if enrol {
                Err(ApiError::Forbidden(
                    "two-factor authentication is required for your role: enrol at /api/v1/auth/totp/setup first"
                        .into(),
                ))
            } else {
                Ok(user)
            }
        })
    }
}

impl FromRequest for EnrollingUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req).await.map(|(u, _)| EnrollingUser(u)) })
    }
}
