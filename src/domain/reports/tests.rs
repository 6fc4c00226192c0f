use super::*;
use crate::domain::deadlines::DeadlineConfig;
use crate::domain::incident::{PublicAnnouncement, RansomwareFacts};
use crate::domain::routing::{route, HospitalFacts, RoutingFacts};
use crate::domain::{AffectedSystem, CareImpact, LegalStatus};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test time").with_timezone(&Utc)
}

/// A ransomware case with as little recorded as a hospital can file.
fn bare() -> IncidentFacts {
    IncidentFacts {
        title: "電子カルテ暗号化".into(),
        category: Category::Ransomware,
        affected_systems: vec![AffectedSystem::Emr],
        care_impact: CareImpact::FullSuspension,
        ransom_demand: true,
        ransomware: Some(RansomwareFacts { note_text: None, encrypted_extension: None, family: None, kinds: vec![] }),
        ..IncidentFacts::draft(utc("2026-11-20T06:00:00+09:00"), utc("2026-11-20T06:00:00+09:00"))
    }
}

fn report(f: &IncidentFacts, fulfilled: &[Fulfilled]) -> PreparedReport {
    let hospital = HospitalFacts::with_status(Some(LegalStatus::LocalGovernment));
    let routes = route(&RoutingFacts::of(f, &hospital, false), &DeadlineConfig::default());
    ppc_report(&PpcInput {
        reference: "HK-2026-000001",
        facts: f,
        hospital_name: "みなみ町立病院",
        hospital_code: None,
        routes: &routes,
        fulfilled,
        prevention: None,
    })
}

/// Sentences that state a fact, and the fact each needs (DOMAIN.md 2.5: never state what nobody recorded).
const FACT_SENTENCES: &[(&str, &str)] = &[
    ("支払っていません", "ransom_response: not_paid"),
    ("支払いの予定", "never: nobody can record a future intention"),
    ("厚生労働省へ報告", "the MHLW obligation fulfilled"),
    ("警察へ相談", "the police obligation fulfilled"),
    ("公表しました", "public_announcement"),
    ("通知を実施", "the patient notice fulfilled"),
    ("受付番号", "a fulfilled obligation with a receipt number"),
    ("委託先", "contractor"),
    ("確報", "the 速報 fulfilled"),
];

#[test]
fn a_bare_filing_states_no_fact_that_was_not_recorded() {
    let r = report(&bare(), &[]);
    for (sentence, needs) in FACT_SENTENCES {
        assert!(!r.text.contains(sentence), "{sentence:?} needs {needs}:\n{}", r.text);
    }
    assert_eq!(r.report_type, "ppc_preliminary");
    assert!(r.text.contains("身代金の要求を受けています"), "the recorded demand is stated");
    assert!(r.text.contains("hikeshi に公表の記録はありません"));
    assert!(r.text.contains("発生日: 調査中"));
    assert!(r.text.contains("民間事業者・規律移行法人"), "a municipal hospital uses the Art. 26 form");
}

#[test]
fn each_recorded_fact_appears_with_its_sentence() {
    let mut f = bare();
    f.ransom_response = Some(RansomResponse::NotPaid);
    f.public_announcement =
        Some(PublicAnnouncement { at: utc("2026-11-25T10:00:00+09:00"), method: "病院ウェブサイト".into() });
    let at = utc("2026-11-21T10:00:00+09:00");
    let done =
        |kind, reference: Option<&str>| Fulfilled { kind, at, reference: reference.map(str::to_owned), by_mail: false };
    let r = report(
        &f,
        &[
            done(ObligationKind::MhlwInitial, None),
            done(ObligationKind::PpcPreliminary, Some("PPC-123")),
            done(ObligationKind::PatientNotice, None),
        ],
    );
    for s in
        ["支払っていません", "厚生労働省へ報告", "公表しました", "病院ウェブサイト", "通知を実施", "確報", "PPC-123"]
    {
        assert!(r.text.contains(s), "{s}:\n{}", r.text);
    }
    assert!(!r.text.contains("警察へ相談"), "the police were not recorded as told");
    assert_eq!(r.report_type, "ppc_final");
}

#[test]
fn a_mail_that_left_is_not_stated_as_a_report_received() {
    let at = utc("2026-11-20T10:00:00+09:00");
    let sent = Fulfilled { kind: ObligationKind::MhlwInitial, at, reference: Some("x@hikeshi".into()), by_mail: true };
    let r = report(&bare(), &[sent]);
    assert!(r.text.contains("電子メールで第一報を送信"), "{}", r.text);
    assert!(!r.text.contains("厚生労働省へ報告") && !r.text.contains("受付番号"), "{}", r.text);
}

fn nco(f: &IncidentFacts, show_contact: bool) -> (PreparedReport, PreparedReport) {
    let hospital = HospitalFacts::with_status(Some(LegalStatus::LocalGovernment));
    let routes = route(&RoutingFacts::of(f, &hospital, false), &DeadlineConfig::default());
    let ppc = PpcInput {
        reference: "HK-2026-000001",
        facts: f,
        hospital_name: "みなみ町立病院",
        hospital_code: None,
        routes: &routes,
        fulfilled: &[],
        prevention: None,
    };
    let input = NcoInput {
        ppc,
        prefecture_name: "徳島県",
        status: crate::domain::IncidentStatus::Reported,
        show_contact,
        follow_up: false,
    };
    (nco_ransomware(&input), nco_ddos(&input))
}

#[test]
fn the_common_ransomware_format_carries_the_appi_items_and_states_nothing_unrecorded() {
    // Source: DOMAIN.md 2.6 (NCO 共通様式 since 2025-10-01 can serve as the PPC report).
    let mut f = bare();
    f.contact =
        crate::domain::incident::IncidentContact { name: "田中".into(), phone: "0883-00-0000".into(), email: None };
    let (r, _) = nco(&f, false);
    assert!(
        r.items.iter().any(|i| i.number == 20 && i.heading_ja == "個人情報保護法 概要"),
        "the APPI items are numbered on from the common items"
    );
    for s in [
        "初報",
        "認知日時",
        "発生日時",
        "NCOへの情報共有の同意",
        "個人情報保護法 概要",
        "個人情報保護法 公表の実施状況",
    ] {
        assert!(r.text.contains(s), "{s}:\n{}", r.text);
    }
    assert!(!r.text.contains("0883-00-0000"), "the contact is withheld");
    for (sentence, needs) in FACT_SENTENCES {
        assert!(!r.text.contains(sentence), "{sentence:?} needs {needs}");
    }
    f.nco_sharing_consent = Some(true);
    f.containment = Some("VPN装置を切断".into());
    let (r, _) = nco(&f, true);
    assert!(
        r.text.contains("同意する") && r.text.contains("VPN装置を切断") && r.text.contains("0883-00-0000"),
        "{}",
        r.text
    );
}

#[test]
fn the_common_ddos_format_names_the_attacked_services() {
    let mut f = bare();
    f.category = Category::Dos;
    f.affected_systems = vec![AffectedSystem::Website];
    f.description = "予約サイトへの大量アクセス".into();
    let (_, r) = nco(&f, false);
    assert_eq!(r.report_type, "nco_ddos");
    assert!(r.text.contains("ウェブサイト") && r.text.contains("予約サイトへの大量アクセス"), "{}", r.text);
    assert!(r.text.contains("実施した対策（Measures taken）\n調査中"), "{}", r.text);
}

#[test]
fn recurrence_prevention_comes_from_the_newest_status_report() {
    let f = bare();
    let hospital = HospitalFacts::with_status(Some(LegalStatus::Private));
    let routes = route(&RoutingFacts::of(&f, &hospital, false), &DeadlineConfig::default());
    let input = PpcInput {
        reference: "HK-2026-000001",
        facts: &f,
        hospital_name: "病院",
        hospital_code: Some("1312345678"),
        routes: &routes,
        fulfilled: &[],
        prevention: Some("VPN機器の更新と多要素認証"),
    };
    let r = ppc_report(&input);
    assert_eq!(r.items[7].text, "VPN機器の更新と多要素認証");
    assert!(r.text.contains("1312345678"));
}

fn report_at(f: &IncidentFacts, status: LegalStatus) -> PreparedReport {
    let hospital = HospitalFacts::with_status(Some(status));
    let routes = route(&RoutingFacts::of(f, &hospital, false), &DeadlineConfig::default());
    ppc_report(&PpcInput {
        reference: "HK-2026-000001",
        facts: f,
        hospital_name: "病院",
        hospital_code: None,
        routes: &routes,
        fulfilled: &[],
        prevention: None,
    })
}

fn header(r: &PreparedReport, heading: &str) -> String {
    r.header.iter().find(|h| h.heading_ja == heading).map(|h| h.text.clone()).unwrap_or_default()
}

#[test]
fn the_form_selector_follows_the_routing() {
    // Source: PPC leakAction page (問1 My Number, 問2 行政機関等 or 民間事業者・規律移行法人).
    let mut f = bare();
    assert_eq!(header(&report_at(&f, LegalStatus::NationalGovernment), "報告フォーム"), "行政機関等");
    assert_eq!(header(&report_at(&f, LegalStatus::LocalIaa), "報告フォーム"), "民間事業者・規律移行法人");
    f.personal_data.my_number = true;
    assert_eq!(
        header(&report_at(&f, LegalStatus::Private), "報告フォーム"),
        "マイナンバー（特定個人情報）を含む漏えい等の報告"
    );
}

#[test]
fn the_kind_of_event_follows_the_category_and_the_recorded_harm() {
    // Source: DOMAIN.md 2.5 item 1 (漏えい/滅失/毀損 and 発生/おそれ).
    use crate::domain::incident::RansomwareFacts;
    let rw = |kinds| Some(RansomwareFacts { note_text: None, encrypted_extension: None, family: None, kinds });
    #[rustfmt::skip]
    let rows = [
        (Category::Ransomware, rw(vec![]), PersonalDataStatus::Suspected, "毀損（発生したおそれ）"),
        (Category::Ransomware, rw(vec![RansomwareKind::LeakThreat]), PersonalDataStatus::Suspected, "毀損・漏えい（発生したおそれ）"),
        (Category::LostMedia, None, PersonalDataStatus::Confirmed, "滅失・漏えい（発生）"),
        (Category::SystemFailure, None, PersonalDataStatus::Confirmed, "漏えい等（発生）"),
        (Category::Other, None, PersonalDataStatus::Suspected, "漏えい等（発生したおそれ）"),
        (Category::Misdelivery, None, PersonalDataStatus::Confirmed, "漏えい（発生）"),
    ];
    for (category, ransomware, status, expected) in rows {
        let f = IncidentFacts { category, ransomware, ..bare() };
        assert_eq!(kind_of_event(&f, status), expected, "{category}");
    }
}

#[test]
fn the_inferred_status_is_said_to_be_hikeshis_and_counts_as_possible() {
    let r = report(&bare(), &[]);
    assert!(r.items[0].text.contains("hikeshi は「漏えい等のおそれ」と判定"), "{}", r.items[0].text);
    let mut f = bare();
    f.personal_data.status = PersonalDataStatus::Confirmed;
    let r = report(&f, &[]);
    assert!(!r.items[0].text.contains("判定"), "a recorded status needs no inference");
    assert!(r.items[0].text.contains("毀損（発生）"), "{}", r.items[0].text);
}

#[test]
fn each_item_states_what_was_recorded_and_only_that() {
    let mut f = bare();
    f.description = "電子カルテサーバーが暗号化された".into();
    f.personal_data.status = PersonalDataStatus::Confirmed;
    f.personal_data.persons = crate::domain::incident::Persons { patients: Some(1200), staff: Some(30), others: None };
    f.attack_vector = crate::domain::AttackVector::Vpn;
    f.entry_technique = Some(crate::domain::EntryTechnique::Vulnerability);
    f.vulnerabilities = vec!["CVE-2024-3400".into()];
    let r = report(&f, &[]);
    let text = |n: usize| r.items[n].text.clone();
    assert!(text(0).contains("発覚日: 2026-11-20 06:00 JST"), "{}", text(0));
    assert!(text(0).contains("電子カルテサーバーが暗号化された"));
    assert!(text(1).contains("本人の種別: 患者・職員"), "{}", text(1));
    assert_eq!(text(2), "患者 1,200人、職員 30人、合計 約1,230人（確認）");
    assert_eq!(text(3), "ランサムウェア。侵入経路: VPN機器。侵入の手口: 脆弱性の悪用。悪用された脆弱性: CVE-2024-3400");
    // Unknown entry to a cyber attack says so; a misdelivery has no entry at all.
    assert_eq!(report(&bare(), &[]).items[3].text, "ランサムウェア（侵入経路は調査中）");
    let fax = IncidentFacts {
        category: Category::Misdelivery,
        affected_systems: vec![],
        personal_data: crate::domain::incident::PersonalData {
            status: PersonalDataStatus::Confirmed,
            ..Default::default()
        },
        ..bare()
    };
    let r = report(&fax, &[]);
    assert_eq!(r.items[3].text, "誤送信・誤送付");
    assert!(!r.items[0].text.contains("判定"));
    // No Article 7 line when nothing of it was found (no PPC route: non-sensitive, few persons).
    let mut plain = fax.clone();
    plain.personal_data.sensitive = false;
    assert!(!report(&plain, &[]).items[0].text.contains("施行規則第7条"));
}

#[test]
fn the_text_has_the_title_the_header_and_each_item() {
    let h = [item(0, "業種", "Sector", "医療業".into())];
    let i = [item(1, "概要", "Overview", "x".into())];
    assert_eq!(as_text("T", &h, &i), "T\n\n業種（Sector）: 医療業\n\n1. 概要（Overview）\nx\n\n");
    assert_eq!(as_text("T", &[], &i), "T\n\n1. 概要（Overview）\nx\n\n");
}

#[test]
fn the_common_format_names_cves_and_says_when_the_ppc_is_not_routed() {
    let mut f = bare();
    f.vulnerabilities = vec!["CVE-2023-27997".into()];
    let (r, _) = nco(&f, false);
    assert!(r.text.contains("（CVE-2023-27997）"), "{}", r.text);
    f.personal_data.none_reason = Some("患者情報を含まない".into());
    let (r, _) = nco(&f, false);
    assert!(r.text.contains("個人情報保護委員会への報告対象ではありません"), "{}", r.text);
    assert!(!r.text.contains("個人情報保護法 概要"));
}

#[test]
fn numbers_are_grouped_by_thousands() {
    assert_eq!(group_digits(1234567), "1,234,567");
    assert_eq!(group_digits(999), "999");
    assert_eq!(group_digits(100), "100");
    assert_eq!(group_digits(0), "0");
    assert_eq!(group_digits(1000), "1,000");
    assert_eq!(group_digits(-40000), "-40,000");
}

#[test]
fn the_public_announcement_is_not_the_investigation_report() {
    // The `report_published` milestone is the investigation report; it never fills item 7.
    let r = report(&bare(), &[]);
    let item7 = &r.items[6];
    assert_eq!(item7.number, 7);
    assert_eq!(item7.text, "hikeshi に公表の記録はありません");
}

#[test]
fn the_inferred_damage_of_an_attacked_emr_reads_as_possible_damage() {
    let r = report(&bare(), &[]);
    assert!(r.items[0].text.contains("毀損（発生したおそれ）"), "{}", r.items[0].text);
    assert!(r.items[0].text.contains("第1号") && r.items[0].text.contains("第3号"), "{}", r.items[0].text);
}
