//! Responder teams and their members' availability, and the ranking of teams for an incident.

use super::*;

/// A responder on a team.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub availability: Option<Availability>,
}

/// A responder team with its members and load.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub prefecture: Option<Prefecture>,
    pub skills: Vec<Skill>,
    /// Prefectures covered.
    pub prefectures: Vec<Prefecture>,
    pub members: Vec<Member>,
    /// Active dispatches.
    pub load: i64,
    pub version: i32,
}

fn teams(conn: &mut AnyConnection, only: Option<&str>) -> ApiResult<Vec<Team>> {
    let orgs = db::orgs::list(conn, Some(OrgKind::ResponderTeam), None, 1000)?;
    let loads = db::dispatches::active_counts(conn)?;
    let mut out = Vec::new();
    for o in orgs.into_iter().filter(|o| only.is_none_or(|id| id == o.id)) {
        let members = db::users::by_org_and_role(conn, Some(&o.id), Role::Responder)?
            .into_iter()
            .map(|u| Member { id: u.id, name: u.name, availability: u.availability })
            .collect();
        out.push(Team {
            load: loads.iter().find(|(t, _)| *t == o.id).map(|(_, n)| *n).unwrap_or(0),
            id: o.id,
            name: o.name,
            prefecture: o.prefecture,
            skills: o.skills,
            prefectures: o.coverage,
            members,
            version: o.version,
        });
    }
    Ok(out)
}

/// Responder teams (officers, admins; responders see their own).
#[utoipa::path(get, path = "/api/v1/responder-teams", tag = "dispatch", security(("bearer" = [])),
    responses((status = 200, body = Vec<Team>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_teams(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<Vec<Team>>> {
    require(&user, Action::ReadTeams)?;
    let list = with_conn(&state, move |conn| {
        // Responders see their own team only.
        teams(conn, (user.role == Role::Responder).then_some(user.org_id.as_str()))
    })
    .await?;
    Ok(web::Json(list))
}

/// Changes to a team.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // documents the body, read field by field (in step: tests/api/contract.rs)
pub struct TeamPatch {
    #[schema(max_items = 6)]
    pub skills: Option<Vec<Skill>>,
    /// Prefectures covered.
    #[schema(max_items = 47)]
    pub prefectures: Option<Vec<Prefecture>>,
}

/// Set a team's skills and coverage (officers, admins; `If-Match` required).
#[utoipa::path(patch, path = "/api/v1/responder-teams/{id}", tag = "dispatch", security(("bearer" = [])),
    params(("id" = String, Path), ("If-Match" = String, Header, description = "ETag of the version changed")), request_body = TeamPatch,
    responses((status = 200, body = Team), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update_team(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    require(&user, Action::ManageTeams)?;
    let version = if_match(&req)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let mut errors = Vec::new();
    let mut r = Reader::new(&body, "", &mut errors);
    let skills = body.contains_key("skills").then(|| r.enumerations::<Skill>("skills", 6));
    let prefectures = body.contains_key("prefectures").then(|| r.strings("prefectures", 47, 2));
    r.finish();
    let coverage: Option<Vec<Prefecture>> = prefectures.map(|codes| {
        let mut out = Vec::new();
        for c in codes {
            match Prefecture::parse(&c) {
                Some(p) if !out.contains(&p) => out.push(p),
                Some(_) => {}
                None => errors
                    .push(crate::domain::FieldError::new("prefectures", format!("{c:?} is not a prefecture code"))),
            }
        }
        out
    });
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let team = in_tx(&state, move |conn| {
        let current = db::orgs::get(conn, &id)?.filter(|o| o.kind == OrgKind::ResponderTeam);
        let change = |_: &mut AnyConnection, mut o: Organization| {
            if let Some(s) = skills {
                o.skills = s;
            }
            if let Some(c) = coverage {
                o.coverage = c;
            }
            Ok(o)
        };
        let (_, o) = crate::api::update_if_match(conn, version, current, change, db::orgs::update)?;
        crate::api::audit_by(
            conn,
            &user,
            "team.update",
            ("organization", &o.id),
            None,
            json!({"skills": o.skills, "prefectures": o.coverage}),
        )?;
        teams(conn, Some(&o.id))?.pop().ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(team.version))).json(team))
}

/// A responder's availability.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityRequest {
    pub availability: Availability,
}

/// Set a responder's availability (the responder; officers and admins for anyone).
#[utoipa::path(patch, path = "/api/v1/responders/{id}", tag = "dispatch", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AvailabilityRequest,
    responses((status = 200, body = Member), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_responder(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<AvailabilityRequest>,
) -> ApiResult<web::Json<Member>> {
    let id = id.into_inner();
    let availability = body.availability;
    let m = in_tx(&state, move |conn| {
        let mut u = db::users::get(conn, &id)?.filter(|u| u.role == Role::Responder).ok_or(ApiError::NotFound)?;
        let may = u.id == user.id || allows(user.role, Action::SetAnyAvailability);
        if !may {
            // A teammate exists for the caller (403); anyone else's responder does not (404).
            return Err(if user.role == Role::Responder && u.org_id == user.org_id {
                ApiError::Forbidden("responders set only their own availability".into())
            } else {
                ApiError::NotFound
            });
        }
        u.availability = Some(availability);
        u.updated_at = db::now();
        db::users::save(conn, &u)?;
        crate::api::audit_by(
            conn,
            &user,
            "responder.availability",
            ("user", &u.id),
            None,
            json!({"availability": availability}),
        )?;
        Ok(Member { id: u.id, name: u.name, availability: u.availability })
    })
    .await?;
    Ok(web::Json(m))
}

/// Skills an incident of a category usually needs.
pub fn skills_for(category: Category) -> &'static [Skill] {
    use Skill::*;
    match category {
        Category::Ransomware => &[Forensics, ActiveDirectory, BackupRestore],
        Category::UnauthorizedAccess => &[Forensics, Network, ActiveDirectory],
        Category::Malware => &[Forensics, Network],
        Category::AccountCompromise => &[ActiveDirectory, Forensics],
        Category::SupplyChain => &[Network, EmrVendorLiaison, Forensics],
        Category::Dos => &[Network],
        Category::WebDefacement => &[Network, Communications],
        Category::SystemFailure => &[EmrVendorLiaison, BackupRestore],
        _ => &[Communications],
    }
}

/// One reason in a suggestion's score.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SuggestionReason {
    pub factor: String,
    pub points: i32,
    /// In Japanese and English.
    pub detail: String,
}

/// A ranked team for an incident.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Suggestion {
    pub team: Team,
    pub score: i32,
    pub reasons: Vec<SuggestionReason>,
    /// Members who are on call or available.
    pub available_responder_ids: Vec<String>,
}

/// Ranks teams for an incident: coverage of the hospital's prefecture (or a neighbour), matching
/// skills, availability and current load, each with its reason.
pub fn rank(team_list: Vec<Team>, prefecture: Prefecture, needs: &[Skill]) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = team_list
        .into_iter()
        .map(|t| {
            let mut reasons = Vec::new();
            let mut add = |factor: &str, points: i32, detail: String| {
                reasons.push(SuggestionReason { factor: factor.into(), points, detail })
            };
            if t.prefectures.contains(&prefecture) {
                add("coverage", 30, format!("{}を担当 / covers {}", prefecture.name_ja(), prefecture.name_en()));
            } else if let Some(n) = t.prefectures.iter().find(|p| p.is_neighbour_of(prefecture)) {
                add(
                    "coverage_neighbour",
                    15,
                    format!("隣接する{}を担当 / covers neighbouring {}", n.name_ja(), n.name_en()),
                );
            }
            let matched: Vec<&Skill> = needs.iter().filter(|s| t.skills.contains(s)).collect();
            if !matched.is_empty() {
                let names: Vec<&str> = matched.iter().map(|s| s.as_str()).collect();
                add("skills", 10 * matched.len() as i32, format!("必要なスキル / needed skills: {}", names.join(", ")));
            }
            let available: Vec<String> = t
                .members
                .iter()
                .filter(|m| matches!(m.availability, Some(Availability::OnCall | Availability::Available)))
                .map(|m| m.id.clone())
                .collect();
            if t.members.iter().any(|m| m.availability == Some(Availability::OnCall)) {
                add("availability", 20, "待機中の専門家あり / a responder is on call".into());
            } else if !available.is_empty() {
                add("availability", 15, "対応可能な専門家あり / a responder is available".into());
            } else if t.members.is_empty() {
                add("availability", -50, "メンバーなし / no responders".into());
            } else {
                add("availability", -30, "対応可能な専門家なし / nobody available".into());
            }
            if t.load > 0 {
                add("load", -10 * t.load as i32, format!("対応中の派遣 {} 件 / {} active dispatches", t.load, t.load));
            }
            let score = reasons.iter().map(|r| r.points).sum();
            Suggestion { team: t, score, reasons, available_responder_ids: available }
        })
        .collect();
    out.sort_by(|a, b| b.score.cmp(&a.score).then(a.team.name.cmp(&b.team.name)));
    out
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    pub incident_id: String,
}

/// Teams ranked for an incident, with reasons (duty officers).
#[utoipa::path(get, path = "/api/v1/responder-teams/suggestions", tag = "dispatch", security(("bearer" = [])), params(SuggestionQuery),
    responses((status = 200, body = Vec<Suggestion>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn suggestions(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<SuggestionQuery>,
) -> ApiResult<web::Json<Vec<Suggestion>>> {
    require(&user, Action::SuggestTeams)?;
    let incident_id = q.into_inner().incident_id;
    let list = with_conn(&state, move |conn| {
        let (i, _) = load_incident(conn, &user, &incident_id)?;
        let mut needs: Vec<Skill> = skills_for(i.facts.category).to_vec();
        for s in db::dispatches::support_for_incident(conn, &i.id)? {
            if s.status != SupportStatus::Declined {
                for n in s.needs {
                    if !needs.contains(&n) {
                        needs.push(n);
                    }
                }
            }
        }
        Ok(rank(teams(conn, None)?, i.prefecture, &needs))
    })
    .await?;
    Ok(web::Json(list))
}
