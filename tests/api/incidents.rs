//! Incidents: filing (reporters and officers' proxy filing), validation, idempotency, the triage
//! queue, tenancy, changes, the lifecycle, the timeline, milestones, obligations, prepared reports
//! and drills.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use diesel::{QueryDsl, RunQueryDsl};
use hikeshi::domain::Role;
use reqwest::Response;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, content_type, parts, spawn_app_with, TestApp};

// ---------------------------------------------------------------------------------------------
// Shared helpers (also used by `audit_trail.rs`).

pub const TOKYO_REPORTER: &str = "reporter@tokyo-chuo.example";
pub const MINAMI_REPORTER: &str = "reporter@minami-town.example";
pub const OFFICER: &str = "officer@mhlw.example";
pub const ADMIN: &str = "admin@mhlw.example";
pub const EAST_RESPONDER: &str = "responder@east-team.example";
pub const PPC_LIAISON: &str = "liaison@ppc.example";

/// `minutes` ago as RFC 3339 in JST (with its +09:00 offset, as hospitals send it).
pub fn jst_ago(minutes: i64) -> String {
    let jst = FixedOffset::east_opt(9 * 3600).unwrap();
    (Utc::now() - Duration::minutes(minutes)).with_timezone(&jst).to_rfc3339()
}

/// `minutes` from now, in JST.
pub fn jst_in(minutes: i64) -> String {
    jst_ago(-minutes)
}

/// The DESIGN example: ransomware, emergency care suspended, personal data suspected.
pub fn ransomware_filing() -> Value {
    json!({
        "title": "電子カルテのランサムウェア感染",
        "category": "ransomware",
        "detected_at": jst_ago(30),
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

/// A ransomware filing without personal data: not routed to the PPC.
pub fn ransomware_without_personal_data() -> Value {
    let mut b = ransomware_filing();
    b["personal_data"] = json!({"status": "none", "none_reason": "no patient data on the encrypted servers"});
    b
}

/// A low-priority incident: a misdelivered fax, no care impact, no personal data.
pub fn quiet_filing(title: &str) -> Value {
    json!({
        "title": title,
        "category": "misdelivery",
        "detected_at": jst_ago(20),
        "care_impact": "none",
        "personal_data": {"status": "none"},
        "offline_backup": "intact",
        "contact": {"name": "事務長 田中", "phone": "0885-12-3456"}
    })
}

/// Files `body` with `token`; the created incident (panics unless 201).
pub async fn file_ok(app: &TestApp, token: &str, body: &Value) -> Value {
    let (status, _, created) = parts(app.post("/incidents", token, body).await).await;
    assert_eq!(status, 201, "filing failed: {created}");
    created
}

/// The demo hospital named `name_part`'s id.
pub fn hospital_id(app: &TestApp, name_part: &str) -> String {
    app.creds
        .hospitals
        .iter()
        .find(|(_, n)| n.contains(name_part))
        .unwrap_or_else(|| panic!("no demo hospital named like {name_part}"))
        .0
        .clone()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

/// Field paths of a 422 problem.
fn error_fields(problem: &Value) -> BTreeSet<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list: {problem}"))
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

/// Authorities of an incident's routing.
fn authorities(incident: &Value) -> Vec<String> {
    incident["routing"].as_array().expect("routing").iter().map(|r| r["authority"].as_str().unwrap().into()).collect()
}

/// Obligation kinds of an incident.
fn obligation_kinds(incident: &Value) -> Vec<String> {
    incident["obligations"]
        .as_array()
        .expect("obligations")
        .iter()
        .map(|o| o["kind"].as_str().unwrap().into())
        .collect()
}

/// Ids of the incidents a caller's `GET path` lists.
async fn listed_ids(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let (status, _, page) = parts(app.get(path, token).await).await;
    assert_eq!(status, 200, "{path}: {page}");
    page["items"].as_array().expect("items").iter().map(id_of).collect()
}

/// The timeline of an incident (oldest first), read by `token`.
async fn timeline(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let (status, _, page) = parts(app.get(&format!("/incidents/{id}/updates?limit=200"), token).await).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().expect("items").clone()
}

fn kinds(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

/// GET /incidents/{id} by `token`: (ETag version, body).
async fn fetch(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, _, body) = parts(app.get(&format!("/incidents/{id}"), token).await).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn transition(app: &TestApp, token: &str, id: &str, to: &str) -> Response {
    app.post(&format!("/incidents/{id}/transitions"), token, &json!({"to": to, "reason": format!("to {to}")})).await
}

async fn transition_ok(app: &TestApp, token: &str, id: &str, to: &str) -> Value {
    let (status, _, body) = parts(transition(app, token, id, to).await).await;
    assert_eq!(status, 200, "→ {to}: {body}");
    assert_eq!(body["status"], to, "{body}");
    body
}

/// Asserts that moving to `to` is a 409 whose `allowed` is exactly `allowed`.
async fn assert_illegal(app: &TestApp, token: &str, id: &str, to: &str, allowed: &[&str]) {
    let (_, problem) = assert_problem(transition(app, token, id, to).await, 409).await;
    let got: Vec<&str> = problem["allowed"]
        .as_array()
        .unwrap_or_else(|| panic!("no allowed list: {problem}"))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(got, allowed, "→ {to}: {problem}");
}

fn incident_count(app: &TestApp) -> i64 {
    let mut conn = app.conn();
    hikeshi::db::schema::incidents::table.count().get_result(&mut conn).expect("count incidents")
}

fn is_reference(r: &str) -> bool {
    let b = r.as_bytes();
    r.len() == 14
        && r.starts_with("HK-")
        && b[3..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..].iter().all(u8::is_ascii_digit)
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap_or_else(|| panic!("not a time: {v}")).parse().unwrap_or_else(|e| panic!("{v}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// 1. Filing and the triage queue

db_test!(
    a_reporter_files_a_ransomware_incident_that_is_critical_routed_and_first_in_the_officers_queue,
    |app| async move {
        let reporter = app.login(TOKYO_REPORTER).await;
        let officer = app.login(OFFICER).await;
        let minami = hospital_id(&app, "みなみ");

        // A quieter incident filed first (so that "oldest first" alone would put it on top), by an
        // officer on the phone with another hospital.
        let mut quiet = quiet_filing("FAX の誤送信");
        quiet["hospital_id"] = json!(minami);
        quiet["reported_via"] = json!("phone");
        let low = file_ok(&app, &officer, &quiet).await;
        assert_eq!(low["hospital"]["id"], minami.as_str(), "{low}");
        assert_eq!(low["reported_via"], "phone");

        let res = app.post("/incidents", &reporter, &ransomware_filing()).await;
        let (status, headers, created) = parts(res).await;
        assert_eq!(status, 201, "{created}");
        let id = id_of(&created);
        assert_eq!(
            headers.get("location").and_then(|v| v.to_str().ok()),
            Some(format!("/api/v1/incidents/{id}").as_str())
        );
        assert_eq!(headers.get("etag").and_then(|v| v.to_str().ok()), Some("\"1\""));
        let reference = created["reference"].as_str().expect("reference");
        assert!(is_reference(reference), "reference {reference:?} is not HK-YYYY-NNNNNN");
        assert_eq!(created["status"], "reported");
        assert_eq!(created["severity"], "critical", "{created}");
        assert_eq!(created["reported_via"], "web");
        assert_eq!(created["version"], 1);
        assert!(created["priority"]["score"].as_i64().unwrap() > 0, "{}", created["priority"]);
        let factors = created["priority"]["factors"].as_array().expect("factors");
        assert!(!factors.is_empty(), "no priority factors listed");
        for f in factors {
            assert!(f["factor"].as_str().is_some_and(|s| !s.is_empty()) && f["points"].is_i64(), "{f}");
        }
        let routed = authorities(&created);
        for a in ["mhlw", "ppc", "police", "ipa"] {
            assert!(routed.iter().any(|r| r == a), "{a} missing from routing {routed:?}");
        }
        let ppc_preliminary = created["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "ppc_preliminary")
            .unwrap_or_else(|| panic!("no ppc_preliminary obligation: {}", created["obligations"]));
        assert!(time(&ppc_preliminary["due_at"]) > Utc::now(), "{ppc_preliminary}");
        assert!(created["contact"]["phone"] == "03-1234-5678", "the reporter sees the contact: {created}");

        // The officer's default order is the triage queue.
        let (status, _, page) = parts(app.get("/incidents", &officer).await).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        let ids: Vec<String> = items.iter().map(id_of).collect();
        assert_eq!(ids, [id.clone(), id_of(&low)], "{page}");
        assert!(items[0]["priority"]["score"].as_i64() > items[1]["priority"]["score"].as_i64(), "{page}");
        assert_eq!(items[0]["reference"], reference);
        assert_eq!(items[0]["drill"], false);
    }
);

backend_test!(the_written_queue_page_is_the_typed_one, |backend| async move {
    // No worker: the notification made dead below stays dead.
    let Some(app) = spawn_app_with(backend, |s| s.worker.enabled = false).await else { return };
    // The list is written as JSON while its rows are read (db::queue_page); the typed reading
    // of the same rows (api::incidents::summaries) is what it must equal, value for value.
    use hikeshi::auth::Scope;
    use hikeshi::db::incidents::{Filters, Order};
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let minami = hospital_id(&app, "みなみ");
    let mut awkward = ransomware_filing();
    // A title is one line (no tab or other control character); U+2028 is the JSON-in-JavaScript edge case.
    awkward["title"] = json!("\"引用\" と \\ バックスラッシュ\u{2028}🚑 </script>");
    let mut drill = ransomware_without_personal_data();
    drill["drill"] = json!(true);
    let mut phoned = quiet_filing("FAX の誤送信");
    phoned["hospital_id"] = json!(minami);
    let mut ids = vec![];
    for (token, body) in
        [(&reporter, &awkward), (&reporter, &drill), (&officer, &phoned), (&reporter, &ransomware_filing())]
    {
        ids.push(id_of(&file_ok(&app, token, body).await));
    }
    let tokyo = fetch(&app, &officer, &ids[0]).await["hospital"]["id"].as_str().unwrap().to_owned();
    let mut conn = app.conn();
    // One incident with a notification that gave up.
    diesel::sql_query(format!("UPDATE notifications SET status = 'dead' WHERE incident_id = '{}'", ids[3]))
        .execute(&mut conn)
        .expect("a dead notification");

    let active = Filters { active: Some(true), ..Filters::default() };
    let scopes = [Scope::All, Scope::Hospital(tokyo), Scope::Hospital(minami)];
    let (mut compared, mut failed) = (0, 0);
    for scope in &scopes {
        for order in [Order::Priority, Order::Recent] {
            for filters in [&Filters::default(), &active] {
                let written = hikeshi::db::queue_page::list(&mut conn, scope, filters, order, None, 100).unwrap();
                let typed = hikeshi::api::incidents::summaries(&mut conn, scope, filters, order, None, 100).unwrap();
                let written_items: Vec<Value> = written
                    .iter()
                    .map(|i| {
                        serde_json::from_slice(&i.json)
                            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&i.json)))
                    })
                    .collect();
                let typed_items: Vec<Value> = typed.iter().map(|t| serde_json::to_value(t).unwrap()).collect();
                assert_eq!(written_items, typed_items, "{scope:?} {order:?} {filters:?}");
                for (w, t) in written.iter().zip(&typed) {
                    assert_eq!(
                        (w.cursor.score, w.cursor.reported_at, w.cursor.id.as_str()),
                        (t.priority.score, t.reported_at, t.id.as_str())
                    );
                }
                compared += written.len();
                failed += written_items.iter().filter(|i| i["delivery_failed"] == true).count();
            }
        }
    }
    // All filed incidents in the officer's scope, both orders, with and without the filter.
    assert!(compared >= 4 * ids.len() && failed >= 4, "only {compared} items ({failed} with a dead notification)");
    let (_, _, page) = parts(app.get("/incidents?limit=100", &officer).await).await;
    let listed = page["items"].as_array().unwrap();
    let flags = |n: usize| {
        let item = listed.iter().find(|i| i["id"] == ids[n].as_str()).unwrap();
        (item["delivery_failed"].as_bool(), item["drill"].as_bool())
    };
    assert_eq!((flags(1), flags(3)), ((Some(false), Some(true)), (Some(true), Some(false))));
    let awkward_item = listed.iter().find(|i| i["id"] == ids[0].as_str()).unwrap();
    assert_eq!(awkward_item["title"], awkward["title"]);
});

// 2. Who may file for which hospital

db_test!(proxy_filing_needs_a_hospital_and_only_reporters_and_officers_may_file, |app| async move {
    let officer = app.login(OFFICER).await;
    let reporter = app.login(TOKYO_REPORTER).await;

    let (_, p) = assert_problem(app.post("/incidents", &officer, &quiet_filing("電話での報告")).await, 422).await;
    assert!(error_fields(&p).contains("hospital_id"), "{p}");

    let mut foreign = quiet_filing("他院の名義");
    foreign["hospital_id"] = json!(hospital_id(&app, "みなみ"));
    let (_, p) = assert_problem(app.post("/incidents", &reporter, &foreign).await, 422).await;
    assert!(error_fields(&p).contains("hospital_id"), "{p}");

    let mut proxied = quiet_filing("代理報告");
    proxied["hospital_id"] = json!(hospital_id(&app, "みなみ"));
    proxied["reported_via"] = json!("phone");
    for email in [EAST_RESPONDER, PPC_LIAISON, ADMIN] {
        let token = app.login(email).await;
        assert_problem(app.post("/incidents", &token, &proxied).await, 403).await;
        assert_problem(app.post("/incidents", &token, &quiet_filing("自院として")).await, 403).await;
    }
    assert_eq!(incident_count(&app), 0, "a refused filing created an incident");
});

// 3. Validation

db_test!(a_filing_with_several_bad_fields_lists_them_all_and_creates_nothing, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let mut body = ransomware_filing();
    body["category"] = json!("earthquake");
    body["detected_at"] = json!(jst_in(24 * 60));
    body["personal_data"]["persons_estimate"] = json!(-5);
    body["contact"]["phone"] = json!("call me");
    body["colour"] = json!("red");

    let (_, p) = assert_problem(app.post("/incidents", &reporter, &body).await, 422).await;
    let fields = error_fields(&p);
    for f in ["category", "detected_at", "personal_data.persons_estimate", "contact.phone", "colour"] {
        assert!(fields.contains(f), "{f} missing from {fields:?}: {p}");
    }
    for e in p["errors"].as_array().unwrap() {
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }

    assert!(listed_ids(&app, &officer, "/incidents").await.is_empty());
    assert!(listed_ids(&app, &reporter, "/incidents").await.is_empty());
    assert_eq!(incident_count(&app), 0);
});

// 4. Idempotency

db_test!(the_same_idempotency_key_replays_the_first_filing_and_refuses_another_body, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let body = ransomware_filing();
    let send = |b: Value| {
        let req = app
            .client
            .post(app.api("/incidents"))
            .bearer_auth(&reporter)
            .header("Idempotency-Key", "retry-7f3a9c")
            .json(&b);
        async move { req.send().await.expect("POST request") }
    };

    let (s1, _, first) = parts(send(body.clone()).await).await;
    assert_eq!(s1, 201, "{first}");
    let (s2, h2, second) = parts(send(body.clone()).await).await;
    assert_eq!(s2, 201, "{second}");
    assert_eq!(h2.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["reference"], first["reference"]);
    assert_eq!(incident_count(&app), 1, "a replay created a second incident");

    let mut other = body.clone();
    other["title"] = json!("別の事案");
    let (_, p) = assert_problem(send(other).await, 422).await;
    assert!(error_fields(&p).contains("Idempotency-Key"), "{p}");
    assert_eq!(incident_count(&app), 1);

    // Without the header, the same body files a new incident.
    let third = file_ok(&app, &reporter, &body).await;
    assert_ne!(third["id"], first["id"]);
    assert_eq!(incident_count(&app), 2);
});

// 5. Concurrency

db_test!(twenty_concurrent_filings_get_twenty_distinct_references, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let req =
            app.client.post(app.api("/incidents")).bearer_auth(&reporter).json(&quiet_filing(&format!("同時報告 {n}")));
        tasks.push(tokio::spawn(async move {
            let res = req.send().await.expect("POST request");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let mut references = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for t in tasks {
        let (status, body) = t.await.expect("task");
        assert_eq!(status, 201, "{body}");
        let r = body["reference"].as_str().expect("reference").to_owned();
        assert!(is_reference(&r), "{r}");
        references.insert(r);
        ids.insert(id_of(&body));
    }
    assert_eq!(references.len(), 20, "duplicate references: {references:?}");
    assert_eq!(ids.len(), 20);
    assert_eq!(incident_count(&app), 20);
});

db_test!(references_number_on_from_the_years_counter_and_in_filing_order, |app| async move {
    // A deployment upgraded mid-year has references of this year from the counter row already.
    let year = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo).format("%Y").to_string();
    diesel::sql_query(format!("INSERT INTO reference_counters (year, last_value) VALUES ({year}, 41)"))
        .execute(&mut app.conn())
        .expect("a counter row");
    let reporter = app.login(TOKYO_REPORTER).await;
    let mut references = Vec::new();
    for n in 0..3 {
        let res = app
            .client
            .post(app.api("/incidents"))
            .bearer_auth(&reporter)
            .json(&quiet_filing(&format!("連番 {n}")))
            .send()
            .await
            .expect("POST request");
        assert_eq!(res.status(), 201);
        references.push(res.json::<Value>().await.unwrap()["reference"].as_str().unwrap().to_owned());
    }
    assert_eq!(references, [42, 43, 44].map(|n| format!("HK-{year}-{n:06}")));
});

// 6. Tenancy

db_test!(outsiders_get_404_on_every_incident_endpoint_and_change_nothing, |app| async move {
    let owner = app.login(TOKYO_REPORTER).await;
    // Not routed to the PPC, so the PPC liaison is an outsider too.
    let incident = file_ok(&app, &owner, &ransomware_without_personal_data()).await;
    assert!(!authorities(&incident).contains(&"ppc".to_owned()), "{incident}");
    let id = id_of(&incident);
    // The police report (the MHLW one is fulfilled by the worker once its e-mail is sent).
    let oid = id_of(
        incident["obligations"].as_array().unwrap().iter().find(|o| o["kind"] == "police_report").expect("police"),
    );
    let (status, _, notifications) = parts(app.get(&format!("/incidents/{id}/notifications"), &owner).await).await;
    assert_eq!(status, 200, "{notifications}");
    let nid = id_of(&notifications[0]);
    let version = incident["version"].as_i64().unwrap();
    let timeline_before = timeline(&app, &owner, &id).await.len();

    for email in [MINAMI_REPORTER, EAST_RESPONDER, PPC_LIAISON] {
        let token = app.login(email).await;
        let base = format!("/incidents/{id}");
        let checks: Vec<(&str, String, Response)> = vec![
            ("GET", base.clone(), app.get(&base, &token).await),
            ("PATCH", base.clone(), app.patch(&base, &token, Some(version), &json!({"title": "乗っ取り"})).await),
            ("POST", format!("{base}/transitions"), transition(&app, &token, &id, "triaged").await),
            ("GET", format!("{base}/updates"), app.get(&format!("{base}/updates"), &token).await),
            (
                "POST",
                format!("{base}/updates"),
                app.post(&format!("{base}/updates"), &token, &json!({"kind": "note", "body": "x"})).await,
            ),
            (
                "PUT",
                format!("{base}/milestones/emr_restored"),
                app.put(&format!("{base}/milestones/emr_restored"), &token, &json!({"at": jst_ago(1)})).await,
            ),
            ("GET", format!("{base}/obligations"), app.get(&format!("{base}/obligations"), &token).await),
            (
                "POST",
                format!("{base}/obligations/{oid}/fulfil"),
                app.post(&format!("{base}/obligations/{oid}/fulfil"), &token, &json!({"at": jst_ago(1)})).await,
            ),
            ("GET", format!("{base}/notifications"), app.get(&format!("{base}/notifications"), &token).await),
            (
                "POST",
                format!("{base}/notifications/{nid}/resend"),
                app.post(&format!("{base}/notifications/{nid}/resend"), &token, &json!({})).await,
            ),
            ("GET", format!("{base}/reports/ppc"), app.get(&format!("{base}/reports/ppc"), &token).await),
            (
                "GET",
                format!("{base}/reports/nco-ransomware"),
                app.get(&format!("{base}/reports/nco-ransomware"), &token).await,
            ),
        ];
        for (method, path, res) in checks {
            let (status, _, body) = parts(res).await;
            assert_eq!(status, 404, "{email}: {method} {path} answered {status}: {body}");
        }
        let listed = listed_ids(&app, &token, "/incidents").await;
        assert!(!listed.contains(&id), "{email} lists the incident");
    }

    // Nothing changed, as the owner sees it.
    let after = fetch(&app, &owner, &id).await;
    assert_eq!(after["version"], version, "{after}");
    assert_eq!(after["status"], "reported");
    assert_eq!(after["title"], incident["title"]);
    assert!(after["milestones"]["emr_restored"].is_null(), "{after}");
    let police = after["obligations"].as_array().unwrap().iter().find(|o| o["id"] == oid.as_str()).unwrap();
    assert!(police["fulfilled_at"].is_null(), "{police}");
    assert_eq!(timeline(&app, &owner, &id).await.len(), timeline_before);
    // The audit trail of the incident records nobody but its owner.
    let officer = app.login(OFFICER).await;
    let (status, _, audit) = parts(app.get(&format!("/audit?incident_id={id}&limit=200"), &officer).await).await;
    assert_eq!(status, 200, "{audit}");
    let owner_id = incident["reported_by"].clone();
    for e in audit["items"].as_array().unwrap() {
        assert_eq!(e["actor_id"], owner_id, "an outsider left a trace: {e}");
    }
});

db_test!(the_ppc_liaison_sees_an_incident_routed_to_the_ppc_without_its_contact, |app| async move {
    let owner = app.login(TOKYO_REPORTER).await;
    let liaison = app.login(PPC_LIAISON).await;
    let routed = file_ok(&app, &owner, &ransomware_filing()).await;
    assert!(authorities(&routed).contains(&"ppc".to_owned()), "{routed}");
    let hidden = file_ok(&app, &owner, &ransomware_without_personal_data()).await;
    let id = id_of(&routed);

    let seen = fetch(&app, &liaison, &id).await;
    assert_eq!(seen["reference"], routed["reference"]);
    assert_eq!(seen["title"], routed["title"]);
    assert!(seen.get("contact").is_none(), "the liaison sees the contact: {}", seen["contact"]);
    assert!(fetch(&app, &owner, &id).await.get("contact").is_some(), "the owner must still see the contact");
    for report in ["nco-ransomware", "ppc"] {
        let res = app.get(&format!("/incidents/{id}/reports/{report}"), &liaison).await;
        assert_eq!(res.status(), 200);
        let text = res.text().await.unwrap();
        assert!(!text.contains("03-1234-5678"), "the liaison reads the contact phone in the {report} report: {text}");
    }

    let listed = listed_ids(&app, &liaison, "/incidents").await;
    assert_eq!(listed, [id], "the liaison's list is exactly the PPC-routed incident (not {})", hidden["id"]);
});

// 7. Changes

db_test!(a_patch_needs_a_current_if_match_and_bumps_the_version, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let id = id_of(&file_ok(&app, &reporter, &ransomware_filing()).await);
    let path = format!("/incidents/{id}");
    let change = json!({"description": "バックアップからの復旧を開始", "bcp_activated": true});

    assert_problem(app.patch(&path, &reporter, None, &change).await, 428).await;
    assert_problem(app.patch(&path, &reporter, Some(7), &change).await, 412).await;
    assert_eq!(fetch(&app, &reporter, &id).await["version"], 1, "a refused PATCH changed the version");

    let res = app.patch(&path, &reporter, Some(1), &change).await;
    let etag = res.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(body["description"], "バックアップからの復旧を開始");
    // The old version is now stale.
    assert_problem(app.patch(&path, &reporter, Some(1), &change).await, 412).await;
    let entries = timeline(&app, &reporter, &id).await;
    let facts = entries.iter().find(|e| e["kind"] == "facts_changed").expect("a facts_changed entry");
    assert!(facts["data"]["fields"].as_array().unwrap().contains(&json!("description")), "{facts}");
});

db_test!(only_officers_override_severity_and_only_with_a_reason, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let id = id_of(&file_ok(&app, &reporter, &ransomware_filing()).await);
    let path = format!("/incidents/{id}");

    let (_, p) = assert_problem(
        app.patch(&path, &reporter, Some(1), &json!({"severity": "low", "severity_reason": "軽微"})).await,
        403,
    )
    .await;
    assert!(p["detail"].as_str().is_some(), "{p}");
    let (_, p) = assert_problem(app.patch(&path, &officer, Some(1), &json!({"severity": "low"})).await, 422).await;
    assert!(error_fields(&p).contains("severity_reason"), "{p}");
    assert_eq!(fetch(&app, &officer, &id).await["severity"], "critical");

    let reason = "電子カルテは紙運用で継続できており救急は近隣病院で受け入れ済み";
    let (status, _, body) =
        parts(app.patch(&path, &officer, Some(1), &json!({"severity": "high", "severity_reason": reason})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["severity"], "high");
    assert_eq!(body["severity_overridden"], true);
    assert_eq!(body["version"], 2);

    let entries = timeline(&app, &officer, &id).await;
    let change = entries.iter().find(|e| e["kind"] == "severity_change").expect("a severity_change entry");
    assert_eq!(change["data"]["from"], "critical", "{change}");
    assert_eq!(change["data"]["to"], "high", "{change}");
    assert_eq!(change["data"]["reason"], reason, "{change}");
    assert_eq!(change["author_name"], "当番 鈴木", "{change}");

    let (status, _, audit) = parts(app.get(&format!("/audit?incident_id={id}&limit=200"), &officer).await).await;
    assert_eq!(status, 200, "{audit}");
    let update = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "incident.update")
        .unwrap_or_else(|| panic!("no incident.update audit entry: {audit}"));
    assert_eq!(update["details"]["severity"], "high", "{update}");
    assert_eq!(update["details"]["severity_reason"], reason, "{update}");
    assert_eq!(update["actor_label"], "duty_officer", "{update}");
});

db_test!(confirming_a_large_personal_data_breach_routes_the_incident_to_the_ppc, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let filed = file_ok(&app, &reporter, &ransomware_without_personal_data()).await;
    let id = id_of(&filed);
    assert!(!authorities(&filed).contains(&"ppc".to_owned()), "{filed}");
    assert!(!obligation_kinds(&filed).iter().any(|k| k.starts_with("ppc")), "{filed}");

    let patch = json!({"personal_data": {"status": "confirmed", "persons_estimate": 1500}});
    let (status, _, body) = parts(app.patch(&format!("/incidents/{id}"), &reporter, Some(1), &patch).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["personal_data"]["status"], "confirmed");
    assert_eq!(body["personal_data"]["persons_estimate"], 1500);
    assert!(authorities(&body).contains(&"ppc".to_owned()), "{body}");
    let ppc = body["routing"].as_array().unwrap().iter().find(|r| r["authority"] == "ppc").unwrap();
    let codes: Vec<&str> = ppc["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"persons_over_threshold"), "{codes:?}");

    let (status, _, obligations) = parts(app.get(&format!("/incidents/{id}/obligations"), &reporter).await).await;
    assert_eq!(status, 200, "{obligations}");
    let kinds: Vec<&str> = obligations.as_array().unwrap().iter().map(|o| o["kind"].as_str().unwrap()).collect();
    for k in ["ppc_preliminary", "ppc_final", "patient_notice"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    // The PPC takes reports only through its online form (施行規則8条3項): its route is a tracked
    // obligation, and no e-mail is sent as if it were the report.
    let (_, _, notifications) = parts(app.get(&format!("/incidents/{id}/notifications"), &reporter).await).await;
    assert!(
        !notifications.as_array().unwrap().iter().any(|n| n["authority"] == "ppc"),
        "the PPC takes no e-mail: {notifications}"
    );
    // The PPC liaison can see it now.
    let liaison = app.login(PPC_LIAISON).await;
    assert_eq!(listed_ids(&app, &liaison, "/incidents").await, [id]);
});

// 8. Lifecycle

db_test!(the_lifecycle_refuses_illegal_moves_with_the_allowed_ones_and_records_each_change, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let id = id_of(&file_ok(&app, &reporter, &ransomware_filing()).await);

    assert_problem(transition(&app, &reporter, &id, "triaged").await, 403).await;

    assert_illegal(&app, &officer, &id, "closed", &["triaged", "withdrawn"]).await;
    assert_illegal(&app, &officer, &id, "responding", &["triaged", "withdrawn"]).await;
    let triaged = transition_ok(&app, &officer, &id, "triaged").await;
    assert!(triaged["triaged_at"].is_string(), "{triaged}");

    assert_illegal(&app, &officer, &id, "recovered", &["responding", "recovering", "withdrawn"]).await;
    assert_illegal(&app, &officer, &id, "reported", &["responding", "recovering", "withdrawn"]).await;
    transition_ok(&app, &officer, &id, "responding").await;

    assert_illegal(&app, &officer, &id, "withdrawn", &["recovering"]).await;
    assert_illegal(&app, &officer, &id, "closed", &["recovering"]).await;
    transition_ok(&app, &officer, &id, "recovering").await;

    assert_illegal(&app, &officer, &id, "closed", &["recovered"]).await;
    // recovered needs the fully_normal milestone.
    let (_, p) = assert_problem(transition(&app, &officer, &id, "recovered").await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("fully_normal"), "{p}");
    assert_eq!(fetch(&app, &officer, &id).await["status"], "recovering");

    let (status, _, body) = parts(
        app.put(&format!("/incidents/{id}/milestones/fully_normal"), &reporter, &json!({"at": jst_ago(1)})).await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["milestones"]["fully_normal"].is_string(), "{body}");
    transition_ok(&app, &officer, &id, "recovered").await;
    assert_illegal(&app, &officer, &id, "recovering", &["closed"]).await;
    let closed = transition_ok(&app, &officer, &id, "closed").await;
    assert!(closed["closed_at"].is_string(), "{closed}");

    for to in ["reported", "triaged", "responding", "recovering", "recovered", "withdrawn", "closed"] {
        assert_illegal(&app, &officer, &id, to, &[]).await;
    }

    // The timeline names who moved it, when, from what to what.
    let (_, _, me) = parts(app.get("/me", &officer).await).await;
    let entries = timeline(&app, &reporter, &id).await;
    let moves: Vec<&Value> = entries.iter().filter(|e| e["kind"] == "status_change").collect();
    let pairs: Vec<(String, String)> = moves
        .iter()
        .map(|e| (e["data"]["from"].as_str().unwrap().into(), e["data"]["to"].as_str().unwrap().into()))
        .collect();
    let expected = [
        ("reported", "triaged"),
        ("triaged", "responding"),
        ("responding", "recovering"),
        ("recovering", "recovered"),
        ("recovered", "closed"),
    ];
    assert_eq!(pairs, expected.map(|(a, b)| (a.to_owned(), b.to_owned())), "{moves:?}");
    let mut last = DateTime::<Utc>::MIN_UTC;
    for m in &moves {
        assert_eq!(m["author_id"], me["id"], "{m}");
        assert_eq!(m["author_name"], "当番 鈴木", "{m}");
        let at = time(&m["created_at"]);
        assert!(at >= last && at <= Utc::now() + Duration::seconds(5), "{m}");
        last = at;
    }
    assert_eq!(moves[0]["body"], "to triaged", "the reason is kept: {}", moves[0]);
});

db_test!(a_reported_or_triaged_incident_can_be_withdrawn_as_a_false_alarm, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let a = id_of(&file_ok(&app, &reporter, &quiet_filing("誤報 1")).await);
    let b = id_of(&file_ok(&app, &reporter, &quiet_filing("誤報 2")).await);
    let w = transition_ok(&app, &officer, &a, "withdrawn").await;
    assert!(w["closed_at"].is_string(), "{w}");
    transition_ok(&app, &officer, &b, "triaged").await;
    transition_ok(&app, &officer, &b, "withdrawn").await;
    assert_illegal(&app, &officer, &b, "triaged", &[]).await;
});

db_test!(the_active_queue_leaves_out_finished_incidents_however_high_they_rank, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let finished = id_of(&file_ok(&app, &reporter, &ransomware_filing()).await);
    let open = id_of(&file_ok(&app, &reporter, &quiet_filing("サーバー不調")).await);
    transition_ok(&app, &officer, &finished, "withdrawn").await;
    // The withdrawn ransomware report still outranks the open incident in the plain queue ...
    assert_eq!(listed_ids(&app, &officer, "/incidents").await, [finished.as_str(), open.as_str()]);
    // ... and the active queue is the open incident alone; `false` is the rest.
    assert_eq!(listed_ids(&app, &officer, "/incidents?active=true").await, [open.as_str()]);
    assert_eq!(listed_ids(&app, &officer, "/incidents?active=false").await, [finished.as_str()]);
    assert_eq!(listed_ids(&app, &reporter, "/incidents?active=true&limit=1").await, [open.as_str()]);
    let (status, _, problem) = parts(app.get("/incidents?active=maybe", &officer).await).await;
    assert_eq!(status, 422, "{problem}");
});

// 9. Timeline

db_test!(the_timeline_lists_filing_notes_status_reports_and_milestones_in_order, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let id = id_of(&file_ok(&app, &reporter, &ransomware_filing()).await);
    let updates = format!("/incidents/{id}/updates");

    let (status, _, note) =
        parts(app.post(&updates, &reporter, &json!({"kind": "note", "body": "ベンダーに連絡済み"})).await).await;
    assert_eq!(status, 201, "{note}");
    assert_eq!(note["kind"], "note");
    assert_eq!(note["body"], "ベンダーに連絡済み");

    let report = json!({"kind": "status_report", "damage": "電子カルテ停止", "response": "紙運用に切替",
                        "recovery": "バックアップ検証中", "prevention": "VPN 機器の更新"});
    for missing in ["damage", "response", "recovery", "prevention"] {
        let mut partial = report.clone();
        partial.as_object_mut().unwrap().remove(missing);
        let (_, p) = assert_problem(app.post(&updates, &reporter, &partial).await, 422).await;
        assert_eq!(error_fields(&p), BTreeSet::from([missing.to_owned()]), "{p}");
    }
    let (_, p) = assert_problem(app.post(&updates, &reporter, &json!({"kind": "note"})).await, 422).await;
    assert!(error_fields(&p).contains("body"), "{p}");

    let notes_before = notification_list(&app, &reporter, &id).await;
    let routed_before = authorities(&fetch(&app, &reporter, &id).await);
    let (status, _, sr) = parts(app.post(&updates, &reporter, &report).await).await;
    assert_eq!(status, 201, "{sr}");
    assert_eq!(sr["data"]["prevention"], "VPN 機器の更新", "{sr}");
    // The status report goes to MHLW alone, as a new message; the routing is untouched.
    let notes_after = notification_list(&app, &reporter, &id).await;
    let added: Vec<&Value> = notes_after.iter().filter(|n| !notes_before.iter().any(|b| b["id"] == n["id"])).collect();
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(added[0]["authority"], "mhlw", "{added:?}");
    assert_eq!(authorities(&fetch(&app, &reporter, &id).await), routed_before);

    let (status, _, m) = parts(
        app.put(&format!("/incidents/{id}/milestones/emr_restored"), &reporter, &json!({"at": jst_ago(2)})).await,
    )
    .await;
    assert_eq!(status, 200, "{m}");

    let entries = timeline(&app, &reporter, &id).await;
    assert_eq!(kinds(&entries), ["filed", "note", "status_report", "milestone"], "{entries:?}");
    assert_eq!(entries[1]["id"], note["id"]);
    assert_eq!(entries[2]["data"]["damage"], "電子カルテ停止");
    assert_eq!(entries[3]["data"]["milestone"], "emr_restored");
    assert_eq!(entries[1]["author_name"], "情報システム室 佐藤");
    let mut last = DateTime::<Utc>::MIN_UTC;
    for e in &entries {
        let at = time(&e["created_at"]);
        assert!(at >= last, "out of order: {entries:?}");
        last = at;
    }
});

// 10. Milestones

db_test!(a_milestone_in_the_future_is_refused_and_an_unknown_one_does_not_exist, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let id = id_of(&file_ok(&app, &reporter, &ransomware_filing()).await);
    let (_, p) = assert_problem(
        app.put(&format!("/incidents/{id}/milestones/emr_restored"), &reporter, &json!({"at": jst_in(120)})).await,
        422,
    )
    .await;
    assert!(error_fields(&p).contains("at"), "{p}");
    assert_problem(
        app.put(&format!("/incidents/{id}/milestones/coffee_break"), &reporter, &json!({"at": jst_ago(1)})).await,
        404,
    )
    .await;
    let after = fetch(&app, &reporter, &id).await;
    assert_eq!(after["version"], 1, "{after}");
    assert!(after["milestones"]["emr_restored"].is_null(), "{after}");

    // A responder may record milestones only where visible: here it is not.
    let responder = app.login(EAST_RESPONDER).await;
    assert_problem(
        app.put(&format!("/incidents/{id}/milestones/emr_restored"), &responder, &json!({"at": jst_ago(1)})).await,
        404,
    )
    .await;
});

// 11. Obligations and prepared reports

db_test!(fulfilling_the_ppc_preliminary_report_turns_the_prepared_report_into_the_final_one, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let incident = file_ok(&app, &reporter, &ransomware_filing()).await;
    let id = id_of(&incident);
    let reference = incident["reference"].as_str().unwrap().to_owned();
    let oid = id_of(
        incident["obligations"].as_array().unwrap().iter().find(|o| o["kind"] == "ppc_preliminary").expect("ppc"),
    );

    let (status, _, before) =
        parts(app.get(&format!("/incidents/{id}/reports/ppc?format=json"), &reporter).await).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["report_type"], "ppc_preliminary", "{before}");

    let at = jst_ago(10);
    let fulfil = format!("/incidents/{id}/obligations/{oid}/fulfil");
    let (status, _, o) =
        parts(app.post(&fulfil, &reporter, &json!({"at": at, "reference": "PPC-R-20261122-01"})).await).await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["kind"], "ppc_preliminary");
    assert_eq!(o["fulfilled_reference"], "PPC-R-20261122-01");
    let expected: DateTime<Utc> = DateTime::parse_from_rfc3339(&at).unwrap().with_timezone(&Utc);
    assert!((time(&o["fulfilled_at"]) - expected).num_milliseconds().abs() < 1, "{o} vs {at}");
    assert_eq!(o["overdue"], false);

    let (_, p) = assert_problem(app.post(&fulfil, &reporter, &json!({"at": jst_ago(5)})).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("already"), "{p}");

    let (status, _, report) =
        parts(app.get(&format!("/incidents/{id}/reports/ppc?format=json"), &reporter).await).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["report_type"], "ppc_final", "{report}");
    assert_eq!(report["reference"], reference.as_str());
    assert_eq!(report["items"].as_array().unwrap().len(), 9, "{report}");

    let res = app.get(&format!("/incidents/{id}/reports/ppc?format=text"), &reporter).await;
    assert_eq!(res.status(), 200);
    assert!(content_type(res.headers()).starts_with("text/plain"), "{:?}", content_type(res.headers()));
    let text = res.text().await.unwrap();
    assert!(text.contains("概要"), "{text}");
    assert!(text.contains(&reference), "{text}");
    assert!(text.contains("確報"), "{text}");

    // The timeline records the submission.
    let entries = timeline(&app, &reporter, &id).await;
    let e = entries.iter().find(|e| e["kind"] == "obligation").expect("an obligation entry");
    assert_eq!(e["data"]["reference"], "PPC-R-20261122-01", "{e}");
});

// 12. Drills

db_test!(a_drill_is_marked_filtered_and_notified_only_to_drill_contacts, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let mut body = ransomware_filing();
    body["drill"] = json!(true);
    body["title"] = json!("訓練: ランサムウェア");
    let drill = file_ok(&app, &reporter, &body).await;
    let real = file_ok(&app, &reporter, &ransomware_filing()).await;
    assert_eq!(drill["drill"], true);

    let (_, _, page) = parts(app.get("/incidents", &officer).await).await;
    let item = page["items"].as_array().unwrap().iter().find(|i| i["id"] == drill["id"]).expect("the drill is listed");
    assert_eq!(item["drill"], true, "{item}");
    let other = page["items"].as_array().unwrap().iter().find(|i| i["id"] == real["id"]).expect("listed");
    assert_eq!(other["drill"], false, "{other}");

    assert_eq!(listed_ids(&app, &officer, "/incidents?drill=false").await, [id_of(&real)]);
    assert_eq!(listed_ids(&app, &officer, "/incidents?drill=true").await, [id_of(&drill)]);

    let recipients = |n: &Value| -> Vec<String> {
        n.as_array()
            .unwrap()
            .iter()
            .flat_map(|x| x["recipients"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()))
            .collect()
    };
    let (_, _, n) = parts(app.get(&format!("/incidents/{}/notifications", id_of(&drill)), &officer).await).await;
    let to = recipients(&n);
    assert!(!to.is_empty(), "a drill notifies its drill contacts: {n}");
    assert!(to.iter().all(|r| r.starts_with("drill-")), "a drill reached a real contact: {to:?}");
    let (_, _, n) = parts(app.get(&format!("/incidents/{}/notifications", id_of(&real)), &officer).await).await;
    let to = recipients(&n);
    assert!(!to.is_empty() && to.iter().all(|r| !r.starts_with("drill-")), "{to:?}");

    // A drill cannot become real later.
    let (_, p) = assert_problem(
        app.patch(&format!("/incidents/{}", id_of(&drill)), &reporter, Some(1), &json!({"drill": false})).await,
        422,
    )
    .await;
    assert!(error_fields(&p).contains("drill"), "{p}");
});

// Roles inside one's own scope.

db_test!(only_an_officer_may_resend_a_notification_of_a_reporters_incident, |app| async move {
    let reporter = app.login(TOKYO_REPORTER).await;
    let officer = app.login(OFFICER).await;
    let id = id_of(&file_ok(&app, &reporter, &ransomware_filing()).await);
    let (_, _, n) = parts(app.get(&format!("/incidents/{id}/notifications"), &reporter).await).await;
    let nid = id_of(&n[0]);
    let resend = format!("/incidents/{id}/notifications/{nid}/resend");
    assert_problem(app.post(&resend, &reporter, &json!({})).await, 403).await;
    let (status, _, body) = parts(app.post(&resend, &officer, &json!({})).await).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["id"], nid.as_str());
    assert!(kinds(&timeline(&app, &officer, &id).await).contains(&"notification".to_owned()));
    // The fixture's accounts are the ones these tests name.
    assert_eq!(app.email_of(Role::Liaison), PPC_LIAISON);
    assert_eq!(app.email_of(Role::DutyOfficer), OFFICER);
});

async fn notification_list(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let (status, _, body) = parts(app.get(&format!("/incidents/{id}/notifications"), token).await).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().expect("a list").clone()
}
