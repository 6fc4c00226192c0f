//! Organisations: admins manage them; hospitals read their own; officers read all.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{decode_cursor, etag, if_match, in_tx, page_limit, paginate, update_if_match, with_conn, Page};
use crate::auth::policy::{require, Action};
use crate::auth::AuthUser;
use crate::db::orgs::Organization;
use crate::db::{self};
use crate::domain::parse::Reader;
use crate::domain::{Authority, FieldError, LegalStatus, OrgKind, Prefecture, RegionalRole, Role, Skill};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organizations", web::get().to(list))
        .route("/organizations", web::post().to(create))
        .route("/organizations/{id}", web::get().to(get))
        .route("/organizations/{id}", web::patch().to(update));
}

/// Fields of an organisation (create, or merge-patch).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // documents the body; parsing is done field by field to report every error
pub struct OrganizationInput {
    /// Required on create; cannot change.
    pub kind: Option<OrgKind>,
    #[schema(min_length = 1, max_length = 200, pattern = "@name")]
    pub name: Option<String>,
    pub prefecture: Option<Prefecture>,
    #[schema(minimum = 0, maximum = 10000)]
    pub beds: Option<i32>,
    /// 医療機関コード: 10 digits.
    #[schema(min_length = 10, max_length = 10, pattern = "^[0-9]{10}$")]
    pub code: Option<String>,
    #[schema(max_items = 5)]
    pub regional_roles: Option<Vec<RegionalRole>>,
    /// Hospitals (DOMAIN.md 2.3). Replaces `legal_form` (refused with 422).
    pub legal_status: Option<LegalStatus>,
    /// JIS X 0402 municipality code, 5 digits, e.g. "27100" (大阪市): selects the health authority.
    #[schema(min_length = 5, max_length = 5, pattern = "^[0-9]{5}$", example = "27100")]
    pub municipality: Option<String>,
    pub authority: Option<Authority>,
    #[schema(max_items = 6)]
    pub skills: Option<Vec<Skill>>,
    #[schema(max_items = 47)]
    pub coverage: Option<Vec<Prefecture>>,
    /// Hospitals: the remote-access products they run (replaced as a whole). A hospital's own
    /// users may change this field (and only this one) of their organisation.
    #[schema(max_items = 20)]
    pub remote_access: Option<Vec<crate::domain::national::RemoteAccess>>,
}

/// The fields a hospital's own users may change on their organisation.
pub const HOSPITAL_EDITABLE: &[&str] = &["remote_access"];

/// Parses an organisation from JSON fields onto `base` (a new one, or the current one for a patch).
pub fn parse_org(
    body: &Map<String, Value>,
    base: Organization,
    creating: bool,
) -> Result<Organization, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut org = base;
    let mut r = Reader::new(body, "", &mut errors);
    let kind = r.enumeration::<OrgKind>("kind", creating);
    if let Some(k) = kind {
        if !creating && k != org.kind {
            r.error("kind", "cannot change");
        }
        org.kind = k;
    }
    if let Some(n) = r.name("name", creating, 1, 200) {
        org.name = n;
    }
    if body.contains_key("prefecture") {
        org.prefecture = match r.value("prefecture") {
            None => None,
            Some(Value::String(s)) => match Prefecture::parse(s) {
                Some(p) => Some(p),
                None => {
                    r.error("prefecture", "must be a two-digit JIS X 0401 code \"01\"–\"47\"");
                    None
                }
            },
            Some(_) => {
                r.error("prefecture", "must be a string");
                None
            }
        };
    }
    if body.contains_key("beds") {
        org.beds = r.integer("beds", 0, 10_000).map(|b| b as i32);
    }
    if body.contains_key("code") {
        org.code = r.string("code", false, 10, 10);
        if org.code.as_ref().is_some_and(|c| !c.bytes().all(|b| b.is_ascii_digit())) {
            r.error("code", "must be 10 digits");
        }
    }
    if body.contains_key("regional_roles") {
        org.regional_roles = r.enumerations("regional_roles", 5);
    }
    r.renamed("legal_form", "legal_status");
    if body.contains_key("legal_status") {
        org.legal_status = r.enumeration("legal_status", false);
    }
    if body.contains_key("municipality") {
        org.municipality = r.string("municipality", false, 5, 5);
        if org.municipality.as_ref().is_some_and(|c| !c.bytes().all(|b| b.is_ascii_digit())) {
            r.error("municipality", "must be a 5-digit JIS X 0402 code, e.g. 27100");
        }
    }
    if body.contains_key("authority") {
        org.authority = r.enumeration("authority", false);
    }
    if body.contains_key("skills") {
        org.skills = r.enumerations("skills", 6);
    }
    if body.contains_key("coverage") {
        let codes = r.strings("coverage", 47, 2);
        org.coverage = Vec::new();
        for c in codes {
            match Prefecture::parse(&c) {
                Some(p) if !org.coverage.contains(&p) => org.coverage.push(p),
                Some(_) => {}
                None => r.error("coverage", format!("{c:?} is not a prefecture code")),
            }
        }
    }
    if body.contains_key("remote_access") {
        org.remote_access = r.objects("remote_access", 20, crate::domain::national::read_remote_access);
        if org.kind != OrgKind::Hospital && !org.remote_access.is_empty() {
            r.error("remote_access", "is kept for hospitals only");
        }
    }
    r.finish();
    if org.kind == OrgKind::Hospital && org.prefecture.is_none() {
        errors.push(FieldError::new("prefecture", "is required for a hospital"));
    }
    if org.kind == OrgKind::Authority && org.authority.is_none() {
        errors.push(FieldError::new("authority", "is required for an authority"));
    }
    if errors.is_empty() {
        Ok(org)
    } else {
        Err(errors)
    }
}

fn can_read(user: &AuthUser, org_id: &str) -> bool {
    matches!(user.role, Role::Admin | Role::DutyOfficer) || user.org_id == org_id
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgListQuery {
    /// Only organisations of this kind.
    pub kind: Option<OrgKind>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// List organisations (admins and officers: all; others: their own).
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", security(("bearer" = [])), params(OrgListQuery),
    responses((status = 200, body = Page<Organization>), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<OrgListQuery>,
) -> ApiResult<web::Json<Page<Organization>>> {
    let limit = page_limit(q.limit)?;
    let after: Option<String> = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let kind = q.kind;
    let rows = with_conn(&state, move |conn| {
        if matches!(user.role, Role::Admin | Role::DutyOfficer) {
            Ok(db::orgs::list(conn, kind, after.as_deref(), limit + 1)?)
        } else {
            let own = db::orgs::get(conn, &user.org_id)?;
            Ok(own.into_iter().filter(|o| after.is_none() && kind.is_none_or(|k| k == o.kind)).collect())
        }
    })
    .await?;
    Ok(web::Json(paginate(rows, limit, |o| o.id.clone(), |o| o)))
}

/// Create an organisation (admin).
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", security(("bearer" = [])), request_body = OrganizationInput,
    responses((status = 201, body = Organization), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    require(&user, Action::ManageOrganizations)?;
    let kind = body.get("kind").and_then(Value::as_str).and_then(OrgKind::parse).unwrap_or(OrgKind::Hospital);
    let org = parse_org(&body, Organization::new(kind, ""), true).map_err(ApiError::Validation)?;
    let saved = org.clone();
    in_tx(&state, move |conn| {
        db::orgs::insert(conn, &saved)?;
        audit_org(conn, &user, &saved, "organization.create")
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/organizations/{}", org.id)))
        .insert_header(("ETag", etag(org.version)))
        .json(org))
}

fn audit_org(conn: &mut db::AnyConnection, user: &AuthUser, org: &Organization, action: &str) -> ApiResult<()> {
    let details = serde_json::json!({"name": org.name, "kind": org.kind, "version": org.version});
    super::audit_by(conn, user, action, ("organization", &org.id), None, details)
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organisation id")),
    responses((status = 200, body = Organization, headers(("ETag" = String))), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    if !can_read(&user, &id) {
        return Err(ApiError::NotFound);
    }
    let org = with_conn(&state, move |conn| db::orgs::get(conn, &id)?.ok_or(ApiError::NotFound)).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(org.version))).json(org))
}

/// Change an organisation (admin; `If-Match` required). A hospital's own users may change its
/// `remote_access` and nothing else.
#[utoipa::path(patch, path = "/api/v1/organizations/{id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organisation id"), ("If-Match" = String, Header, description = "ETag of the version changed")),
    request_body = OrganizationInput,
    responses((status = 200, body = Organization), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    if !can_read(&user, &id) {
        return Err(ApiError::NotFound);
    }
    let body = body.into_inner();
    let own_profile = user.org_id == id && crate::auth::policy::allows(user.role, Action::EditOwnProfile);
    if own_profile {
        let others: Vec<&str> = body.keys().map(String::as_str).filter(|k| !HOSPITAL_EDITABLE.contains(k)).collect();
        if !others.is_empty() {
            return Err(ApiError::Forbidden(format!(
                "a hospital may change only {} of its organisation; {} are changed by an administrator",
                HOSPITAL_EDITABLE.join(", "),
                others.join(", ")
            )));
        }
    } else {
        require(&user, Action::ManageOrganizations)?;
    }
    let version = if_match(&req)?;
    let st = state.clone();
    let org = in_tx(&state, move |conn| {
        let current = db::orgs::get(conn, &id)?;
        let (current, next) = update_if_match(
            conn,
            version,
            current,
            |_, o| parse_org(&body, o, false).map_err(ApiError::Validation),
            db::orgs::update,
        )?;
        audit_org(conn, &user, &next, "organization.update")?;
        // Routing depends on these: the hospital's open incidents follow (DOMAIN.md 2.4).
        let mut changed = Vec::new();
        if next.legal_status != current.legal_status {
            changed.push("legal_status".to_owned());
        }
        if next.municipality != current.municipality {
            changed.push("municipality".to_owned());
        }
        if next.regional_roles != current.regional_roles {
            changed.push("regional_roles".to_owned());
        }
        if next.kind == OrgKind::Hospital && !changed.is_empty() {
            super::incidents::reroute_hospital(conn, &user, &st.settings, &next, &changed)?;
        }
        if next.remote_access != current.remote_access {
            // What campaigns hit: kept in the audit trail as it was and as it is, and the
            // hospital's incidents are linked again with the products it now names.
            let details = serde_json::json!({"before": current.remote_access, "after": next.remote_access});
            super::audit_by(conn, &user, "organization.remote_access", ("organization", &next.id), None, details)?;
            db::campaigns::recheck_hospital(conn, &next.id)?;
        }
        Ok(next)
    })
    .await?;
    state.outbox_wake.notify_one();
    state.campaign_wake.notify_one();
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(org.version))).json(org))
}
