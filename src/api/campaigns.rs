//! Campaigns across hospitals and the national situation, for duty officers (and administrators,
//! read only). Both name hospitals: nobody else reads them.

use std::collections::BTreeMap;

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{decode_cursor, in_tx, optional_body, page_limit, paginate, with_conn, Page};
use crate::auth::policy::{require, Action};
use crate::auth::AuthUser;
use crate::db::campaigns::Campaign;
use crate::db::{self};
use crate::domain::{CampaignStatus, CareImpact, Prefecture};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/campaigns", web::get().to(list))
        .route("/campaigns/{id}", web::get().to(get))
        .route("/campaigns/{id}/confirm", web::post().to(confirm))
        .route("/campaigns/{id}/dismiss", web::post().to(dismiss))
        .route("/situation", web::get().to(situation));
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    /// Only campaigns of this status (default: proposed and confirmed).
    pub status: Option<CampaignStatus>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Campaigns, newest first, each with its incidents and the evidence linking them.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", security(("bearer" = [])), params(CampaignQuery),
    responses((status = 200, body = Page<Campaign>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<CampaignQuery>,
) -> ApiResult<web::Json<Page<Campaign>>> {
    require(&user, Action::ReadCampaigns)?;
    let limit = page_limit(q.limit)?;
    let before: Option<(DateTime<Utc>, String)> = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let status = q.status;
    let rows = with_conn(&state, move |conn| Ok(db::campaigns::list(conn, status, before, limit + 1)?)).await?;
    Ok(web::Json(paginate(rows, limit, |c| (c.created_at, c.id.clone()), |c| c)))
}

/// One campaign.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Campaign), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> ApiResult<web::Json<Campaign>> {
    require(&user, Action::ReadCampaigns)?;
    let id = id.into_inner();
    let c = with_conn(&state, move |conn| db::campaigns::get(conn, &id)?.ok_or(ApiError::NotFound)).await?;
    Ok(web::Json(c))
}

/// An officer's decision on a proposed campaign.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Why (kept with the campaign and in the audit trail).
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

async fn decide(
    state: web::Data<AppState>,
    user: AuthUser,
    id: String,
    body: web::Bytes,
    status: CampaignStatus,
) -> ApiResult<web::Json<Campaign>> {
    require(&user, Action::DecideCampaigns)?;
    let body: Decision = optional_body(&body)?;
    let note = body.note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::validation("note", "must be at most 2000 characters"));
    }
    let c = in_tx(&state, move |conn| {
        let c = db::campaigns::get(conn, &id)?.ok_or(ApiError::NotFound)?;
        if c.status != CampaignStatus::Proposed {
            return Err(ApiError::Conflict(format!("the campaign is already {}", c.status)));
        }
        if !db::campaigns::decide(conn, &id, c.version, status, &user.id, note.as_deref(), db::now())? {
            return Err(ApiError::Conflict("the campaign changed meanwhile: look at it again".into()));
        }
        let action = if status == CampaignStatus::Confirmed { "campaign.confirm" } else { "campaign.dismiss" };
        let details =
            serde_json::json!({"note": note, "incidents": c.incidents.iter().map(|i| &i.id).collect::<Vec<_>>()});
        super::audit_by(conn, &user, action, ("campaign", &id), None, details)?;
        db::campaigns::get(conn, &id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(web::Json(c))
}

/// Confirm a proposed campaign: its incidents belong together (incidents that match later join it).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/confirm", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Option<Decision>),
    responses((status = 200, body = Campaign), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn confirm(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<web::Json<Campaign>> {
    decide(state, user, id.into_inner(), body, CampaignStatus::Confirmed).await
}

/// Dismiss a proposed campaign: the links are a coincidence (the same incidents are not proposed
/// again; a new matching incident proposes anew).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/dismiss", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Option<Decision>),
    responses((status = 200, body = Campaign), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn dismiss(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<web::Json<Campaign>> {
    decide(state, user, id.into_inner(), body, CampaignStatus::Dismissed).await
}

/// One prefecture on the national map.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrefectureSituation {
    pub code: Prefecture,
    pub name_ja: String,
    pub name_en: String,
    /// Incidents not yet recovered, closed or withdrawn (drills excluded).
    pub active_incidents: i64,
    /// The worst care impact among them (null: none active).
    pub worst_care_impact: Option<CareImpact>,
    /// Open campaigns with an incident here.
    pub campaign_ids: Vec<String>,
}

/// An open campaign on the map.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignMark {
    pub id: String,
    pub status: CampaignStatus,
    pub incident_count: usize,
    pub prefectures: Vec<Prefecture>,
}

/// The national situation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Situation {
    pub generated_at: DateTime<Utc>,
    /// All 47, in JIS order.
    pub prefectures: Vec<PrefectureSituation>,
    pub campaigns: Vec<CampaignMark>,
}

/// Per prefecture: active incidents, the worst care impact, open campaigns (the national map).
#[utoipa::path(get, path = "/api/v1/situation", tag = "campaigns", security(("bearer" = [])),
    responses((status = 200, body = Situation), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn situation(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<Situation>> {
    require(&user, Action::ReadCampaigns)?;
    let (active, marks) = with_conn(&state, move |conn| {
        Ok((db::stats::active_by_prefecture(conn)?, db::campaigns::open_by_prefecture(conn)?))
    })
    .await?;
    let mut campaigns: BTreeMap<String, CampaignMark> = BTreeMap::new();
    for (id, status, prefecture) in &marks {
        let mark = campaigns.entry(id.clone()).or_insert_with(|| CampaignMark {
            id: id.clone(),
            status: status.parse().unwrap_or(CampaignStatus::Proposed),
            incident_count: 0,
            prefectures: Vec::new(),
        });
        mark.incident_count += 1;
        if let Some(p) = Prefecture::parse(prefecture) {
            if !mark.prefectures.contains(&p) {
                mark.prefectures.push(p);
            }
        }
    }
    let prefectures = Prefecture::all()
        .map(|p| {
            let (count, worst) = active.get(&p.code()).cloned().unwrap_or((0, None));
            PrefectureSituation {
                code: p,
                name_ja: p.name_ja().into(),
                name_en: p.name_en().into(),
                active_incidents: count,
                worst_care_impact: worst,
                campaign_ids: campaigns.values().filter(|c| c.prefectures.contains(&p)).map(|c| c.id.clone()).collect(),
            }
        })
        .collect();
    Ok(web::Json(Situation { generated_at: db::now(), prefectures, campaigns: campaigns.into_values().collect() }))
}
