//! `GET /audit`: the hash-chained audit trail, for officers and admins.

use actix_web::web;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{decode_cursor, page_limit, paginate, with_conn, Page};
use crate::auth::policy::{require, Action};
use crate::auth::AuthUser;
use crate::db::{self, audit::AuditEntry};
use crate::error::{ApiResult, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(list));
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub incident_id: Option<String>,
    pub actor_id: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Audit entries, oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Page<AuditEntry>>> {
    require(&user, Action::ReadAudit)?;
    let limit = page_limit(q.limit)?;
    let after: Option<String> = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let q = q.into_inner();
    let rows = with_conn(&state, move |c| {
        Ok(db::audit::list(c, q.incident_id.as_deref(), q.actor_id.as_deref(), after.as_deref(), limit + 1)?)
    })
    .await?;
    Ok(web::Json(paginate(rows, limit, |e| e.id.clone(), |e| e)))
}
