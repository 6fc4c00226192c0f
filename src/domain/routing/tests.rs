use super::*;
use Authority::*;
use Requirement::*;

/// Facts with nothing reportable except the category: no care impact, no personal data, private.
fn base(category: Category) -> RoutingFacts {
    RoutingFacts {
        category,
        care_impact: CareImpact::None,
        affected_systems: vec![],
        personal_data: PersonalDataStatus::None,
        none_reason_given: false,
        persons: None,
        sensitive: false,
        financial_risk: false,
        encryption_protected: false,
        key_compromised: KeyCompromised::default(),
        exemption_confirmed_by_officer: false,
        my_number: false,
        contractor_breach: false,
        legal_status: Some(LegalStatus::Private),
        health_authority: HealthAuthority::Prefecture,
        acd_designated: false,
    }
}

/// A leak of patients' records (always sensitive) of `n` persons.
fn patient_data(category: Category, status: PersonalDataStatus, n: i64) -> RoutingFacts {
    RoutingFacts { personal_data: status, persons: Some(n), sensitive: true, ..base(category) }
}

/// A leak of non-sensitive data (e.g. staff names and addresses) of `n` persons.
fn plain_data(category: Category, legal_status: Option<LegalStatus>, n: i64) -> RoutingFacts {
    RoutingFacts { personal_data: PersonalDataStatus::Confirmed, persons: Some(n), legal_status, ..base(category) }
}

/// The hospital's own strong encryption with a key known to be safe.
fn own_encryption(f: RoutingFacts) -> RoutingFacts {
    RoutingFacts { encryption_protected: true, key_compromised: KeyCompromised::Known(false), ..f }
}

struct Row {
    case: &'static str,
    /// Where the rule is written.
    source: &'static str,
    facts: RoutingFacts,
    routes: &'static [(Authority, Requirement)],
    /// The PPC final report's due day, when the PPC is routed.
    ppc_final_day: Option<u32>,
}

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use Category as C;
    use PersonalDataStatus as P;
    use LegalStatus as L;
    const ALL_CYBER: &[(Authority, Requirement)] =
        &[(Mhlw, Required), (Ppc, Required), (Police, Recommended), (Ipa, Recommended), (Vendor, Recommended), (Prefecture, Recommended)];
    vec![
        Row {
            case: "ransomware with a suspected patient-data leak at a private hospital goes everywhere, PPC final at day 60",
            source: "DOMAIN.md 2.1, 2.2; 施行規則7条1号・3号, 8条2項",
            facts: RoutingFacts { care_impact: CareImpact::FullSuspension, ..patient_data(C::Ransomware, P::Suspected, 40_000) },
            routes: ALL_CYBER,
            ppc_final_day: Some(60),
        },
        Row {
            case: "ransomware that encrypted the EMR, filed with personal data none and no reason, reaches the PPC as suspected",
            source: "DOMAIN.md 2.2 (毀損 of patient systems)",
            facts: RoutingFacts { affected_systems: vec![AffectedSystem::Emr], sensitive: true, ..base(C::Ransomware) },
            routes: ALL_CYBER,
            ppc_final_day: Some(60),
        },
        Row {
            case: "ransomware on the EMR with none stated and a reason goes nowhere near the PPC",
            source: "DOMAIN.md 2.2 (unless none is stated with a reason)",
            facts: RoutingFacts { affected_systems: vec![AffectedSystem::Emr], none_reason_given: true, sensitive: true, ..base(C::Ransomware) },
            routes: &[(Mhlw, Required), (Police, Recommended), (Ipa, Recommended), (Vendor, Recommended), (Prefecture, Recommended)],
            ppc_final_day: None,
        },
        Row {
            case: "ransomware on billing only (no patient system) with none stated stays away from the PPC",
            source: "DOMAIN.md 2.2 (emr, pacs, lab, pharmacy, ordering)",
            facts: RoutingFacts { affected_systems: vec![AffectedSystem::Billing], sensitive: true, ..base(C::Ransomware) },
            routes: &[(Mhlw, Required), (Police, Recommended), (Ipa, Recommended), (Vendor, Recommended), (Prefecture, Recommended)],
            ppc_final_day: None,
        },
        Row {
            case: "a misdirected FAX with one patient's record goes to the PPC only, final at day 30",
            source: "施行規則7条1号 (要配慮, one person is enough)",
            facts: patient_data(C::Misdelivery, P::Confirmed, 1),
            routes: &[(Ppc, Required)],
            ppc_final_day: Some(30),
        },
        Row {
            case: "an encrypted USB stick lost with its key kept apart goes nowhere",
            source: "DOMAIN.md 2.2 exemption: the hospital's own strong encryption, key not compromised",
            facts: own_encryption(patient_data(C::LostMedia, P::Confirmed, 5000)),
            routes: &[],
            ppc_final_day: None,
        },
        Row {
            case: "a lost stick encrypted by the hospital whose key may be compromised still goes to the PPC",
            source: "DOMAIN.md 2.2 exemption (key not compromised)",
            facts: RoutingFacts { key_compromised: KeyCompromised::default(), ..own_encryption(patient_data(C::LostMedia, P::Confirmed, 50)) },
            routes: &[(Ppc, Required)],
            ppc_final_day: Some(30),
        },
        Row {
            case: "ransomware on data the hospital had encrypted still goes to the PPC until an officer records why the exemption holds",
            source: "DOMAIN.md 2.2; PPC Q&A (高度な暗号化)",
            facts: own_encryption(patient_data(C::Ransomware, P::Confirmed, 5000)),
            routes: ALL_CYBER,
            ppc_final_day: Some(60),
        },
        Row {
            case: "ransomware on data the hospital had encrypted, exemption confirmed by an officer, leaves the PPC out",
            source: "DOMAIN.md 2.2; PPC Q&A (高度な暗号化)",
            facts: RoutingFacts { exemption_confirmed_by_officer: true, ..own_encryption(patient_data(C::Ransomware, P::Confirmed, 5000)) },
            routes: &[(Mhlw, Required), (Police, Recommended), (Ipa, Recommended), (Vendor, Recommended), (Prefecture, Recommended)],
            ppc_final_day: None,
        },
        Row {
            case: "a municipal hospital's non-sensitive leak of 150 staff goes nowhere (1,000 applies since 2023-04)",
            source: "DOMAIN.md 2.3; 法58条2項1号 → 26条; PPC leakAction",
            facts: plain_data(C::Misdelivery, Some(L::LocalGovernment), 150),
            routes: &[],
            ppc_final_day: None,
        },
        Row {
            case: "a 地方独立行政法人 hospital's non-sensitive leak of 1,001 persons goes to the PPC",
            source: "DOMAIN.md 2.3; 法2条11項4号 → 26条",
            facts: plain_data(C::Misdelivery, Some(L::LocalIaa), 1001),
            routes: &[(Ppc, Required)],
            ppc_final_day: Some(30),
        },
        Row {
            case: "a 地方独立行政法人 hospital's non-sensitive leak of 1,000 persons goes nowhere",
            source: "DOMAIN.md 2.3 (more than 1,000)",
            facts: plain_data(C::Misdelivery, Some(L::LocalIaa), 1000),
            routes: &[],
            ppc_final_day: None,
        },
        Row {
            case: "an NHO hospital (designated corporation) leaking 500 non-sensitive records goes nowhere",
            source: "DOMAIN.md 2.3; 法58条 → 26条",
            facts: plain_data(C::Misdelivery, Some(L::DesignatedCorporation), 500),
            routes: &[],
            ppc_final_day: None,
        },
        Row {
            case: "a hospital the State runs itself leaking 101 non-sensitive records goes to the PPC",
            source: "DOMAIN.md 2.3; 法68条, 施行規則43条",
            facts: plain_data(C::Misdelivery, Some(L::NationalGovernment), 101),
            routes: &[(Ppc, Required)],
            ppc_final_day: Some(30),
        },
        Row {
            case: "a hospital the State runs itself leaking 100 non-sensitive records goes nowhere",
            source: "DOMAIN.md 2.3 (more than 100)",
            facts: plain_data(C::Misdelivery, Some(L::NationalGovernment), 100),
            routes: &[],
            ppc_final_day: None,
        },
        Row {
            case: "a hospital whose legal status is not on record is held to the lower threshold (reports more)",
            source: "DOMAIN.md: where uncertain, report to more authorities",
            facts: plain_data(C::Misdelivery, None, 101),
            routes: &[(Ppc, Required)],
            ppc_final_day: Some(30),
        },
        Row {
            case: "a private hospital's non-sensitive leak of 1,001 persons goes to the PPC",
            source: "施行規則7条4号",
            facts: plain_data(C::Misdelivery, Some(L::Private), 1001),
            routes: &[(Ppc, Required)],
            ppc_final_day: Some(30),
        },
        Row {
            case: "a non-sensitive leak of unknown size goes nowhere",
            source: "施行規則7条",
            facts: RoutingFacts { persons: None, ..plain_data(C::Misdelivery, Some(L::Private), 0) },
            routes: &[],
            ppc_final_day: None,
        },
        Row {
            case: "a non-sensitive leak with a risk of financial damage goes to the PPC",
            source: "施行規則7条2号",
            facts: RoutingFacts { financial_risk: true, ..plain_data(C::Misdelivery, Some(L::Private), 3) },
            routes: &[(Ppc, Required)],
            ppc_final_day: Some(30),
        },
        Row {
            case: "a system failure without care impact goes nowhere",
            source: "DOMAIN.md 2.1",
            facts: base(C::SystemFailure),
            routes: &[],
            ppc_final_day: None,
        },
        Row {
            case: "a system failure with partial care impact goes to MHLW and the health authority",
            source: "DOMAIN.md 2.1; 医療法25条",
            facts: RoutingFacts { care_impact: CareImpact::Partial, ..base(C::SystemFailure) },
            routes: &[(Mhlw, Required), (Prefecture, Recommended)],
            ppc_final_day: None,
        },
        Row {
            case: "a DoS attack without personal data goes to MHLW and the police, not to IPA or the PPC",
            source: "DOMAIN.md 2.1",
            facts: base(C::Dos),
            routes: &[(Mhlw, Required), (Police, Recommended), (Vendor, Recommended), (Prefecture, Recommended)],
            ppc_final_day: None,
        },
        Row {
            case: "website defacement is reported to IPA",
            source: "DOMAIN.md 2.1 (IPA 届出 incl. web defacement)",
            facts: base(C::WebDefacement),
            routes: &[(Mhlw, Required), (Police, Recommended), (Ipa, Recommended), (Vendor, Recommended), (Prefecture, Recommended)],
            ppc_final_day: None,
        },
        Row {
            case: "an attack through a vendor connection is reported to IPA",
            source: "DOMAIN.md 2.1",
            facts: base(C::SupplyChain),
            routes: &[(Mhlw, Required), (Police, Recommended), (Ipa, Recommended), (Vendor, Recommended), (Prefecture, Recommended)],
            ppc_final_day: None,
        },
        Row {
            case: "a stolen laptop with a few non-sensitive records goes to the police and the PPC (malicious purpose), final at day 60",
            source: "施行規則7条3号, 8条2項",
            facts: plain_data(C::Theft, Some(L::Private), 5),
            routes: &[(Ppc, Required), (Police, Recommended)],
            ppc_final_day: Some(60),
        },
        Row {
            case: "insider misuse of patient records goes to the PPC and the police",
            source: "施行規則7条1号・3号",
            facts: patient_data(C::InsiderMisuse, P::Suspected, 20),
            routes: &[(Ppc, Required), (Police, Recommended)],
            ppc_final_day: Some(60),
        },
        Row {
            case: "theft without personal data goes to the police only",
            source: "DOMAIN.md 2.1",
            facts: base(C::Theft),
            routes: &[(Police, Recommended)],
            ppc_final_day: None,
        },
        Row {
            case: "sensitive flags without any personal data involved go nowhere",
            source: "施行規則7条 (a leak must have happened or be possible)",
            facts: RoutingFacts { sensitive: true, financial_risk: true, persons: Some(5000), ..base(C::Other) },
            routes: &[],
            ppc_final_day: None,
        },
    ]
}

#[test]
fn incidents_are_routed_as_the_domain_table_says() {
    let cfg = DeadlineConfig::default();
    for row in rows() {
        let routes = route(&row.facts, &cfg);
        let got: Vec<(Authority, Requirement)> = routes.iter().map(|r| (r.authority, r.requirement)).collect();
        assert_eq!(got, row.routes, "{} ({})", row.case, row.source);
        let final_day = routes
            .iter()
            .flat_map(|r| &r.obligations)
            .find(|o| o.kind == ObligationKind::PpcFinal)
            .and_then(|o| o.due_days);
        assert_eq!(final_day, row.ppc_final_day, "{} ({})", row.case, row.source);
    }
}

#[test]
fn every_route_explains_itself_in_japanese_and_english_with_sources() {
    let cfg = DeadlineConfig::default();
    for row in rows() {
        for r in route(&row.facts, &cfg) {
            assert!(!r.reasons.is_empty(), "{}: {}", row.case, r.authority);
            assert!(!r.sources.is_empty(), "{}: {} has no source", row.case, r.authority);
            for reason in &r.reasons {
                assert!(!reason.code.is_empty() && !reason.ja.is_empty() && !reason.en.is_empty());
                assert!(!reason.sources.is_empty(), "{}: {} cites nothing", row.case, reason.code);
                for s in &reason.sources {
                    assert!(r.sources.contains(s), "route sources miss {s:?}");
                }
            }
        }
    }
}

#[test]
fn the_ppc_route_lists_every_trigger_that_applied_and_names_its_form() {
    let facts = RoutingFacts {
        financial_risk: true,
        ..patient_data(Category::Ransomware, PersonalDataStatus::Suspected, 2000)
    };
    let routes = route(&facts, &DeadlineConfig::default());
    let ppc = routes.iter().find(|r| r.authority == Ppc).expect("PPC routed");
    let codes: Vec<&str> = ppc.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "personal_data_suspected",
            "sensitive_data",
            "financial_risk",
            "malicious_purpose",
            "persons_over_threshold",
            "ppc_form_private"
        ]
    );
    let persons = &ppc.reasons[4];
    assert!(persons.ja.contains("2000") && persons.ja.contains("1000"), "{}", persons.ja);
}

#[test]
fn the_form_follows_my_number_first_then_the_kind_of_body() {
    // Source: PPC leakAction page (問1 My Number, 問2 the kind of body).
    let cfg = DeadlineConfig::default();
    let form = |f: RoutingFacts| {
        route(&f, &cfg)
            .into_iter()
            .find(|r| r.authority == Ppc)
            .and_then(|r| r.reasons.into_iter().map(|x| x.code).find(|c| c.starts_with("ppc_form_")))
    };
    let staff = |l| plain_data(Category::Misdelivery, Some(l), 2000);
    assert_eq!(form(staff(LegalStatus::Private)).as_deref(), Some("ppc_form_private"));
    assert_eq!(form(staff(LegalStatus::LocalGovernment)).as_deref(), Some("ppc_form_private"));
    assert_eq!(form(staff(LegalStatus::NationalGovernment)).as_deref(), Some("ppc_form_administrative"));
    let my_number = RoutingFacts { my_number: true, ..staff(LegalStatus::NationalGovernment) };
    assert_eq!(form(my_number).as_deref(), Some("ppc_form_my_number"));
}

#[test]
fn the_inferred_status_says_so_and_the_unrecorded_legal_status_says_why_it_reports_more() {
    let cfg = DeadlineConfig::default();
    let emr =
        RoutingFacts { affected_systems: vec![AffectedSystem::Emr], sensitive: true, ..base(Category::Ransomware) };
    let ppc = route(&emr, &cfg).into_iter().find(|r| r.authority == Ppc).expect("PPC routed");
    assert_eq!(ppc.reasons[0].code, "personal_data_inferred");
    assert_eq!(effective_personal_data(&emr), (PersonalDataStatus::Suspected, true));

    let unknown = plain_data(Category::Misdelivery, None, 150);
    let ppc = route(&unknown, &cfg).into_iter().find(|r| r.authority == Ppc).expect("PPC routed");
    let persons = ppc.reasons.iter().find(|r| r.code == "persons_over_threshold").expect("threshold reason");
    assert!(persons.ja.contains("未登録") && persons.ja.contains("100人"), "{}", persons.ja);
}

#[test]
fn the_health_authority_is_named_by_the_hospitals_municipality() {
    // Source: 医療法25条; 地域保健法5条, 同施行令1条.
    let cfg = DeadlineConfig::default();
    let reason_of = |municipality: Option<&str>| {
        let hospital = HospitalFacts { municipality: municipality.map(str::to_owned), ..HospitalFacts::default() };
        let mut f = base(Category::Ransomware);
        f.health_authority =
            RoutingFacts::of(&IncidentFacts::draft(Default::default(), Default::default()), &hospital, false)
                .health_authority;
        route(&f, &cfg).into_iter().find(|r| r.authority == Prefecture).expect("health authority").reasons[0].ja.clone()
    };
    assert!(reason_of(Some("27100")).contains("大阪市（保健所設置市・特別区）"), "{}", reason_of(Some("27100")));
    assert!(reason_of(Some("13104")).contains("新宿区"));
    let town = reason_of(Some("36489"));
    assert!(town.contains("都道府県の衛生主管部局") && !town.contains("保健所設置市"), "{town}");
    assert!(reason_of(None).contains("未登録"), "{}", reason_of(None));
}

#[test]
fn the_active_cyber_defence_route_is_off_unless_switched_on_and_only_for_advanced_treatment_hospitals() {
    // Source: DOMAIN.md 7 (令和7年法律第42号; MHLW proposal of 2025-11-25, not in force for hospitals).
    let cfg = DeadlineConfig::default();
    let advanced = HospitalFacts { regional_roles: vec![RegionalRole::AdvancedTreatment], ..HospitalFacts::default() };
    let other = HospitalFacts { regional_roles: vec![RegionalRole::DisasterBase], ..HospitalFacts::default() };
    let facts = IncidentFacts {
        category: Category::Ransomware,
        ..IncidentFacts::draft(Default::default(), Default::default())
    };
    let acd = |h: &HospitalFacts, switch: bool| {
        route(&RoutingFacts::of(&facts, h, switch), &cfg)
            .iter()
            .flat_map(|r| r.obligations.iter().map(|o| o.kind))
            .any(|k| k == ObligationKind::AcdReport)
    };
    assert!(!acd(&advanced, false), "off by default");
    assert!(acd(&advanced, true));
    assert!(!acd(&other, true), "only 特定機能病院");
}

#[test]
fn the_patient_notice_task_is_a_setting() {
    // Source: DOMAIN.md 7 (APPI amendment promulgated 2026-07-17).
    let off = DeadlineConfig { patient_notice: false, ..DeadlineConfig::default() };
    let f = patient_data(Category::Misdelivery, PersonalDataStatus::Confirmed, 1);
    let kinds = |cfg: &DeadlineConfig| -> Vec<ObligationKind> {
        route(&f, cfg).iter().flat_map(|r| r.obligations.iter().map(|o| o.kind)).collect()
    };
    assert!(kinds(&DeadlineConfig::default()).contains(&ObligationKind::PatientNotice));
    assert!(!kinds(&off).contains(&ObligationKind::PatientNotice));
    assert!(kinds(&off).contains(&ObligationKind::PpcFinal));
}

#[test]
fn a_breach_at_a_contractor_is_reported_by_the_hospital() {
    // Source: 法26条1項ただし書, 施行規則9条.
    let f = RoutingFacts {
        contractor_breach: true,
        ..patient_data(Category::SupplyChain, PersonalDataStatus::Confirmed, 10)
    };
    let ppc = route(&f, &DeadlineConfig::default()).into_iter().find(|r| r.authority == Ppc).expect("PPC routed");
    assert!(ppc.reasons.iter().any(|r| r.code == "contractor_breach"));
}

#[test]
fn ppc_obligations_take_their_days_from_the_configuration() {
    let cfg = DeadlineConfig {
        ppc_preliminary_days: 4,
        ppc_preliminary_reminder_day: 2,
        ppc_final_days: 20,
        ppc_final_malicious_days: 40,
        patient_notice_reminder_day: 7,
        ..DeadlineConfig::default()
    };
    let spec = |kind, due_days, reminder_day, nature| ObligationSpec { kind, due_days, reminder_day, nature };
    use DueNature::*;
    // (facts, expected PPC obligations)
    let rows = [
        (
            patient_data(Category::Misdelivery, PersonalDataStatus::Confirmed, 1),
            [
                spec(ObligationKind::PpcPreliminary, Some(4), Some(2), Target),
                spec(ObligationKind::PpcFinal, Some(20), None, Statutory),
                spec(ObligationKind::PatientNotice, None, Some(7), Promptly),
            ],
        ),
        (
            patient_data(Category::Malware, PersonalDataStatus::Confirmed, 1),
            [
                spec(ObligationKind::PpcPreliminary, Some(4), Some(2), Target),
                spec(ObligationKind::PpcFinal, Some(40), None, Statutory),
                spec(ObligationKind::PatientNotice, None, Some(7), Promptly),
            ],
        ),
    ];
    for (facts, expected) in rows {
        let routes = route(&facts, &cfg);
        let ppc = routes.iter().find(|r| r.authority == Ppc).expect("PPC routed");
        assert_eq!(ppc.obligations, expected, "{:?}", facts.category);
    }
}

#[test]
fn advisory_routes_carry_no_obligation_and_reporting_routes_carry_theirs() {
    let facts = patient_data(Category::Ransomware, PersonalDataStatus::Confirmed, 10);
    let routes = route(&facts, &DeadlineConfig::default());
    let kinds: Vec<(Authority, Vec<ObligationKind>)> =
        routes.iter().map(|r| (r.authority, r.obligations.iter().map(|o| o.kind).collect())).collect();
    use ObligationKind as O;
    assert_eq!(
        kinds,
        [
            (Mhlw, vec![O::MhlwInitial]),
            (Ppc, vec![O::PpcPreliminary, O::PpcFinal, O::PatientNotice]),
            (Police, vec![O::PoliceReport]),
            (Ipa, vec![O::IpaReport]),
            (Vendor, vec![]),
            (Prefecture, vec![]),
        ]
    );
}

#[test]
fn a_route_serializes_with_snake_case_codes_both_languages_and_sources() {
    let routes = route(&base(Category::SystemFailure), &DeadlineConfig::default());
    assert!(routes.is_empty());
    let routes = route(
        &RoutingFacts { care_impact: CareImpact::Partial, ..base(Category::SystemFailure) },
        &DeadlineConfig::default(),
    );
    let json = serde_json::to_value(&routes[0]).expect("serializable");
    let source = serde_json::json!({
        "title": "医療情報システムの安全管理に関するガイドライン 第6.0版 経営管理編 3.4.3",
        "url": "https://www.mhlw.go.jp/stf/shingi/0000516275_00006.html"
    });
    assert_eq!(
        json,
        serde_json::json!({
            "authority": "mhlw",
            "requirement": "required",
            "reasons": [{
                "code": "system_failure_care_impact",
                "ja": "診療に影響が出ているシステム障害は厚生労働省へ報告します",
                "en": "System failures that affect patient care are reported to MHLW",
                "sources": [source.clone()]
            }],
            "obligations": [{"kind": "mhlw_initial", "due_days": null, "reminder_day": null, "nature": "promptly"}],
            "sources": [source]
        })
    );
}

#[test]
fn routes_stored_before_sources_existed_still_read() {
    let old = serde_json::json!({"authority": "mhlw", "requirement": "required",
        "reasons": [{"code": "cyber_category", "ja": "…", "en": "…"}],
        "obligations": [{"kind": "mhlw_initial", "due_days": null, "reminder_day": null}]});
    let r: Route = serde_json::from_value(old).expect("old routes read");
    assert!(r.sources.is_empty() && r.reasons[0].sources.is_empty());
    assert_eq!(r.obligations[0].nature, DueNature::Promptly);
}
