//! The OpenAPI document, generated from the handlers' annotations; `openapi.yaml` is its committed copy.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::session::RefreshCookie;
use super::{
    audit, auth, contacts, dispatch, health, incidents, organizations, reports, routing, session, stats, users,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Operation ids must be unique: prefix each handler's name with its tag (`incidents_list`).
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
            {
                let tag = op.tags.as_ref().and_then(|t| t.first().cloned()).unwrap_or_default();
                if let Some(id) = op.operation_id.take() {
                    op.operation_id = Some(if id.starts_with(&tag) { id } else { format!("{tag}_{id}") });
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "hikeshi API", version = "1.0.0",
        description = "Incident reporting and first-response coordination for hospital cyber incidents in Japan. \
            Errors are RFC 9457 problem+json. Unknown JSON fields in request bodies are refused (422), so a \
            misspelt field never silently loses data."),
    modifiers(&BearerAuth, &RefreshCookie, &UniqueOperationIds),
    paths(
        health::healthz, health::readyz,
        auth::login, auth::refresh, auth::logout, auth::totp_setup, auth::totp_confirm, auth::totp_disable, auth::me,
        session::create, session::refresh, session::delete,
        organizations::list, organizations::create, organizations::get, organizations::update,
        users::list, users::create, users::update, users::get_policy, users::put_policy,
        incidents::file, incidents::list, incidents::get, incidents::update, incidents::transition,
        incidents::list_updates, incidents::add_update, incidents::set_milestone,
        incidents::list_obligations, incidents::fulfil_obligation, incidents::list_notifications, incidents::resend_notification,
        reports::ppc, reports::nco, routing::preview,
        contacts::list, contacts::create, contacts::update,
        dispatch::request_support, dispatch::list_support, dispatch::decide_support, dispatch::dispatch,
        dispatch::list_dispatches, dispatch::dispatch_status, dispatch::list_teams, dispatch::suggestions,
        dispatch::update_team, dispatch::update_responder,
        stats::stats, stats::export,
        audit::list,
    ),
    tags((name = "auth"), (name = "organizations"), (name = "users"), (name = "incidents"), (name = "routing"), (name = "contacts"), (name = "dispatch"), (name = "stats"), (name = "audit"), (name = "operations"))
)]
pub struct ApiDoc;

/// The document as YAML (what `openapi.yaml` must contain).
pub fn yaml() -> String {
    ApiDoc::openapi().to_yaml().unwrap_or_default()
}
