//! Notification delivery through a real SMTP server (helpers::SmtpSink): one e-mail per routed contact,
//! retries while the server is down, dead letters and resends, two workers on one PostgreSQL,
//! and the deadline reminders and overdue notices of housekeeping.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::Utc;
use hikeshi::config::{Secret, Settings};
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, eventually, parts, spawn_app_on_same_database, spawn_app_with, Backend, SinkMessage, SmtpSink,
    TestApp,
};

const TOKYO_REPORTER: &str = "reporter@tokyo-chuo.example";
const OFFICER: &str = "officer@mhlw.example";

/// The addresses a ransomware filing at the Tokyo hospital reaches with the demo contacts (after the
/// 2026 reorganisation): MHLW, Tokyo police, IPA and the Tokyo health department. The PPC takes
/// reports only through its online form (a manual contact, no e-mail); the vendor route has no demo
/// contact.
const TOKYO_RANSOMWARE_RECIPIENTS: [&str; 4] =
    ["cyber-dx@mhlw.example", "cyber@police.pref13.example", "iryo@pref13.example", "todokede@ipa.example"];

/// The ransomware example of the API documentation, detected `hours_ago` hours ago.
pub fn ransomware_filing(hours_ago: i64) -> Value {
    let detected = (Utc::now() - chrono::Duration::hours(hours_ago)).to_rfc3339();
    json!({
        "title": "電子カルテのランサムウェア感染",
        "category": "ransomware",
        "detected_at": detected,
        "description": "電子カルテサーバーが暗号化され、脅迫文が表示された",
        "attack_vector": "vpn",
        "affected_systems": ["emr", "pacs"],
        "care_impact": "emergency_suspended",
        "personal_data": {"status": "suspected", "persons_estimate": 40000},
        "ransom_demand": true,
        "ransomware": {"note_text": "Your files are encrypted", "encrypted_extension": ".lockbit",
                       "kinds": ["encryption", "leak_threat"]},
        "offline_backup": "affected",
        "bcp_activated": true,
        "contact": {"name": "情報システム室 佐藤", "phone": "03-1234-5678"}
    })
}

/// Worker settings for delivery tests: SMTP to the sink, a short poll and one-second retries.
fn smtp_settings(sink: &SmtpSink) -> impl FnOnce(&mut Settings) {
    let url = sink.url();
    move |s: &mut Settings| {
        s.mail_url = Secret::new(url);
        s.worker.poll_ms = 50;
        s.worker.backoff_base_seconds = 1;
        s.worker.backoff_max_seconds = 2;
    }
}

/// Files `body` as `token`; returns (id, reference).
async fn file(app: &TestApp, token: &str, body: &Value) -> (String, String) {
    let (status, _, v) = parts(app.post("/incidents", token, body).await).await;
    assert_eq!(status, 201, "filing failed: {v}");
    (v["id"].as_str().expect("id").to_owned(), v["reference"].as_str().expect("reference").to_owned())
}

async fn notifications(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let (status, _, v) = parts(app.get(&format!("/incidents/{id}/notifications"), token).await).await;
    assert_eq!(status, 200, "{v}");
    v.as_array().expect("a list of notifications").clone()
}

fn of_kind<'a>(list: &'a [Value], kind: &str) -> Vec<&'a Value> {
    list.iter().filter(|n| n["kind"] == kind).collect()
}

fn summary(list: &[Value]) -> String {
    list.iter()
        .map(|n| format!("{}:{}:{}:{}", n["kind"], n["recipients"], n["status"], n["attempts"]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Message-ID → how many times the sink received it.
fn counts(messages: &[SinkMessage]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for msg in messages {
        *m.entry(msg.message_id.clone()).or_insert(0) += 1;
    }
    m
}

/// Waits until every authority report of the incident has `status` (at least one report exists).
async fn wait_reports(app: &TestApp, token: &str, id: &str, status: &str, timeout: Duration) -> Vec<Value> {
    eventually(timeout, &format!("every authority report to be {status}"), || async {
        let list = notifications(app, token, id).await;
        let reports = of_kind(&list, "authority_report");
        if !reports.is_empty() && reports.iter().all(|n| n["status"] == status) {
            Ok(list)
        } else {
            Err(summary(&list))
        }
    })
    .await
}

backend_test!(filing_a_ransomware_incident_emails_every_routed_contact_exactly_once_over_smtp, |backend| async move {
    let sink = SmtpSink::start_new().await;
    let Some(app) = spawn_app_with(backend, smtp_settings(&sink)).await else { return };
    let token = app.login(TOKYO_REPORTER).await;
    let (id, reference) = file(&app, &token, &ransomware_filing(1)).await;

    let list = wait_reports(&app, &token, &id, "sent", Duration::from_secs(15)).await;
    // Anything else the worker might (wrongly) send has a moment to arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let messages = sink.messages();
    assert_eq!(list.len(), TOKYO_RANSOMWARE_RECIPIENTS.len(), "one notification per contact: {}", summary(&list));
    assert_eq!(messages.len(), list.len(), "one e-mail per notification: {messages:#?}");

    let mut to: Vec<String> = messages.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, TOKYO_RANSOMWARE_RECIPIENTS, "each routed contact, once");
    let received = counts(&messages);
    assert_eq!(received.len(), messages.len(), "distinct Message-IDs: {received:?}");
    for n in &list {
        let mid = n["message_id"].as_str().expect("message_id");
        let msg = messages
            .iter()
            .find(|m| m.message_id == mid)
            .unwrap_or_else(|| panic!("no e-mail with Message-ID {mid}: {messages:#?}"));
        assert_eq!(json!(msg.to), n["recipients"], "To of {mid}");
        assert!(msg.subject.contains(&reference), "subject {:?} lacks {reference}", msg.subject);
        assert_eq!(n["kind"], "authority_report");
        assert_eq!(n["status"], "sent", "{n}");
        assert_eq!(n["attempts"], 1, "{n}");
        assert!(n["sent_at"].is_string(), "{n}");
        assert!(n["last_error"].is_null(), "{n}");
    }
    let mut authorities: Vec<&str> = list.iter().map(|n| n["authority"].as_str().unwrap_or("")).collect();
    authorities.sort();
    assert_eq!(authorities, ["ipa", "mhlw", "police", "prefecture"], "no e-mail passes for the PPC report");

    // The MHLW initial report is fulfilled by the delivery itself.
    let (status, _, obligations) = parts(app.get(&format!("/incidents/{id}/obligations"), &token).await).await;
    assert_eq!(status, 200, "{obligations}");
    let mhlw = obligations
        .as_array()
        .expect("obligations")
        .iter()
        .find(|o| o["kind"] == "mhlw_initial")
        .unwrap_or_else(|| panic!("no mhlw_initial in {obligations}"));
    assert!(mhlw["fulfilled_at"].is_string(), "MHLW initial not fulfilled: {mhlw}");
    let mhlw_mid = list.iter().find(|n| n["authority"] == "mhlw").expect("the MHLW e-mail")["message_id"].clone();
    assert_eq!(mhlw["fulfilled_reference"], mhlw_mid, "the reference is the e-mail's Message-ID");
});

backend_test!(mail_queued_while_the_smtp_server_is_down_arrives_exactly_once_when_it_returns, |backend| async move {
    let mut sink = SmtpSink::start_new().await;
    sink.stop();
    let Some(app) = spawn_app_with(backend, smtp_settings(&sink)).await else { return };
    let token = app.login(TOKYO_REPORTER).await;
    let (id, _) = file(&app, &token, &ransomware_filing(1)).await;

    let failed = wait_reports(&app, &token, &id, "failed", Duration::from_secs(15)).await;
    for n in &failed {
        assert!(n["attempts"].as_i64().is_some_and(|a| a >= 1), "{n}");
        assert!(n["last_error"].as_str().is_some_and(|e| !e.is_empty()), "a failure says why: {n}");
        assert!(n["sent_at"].is_null(), "{n}");
    }
    assert!(sink.messages().is_empty());

    sink.start().await;
    let list = wait_reports(&app, &token, &id, "sent", Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = counts(&sink.messages());
    let expected: BTreeSet<String> =
        list.iter().map(|n| n["message_id"].as_str().expect("message_id").to_owned()).collect();
    let lost: Vec<&String> = expected.iter().filter(|m| !received.contains_key(*m)).collect();
    let duplicated: Vec<(&String, &usize)> = received.iter().filter(|(_, c)| **c > 1).collect();
    let unknown: Vec<&String> = received.keys().filter(|m| !expected.contains(*m)).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(duplicated.is_empty(), "delivered more than once: {duplicated:?}");
    assert!(unknown.is_empty(), "unexpected messages: {unknown:?}");
    assert_eq!(received.len(), TOKYO_RANSOMWARE_RECIPIENTS.len());
    assert!(list.iter().all(|n| n["status"] == "sent"), "{}", summary(&list));
    assert!(list.iter().all(|n| n["attempts"].as_i64().is_some_and(|a| a >= 2)), "{}", summary(&list));
});

backend_test!(
    notifications_that_exhaust_their_attempts_are_dead_alert_the_officers_and_can_be_resent,
    |backend| async move {
        let mut sink = SmtpSink::start_new().await;
        sink.stop();
        let configure = smtp_settings(&sink);
        let Some(app) = spawn_app_with(backend, |s| {
            configure(s);
            s.worker.max_attempts = 2;
            s.worker.backoff_max_seconds = 1;
        })
        .await
        else {
            return;
        };
        let reporter = app.login(TOKYO_REPORTER).await;
        let officer = app.login(OFFICER).await;
        let (id, reference) = file(&app, &reporter, &ransomware_filing(1)).await;

        let list = wait_reports(&app, &officer, &id, "dead", Duration::from_secs(20)).await;
        let reports = of_kind(&list, "authority_report");
        assert_eq!(reports.len(), TOKYO_RANSOMWARE_RECIPIENTS.len());
        for n in &reports {
            assert_eq!(n["attempts"], 2, "dead after max_attempts: {n}");
        }
        // One alert per dead report, to the duty officers, enqueued with the change to dead.
        let alerts = of_kind(&list, "dead_letter");
        assert_eq!(alerts.len(), reports.len(), "{}", summary(&list));
        for a in &alerts {
            assert_eq!(a["recipients"], json!([OFFICER]), "{a}");
            assert!(a["subject"].as_str().is_some_and(|s| s.contains(&reference)), "{a}");
        }

        // The officers' queue flags the incident.
        let (status, _, page) = parts(app.get("/incidents?limit=200", &officer).await).await;
        assert_eq!(status, 200, "{page}");
        let item = page["items"].as_array().expect("items").iter().find(|i| i["id"] == id.as_str()).cloned();
        let item = item.unwrap_or_else(|| panic!("{id} not listed: {page}"));
        assert_eq!(item["delivery_failed"], true, "{item}");

        let mhlw = reports.iter().find(|n| n["authority"] == "mhlw").expect("the MHLW report");
        let nid = mhlw["id"].as_str().expect("id");
        let path = format!("/incidents/{id}/notifications/{nid}/resend");
        assert_problem(app.post(&path, &reporter, &json!({})).await, 403).await;

        sink.start().await;
        let (status, _, resent) = parts(app.post(&path, &officer, &json!({})).await).await;
        assert_eq!(status, 202, "{resent}");
        assert_eq!(resent["status"], "pending", "{resent}");
        assert_eq!(resent["attempts"], 0, "{resent}");
        let mid = resent["message_id"].as_str().expect("message_id").to_owned();
        assert_eq!(json!(mid), mhlw["message_id"], "never delivered: the Message-ID stays");

        let sent = eventually(Duration::from_secs(15), "the resent notification to be sent", || async {
            let list = notifications(&app, &officer, &id).await;
            let n = list.iter().find(|n| n["id"] == nid).cloned().expect("still listed");
            if n["status"] == "sent" {
                Ok(n)
            } else {
                Err(n.to_string())
            }
        })
        .await;
        assert_eq!(sent["attempts"], 1, "{sent}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let messages = sink.messages();
        let delivered: Vec<&SinkMessage> = messages.iter().filter(|m| m.message_id == mid).collect();
        assert_eq!(delivered.len(), 1, "exactly once: {messages:#?}");
        assert_eq!(delivered[0].to, ["cyber-dx@mhlw.example"]);
        // The other reports stay dead: no message of theirs.
        for n in reports.iter().filter(|n| n["id"] != nid) {
            assert!(!messages.iter().any(|m| json!(m.message_id) == n["message_id"]), "{n} was sent");
        }
    }
);

/// Two servers with workers on one PostgreSQL database: every routed notification arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_postgresql_database_deliver_every_notification_exactly_once() {
    if crate::helpers::pg_admin_url().is_none() {
        return;
    }
    let sink = SmtpSink::start_new().await;
    let Some(first) = spawn_app_with(Backend::Postgres, smtp_settings(&sink)).await else { return };
    let second = spawn_app_on_same_database(&first, smtp_settings(&sink)).await;
    let apps = [&first, &second];
    let tokens = [first.login(TOKYO_REPORTER).await, second.login(TOKYO_REPORTER).await];

    let mut ids = Vec::new();
    for i in 0..30 {
        let (id, _) = file(apps[i % 2], &tokens[i % 2], &ransomware_filing(1)).await;
        ids.push(id);
    }

    let expected: BTreeSet<String> = eventually(Duration::from_secs(60), "every notification to be sent", || {
        let ids = ids.clone();
        let url = first.database_url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = hikeshi::db::AnyConnection::connect(&url).map_err(|e| e.to_string())?;
                let mut all = Vec::new();
                for id in &ids {
                    all.extend(hikeshi::db::notifications::for_incident(&mut conn, id).map_err(|e| e.to_string())?);
                }
                let unsent: Vec<_> = all.iter().filter(|n| n.status.as_str() != "sent").collect();
                if unsent.is_empty() {
                    Ok(all.into_iter().map(|n| n.message_id).collect())
                } else {
                    Err(format!("{} of {} not sent yet", unsent.len(), all.len()))
                }
            })
            .await
            .expect("query task")
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = counts(&sink.messages());
    let duplicated: Vec<_> = received.iter().filter(|(_, c)| **c > 1).collect();
    assert!(duplicated.is_empty(), "delivered more than once: {duplicated:?}");
    let lost: Vec<_> = expected.iter().filter(|m| !received.contains_key(*m)).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert_eq!(received.len(), expected.len(), "sink total = notifications in the database");
    assert_eq!(expected.len(), 30 * TOKYO_RANSOMWARE_RECIPIENTS.len());
    let (a, b) = (first.state.metrics.notifications_sent.get(), second.state.metrics.notifications_sent.get());
    assert_eq!(a + b, expected.len() as u64, "each send counted once");
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "two workers: first sent {a}, second sent {b}");
}

/// Runs one housekeeping pass directly (as the loop would).
async fn housekeeping(app: &TestApp) -> usize {
    let state = app.state.clone();
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = hikeshi::db::AnyConnection::connect(&url).expect("a connection");
        hikeshi::notify::worker::housekeeping_once(&mut conn, &state).expect("housekeeping")
    })
    .await
    .expect("housekeeping task")
}

db_test!(a_ppc_preliminary_report_past_its_reminder_day_reminds_the_hospital_reporters, |app| async move {
    let token = app.login(TOKYO_REPORTER).await;
    let (id, reference) = file(&app, &token, &ransomware_filing(4 * 24)).await;
    assert!(housekeeping(&app).await >= 1, "the reminder is enqueued");
    let list = notifications(&app, &token, &id).await;
    let reminders = of_kind(&list, "reminder");
    assert_eq!(reminders.len(), 1, "{}", summary(&list));
    let recipients = reminders[0]["recipients"].as_array().expect("recipients");
    assert!(recipients.contains(&json!(TOKYO_REPORTER)), "{}", reminders[0]);
    assert!(reminders[0]["subject"].as_str().is_some_and(|s| s.contains(&reference)), "{}", reminders[0]);
    assert!(of_kind(&list, "overdue").is_empty(), "not due before day 5: {}", summary(&list));
    // A second pass reminds nobody again.
    housekeeping(&app).await;
    assert_eq!(of_kind(&notifications(&app, &token, &id).await, "reminder").len(), 1);
    let (_, _, obligations) = parts(app.get(&format!("/incidents/{id}/obligations"), &token).await).await;
    let pre = obligations.as_array().unwrap().iter().find(|o| o["kind"] == "ppc_preliminary").cloned();
    let pre = pre.unwrap_or_else(|| panic!("no ppc_preliminary: {obligations}"));
    assert!(pre["reminded_at"].is_string(), "{pre}");
    assert_eq!(pre["overdue"], false, "{pre}");
});

db_test!(an_overdue_ppc_preliminary_report_is_notified_raises_priority_and_shows_in_metrics, |app| async move {
    let token = app.login(TOKYO_REPORTER).await;
    let (id, _) = file(&app, &token, &ransomware_filing(7 * 24)).await;
    housekeeping(&app).await;
    let list = notifications(&app, &token, &id).await;
    let overdue = of_kind(&list, "overdue");
    assert_eq!(overdue.len(), 1, "{}", summary(&list));
    assert!(overdue[0]["recipients"].as_array().unwrap().contains(&json!(TOKYO_REPORTER)), "{}", overdue[0]);

    let (status, _, incident) = parts(app.get(&format!("/incidents/{id}"), &token).await).await;
    assert_eq!(status, 200, "{incident}");
    assert_eq!(incident["overdue_obligations"], 1, "{}", incident["obligations"]);
    let factors = incident["priority"]["factors"].as_array().expect("factors");
    assert!(
        factors.iter().any(|f| f["factor"].as_str().is_some_and(|s| s.starts_with("overdue_obligations"))),
        "{factors:?}"
    );

    let metrics = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.lines().any(|l| l == "hikeshi_obligations_overdue 1"), "{metrics}");
    // Telling the hospital once is enough.
    housekeeping(&app).await;
    assert_eq!(of_kind(&notifications(&app, &token, &id).await, "overdue").len(), 1);
});

// ---------------------------------------------------------------------------------------------
// Measurements (not assertions): `cargo test --test api delivery::measure -- --ignored --nocapture`

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn measure(backend: Backend) {
    let sink = SmtpSink::start_new().await;
    let url = sink.url();
    // Default worker timings: the filing wakes the worker, the poll interval does not matter.
    let Some(app) = spawn_app_with(backend, |s| s.mail_url = Secret::new(url)).await else { return };
    let token = app.login(TOKYO_REPORTER).await;
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let before = sink.messages().len();
        let res = app.post("/incidents", &token, &ransomware_filing(1)).await;
        let created = Instant::now();
        assert_eq!(res.status(), 201);
        loop {
            if sink.messages().len() >= before + TOKYO_RANSOMWARE_RECIPIENTS.len() {
                break;
            }
            assert!(created.elapsed() < Duration::from_secs(30), "e-mails did not arrive");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies.push(created.elapsed());
    }
    let med = median(latencies.clone());
    let max = latencies.iter().max().copied().unwrap_or_default();
    drop(app);

    // Throughput: 40 filings (200 notifications) queued with the worker off, then drained by hand.
    let url = sink.url();
    let Some(app) = spawn_app_with(backend, |s| {
        s.mail_url = Secret::new(url.clone());
        s.worker.enabled = false;
    })
    .await
    else {
        return;
    };
    let token = app.login(TOKYO_REPORTER).await;
    for _ in 0..40 {
        file(&app, &token, &ransomware_filing(1)).await;
    }
    let mailer = hikeshi::notify::mailer::Mailer::from_url(&url, "hikeshi@localhost").expect("mailer");
    let before = sink.messages().len();
    let start = Instant::now();
    let mut total = 0;
    loop {
        let n = hikeshi::notify::worker::drain_once(&app.state, &mailer).await.expect("drain");
        if n == 0 {
            break;
        }
        total += n;
    }
    let elapsed = start.elapsed();
    assert_eq!(sink.messages().len() - before, total);
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "MEASURE {backend:?}: filing → last e-mail at the sink over 20 filings: median {med:?}, max {max:?}; \
         outbox drain: {total} notifications in {elapsed:?} = {:.0}/s",
        total as f64 / elapsed.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run with --ignored --nocapture"]
async fn measure_delivery_latency_and_outbox_throughput_on_sqlite() {
    measure(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run with --ignored --nocapture"]
async fn measure_delivery_latency_and_outbox_throughput_on_postgres() {
    measure(Backend::Postgres).await;
}

#[test]
fn encoded_subjects_are_decoded() {
    let s = crate::helpers::decode_rfc2047("=?utf-8?b?SEstMjAyNi0wMDAwMDEg44Op44M=?=\r\n =?utf-8?b?s+OCteODoA==?= x");
    assert_eq!(s, "HK-2026-000001 ランサム x");
    assert_eq!(crate::helpers::decode_rfc2047("=?UTF-8?Q?a_b=3Dc?="), "a b=c");
    assert_eq!(crate::helpers::decode_rfc2047("plain"), "plain");
}

/// Regression: a withdrawn incident (false alarm) has no running deadlines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawn_incident_gets_no_deadline_reminders_or_overdue_notices() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await.expect("a SQLite app");
    let token = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let (id, _) = file(&app, &token, &ransomware_filing(7 * 24)).await;
    let (status, _, body) = parts(
        app.post(&format!("/incidents/{id}/transitions"), &officer, &json!({"to": "withdrawn", "reason": "誤検知"}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    housekeeping(&app).await;
    let list = notifications(&app, &token, &id).await;
    assert!(of_kind(&list, "reminder").is_empty() && of_kind(&list, "overdue").is_empty(), "{}", summary(&list));
    let metrics = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.lines().any(|l| l == "hikeshi_obligations_overdue 0"), "{metrics}");
}

backend_test!(the_age_of_the_oldest_waiting_notification_is_a_gauge, |backend| async move {
    // No worker: what is filed waits in the outbox.
    let Some(app) = crate::helpers::spawn_app_with(backend, |s| s.worker.enabled = false).await else { return };
    let token = app.login(TOKYO_REPORTER).await;
    housekeeping(&app).await;
    let gauge = |m: String| {
        m.lines()
            .find_map(|l| l.strip_prefix("hikeshi_outbox_oldest_pending_seconds ").map(|v| v.parse::<i64>().unwrap()))
            .unwrap_or_else(|| panic!("no gauge in {m}"))
    };
    let metrics = || async { app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap() };
    assert_eq!(gauge(metrics().await), 0, "nothing waits");
    file(&app, &token, &ransomware_filing(1)).await;
    {
        use diesel::prelude::*;
        use hikeshi::db::schema::notifications as n;
        let ten_minutes_ago = (Utc::now() - chrono::Duration::minutes(10)).naive_utc();
        let mut conn = app.conn();
        diesel::update(n::table).set(n::created_at.eq(ten_minutes_ago)).execute(&mut conn).unwrap();
    }
    housekeeping(&app).await;
    let age = gauge(metrics().await);
    assert!((600..700).contains(&age), "oldest waiting for {age} s");
});

db_test!(waiting_untriaged_incidents_gain_priority_page_by_page, |app| async move {
    let token = app.login(TOKYO_REPORTER).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(file(&app, &token, &ransomware_filing(4)).await.0);
    }
    // Filed three hours ago and still untriaged.
    {
        use diesel::prelude::*;
        use hikeshi::db::schema::incidents as i;
        let then = (Utc::now() - chrono::Duration::minutes(185)).naive_utc();
        let mut conn = app.conn();
        // As they would have been written then: their factor next due an hour after filing.
        let due = then + chrono::Duration::hours(1);
        diesel::update(i::table).set((i::reported_at.eq(then), i::priority_due_at.eq(due))).execute(&mut conn).unwrap();
    }
    let (state, url) = (app.state.clone(), app.database_url.clone());
    let (changed, again, next_hour) = tokio::task::spawn_blocking(move || {
        let mut conn = hikeshi::db::AnyConnection::connect(&url).unwrap();
        let now = Utc::now();
        let refresh = |conn: &mut hikeshi::db::AnyConnection, at| {
            // Pages of two: five incidents take three pages.
            hikeshi::notify::worker::refresh_untriaged(conn, &state.settings, at, 2).unwrap()
        };
        let changed = refresh(&mut conn, now);
        // Nothing is due again before the next full hour; then every one of them is.
        let again = refresh(&mut conn, now + chrono::Duration::minutes(5));
        let next_hour = refresh(&mut conn, now + chrono::Duration::minutes(65));
        (changed, again, next_hour)
    })
    .await
    .unwrap();
    assert_eq!((changed, again, next_hour), (5, 0, 5));
    // A new filing is not due before its first hour has passed.
    file(&app, &token, &ransomware_filing(4)).await;
    let (state, url) = (app.state.clone(), app.database_url.clone());
    let fresh = tokio::task::spawn_blocking(move || {
        let mut conn = hikeshi::db::AnyConnection::connect(&url).unwrap();
        let now = Utc::now() + chrono::Duration::minutes(5);
        let due = hikeshi::db::incidents::untriaged_due(&mut conn, now + chrono::Duration::minutes(30), None, 100);
        (hikeshi::notify::worker::refresh_untriaged(&mut conn, &state.settings, now, 100).unwrap(), due.unwrap().len())
    })
    .await
    .unwrap();
    assert_eq!(fresh, (0, 0), "a filing's priority was computed when it was filed");
    for id in ids {
        let (_, _, v) = parts(app.get(&format!("/incidents/{id}"), &token).await).await;
        let factors = v["priority"]["factors"].to_string();
        assert!(factors.contains("untriaged_hours:4"), "{id}: {factors}");
    }
});

/// The mailer alone against the sink: a message arrives whole; one over the server's size limit is
/// refused with 552, which the mailer must treat as permanent.
#[tokio::test]
async fn the_mailer_delivers_to_a_real_server_and_a_refusal_is_permanent() {
    use hikeshi::notify::mailer::{Mailer, OutgoingEmail, SendError};
    let sink = SmtpSink::with_max_size(20_000).await;
    let email = |id: &str, text: String| OutgoingEmail {
        message_id: id.to_owned(),
        to: vec!["ppc@example.test".to_owned(), "police@example.test".to_owned()],
        subject: "[訓練/DRILL] HK-2026-000123 ランサムウェア被害の報告".to_owned(),
        text,
        html: "<p>本文です。</p>".to_owned(),
        ..Default::default()
    };
    let m = Mailer::from_url(&sink.url(), "hikeshi@localhost").unwrap();
    m.send(&email("0193-smtp@hikeshi", "本文です。\nBody.".into())).await.unwrap();
    let arrived = sink.messages();
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    assert_eq!(arrived[0].message_id, "0193-smtp@hikeshi");
    assert_eq!(arrived[0].to, ["ppc@example.test", "police@example.test"]);
    assert!(arrived[0].raw.contains("multipart/alternative"), "{}", arrived[0].raw);

    let e = m.send(&email("0193-big@hikeshi", "x".repeat(40_000))).await.unwrap_err();
    assert!(matches!(e, SendError::Rejected(_)) && e.is_permanent(), "{e:?}");
    assert_eq!(sink.messages().len(), 1);
}
