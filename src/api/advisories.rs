//! Advisories: an officer warns the hospitals matching criteria (a remote-access vendor or
//! product, prefectures, or all) before they are hit; each hospital acknowledges, in the web UI or
//! by the signed link in its e-mail; officers see who has not and remind them.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{checked, decode_cursor, in_tx, optional_body, page_limit, paginate, with_conn, Page};
use crate::auth::jwt::JwtKeys;
use crate::auth::policy::{require, Action};
use crate::auth::AuthUser;
use crate::config::Settings;
use crate::db::advisories::{Advisory, NewAdvisory};
use crate::db::notifications::NewNotification;
use crate::db::{self};
use crate::domain::national::{AdvisoryCriteria, RemoteAccess};
use crate::domain::{FieldError, Locale, Prefecture, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::notify::{outbox, templates};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/advisories", web::get().to(list))
        .route("/advisories", web::post().to(create))
        .route("/advisories/{id}", web::get().to(get))
        .route("/advisories/{id}/ack", web::post().to(ack))
        .route("/advisories/{id}/remind", web::post().to(remind));
}

/// What an e-mailed acknowledgement link signs.
const ACK: &str = "advisory-ack";

/// An advisory as written by an officer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdvisoryInput {
    /// In Japanese (what every hospital reads first).
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 20000)]
    pub body: String,
    /// The English version, when written (sent below the Japanese).
    #[schema(max_length = 200)]
    pub title_en: Option<String>,
    #[schema(max_length = 20000)]
    pub body_en: Option<String>,
    pub criteria: AdvisoryCriteria,
    /// The campaign it warns of.
    #[schema(max_length = 36)]
    pub campaign_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdvisoryQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Officers and administrators see every advisory; a hospital's users see those sent to it (and
/// only their own hospital among the recipients); nobody else any.
fn scope(user: &AuthUser) -> ApiResult<Option<String>> {
    match user.role {
        Role::DutyOfficer | Role::Admin => Ok(None),
        Role::Reporter => Ok(Some(user.org_id.clone())),
        _ => Err(ApiError::Forbidden("advisories are for the ministry and hospitals".into())),
    }
}

/// Advisories, newest first.
#[utoipa::path(get, path = "/api/v1/advisories", tag = "advisories", security(("bearer" = [])), params(AdvisoryQuery),
    responses((status = 200, body = Page<Advisory>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<AdvisoryQuery>,
) -> ApiResult<web::Json<Page<Advisory>>> {
    let org = scope(&user)?;
    let limit = page_limit(q.limit)?;
    let before: Option<(DateTime<Utc>, String)> = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows =
        with_conn(&state, move |conn| Ok(db::advisories::list(conn, org.as_deref(), before, limit + 1)?)).await?;
    Ok(web::Json(paginate(rows, limit, |a| (a.created_at, a.id.clone()), |a| a)))
}

/// One advisory.
#[utoipa::path(get, path = "/api/v1/advisories/{id}", tag = "advisories", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Advisory), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> ApiResult<web::Json<Advisory>> {
    let org = scope(&user)?;
    let id = id.into_inner();
    let a = with_conn(&state, move |conn| db::advisories::get(conn, &id, org.as_deref())?.ok_or(ApiError::NotFound))
        .await?;
    Ok(web::Json(a))
}

/// The addresses of every hospital's users, by hospital (one statement, however many hospitals).
fn reporters_by_hospital(conn: &mut db::AnyConnection) -> ApiResult<BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for u in db::users::by_org_and_role(conn, None, Role::Reporter)? {
        out.entry(u.org_id).or_default().push(u.email);
    }
    Ok(out)
}

/// The e-mail of one advisory (or its reminder) to one hospital.
fn letter_to(
    settings: &Settings,
    keys: &JwtKeys,
    a: &Advisory,
    org_id: &str,
    addresses: Vec<String>,
    reminder: Option<DateTime<Utc>>,
) -> NewNotification {
    let token = format!("{org_id}.{}", keys.sign_link(ACK, &[&a.id, org_id]));
    let ack_url = format!("{}/advisory-ack?id={}&token={token}", settings.public_url(), a.id);
    let page_url = format!("{}/advisories", settings.public_url());
    let english = a.title_en.as_deref().zip(a.body_en.as_deref());
    let letter = crate::domain::letters::advisory(&a.title, &a.body, english, &ack_url, &page_url, reminder.is_some());
    let rendered = templates::render(&letter);
    NewNotification {
        incident_id: None,
        kind: "advisory".into(),
        authority: None,
        contact_id: None,
        dedup_key: match reminder {
            Some(at) => format!("advisory:{}:{org_id}:reminder:{}", a.id, at.timestamp_micros()),
            None => format!("advisory:{}:{org_id}", a.id),
        },
        recipients: addresses,
        locale: Locale::Ja,
        subject: rendered.subject,
        body_text: rendered.text,
        body_html: rendered.html,
        thread: Default::default(),
    }
}

/// Write an advisory (officers): it goes at once, through the outbox, to every hospital the
/// criteria reach (their hospital users' addresses); the recipients are fixed when it is written.
#[utoipa::path(post, path = "/api/v1/advisories", tag = "advisories", security(("bearer" = [])), request_body = NewAdvisoryInput,
    responses((status = 201, body = Advisory), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<NewAdvisoryInput>,
) -> ApiResult<HttpResponse> {
    require(&user, Action::WriteAdvisories)?;
    let input = body.into_inner();
    let mut errors = Vec::new();
    let title = checked("title", &input.title, 1, 200, &mut errors, true);
    let text = checked("body", &input.body, 1, 20_000, &mut errors, false);
    let written = |v: &Option<String>| v.as_deref().filter(|v| !v.trim().is_empty()).map(str::to_owned);
    let (title_en, body_en) = (written(&input.title_en), written(&input.body_en));
    let title_en = title_en.map(|v| checked("title_en", &v, 1, 200, &mut errors, true));
    let body_en = body_en.map(|v| checked("body_en", &v, 1, 20_000, &mut errors, false));
    if title_en.is_some() != body_en.is_some() {
        errors.push(FieldError::new("title_en", "and body_en go together: write both or neither"));
    }
    for (field, message) in input.criteria.problems() {
        errors.push(FieldError::new(field, message));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let st = state.clone();
    let advisory = in_tx(&state, move |conn| {
        if let Some(c) = &input.campaign_id {
            db::campaigns::get(conn, c)?
                .ok_or_else(|| ApiError::Validation(vec![FieldError::new("campaign_id", "names no campaign")]))?;
        }
        let now = db::now();
        let a = NewAdvisory {
            id: db::new_id(),
            title,
            body: text,
            title_en,
            body_en,
            criteria: input.criteria,
            campaign_id: input.campaign_id,
            created_by: user.id.clone(),
            created_at: now,
        };
        let mut addresses = reporters_by_hospital(conn)?;
        let mut recipients = Vec::new();
        for (org_id, prefecture, remote) in db::advisories::hospitals(conn)? {
            let remote: Vec<RemoteAccess> = db::from_json(&remote)?;
            if a.criteria.reaches(prefecture.as_deref().and_then(Prefecture::parse), &remote) {
                let told = addresses.get(&org_id).is_some_and(|to| !to.is_empty());
                recipients.push((org_id, told));
            }
        }
        db::advisories::insert(conn, &a, &recipients)?;
        let saved = db::advisories::get(conn, &a.id, None)?.ok_or(ApiError::NotFound)?;
        let mails = recipients
            .iter()
            .filter_map(|(org_id, _)| Some((org_id, addresses.remove(org_id).filter(|to| !to.is_empty())?)))
            .map(|(org_id, to)| letter_to(&st.settings, &st.keys, &saved, org_id, to, None))
            .collect();
        db::notifications::enqueue_many(conn, mails, &outbox::mail_domain(&st.settings))?;
        let details = serde_json::json!({"title": a.title, "criteria": a.criteria, "campaign_id": a.campaign_id,
            "recipients": recipients.len()});
        super::audit_by(conn, &user, "advisory.create", ("advisory", &a.id), None, details)?;
        Ok(saved)
    })
    .await?;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/advisories/{}", advisory.id)))
        .json(advisory))
}

/// An acknowledgement without a sign-in: the token of the e-mailed link.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckInput {
    /// From the link in the advisory's e-mail (`token` of `/advisory-ack?id=…&token=…`).
    #[schema(max_length = 200)]
    pub token: Option<String>,
}

/// A hospital's acknowledgement.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Acknowledgement {
    pub organization_id: String,
    pub acknowledged_at: DateTime<Utc>,
}

/// Acknowledge an advisory: a signed-in user of a hospital it was sent to (no body), or anyone
/// holding the link from that hospital's e-mail (`{token}`, no sign-in). The first acknowledgement
/// stands; acknowledging again answers the same.
#[utoipa::path(post, path = "/api/v1/advisories/{id}/ack", tag = "advisories", params(("id" = String, Path)),
    request_body(content = Option<AckInput>), security((), ("bearer" = [])),
    responses((status = 200, body = Acknowledgement), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn ack(
    state: web::Data<AppState>,
    user: Option<AuthUser>,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<web::Json<Acknowledgement>> {
    let id = id.into_inner();
    let token = optional_body::<AckInput>(&body)?.token;
    let (org_id, by) = match (&token, &user) {
        (Some(t), _) => {
            let (org, signature) = t.split_once('.').unwrap_or(("", ""));
            if org.is_empty() || !state.keys.verify_link(ACK, &[&id, org], signature) {
                return Err(ApiError::validation("token", "is not the link of this advisory's e-mail"));
            }
            (org.to_owned(), None)
        }
        (None, Some(u)) => {
            require(u, Action::AcknowledgeAdvisory)?;
            (u.org_id.clone(), Some(u.clone()))
        }
        (None, None) => return Err(ApiError::Unauthorized("sign in, or use the link in the advisory's e-mail".into())),
    };
    let ack = in_tx(&state, move |conn| {
        let at = db::advisories::acknowledge(conn, &id, &org_id, by.as_ref().map(|u| u.id.as_str()), db::now())?
            .ok_or(ApiError::NotFound)?;
        let details =
            serde_json::json!({"organization_id": org_id, "by": if by.is_some() { "user" } else { "e-mail link" }});
        match &by {
            Some(u) => super::audit_by(conn, u, "advisory.acknowledge", ("advisory", &id), None, details)?,
            None => db::audit::append(
                conn,
                &db::audit::AuditEvent {
                    actor_id: None,
                    actor_label: "e-mail link",
                    action: "advisory.acknowledge",
                    target_type: "advisory",
                    target_id: &id,
                    incident_id: None,
                    request_id: None,
                    details,
                },
            )?,
        }
        Ok(Acknowledgement { organization_id: org_id, acknowledged_at: at })
    })
    .await?;
    Ok(web::Json(ack))
}

/// Whom to remind.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemindInput {
    /// Hospitals that have not acknowledged and were last told at least this many hours ago
    /// (default 24).
    #[schema(minimum = 0, maximum = 720)]
    pub older_than_hours: Option<i64>,
}

/// How many hospitals were reminded.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Reminded {
    pub reminded: usize,
}

/// Remind the hospitals that have not acknowledged (officers).
#[utoipa::path(post, path = "/api/v1/advisories/{id}/remind", tag = "advisories", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Option<RemindInput>),
    responses((status = 200, body = Reminded), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn remind(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<web::Json<Reminded>> {
    require(&user, Action::WriteAdvisories)?;
    let hours = optional_body::<RemindInput>(&body)?.older_than_hours.unwrap_or(24);
    if !(0..=720).contains(&hours) {
        return Err(ApiError::validation("older_than_hours", "must be from 0 to 720"));
    }
    let id = id.into_inner();
    let st = state.clone();
    let n = in_tx(&state, move |conn| {
        let a = db::advisories::get(conn, &id, None)?.ok_or(ApiError::NotFound)?;
        let now = db::now();
        let due = db::advisories::unacknowledged(conn, &id, now - Duration::hours(hours))?;
        let addresses = reporters_by_hospital(conn)?;
        let mut mails = Vec::new();
        let mut told = Vec::new();
        for (org_id, notified) in due {
            let Some(to) = addresses.get(&org_id).filter(|a| !a.is_empty()) else { continue };
            // A hospital that had nobody to write to when the advisory went out gets it now, as
            // itself (not as a reminder of something it never received).
            let reminder = notified.then_some(now);
            mails.push(letter_to(&st.settings, &st.keys, &a, &org_id, to.clone(), reminder));
            told.push((org_id, notified));
        }
        db::advisories::reminded(conn, &id, &told, now)?;
        db::notifications::enqueue_many(conn, mails, &outbox::mail_domain(&st.settings))?;
        let told: Vec<String> = told.into_iter().map(|(o, _)| o).collect();
        let details = serde_json::json!({"older_than_hours": hours, "reminded": told});
        super::audit_by(conn, &user, "advisory.remind", ("advisory", &id), None, details)?;
        Ok(told.len())
    })
    .await?;
    state.outbox_wake.notify_one();
    Ok(web::Json(Reminded { reminded: n }))
}
