//! The cases of DOMAIN.md section 5 and the corrections of version 2, filed through the HTTP API as
//! a hospital (or a duty officer after a phone call) would, on SQLite and PostgreSQL: the routes,
//! the reasons with sources, the dates, and the PPC report.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, parts, TestApp};

const TOKYO_REPORTER: &str = "reporter@tokyo-chuo.example";
const MINAMI_REPORTER: &str = "reporter@minami-town.example";
const OFFICER: &str = "officer@mhlw.example";

/// Demo hospitals by their place in `creds.hospitals`.
const OSAKA: usize = 2;
const OKAYAMA: usize = 4;

/// Files `body` as `email` and returns the incident (panics unless 201).
async fn file(app: &TestApp, email: &str, body: Value) -> Value {
    let token = app.login(email).await;
    let (status, _, incident) = parts(app.post("/incidents", &token, &body).await).await;
    assert_eq!(status, 201, "{incident}");
    incident
}

/// Files `body` on behalf of the demo hospital at `index` (a duty officer after a phone call).
async fn file_by_phone(app: &TestApp, index: usize, mut body: Value) -> Value {
    body["hospital_id"] = json!(app.creds.hospitals[index].0);
    file(app, OFFICER, body).await
}

fn authorities(incident: &Value) -> Vec<&str> {
    incident["routing"]
        .as_array()
        .expect("routing")
        .iter()
        .map(|r| r["authority"].as_str().expect("authority"))
        .collect()
}

fn route<'a>(incident: &'a Value, authority: &str) -> &'a Value {
    incident["routing"]
        .as_array()
        .expect("routing")
        .iter()
        .find(|r| r["authority"] == authority)
        .unwrap_or_else(|| panic!("no {authority} route: {}", incident["routing"]))
}

fn codes(route: &Value) -> Vec<&str> {
    route["reasons"].as_array().expect("reasons").iter().map(|r| r["code"].as_str().expect("code")).collect()
}

fn obligation<'a>(incident: &'a Value, kind: &str) -> &'a Value {
    incident["obligations"]
        .as_array()
        .expect("obligations")
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} obligation: {}", incident["obligations"]))
}

/// Every route names the sources of its reasons, and the incident records its rule set.
fn assert_traceable(incident: &Value) {
    assert_eq!(incident["rules_version"], hikeshi::domain::routing::RULES_VERSION);
    for r in incident["routing"].as_array().expect("routing") {
        assert!(!r["sources"].as_array().expect("sources").is_empty(), "{r}");
        for reason in r["reasons"].as_array().expect("reasons") {
            assert!(!reason["sources"].as_array().expect("sources").is_empty(), "{reason}");
        }
    }
}

const EVERYWHERE: [&str; 6] = ["mhlw", "ppc", "police", "ipa", "vendor", "prefecture"];

db_test!(handa_2021_a_town_hospitals_emr_encrypted_through_its_vpn_reaches_every_authority, |app| async move {
    // つるぎ町立半田病院 2021: 120 beds, VPN, EMR encrypted, care stopped. Filed with personal data
    // `none` (nobody had checked): the PPC is still told, since an encrypted EMR is at least 毀損.
    let incident = file(
        &app,
        MINAMI_REPORTER,
        json!({"title": "電子カルテがランサムウェアで暗号化", "category": "ransomware",
               "detected_at": "2026-11-20T03:00:00+09:00", "attack_vector": "vpn",
               "affected_systems": ["emr", "ordering", "pacs"], "care_impact": "full_suspension",
               "personal_data": {"status": "none"}, "ransom_demand": true,
               "ransomware": {"kinds": ["encryption", "ransom_demand"]}, "offline_backup": "affected",
               "contact": {"name": "事務長 田中", "phone": "0883-00-0000"}}),
    )
    .await;
    assert_eq!(authorities(&incident), EVERYWHERE);
    assert_traceable(&incident);
    let ppc = route(&incident, "ppc");
    assert_eq!(codes(ppc)[0], "personal_data_inferred");
    assert!(codes(ppc).contains(&"ppc_form_private"), "a town hospital reports under Art. 26: {ppc}");
    assert_eq!(obligation(&incident, "ppc_final")["due_at"], "2027-01-18T14:59:59Z", "60 days: malicious purpose");
});

db_test!(
    osaka_2022_an_attack_through_a_catering_contractors_remote_desktop_is_reported_by_the_hospital,
    |app| async move {
        // 大阪急性期・総合医療センター 2022: 865 beds, 地方独立行政法人, in through a contractor.
        let incident = file_by_phone(
            &app,
            OSAKA,
            json!({"title": "給食委託事業者経由のランサムウェア", "category": "supply_chain",
               "detected_at": "2026-11-20T07:00:00+09:00", "attack_vector": "rdp",
               "entry_technique": "stolen_credentials", "affected_systems": ["emr"],
               "care_impact": "emergency_suspended",
               "personal_data": {"status": "suspected", "persons": {"patients": 50000}},
               "contractor": {"name": "給食委託事業者", "breach_at_contractor": true},
               "contact": {"name": "情報企画室", "phone": "06-0000-0000"}}),
        )
        .await;
        assert_eq!(authorities(&incident), EVERYWHERE);
        assert_traceable(&incident);
        let ppc = route(&incident, "ppc");
        for c in [
            "personal_data_suspected",
            "sensitive_data",
            "malicious_purpose",
            "persons_over_threshold",
            "contractor_breach",
        ] {
            assert!(codes(ppc).contains(&c), "{c}: {ppc}");
        }
        assert_eq!(incident["reported_via"], "phone");
    }
);

db_test!(okayama_2024_a_leak_of_up_to_40000_patients_with_its_announcement_fills_the_ppc_report, |app| async move {
    // 岡山県精神科医療センター 2024: VPN, up to 40,000 patients, leak threat, public announcement 2024-06-11.
    let incident = file_by_phone(
        &app,
        OKAYAMA,
        json!({"title": "ランサムウェアによる患者情報流出のおそれ", "category": "ransomware",
               "occurred_at": "2026-11-18T00:00:00+09:00", "detected_at": "2026-11-19T08:00:00+09:00",
               "discovered_by": "attacker_notice", "attack_vector": "vpn", "affected_systems": ["emr"],
               "care_impact": "partial",
               "personal_data": {"status": "suspected", "persons_estimate": 40000, "medium": "electronic",
                                 "data_items": ["氏名", "病名"]},
               "ransom_demand": true, "ransomware": {"kinds": ["encryption", "leak_threat"]},
               "public_announcement": {"at": "2026-11-25T15:00:00+09:00", "method": "病院ウェブサイトに掲載"},
               "contact": {"name": "総務課", "phone": "086-000-0000"}}),
    )
    .await;
    assert_eq!(authorities(&incident), EVERYWHERE);
    let id = incident["id"].as_str().expect("id");
    let token = app.login(OFFICER).await;
    let (status, _, report) = parts(app.get(&format!("/incidents/{id}/reports/ppc"), &token).await).await;
    assert_eq!(status, 200, "{report}");
    let text = report["text"].as_str().expect("text");
    for s in [
        "発生日: 2026-11-18",
        "発覚日: 2026-11-19",
        "攻撃者からの連絡",
        "第7条第1号",
        "約40,000人（見込み）",
        "公表しました（2026-11-25",
        "病院ウェブサイトに掲載",
        "民間事業者・規律移行法人",
        "速報",
    ] {
        assert!(text.contains(s), "{s}:\n{text}");
    }
    // Nothing that nobody recorded. (The MHLW line may appear: the outbox records the delivered
    // e-mail to MHLW as that obligation's fulfilment, a fact hikeshi itself recorded.)
    for s in ["支払", "通知を実施", "警察へ相談", "確報"] {
        assert!(!text.contains(s), "{s}:\n{text}");
    }
});

db_test!(musashikosugi_2026_a_leak_estimate_revised_from_10k_to_130k_is_absorbed, |app| async move {
    // 日本医大武蔵小杉病院 2026: nurse-call servers via a maintenance VPN; the estimate grew 13-fold.
    let incident = file(
        &app,
        TOKYO_REPORTER,
        json!({"title": "ナースコールサーバーへの不正アクセス", "category": "unauthorized_access",
               "detected_at": "2026-11-20T09:00:00+09:00", "attack_vector": "vendor_remote_maintenance",
               "affected_systems": ["nurse_call"], "care_impact": "partial",
               "personal_data": {"status": "confirmed", "persons_estimate": 10000},
               "contact": {"name": "情報システム室 佐藤", "phone": "044-000-0000"}}),
    )
    .await;
    let id = incident["id"].as_str().expect("id").to_owned();
    let token = app.login(TOKYO_REPORTER).await;
    let patch = json!({"personal_data": {"persons_estimate": 130000}});
    let (status, _, updated) = parts(app.patch(&format!("/incidents/{id}"), &token, Some(1), &patch).await).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["personal_data"]["persons_estimate"], 130000);
    let (_, _, report) = parts(app.get(&format!("/incidents/{id}/reports/ppc"), &token).await).await;
    assert!(report["text"].as_str().unwrap().contains("約130,000人（確認）"), "{report}");
});

db_test!(a_misdirected_fax_of_one_patient_goes_to_the_ppc_only, |app| async move {
    let incident = file(
        &app,
        TOKYO_REPORTER,
        json!({"title": "紹介状のFAX誤送信", "category": "misdelivery", "detected_at": "2026-11-20T10:00:00+09:00",
               "care_impact": "none", "personal_data": {"status": "confirmed", "persons": {"patients": 1}},
               "contact": {"name": "医事課", "phone": "03-1234-5678"}}),
    )
    .await;
    assert_eq!(authorities(&incident), ["ppc"]);
    assert_traceable(&incident);
    assert_eq!(obligation(&incident, "ppc_final")["due_at"], "2026-12-19T14:59:59Z", "30 days");
});

db_test!(an_encrypted_usb_stick_lost_with_its_key_kept_apart_goes_nowhere, |app| async move {
    let incident = file(
        &app,
        TOKYO_REPORTER,
        json!({"title": "暗号化USBメモリの紛失", "category": "lost_media", "detected_at": "2026-11-20T10:00:00+09:00",
               "care_impact": "none",
               "personal_data": {"status": "confirmed", "persons_estimate": 300,
                                 "strong_encryption": {"protected": true, "key_compromised": false}},
               "contact": {"name": "医事課", "phone": "03-1234-5678"}}),
    )
    .await;
    assert!(authorities(&incident).is_empty(), "{}", incident["routing"]);
    assert!(incident["obligations"].as_array().expect("obligations").is_empty());
});

db_test!(staff_data_of_a_municipal_hospital_sent_to_the_wrong_address_is_not_reportable_under_1000, |app| async move {
    let incident = file(
        &app,
        MINAMI_REPORTER,
        json!({"title": "職員名簿のメール誤送信", "category": "misdelivery", "detected_at": "2026-11-20T10:00:00+09:00",
               "care_impact": "none",
               "personal_data": {"status": "confirmed", "sensitive": false, "persons": {"staff": 150}},
               "contact": {"name": "事務長 田中", "phone": "0883-00-0000"}}),
    )
    .await;
    assert!(
        authorities(&incident).is_empty(),
        "version 1 wrongly held a town hospital to 100: {}",
        incident["routing"]
    );
});

db_test!(the_due_dates_of_domain_2_4s_example_are_exact, |app| async move {
    // Aware 2026-11-20 JST → 速報 target 11-24, reminder 11-22; 確報 12-19 (Saturday: legal 12-21).
    let incident = file(
        &app,
        TOKYO_REPORTER,
        json!({"title": "誤送付", "category": "misdelivery", "detected_at": "2026-11-20T08:00:00+09:00",
               "care_impact": "none", "personal_data": {"status": "confirmed", "persons_estimate": 3},
               "contact": {"name": "医事課", "phone": "03-1234-5678"}}),
    )
    .await;
    let pre = obligation(&incident, "ppc_preliminary");
    assert_eq!(pre["due_at"], "2026-11-24T14:59:59Z");
    assert_eq!(pre["legal_due_at"], "2026-11-24T14:59:59Z", "a target, not moved");
    assert_eq!(pre["reminder_at"], "2026-11-22T00:00:00Z");
    let fin = obligation(&incident, "ppc_final");
    assert_eq!(fin["due_at"], "2026-12-19T14:59:59Z");
    assert_eq!(fin["legal_due_at"], "2026-12-21T14:59:59Z");
});

/// The timeline's `deadline_changed` entries.
async fn deadline_changes(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let (status, _, page) = parts(app.get(&format!("/incidents/{id}/updates?limit=200"), token).await).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().expect("items").iter().filter(|u| u["kind"] == "deadline_changed").cloned().collect()
}

db_test!(a_corrected_aware_at_moves_the_final_report_earlier_and_says_so_on_the_timeline, |app| async move {
    let incident = file(
        &app,
        TOKYO_REPORTER,
        json!({"title": "誤送付", "category": "misdelivery", "detected_at": "2026-11-18T08:00:00+09:00",
               "aware_at": "2026-11-20T08:00:00+09:00", "care_impact": "none",
               "personal_data": {"status": "confirmed", "persons_estimate": 3},
               "contact": {"name": "医事課", "phone": "03-1234-5678"}}),
    )
    .await;
    let id = incident["id"].as_str().expect("id").to_owned();
    assert_eq!(obligation(&incident, "ppc_final")["due_at"], "2026-12-19T14:59:59Z");
    let token = app.login(TOKYO_REPORTER).await;
    // Someone knew two days earlier than recorded.
    let patch = json!({"aware_at": "2026-11-18T09:00:00+09:00"});
    let (status, _, updated) = parts(app.patch(&format!("/incidents/{id}"), &token, Some(1), &patch).await).await;
    assert_eq!(status, 200, "{updated}");
    let fin = obligation(&updated, "ppc_final");
    assert_eq!(fin["due_at"], "2026-12-17T14:59:59Z", "two days earlier");
    assert_eq!(fin["legal_due_at"], "2026-12-17T14:59:59Z", "a Thursday");
    let changes = deadline_changes(&app, &token, &id).await;
    let change = changes.iter().find(|c| c["data"]["kind"] == "ppc_final").expect("a deadline_changed entry");
    assert_eq!(change["data"]["from"], "2026-12-19T14:59:59Z");
    assert_eq!(change["data"]["to"], "2026-12-17T14:59:59Z");
    assert_eq!(change["data"]["applied"], true);
    assert!(change["data"]["fields"].as_array().unwrap().iter().any(|f| f == "aware_at"), "{change}");
});

db_test!(a_later_deadline_is_held_until_an_officer_gives_a_reason, |app| async move {
    // Reclassifying a misdelivery (30 days) as theft (60 days) would move the 確報 later.
    let incident = file(
        &app,
        TOKYO_REPORTER,
        json!({"title": "書類の紛失", "category": "misdelivery", "detected_at": "2026-11-20T08:00:00+09:00",
               "care_impact": "none", "personal_data": {"status": "confirmed", "persons_estimate": 3},
               "contact": {"name": "医事課", "phone": "03-1234-5678"}}),
    )
    .await;
    let id = incident["id"].as_str().expect("id").to_owned();
    let reporter = app.login(TOKYO_REPORTER).await;
    let (status, _, held) =
        parts(app.patch(&format!("/incidents/{id}"), &reporter, Some(1), &json!({"category": "theft"})).await).await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(obligation(&held, "ppc_final")["due_at"], "2026-12-19T14:59:59Z", "held at 30 days");
    let changes = deadline_changes(&app, &reporter, &id).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["data"]["applied"], false);
    assert_eq!(changes[0]["data"]["to"], "2027-01-18T14:59:59Z");

    // A reporter may not give the officer's reason.
    let reason = json!({"description": "盗難と判明", "deadline_reason": "盗難と確認（警察へ届出済み）"});
    assert_problem(app.patch(&format!("/incidents/{id}"), &reporter, Some(2), &reason).await, 403).await;
    let officer = app.login(OFFICER).await;
    let (status, _, moved) = parts(app.patch(&format!("/incidents/{id}"), &officer, Some(2), &reason).await).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(obligation(&moved, "ppc_final")["due_at"], "2027-01-18T14:59:59Z", "60 days with the officer's reason");
    let changes = deadline_changes(&app, &officer, &id).await;
    assert!(
        changes.iter().any(|c| c["data"]["applied"] == true && c["data"]["reason"] == "盗難と確認（警察へ届出済み）"),
        "{changes:?}"
    );
});

db_test!(only_a_duty_officer_records_why_the_encryption_exemption_holds_for_an_attack, |app| async move {
    let body = |reason: Option<&str>| {
        let mut enc = json!({"protected": true, "key_compromised": false});
        if let Some(r) = reason {
            enc["officer_reason"] = json!(r);
        }
        json!({"title": "暗号化済みファイルサーバーへの侵入", "category": "unauthorized_access",
               "detected_at": "2026-11-20T08:00:00+09:00", "care_impact": "none",
               "personal_data": {"status": "confirmed", "persons_estimate": 10, "strong_encryption": enc},
               "contact": {"name": "医事課", "phone": "03-1234-5678"}})
    };
    let reporter = app.login(TOKYO_REPORTER).await;
    let (_, problem) = assert_problem(app.post("/incidents", &reporter, &body(Some("鍵は別管理"))).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "personal_data.strong_encryption.officer_reason", "{problem}");
    // Without the officer's reason the PPC is told, and the reason says why.
    let incident = file(&app, TOKYO_REPORTER, body(None)).await;
    assert!(codes(route(&incident, "ppc")).contains(&"encryption_exemption_unconfirmed"));
    // With it, filed by an officer, the exemption holds.
    let incident = file_by_phone(&app, 0, body(Some("鍵はHSMで別管理、侵入範囲外と確認"))).await;
    assert!(!authorities(&incident).contains(&"ppc"), "{}", incident["routing"]);
});

db_test!(the_old_legal_form_is_refused_naming_legal_status, |app| async move {
    let admin = app.login("admin@mhlw.example").await;
    let body = json!({"kind": "hospital", "name": "試験病院", "prefecture": "13", "legal_form": "public_body"});
    let (_, problem) = assert_problem(app.post("/organizations", &admin, &body).await, 422).await;
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "legal_form" && e["message"].as_str().is_some_and(|m| m.contains("legal_status"))),
        "{problem}"
    );
    let body = json!({"kind": "hospital", "name": "試験病院", "prefecture": "27", "legal_status": "local_iaa",
                      "municipality": "27100"});
    let (status, _, org) = parts(app.post("/organizations", &admin, &body).await).await;
    assert_eq!(status, 201, "{org}");
    assert_eq!(org["legal_status"], "local_iaa");
    assert_eq!(org["municipality"], "27100");
});

db_test!(a_corrected_legal_status_reroutes_the_hospitals_open_incidents, |app| async move {
    // 150 staff records of みなみ町立病院 (local_government): not reportable under 1,000 ...
    let incident = file(
        &app,
        MINAMI_REPORTER,
        json!({"title": "職員名簿の誤送付", "category": "misdelivery", "detected_at": "2026-11-20T10:00:00+09:00",
               "care_impact": "none", "personal_data": {"status": "confirmed", "sensitive": false, "persons": {"staff": 150}},
               "contact": {"name": "事務長 田中", "phone": "0883-00-0000"}}),
    )
    .await;
    assert!(authorities(&incident).is_empty());
    let id = incident["id"].as_str().expect("id").to_owned();
    // ... until the ministry records that the State runs the hospital itself (100 applies).
    let admin = app.login("admin@mhlw.example").await;
    let hospital = &app.creds.hospitals[1].0;
    let (_, _, org) = parts(app.get(&format!("/organizations/{hospital}"), &admin).await).await;
    let patch = json!({"legal_status": "national_government"});
    let (status, _, org) =
        parts(app.patch(&format!("/organizations/{hospital}"), &admin, org["version"].as_i64(), &patch).await).await;
    assert_eq!(status, 200, "{org}");
    let reporter = app.login(MINAMI_REPORTER).await;
    let (_, _, after) = parts(app.get(&format!("/incidents/{id}"), &reporter).await).await;
    assert_eq!(authorities(&after), ["ppc"], "{}", after["routing"]);
    assert!(codes(route(&after, "ppc")).contains(&"ppc_form_administrative"));
    assert_eq!(obligation(&after, "ppc_final")["due_at"], "2026-12-19T14:59:59Z");
    let (_, _, page) = parts(app.get(&format!("/incidents/{id}/updates?limit=200"), &reporter).await).await;
    assert!(
        page["items"].as_array().unwrap().iter().any(|u| u["kind"] == "facts_changed"
            && u["data"]["fields"].as_array().is_some_and(|f| f.iter().any(|x| x == "hospital.legal_status"))),
        "{page}"
    );
});

db_test!(a_hospital_in_a_city_with_its_own_health_centre_is_overseen_by_the_city, |app| async move {
    // 大阪湾岸急性期医療センター is in 大阪市 (27100), which runs its own public health centre.
    let officer = app.login(OFFICER).await;
    let draft = |index: usize| json!({"category": "ransomware", "hospital_id": app.creds.hospitals[index].0});
    let (status, _, osaka) = parts(app.post("/routing/preview", &officer, &draft(OSAKA)).await).await;
    assert_eq!(status, 200, "{osaka}");
    let health = osaka["routes"].as_array().unwrap().iter().find(|r| r["authority"] == "prefecture").unwrap().clone();
    assert!(health["reasons"][0]["ja"].as_str().unwrap().contains("大阪市"), "{health}");
    let addresses: Vec<&str> =
        health["contacts"].as_array().unwrap().iter().map(|c| c["address"].as_str().unwrap()).collect();
    assert_eq!(addresses, ["iryo@city27100.example"], "the city's health department, not 大阪府's");
    // みなみ町 runs none: the prefecture (徳島県).
    let (_, _, minami) = parts(app.post("/routing/preview", &officer, &draft(1)).await).await;
    let health = minami["routes"].as_array().unwrap().iter().find(|r| r["authority"] == "prefecture").unwrap().clone();
    let addresses: Vec<&str> =
        health["contacts"].as_array().unwrap().iter().map(|c| c["address"].as_str().unwrap()).collect();
    assert_eq!(addresses, ["iryo@pref36.example"]);
});

db_test!(a_municipal_contact_must_lie_in_its_prefecture, |app| async move {
    let admin = app.login("admin@mhlw.example").await;
    let bad = json!({"authority": "prefecture", "prefecture": "13", "municipality": "27100", "name": "x", "address": "a@b.example"});
    let (_, problem) = assert_problem(app.post("/contacts", &admin, &bad).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "municipality", "{problem}");
});
