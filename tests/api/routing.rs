//! Routing preview (which authorities, why, deadlines, contacts) and the contact directory
//! (admin API and `hikeshi contacts import`).

use chrono::Utc;
use hikeshi::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, parts, TestApp};

const TOKYO_REPORTER: &str = "reporter@tokyo-chuo.example";
const MINAMI_REPORTER: &str = "reporter@minami-town.example";
const ADMIN: &str = "admin@mhlw.example";

/// POST /routing/preview; the routes (panics unless 200).
async fn preview(app: &TestApp, token: &str, draft: Value) -> Vec<Value> {
    let (status, _, body) = parts(app.post("/routing/preview", token, &draft).await).await;
    assert_eq!(status, 200, "preview of {draft}: {body}");
    body["routes"].as_array().expect("routes").clone()
}

fn authorities(routes: &[Value]) -> Vec<&str> {
    routes.iter().map(|r| r["authority"].as_str().expect("authority")).collect()
}

fn route<'a>(routes: &'a [Value], authority: &str) -> &'a Value {
    routes.iter().find(|r| r["authority"] == authority).unwrap_or_else(|| panic!("no {authority} route: {routes:?}"))
}

fn obligation<'a>(route: &'a Value, kind: &str) -> &'a Value {
    route["obligations"]
        .as_array()
        .expect("obligations")
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {route}"))
}

fn addresses(route: &Value) -> Vec<&str> {
    route["contacts"].as_array().expect("contacts").iter().map(|c| c["address"].as_str().expect("address")).collect()
}

/// Aware on 2026-11-20 (JST), day 1 (DOMAIN.md 2.4): day 5 ends 11-24, day 30 on 12-19 (a Saturday:
/// the legal deadline is Monday 12-21), day 60 on 2027-01-18, 23:59:59 JST.
const AWARE: &str = "2026-11-20T10:00:00+09:00";

db_test!(a_ransomware_draft_routes_to_every_authority_with_reasons_and_the_tokyo_police, |app| async move {
    let token = app.login(TOKYO_REPORTER).await;
    let routes = preview(
        &app,
        &token,
        json!({"category": "ransomware", "care_impact": "emergency_suspended", "aware_at": AWARE,
               "personal_data": {"status": "suspected"}}),
    )
    .await;
    let got = authorities(&routes);
    for a in ["mhlw", "ppc", "police", "ipa"] {
        assert!(got.contains(&a), "{a} missing from {got:?}");
    }
    assert_eq!(got, ["mhlw", "ppc", "police", "ipa", "vendor", "prefecture"], "order and completeness");
    for r in &routes {
        let reasons = r["reasons"].as_array().expect("reasons");
        assert!(!reasons.is_empty(), "{r}");
        for reason in reasons {
            for lang in ["ja", "en", "code"] {
                assert!(reason[lang].as_str().is_some_and(|s| !s.is_empty()), "{lang} of {reason}");
            }
        }
    }
    let police = route(&routes, "police");
    let contacts = police["contacts"].as_array().expect("contacts");
    assert_eq!(contacts.len(), 1, "the Tokyo police only, not the national window: {contacts:?}");
    assert_eq!(contacts[0]["address"], "cyber@police.pref13.example");
    assert!(contacts[0]["name"].as_str().is_some_and(|n| n.contains("警視庁")), "{}", contacts[0]);
    assert_eq!(addresses(route(&routes, "mhlw")), ["cyber-dx@mhlw.example"], "the post-reorganisation office");
    assert_eq!(addresses(route(&routes, "prefecture")), ["iryo@pref13.example"]);

    let ppc = route(&routes, "ppc");
    assert_eq!(obligation(ppc, "ppc_preliminary")["due_at"], "2026-11-24T14:59:59Z");
    assert_eq!(obligation(ppc, "ppc_preliminary")["reminder_at"], "2026-11-22T00:00:00Z", "day 3, 09:00 JST");
    assert_eq!(obligation(ppc, "ppc_final")["due_at"], "2027-01-18T14:59:59Z", "60 days: malicious purpose");
    assert_eq!(obligation(ppc, "ppc_final")["legal_due_at"], "2027-01-18T14:59:59Z", "an open Monday");
    for r in &routes {
        let sources = r["sources"].as_array().expect("sources");
        assert!(!sources.is_empty() && sources.iter().all(|s| s["title"].is_string()), "{r}");
    }
    let codes: Vec<&str> = ppc["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"personal_data_suspected") && codes.contains(&"malicious_purpose"), "{codes:?}");
});

db_test!(a_misdelivery_of_one_patients_record_goes_to_the_ppc_alone_with_a_30_day_final_report, |app| async move {
    let token = app.login(TOKYO_REPORTER).await;
    let routes = preview(
        &app,
        &token,
        json!({"category": "misdelivery", "aware_at": AWARE,
               "personal_data": {"status": "confirmed", "persons_estimate": 1}}),
    )
    .await;
    assert_eq!(authorities(&routes), ["ppc"]);
    let ppc = &routes[0];
    assert_eq!(obligation(ppc, "ppc_preliminary")["due_at"], "2026-11-24T14:59:59Z");
    assert_eq!(obligation(ppc, "ppc_final")["due_at"], "2026-12-19T14:59:59Z", "day 30 is Saturday 12-19");
    assert_eq!(obligation(ppc, "ppc_final")["legal_due_at"], "2026-12-21T14:59:59Z", "moved to Monday");
    assert!(obligation(ppc, "patient_notice")["due_at"].is_null());
    assert_eq!(obligation(ppc, "patient_notice")["reminder_at"], "2026-11-24T00:00:00Z", "day 5");
    // The PPC takes reports only through its form: the contact is the form, not a mailbox.
    assert_eq!(addresses(ppc), ["https://www.ppc.go.jp/personalinfo/legal/leakAction/"]);
    assert_eq!(ppc["contacts"][0]["channel"], "manual");
});

db_test!(lost_media_under_the_hospitals_own_encryption_with_its_key_kept_apart_goes_nowhere, |app| async move {
    let token = app.login(TOKYO_REPORTER).await;
    let draft = |key: Value| {
        json!({"category": "lost_media",
               "personal_data": {"status": "confirmed", "persons_estimate": 5000,
                                 "strong_encryption": {"protected": true, "key_compromised": key}}})
    };
    assert!(preview(&app, &token, draft(json!(false))).await.is_empty());
    // A key that may be compromised is no protection.
    assert_eq!(authorities(&preview(&app, &token, draft(json!("unknown"))).await), ["ppc"]);
    assert_eq!(authorities(&preview(&app, &token, draft(json!(true))).await), ["ppc"]);
});

db_test!(the_old_encrypted_flag_is_refused_naming_its_replacement, |app| async move {
    let token = app.login(TOKYO_REPORTER).await;
    let draft = json!({"category": "ransomware", "personal_data": {"status": "confirmed", "encrypted": true}});
    let (_, problem) = assert_problem(app.post("/routing/preview", &token, &draft).await, 422).await;
    let errors = problem["errors"].as_array().expect("errors");
    assert!(
        errors.iter().any(|e| e["field"] == "personal_data.encrypted"
            && e["message"].as_str().is_some_and(|m| m.contains("personal_data.strong_encryption"))),
        "{problem}"
    );
});

db_test!(ransomware_that_hit_the_emr_reaches_the_ppc_even_when_filed_with_personal_data_none, |app| async move {
    let token = app.login(TOKYO_REPORTER).await;
    let draft = |pd: Value| json!({"category": "ransomware", "affected_systems": ["emr"], "personal_data": pd});
    let routes = preview(&app, &token, draft(json!({"status": "none"}))).await;
    let ppc = route(&routes, "ppc");
    assert_eq!(ppc["reasons"][0]["code"], "personal_data_inferred", "{ppc}");
    // With a reason for `none`, the hospital's word stands.
    let routes =
        preview(&app, &token, draft(json!({"status": "none", "none_reason": "EMR backups only, no extraction seen"})))
            .await;
    assert!(!authorities(&routes).contains(&"ppc"), "{routes:?}");
});

db_test!(a_municipal_hospital_is_held_to_the_1000_person_threshold_not_100, |app| async move {
    // みなみ町立病院 is `local_government`: Art. 58(2)(i) → Art. 26 since 2023-04 (DOMAIN.md 2.3).
    let token = app.login(MINAMI_REPORTER).await;
    let draft = |n: i64| {
        json!({"category": "misdelivery",
               "personal_data": {"status": "confirmed", "sensitive": false, "persons": {"staff": n}}})
    };
    assert!(preview(&app, &token, draft(150)).await.is_empty(), "150 staff records sent to a wrong address");
    assert!(preview(&app, &token, draft(1000)).await.is_empty(), "1,000 is not more than 1,000");
    let routes = preview(&app, &token, draft(1001)).await;
    assert_eq!(authorities(&routes), ["ppc"]);
    let reasons = route(&routes, "ppc")["reasons"].as_array().unwrap().clone();
    let persons = reasons.iter().find(|r| r["code"] == "persons_over_threshold").expect("threshold reason");
    assert!(persons["ja"].as_str().unwrap().contains("1000人"), "{persons}");
    assert!(!persons["ja"].as_str().unwrap().contains("行政機関等"), "not told it is a 行政機関等: {persons}");
    assert!(reasons.iter().any(|r| r["code"] == "ppc_form_private"), "the Art. 26 form: {reasons:?}");
});

db_test!(the_rules_and_the_vocabulary_are_published, |app| async move {
    let token = app.login(TOKYO_REPORTER).await;
    let (status, _, rules) = parts(app.get("/rules", &token).await).await;
    assert_eq!(status, 200, "{rules}");
    assert_eq!(rules["version"], hikeshi::domain::routing::RULES_VERSION);
    for r in rules["rules"].as_array().expect("rules") {
        assert!(r["condition_ja"].is_string() && r["condition_en"].is_string(), "{r}");
        assert!(!r["sources"].as_array().expect("sources").is_empty(), "{r}");
    }
    let res = app.client.get(format!("{}/api/v1/vocabulary", app.address)).send().await.expect("vocabulary");
    assert_eq!(res.status(), 200, "anyone may read the vocabulary");
    let v: Value = res.json().await.expect("json");
    let ja = |name: &str, value: &str| {
        v[name].as_array().expect(name).iter().find(|t| t["value"] == value).map(|t| t["ja"].clone()).expect(value)
    };
    assert_eq!(ja("incident_status", "reported"), "報告済み");
    assert_eq!(ja("legal_status", "local_iaa"), "地方独立行政法人");
    assert_eq!(v["care_impact"][0]["value"], "none", "in the enumeration's order");
});

db_test!(responders_may_not_preview_routing, |app| async move {
    let token = app.token_for(Role::Responder).await;
    let res = app.post("/routing/preview", &token, &json!({"category": "ransomware"})).await;
    assert_problem(res, 403).await;
});

// ---------------------------------------------------------------------------------------------
// Contacts

async fn contact_list(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let (status, _, page) = parts(app.get(&format!("/contacts?limit=200{query}"), token).await).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().expect("items").clone()
}

db_test!(admins_add_end_and_filter_contacts_and_an_email_contact_needs_an_email_address, |app| async move {
    let admin = app.login(ADMIN).await;
    let body = json!({"authority": "ipa", "name": "IPA 技術相談窓口", "address": "soudan@ipa.example",
                      "locale": "en", "effective_from": "2026-04-01"});
    let res = app.post("/contacts", &admin, &body).await;
    let (status, headers, created) = parts(res).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(headers.get("location").and_then(|v| v.to_str().ok()), Some(format!("/api/v1/contacts/{id}").as_str()));
    assert_eq!(created["version"], 1);
    assert_eq!(created["channel"], "email", "the default channel");
    assert!(created["effective_until"].is_null());

    // Ending it needs the current version.
    let end = json!({"effective_until": "2026-12-31"});
    assert_problem(app.patch(&format!("/contacts/{id}"), &admin, None, &end).await, 428).await;
    assert_problem(app.patch(&format!("/contacts/{id}"), &admin, Some(7), &end).await, 412).await;
    let (status, _, ended) = parts(app.patch(&format!("/contacts/{id}"), &admin, Some(1), &end).await).await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(ended["effective_until"], "2026-12-31");
    assert_eq!(ended["version"], 2);
    assert_eq!(ended["address"], "soudan@ipa.example", "a merge patch keeps the rest");

    let ipa = contact_list(&app, &admin, "&authority=ipa").await;
    assert!(ipa.iter().all(|c| c["authority"] == "ipa"), "{ipa:?}");
    assert!(ipa.iter().any(|c| c["id"] == id.as_str() && c["effective_until"] == "2026-12-31"), "{ipa:?}");
    let police = contact_list(&app, &admin, "&authority=police").await;
    assert!(!police.is_empty() && police.iter().all(|c| c["authority"] == "police"));
    assert!(police.iter().all(|c| c["id"] != id.as_str()));

    let bad = json!({"authority": "ppc", "name": "PPC", "channel": "email", "address": "not-an-email"});
    let (_, problem) = assert_problem(app.post("/contacts", &admin, &bad).await, 422).await;
    assert!(problem["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["field"] == "address")), "{problem}");

    // Officers read; hospitals neither read nor write.
    let officer = app.token_for(Role::DutyOfficer).await;
    assert!(!contact_list(&app, &officer, "&authority=ipa").await.is_empty());
    assert_problem(app.post("/contacts", &officer, &body).await, 403).await;
    let reporter = app.login(TOKYO_REPORTER).await;
    assert_problem(app.get("/contacts", &reporter).await, 403).await;
});

db_test!(an_ended_prefectural_police_contact_falls_back_to_the_national_window, |app| async move {
    let admin = app.login(ADMIN).await;
    let tokyo_police = contact_list(&app, &admin, "&authority=police&prefecture=13").await;
    assert_eq!(tokyo_police.len(), 1, "{tokyo_police:?}");
    let c = &tokyo_police[0];
    let yesterday = (hikeshi::domain::deadlines::jst_date(Utc::now()) - chrono::Days::new(1)).to_string();
    let path = format!("/contacts/{}", c["id"].as_str().unwrap());
    let res = app.patch(&path, &admin, c["version"].as_i64(), &json!({"effective_until": yesterday})).await;
    assert_eq!(res.status(), 200);
    let token = app.login(TOKYO_REPORTER).await;
    let routes = preview(&app, &token, json!({"category": "ransomware"})).await;
    assert_eq!(addresses(route(&routes, "police")), ["cyber-soudan@npa.example"]);
});

/// Runs the real `hikeshi` binary against the test database (blocking, off the async workers).
async fn cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let dir = app.dir.path().to_owned();
    let url = app.database_url.clone();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hikeshi"))
            .args(&args)
            .current_dir(&dir)
            .env("HIKESHI_DATABASE_URL", url)
            .env("HIKESHI_CONFIG", dir.join("absent.toml"))
            .env("HIKESHI_LOG_FORMAT", "json")
            .output()
            .expect("run the hikeshi binary")
    })
    .await
    .expect("cli task");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

db_test!(contacts_import_adds_the_contacts_of_a_toml_file_once, |app| async move {
    let tokyo_id = app.creds.hospitals[0].0.clone();
    let file = app.dir.path().join("contacts.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[[contacts]]
authority = "vendor"
hospital_id = "{tokyo_id}"
name = "電子カルテ保守 株式会社サンプル"
address = "support@emr-vendor.example"
effective_from = "2025-04-01"

[[contacts]]
authority = "police"
prefecture = "13"
name = "警視庁 サイバー犯罪対策課 第二窓口"
address = "cyber2@police.pref13.example"
effective_from = "2025-04-01"
"#
        ),
    )
    .expect("write the contact file");
    let admin = app.login(ADMIN).await;
    let before = contact_list(&app, &admin, "").await.len();

    let path = file.to_str().unwrap().to_owned();
    let (ok, out) = cli(&app, &["contacts", "import", &path]).await;
    assert!(ok, "{out}");
    assert!(out.contains("2 added, 0 already present"), "{out}");
    assert_eq!(contact_list(&app, &admin, "").await.len(), before + 2);

    let (ok, out) = cli(&app, &["contacts", "import", &path]).await;
    assert!(ok, "{out}");
    assert!(out.contains("0 added, 2 already present"), "{out}");
    assert_eq!(contact_list(&app, &admin, "").await.len(), before + 2, "a second import adds none");

    // The imported contacts take part in routing at once.
    let token = app.login(TOKYO_REPORTER).await;
    let routes = preview(&app, &token, json!({"category": "ransomware"})).await;
    assert_eq!(addresses(route(&routes, "vendor")), ["support@emr-vendor.example"]);
    let mut police = addresses(route(&routes, "police"));
    police.sort();
    assert_eq!(police, ["cyber2@police.pref13.example", "cyber@police.pref13.example"]);
});

/// Regression: native TOML dates (`effective_from = 2026-04-01`) import as dates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_import_accepts_native_toml_dates() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.expect("a SQLite app");
    let file = app.dir.path().join("native-dates.toml");
    std::fs::write(
        &file,
        "[[contacts]]\nauthority = \"ipa\"\nname = \"IPA 届出窓口（新）\"\naddress = \"todokede2@ipa.example\"\n\
         effective_from = 2026-04-01\neffective_until = 2027-03-31\n",
    )
    .expect("write the contact file");
    let (ok, out) = cli(&app, &["contacts", "import", file.to_str().unwrap()]).await;
    assert!(ok, "a TOML date (effective_from = 2026-04-01) is a date: {out}");
    assert!(out.contains("1 added"), "{out}");
    let admin = app.login(ADMIN).await;
    let ipa = contact_list(&app, &admin, "&authority=ipa").await;
    let c = ipa.iter().find(|c| c["address"] == "todokede2@ipa.example").expect("imported");
    assert_eq!(c["effective_from"], "2026-04-01");
    assert_eq!(c["effective_until"], "2027-03-31");
}

db_test!(rules_apply_moves_the_dates_of_incidents_routed_with_the_first_rule_set, |app| async move {
    let token = app.login(TOKYO_REPORTER).await;
    let body = json!({"title": "誤送付", "category": "misdelivery", "detected_at": "2026-11-20T08:00:00+09:00",
                      "care_impact": "none", "personal_data": {"status": "confirmed", "persons_estimate": 3},
                      "contact": {"name": "医事課", "phone": "03-1234-5678"}});
    let (status, _, incident) = parts(app.post("/incidents", &token, &body).await).await;
    assert_eq!(status, 201, "{incident}");
    let id = incident["id"].as_str().unwrap().to_owned();
    // As the first rule set left it: the day of awareness not counted, so the 確報 a day late.
    {
        use diesel::RunQueryDsl;
        let mut conn = app.conn();
        for sql in [
            format!("UPDATE incidents SET rules_version = '2026-11.1' WHERE id = '{id}'"),
            format!("UPDATE obligations SET due_at = '2026-12-20 14:59:59', legal_due_at = '2026-12-20 14:59:59' WHERE incident_id = '{id}' AND kind = 'ppc_final'"),
        ] {
            diesel::sql_query(&sql).execute(&mut conn).unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
    let (ok, out) = cli(&app, &["rules", "apply"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("1 open incidents routed again"), "{out}");
    let (_, _, after) = parts(app.get(&format!("/incidents/{id}"), &token).await).await;
    assert_eq!(after["rules_version"], hikeshi::domain::routing::RULES_VERSION);
    let fin = after["obligations"].as_array().unwrap().iter().find(|o| o["kind"] == "ppc_final").unwrap().clone();
    assert_eq!(fin["due_at"], "2026-12-19T14:59:59Z", "one day earlier: the day of awareness is day 1");
    assert_eq!(fin["legal_due_at"], "2026-12-21T14:59:59Z");
    let (_, _, page) = parts(app.get(&format!("/incidents/{id}/updates?limit=200"), &token).await).await;
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["kind"] == "deadline_changed" && u["data"]["applied"] == true),
        "{page}"
    );
    // A second run finds nothing left to do.
    let (ok, out) = cli(&app, &["rules", "apply"]).await;
    assert!(ok && out.contains("0 open incidents"), "{out}");
});
