//! Outcome statistics (count, median and p90 of each duration per group, computed in the database)
//! checked against the same figures computed here with `hikeshi::db::stats::percentile`, and the
//! CSV export with and without hospital identity.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use diesel::sql_types::{Nullable, Text, Timestamp};
use diesel::RunQueryDsl;
use hikeshi::db::stats::percentile;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, content_type, parts, Backend, TestApp};

const TOKYO_REPORTER: &str = "reporter@tokyo-chuo.example";
const MINAMI_REPORTER: &str = "reporter@minami-town.example";
const OFFICER: &str = "officer@mhlw.example";

/// The duration names of GET /stats, in the order of `Times::durations`.
const METRICS: [&str; 6] = [
    "time_to_report",
    "time_to_triage",
    "time_to_dispatch_accepted",
    "time_to_on_site",
    "time_to_care_resumed",
    "time_to_full_recovery",
];

/// Accepted difference between the server's figures and ours (seconds).
const TOLERANCE: f64 = 0.001 + 1e-9;

fn jst_ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).with_timezone(&FixedOffset::east_opt(9 * 3600).unwrap()).to_rfc3339()
}

/// A filing of `category` detected `minutes_ago`.
fn filing(category: &str, minutes_ago: i64, drill: bool) -> Value {
    json!({
        "title": format!("統計用 {category}"),
        "category": category,
        "detected_at": jst_ago(minutes_ago),
        "care_impact": "none",
        "personal_data": {"status": "none"},
        "offline_backup": "intact",
        "drill": drill,
        "contact": {"name": "担当者", "phone": "03-0000-0000"}
    })
}

async fn file(app: &TestApp, token: &str, body: &Value) -> Value {
    let (status, _, created) = parts(app.post("/incidents", token, body).await).await;
    assert_eq!(status, 201, "filing failed: {created}");
    created
}

/// The known times of one incident: when it was reported, and each duration in milliseconds
/// (report, care resumed and full recovery from detection; triage, dispatch and arrival from the report).
#[derive(Debug, Clone)]
pub(crate) struct Times {
    pub reported: DateTime<Utc>,
    pub report_ms: i64,
    pub triage_ms: Option<i64>,
    pub accept_ms: Option<i64>,
    pub on_site_ms: Option<i64>,
    pub care_ms: Option<i64>,
    pub full_ms: Option<i64>,
}

impl Times {
    fn detected(&self) -> DateTime<Utc> {
        self.reported - Duration::milliseconds(self.report_ms)
    }

    fn after_report(&self, ms: Option<i64>) -> Option<DateTime<Utc>> {
        ms.map(|m| self.reported + Duration::milliseconds(m))
    }

    fn after_detection(&self, ms: Option<i64>) -> Option<DateTime<Utc>> {
        ms.map(|m| self.detected() + Duration::milliseconds(m))
    }

    /// The six durations in seconds, in `METRICS` order (None: not reached).
    fn durations(&self) -> [Option<f64>; 6] {
        let s = |ms: Option<i64>| ms.map(|m| m as f64 / 1000.0);
        [
            s(Some(self.report_ms)),
            s(self.triage_ms),
            s(self.accept_ms),
            s(self.on_site_ms),
            s(self.care_ms),
            s(self.full_ms),
        ]
    }
}

/// One incident of a fixture: its group keys and times.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub prefecture: &'static str,
    pub category: &'static str,
    pub bed_band: &'static str,
    /// `YYYY-MM` in Japan time.
    pub month: String,
    pub times: Times,
}

/// Sets an incident's times directly in the database (and bumps its version, so that a background
/// writer holding an older copy cannot silently write the old times back).
pub(crate) fn set_times(conn: &mut hikeshi::db::AnyConnection, id: &str, t: &Times) {
    let n = |d: Option<DateTime<Utc>>| d.map(|x| x.naive_utc());
    let affected = diesel::sql_query(
        "UPDATE incidents SET detected_at = $1, reported_at = $2, triaged_at = $3, dispatch_accepted_at = $4, \
         on_site_at = $5, emergency_accepting_at = $6, fully_normal_at = $7, version = version + 1 WHERE id = $8",
    )
    .bind::<Timestamp, _>(t.detected().naive_utc())
    .bind::<Timestamp, _>(t.reported.naive_utc())
    .bind::<Nullable<Timestamp>, _>(n(t.after_report(t.triage_ms)))
    .bind::<Nullable<Timestamp>, _>(n(t.after_report(t.accept_ms)))
    .bind::<Nullable<Timestamp>, _>(n(t.after_report(t.on_site_ms)))
    .bind::<Nullable<Timestamp>, _>(n(t.after_detection(t.care_ms)))
    .bind::<Nullable<Timestamp>, _>(n(t.after_detection(t.full_ms)))
    .bind::<Text, _>(id)
    .execute(conn)
    .unwrap_or_else(|e| panic!("setting the times of {id}: {e}"));
    assert_eq!(affected, 1, "incident {id} not updated");
}

/// The figures we expect per group: (count, per metric (count, median, p90)).
pub(crate) type Expected = BTreeMap<String, (i64, BTreeMap<&'static str, (i64, Option<f64>, Option<f64>)>)>;

pub(crate) fn expected(rows: &[Row], key: impl Fn(&Row) -> String) -> Expected {
    let mut groups: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        groups.entry(key(r)).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|(k, members)| {
            let mut metrics = BTreeMap::new();
            for (m, name) in METRICS.iter().enumerate() {
                let mut xs: Vec<f64> = members.iter().filter_map(|r| r.times.durations()[m]).collect();
                xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
                metrics.insert(*name, (xs.len() as i64, percentile(&xs, 0.5), percentile(&xs, 0.9)));
            }
            (k, (members.len() as i64, metrics))
        })
        .collect()
}

fn close(got: &Value, want: Option<f64>, what: &str) {
    match want {
        None => assert!(got.is_null(), "{what}: expected null, got {got}"),
        Some(w) => {
            let g = got.as_f64().unwrap_or_else(|| panic!("{what}: expected {w}, got {got}"));
            assert!((g - w).abs() <= TOLERANCE, "{what}: expected {w}, got {g}");
        }
    }
}

/// Asserts that a GET /stats answer has exactly the expected groups and figures.
pub(crate) fn assert_figures(body: &Value, want: &Expected) {
    let groups = body["groups"].as_array().unwrap_or_else(|| panic!("no groups: {body}"));
    let keys: Vec<&str> = groups.iter().map(|g| g["key"].as_str().unwrap()).collect();
    let mut sorted_keys = keys.clone();
    sorted_keys.sort();
    let want_keys: Vec<&str> = want.keys().map(String::as_str).collect();
    assert_eq!(sorted_keys, want_keys, "group keys: {body}");
    for g in groups {
        let key = g["key"].as_str().unwrap();
        let (count, metrics) = &want[key];
        assert_eq!(g["count"].as_i64(), Some(*count), "count of {key}: {g}");
        for (name, (n, median, p90)) in metrics {
            let m = &g["metrics"][*name];
            assert_eq!(m["count"].as_i64(), Some(*n), "{key} {name} count: {g}");
            close(&m["median_seconds"], *median, &format!("{key} {name} median"));
            close(&m["p90_seconds"], *p90, &format!("{key} {name} p90"));
        }
    }
}

async fn stats(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, _, body) = parts(app.get(&format!("/stats?{query}"), token).await).await;
    assert_eq!(status, 200, "/stats?{query}: {body}");
    body
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// (reported_at, report, triage, dispatch accepted, on site, care resumed, full recovery), in ms.
type Spec = (&'static str, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

const DAY: i64 = 86_400_000;

// ---------------------------------------------------------------------------------------------
// 5. A small fixture with known times.

db_test!(
    statistics_per_group_match_medians_and_p90_computed_by_hand_and_leave_drills_and_other_periods_out,
    |app| async move {
        let tokyo = app.login(TOKYO_REPORTER).await;
        let minami = app.login(MINAMI_REPORTER).await;
        let officer = app.login(OFFICER).await;

        // (who, category, drill, in the period?, month, times)
        #[rustfmt::skip]
    let fixture: Vec<(&str, &str, bool, bool, &str, Spec)> = vec![
        // Tokyo (13, 650 beds)
        ("13", "malware", false, true, "2025-01",
            ("2025-01-05T01:00:00Z", 3_600_123, Some(600_500), Some(7_200_000), Some(86_400_250), Some(5 * DAY + 123), Some(30 * DAY + 7))),
        ("13", "misdelivery", false, true, "2025-01",
            ("2025-01-20T03:00:00Z", 1_800_000, Some(120_001), None, None, None, None)),
        // 16:30 UTC on 31 January is 1 February in Japan.
        ("13", "malware", false, true, "2025-02",
            ("2025-01-31T16:30:00Z", 86_399_999, Some(3_600_000), Some(10_800_500), None, Some(3 * DAY), Some(65 * DAY))),
        ("13", "malware", false, true, "2025-02",
            ("2025-02-10T00:00:00Z", 600_000, Some(45_000), Some(5_400_000), Some(30_000_000), Some(2 * DAY + 1), Some(40 * DAY))),
        // Midnight of 1 January in Japan: the first instant of the period.
        ("13", "misdelivery", false, true, "2025-01",
            ("2024-12-31T15:00:00Z", 7_777, Some(999_999), None, None, Some(3_600_000), None)),
        // A millisecond before: 31 December in Japan, outside the period.
        ("13", "malware", false, false, "2024-12",
            ("2024-12-31T14:59:59.999Z", 1_000, Some(1_000), Some(1_000), Some(1_000), Some(1_000), Some(1_000))),
        // A drill inside the period.
        ("13", "malware", true, true, "2025-01",
            ("2025-01-15T00:00:00Z", 123_456, Some(1_000), Some(2_000_000), Some(9_000_000), Some(DAY), Some(20 * DAY))),
        // みなみ町立病院 (36, 120 beds)
        ("36", "malware", false, true, "2025-01",
            ("2025-01-08T02:00:00Z", 10_800_000, Some(1_800_000), Some(14_400_000), Some(90_000_000), Some(6 * DAY), Some(70 * DAY))),
        ("36", "misdelivery", false, true, "2025-01",
            ("2025-01-25T05:00:00Z", 900_500, Some(300_000), None, None, None, Some(10 * DAY))),
        ("36", "malware", false, true, "2025-02",
            ("2025-02-14T23:00:00Z", 3_000, Some(2_000_000), Some(20_000_000), Some(100_000_000), Some(9 * DAY), Some(90 * DAY))),
        // The last second of 31 March in Japan: inside.
        ("36", "misdelivery", false, true, "2025-03",
            ("2025-03-31T14:59:59Z", 50_000_000, Some(60_000), None, None, None, None)),
        // Midnight of 1 April in Japan: outside.
        ("36", "malware", false, false, "2025-04",
            ("2025-03-31T15:00:00Z", 2_000, Some(2_000), None, None, None, None)),
    ];

        let mut rows = Vec::new();
        let mut drills = Vec::new();
        let mut drill_id = String::new();
        let mut conn = app.conn();
        for (pref, category, drill, in_period, month, spec) in &fixture {
            let token = if *pref == "13" { &tokyo } else { &minami };
            let created = file(&app, token, &filing(category, 90, *drill)).await;
            assert_eq!(created["hospital"]["prefecture"], *pref, "{created}");
            let (reported, report_ms, triage_ms, accept_ms, on_site_ms, care_ms, full_ms) = *spec;
            let times = Times { reported: at(reported), report_ms, triage_ms, accept_ms, on_site_ms, care_ms, full_ms };
            let id = created["id"].as_str().unwrap().to_owned();
            set_times(&mut conn, &id, &times);
            let row = Row {
                prefecture: pref,
                category,
                bed_band: if *pref == "13" { "400+" } else { "20-199" },
                month: (*month).to_owned(),
                times,
            };
            if *drill {
                drills.push(row);
                drill_id = id;
            } else if *in_period {
                rows.push(row);
            }
        }
        drop(conn);
        assert_eq!(rows.len(), 9);
        let period = "from=2025-01-01&to=2025-03-31";

        // Per prefecture: 5 in Tokyo, 4 in Tokushima, with each duration's count, median and p90.
        let body = stats(&app, &officer, &format!("group_by=prefecture&{period}")).await;
        assert_eq!(body["group_by"], "prefecture");
        assert_eq!(body["drill"], false);
        assert_eq!(body["from"], "2025-01-01");
        assert_eq!(body["to"], "2025-03-31");
        let want = expected(&rows, |r| r.prefecture.to_owned());
        assert_eq!(want["13"].0, 5);
        assert_eq!(want["36"].0, 4);
        assert_figures(&body, &want);
        let labels: BTreeMap<&str, &str> = body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["key"].as_str().unwrap(), g["label"].as_str().unwrap()))
            .collect();
        assert_eq!(labels, BTreeMap::from([("13", "東京都"), ("36", "徳島県")]));
        // A spot check by hand of the Tokyo report times (s): 7.777, 600, 1800, 3600.123, 86399.999.
        let tokyo_report =
            &body["groups"].as_array().unwrap().iter().find(|g| g["key"] == "13").unwrap()["metrics"]["time_to_report"];
        close(&tokyo_report["median_seconds"], Some(1800.0), "Tokyo median time to report");
        close(&tokyo_report["p90_seconds"], Some(3600.123 + 0.6 * (86_399.999 - 3600.123)), "Tokyo p90 time to report");

        // Other groupings.
        let body = stats(&app, &officer, &format!("group_by=category&{period}")).await;
        let want = expected(&rows, |r| r.category.to_owned());
        assert_eq!(want.keys().collect::<Vec<_>>(), ["malware", "misdelivery"]);
        assert_figures(&body, &want);

        let body = stats(&app, &officer, &format!("group_by=bed_band&{period}")).await;
        assert_figures(&body, &expected(&rows, |r| r.bed_band.to_owned()));
        let keys: Vec<&str> = body["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
        assert!(keys.contains(&"400+") && keys.contains(&"20-199"), "{body}");

        let body = stats(&app, &officer, &format!("group_by=month&{period}")).await;
        let want = expected(&rows, |r| r.month.clone());
        let counts: Vec<(&str, i64)> = want.iter().map(|(k, (n, _))| (k.as_str(), *n)).collect();
        assert_eq!(counts, [("2025-01", 5), ("2025-02", 3), ("2025-03", 1)]);
        assert_figures(&body, &want);

        // Drills only when asked for, and then only drills.
        let body = stats(&app, &officer, &format!("group_by=prefecture&drill=true&{period}")).await;
        assert_eq!(body["drill"], true);
        assert_figures(&body, &expected(&drills, |r| r.prefecture.to_owned()));
        let (status, _, drill) = parts(app.get(&format!("/incidents/{drill_id}"), &officer).await).await;
        assert_eq!(status, 200, "{drill}");
        assert_eq!(drill["drill"], true);

        // A narrower period: February in Japan only.
        let body = stats(&app, &officer, "group_by=prefecture&from=2025-02-01&to=2025-02-28").await;
        let february: Vec<Row> = rows.iter().filter(|r| r.month == "2025-02").cloned().collect();
        assert_figures(&body, &expected(&february, |r| r.prefecture.to_owned()));

        // Only officers (and admins) see statistics; a reversed period is refused.
        assert_problem(app.get(&format!("/stats?group_by=prefecture&{period}"), &tokyo).await, 403).await;
        assert_problem(app.get("/stats?from=2025-03-01&to=2025-02-01", &officer).await, 422).await;
        let admin = app.login("admin@mhlw.example").await;
        assert_figures(
            &stats(&app, &admin, &format!("group_by=prefecture&{period}")).await,
            &expected(&rows, |r| r.prefecture.to_owned()),
        );
    }
);

// ---------------------------------------------------------------------------------------------
// 6. Generated load.

/// A small deterministic generator (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

db_test!(a_thousand_generated_incidents_give_the_medians_and_p90s_computed_from_their_durations, |app| async move {
    let started = std::time::Instant::now();
    let tokyo = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let template_id = file(&app, &tokyo, &filing("malware", 30, false)).await["id"].as_str().unwrap().to_owned();

    const PREFECTURES: [&str; 5] = ["01", "13", "27", "36", "47"];
    let mut rng = Lcg(0x0068_696b_6573_6869);
    let period_start = at("2025-05-01T00:00:00Z"); // 09:00 JST on 1 May
    let mut rows = Vec::new();
    for _ in 0..1000 {
        // Uneven group sizes: Tokyo twice as likely.
        let pref = PREFECTURES[[0, 1, 1, 2, 3, 4][rng.next(6) as usize]];
        let some = |rng: &mut Lcg, one_in: u64, max_ms: u64| -> Option<i64> {
            (rng.next(one_in) != 0).then(|| rng.next(max_ms) as i64)
        };
        let times = Times {
            reported: period_start + Duration::milliseconds(rng.next(27 * DAY as u64) as i64),
            report_ms: rng.next(3 * DAY as u64) as i64,
            triage_ms: some(&mut rng, 10, 6 * 3_600_000),
            accept_ms: some(&mut rng, 3, DAY as u64),
            on_site_ms: some(&mut rng, 2, 3 * DAY as u64),
            care_ms: some(&mut rng, 4, 30 * DAY as u64),
            full_ms: some(&mut rng, 5, 90 * DAY as u64),
        };
        rows.push(Row { prefecture: pref, category: "malware", bed_band: "400+", month: "2025-05".into(), times });
    }

    let url = app.database_url.clone();
    let generated = rows.clone();
    tokio::task::spawn_blocking(move || {
        use hikeshi::db::incidents::{get_visible, insert};
        let mut conn = hikeshi::db::AnyConnection::connect(&url).expect("a direct connection");
        let template = get_visible(&mut conn, &template_id, &hikeshi::auth::Scope::All)
            .expect("read the template")
            .expect("the template exists");
        conn.write_transaction(|c| -> Result<(), hikeshi::db::DbError> {
            for (k, r) in generated.iter().enumerate() {
                let t = &r.times;
                let mut i = template.clone();
                i.id = hikeshi::db::new_id();
                i.reference = format!("HK-1999-{k:06}");
                i.prefecture = hikeshi::domain::Prefecture::parse(r.prefecture).expect("a prefecture");
                i.facts.detected_at = t.detected();
                i.facts.aware_at = t.detected();
                i.reported_at = t.reported;
                i.triaged_at = t.after_report(t.triage_ms);
                i.dispatch_accepted_at = t.after_report(t.accept_ms);
                i.on_site_at = t.after_report(t.on_site_ms);
                i.milestones.emergency_accepting = t.after_detection(t.care_ms);
                i.milestones.fully_normal = t.after_detection(t.full_ms);
                insert(c, &i)?;
            }
            Ok(())
        })
        .expect("1,000 incidents inserted");
    })
    .await
    .expect("insert task");

    let body = stats(&app, &officer, "group_by=prefecture&from=2025-05-01&to=2025-05-31").await;
    let want = expected(&rows, |r| r.prefecture.to_owned());
    assert_eq!(want.len(), 5, "every prefecture drew incidents");
    assert_eq!(want.values().map(|(n, _)| n).sum::<i64>(), 1000);
    assert_figures(&body, &want);
    // The filed template (reported now) is outside May 2025.
    let total: i64 = body["groups"].as_array().unwrap().iter().map(|g| g["count"].as_i64().unwrap()).sum();
    assert_eq!(total, 1000, "{body}");
    let elapsed = started.elapsed();
    assert!(elapsed < std::time::Duration::from_secs(20), "took {elapsed:?}");
});

// ---------------------------------------------------------------------------------------------
// 7. CSV export.

/// GET path as `token`: (status, Content-Type, raw body).
async fn raw(app: &TestApp, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let res = app.get(path, token).await;
    let status = res.status().as_u16();
    let ct = content_type(res.headers());
    (status, ct, res.bytes().await.expect("a body").to_vec())
}

/// The CSV's header and rows (BOM asserted and removed, CRLF line ends).
fn csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "no UTF-8 BOM: {:?}", &bytes[..bytes.len().min(8)]);
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(text.ends_with("\r\n"), "lines end with CRLF");
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<String> = lines.next().expect("a header line").split(',').map(str::to_owned).collect();
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_owned).collect()).collect();
    for r in &rows {
        assert_eq!(r.len(), header.len(), "a row with another number of columns: {r:?} vs {header:?}");
    }
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

db_test!(the_csv_export_has_a_bom_one_row_per_real_incident_and_can_drop_hospital_identity, |app| async move {
    let tokyo = app.login(TOKYO_REPORTER).await;
    let minami = app.login(MINAMI_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let mut real = Vec::new();
    for (token, category) in [(&tokyo, "malware"), (&tokyo, "misdelivery"), (&minami, "malware")] {
        real.push(file(&app, token, &filing(category, 30, false)).await["reference"].as_str().unwrap().to_owned());
    }
    let drill = file(&app, &tokyo, &filing("malware", 30, true)).await["reference"].as_str().unwrap().to_owned();
    let tokyo_id = app.creds.hospitals.iter().find(|(_, n)| n.contains("東京中央")).unwrap().0.clone();

    let (status, ct, bytes) = raw(&app, "/incidents/export.csv", &officer).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert!(ct.starts_with("text/csv"), "Content-Type {ct:?}");
    let (header, rows) = csv(&bytes);
    for c in ["reference", "hospital_id", "hospital_name", "hospital_code", "prefecture", "bed_band", "category"] {
        column(&header, c);
    }
    assert_eq!(rows.len(), 3, "one row per non-drill incident: {rows:?}");
    let refs: Vec<&str> = rows.iter().map(|r| r[column(&header, "reference")].as_str()).collect();
    let mut sorted = refs.clone();
    sorted.sort();
    let mut want = real.clone();
    want.sort();
    assert_eq!(sorted, want, "{rows:?}");
    assert!(!refs.contains(&drill.as_str()));
    let (name, code, pref) =
        (column(&header, "hospital_name"), column(&header, "hospital_code"), column(&header, "prefecture"));
    let tokyo_rows: Vec<&Vec<String>> = rows.iter().filter(|r| r[name] == "東京中央総合病院").collect();
    assert_eq!(tokyo_rows.len(), 2, "{rows:?}");
    for r in &tokyo_rows {
        assert_eq!(r[code], "1312345678");
        assert_eq!(r[pref], "13");
        assert_eq!(r[column(&header, "hospital_id")], tokyo_id);
        assert_eq!(r[column(&header, "bed_band")], "400+");
        // Detected 30 minutes before filing.
        let h: f64 = r[column(&header, "hours_to_report")].parse().expect("hours_to_report");
        assert!((0.45..=0.55).contains(&h), "hours_to_report {h}");
    }

    let (status, ct, bytes) = raw(&app, "/incidents/export.csv?pseudonymize=true", &officer).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "Content-Type {ct:?}");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (header, rows) = csv(&bytes);
    for c in ["hospital_name", "hospital_code", "hospital_id", "beds"] {
        assert!(!header.iter().any(|h| h == c), "{c} in the pseudonymized header {header:?}");
    }
    assert_eq!(rows.len(), 3, "{rows:?}");
    for secret in ["東京中央総合病院", "1312345678", "みなみ町立病院", "3610000001", tokyo_id.as_str()] {
        assert!(!text.contains(secret), "the pseudonymized export contains {secret}: {text}");
    }
    let bands: Vec<&str> = rows.iter().map(|r| r[column(&header, "bed_band")].as_str()).collect();
    assert_eq!(bands.iter().filter(|b| **b == "400+").count(), 2, "{bands:?}");
    assert_eq!(bands.iter().filter(|b| **b == "20-199").count(), 1, "{bands:?}");

    // Drills only when asked for.
    let (_, _, bytes) = raw(&app, "/incidents/export.csv?drill=true", &officer).await;
    let (header, rows) = csv(&bytes);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][column(&header, "reference")], drill);
    assert_eq!(rows[0][column(&header, "drill")], "true");

    assert_problem(app.get("/incidents/export.csv", &tokyo).await, 403).await;
    let responder = app.login("responder@east-team.example").await;
    assert_problem(app.get("/incidents/export.csv?pseudonymize=true", &responder).await, 403).await;
});

// ---------------------------------------------------------------------------------------------
// 7. Snapshots.

/// Incidents counted in a GET /stats answer.
fn counted(body: &Value) -> i64 {
    body["groups"].as_array().unwrap().iter().map(|g| g["count"].as_i64().unwrap()).sum()
}

async fn file_quiet(app: &TestApp, token: &str) {
    let (status, _, body) = parts(app.post("/incidents", token, &crate::incidents::quiet_filing("誤送信")).await).await;
    assert_eq!(status, 201, "{body}");
}

/// An app with these snapshot windows (seconds), one incident filed, and the first statistics
/// by category (one incident): (app, reporter token, officer token, first answer).
async fn first_snapshot(backend: Backend, refresh: i64, max_age: i64) -> Option<(TestApp, String, String, Value)> {
    let app = crate::helpers::spawn_app_with(backend, |s| {
        s.stats.refresh_seconds = refresh;
        s.stats.max_age_seconds = max_age;
    })
    .await?;
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    file_quiet(&app, &reporter).await;
    let first = stats(&app, &officer, "group_by=category").await;
    assert_eq!(counted(&first), 1, "{first}");
    Some((app, reporter, officer, first))
}

backend_test!(statistics_are_computed_again_after_any_change_when_no_refresh_window_is_set, |backend| async move {
    let Some((app, reporter, officer, first)) = first_snapshot(backend, 0, 900).await else {
        return;
    };
    // Nothing changed: the stored snapshot, computed at the same time.
    let again = stats(&app, &officer, "group_by=category").await;
    assert_eq!(again["as_of"], first["as_of"]);
    assert_eq!(again["groups"], first["groups"]);
    // A new incident: computed again.
    file_quiet(&app, &reporter).await;
    let after = stats(&app, &officer, "group_by=category").await;
    assert_eq!(counted(&after), 2, "{after}");
    assert_ne!(after["as_of"], first["as_of"]);
    // A change to an incident (triage) is a change too.
    let (_, _, list) = parts(app.get("/incidents?limit=1", &officer).await).await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let res = app.post(&format!("/incidents/{id}/transitions"), &officer, &json!({"to": "triaged"})).await;
    assert_eq!(res.status().as_u16(), 200);
    let changed = stats(&app, &officer, "group_by=category").await;
    assert_ne!(changed["as_of"], after["as_of"]);
    let triaged: i64 = changed["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["metrics"]["time_to_triage"]["count"].as_i64().unwrap())
        .sum();
    assert_eq!(triaged, 1, "{changed}");
});

backend_test!(
    statistics_are_served_from_a_snapshot_within_the_refresh_window_unless_asked_for_no_cache,
    |backend| async move {
        let Some((app, reporter, officer, first)) = first_snapshot(backend, 3600, 7200).await else {
            return;
        };
        // Changed, but the snapshot is younger than the refresh window: served as it is.
        file_quiet(&app, &reporter).await;
        let stale = stats(&app, &officer, "group_by=category").await;
        assert_eq!(stale["as_of"], first["as_of"]);
        assert_eq!(counted(&stale), 1);
        // Another grouping has its own snapshot, computed now.
        assert_eq!(counted(&stats(&app, &officer, "group_by=prefecture").await), 2);
        // Cache-Control: no-cache computes now, and that becomes the snapshot.
        let res = app
            .client
            .get(app.api("/stats?group_by=category"))
            .bearer_auth(&officer)
            .header("Cache-Control", "no-cache")
            .send()
            .await
            .unwrap();
        let (status, _, fresh) = parts(res).await;
        assert_eq!(status, 200, "{fresh}");
        assert_eq!(counted(&fresh), 2, "{fresh}");
        assert_ne!(fresh["as_of"], first["as_of"]);
        let after = stats(&app, &officer, "group_by=category").await;
        assert_eq!(after["as_of"], fresh["as_of"]);
    }
);
