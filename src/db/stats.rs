//! Outcome statistics, aggregated in the database: per group, the count of incidents and the
//! median and 90th percentile of each duration (linear interpolation, like `percentile_cont`),
//! with PostgreSQL's `percentile_cont` and, on SQLite, window functions.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema::{incidents, stats_snapshots};
use super::{from_json, to_json, ts, utc, AnyConnection, DbResult};
use crate::domain::{CareImpact, ChecklistItem};

/// How incidents are grouped: `category`, `prefecture`, `bed_band`, `month`, or
/// `checklist:<item>` (the hospital's state of a checklist item when the incident was detected, as
/// it had recorded it by then: `done`, `not_done`, `unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum GroupBy {
    Category,
    Prefecture,
    BedBand,
    Month,
    Checklist(ChecklistItem),
}

impl GroupBy {
    /// Every grouping, in its wire spelling.
    pub fn all() -> impl Iterator<Item = GroupBy> {
        [GroupBy::Category, GroupBy::Prefecture, GroupBy::BedBand, GroupBy::Month]
            .into_iter()
            .chain(ChecklistItem::ALL.iter().map(|i| GroupBy::Checklist(*i)))
    }
}

impl From<GroupBy> for String {
    fn from(g: GroupBy) -> String {
        match g {
            GroupBy::Category => "category".into(),
            GroupBy::Prefecture => "prefecture".into(),
            GroupBy::BedBand => "bed_band".into(),
            GroupBy::Month => "month".into(),
            GroupBy::Checklist(i) => format!("checklist:{i}"),
        }
    }
}

impl TryFrom<String> for GroupBy {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        GroupBy::all().find(|g| String::from(*g) == s).ok_or_else(|| {
            let all: Vec<String> = GroupBy::all().map(String::from).collect();
            format!("must be one of: {}", all.join(", "))
        })
    }
}

impl utoipa::PartialSchema for GroupBy {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(GroupBy::all().map(String::from)))
            .description(Some(
                "How incidents are grouped. `checklist:<item>`: by the hospital's state of that checklist item \
                 when the incident was detected, as recorded by then (`done`: in place; `not_done`: recorded as \
                 not in place, or in place only from a later day; `unknown`: nothing recorded by then, except a \
                 measure recorded later as in place since a named earlier day, which counts as `done`).",
            ))
            .into()
    }
}

impl ToSchema for GroupBy {}

/// The durations measured per incident: (name, later column, earlier column).
pub const METRICS: [(&str, &str, &str); 6] = [
    ("time_to_report", "reported_at", "detected_at"),
    ("time_to_triage", "triaged_at", "reported_at"),
    ("time_to_dispatch_accepted", "dispatch_accepted_at", "reported_at"),
    ("time_to_on_site", "on_site_at", "reported_at"),
    ("time_to_care_resumed", "emergency_accepting_at", "detected_at"),
    ("time_to_full_recovery", "fully_normal_at", "detected_at"),
];

fn group_expr(kind: super::DbKind, g: GroupBy) -> String {
    match g {
        GroupBy::Category => "category".into(),
        GroupBy::Prefecture => "prefecture".into(),
        GroupBy::BedBand => "CASE WHEN beds IS NULL THEN 'unknown' WHEN beds < 20 THEN '0-19' \
                             WHEN beds < 200 THEN '20-199' WHEN beds < 400 THEN '200-399' ELSE '400+' END"
            .into(),
        GroupBy::Month => kind.jst_month("reported_at"),
        // What the hospital had recorded when the incident was detected: its last entry before
        // then (done counts from the day it named, if it named one). Nothing recorded by then: a
        // measure recorded later counts as done only from a day it named, before the detection
        // day; anything else is unknown, never assumed. `item` is an enumeration's constant text.
        GroupBy::Checklist(item) => format!(
            "COALESCE(\
               (SELECT CASE WHEN h.done AND (h.done_since IS NULL OR h.done_since <= {day}) THEN 'done' \
                       ELSE 'not_done' END \
                FROM checklist_history h WHERE h.org_id = incidents.hospital_id AND h.item = '{item}' \
                  AND h.recorded_at <= incidents.detected_at \
                ORDER BY h.recorded_at DESC, h.id DESC LIMIT 1), \
               (SELECT 'done' FROM checklist_items c WHERE c.org_id = incidents.hospital_id AND c.item = '{item}' \
                  AND c.done AND c.done_since IS NOT NULL AND c.done_since <= {day}), \
               'unknown')",
            day = kind.jst_date("incidents.detected_at"),
            item = item.as_str()
        ),
    }
}

#[derive(QueryableByName, Debug)]
struct Row {
    #[diesel(sql_type = Text)]
    metric: String,
    #[diesel(sql_type = Text)]
    g: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Double>)]
    median: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p90_lo: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p90_hi: Option<f64>,
}

/// Count, median and p90 of one duration in one group, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    /// Incidents in the group where both times are known.
    pub count: i64,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Group {
    pub key: String,
    /// Incidents reported in the period.
    pub count: i64,
    /// Per duration name (`time_to_report`, `time_to_triage`, `time_to_dispatch_accepted`,
    /// `time_to_on_site`, `time_to_care_resumed`, `time_to_full_recovery`).
    pub metrics: std::collections::BTreeMap<String, Summary>,
}

/// Aggregates incidents reported in `[from, to)`; drills only when `drill` is true.
pub fn aggregate(
    conn: &mut AnyConnection,
    group_by: GroupBy,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    drill: bool,
) -> DbResult<Vec<Group>> {
    let kind = conn.kind();
    let rows = match kind {
        super::DbKind::Postgres => conn.transaction(|c| {
            // The per-group sorts fit in memory instead of spilling to disk.
            diesel::sql_query("SET LOCAL work_mem = '64MB'").execute(c)?;
            aggregate_pg(c, group_by, from, to, drill)
        })?,
        super::DbKind::Sqlite => aggregate_windowed(conn, group_by, from, to, drill)?,
    };
    let mut groups: Vec<Group> = Vec::new();
    for (metric, key, summary) in rows {
        let idx = match groups.iter().position(|x| x.key == key) {
            Some(i) => i,
            None => {
                groups.push(Group { key: key.clone(), count: 0, metrics: Default::default() });
                groups.len() - 1
            }
        };
        let group = &mut groups[idx];
        if metric == "_count" {
            group.count = summary.count;
        } else {
            group.metrics.insert(metric, summary);
        }
    }
    for group in &mut groups {
        for (name, _, _) in METRICS {
            group.metrics.entry(name.into()).or_insert(Summary { count: 0, median_seconds: None, p90_seconds: None });
        }
    }
    groups.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(groups)
}

/// SQLite's julianday arithmetic carries float noise below the millisecond.
fn ms(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 1000.0).round() / 1000.0)
}

type MetricRow = (String, String, Summary);

/// PostgreSQL: one scan, one group-by, ordered-set aggregates (`percentile_cont`) per duration.
fn aggregate_pg(
    conn: &mut AnyConnection,
    group_by: GroupBy,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    drill: bool,
) -> DbResult<Vec<MetricRow>> {
    let kind = conn.kind();
    let g = group_expr(kind, group_by);
    let xs: Vec<String> = METRICS
        .iter()
        .enumerate()
        .map(|(i, (_, later, earlier))| format!("{} AS x{i}", kind.seconds_between(later, earlier)))
        .collect();
    let aggs: Vec<String> = (0..METRICS.len())
        .map(|i| {
            format!(
                "COUNT(x{i}) AS n{i}, percentile_cont(0.5) WITHIN GROUP (ORDER BY x{i}) AS m{i}, \
                 percentile_cont(0.9) WITHIN GROUP (ORDER BY x{i}) AS p{i}"
            )
        })
        .collect();
    let sql = format!(
        "SELECT g, COUNT(*) AS n, {aggs} FROM (SELECT {g} AS g, {xs} FROM incidents \
         WHERE reported_at >= $1 AND reported_at < $2 AND drill = $3) s GROUP BY g",
        aggs = aggs.join(", "),
        xs = xs.join(", ")
    );
    #[derive(QueryableByName)]
    struct PgRow {
        #[diesel(sql_type = Text)]
        g: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
        #[diesel(sql_type = BigInt)]
        n0: i64,
        #[diesel(sql_type = Nullable<Double>)]
        m0: Option<f64>,
        #[diesel(sql_type = Nullable<Double>)]
        p0: Option<f64>,
        #[diesel(sql_type = BigInt)]
        n1: i64,
        #[diesel(sql_type = Nullable<Double>)]
        m1: Option<f64>,
        #[diesel(sql_type = Nullable<Double>)]
        p1: Option<f64>,
        #[diesel(sql_type = BigInt)]
        n2: i64,
        #[diesel(sql_type = Nullable<Double>)]
        m2: Option<f64>,
        #[diesel(sql_type = Nullable<Double>)]
        p2: Option<f64>,
        #[diesel(sql_type = BigInt)]
        n3: i64,
        #[diesel(sql_type = Nullable<Double>)]
        m3: Option<f64>,
        #[diesel(sql_type = Nullable<Double>)]
        p3: Option<f64>,
        #[diesel(sql_type = BigInt)]
        n4: i64,
        #[diesel(sql_type = Nullable<Double>)]
        m4: Option<f64>,
        #[diesel(sql_type = Nullable<Double>)]
        p4: Option<f64>,
        #[diesel(sql_type = BigInt)]
        n5: i64,
        #[diesel(sql_type = Nullable<Double>)]
        m5: Option<f64>,
        #[diesel(sql_type = Nullable<Double>)]
        p5: Option<f64>,
    }
    let rows: Vec<PgRow> = diesel::sql_query(sql)
        .bind::<Timestamp, _>(ts(from))
        .bind::<Timestamp, _>(ts(to))
        .bind::<Bool, _>(drill)
        .load(conn)?;
    let mut out = Vec::new();
    for r in rows {
        let per = [
            (r.n0, r.m0, r.p0),
            (r.n1, r.m1, r.p1),
            (r.n2, r.m2, r.p2),
            (r.n3, r.m3, r.p3),
            (r.n4, r.m4, r.p4),
            (r.n5, r.m5, r.p5),
        ];
        out.push(("_count".to_owned(), r.g.clone(), Summary { count: r.n, median_seconds: None, p90_seconds: None }));
        for ((name, _, _), (n, m, p)) in METRICS.iter().zip(per) {
            out.push((
                (*name).to_owned(),
                r.g.clone(),
                Summary { count: n, median_seconds: ms(m), p90_seconds: ms(p) },
            ));
        }
    }
    Ok(out)
}

/// SQLite (no ordered-set aggregates): the same percentiles from window functions.
fn aggregate_windowed(
    conn: &mut AnyConnection,
    group_by: GroupBy,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    drill: bool,
) -> DbResult<Vec<MetricRow>> {
    let kind = conn.kind();
    let g = group_expr(kind, group_by);
    let values: Vec<String> = METRICS
        .iter()
        .map(|(name, later, earlier)| {
            format!(
                "SELECT '{name}' AS metric, g, {} AS x FROM base WHERE {later} IS NOT NULL AND {earlier} IS NOT NULL",
                kind.seconds_between(later, earlier)
            )
        })
        .collect();
    // `base` is scanned once per duration; `_count` adds each group's count of all incidents.
    let sql = format!(
        "WITH base AS (SELECT {g} AS g, detected_at, reported_at, triaged_at, dispatch_accepted_at, on_site_at, \
                emergency_accepting_at, fully_normal_at FROM incidents \
                WHERE reported_at >= $1 AND reported_at < $2 AND drill = $3), \
         v AS ({union} UNION ALL SELECT '_count' AS metric, g, 0.0 AS x FROM base), \
         r AS (SELECT metric, g, x, ROW_NUMBER() OVER (PARTITION BY metric, g ORDER BY x) AS rn, \
                COUNT(*) OVER (PARTITION BY metric, g) AS n FROM v) \
         SELECT metric, g, MAX(n) AS n, \
                AVG(CASE WHEN rn = (n + 1) / 2 OR rn = (n + 2) / 2 THEN x END) AS median, \
                MAX(CASE WHEN rn = 1 + (9 * (n - 1)) / 10 THEN x END) AS p90_lo, \
                MAX(CASE WHEN rn = 1 + (9 * (n - 1) + 9) / 10 THEN x END) AS p90_hi \
         FROM r GROUP BY metric, g ORDER BY g, metric",
        union = values.join(" UNION ALL ")
    );
    let rows: Vec<Row> = diesel::sql_query(sql)
        .bind::<Timestamp, _>(ts(from))
        .bind::<Timestamp, _>(ts(to))
        .bind::<Bool, _>(drill)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let p90 = match (r.p90_lo, r.p90_hi) {
                (Some(lo), Some(hi)) => {
                    let frac = ((9 * (r.n - 1)) % 10) as f64 / 10.0;
                    Some(lo + frac * (hi - lo))
                }
                (Some(lo), None) => Some(lo),
                _ => None,
            };
            (r.metric, r.g, Summary { count: r.n, median_seconds: ms(r.median), p90_seconds: ms(p90) })
        })
        .collect())
}

/// Per prefecture code: active incidents (drills excluded) and the worst care impact among them.
pub fn active_by_prefecture(
    conn: &mut AnyConnection,
) -> DbResult<std::collections::BTreeMap<String, (i64, Option<CareImpact>)>> {
    let rows: Vec<(String, String, i64)> = incidents::table
        .filter(super::incidents::active_condition())
        .filter(incidents::drill.eq(false))
        .group_by((incidents::prefecture, incidents::care_impact))
        .select((incidents::prefecture, incidents::care_impact, diesel::dsl::count_star()))
        .load(conn)?;
    let mut out: std::collections::BTreeMap<String, (i64, Option<CareImpact>)> = Default::default();
    for (prefecture, impact, n) in rows {
        let impact: CareImpact = super::parse_enum(&impact)?;
        let entry = out.entry(prefecture).or_insert((0, None));
        entry.0 += n;
        entry.1 = entry.1.max(Some(impact));
    }
    Ok(out)
}

/// A stored result of [`aggregate`]: computing statistics sorts every duration of the period
/// (seconds at a million incidents), so results are kept and served again while they are fresh.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub groups: Vec<Group>,
    /// [`change_mark`] when the computation started.
    pub mark: Option<DateTime<Utc>>,
    pub computed_at: DateTime<Utc>,
}

impl Snapshot {
    /// Whether the snapshot may still be served at `now`, given the incidents' current change
    /// mark: unchanged since and younger than `max_age`, or changed but younger than `refresh`.
    /// (`max_age` bounds what a change mark cannot see: a transaction that commits after a
    /// later one with an earlier `updated_at`.)
    pub fn fresh(
        &self,
        mark: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        refresh: chrono::Duration,
        max_age: chrono::Duration,
    ) -> bool {
        let age = now - self.computed_at;
        age < max_age && (self.mark == mark || age < refresh)
    }
}

/// The latest change to any incident (`updated_at` moves on every change; an index lookup).
pub fn change_mark(conn: &mut AnyConnection) -> DbResult<Option<DateTime<Utc>>> {
    let t: Option<NaiveDateTime> = incidents::table.select(diesel::dsl::max(incidents::updated_at)).first(conn)?;
    Ok(t.map(utc))
}

/// The stored snapshot for `key`, if any.
pub fn snapshot(conn: &mut AnyConnection, key: &str) -> DbResult<Option<Snapshot>> {
    let row: Option<(String, Option<NaiveDateTime>, NaiveDateTime)> = stats_snapshots::table
        .filter(stats_snapshots::key.eq(key))
        .select((stats_snapshots::groups, stats_snapshots::mark, stats_snapshots::computed_at))
        .first(conn)
        .optional()?;
    row.map(|(groups, mark, at)| {
        Ok(Snapshot { groups: from_json(&groups)?, mark: mark.map(utc), computed_at: utc(at) })
    })
    .transpose()
}

/// The incidents' change mark now, and the snapshot for `key` if it may still be served.
pub fn fresh_snapshot(
    conn: &mut AnyConnection,
    key: &str,
    refresh: chrono::Duration,
    max_age: chrono::Duration,
) -> DbResult<(Option<DateTime<Utc>>, Option<Snapshot>)> {
    let mark = change_mark(conn)?;
    let fresh = snapshot(conn, key)?.filter(|s| s.fresh(mark, super::now(), refresh, max_age));
    Ok((mark, fresh))
}

/// Stores `s` as the snapshot for `key`, unless a newer one is there already.
pub fn store_snapshot(conn: &mut AnyConnection, key: &str, s: &Snapshot) -> DbResult<()> {
    diesel::sql_query(
        "INSERT INTO stats_snapshots (key, groups, mark, computed_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET groups = excluded.groups, mark = excluded.mark, \
         computed_at = excluded.computed_at WHERE stats_snapshots.computed_at < excluded.computed_at",
    )
    .bind::<Text, _>(key)
    .bind::<Text, _>(to_json(&s.groups))
    .bind::<Nullable<Timestamp>, _>(s.mark.map(ts))
    .bind::<Timestamp, _>(ts(s.computed_at))
    .execute(conn)?;
    Ok(())
}

/// The medians a reader would compute by hand, for tests: linear-interpolated percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = p * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo]))
}
