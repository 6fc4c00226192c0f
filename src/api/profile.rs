//! A hospital's checklist state (the MHLW checklist, DOMAIN.md 6): kept by the hospital, read by
//! officers, every change kept. Its remote-access products are a field of the organisation.

use actix_web::web;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{in_tx, with_conn};
use crate::auth::policy::{allows, Action};
use crate::auth::AuthUser;
use crate::db::checklists::{ChecklistChange, ChecklistEntry, ItemState};
use crate::db::{self};
use crate::domain::{ChecklistItem, FieldError, OrgKind, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organizations/{id}/checklist", web::get().to(get))
        .route("/organizations/{id}/checklist", web::put().to(put));
}

/// Changes shown with the state.
const HISTORY: i64 = 100;

/// A hospital's checklist: the items it recorded (an item not listed is not on record, which is
/// not the same as not done) and the latest changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct Checklist {
    pub organization_id: String,
    pub items: Vec<ChecklistEntry>,
    /// Newest first, at most 100.
    pub history: Vec<ChecklistChange>,
}

/// The items to record; items not listed keep their state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistInput {
    #[schema(max_items = 5)]
    pub items: Vec<ChecklistItemInput>,
}

/// One item's state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItemInput {
    pub item: ChecklistItem,
    pub done: bool,
    /// Since when the measure has been in place (JST date); only with `done: true`.
    pub at: Option<NaiveDate>,
}

/// Officers and administrators read every hospital's; a hospital's users read their own.
fn can_read(user: &AuthUser, org_id: &str) -> bool {
    matches!(user.role, Role::DutyOfficer | Role::Admin) || (user.role == Role::Reporter && user.org_id == org_id)
}

fn load(conn: &mut db::AnyConnection, org_id: &str) -> ApiResult<Checklist> {
    match db::orgs::get(conn, org_id)? {
        Some(o) if o.kind == OrgKind::Hospital => Ok(Checklist {
            organization_id: o.id,
            items: db::checklists::current(conn, org_id)?,
            history: db::checklists::history(conn, org_id, HISTORY)?,
        }),
        _ => Err(ApiError::NotFound),
    }
}

/// A hospital's checklist state.
#[utoipa::path(get, path = "/api/v1/organizations/{id}/checklist", tag = "organizations", operation_id = "get_checklist", security(("bearer" = [])),
    params(("id" = String, Path, description = "The hospital's id")),
    responses((status = 200, body = Checklist), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> ApiResult<web::Json<Checklist>> {
    let id = id.into_inner();
    if !can_read(&user, &id) {
        return Err(ApiError::NotFound);
    }
    Ok(web::Json(with_conn(&state, move |conn| load(conn, &id)).await?))
}

/// Record checklist items (the hospital's own users). Items not listed keep their state; a change
/// is kept in the history with who made it.
#[utoipa::path(put, path = "/api/v1/organizations/{id}/checklist", tag = "organizations", operation_id = "put_checklist", security(("bearer" = [])),
    params(("id" = String, Path, description = "The hospital's id")), request_body = ChecklistInput,
    responses((status = 200, body = Checklist), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<ChecklistInput>,
) -> ApiResult<web::Json<Checklist>> {
    let id = id.into_inner();
    if !can_read(&user, &id) {
        return Err(ApiError::NotFound);
    }
    if !(allows(user.role, Action::EditOwnProfile) && user.org_id == id) {
        return Err(ApiError::Forbidden("the checklist is kept by the hospital's own users".into()));
    }
    let today = crate::domain::deadlines::jst_date(db::now());
    let mut errors = Vec::new();
    let mut states: Vec<ItemState> = Vec::new();
    for (i, it) in body.items.iter().enumerate() {
        if states.iter().any(|s| s.item == it.item) {
            errors.push(FieldError::new(format!("items[{i}].item"), "is listed twice"));
        }
        if it.at.is_some() && !it.done {
            errors.push(FieldError::new(
                format!("items[{i}].at"),
                "is the date since when the measure is in place: only with done: true",
            ));
        }
        if it.at.is_some_and(|d| d > today + Duration::days(1)) {
            errors.push(FieldError::new(format!("items[{i}].at"), "must not be in the future"));
        }
        states.push(ItemState { item: it.item, done: it.done, at: it.at });
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let checklist = in_tx(&state, move |conn| {
        let current = load(conn, &id)?;
        let changed = db::checklists::set(conn, &id, &user.id, &states, db::now())?;
        if changed.is_empty() {
            return Ok(current);
        }
        let details = serde_json::json!({"changed": states.iter().filter(|s| changed.contains(&s.item))
            .map(|s| serde_json::json!({"item": s.item, "done": s.done, "at": s.at})).collect::<Vec<_>>()});
        super::audit_by(conn, &user, "checklist.update", ("organization", &id), None, details)?;
        load(conn, &id)
    })
    .await?;
    Ok(web::Json(checklist))
}
