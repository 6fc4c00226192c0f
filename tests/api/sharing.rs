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

/// The 半田-style case (a town hospital's EMR encrypted through its VPN) with what a responder
/// collects: indicators of every kind, the family, the CVE of the VPN appliance.
fn handa_style_case() -> Value {
    json!({"title": "電子カルテがランサムウェアで暗号化（半田病院型）", "category": "ransomware",
           "detected_at": "2026-11-20T03:00:00+09:00", "attack_vector": "vpn",
           "entry_technique": "vulnerability", "vulnerabilities": ["CVE-2018-13379"],
           "description": "町立病院の電子カルテ。VPN 機器経由で侵入された",
           "affected_systems": ["emr", "ordering", "pacs"], "care_impact": "full_suspension",
           "personal_data": {"status": "suspected"}, "ransom_demand": true,
           "ransomware": {"family": "LockBit", "encrypted_extension": ".lockbit",
                          "kinds": ["encryption", "leak_threat"], "note_text": "Restore-My-Files.txt"},
           "offline_backup": "affected",
           "iocs": [
               {"type": "ipv4", "value": "203.0.113.7", "note": "VPN 接続元"},
               {"type": "ipv6-addr", "value": "2001:db8::7"},
               {"type": "domain", "value": "leak.evil.example"},
               {"type": "url", "value": "hxxp://evil[.]example/payload's.hta"},
               {"type": "email", "value": "support@evil.example"},
               {"type": "mac", "value": "00-1A-2B-3C-4D-5E"},
               {"type": "AS", "value": "AS64500"},
               {"type": "sha256", "value": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
               {"type": "sha1", "value": "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"},
               {"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"},
               {"type": "filename", "value": "LockBit_Ransomware.hta"},
               {"type": "regkey", "value": "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\x"},
               {"type": "x509-fingerprint-sha256", "value": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
               {"type": "other", "value": "Tor のリークサイト（URL は警察に提供済み）"}
           ],
           "contact": {"name": "事務長 田中", "phone": "0883-00-0000"}})
}

/// Whether the official tools are here (`ci/requirements.txt`); on CI they must be.
fn validators_present() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import stix2validator, pymisp"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("CI is set but stix2-validator or pymisp is missing: pip install -r ci/requirements.txt");
    }
    if !ok {
        eprintln!("stix2-validator / pymisp not installed (pip install -r ci/requirements.txt): export checks skipped");
    }
    ok
}

/// Runs `ci/check_exports.py <format>` on `doc`; panics with the tool's reasons when it refuses it.
fn assert_valid(format: &str, doc: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("export.{format}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/ci/check_exports.py"))
        .arg(format)
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{format} export refused by the official tool:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn objects_of<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["objects"].as_array().expect("objects").iter().filter(|o| o["type"] == kind).collect()
}

db_test!(the_stix_and_misp_exports_of_a_ransomware_case_pass_the_official_validators, |app| async move {
    let reporter = app.login(crate::incidents::MINAMI_REPORTER).await;
    let created = file_ok(&app, &reporter, &handa_style_case()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let officer = app.login(crate::incidents::OFFICER).await;

    let res = app.get(&format!("/incidents/{id}/stix"), &officer).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/stix+json;version=2.1");
    let bundle: Value = res.json().await.unwrap();
    let indicators = objects_of(&bundle, "indicator");
    assert_eq!(indicators.len(), 13, "one indicator per indicator of compromise but `other`");
    assert!(indicators.iter().any(|i| i["pattern"] == "[ipv4-addr:value = '203.0.113.7']"));
    assert!(indicators.iter().any(|i| i["pattern"] == "[url:value = 'http://evil.example/payload\\'s.hta']"));
    let marking = &objects_of(&bundle, "marking-definition")[0];
    assert_eq!(marking["name"], "TLP:AMBER+STRICT", "the default marking");
    for o in bundle["objects"].as_array().unwrap() {
        if !["marking-definition", "extension-definition"].contains(&o["type"].as_str().unwrap()) {
            assert_eq!(o["object_marking_refs"][0], marking["id"], "every object is marked: {o}");
        }
    }
    assert_eq!(objects_of(&bundle, "malware")[0]["name"], "LockBit");
    assert_eq!(objects_of(&bundle, "vulnerability")[0]["external_references"][0]["external_id"], "CVE-2018-13379");
    let hospital = &created["hospital"]["name"];
    assert_eq!(&objects_of(&bundle, "identity")[0]["name"], hospital, "an officer's export names the hospital");
    let again: Value = app.get(&format!("/incidents/{id}/stix"), &officer).await.json().await.unwrap();
    let ids = |b: &Value| b["objects"].as_array().unwrap().iter().map(|o| o["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&again), ids(&bundle), "exporting twice gives the same identifiers");

    let misp: Value = app.get(&format!("/incidents/{id}/misp"), &officer).await.json().await.unwrap();
    let attributes = misp["Event"]["Attribute"].as_array().unwrap();
    let of_type = |t: &str| attributes.iter().filter(|a| a["type"] == t).count();
    assert_eq!((of_type("ip-dst"), of_type("sha256"), of_type("regkey"), of_type("vulnerability")), (2, 1, 1, 1));
    assert_eq!(misp["Event"]["Tag"], json!([{"name": "tlp:amber+strict"}]));
    assert_eq!(misp["Event"]["distribution"], "0", "AMBER+STRICT: the organisation only");

    if validators_present() {
        assert_valid("stix", &bundle);
        assert_valid("misp", &misp);
        // The check can fail: a category MISP does not allow for the type is refused.
        let mut wrong = misp.clone();
        wrong["Event"]["Attribute"][0]["category"] = json!("Targeting data");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wrong.json");
        std::fs::write(&path, wrong.to_string()).unwrap();
        let status = std::process::Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/ci/check_exports.py"))
            .args(["misp", path.to_str().unwrap()])
            .output()
            .unwrap()
            .status;
        assert!(!status.success(), "a wrong category must be refused");
    }

    // Officers mark the incident for a wider circle; the exports follow.
    let version = created["version"].as_i64();
    let res = app.patch(&format!("/incidents/{id}"), &officer, version, &json!({"tlp": "green"})).await;
    assert_eq!(res.status(), 200);
    let bundle: Value = app.get(&format!("/incidents/{id}/stix"), &officer).await.json().await.unwrap();
    assert_eq!(objects_of(&bundle, "marking-definition")[0]["name"], "TLP:GREEN");
    let misp: Value = app.get(&format!("/incidents/{id}/misp"), &officer).await.json().await.unwrap();
    assert_eq!(misp["Event"]["Tag"], json!([{"name": "tlp:green"}]));
    assert_eq!(misp["Event"]["distribution"], "1");
    if validators_present() {
        assert_valid("stix", &bundle);
        assert_valid("misp", &misp);
    }
    // A reporter cannot change the marking.
    let current: Value = app.get(&format!("/incidents/{id}"), &reporter).await.json().await.unwrap();
    let res =
        app.patch(&format!("/incidents/{id}"), &reporter, current["version"].as_i64(), &json!({"tlp": "clear"})).await;
    assert_eq!(res.status(), 403);
});

db_test!(an_export_to_someone_who_may_not_name_the_hospital_is_pseudonymised, |app| async move {
    let reporter = app.login(crate::incidents::MINAMI_REPORTER).await;
    let created = file_ok(&app, &reporter, &handa_style_case()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let hospital = created["hospital"]["name"].as_str().unwrap().to_owned();
    // The PPC's liaison sees the incident (personal data suspected) but not who filed it.
    let liaison = app.login(crate::incidents::PPC_LIAISON).await;
    for format in ["stix", "misp"] {
        let res = app.get(&format!("/incidents/{id}/{format}"), &liaison).await;
        assert_eq!(res.status(), 200, "{format}");
        let text = res.text().await.unwrap();
        for secret in
            [hospital.as_str(), "半田病院型", "町立病院の電子カルテ", "事務長 田中", "0883-00-0000", "Restore-My-Files"]
        {
            assert!(!text.contains(secret), "{format} export to a liaison carries {secret:?}");
        }
        assert!(text.contains("203.0.113.7"), "the indicators are shared");
        if validators_present() {
            assert_valid(format, &serde_json::from_str(&text).unwrap());
        }
    }
    // The hospital's own export names it; another hospital's reporter does not see the incident.
    let own: Value = app.get(&format!("/incidents/{id}/stix"), &reporter).await.json().await.unwrap();
    assert_eq!(objects_of(&own, "identity")[0]["name"], json!(hospital));
    let other = app.login(crate::incidents::TOKYO_REPORTER).await;
    assert_problem(app.get(&format!("/incidents/{id}/misp"), &other).await, 404).await;
    // Each export is a recorded read.
    use hikeshi::db::schema::audit_reads;
    let reads: Vec<String> = audit_reads::table
        .filter(audit_reads::incident_id.eq(&id))
        .select(audit_reads::action)
        .load(&mut app.conn())
        .unwrap();
    assert!(reads.iter().filter(|a| a.starts_with("incident.export.")).count() >= 3, "{reads:?}");
});
