//! Seeds a fresh database for the benchmark suite (`bench/run.sh`) through hikeshi's own code:
//! contacts (`notify::contacts::seed_demo`), hospitals in all 47 prefectures
//! (`api::organizations::parse_org` + `db::orgs::insert`), accounts (`api::users::create_account`)
//! and incidents built the way `POST /incidents` builds them (`IncidentFacts::parse`,
//! `api::incidents::refresh_derived`, `db::incidents::insert`, `outbox::apply_routing`, timeline and
//! audit entries), then moved along their lifecycle (`check_incident_transition`) with recovery
//! milestones, in batched transactions on several threads.
//!
//! ```sh
//! cargo run --release --example bench_seed -- <database-url> <incidents> [--threads N]
//!     [--incidents-only] [--credentials FILE]
//! ```
//! `--incidents-only` writes the incident rows alone (no routes, obligations, outbox, timeline or
//! audit rows): for the statistics dataset, whose query reads only `incidents`.
//! The credentials file (JSON) names the officer's and a reporter's e-mail and password.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use hikeshi::api::incidents::{priority_of, record_filing, refresh_derived, Filer};
use hikeshi::api::organizations::parse_org;
use hikeshi::api::users::create_account;
use hikeshi::config::{Secret, Settings};
use hikeshi::db::incidents::{Incident, Milestones};
use hikeshi::db::orgs::Organization;
use hikeshi::db::{self, AnyConnection, DbKind};
use hikeshi::domain::incident::{FiledAt, IncidentFacts, FILING_KEYS};
use hikeshi::domain::lifecycle::check_incident_transition;
use hikeshi::domain::{IncidentStatus, OrgKind, Prefecture, ReportedVia, Role};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

/// Relative number of hospitals per prefecture (roughly population, in 100,000s), JIS order.
const PREFECTURE_WEIGHTS: [u32; 47] = [
    51, 12, 12, 23, 9, 10, 18, 28, 19, 19, 73, 63, 140, 92, 21, 10, 11, 8, 8, 20, 20, 36, 75, 17, 14, 25, 88, 54, 13,
    9, 5, 7, 19, 28, 13, 7, 9, 13, 7, 51, 8, 13, 17, 11, 11, 16, 15,
];

const BATCH: usize = 100;

struct Args {
    url: String,
    count: usize,
    threads: usize,
    incidents_only: bool,
    credentials: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    let usage = "usage: bench_seed <database-url> <incidents> [--threads N] [--incidents-only] [--credentials FILE]";
    let url = it.next().ok_or_else(|| anyhow::anyhow!(usage))?;
    let count = it.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;
    let mut a = Args { url, count, threads: 4, incidents_only: false, credentials: None };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--threads" => a.threads = it.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?,
            "--incidents-only" => a.incidents_only = true,
            "--credentials" => a.credentials = it.next(),
            _ => anyhow::bail!(usage),
        }
    }
    Ok(a)
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut x = rng.random_range(0..total);
    for (v, w) in items {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    items[0].0
}

fn org(conn: &mut AnyConnection, body: Value) -> anyhow::Result<Organization> {
    let map = body.as_object().cloned().unwrap_or_default();
    let kind = map.get("kind").and_then(|k| k.as_str()).and_then(OrgKind::parse).unwrap_or(OrgKind::Hospital);
    let o = parse_org(&map, Organization::new(kind, ""), true).map_err(|e| anyhow::anyhow!("invalid org: {e:?}"))?;
    db::orgs::insert(conn, &o)?;
    Ok(o)
}

/// A hospital with its reporting account, if it has one (others phone the ministry).
#[derive(Clone)]
struct Hospital {
    org: Organization,
    reporter: Option<(String, String)>,
}

struct Setup {
    hospitals: Vec<Hospital>,
    officer: (String, String),
}

fn setup(conn: &mut AnyConnection, hospitals: usize, creds: &mut Value) -> anyhow::Result<Setup> {
    let mut rng = StdRng::seed_from_u64(8);
    hikeshi::notify::contacts::seed_demo(conn)?;
    let ministry = org(conn, json!({"kind": "ministry", "name": "厚生労働省 医療サイバーセキュリティ当番"}))?;
    let password = format!("Bench-{}-pass!", hikeshi::auth::jwt::random_hex(8));
    let officer =
        create_account(conn, &ministry.id, "officer@bench.example", "当番 ベンチ", Role::DutyOfficer, &password)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    creds["officer"] = json!({"email": officer.email, "password": password});
    // Every prefecture gets at least one hospital; the rest follow population.
    let total_w: u32 = PREFECTURE_WEIGHTS.iter().sum();
    let prefectures: Vec<Prefecture> = Prefecture::all().collect();
    let mut per_pref: Vec<usize> = PREFECTURE_WEIGHTS
        .iter()
        .map(|w| 1 + (hospitals.saturating_sub(47) as u64 * *w as u64 / total_w as u64) as usize)
        .collect();
    while per_pref.iter().sum::<usize>() < hospitals.max(47) {
        per_pref[12] += 1; // Tokyo takes the rounding
    }
    let kinds = ["総合病院", "市民病院", "医療センター", "記念病院", "中央病院", "大学病院", "クリニック", "町立病院"];
    let mut out = Vec::new();
    let mut reporter_pw = None;
    for (p, n) in prefectures.iter().zip(per_pref) {
        for k in 0..n {
            let beds = pick(&mut rng, &[(19, 10), (80, 25), (150, 25), (250, 20), (450, 12), (800, 8)]);
            let beds = (beds as f64 * rng.random_range(0.6..1.3)) as i64;
            let mut roles = Vec::new();
            for (role, odds) in [
                ("disaster_base", 0.12),
                ("remote_area_base", if p.number() <= 7 || p.number() >= 30 { 0.10 } else { 0.03 }),
                ("emergency_center", 0.05),
                ("perinatal_center", 0.05),
                ("advanced_treatment", 0.01),
            ] {
                if rng.random_bool(odds) {
                    roles.push(role);
                }
            }
            let h = org(
                conn,
                json!({"kind": "hospital", "name": format!("{}{}{}", p.name_ja(), kinds[k % kinds.len()], k + 1),
                       "prefecture": p.code(), "beds": beds, "code": format!("{}{:08}", p.code(), k + 1),
                       "regional_roles": roles,
                       "legal_status": if rng.random_bool(0.25) { "local_government" } else { "private" }}),
            )?;
            // One hospital in ten has a reporter account (argon2 makes accounts slow to create).
            let reporter = if out.len() % 10 == 0 {
                let email = format!("reporter{}@hospital{}.bench.example", out.len(), out.len());
                let pw = format!("Bench-{}-pass!", hikeshi::auth::jwt::random_hex(8));
                let u = create_account(conn, &h.id, &email, "情報システム室 担当", Role::Reporter, &pw)
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                if reporter_pw.is_none() {
                    reporter_pw = Some(json!({"email": email, "password": pw, "hospital_id": h.id}));
                }
                Some((u.id, u.name))
            } else {
                None
            };
            out.push(Hospital { org: h, reporter });
        }
    }
    creds["reporter"] = reporter_pw.unwrap_or(Value::Null);
    Ok(Setup { hospitals: out, officer: (officer.id, officer.name) })
}

/// The body a hospital (or the duty officer on its behalf) would file, `reported` long ago.
fn filing_body(rng: &mut StdRng, n: usize, reported: DateTime<Utc>) -> Map<String, Value> {
    use hikeshi::domain::Category::*;
    let category = pick(
        rng,
        &[
            (Ransomware, 14),
            (UnauthorizedAccess, 12),
            (Malware, 10),
            (Dos, 3),
            (SupplyChain, 4),
            (WebDefacement, 2),
            (AccountCompromise, 8),
            (Misdelivery, 16),
            (LostMedia, 9),
            (Theft, 4),
            (InsiderMisuse, 4),
            (SystemFailure, 10),
            (Other, 4),
        ],
    );
    let care = if matches!(category, Ransomware | SupplyChain) {
        pick(
            rng,
            &[
                ("partial", 30),
                ("outpatient_suspended", 25),
                ("emergency_suspended", 25),
                ("full_suspension", 10),
                ("none", 10),
            ],
        )
    } else {
        pick(rng, &[("none", 70), ("partial", 22), ("outpatient_suspended", 6), ("emergency_suspended", 2)])
    };
    let detected = reported - Duration::minutes(rng.random_range(10..72 * 60));
    let pd = pick(rng, &[("none", 45), ("suspected", 35), ("confirmed", 20)]);
    let mut body = json!({
        "title": format!("{} #{n}", match category {
            Ransomware => "電子カルテのランサムウェア感染",
            UnauthorizedAccess => "VPN 装置経由の不正アクセス",
            Malware => "端末のマルウェア感染",
            Dos => "ウェブサイトへの DoS 攻撃",
            SupplyChain => "委託先事業者経由の侵害",
            WebDefacement => "ウェブサイト改ざん",
            AccountCompromise => "職員アカウントの乗っ取り",
            Misdelivery => "診療情報のメール誤送信",
            LostMedia => "USB メモリの紛失",
            Theft => "ノート PC の盗難",
            InsiderMisuse => "職員による不正閲覧",
            SystemFailure => "部門システムの障害",
            Other => "その他のセキュリティ事案",
        }),
        "category": category.as_str(),
        "detected_at": detected.to_rfc3339(),
        "description": "夜間に検知。影響範囲を調査中。",
        "attack_vector": pick(rng, &[("vpn", 30), ("rdp", 10), ("vendor_remote_maintenance", 15), ("email", 20), ("unknown", 25)]),
        "affected_systems": pick(rng, &[(&["emr"][..], 30), (&["emr", "pacs"][..], 20), (&["network"][..], 15), (&["email"][..], 20), (&["lab", "pharmacy"][..], 15)]),
        "care_impact": care,
        "personal_data": {"status": pd, "persons_estimate": if pd == "none" { Value::Null } else { json!(rng.random_range(1..80_000)) }},
        "offline_backup": pick(rng, &[("intact", 40), ("affected", 20), ("none", 10), ("unknown", 30)]),
        "bcp_activated": care != "none",
        "support_requested": rng.random_bool(0.3),
        "contact": {"name": "情報システム室 担当", "phone": format!("03-{:04}-{:04}", n % 10_000, (n / 10_000) % 10_000)},
        "drill": rng.random_bool(0.02),
    });
    if category == Ransomware {
        body["ransom_demand"] = json!(true);
        body["ransomware"] = json!({"note_text": "Your files are encrypted", "encrypted_extension": ".lockbit", "kinds": ["encryption", "leak_threat"]});
    }
    body.as_object().cloned().unwrap_or_default()
}

/// Moves a filed incident along its lifecycle as far as `now` allows, with milestone times.
fn live(rng: &mut StdRng, i: &mut Incident, now: DateTime<Utc>) -> anyhow::Result<()> {
    let detected = i.facts.detected_at;
    let h = |lo: i64, hi: i64, rng: &mut StdRng| Duration::minutes(rng.random_range(lo * 60..hi * 60));
    let triaged = i.reported_at + Duration::minutes(rng.random_range(5..12 * 60));
    let heavy = i.facts.care_impact != hikeshi::domain::CareImpact::None;
    let accepted = (heavy && rng.random_bool(0.6)).then(|| triaged + h(1, 24, rng));
    let on_site = accepted.filter(|_| rng.random_bool(0.7)).map(|a| a + h(2, 48, rng));
    let emergency = heavy.then(|| detected + h(12, 14 * 24, rng));
    let emr = heavy.then(|| detected + h(24, 30 * 24, rng));
    let outpatients = heavy.then(|| detected + h(24, 20 * 24, rng));
    let normal = detected + h(7 * 24, 120 * 24, rng);
    let published = rng.random_bool(0.5).then(|| normal + h(14 * 24, 60 * 24, rng));
    let closed = normal + h(7 * 24, 30 * 24, rng);
    let withdrawn = rng.random_bool(0.03);
    let past = |t: Option<DateTime<Utc>>| t.filter(|t| *t <= now);
    let step = |i: &mut Incident, to: IncidentStatus, at: DateTime<Utc>| -> anyhow::Result<bool> {
        if at > now {
            return Ok(false);
        }
        check_incident_transition(i.status, to, i.milestones.fully_normal.is_some())?;
        i.status = to;
        i.version += 1;
        i.updated_at = at;
        Ok(true)
    };
    if !step(i, IncidentStatus::Triaged, triaged)? {
        return Ok(());
    }
    i.triaged_at = Some(triaged);
    if withdrawn {
        step(i, IncidentStatus::Withdrawn, triaged + Duration::hours(2))?;
        i.closed_at = Some(triaged + Duration::hours(2)).filter(|t| *t <= now);
        return Ok(());
    }
    if let Some(a) = past(accepted) {
        step(i, IncidentStatus::Responding, a)?;
        i.dispatch_accepted_at = Some(a);
        i.on_site_at = past(on_site);
    }
    let first = [emergency, emr, outpatients].into_iter().flatten().chain([normal]).filter(|t| *t <= now).min();
    let Some(first) = first else { return Ok(()) };
    step(i, IncidentStatus::Recovering, first.max(i.updated_at))?;
    i.milestones = Milestones {
        emr_restored: past(emr),
        emergency_accepting: past(emergency),
        new_outpatients_accepting: past(outpatients),
        fully_normal: past(Some(normal)),
        report_published: past(published),
    };
    if i.milestones.fully_normal.is_some() && step(i, IncidentStatus::Recovered, normal.max(i.updated_at))? {
        step(i, IncidentStatus::Closed, closed.max(i.updated_at))?;
        i.closed_at = past(Some(closed.max(i.updated_at)));
    }
    Ok(())
}

struct Ctx {
    settings: Settings,
    setup: Setup,
    count: usize,
    incidents_only: bool,
    start: DateTime<Utc>,
    next: AtomicUsize,
    done: AtomicUsize,
}

/// Files incidents `n` (one batch transaction), as `POST /incidents` would have at their time.
fn file_batch(conn: &mut AnyConnection, ctx: &Ctx, range: std::ops::Range<usize>) -> anyhow::Result<()> {
    let s = &ctx.settings;
    let span = 360 * 24 * 3600;
    let mut prepared = Vec::new();
    for n in range {
        let mut rng = StdRng::seed_from_u64(n as u64);
        // Spread over the last 360 days, oldest first.
        let reported = db::ts(ctx.start - Duration::seconds(span - (span * n as i64) / ctx.count.max(1) as i64))
            .and_utc()
            - Duration::seconds(rng.random_range(0..600));
        let h = &ctx.setup.hospitals[rng.random_range(0..ctx.setup.hospitals.len())];
        let body = filing_body(&mut rng, n, reported);
        // The reference comes from its own short transaction, as in the handler.
        let reference = db::incidents::next_reference(conn, reported)?;
        prepared.push((rng, h, body, reported, reference));
    }
    conn.write_transaction(|conn| -> anyhow::Result<()> {
        for (mut rng, h, body, reported, reference) in prepared {
            let facts = IncidentFacts::parse(&body, reported, FILING_KEYS)
                .map_err(|e| anyhow::anyhow!("generated filing invalid: {e:?}"))?;
            let (by, via) = match &h.reporter {
                Some(r) if rng.random_bool(0.8) => (r.clone(), ReportedVia::Web),
                _ => (ctx.setup.officer.clone(), ReportedVia::Phone),
            };
            let hospital = &h.org;
            let prefecture = hospital.prefecture.ok_or_else(|| anyhow::anyhow!("hospital without prefecture"))?;
            let at = FiledAt { hospital_id: &hospital.id, prefecture, beds: hospital.beds };
            let mut incident = Incident::filed(db::new_id(), reference, at, facts, reported, via, &by.0);
            refresh_derived(&mut incident, hospital, s, reported);
            live(&mut rng, &mut incident, ctx.start)?;
            // The queue priority as the housekeeping pass keeps it today.
            incident.priority = priority_of(&incident, hospital, s, ctx.start);
            if ctx.incidents_only {
                db::incidents::insert(conn, &incident)?;
                continue;
            }
            let role = if via == ReportedVia::Phone { Role::DutyOfficer } else { Role::Reporter };
            let filer = Filer { id: &by.0, name: &by.1, role, request_id: None };
            record_filing(conn, s, &filer, &incident, hospital).map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Ok(())
    })
}

fn worker(pool: db::Pool, ctx: Arc<Ctx>) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    if conn.kind() == DbKind::Postgres {
        use diesel::RunQueryDsl;
        // A bulk load: do not wait for the WAL flush of every reference-counter commit.
        diesel::sql_query("SET synchronous_commit = off").execute(&mut *conn)?;
    }
    loop {
        let from = ctx.next.fetch_add(BATCH, Ordering::SeqCst);
        if from >= ctx.count {
            return Ok(());
        }
        let to = (from + BATCH).min(ctx.count);
        file_batch(&mut conn, &ctx, from..to)?;
        let done = ctx.done.fetch_add(to - from, Ordering::SeqCst) + (to - from);
        if done % 10_000 < BATCH {
            eprintln!("  {done} incidents");
        }
    }
}

fn main() -> anyhow::Result<()> {
    let a = args()?;
    let started = Instant::now();
    let settings = Settings { database_url: Secret::new(a.url.clone()), ..Settings::default() };
    let pool = hikeshi::startup::prepare_database(&settings)?;
    let mut conn = pool.get()?;
    if db::orgs::count(&mut conn)? > 0 {
        anyhow::bail!("the database is not empty: the benchmark seeds a fresh one");
    }
    let hospitals = (a.count / 100).clamp(47, 2000);
    let mut creds = json!({});
    let setup = conn.write_transaction(|c| setup(c, hospitals, &mut creds))?;
    drop(conn);
    eprintln!(
        "seeded contacts, {} hospitals in 47 prefectures and accounts in {:.1} s",
        setup.hospitals.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &a.credentials {
        std::fs::write(path, serde_json::to_string_pretty(&creds)?)?;
    }
    let threads = if DbKind::from_url(&a.url) == DbKind::Sqlite { 1 } else { a.threads.max(1) };
    let ctx = Arc::new(Ctx {
        settings,
        setup,
        count: a.count,
        incidents_only: a.incidents_only,
        start: db::now(),
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
    });
    let t = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (pool, ctx) = (pool.clone(), ctx.clone());
            std::thread::spawn(move || worker(pool, ctx))
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| anyhow::anyhow!("a seeding thread panicked"))??;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{{\"incidents\": {}, \"seconds\": {:.1}, \"per_second\": {:.0}, \"threads\": {threads}, \"incidents_only\": {}}}",
        a.count,
        secs,
        a.count as f64 / secs,
        a.incidents_only
    );
    // Close every connection before the process exits (libpq's and OpenSSL's exit handlers
    // crashed when connections were still open at exit).
    drop(ctx);
    drop(pool);
    std::thread::sleep(std::time::Duration::from_millis(100));
    Ok(())
}
