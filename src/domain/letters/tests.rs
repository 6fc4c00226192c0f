use super::example::{every_letter, route, summary, t};
use super::*;
use crate::domain::incident::IncidentContact;
use crate::domain::{DiscoveredBy, DispatchStatus, EntryTechnique, RansomResponse, SupportMode};

fn has(letter: &Letter, marker: &str) -> bool {
    letter.plain().contains(marker)
}

#[test]
fn every_authority_gets_its_required_content() {
    let s = summary();
    let r = route();
    for a in Authority::ALL {
        let m = authority_report(*a, Locale::Ja, &s, &r, "initial");
        for marker in [
            "HK-2026-000123",
            "https://hikeshi.example.jp/incidents/0193",
            "03-1234-5678",
            "2026-11-20 09:30 JST",
            "要配慮個人情報の漏えい等のおそれ",
            "2026-11-25 23:59 JST",
            "English summary",
        ] {
            assert!(has(&m, marker), "{a}: {marker}");
        }
        assert!(m.subject.contains("HK-2026-000123") && !m.subject.starts_with(DRILL_PREFIX), "{}", m.subject);
    }
    let mhlw = authority_report(Authority::Mhlw, Locale::Ja, &s, &r, "initial");
    for marker in [
        "被害状況",
        "対応状況",
        "復旧状況",
        "再発防止策",
        "1312345678",
        "東京都",
        "420",
        "救急受入を停止",
        "電子カルテ",
    ] {
        assert!(has(&mhlw, marker), "mhlw: {marker}");
    }
    assert!(mhlw.subject.contains("第一報"));

    let ppc = authority_report(Authority::Ppc, Locale::Ja, &s, &r, "initial");
    // The items are the prepared report of domain::reports, shown as they are.
    for marker in [
        "1 概要",
        "発覚日: 2026-11-20",
        "3 本人の数",
        "約12,345人",
        "9 その他参考となる事項",
        "法定の報告ではありません",
    ] {
        assert!(has(&ppc, marker), "ppc: {marker}");
    }
    // The PPC takes reports only through its form: a mail to it never passes for the 速報.
    assert!(!ppc.subject.contains("速報"), "{}", ppc.subject);
    assert!(ppc.subject.contains("法定の報告ではありません"), "{}", ppc.subject);

    let police = authority_report(Authority::Police, Locale::Ja, &s, &r, "initial");
    for marker in [
        "110",
        "ログ",
        "電源を切らない",
        "ネットワーク構成図",
        "被害届",
        "東京都",
        ".lockbit",
        "LockBit",
        "203[.]0[.]113[.]7",
        "hxxp://evil[.]example/x",
        "YOUR FILES ARE ENCRYPTED",
        "VPN機器",
    ] {
        assert!(has(&police, marker), "police: {marker}");
    }
    assert!(police.blocks.contains(&Block::Quote { text: "YOUR FILES ARE ENCRYPTED\ncontact <evil@onion>".into() }));

    let ipa = authority_report(Authority::Ipa, Locale::Ja, &s, &r, "initial");
    for marker in [
        "組織名",
        "担当者氏名",
        "山田 花子",
        "メールアドレス",
        "（未登録）",
        "電話番号",
        "発見日",
        "被害を受けたシステム",
        "発見の経緯: 未記録",
        "侵入経路",
        "被害内容",
    ] {
        assert!(has(&ipa, marker), "ipa: {marker}");
    }
}

/// No sentence appears without the fact it states: a bare filing's letters say "not recorded" or
/// nothing where a fuller filing's letters state the fact.
#[test]
fn no_sentence_without_its_fact() {
    let mut bare = summary();
    let mut f = IncidentFacts::draft(t(0, 30), t(0, 45));
    f.category = Category::Ransomware;
    f.contact = IncidentContact { name: "山田".into(), phone: "03-1234-5678".into(), email: None };
    bare.facts = f;
    let mut full = bare.clone();
    full.facts.occurred_at = Some(t(0, 0));
    full.facts.discovered_by = Some(DiscoveredBy::Staff);
    full.facts.entry_technique = Some(EntryTechnique::Vulnerability);
    full.facts.vulnerabilities = vec!["CVE-2024-3400".into()];
    full.facts.ransom_response = Some(RansomResponse::NotPaid);
    full.facts.ransom_demand = true;
    full.facts.bcp_activated = true;
    full.facts.ransomware = Some(RansomwareFacts {
        note_text: Some("pay".into()),
        encrypted_extension: None,
        family: Some("LockBit".into()),
        kinds: vec![RansomwareKind::Encryption],
    });
    // (authority, a sentence or field that states a fact, the fact's text in the full letter)
    let rows: &[(Authority, &str)] = &[
        (Authority::Police, "発生日時"),
        (Authority::Police, "悪用された脆弱性: CVE-2024-3400"),
        (Authority::Police, "身代金への対応"),
        (Authority::Police, "身代金の要求: あり"),
        (Authority::Police, "脅迫文"),
        (Authority::Police, "ランサムウェアの被害類型"),
        (Authority::Police, "侵入の手口: 脆弱性の悪用"),
        (Authority::Ipa, "発見の経緯: 職員"),
        (Authority::Ipa, "ランサムウェア: 暗号化"),
        (Authority::Mhlw, "BCP（業務継続計画）の発動: あり"),
        (Authority::Mhlw, "発動済み"),
        (Authority::Mhlw, "身代金の要求あり"),
        (Authority::Vendor, "CVE-2024-3400"),
    ];
    for (a, sentence) in rows {
        let with = authority_report(*a, Locale::Ja, &full, &route(), "initial");
        let without = authority_report(*a, Locale::Ja, &bare, &route(), "initial");
        assert!(has(&with, sentence), "{a}: «{sentence}» missing when recorded:\n{}", with.plain());
        assert!(!has(&without, sentence), "{a}: «{sentence}» stated though nobody recorded it");
    }
    let ipa = authority_report(Authority::Ipa, Locale::Ja, &bare, &route(), "initial");
    assert!(has(&ipa, "発見の経緯: 未記録") && has(&ipa, "侵入の手口: 未記録"));
    let mhlw = authority_report(Authority::Mhlw, Locale::Ja, &bare, &route(), "initial");
    assert!(has(&mhlw, "発動の報告なし"), "an unticked BCP is not a recorded no");
}

#[test]
fn status_report_overrides_derived_headings() {
    let mut s = summary();
    s.status_report = Some(StatusReport {
        damage: "サーバ12台暗号化".into(),
        response: "外部専門家と調査".into(),
        recovery: "電子カルテ復旧済み".into(),
        prevention: "VPN機器の更新".into(),
    });
    let m = authority_report(Authority::Mhlw, Locale::Ja, &s, &route(), "update");
    assert!(m.subject.contains("続報"));
    assert!(has(&m, "サーバ12台暗号化") && has(&m, "VPN機器の更新") && has(&m, "医療機関の状況報告より"));
    assert!(!has(&m, "届出内容から作成"));
}

#[test]
fn the_owner_of_a_throttled_account_is_told_it_is_not_locked_and_what_to_do() {
    let m = sign_in_throttled("203.0.113.9", 5, 30, t(5, 0), "https://h/login");
    for marker in [
        "203.0.113.9",
        "5回",
        "30秒",
        "30 seconds",
        "ロックされておらず",
        "パスワードを変更",
        "not locked",
        "change your password",
    ] {
        assert!(has(&m, marker), "{marker}: {}", m.plain());
    }
    assert!(has(&m, &format_jst(t(5, 0))));
}

#[test]
fn drill_prefix_and_banner() {
    for letter in every_letter(true) {
        assert!(letter.subject.starts_with(DRILL_PREFIX), "{}", letter.subject);
        assert!(letter.subject.contains("HK-2026-000123"), "{}", letter.subject);
        assert!(matches!(&letter.blocks[0], Block::Banner { text } if text.contains("DRILL")), "{}", letter.subject);
    }
    for letter in every_letter(false) {
        assert!(!letter.subject.contains("DRILL") && !matches!(letter.blocks[0], Block::Banner { .. }));
    }
}

#[test]
fn english_locale_is_english() {
    let s = summary();
    for a in Authority::ALL {
        let m = authority_report(*a, Locale::En, &s, &route(), "initial");
        assert_eq!(m.locale, Locale::En);
        assert!(has(&m, "Possible leak of sensitive personal data"), "{a}");
        assert!(!has(&m, "要配慮個人情報の漏えい等のおそれ"), "{a}: no Japanese reason");
        assert!(!has(&m, "English summary"), "{a}");
        assert!(has(&m, "due 2026-11-25 23:59 JST"), "{a}");
    }
    let police = authority_report(Authority::Police, Locale::En, &s, &route(), "initial");
    assert!(has(&police, "call 110") && has(&police, "Preserve logs"));
    let ppc = authority_report(Authority::Ppc, Locale::En, &s, &route(), "initial");
    assert!(has(&ppc, "9 Other (その他参考となる事項)"), "{}", ppc.plain());
    let r = support_decision(Locale::En, "HK-2026-000123", false, "no capacity", "https://h/x", false);
    assert!(r.subject.is_ascii() && has(&r, "declined") && has(&r, "no capacity"));
    let r = obligation_reminder(
        Locale::En,
        "HK-2026-000123",
        "H",
        ObligationKind::PpcPreliminary,
        t(0, 0),
        "https://h/x",
        false,
        true,
    );
    assert!(r.subject.starts_with("[Overdue] HK-2026-000123"), "{}", r.subject);
    assert!(r.subject.is_ascii(), "{}", r.subject);
}

#[test]
fn other_letters_carry_their_facts() {
    let url = "https://h/x";
    let r = obligation_reminder(
        Locale::Ja,
        "HK-2026-000123",
        "火消病院",
        ObligationKind::PpcPreliminary,
        t(14, 59),
        url,
        false,
        false,
    );
    assert!(r.subject.contains("【期限のお知らせ】") && has(&r, "2026-11-20 23:59 JST") && has(&r, "受付番号"));
    let r =
        dead_letter_alert("HK-2026-000123", Authority::Ppc, "ppc@example.test", 7, "550 <no such user>", url, false);
    assert!(has(&r, "電話") && has(&r, "試行回数: 7") && has(&r, "ppc@example.test") && has(&r, "phone"));
    let p = Prefecture::parse("27").unwrap();
    let r = dispatch_assigned(Locale::Ja, "HK-2026-000123", "<病院>", p, SupportMode::Remote, url, false);
    assert!(has(&r, "大阪府") && has(&r, "リモート支援") && has(&r, "<病院>"));
    let r =
        dispatch_status_notice(Locale::En, "HK-2026-000123", "Team A", DispatchStatus::EnRoute, t(3, 0), url, false);
    assert!(has(&r, "En route") && has(&r, "2026-11-20 12:00 JST"));
    let r = support_decision(Locale::Ja, "HK-2026-000123", true, "", url, false);
    assert!(r.subject.contains("承認"));
}

#[test]
fn subjects_stay_on_one_line_and_indicators_are_defanged() {
    assert_eq!(one_line("a\r\nb\tc"), "a b c");
    assert_eq!(defang("https://x.y/z"), "hxxps://x[.]y/z");
    let r = dispatch_assigned(
        Locale::Ja,
        "HK-2026-000123",
        "病院\r\nBcc: x@y",
        Prefecture::parse("13").unwrap(),
        SupportMode::Remote,
        "https://h/x",
        false,
    );
    assert!(!r.subject.contains('\n') && !r.subject.contains('\r'), "{}", r.subject);
    // A blank value is shown as a dash rather than an empty line.
    let r = support_decision(Locale::Ja, "HK-2026-000123", false, "  ", "https://h/x", false);
    assert!(r.blocks.contains(&Block::Field { key: "理由".into(), value: "—".into() }));
}

#[test]
fn each_authority_letter_says_what_its_facts_call_for() {
    let mut s = summary();
    let r = route();
    // Nothing recorded about the systems: 調査中, and the hospital contact is always there.
    s.facts.affected_systems.clear();
    let police = authority_report(Authority::Police, Locale::Ja, &s, &r, "initial");
    assert!(has(&police, "影響を受けたシステム: 調査中") && has(&police, "医療機関の担当者: 山田 花子"));
    // IoCs go to the IPA only when there are some.
    let ipa = authority_report(Authority::Ipa, Locale::Ja, &s, &r, "initial");
    assert!(has(&ipa, "203[.]0[.]113[.]7"));
    s.facts.iocs.clear();
    assert!(!has(&authority_report(Authority::Ipa, Locale::Ja, &s, &r, "initial"), "IoC"));
    // The vendor hears of its own remote-maintenance line only when that is the route in, or the
    // incident is a supply-chain one.
    let line = "リモート保守回線";
    for (vector, category, says) in [
        (AttackVector::VendorRemoteMaintenance, Category::Ransomware, true),
        (AttackVector::Vpn, Category::SupplyChain, true),
        (AttackVector::Vpn, Category::Ransomware, false),
    ] {
        s.facts.attack_vector = vector;
        s.facts.category = category;
        assert_eq!(has(&authority_report(Authority::Vendor, Locale::Ja, &s, &r, "initial"), line), says, "{vector}");
    }
    // The prefecture is asked to coordinate neighbouring care only when care is suspended.
    for (impact, asks) in
        [(CareImpact::Partial, false), (CareImpact::OutpatientSuspended, true), (CareImpact::EmergencySuspended, true)]
    {
        s.facts.care_impact = impact;
        let p = authority_report(Authority::Prefecture, Locale::Ja, &s, &r, "initial");
        assert_eq!(has(&p, "周辺医療機関"), asks, "{impact}");
        assert!(has(&p, "地域医療への影響") && has(&p, "病床数: 420"));
    }
}

#[test]
fn a_japanese_letter_ends_with_an_english_summary_after_a_rule_and_an_english_one_does_not() {
    for letter in every_letter(false) {
        let rule = letter.blocks.iter().position(|b| *b == Block::Rule);
        match letter.locale {
            Locale::Ja => {
                let at = rule.unwrap_or_else(|| panic!("no rule in {}", letter.subject));
                let after: String = letter.blocks[at..].iter().map(|b| format!("{b:?}")).collect();
                let japanese = after.chars().any(|c| matches!(u32::from(c), 0x3041..=0x30fa | 0x4e00..=0x9fff));
                assert!(!japanese || after.contains("English summary"), "{}: {after}", letter.subject);
            }
            Locale::En => assert_eq!(rule, None, "{}", letter.subject),
        }
    }
}

#[test]
fn a_reminder_says_how_to_fulfil_its_obligation() {
    let due = t(5, 0);
    for (kind, says) in [
        (ObligationKind::PpcPreliminary, "受付番号"),
        (ObligationKind::PpcFinal, "受付番号"),
        (ObligationKind::PatientNotice, "本人への通知"),
        (ObligationKind::MhlwInitial, "完了を記録"),
    ] {
        let r = obligation_reminder(Locale::Ja, "HK-2026-000123", "病院", kind, due, "https://h/x", false, false);
        assert!(has(&r, says), "{kind}: {}", r.plain());
    }
}
