//! Exports for the tools around an incident: a STIX 2.1 bundle and a MISP event
//! (`domain::sharing`), through the same need-to-know policy as every other answer.

use super::*;
use crate::domain::sharing::{misp_event, stix_bundle, Reporter};

/// Which export a read was.
#[derive(Clone, Copy)]
enum Format {
    Stix,
    Misp,
}

async fn export(state: web::Data<AppState>, user: AuthUser, id: String, format: Format) -> ApiResult<HttpResponse> {
    let body = with_conn(&state, move |conn| {
        let (i, h, scope) = load(conn, &user, &id)?;
        let reporter = if scope.sight().reporter_in_exports {
            Reporter::Named { id: &h.id, name: &h.name }
        } else {
            Reporter::Pseudonymised { id: &h.id }
        };
        let (action, body) = match format {
            Format::Stix => ("incident.export.stix", stix_bundle(&i, &reporter, db::now())),
            Format::Misp => ("incident.export.misp", misp_event(&i, &reporter)),
        };
        let named = matches!(reporter, Reporter::Named { .. });
        super::super::record_read(
            conn,
            &user,
            action,
            Some(&i.id),
            serde_json::json!({"tlp": i.tlp, "reporter_named": named}),
        )?;
        Ok(body)
    })
    .await?;
    let content_type = match format {
        Format::Stix => "application/stix+json;version=2.1",
        Format::Misp => "application/json",
    };
    Ok(HttpResponse::Ok().content_type(content_type).json(body))
}

/// The incident as a STIX 2.1 bundle: the incident, one indicator (with its STIX pattern) per
/// indicator of compromise, the observed cyber observables, the ransomware family and CVEs, their
/// relationships, and the incident's TLP 2.0 marking on every object. The reporting hospital is
/// named for officers and the hospital itself; for everyone else it is a stable pseudonym and the
/// bundle carries none of the hospital's free text. The read is recorded in the audit trail.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/stix", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "A STIX 2.1 bundle", content_type = "application/stix+json;version=2.1", body = Object),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn stix(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> ApiResult<HttpResponse> {
    export(state, user, id.into_inner(), Format::Stix).await
}

/// The incident as a MISP event (MISP core format): one attribute of the matching MISP type and
/// category per indicator, CVEs as `vulnerability`, the TLP as a `tlp:` tag and the distribution
/// that TLP allows. Named or pseudonymised as the STIX export.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/misp", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "A MISP event", body = Object),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn misp(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> ApiResult<HttpResponse> {
    export(state, user, id.into_inner(), Format::Misp).await
}
