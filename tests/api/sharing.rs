//! Sharing with the tools around an incident: indicators in STIX 2.1 terms (DESIGN.md version 2),
//! and the exports built from them.

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};
use crate::incidents::{file_ok, ransomware_filing, TOKYO_REPORTER};

async fn reporter(app: &TestApp) -> String {
    app.login(TOKYO_REPORTER).await
}

fn incident_count(app: &TestApp) -> i64 {
    use hikeshi::db::schema::incidents;
    incidents::table.count().get_result(&mut app.conn()).expect("count incidents")
}

db_test!(indicators_are_stored_under_their_stix_names_once_each, |app| async move {
    let token = reporter(&app).await;
    let sha = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
    let mut body = ransomware_filing();
    body["iocs"] = json!([
        {"type": "ipv4", "value": "203.0.113.7", "note": "VPN ログの接続元"},
        {"type": "ip-dst", "value": "203.0.113[.]7"},
        {"type": "hostname", "value": "VPN.Evil.example."},
        {"type": "sha256", "value": sha},
        {"type": "hash", "value": "d41d8cd98f00b204e9800998ecf8427e"},
        {"type": "url", "value": "hxxp://evil[.]example/x"},
        {"type": "ip", "value": "2001:DB8::7"},
        {"type": "AS", "value": "AS64500"}
    ]);
    let created = file_ok(&app, &token, &body).await;
    let stored: Vec<(String, String)> = created["iocs"]
        .as_array()
        .expect("iocs in the answer")
        .iter()
        .map(|i| (i["type"].as_str().unwrap().to_owned(), i["value"].as_str().unwrap().to_owned()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("ipv4-addr", "203.0.113.7".to_owned()),
        ("domain-name", "vpn.evil.example".to_owned()),
        ("file:sha256", sha.to_ascii_lowercase()),
        ("file:md5", "d41d8cd98f00b204e9800998ecf8427e".to_owned()),
        ("url", "http://evil.example/x".to_owned()),
        ("ipv6-addr", "2001:db8::7".to_owned()),
        ("autonomous-system", "64500".to_owned()),
    ]
    .into_iter()
    .map(|(t, v)| (t.to_owned(), v))
    .collect();
    assert_eq!(stored, expected, "one entry per indicator, under its STIX name");
    assert_eq!(created["iocs"][0]["note"], "VPN ログの接続元");
    // What was stored is what a later read gives.
    let id = created["id"].as_str().unwrap();
    let read: Value = app.get(&format!("/incidents/{id}"), &token).await.json().await.unwrap();
    assert_eq!(read["iocs"], created["iocs"]);
});

db_test!(an_indicator_that_is_not_of_its_type_is_refused_naming_it_and_nothing_is_filed, |app| async move {
    let token = reporter(&app).await;
    let before = incident_count(&app);
    let mut body = ransomware_filing();
    body["iocs"] = json!([
        {"type": "ipv4-addr", "value": "203.0.113.700"},
        {"type": "ipaddress", "value": "203.0.113.7"},
        {"type": "file:sha256", "value": "abc"},
        {"type": "url", "value": "evil.example/x"}
    ]);
    let (_, problem) = assert_problem(app.post("/incidents", &token, &body).await, 422).await;
    let errors = problem["errors"].as_array().expect("errors").clone();
    let message_of = |field: &str| -> String {
        errors.iter().find(|e| e["field"] == field).unwrap_or_else(|| panic!("no error for {field} in {problem}"))
            ["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(message_of("iocs[0].value").contains("IPv4"));
    assert!(message_of("iocs[1].type").contains("ipv4-addr"), "an unknown type names the accepted ones");
    assert!(message_of("iocs[2].value").contains("SHA-256"));
    assert!(message_of("iocs[3].value").contains("URL"));
    assert_eq!(incident_count(&app), before);
});

db_test!(indicators_stored_in_the_first_vocabulary_are_renamed_once_with_an_audit_entry, |app| async move {
    use hikeshi::db::schema::{audit_log, incidents, settings};
    let token = reporter(&app).await;
    let mut body = ransomware_filing();
    body["iocs"] = json!([
        {"type": "ipv4-addr", "value": "203.0.113.7"},
        {"type": "file:md5", "value": "d41d8cd98f00b204e9800998ecf8427e"}
    ]);
    let created = file_ok(&app, &token, &body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let mut conn = app.conn();
    // The incident as the first wave stored it: its own type names, and a value that is no address.
    let facts: String = incidents::table.find(&id).select(incidents::facts).first(&mut conn).unwrap();
    let mut legacy: Value = serde_json::from_str(&facts).unwrap();
    legacy["iocs"] = json!([
        {"type": "ip", "value": "203.0.113.7"},
        {"type": "hash", "value": "d41d8cd98f00b204e9800998ecf8427e"},
        {"type": "ip", "value": "203.0.113.7"},
        {"type": "ip", "value": "see the VPN log"}
    ]);
    diesel::update(incidents::table.find(&id)).set(incidents::facts.eq(legacy.to_string())).execute(&mut conn).unwrap();
    diesel::delete(settings::table.filter(settings::key.eq("ioc_vocabulary"))).execute(&mut conn).unwrap();
    let version_before: i32 = incidents::table.find(&id).select(incidents::version).first(&mut conn).unwrap();

    assert_eq!(hikeshi::db::incidents::upgrade_stored_iocs(&mut conn).unwrap(), 1);
    let facts: String = incidents::table.find(&id).select(incidents::facts).first(&mut conn).unwrap();
    let iocs = serde_json::from_str::<Value>(&facts).unwrap()["iocs"].clone();
    assert_eq!(
        iocs,
        json!([
            {"type": "ipv4-addr", "value": "203.0.113.7"},
            {"type": "file:md5", "value": "d41d8cd98f00b204e9800998ecf8427e"},
            {"type": "other", "value": "see the VPN log", "note": "filed as ip"}
        ])
    );
    let version_after: i32 = incidents::table.find(&id).select(incidents::version).first(&mut conn).unwrap();
    assert_eq!(version_after, version_before, "the reported facts did not change");
    let renamed: i64 = audit_log::table
        .filter(audit_log::action.eq("incident.iocs_renamed"))
        .filter(audit_log::target_id.eq(&id))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(renamed, 1);
    assert_eq!(hikeshi::db::incidents::upgrade_stored_iocs(&mut conn).unwrap(), 0, "done once");
});
