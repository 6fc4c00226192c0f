//! `GET /audit`: the hash-chained audit trail, and `GET /audit/reads`: who read incident data; for
//! officers and admins. Reading either is itself recorded as a read.

use actix_web::web;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{decode_cursor, page_limit, paginate, with_conn, Page};
use crate::auth::policy::{require, Action};
use crate::auth::AuthUser;
use crate::db::{self, audit::AuditEntry, audit::ReadEntry, AnyConnection, DbResult};
use crate::error::{ApiResult, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(list)).route("/audit/reads", web::get().to(reads));
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

type Fetch<T> = fn(&mut AnyConnection, Option<&str>, Option<&str>, Option<&str>, i64) -> DbResult<Vec<T>>;

/// A page of `fetch` for an officer or admin, the read itself recorded as `action`.
async fn page<T: utoipa::ToSchema + Send + 'static>(
    state: web::Data<AppState>,
    user: AuthUser,
    q: AuditQuery,
    action: &'static str,
    fetch: Fetch<T>,
    id: fn(&T) -> String,
) -> ApiResult<web::Json<Page<T>>> {
    require(&user, Action::ReadAudit)?;
    let limit = page_limit(q.limit)?;
    let after: Option<String> = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = with_conn(&state, move |c| {
        let filter = serde_json::json!({"incident_id": q.incident_id, "actor_id": q.actor_id, "after": after});
        super::record_read(c, &user, action, q.incident_id.as_deref(), filter)?;
        Ok(fetch(c, q.incident_id.as_deref(), q.actor_id.as_deref(), after.as_deref(), limit + 1)?)
    })
    .await?;
    Ok(web::Json(paginate(rows, limit, id, |e| e)))
}

/// Audit entries, oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Page<AuditEntry>>> {
    page(state, user, q.into_inner(), "audit.read", db::audit::list, |e| e.id.clone()).await
}

/// Reads of incident data (detail, timeline, notifications, reports, exports, the audit itself),
/// oldest first: who read what, when, with which filter.
#[utoipa::path(get, path = "/api/v1/audit/reads", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Page<ReadEntry>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn reads(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Page<ReadEntry>>> {
    page(state, user, q.into_inner(), "audit.reads_read", db::audit::reads, |e| e.id.clone()).await
}
