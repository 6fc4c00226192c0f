use super::*;
use serde_json::json;

fn now() -> DateTime<Utc> {
    "2026-11-22T00:00:00Z".parse().unwrap()
}

fn filing() -> Value {
    json!({
        "title": "電子カルテ暗号化 / EMR encrypted",
        "category": "ransomware",
        "detected_at": "2026-11-21T06:10:00+09:00",
        "care_impact": "emergency_suspended",
        "personal_data": {"status": "suspected", "persons_estimate": 40000},
        "ransomware": {"note_text": "Your files are encrypted", "kinds": ["encryption", "leak_threat"]},
        "contact": {"name": "山田 太郎", "phone": "03-1234-5678"}
    })
}

fn filed_incident() -> Incident {
    let facts = IncidentFacts::parse(filing().as_object().unwrap(), now(), &[]).unwrap();
    let at = FiledAt { hospital_id: "h", prefecture: Prefecture::parse("36").unwrap(), beds: Some(120) };
    Incident::filed("i".into(), "HK-2026-000001".into(), at, facts, now(), ReportedVia::Web, "u")
}

#[test]
fn a_refresh_routes_scores_and_suggests_severity_unless_an_officer_set_it() {
    let (deadlines, weights) = (DeadlineConfig::default(), PriorityWeights::default());
    let rules = Rules { deadlines: &deadlines, weights: &weights, active_cyber_defence: false };
    let hospital = HospitalFacts { beds: Some(120), ..HospitalFacts::default() };
    let mut i = filed_incident();
    assert!(i.routing.is_empty() && i.priority.score == 0);
    assert_eq!((i.id.as_str(), i.reference.as_str()), ("i", "HK-2026-000001"));
    i.refresh(&hospital, &rules, now());
    assert_eq!(i.rules_version, super::super::routing::RULES_VERSION);
    assert!(i.routing.iter().any(|r| r.authority == super::super::Authority::Ppc));
    assert!(i.priority.score > 0);
    let suggested = i.severity;
    assert_ne!(suggested, Severity::Low, "emergency care suspended by ransomware is not low");
    i.severity = Severity::Low;
    i.severity_overridden = true;
    i.refresh(&hospital, &rules, now());
    assert_eq!(i.severity, Severity::Low, "an officer's severity stands");
}

#[test]
fn a_minimal_ransomware_filing_parses_with_defaults() {
    let f = IncidentFacts::parse(filing().as_object().unwrap(), now(), &[]).unwrap();
    assert_eq!(f.aware_at, f.detected_at);
    assert_eq!(f.attack_vector, AttackVector::Unknown);
    assert!(f.personal_data.sensitive, "medical records are sensitive by default");
    assert_eq!(f.detected_at.to_rfc3339(), "2026-11-20T21:10:00+00:00");
}

#[test]
fn every_invalid_field_is_reported_at_once() {
    let body = json!({
        "title": "",
        "category": "earthquake",
        "detected_at": "2099-01-01T00:00:00+09:00",
        "care_impact": "partial",
        "personal_data": {"status": "confirmed", "persons_estimate": -1},
        "contact": {"name": "x", "phone": "not a phone"},
        "colour": "red"
    });
    let errs = IncidentFacts::parse(body.as_object().unwrap(), now(), &[]).unwrap_err();
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    for f in ["title", "category", "detected_at", "personal_data.persons_estimate", "contact.phone", "colour"] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
}

#[test]
fn awareness_cannot_precede_detection() {
    let mut b = filing();
    b["aware_at"] = json!("2026-11-20T00:00:00+09:00");
    let errs = IncidentFacts::parse(b.as_object().unwrap(), now(), &[]).unwrap_err();
    assert_eq!(errs[0].field, "aware_at");
}

#[test]
fn a_missing_contact_is_required() {
    let mut b = filing();
    b.as_object_mut().unwrap().remove("contact");
    let errs = IncidentFacts::parse(b.as_object().unwrap(), now(), &[]).unwrap_err();
    assert_eq!(errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["contact"]);
}

#[test]
fn a_merge_patch_changes_only_what_it_names_and_keeps_the_rules() {
    let f = IncidentFacts::parse(filing().as_object().unwrap(), now(), &[]).unwrap();
    let p = json!({"personal_data": {"status": "confirmed", "persons_estimate": 130000}});
    let g = f.patched(p.as_object().unwrap(), now(), &[]).unwrap();
    assert_eq!(g.personal_data.persons_estimate, Some(130000));
    assert_eq!(g.personal_data.status, PersonalDataStatus::Confirmed);
    assert_eq!(g.title, f.title);
    let bad = json!({"drill": true});
    assert_eq!(f.patched(bad.as_object().unwrap(), now(), &[]).unwrap_err()[0].field, "drill");
    let bad = json!({"care_impact": "apocalyptic"});
    assert_eq!(f.patched(bad.as_object().unwrap(), now(), &[]).unwrap_err()[0].field, "care_impact");
}

fn parse(body: &Value) -> Result<IncidentFacts, Vec<FieldError>> {
    IncidentFacts::parse(body.as_object().unwrap(), now(), &[])
}

fn with(patch: Value) -> Value {
    let mut b = filing();
    merge_patch(&mut b, &patch);
    b
}

fn error_fields(body: &Value) -> Vec<String> {
    parse(body).map_or_else(|e| e.into_iter().map(|e| e.field).collect(), |_| Vec::new())
}

#[test]
fn times_may_run_a_few_minutes_ahead_of_the_server_clock_but_no_more() {
    // SKEW is 300 s: a clock four minutes ahead is accepted, one ten minutes ahead is not.
    assert!(error_fields(&with(json!({"detected_at": "2026-11-22T09:04:00+09:00"}))).is_empty());
    assert_eq!(error_fields(&with(json!({"detected_at": "2026-11-22T09:10:00+09:00"}))), ["detected_at"]);
}

#[test]
fn optional_text_is_absent_when_blank_and_kept_when_given() {
    let f = parse(&with(json!({"containment": "", "contact": {"email": ""}}))).unwrap();
    assert_eq!((f.containment, f.contact.email), (None, None));
    let f = parse(&with(json!({"containment": "VPN遮断", "contact": {"email": "it@h.example"}}))).unwrap();
    assert_eq!(f.containment.as_deref(), Some("VPN遮断"));
    assert_eq!(f.contact.email.as_deref(), Some("it@h.example"));
    assert_eq!(error_fields(&with(json!({"contact": {"email": "not an address"}}))), ["contact.email"]);
    let pd = json!({"personal_data": {"status": "none", "none_reason": "",
        "strong_encryption": {"protected": true, "officer_reason": ""}}});
    let f = parse(&with(pd)).unwrap();
    assert_eq!((f.personal_data.none_reason, f.personal_data.strong_encryption.officer_reason), (None, None));
    let pd = json!({"personal_data": {"status": "none", "none_reason": "紙の受付票のみ",
        "strong_encryption": {"protected": true, "officer_reason": "鍵は別保管"}}});
    let f = parse(&with(pd)).unwrap();
    assert_eq!(f.personal_data.none_reason.as_deref(), Some("紙の受付票のみ"));
    assert_eq!(f.personal_data.strong_encryption.officer_reason.as_deref(), Some("鍵は別保管"));
}

#[test]
fn a_key_is_compromised_true_false_or_unknown_and_nothing_else() {
    for (given, expected) in [
        (json!(true), Some(KeyCompromised::Known(true))),
        (json!(false), Some(KeyCompromised::Known(false))),
        (json!("unknown"), Some(KeyCompromised::default())),
        (json!("maybe"), None),
        (json!(0), None),
    ] {
        let body = with(json!({"personal_data": {"strong_encryption": {"protected": true, "key_compromised": given}}}));
        match expected {
            Some(k) => assert_eq!(parse(&body).unwrap().personal_data.strong_encryption.key_compromised, k),
            None => assert_eq!(error_fields(&body), ["personal_data.strong_encryption.key_compromised"]),
        }
    }
}

#[test]
fn vulnerabilities_are_cve_identifiers() {
    for (id, ok) in [
        ("CVE-2024-3400", true),
        ("CVE-2021-1234567", true),
        ("cve-2024-3400", false),
        ("CVE-24-3400", false),
        ("CVE-2024-340", false),
        ("CVE-2024-3400-x", false),
        ("GHSA-q83h-524g-xf6h", false),
    ] {
        assert_eq!(looks_like_cve(id), ok, "{id}");
    }
    let f = parse(&with(json!({"vulnerabilities": ["CVE-2024-3400"]}))).unwrap();
    assert_eq!(f.vulnerabilities, ["CVE-2024-3400"]);
    assert_eq!(error_fields(&with(json!({"vulnerabilities": ["CVE-2024-3400", "log4shell"]}))), ["vulnerabilities[1]"]);
}

#[test]
fn a_contractor_is_read_with_its_facts() {
    let body = with(json!({"contractor": {"name": "保守ベンダー株式会社", "breach_at_contractor": true}}));
    let c = parse(&body).unwrap().contractor.expect("the contractor");
    assert_eq!((c.name.as_str(), c.breach_at_contractor, c.notified_hospital_at), ("保守ベンダー株式会社", true, None));
    assert_eq!(
        error_fields(&with(json!({"contractor": {"name": "", "breach_at_contractor": true}}))),
        ["contractor.name"]
    );
}

#[test]
fn milestones_keep_each_time_in_its_own_slot() {
    let mut m = Milestones::default();
    let t = |h| now() + Duration::hours(h);
    let all = [
        Milestone::EmrRestored,
        Milestone::EmergencyAccepting,
        Milestone::NewOutpatientsAccepting,
        Milestone::FullyNormal,
        Milestone::ReportPublished,
    ];
    for (h, k) in all.iter().enumerate() {
        assert_eq!(m.get(*k), None);
        m.set(*k, t(h as i64));
    }
    for (h, k) in all.iter().enumerate() {
        assert_eq!(m.get(*k), Some(t(h as i64)), "{k:?}");
    }
}

#[test]
fn only_an_untriaged_incident_counts_hours_untriaged() {
    let hospital = HospitalFacts::default();
    let mut i = filed_incident();
    let later = now() + Duration::hours(5);
    assert_eq!(i.priority_input(&hospital, later).hours_untriaged, Some(5));
    i.status = IncidentStatus::Triaged;
    assert_eq!(i.priority_input(&hospital, later).hours_untriaged, None);
}
