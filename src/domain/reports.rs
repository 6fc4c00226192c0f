//! The PPC report (個人情報保護法施行規則 第8条第1項; DOMAIN.md 2.5) as data, ready to paste field by
//! field into the PPC's online form: header, form selector, 速報 / 確報 with the earlier receipt
//! number, and the nine items.
//!
//! Owns one rule above all: **no sentence states a fact nobody recorded**. Where a fact is missing
//! the item says 調査中 (under investigation) or that hikeshi holds no record of it, never a guess
//! (whether a ransom will be paid, whether MHLW received anything, whether anything was announced).

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Tokyo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::incident::IncidentFacts;
use super::routing::Route;
use super::vocabulary::Label;
use super::{Authority, Category, ObligationKind, PersonalDataStatus, RansomResponse, RansomwareKind};

/// What the report says when a fact is not known yet.
pub const UNKNOWN: &str = "調査中";

/// One numbered item (or header field) of a report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportItem {
    pub number: u8,
    pub heading_ja: String,
    pub heading_en: String,
    pub text: String,
}

/// A prepared report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PreparedReport {
    pub reference: String,
    /// `ppc_preliminary` (速報) until it is fulfilled, then `ppc_final` (確報); `nco_ransomware`.
    pub report_type: String,
    pub hospital_name: String,
    /// Form fields before the numbered items (報告者, 業種, form selector, 報告の種別 ...); numbered 0.
    #[serde(default)]
    pub header: Vec<ReportItem>,
    pub items: Vec<ReportItem>,
    /// The whole report as plain text, to paste into a web form.
    pub text: String,
}

/// A fulfilled obligation, as the report may cite it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfilled {
    pub kind: ObligationKind,
    pub at: DateTime<Utc>,
    /// Receipt number, when recorded (the Message-ID when `by_mail`).
    pub reference: Option<String>,
    /// hikeshi's own e-mail fulfilled it: what is known is that the mail left, not that it was read.
    pub by_mail: bool,
}

/// Everything the PPC report is written from.
#[derive(Debug, Clone)]
pub struct PpcInput<'a> {
    pub reference: &'a str,
    pub facts: &'a IncidentFacts,
    pub hospital_name: &'a str,
    /// 医療機関コード.
    pub hospital_code: Option<&'a str>,
    pub routes: &'a [Route],
    pub fulfilled: &'a [Fulfilled],
    /// 再発防止策 of the newest status report, if any.
    pub prevention: Option<&'a str>,
}

/// A time as the PPC form shows it, in Japan time.
pub fn format_jst(t: DateTime<Utc>) -> String {
    t.with_timezone(&Tokyo).format("%Y-%m-%d %H:%M JST").to_string()
}

/// Digits grouped by thousands: `12,345`.
pub fn group_digits(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// A report field.
pub fn item(number: u8, ja: &str, en: &str, text: String) -> ReportItem {
    ReportItem { number, heading_ja: ja.into(), heading_en: en.into(), text }
}

/// `s`, or 調査中 when it is blank.
pub fn or_unknown(s: String) -> String {
    if s.trim().is_empty() {
        UNKNOWN.into()
    } else {
        s
    }
}

fn fulfilled<'a>(input: &PpcInput<'a>, kind: ObligationKind) -> Option<&'a Fulfilled> {
    input.fulfilled.iter().find(|f| f.kind == kind)
}

/// The report's title and all its fields as one text.
pub fn as_text(title: &str, header: &[ReportItem], items: &[ReportItem]) -> String {
    let mut s = format!("{title}\n\n");
    for h in header {
        s.push_str(&format!("{}（{}）: {}\n", h.heading_ja, h.heading_en, h.text));
    }
    if !header.is_empty() {
        s.push('\n');
    }
    for i in items {
        s.push_str(&format!("{}. {}（{}）\n{}\n\n", i.number, i.heading_ja, i.heading_en, i.text));
    }
    s
}

/// Which of 施行規則7条's items the routing found (from the PPC route's reason codes).
fn article_7_items(routes: &[Route]) -> Vec<&'static str> {
    let codes: Vec<&str> = routes
        .iter()
        .filter(|r| r.authority == Authority::Ppc)
        .flat_map(|r| r.reasons.iter().map(|x| x.code.as_str()))
        .collect();
    [
        ("sensitive_data", "第1号（要配慮個人情報）"),
        ("financial_risk", "第2号（財産的被害のおそれ）"),
        ("malicious_purpose", "第3号（不正の目的のおそれ）"),
        ("persons_over_threshold", "第4号（本人の数）"),
    ]
    .into_iter()
    .filter(|(code, _)| codes.contains(code))
    .map(|(_, label)| label)
    .collect()
}

/// 漏えい / 滅失 / 毀損 as the category and the recorded ransomware harm say, with 発生 or おそれ.
fn kind_of_event(f: &IncidentFacts, status: PersonalDataStatus) -> String {
    let leak_threat = f.ransomware.as_ref().is_some_and(|r| r.kinds.contains(&RansomwareKind::LeakThreat));
    let kinds = match f.category {
        Category::Ransomware if leak_threat => "毀損・漏えい",
        Category::Ransomware => "毀損",
        Category::LostMedia => "滅失・漏えい",
        Category::SystemFailure | Category::Other => "漏えい等",
        _ => "漏えい",
    };
    let when = if status == PersonalDataStatus::Confirmed { "発生" } else { "発生したおそれ" };
    format!("{kinds}（{when}）")
}

/// The PPC report, as far as facts are recorded.
pub fn ppc_report(input: &PpcInput<'_>) -> PreparedReport {
    let f = input.facts;
    let pd = &f.personal_data;
    let ppc = input.routes.iter().find(|r| r.authority == Authority::Ppc);
    let inferred = ppc.is_some_and(|r| r.reasons.iter().any(|x| x.code == "personal_data_inferred"));
    let status = if inferred { PersonalDataStatus::Suspected } else { pd.status };

    let preliminary = fulfilled(input, ObligationKind::PpcPreliminary);
    let report_type = if preliminary.is_some() { "ppc_final" } else { "ppc_preliminary" };
    let form = ppc
        .and_then(|r| r.reasons.iter().find(|x| x.code.starts_with("ppc_form_")))
        .map(|x| match x.code.as_str() {
            "ppc_form_my_number" => "マイナンバー（特定個人情報）を含む漏えい等の報告",
            "ppc_form_administrative" => "行政機関等",
            _ => "民間事業者・規律移行法人",
        })
        .unwrap_or("民間事業者・規律移行法人");
    let kind = match preliminary {
        None => "速報".to_owned(),
        Some(p) => {
            format!("確報（速報 {}、受付番号 {}）", format_jst(p.at), p.reference.as_deref().unwrap_or("記録なし"))
        }
    };
    let to_fill = "hikeshi に記録なし（フォームに入力してください）".to_owned();
    let header = vec![
        item(0, "報告者の名称", "Reporting operator", input.hospital_name.to_owned()),
        item(0, "業種", "Sector", "医療業".into()),
        item(
            0,
            "医療機関コード",
            "Medical institution code",
            input.hospital_code.map(str::to_owned).unwrap_or(to_fill.clone()),
        ),
        item(0, "住所・代表者・法人番号", "Address, representative, corporate number", to_fill),
        item(0, "報告フォーム", "PPC form", form.into()),
        item(0, "報告の種別", "Report kind", kind),
    ];

    let mut overview = vec![
        format!("発生日: {}", f.occurred_at.map(format_jst).unwrap_or_else(|| UNKNOWN.into())),
        format!("発覚日: {}", format_jst(f.aware_at)),
        format!("発覚の経緯: {}", f.discovered_by.map(|d| d.label_ja().to_owned()).unwrap_or_else(|| UNKNOWN.into())),
        format!("事態: {}", kind_of_event(f, status)),
    ];
    if inferred {
        overview.push(
            "個人データの状況: 病院の記録は「なし」（理由の記録なし）。患者情報を扱うシステムが攻撃を受けたため、hikeshi は「漏えい等のおそれ」と判定しています"
                .into(),
        );
    }
    let items7 = article_7_items(input.routes);
    if !items7.is_empty() {
        overview.push(format!("該当する報告対象事態: 施行規則第7条{}", items7.join("、")));
    }
    overview.push(format!("{}（{}）", f.category.label_ja(), f.title));
    if !f.description.trim().is_empty() {
        overview.push(f.description.trim().to_owned());
    }

    let mut data = vec![or_unknown(pd.data_items.join("、"))];
    if let Some(m) = pd.medium {
        data.push(format!("媒体: {}", m.label_ja()));
    }
    let per_kind = [("患者", pd.persons.patients), ("職員", pd.persons.staff), ("その他", pd.persons.others)];
    let kinds: Vec<&str> = per_kind.into_iter().filter_map(|(k, n)| n.map(|_| k)).collect();
    if !kinds.is_empty() {
        data.push(format!("本人の種別: {}", kinds.join("・")));
    }
    if pd.my_number {
        data.push("特定個人情報（マイナンバー）を含む".into());
    }

    let estimate = if status == PersonalDataStatus::Confirmed { "確認" } else { "見込み" };
    let mut persons: Vec<String> =
        per_kind.into_iter().filter_map(|(k, n)| n.map(|n| format!("{k} {}人", group_digits(n)))).collect();
    if let Some(n) = pd.persons_total() {
        persons.push(format!("合計 約{}人（{estimate}）", group_digits(n)));
    }

    let mut cause = vec![f.category.label_ja().to_owned()];
    if f.attack_vector != super::AttackVector::Unknown {
        cause.push(format!("侵入経路: {}", f.attack_vector.label_ja()));
    }
    if let Some(t) = f.entry_technique {
        cause.push(format!("侵入の手口: {}", t.label_ja()));
    }
    if !f.vulnerabilities.is_empty() {
        cause.push(format!("悪用された脆弱性: {}", f.vulnerabilities.join("、")));
    }
    if let Some(fam) = f.ransomware.as_ref().and_then(|r| r.family.as_deref()) {
        cause.push(format!("ランサムウェアの種類: {fam}"));
    }
    if let Some(c) = &f.contractor {
        let place = if c.breach_at_contractor { "委託先で発生" } else { "委託先が関与" };
        let told =
            c.notified_hospital_at.map(|t| format!("、委託先から病院への通知 {}", format_jst(t))).unwrap_or_default();
        cause.push(format!("{place}（{}{told}）", c.name));
    }
    let cause = if cause.len() == 1 && f.attack_vector == super::AttackVector::Unknown && f.category.is_cyber() {
        format!("{}（侵入経路は{UNKNOWN}）", cause[0])
    } else {
        cause.join("。")
    };

    let mut harm = Vec::new();
    if f.ransomware.as_ref().is_some_and(|r| r.kinds.contains(&RansomwareKind::LeakThreat)) {
        harm.push("窃取した情報を公開するとの脅迫があり、公開による二次被害のおそれがあります".to_owned());
    }
    if pd.financial_risk {
        harm.push("財産的被害が生じるおそれがあります".into());
    }
    if f.ransom_demand {
        let response = match f.ransom_response {
            Some(RansomResponse::NotPaid) => "（身代金は支払っていません）",
            Some(RansomResponse::Undecided) => "（対応は未定です）",
            Some(RansomResponse::Unknown) | None => "",
        };
        harm.push(format!("身代金の要求を受けています{response}"));
    }

    let notice = match fulfilled(input, ObligationKind::PatientNotice) {
        Some(o) => format!("本人への通知を実施しました（{}）", format_jst(o.at)),
        None => "hikeshi に本人への通知の記録はありません".into(),
    };
    let published = match &f.public_announcement {
        Some(a) => format!("公表しました（{}、{}）", format_jst(a.at), a.method),
        None => "hikeshi に公表の記録はありません".into(),
    };

    let mut other = vec![format!("hikeshi 参照番号: {}", input.reference)];
    for (kind, whom, to) in [
        (ObligationKind::MhlwInitial, "厚生労働省へ報告", "厚生労働省"),
        (ObligationKind::PoliceReport, "警察へ相談・届出", "警察"),
        (ObligationKind::IpaReport, "IPAへ届出", "IPA"),
    ] {
        match fulfilled(input, kind) {
            // Only that the mail left is known; receipt is not.
            Some(o) if o.by_mail => {
                other.push(format!("hikeshi から{to}の窓口へ電子メールで第一報を送信（{}）", format_jst(o.at)))
            }
            Some(o) => {
                let receipt = o.reference.as_deref().map(|r| format!("、受付番号 {r}")).unwrap_or_default();
                other.push(format!("{whom}（{}{receipt}）", format_jst(o.at)));
            }
            None => {}
        }
    }

    let items = vec![
        item(1, "概要", "Overview", overview.join("\n")),
        item(2, "漏えい等が発生し、又は発生したおそれがある個人データの項目", "Affected data items", data.join("\n")),
        item(
            3,
            "漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数",
            "Number of persons",
            or_unknown(persons.join("、")),
        ),
        item(4, "原因", "Cause", cause),
        item(5, "二次被害又はそのおそれの有無及びその内容", "Secondary harm", or_unknown(harm.join("。"))),
        item(6, "本人への対応の実施状況", "Notice to persons", notice),
        item(7, "公表の実施状況", "Public announcement", published),
        item(
            8,
            "再発防止のための措置",
            "Recurrence prevention",
            or_unknown(input.prevention.unwrap_or_default().trim().to_owned()),
        ),
        item(9, "その他参考となる事項", "Other", other.join("\n")),
    ];
    let title = format!(
        "個人情報保護委員会への漏えい等報告（{}）— {} {}",
        if preliminary.is_some() { "確報" } else { "速報" },
        input.hospital_name,
        input.reference
    );
    PreparedReport {
        reference: input.reference.to_owned(),
        report_type: report_type.into(),
        hospital_name: input.hospital_name.to_owned(),
        text: as_text(&title, &header, &items),
        header,
        items,
    }
}

/// Everything the government common formats (NCO 共通様式) are written from.
#[derive(Debug, Clone)]
pub struct NcoInput<'a> {
    pub ppc: PpcInput<'a>,
    pub prefecture_name: &'a str,
    /// The incident's status now.
    pub status: super::IncidentStatus,
    /// False for readers who may not see the hospital's contact (liaisons).
    pub show_contact: bool,
    /// A status report is on the timeline: this is a 続報, else the 初報.
    pub follow_up: bool,
}

fn contact_text(input: &NcoInput<'_>) -> String {
    let f = input.ppc.facts;
    if input.show_contact {
        format!("{} {}", f.contact.name, f.contact.phone)
    } else {
        "非開示（厚生労働省の当番へお問い合わせください）/ withheld: ask the MHLW duty officer".into()
    }
}

fn consent_text(consent: Option<bool>) -> String {
    match consent {
        Some(true) => "同意する".into(),
        Some(false) => "同意しない".into(),
        None => "hikeshi に記録なし".into(),
    }
}

/// The items both common formats open with: kind, organisation, contact, times and status.
fn nco_opening(input: &NcoInput<'_>) -> Vec<ReportItem> {
    let p = &input.ppc;
    let f = p.facts;
    vec![
        item(1, "報告の種別", "Report kind", if input.follow_up { "続報" } else { "初報" }.into()),
        item(
            2,
            "被害組織",
            "Organisation",
            format!(
                "{}（医療機関コード {}、{}）",
                p.hospital_name,
                p.hospital_code.unwrap_or("-"),
                input.prefecture_name
            ),
        ),
        item(3, "業種", "Sector", "医療".into()),
        item(4, "連絡先", "Contact", contact_text(input)),
        item(5, "発生日時", "Occurred", f.occurred_at.map(format_jst).unwrap_or_else(|| UNKNOWN.into())),
        item(6, "認知日時", "Aware", format_jst(f.aware_at)),
        item(
            7,
            "現在の状況",
            "Current status",
            format!("{}。診療への影響: {}", input.status.label_ja(), f.care_impact.label_ja()),
        ),
    ]
}

/// The government common format for ransomware (NCO, since 2025-10-01). When the PPC is routed it
/// carries the PPC report's items too, so that one form can serve as the PPC report and the police
/// consultation (DOMAIN.md 2.6).
pub fn nco_ransomware(input: &NcoInput<'_>) -> PreparedReport {
    let p = &input.ppc;
    let f = p.facts;
    let rw = f.ransomware.as_ref();
    let kinds: Vec<&str> = rw.map(|r| r.kinds.iter().map(|k| k.label_ja()).collect()).unwrap_or_default();
    let iocs: Vec<String> = f.iocs.iter().map(|x| format!("{}: {}", x.ioc_type, x.value)).collect();
    let systems: Vec<&str> = f.affected_systems.iter().map(|s| s.label_ja()).collect();
    let mut technique = f.entry_technique.map(|t| t.label_ja().to_owned()).unwrap_or_else(|| UNKNOWN.into());
    if !f.vulnerabilities.is_empty() {
        technique.push_str(&format!("（{}）", f.vulnerabilities.join("、")));
    }
    let ransom = if f.ransom_demand {
        match f.ransom_response {
            Some(r) => format!("あり（{}）", r.label_ja()),
            None => "あり".into(),
        }
    } else {
        "hikeshi に要求の記録なし".into()
    };
    let mut items = nco_opening(input);
    let text = |o: Option<&String>| or_unknown(o.cloned().unwrap_or_default());
    items.extend([
        item(8, "ランサムウェアの種別", "Ransomware type", or_unknown(kinds.join("、"))),
        item(9, "脅迫文（ランサムノート）", "Ransom note", text(rw.and_then(|r| r.note_text.as_ref()))),
        item(
            10,
            "暗号化されたファイルの拡張子",
            "Encrypted file extension",
            text(rw.and_then(|r| r.encrypted_extension.as_ref())),
        ),
        item(11, "ランサムウェアの名称", "Ransomware family", text(rw.and_then(|r| r.family.as_ref()))),
        item(12, "侵入経路（機器）", "Entry point (device)", f.attack_vector.label_ja().into()),
        item(13, "侵入の手口", "Entry technique", technique),
        item(14, "被害を受けたシステム", "Affected systems", or_unknown(systems.join("、"))),
        item(15, "IoC（侵害の痕跡）", "Indicators of compromise", or_unknown(iocs.join("\n"))),
        item(16, "封じ込めの状況", "Containment", text(f.containment.as_ref())),
        item(17, "身代金の要求", "Ransom demanded", ransom),
        item(18, "バックアップの状況", "Offline backup", f.offline_backup.label_ja().into()),
        item(19, "NCOへの情報共有の同意", "Consent to sharing with NCO", consent_text(f.nco_sharing_consent)),
    ]);
    let ppc_routed = p.routes.iter().any(|r| r.authority == Authority::Ppc);
    if ppc_routed {
        // The APPI items (施行規則8条1項), numbered on from the common items.
        let appi = ppc_report(p);
        for (n, i) in (20u8..).zip(appi.items) {
            items.push(ReportItem { number: n, heading_ja: format!("個人情報保護法 {}", i.heading_ja), ..i });
        }
    } else {
        items.push(item(
            20,
            "個人情報の漏えい等",
            "Personal data",
            "個人情報保護委員会への報告対象ではありません（hikeshi の判定）".into(),
        ));
    }
    let title = format!("ランサムウェア被害 政府統一様式 — {} {}", p.hospital_name, p.reference);
    PreparedReport {
        reference: p.reference.to_owned(),
        report_type: "nco_ransomware".into(),
        hospital_name: p.hospital_name.to_owned(),
        text: as_text(&title, &[], &items),
        header: Vec::new(),
        items,
    }
}

/// The government common format for DDoS attacks (`dos`).
pub fn nco_ddos(input: &NcoInput<'_>) -> PreparedReport {
    let p = &input.ppc;
    let f = p.facts;
    let systems: Vec<&str> = f.affected_systems.iter().map(|s| s.label_ja()).collect();
    let sources: Vec<String> = f.iocs.iter().map(|x| format!("{}: {}", x.ioc_type, x.value)).collect();
    let mut items = nco_opening(input);
    items.extend([
        item(8, "攻撃を受けたサービス・システム", "Services attacked", or_unknown(systems.join("、"))),
        item(9, "攻撃の状況", "Attack", or_unknown(f.description.trim().to_owned())),
        item(10, "攻撃元の情報（IoC）", "Attack sources", or_unknown(sources.join("\n"))),
        item(11, "実施した対策", "Measures taken", or_unknown(f.containment.clone().unwrap_or_default())),
        item(12, "NCOへの情報共有の同意", "Consent to sharing with NCO", consent_text(f.nco_sharing_consent)),
    ]);
    let title = format!("DDoS攻撃被害 政府統一様式 — {} {}", p.hospital_name, p.reference);
    PreparedReport {
        reference: p.reference.to_owned(),
        report_type: "nco_ddos".into(),
        hospital_name: p.hospital_name.to_owned(),
        text: as_text(&title, &[], &items),
        header: Vec::new(),
        items,
    }
}

#[cfg(test)]
mod tests;
