//! `AuthUser`: the verified caller of a request, from `Authorization: Bearer <access JWT>`.
//! A missing, malformed, expired or foreign token is always 401.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

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
}

/// A signed-in user who may still have to enrol two-factor authentication: accepted only by the
/// endpoints needed to enrol (and `/me`, logout).
#[derive(Debug, Clone)]
pub struct EnrollingUser(pub AuthUser);

fn authenticate(req: &HttpRequest) -> Result<(AuthUser, bool), ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
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
    Ok((
        AuthUser { id: claims.sub, org_id: claims.org, role: claims.role, family_id: claims.fam, request_id },
        claims.enrol,
    ))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).and_then(|(user, enrol)| {
            if enrol {
                Err(ApiError::Forbidden(
                    "two-factor authentication is required for your role: enrol at /api/v1/auth/totp/setup first"
                        .into(),
                ))
            } else {
                Ok(user)
            }
        }))
    }
}

impl FromRequest for EnrollingUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).map(|(u, _)| EnrollingUser(u)))
    }
}
