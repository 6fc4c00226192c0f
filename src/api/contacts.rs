//! Authority contacts: admins manage them, officers read them.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{decode_cursor, etag, if_match, in_tx, page_limit, paginate, update_if_match, with_conn, Page};
use crate::auth::policy::{require, Action};
use crate::auth::AuthUser;
use crate::db::contacts::{Contact, ContactFilter};
use crate::db::{self};
use crate::domain::parse::{looks_like_email, Reader};
use crate::domain::{Authority, Channel, FieldError, Locale, Prefecture};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts", web::get().to(list))
        .route("/contacts", web::post().to(create))
        .route("/contacts/{id}", web::patch().to(update));
}

/// Fields of a contact (create, or merge-patch).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
pub struct ContactInput {
    pub authority: Option<Authority>,
    /// Absent or null: a national contact.
    pub prefecture: Option<Prefecture>,
    /// A contact for one municipality only (JIS X 0402, 5 digits, within `prefecture`), e.g. the
    /// health department of a city that runs its own public health centre.
    #[schema(min_length = 5, max_length = 5, pattern = "^[0-9]{5}$", example = "27100")]
    pub municipality: Option<String>,
    /// For vendor contacts: the hospital.
    #[schema(min_length = 1, max_length = 64)]
    pub hospital_id: Option<String>,
    #[schema(min_length = 1, max_length = 200, pattern = "@name")]
    pub name: Option<String>,
    pub channel: Option<Channel>,
    /// E-mail address (channel email) or portal URL (channel manual).
    #[schema(min_length = 3, max_length = 500)]
    pub address: Option<String>,
    #[schema(max_length = 2000)]
    pub instructions: Option<String>,
    pub locale: Option<Locale>,
    pub drill: Option<bool>,
    /// Date (YYYY-MM-DD) from which the contact is used; default today.
    pub effective_from: Option<NaiveDate>,
    /// Last day it is used (inclusive).
    pub effective_until: Option<NaiveDate>,
}

fn date(r: &mut Reader<'_>, key: &'static str) -> Option<Option<NaiveDate>> {
    match r.value(key) {
        None => Some(None),
        Some(Value::String(s)) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Some(Some(d)),
            Err(_) => {
                r.error(key, "must be a date YYYY-MM-DD");
                None
            }
        },
        Some(_) => {
            r.error(key, "must be a date YYYY-MM-DD");
            None
        }
    }
}

/// Parses contact fields onto `base` (new, or the current one for a patch).
pub fn parse_contact(body: &Map<String, Value>, mut c: Contact, creating: bool) -> Result<Contact, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut r = Reader::new(body, "", &mut errors);
    if let Some(a) = r.enumeration("authority", creating) {
        c.authority = a;
    }
    if body.contains_key("prefecture") {
        let p = r.string("prefecture", false, 2, 2);
        c.prefecture = p.as_deref().and_then(Prefecture::parse);
        if p.is_some() && c.prefecture.is_none() {
            r.error("prefecture", "must be a two-digit JIS X 0401 code \"01\"–\"47\"");
        }
    }
    if body.contains_key("municipality") {
        c.municipality = r.string("municipality", false, 5, 5);
        if c.municipality.as_ref().is_some_and(|m| !m.bytes().all(|b| b.is_ascii_digit())) {
            r.error("municipality", "must be a 5-digit JIS X 0402 code, e.g. 27100");
        }
    }
    if let Some(m) = &c.municipality {
        if c.prefecture.map(|p| p.code()).as_deref() != m.get(..2) {
            r.error("municipality", "must lie in the contact's prefecture (its first two digits)");
        }
    }
    if body.contains_key("hospital_id") {
        c.hospital_id = r.string("hospital_id", false, 1, 64);
    }
    if let Some(n) = r.name("name", creating, 1, 200) {
        c.name = n;
    }
    if let Some(ch) = r.enumeration("channel", false) {
        c.channel = ch;
    }
    if let Some(a) = r.string("address", creating, 3, 500) {
        c.address = a;
    }
    if body.contains_key("instructions") {
        c.instructions = r.string("instructions", false, 0, 2000).filter(|s| !s.is_empty());
    }
    if let Some(l) = r.enumeration("locale", false) {
        c.locale = l;
    }
    c.drill = r.boolean("drill", c.drill);
    if body.contains_key("effective_from") {
        if let Some(Some(d)) = date(&mut r, "effective_from") {
            c.effective_from = d;
        }
    }
    if body.contains_key("effective_until") {
        if let Some(d) = date(&mut r, "effective_until") {
            c.effective_until = d;
        }
    }
    r.finish();
    match c.channel {
        Channel::Email if !looks_like_email(&c.address) => {
            errors.push(FieldError::new("address", "must be an e-mail address for channel email"))
        }
        Channel::Manual if !(c.address.starts_with("https://") || c.address.starts_with("http://")) => {
            errors.push(FieldError::new("address", "must be the portal URL for channel manual"))
        }
        _ => {}
    }
    if c.effective_until.is_some_and(|u| u < c.effective_from) {
        errors.push(FieldError::new("effective_until", "must not be before effective_from"));
    }
    if errors.is_empty() {
        Ok(c)
    } else {
        Err(errors)
    }
}

/// A new contact with defaults: e-mail, Japanese, real (not drill), effective today.
pub fn blank_contact() -> Contact {
    let now = db::now();
    Contact {
        id: db::new_id(),
        authority: Authority::Mhlw,
        prefecture: None,
        municipality: None,
        hospital_id: None,
        name: String::new(),
        channel: Channel::Email,
        address: String::new(),
        instructions: None,
        locale: Locale::Ja,
        drill: false,
        effective_from: crate::domain::deadlines::jst_date(now),
        effective_until: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    pub authority: Option<Authority>,
    pub prefecture: Option<Prefecture>,
    pub drill: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Authority contacts (admins, officers).
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", security(("bearer" = [])), params(ContactQuery),
    responses((status = 200, body = Page<Contact>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ContactQuery>,
) -> ApiResult<web::Json<Page<Contact>>> {
    require(&user, Action::ReadContacts)?;
    let limit = page_limit(q.limit)?;
    let after: Option<String> = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let f = ContactFilter { authority: q.authority, prefecture: q.prefecture, drill: q.drill };
    let rows = with_conn(&state, move |c| Ok(db::contacts::list(c, &f, after.as_deref(), limit + 1)?)).await?;
    Ok(web::Json(paginate(rows, limit, |c| c.id.clone(), |c| c)))
}

fn audit_contact(conn: &mut db::AnyConnection, user: &AuthUser, c: &Contact, action: &str) -> ApiResult<()> {
    let details = serde_json::to_value(c).unwrap_or(Value::Null);
    super::audit_by(conn, user, action, ("contact", &c.id), None, details)
}

/// Add a contact (admin).
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", security(("bearer" = [])), request_body = ContactInput,
    responses((status = 201, body = Contact), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    require(&user, Action::ManageContacts)?;
    let c = parse_contact(&body, blank_contact(), true).map_err(ApiError::Validation)?;
    let saved = c.clone();
    in_tx(&state, move |conn| {
        db::contacts::insert(conn, &saved)?;
        audit_contact(conn, &user, &saved, "contact.create")
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/contacts/{}", c.id)))
        .insert_header(("ETag", etag(c.version)))
        .json(c))
}

/// Change a contact (admin; `If-Match` required). To replace an office, end it with
/// `effective_until` and add its successor.
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path), ("If-Match" = String, Header, description = "ETag of the version changed")), request_body = ContactInput,
    responses((status = 200, body = Contact), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    require(&user, Action::ManageContacts)?;
    let version = if_match(&req)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let c = in_tx(&state, move |conn| {
        let current = db::contacts::get(conn, &id)?;
        let (_, next) = update_if_match(
            conn,
            version,
            current,
            |_, c| parse_contact(&body, c, false).map_err(ApiError::Validation),
            db::contacts::update,
        )?;
        audit_contact(conn, &user, &next, "contact.update")?;
        Ok(next)
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(c.version))).json(c))
}
