//! Operations endpoints outside `/api/v1`: liveness and readiness.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// Readiness details.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub database: bool,
    pub migrations: bool,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("ok")
}

/// The database is reachable and every migration of this binary is applied.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let url = state.settings.database_url.expose().to_owned();
    let result = web::block(move || {
        // A deleted SQLite file is noticed even while pooled handles still point at it.
        if crate::db::conn::database_file_missing(&url) {
            return Readiness { database: false, migrations: false };
        }
        match pool.get() {
            Ok(mut conn) => {
                let migrations = conn.migrations_applied().unwrap_or(false);
                Readiness { database: true, migrations }
            }
            Err(_) => Readiness { database: false, migrations: false },
        }
    })
    .await
    .unwrap_or(Readiness { database: false, migrations: false });
    if result.database && result.migrations {
        HttpResponse::Ok().json(result)
    } else {
        HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "5")).json(result)
    }
}
