//! Outcome statistics and the CSV export, for duty officers: how long reporting, triage, dispatch
//! and recovery take (the ministry's outcome measure is a shorter time to restore care).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::with_conn;
use crate::auth::{AuthUser, Scope};
use crate::db::incidents::{Cursor, Filters, Order};
use crate::db::stats::{Group, GroupBy, Snapshot};
use crate::db::{self};
use crate::domain::Prefecture;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stats", web::get().to(stats))
        .route("/stats.csv", web::get().to(stats_csv))
        .route("/incidents/export.csv", web::get().to(export));
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// First day (JST, inclusive), default 365 days ago.
    pub from: Option<NaiveDate>,
    /// Last day (JST, inclusive), default today.
    pub to: Option<NaiveDate>,
    pub group_by: Option<GroupBy>,
    /// true: drills only (they are excluded by default).
    pub drill: Option<bool>,
}

/// Statistics over a period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: GroupBy,
    pub drill: bool,
    /// When these figures were computed. Statistics are served from snapshots: while incidents
    /// change, a snapshot is at most `stats.refresh_seconds` (default 60) old; a request with
    /// `Cache-Control: no-cache` has them computed now.
    pub as_of: DateTime<Utc>,
    pub groups: Vec<StatsGroup>,
}

/// One group, labelled.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatsGroup {
    #[serde(flatten)]
    pub group: Group,
    /// A readable label (prefecture names in Japanese).
    pub label: String,
}

/// Midnight JST of a day, as UTC.
fn jst_midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).map(|t| t.and_utc() - Duration::hours(9)).unwrap_or_else(Utc::now)
}

fn require_officer(user: &AuthUser) -> ApiResult<()> {
    crate::auth::policy::require(user, crate::auth::policy::Action::ReadStats)
}

fn period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> ApiResult<(NaiveDate, NaiveDate)> {
    let today = crate::domain::deadlines::jst_date(db::now());
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(365));
    if from > to {
        return Err(ApiError::validation("from", "must not be after to"));
    }
    Ok((from, to))
}

/// Count, median and p90 of each duration per group (drills excluded unless asked).
#[utoipa::path(get, path = "/api/v1/stats", tag = "stats", security(("bearer" = [])), params(StatsQuery),
    responses((status = 200, body = Stats), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn stats(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<StatsQuery>,
) -> ApiResult<web::Json<Stats>> {
    Ok(web::Json(compute(&req, &state, &user, q.into_inner()).await?))
}

/// The figures of `GET /stats` as CSV: one row per group, for each duration its count, median and
/// p90 in hours (a spreadsheet's reading of the same numbers; small groups show as small counts).
#[utoipa::path(get, path = "/api/v1/stats.csv", tag = "stats", security(("bearer" = [])), params(StatsQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn stats_csv(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<StatsQuery>,
) -> ApiResult<HttpResponse> {
    let s = compute(&req, &state, &user, q.into_inner()).await?;
    let hours = |v: Option<f64>| v.map(|x| format!("{:.2}", x / 3600.0)).unwrap_or_default();
    let mut header = vec!["group".to_owned(), "label".to_owned(), "incidents".to_owned()];
    for (name, _, _) in db::stats::METRICS {
        header.extend([format!("{name}_count"), format!("{name}_median_hours"), format!("{name}_p90_hours")]);
    }
    let mut out = header.join(",") + "\r\n";
    for g in &s.groups {
        let mut row = vec![csv_field(&g.group.key), csv_field(&g.label), g.group.count.to_string()];
        for (name, _, _) in db::stats::METRICS {
            let m = g.group.metrics.get(name);
            row.push(m.map(|m| m.count).unwrap_or(0).to_string());
            row.push(hours(m.and_then(|m| m.median_seconds)));
            row.push(hours(m.and_then(|m| m.p90_seconds)));
        }
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    let name = String::from(s.group_by).replace(':', "-");
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"hikeshi-stats-{name}.csv\"")))
        .body(out))
}

async fn compute(
    req: &actix_web::HttpRequest,
    state: &web::Data<AppState>,
    user: &AuthUser,
    q: StatsQuery,
) -> ApiResult<Stats> {
    require_officer(user)?;
    let (from, to) = period(q.from, q.to)?;
    let group_by = q.group_by.unwrap_or(GroupBy::Prefecture);
    let drill = q.drill.unwrap_or(false);
    let no_cache = req
        .headers()
        .get_all(actix_web::http::header::CACHE_CONTROL)
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|d| d.trim().eq_ignore_ascii_case("no-cache")));
    let key = format!("{group_by:?}|{from}|{to}|{drill}");
    let limits = &state.settings.stats;
    let (refresh, max_age) = (Duration::seconds(limits.refresh_seconds), Duration::seconds(limits.max_age_seconds));
    let k = key.clone();
    let cached = if no_cache {
        None
    } else {
        with_conn(state, move |conn| Ok(db::stats::fresh_snapshot(conn, &k, refresh, max_age)?.1)).await?
    };
    let snapshot = match cached {
        Some(s) => s,
        None => {
            // Computed once per process at a time; whoever waited looks again first.
            let _computing = state.stats_lock.lock().await;
            let (from_t, to_t) = (jst_midnight(from), jst_midnight(to + Duration::days(1)));
            with_conn(state, move |conn| {
                let (mark, fresh) = db::stats::fresh_snapshot(conn, &key, refresh, max_age)?;
                if let (false, Some(s)) = (no_cache, fresh) {
                    return Ok(s);
                }
                let computed_at = db::now();
                let groups = db::stats::aggregate(conn, group_by, from_t, to_t, drill)?;
                let s = Snapshot { groups, mark, computed_at };
                db::stats::store_snapshot(conn, &key, &s)?;
                Ok(s)
            })
            .await?
        }
    };
    let groups = snapshot
        .groups
        .into_iter()
        .map(|g| {
            let label = match group_by {
                GroupBy::Prefecture => {
                    Prefecture::parse(&g.key).map(|p| p.name_ja().to_owned()).unwrap_or(g.key.clone())
                }
                GroupBy::Category => {
                    crate::domain::vocabulary::label_ja("category", &g.key).map(str::to_owned).unwrap_or(g.key.clone())
                }
                GroupBy::Checklist(_) => crate::domain::vocabulary::label_ja("checklist_state", &g.key)
                    .map(str::to_owned)
                    .unwrap_or(g.key.clone()),
                _ => g.key.clone(),
            };
            StatsGroup { group: g, label }
        })
        .collect();
    Ok(Stats { from, to, group_by, drill, as_of: snapshot.computed_at, groups })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub drill: Option<bool>,
    /// Drop hospital identity (name, code, id; beds as a band).
    pub pseudonymize: Option<bool>,
}

/// One CSV cell. A text that a spreadsheet would take for a formula (it starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return, and is not a number) gets a leading `'`, as OWASP's "CSV
/// Injection" advises, so that opening the export never runs `=cmd|…`.
fn csv_field(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err();
    let s = if formula { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn hours(later: Option<DateTime<Utc>>, earlier: Option<DateTime<Utc>>) -> String {
    match (later, earlier) {
        (Some(l), Some(e)) => format!("{:.2}", (l - e).num_seconds() as f64 / 3600.0),
        _ => String::new(),
    }
}

fn band(beds: Option<i32>) -> &'static str {
    match beds {
        None => "unknown",
        Some(b) if b < 20 => "0-19",
        Some(b) if b < 200 => "20-199",
        Some(b) if b < 400 => "200-399",
        Some(_) => "400+",
    }
}

/// One row per incident, UTF-8 with BOM (spreadsheet software in Japan opens it as UTF-8).
#[utoipa::path(get, path = "/api/v1/incidents/export.csv", tag = "stats", security(("bearer" = [])), params(ExportQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn export(state: web::Data<AppState>, user: AuthUser, q: web::Query<ExportQuery>) -> ApiResult<HttpResponse> {
    require_officer(&user)?;
    let q = q.into_inner();
    let (from, to) = period(q.from, q.to)?;
    let pseudo = q.pseudonymize.unwrap_or(false);
    let drill = q.drill.unwrap_or(false);
    let (start, end) = (jst_midnight(from), jst_midnight(to + Duration::days(1)));
    let csv = with_conn(&state, move |conn| {
        // The export is a read of every incident in the period: recorded with its filter.
        let filter = serde_json::json!({"from": from, "to": to, "pseudonymize": pseudo, "drill": drill});
        super::record_read(conn, &user, "export.csv", None, filter)?;
        let mut out = String::from("\u{feff}");
        let head = if pseudo {
            "reference,prefecture,bed_band"
        } else {
            "reference,hospital_id,hospital_name,hospital_code,prefecture,beds,bed_band"
        };
        out.push_str(head);
        out.push_str(
            ",category,severity,status,care_impact,personal_data,persons_estimate,drill,detected_at,reported_at,\
            triaged_at,dispatch_accepted_at,on_site_at,emergency_accepting_at,fully_normal_at,hours_to_report,\
            hours_to_triage,hours_to_dispatch_accepted,hours_to_care_resumed,hours_to_full_recovery\r\n",
        );
        // The period is read in the statement: the export costs the incidents of its period only.
        let filters = Filters { drill: Some(drill), reported: Some((start, end)), ..Default::default() };
        let mut after: Option<Cursor> = None;
        let mut names = std::collections::HashMap::new();
        loop {
            let page = db::incidents::list(conn, &Scope::All, &filters, Order::Recent, after.as_ref(), 1000)?;
            let Some(last) = page.last() else { break };
            after = Some(Cursor { score: last.priority.score, reported_at: last.reported_at, id: last.id.clone() });
            let done = page.len() < 1000;
            if !pseudo {
                // The page's hospitals not yet named, in one statement.
                let missing: Vec<&str> =
                    page.iter().map(|i| i.hospital_id.as_str()).filter(|h| !names.contains_key(*h)).collect();
                for (id, h) in db::orgs::by_ids(conn, &missing)? {
                    names.insert(id, (h.name, h.code.unwrap_or_default()));
                }
            }
            for i in page {
                let t = |x: Option<DateTime<Utc>>| {
                    x.map(|v| v.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
                };
                let mut row: Vec<String> = vec![i.reference.clone()];
                if !pseudo {
                    let (name, code) = names.get(&i.hospital_id).cloned().unwrap_or_default();
                    row.extend([
                        i.hospital_id.clone(),
                        name,
                        code,
                        i.prefecture.code(),
                        i.beds.map(|b| b.to_string()).unwrap_or_default(),
                    ]);
                } else {
                    row.push(i.prefecture.code());
                }
                row.push(band(i.beds).into());
                let f = &i.facts;
                row.extend([
                    f.category.to_string(),
                    i.severity.to_string(),
                    i.status.to_string(),
                    f.care_impact.to_string(),
                    f.personal_data.status.to_string(),
                    f.personal_data.persons_estimate.map(|n| n.to_string()).unwrap_or_default(),
                    f.drill.to_string(),
                    t(Some(f.detected_at)),
                    t(Some(i.reported_at)),
                    t(i.triaged_at),
                    t(i.dispatch_accepted_at),
                    t(i.on_site_at),
                    t(i.milestones.emergency_accepting),
                    t(i.milestones.fully_normal),
                    hours(Some(i.reported_at), Some(f.detected_at)),
                    hours(i.triaged_at, Some(i.reported_at)),
                    hours(i.dispatch_accepted_at, Some(i.reported_at)),
                    hours(i.milestones.emergency_accepting, Some(f.detected_at)),
                    hours(i.milestones.fully_normal, Some(f.detected_at)),
                ]);
                out.push_str(&row.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
                out.push_str("\r\n");
            }
            if done {
                break;
            }
        }
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"hikeshi-incidents.csv\""))
        .body(csv))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    /// OWASP "CSV Injection": formulas are neutralised, numbers (negative ones too) are not.
    #[test]
    fn spreadsheet_formulas_are_neutralised_and_numbers_kept() {
        let rows = [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+SUM(A1:A2)", "'+SUM(A1:A2)"),
            ("-2+3", "'-2+3"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\t=1", "'\t=1"),
            ("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
            ("-1.50", "-1.50"),
            ("+81", "+81"),
            ("火消総合病院", "火消総合病院"),
            ("a,b", "\"a,b\""),
        ];
        for (cell, written) in rows {
            assert_eq!(csv_field(cell), written, "{cell:?}");
        }
    }
}
