use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::domain::incident::{Ioc, IocType, RansomwareFacts};
use crate::domain::{AffectedSystem, DispatchStatus, OfflineBackup, PersonalDataStatus, SupportMode};

pub fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, h, m, 0).unwrap()
}

pub fn summary() -> IncidentSummary {
    let mut f = IncidentFacts::draft(t(0, 30), t(0, 45));
    f.title = "電子カルテ停止 <script>alert(1)</script>".into();
    f.category = Category::Ransomware;
    f.description = "朝、端末の画面に脅迫文が表示された。\n<img src=x onerror=alert(1)>".into();
    f.attack_vector = AttackVector::Vpn;
    f.affected_systems = vec![AffectedSystem::Emr, AffectedSystem::Pacs];
    f.care_impact = CareImpact::EmergencySuspended;
    f.personal_data.status = PersonalDataStatus::Suspected;
    f.personal_data.persons_estimate = Some(12345);
    f.personal_data.data_items = vec!["氏名".into(), "病名".into()];
    f.ransom_demand = true;
    f.ransomware = Some(RansomwareFacts {
        note_text: Some("YOUR FILES ARE ENCRYPTED\ncontact <evil@onion>".into()),
        encrypted_extension: Some(".lockbit".into()),
        family: Some("LockBit".into()),
        kinds: vec![RansomwareKind::Encryption, RansomwareKind::LeakThreat],
    });
    f.iocs = vec![
        Ioc { ioc_type: IocType::Ipv4, value: "203.0.113.7".into(), note: None },
        Ioc { ioc_type: IocType::Url, value: "http://evil.example/x".into(), note: None },
    ];
    f.offline_backup = OfflineBackup::Intact;
    f.bcp_activated = true;
    f.contact.name = "山田 花子".into();
    f.contact.phone = "03-1234-5678".into();
    let mut s = IncidentSummary::new(
        "HK-2026-000123",
        &f,
        HospitalLine {
            name: "火消総合病院 & <b>分院</b>".into(), code: Some("1312345678".into()), beds: Some(420)
        },
        Prefecture::parse("13").unwrap(),
        t(1, 10),
        "https://hikeshi.example.jp/incidents/0193".into(),
    );
    s.ppc_items = vec![
        crate::domain::reports::item(1, "概要", "Overview", "発覚日: 2026-11-20 06:10 JST".into()),
        crate::domain::reports::item(3, "本人の数", "Number of persons", "合計 約12,345人（見込み）".into()),
        crate::domain::reports::item(9, "その他参考となる事項", "Other", "hikeshi 参照番号: HK-2026-000123".into()),
    ];
    s
}

pub fn route() -> RouteNote {
    RouteNote {
        requirement: Requirement::Required,
        reasons: vec![("要配慮個人情報の漏えい等のおそれ".into(), "Possible leak of sensitive personal data".into())],
        obligations: vec![
            (ObligationKind::PpcPreliminary, Some(Utc.with_ymd_and_hms(2026, 11, 25, 14, 59, 59).unwrap())),
            (ObligationKind::PatientNotice, None),
        ],
    }
}

/// One letter of every kind, in both languages, drill or not.
pub fn every_letter(drill: bool) -> Vec<Letter> {
    let mut s = summary();
    s.facts.drill = drill;
    let url = "https://h/x";
    let mut out = Vec::new();
    for l in [Locale::Ja, Locale::En] {
        for a in Authority::ALL {
            out.push(authority_report(*a, l, &s, &route(), "initial"));
        }
        let due = t(5, 0);
        out.push(obligation_reminder(l, "HK-2026-000123", "病院", ObligationKind::PpcFinal, due, url, drill, false));
        out.push(dispatch_assigned(l, "HK-2026-000123", "H", s.prefecture, SupportMode::OnSite, url, drill));
        out.push(dispatch_status_notice(l, "HK-2026-000123", "T", DispatchStatus::OnSite, due, url, drill));
        out.push(support_decision(l, "HK-2026-000123", true, "", url, drill));
    }
    out.push(dead_letter_alert("HK-2026-000123", Authority::Mhlw, "a@b", 5, "550", url, drill));
    out.push(correspondence(
        "HK-2026-000123",
        "ログのご提出について <b>至急</b>",
        "お世話になっております。\n侵入経路の調査のため、VPN 装置のログをご提出ください。<script>alert(1)</script>",
        "厚生労働省 当番",
        url,
        drill,
    ));
    out
}
