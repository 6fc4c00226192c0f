//! The content of every e-mail hikeshi sends (reports to the authorities, reminders, alerts and
//! support notices) as data: a [`Letter`] is a subject and a list of [`Block`]s, decided here from
//! recorded facts only; `notify::templates` renders it as plain text and HTML and decides nothing.
//!
//! Japanese comes first. A `ja` letter ends with a short English summary; an `en` letter is English
//! only. Times are shown in Japan time, and a drill carries `[訓練/DRILL]` at the start of the subject
//! and a banner at the top. A fact the hospital has not recorded is shown as not known (調査中, 未記録),
//! never as a "no".

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::incident::{IncidentFacts, RansomwareFacts};
use super::reports::{format_jst, ReportItem};
use super::vocabulary::Label;
use super::{
    AttackVector, Authority, CareImpact, Category, Locale, ObligationKind, Prefecture, RansomwareKind, Requirement,
};

/// Subject prefix of every drill mail.
pub const DRILL_PREFIX: &str = "[訓練/DRILL] ";

/// Shown wherever a fact is not known yet (PPC wording).
const UNKNOWN_JA: &str = "調査中";
const UNKNOWN_EN: &str = "under investigation";

/// One piece of a letter, in reading order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "block", rename_all = "snake_case")]
pub enum Block {
    /// A warning at the top (a drill).
    Banner {
        text: String,
    },
    Heading {
        text: String,
    },
    /// A paragraph; line breaks are kept.
    Para {
        text: String,
    },
    /// A labelled value; a blank value is shown as `—`.
    Field {
        key: String,
        value: String,
    },
    List {
        items: Vec<String>,
    },
    /// Verbatim text the hospital copied from elsewhere (a ransom note).
    Quote {
        text: String,
    },
    /// A link; only `http(s)` addresses may become anchors.
    Link {
        label: String,
        url: String,
    },
    /// The line between the Japanese letter and its English summary.
    Rule,
}

/// An e-mail's content: what the templates render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Letter {
    pub locale: Locale,
    /// One line, ready for the header.
    pub subject: String,
    pub blocks: Vec<Block>,
}

impl Letter {
    /// All the letter's text, for tests and previews.
    pub fn plain(&self) -> String {
        let mut out = vec![self.subject.clone()];
        for b in &self.blocks {
            match b {
                Block::Banner { text } | Block::Heading { text } | Block::Para { text } | Block::Quote { text } => {
                    out.push(text.clone())
                }
                Block::Field { key, value } => out.push(format!("{key}: {value}")),
                Block::List { items } => out.extend(items.iter().cloned()),
                Block::Link { label, url } => out.push(format!("{label}: {url}")),
                Block::Rule => {}
            }
        }
        out.join("\n")
    }
}

/// The hospital as a letter names it.
#[derive(Debug, Clone)]
pub struct HospitalLine {
    pub name: String,
    /// 医療機関コード, when registered.
    pub code: Option<String>,
    pub beds: Option<i32>,
}

/// The incident facts a letter may show.
#[derive(Debug, Clone)]
pub struct IncidentSummary {
    /// `HK-<year>-<6 digits>`.
    pub reference: String,
    pub facts: IncidentFacts,
    pub hospital: HospitalLine,
    pub prefecture: Prefecture,
    pub reported_at: DateTime<Utc>,
    /// The latest report under the four MHLW headings, if the hospital wrote one.
    pub status_report: Option<StatusReport>,
    /// The PPC report's items as `domain::reports` writes them (empty when not prepared).
    pub ppc_items: Vec<ReportItem>,
    /// The incident's page in hikeshi.
    pub url: String,
}

/// A status report under MHLW's four headings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    /// 被害状況
    pub damage: String,
    /// 対応状況
    pub response: String,
    /// 復旧状況
    pub recovery: String,
    /// 再発防止策
    pub prevention: String,
}

impl IncidentSummary {
    /// A summary of `facts` at a hospital, with no status report and no PPC items yet.
    pub fn new(
        reference: &str,
        facts: &IncidentFacts,
        hospital: HospitalLine,
        prefecture: Prefecture,
        reported_at: DateTime<Utc>,
        url: String,
    ) -> Self {
        IncidentSummary {
            reference: reference.to_owned(),
            facts: facts.clone(),
            hospital,
            prefecture,
            reported_at,
            status_report: None,
            ppc_items: Vec::new(),
            url,
        }
    }

    fn ransomware(&self) -> Option<&RansomwareFacts> {
        self.facts.ransomware.as_ref()
    }

    fn ransomware_kinds(&self) -> &[RansomwareKind] {
        self.ransomware().map_or(&[], |r| r.kinds.as_slice())
    }
}

/// Why an incident was routed to one authority, and what it owes that authority.
#[derive(Debug, Clone)]
pub struct RouteNote {
    pub requirement: Requirement,
    /// `(ja, en)` sentences from the routing rules.
    pub reasons: Vec<(String, String)>,
    /// Each duty with its due time (`None`: no deadline, "promptly").
    pub obligations: Vec<(ObligationKind, Option<DateTime<Utc>>)>,
}

fn tr(l: Locale, ja: &'static str, en: &'static str) -> &'static str {
    match l {
        Locale::Ja => ja,
        Locale::En => en,
    }
}

fn unknown(l: Locale) -> &'static str {
    tr(l, UNKNOWN_JA, UNKNOWN_EN)
}

fn yes_no(l: Locale, b: bool) -> &'static str {
    match (l, b) {
        (Locale::Ja, true) => "あり",
        (Locale::Ja, false) => "なし",
        (Locale::En, true) => "yes",
        (Locale::En, false) => "no",
    }
}

fn join_labels<T: Label>(l: Locale, items: &[T]) -> String {
    items.iter().map(|i| i.label(l)).collect::<Vec<_>>().join(tr(l, "、", ", "))
}

fn systems(l: Locale, s: &IncidentSummary) -> String {
    if s.facts.affected_systems.is_empty() {
        unknown(l).to_owned()
    } else {
        join_labels(l, &s.facts.affected_systems)
    }
}

fn prefecture_name(l: Locale, p: Prefecture) -> &'static str {
    match l {
        Locale::Ja => p.name_ja(),
        Locale::En => p.name_en(),
    }
}

/// Header values must stay on one line.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_control()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Makes indicators unclickable in mail clients (`hxxp://evil[.]example`); the analyst reverses it.
/// One indicator as a letter shows it: its name in the reader's language, its STIX type, the value
/// (defanged where a mail client would make it a link) and the reporter's note.
fn ioc_line(l: Locale, i: &crate::domain::incident::Ioc) -> String {
    use crate::domain::ioc::IocType;
    let value = match i.ioc_type {
        IocType::Ipv4 | IocType::Ipv6 | IocType::DomainName | IocType::Url | IocType::EmailAddr => defang(&i.value),
        _ => i.value.clone(),
    };
    let note = i.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
    format!("{} [{}]: {value}{note}", i.ioc_type.label(l), i.ioc_type.as_str())
}

fn defang(v: &str) -> String {
    let v = v.replace('.', "[.]");
    if let Some(rest) = v.strip_prefix("http") {
        format!("hxxp{rest}")
    } else {
        v
    }
}

/// Collects a letter's blocks.
struct Doc {
    blocks: Vec<Block>,
}

impl Doc {
    fn new() -> Self {
        Doc { blocks: Vec::new() }
    }

    fn banner(&mut self, s: &str) {
        self.blocks.push(Block::Banner { text: s.to_owned() });
    }

    fn heading(&mut self, s: &str) {
        self.blocks.push(Block::Heading { text: s.to_owned() });
    }

    fn para(&mut self, s: &str) {
        self.blocks.push(Block::Para { text: s.to_owned() });
    }

    fn field(&mut self, key: &str, value: &str) {
        let value = if value.trim().is_empty() { "—" } else { value };
        self.blocks.push(Block::Field { key: key.to_owned(), value: value.to_owned() });
    }

    fn list<I: IntoIterator<Item = String>>(&mut self, items: I) {
        self.blocks.push(Block::List { items: items.into_iter().collect() });
    }

    fn quote(&mut self, s: &str) {
        self.blocks.push(Block::Quote { text: s.to_owned() });
    }

    fn link(&mut self, label: &str, url: &str) {
        self.blocks.push(Block::Link { label: label.to_owned(), url: url.to_owned() });
    }

    fn rule(&mut self) {
        self.blocks.push(Block::Rule);
    }

    fn finish(self, locale: Locale, subject: String) -> Letter {
        Letter { locale, subject: one_line(&subject), blocks: self.blocks }
    }
}

fn prefix(drill: bool) -> &'static str {
    if drill {
        DRILL_PREFIX
    } else {
        ""
    }
}

fn drill_banner(doc: &mut Doc, l: Locale, drill: bool) {
    if drill {
        doc.banner(tr(
            l,
            "【訓練】これは訓練用の通知です。実際の事案ではありません。 / DRILL: training exercise, not a real incident.",
            "DRILL: this is a training exercise, not a real incident.",
        ));
    }
}

fn due_text(l: Locale, due: Option<DateTime<Utc>>) -> String {
    match (due, l) {
        (Some(d), Locale::Ja) => format!("期限 {}", format_jst(d)),
        (Some(d), Locale::En) => format!("due {}", format_jst(d)),
        (None, Locale::Ja) => "期限の定めなし（速やかに）".to_owned(),
        (None, Locale::En) => "no fixed deadline (promptly)".to_owned(),
    }
}

fn is_initial(stage: &str) -> bool {
    stage.eq_ignore_ascii_case("initial")
}

/// The report an authority receives about one incident. `stage` is `"initial"` (第一報) or `"update"` (続報;
/// any other value is treated as an update).
pub fn authority_report(
    authority: Authority,
    locale: Locale,
    s: &IncidentSummary,
    route: &RouteNote,
    stage: &str,
) -> Letter {
    let l = locale;
    let initial = is_initial(stage);
    let stage_label = match (authority, initial) {
        // The PPC takes reports only through its online form (施行規則8条3項): a mail to it is an
        // advance notice and says so in its subject.
        (Authority::Ppc, _) => tr(l, "事前連絡・法定の報告ではありません", "Advance notice, not the statutory report"),
        (_, true) => tr(l, "第一報", "Initial report"),
        (_, false) => tr(l, "続報", "Update"),
    };
    let subject = match l {
        Locale::Ja => format!(
            "{}【{stage_label}】{} {}事案のご報告（{}）",
            prefix(s.facts.drill),
            s.reference,
            s.facts.category.label_ja(),
            one_line(&s.hospital.name)
        ),
        Locale::En => format!(
            "{}[{stage_label}] {} {} incident at {}",
            prefix(s.facts.drill),
            s.reference,
            s.facts.category.label_en(),
            one_line(&s.hospital.name)
        ),
    };

    let mut d = Doc::new();
    drill_banner(&mut d, l, s.facts.drill);
    match l {
        Locale::Ja => {
            d.para(&format!("{} ご担当者様", authority.label_ja()));
            d.para(&format!(
                "医療機関サイバー事案報告システム hikeshi を通じて、下記の医療機関から事案の報告がありました。{stage_label}としてお知らせします。"
            ));
        }
        Locale::En => {
            d.para(&format!("To: {}", authority.label_en()));
            d.para(&format!(
                "A hospital has reported an incident through hikeshi, the hospital cyber-incident reporting service. This is the {}.",
                stage_label.to_lowercase()
            ));
        }
    }
    overview(&mut d, l, s);
    routing(&mut d, l, route);
    match authority {
        Authority::Mhlw => mhlw_sections(&mut d, l, s),
        Authority::Ppc => ppc_sections(&mut d, l, s),
        Authority::Police => police_sections(&mut d, l, s),
        Authority::Ipa => ipa_sections(&mut d, l, s),
        Authority::Vendor => vendor_sections(&mut d, l, s),
        Authority::Prefecture => prefecture_sections(&mut d, l, s),
    }
    contact(&mut d, l, s);
    if l == Locale::Ja {
        english_summary(&mut d, s, route);
    }
    d.finish(l, subject)
}

fn overview(d: &mut Doc, l: Locale, s: &IncidentSummary) {
    d.heading(tr(l, "事案の概要", "Incident"));
    d.field(tr(l, "参照番号", "Reference"), &s.reference);
    d.field(tr(l, "件名", "Title"), &s.facts.title);
    d.field(tr(l, "種別", "Category"), s.facts.category.label(l));
    d.field(tr(l, "医療機関", "Hospital"), &s.hospital.name);
    d.field(tr(l, "所在都道府県", "Prefecture"), prefecture_name(l, s.prefecture));
    if let Some(at) = s.facts.occurred_at {
        d.field(tr(l, "発生日時", "Occurred"), &format_jst(at));
    }
    d.field(tr(l, "発見日時", "Detected"), &format_jst(s.facts.detected_at));
    d.field(tr(l, "認知日時", "Hospital aware"), &format_jst(s.facts.aware_at));
    d.field(tr(l, "報告日時", "Reported"), &format_jst(s.reported_at));
    d.field(tr(l, "診療への影響", "Impact on care"), s.facts.care_impact.label(l));
}

/// A recorded fact's label, or 未記録 ("not recorded") when nobody recorded it.
fn recorded<T: Label>(l: Locale, fact: Option<T>) -> String {
    fact.map_or_else(|| not_recorded(l).to_owned(), |f| f.label(l).to_owned())
}

fn not_recorded(l: Locale) -> &'static str {
    tr(l, "未記録", "not recorded")
}

/// The CVE identifiers the hospital recorded, if any.
fn vulnerabilities(d: &mut Doc, l: Locale, s: &IncidentSummary) {
    if !s.facts.vulnerabilities.is_empty() {
        d.field(tr(l, "悪用された脆弱性", "Vulnerabilities exploited"), &s.facts.vulnerabilities.join("\n"));
    }
}

fn routing(d: &mut Doc, l: Locale, route: &RouteNote) {
    d.heading(&match l {
        Locale::Ja => format!("送付の理由（{}）", route.requirement.label_ja()),
        Locale::En => format!("Why you receive this ({})", route.requirement.label_en().to_lowercase()),
    });
    let reasons: Vec<String> = route
        .reasons
        .iter()
        .map(|(ja, en)| match l {
            Locale::Ja => ja.clone(),
            Locale::En => en.clone(),
        })
        .collect();
    if reasons.is_empty() {
        d.para(tr(l, "（理由の記載なし）", "(no reason recorded)"));
    } else {
        d.list(reasons);
    }
    d.heading(tr(l, "報告義務と期限", "Obligations and deadlines"));
    if route.obligations.is_empty() {
        d.para(tr(l, "期限のある義務はありません。", "No obligations with a deadline."));
    } else {
        d.list(route.obligations.iter().map(|(kind, due)| format!("{}: {}", kind.label(l), due_text(l, *due))));
    }
}

fn contact(d: &mut Doc, l: Locale, s: &IncidentSummary) {
    d.heading(tr(l, "連絡先", "Contact"));
    d.field(tr(l, "医療機関の担当者", "Hospital contact"), &s.facts.contact.name);
    d.field(tr(l, "電話", "Phone"), &s.facts.contact.phone);
    d.field(tr(l, "メール", "E-mail"), s.facts.contact.email.as_deref().unwrap_or(tr(l, "（未登録）", "(none given)")));
    d.para(tr(
        l,
        "医療機関のメールは攻撃の影響で使えない場合があります。お急ぎの場合は電話でご連絡ください。",
        "The hospital's e-mail may be down because of the incident; please call if it is urgent.",
    ));
    d.link(tr(l, "事案ページ", "Incident page"), &s.url);
}

fn english_summary(d: &mut Doc, s: &IncidentSummary, route: &RouteNote) {
    let l = Locale::En;
    d.rule();
    d.heading("English summary");
    d.field("Reference", &s.reference);
    d.field("Category", s.facts.category.label_en());
    d.field("Hospital", &format!("{} ({})", s.hospital.name, s.prefecture.name_en()));
    d.field("Detected", &format_jst(s.facts.detected_at));
    d.field("Impact on care", s.facts.care_impact.label_en());
    d.field("Why you receive this", &route.reasons.iter().map(|(_, en)| en.as_str()).collect::<Vec<_>>().join("\n"));
    d.field(
        "Obligations",
        &route
            .obligations
            .iter()
            .map(|(k, due)| format!("{}: {}", k.label_en(), due_text(l, *due)))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    d.field("Contact phone", &s.facts.contact.phone);
    d.link("Incident page", &s.url);
}

fn derived_damage(l: Locale, s: &IncidentSummary) -> String {
    let mut out = vec![s.facts.description.trim().to_owned()];
    out.push(format!("{}: {}", tr(l, "影響を受けたシステム", "Systems affected"), systems(l, s)));
    out.push(format!("{}: {}", tr(l, "診療への影響", "Impact on care"), s.facts.care_impact.label(l)));
    out.push(format!("{}: {}", tr(l, "個人データ", "Personal data"), s.facts.personal_data.status.label(l)));
    if s.facts.ransom_demand {
        out.push(tr(l, "身代金の要求あり", "A ransom was demanded").to_owned());
    }
    out.retain(|x| !x.is_empty());
    out.join("\n")
}

fn mhlw_sections(d: &mut Doc, l: Locale, s: &IncidentSummary) {
    d.heading(tr(l, "医療機関", "Hospital"));
    d.field(tr(l, "名称", "Name"), &s.hospital.name);
    d.field(
        tr(l, "医療機関コード", "Medical institution code"),
        s.hospital.code.as_deref().unwrap_or(tr(l, "（未登録）", "(not registered)")),
    );
    d.field(tr(l, "所在都道府県", "Prefecture"), prefecture_name(l, s.prefecture));
    d.field(
        tr(l, "病床数", "Beds"),
        &s.hospital.beds.map_or_else(|| tr(l, "（未登録）", "(not registered)").to_owned(), |b| b.to_string()),
    );
    d.heading(tr(l, "診療への影響とシステム", "Impact on care and systems"));
    d.field(tr(l, "診療への影響", "Impact on care"), s.facts.care_impact.label(l));
    d.field(tr(l, "影響を受けたシステム", "Systems affected"), &systems(l, s));
    // Only an activation is recorded; no tick is not a recorded "no".
    d.field(
        tr(l, "BCP（業務継続計画）の発動", "Business continuity plan activated"),
        if s.facts.bcp_activated {
            yes_no(l, true)
        } else {
            tr(l, "発動の報告なし", "not reported as activated")
        },
    );
    d.field(tr(l, "オフラインバックアップ", "Offline backup"), s.facts.offline_backup.label(l));

    let derived = StatusReport {
        damage: derived_damage(l, s),
        response: match l {
            Locale::Ja => format!(
                "BCP: {}。hikeshi を通じて関係機関へ報告中。詳細は{}。",
                if s.facts.bcp_activated { "発動済み" } else { "発動の報告なし" },
                UNKNOWN_JA
            ),
            Locale::En => format!(
                "Business continuity plan: {}. Authorities are being notified through hikeshi. Details {}.",
                if s.facts.bcp_activated { "activated" } else { "not reported as activated" },
                UNKNOWN_EN
            ),
        },
        recovery: match l {
            Locale::Ja => {
                format!("オフラインバックアップ: {}。復旧見込みは{UNKNOWN_JA}。", s.facts.offline_backup.label_ja())
            }
            Locale::En => {
                format!("Offline backup: {}. Time to recovery {UNKNOWN_EN}.", s.facts.offline_backup.label_en())
            }
        },
        prevention: tr(
            l,
            "調査中（原因究明の後に報告します）",
            "Under investigation (to follow once the cause is known)",
        )
        .to_owned(),
    };
    let report = s.status_report.as_ref().unwrap_or(&derived);
    let source = if s.status_report.is_some() {
        tr(l, "（医療機関の状況報告より）", "(from the hospital's status report)")
    } else {
        tr(
            l,
            "（届出内容から作成。医療機関の状況報告は未提出）",
            "(derived from the filed facts; no status report yet)",
        )
    };
    d.heading(tr(l, "状況報告", "Status report"));
    d.para(source);
    for (ja, en, body) in [
        ("被害状況", "Damage", &report.damage),
        ("対応状況", "Response", &report.response),
        ("復旧状況", "Recovery", &report.recovery),
        ("再発防止策", "Prevention", &report.prevention),
    ] {
        let title = match l {
            Locale::Ja => ja.to_owned(),
            Locale::En => format!("{en} ({ja})"),
        };
        d.heading(&title);
        d.para(if body.trim().is_empty() { unknown(l) } else { body });
    }
}

/// The PPC items are the prepared report of `domain::reports` (the same text the hospital pastes
/// into the form), so the advance mail can state nothing the report would not.
fn ppc_sections(d: &mut Doc, l: Locale, s: &IncidentSummary) {
    d.heading(tr(
        l,
        "個人情報保護法施行規則第8条第1項に定める報告事項（現時点で判明している範囲）",
        "Items of Art. 8(1) of the APPI Enforcement Rules (as known so far; in Japanese, as filed)",
    ));
    d.para(tr(
        l,
        "正式な報告は医療機関が個人情報保護委員会の報告フォームから行います。本メールはその内容の事前連絡であり、法定の報告ではありません。",
        "The hospital files the statutory report on the PPC's online form; this mail is advance notice of its content, not the report.",
    ));
    for item in &s.ppc_items {
        let heading = match l {
            Locale::Ja => format!("{} {}", item.number, item.heading_ja),
            Locale::En => format!("{} {} ({})", item.number, item.heading_en, item.heading_ja),
        };
        d.heading(&heading);
        d.para(&item.text);
    }
    d.field(tr(l, "事案ページ", "Incident page"), &s.url);
}

fn police_sections(d: &mut Doc, l: Locale, s: &IncidentSummary) {
    d.heading(tr(l, "所在地", "Location"));
    d.field(tr(l, "都道府県", "Prefecture"), prefecture_name(l, s.prefecture));
    d.field(tr(l, "医療機関", "Hospital"), &s.hospital.name);

    d.heading(tr(l, "攻撃の状況", "Attack facts"));
    d.field(tr(l, "種別", "Category"), s.facts.category.label(l));
    d.field(tr(l, "侵入経路", "Intrusion route"), s.facts.attack_vector.label(l));
    d.field(tr(l, "侵入の手口", "Entry technique"), &recorded(l, s.facts.entry_technique));
    vulnerabilities(d, l, s);
    d.field(tr(l, "影響を受けたシステム", "Systems affected"), &systems(l, s));
    d.field(tr(l, "身代金の要求", "Ransom demanded"), yes_no(l, s.facts.ransom_demand));
    if let Some(r) = s.facts.ransom_response {
        d.field(tr(l, "身代金への対応", "Response to the ransom"), r.label(l));
    }
    if !s.ransomware_kinds().is_empty() {
        d.field(tr(l, "ランサムウェアの被害類型", "Ransomware harm"), &join_labels(l, s.ransomware_kinds()));
    }
    d.field(
        tr(l, "ランサムウェアの種類", "Ransomware family"),
        s.ransomware().and_then(|r| r.family.as_deref()).unwrap_or(unknown(l)),
    );
    d.field(
        tr(l, "暗号化ファイルの拡張子", "Encrypted-file extension"),
        s.ransomware().and_then(|r| r.encrypted_extension.as_deref()).unwrap_or(unknown(l)),
    );
    d.field(tr(l, "状況の説明", "Description"), &s.facts.description);
    if let Some(note) = s.ransomware().and_then(|r| r.note_text.as_deref()).filter(|n| !n.trim().is_empty()) {
        d.heading(tr(l, "脅迫文（原文のまま）", "Ransom note (verbatim)"));
        d.quote(note);
    }
    d.heading(tr(l, "IoC（侵害の痕跡）", "Indicators of compromise"));
    if s.facts.iocs.is_empty() {
        d.para(unknown(l));
    } else {
        d.para(tr(
            l,
            "誤クリック防止のため無害化して表記しています（[.] は . 、hxxp は http）。",
            "Defanged to prevent accidental clicks ([.] is . and hxxp is http).",
        ));
        d.list(s.facts.iocs.iter().map(|i| ioc_line(l, i)));
    }

    d.heading(tr(
        l,
        "証拠保全について医療機関へ案内した事項",
        "Evidence preservation: what the hospital has been advised",
    ));
    d.list(
        [
            tr(
                l,
                "ログ（サーバ、VPN・ファイアウォール機器、認証等）を消去・上書きせず保全する。",
                "Preserve logs (servers, VPN and firewall appliances, authentication); do not delete or overwrite them.",
            ),
            tr(
                l,
                "感染端末はネットワークから切り離す。ただしVPN機器・ファイアウォール等は電源を切らない（メモリ上のログが失われるため）。",
                "Disconnect affected machines from the network, but keep VPN and firewall devices powered on (their logs are in memory).",
            ),
            tr(
                l,
                "ネットワーク構成図を用意しておく。",
                "Have the network diagram ready.",
            ),
        ]
        .map(str::to_owned),
    );
    d.para(tr(
        l,
        "この通知は被害届ではありません。被害届の提出は警察署で行います。緊急の場合は110番または最寄りの警察署へ通報してください。",
        "This notice is not a damage report (被害届); that is filed at a police station. Urgent cases: call 110 or go to the nearest police station.",
    ));
}

fn ipa_sections(d: &mut Doc, l: Locale, s: &IncidentSummary) {
    d.heading(tr(l, "届出者", "Reporter"));
    d.field(tr(l, "組織名", "Organisation"), &s.hospital.name);
    d.field(tr(l, "担当者氏名", "Name"), &s.facts.contact.name);
    d.field(
        tr(l, "メールアドレス", "E-mail"),
        s.facts.contact.email.as_deref().unwrap_or(tr(l, "（未登録）", "(none given)")),
    );
    d.field(tr(l, "電話番号", "Phone"), &s.facts.contact.phone);

    d.heading(tr(l, "不正アクセスの届出項目", "Unauthorized-access report fields"));
    d.field(tr(l, "発見日", "Date discovered"), &format_jst(s.facts.detected_at));
    d.field(tr(l, "被害を受けたシステム", "Affected system"), &systems(l, s));
    d.field(
        tr(l, "発見の経緯", "How it was found"),
        &s.facts.discovered_by.map_or_else(
            || tr(l, "未記録（医療機関へご確認ください）", "not recorded (please ask the hospital)").to_owned(),
            |by| by.label(l).to_owned(),
        ),
    );
    d.field(tr(l, "侵入経路", "Intrusion route"), s.facts.attack_vector.label(l));
    d.field(tr(l, "侵入の手口", "Entry technique"), &recorded(l, s.facts.entry_technique));
    vulnerabilities(d, l, s);
    let mut damage = vec![
        s.facts.description.trim().to_owned(),
        format!("{}: {}", tr(l, "診療への影響", "Impact on care"), s.facts.care_impact.label(l)),
    ];
    if !s.ransomware_kinds().is_empty() {
        damage.push(format!("{}: {}", tr(l, "ランサムウェア", "Ransomware"), join_labels(l, s.ransomware_kinds())));
    }
    damage.push(format!("{}: {}", tr(l, "個人データ", "Personal data"), s.facts.personal_data.status.label(l)));
    damage.retain(|x| !x.is_empty());
    d.field(tr(l, "被害内容", "Damage"), &damage.join("\n"));
    if !s.facts.iocs.is_empty() {
        d.field(
            tr(l, "IoC（無害化表記）", "IoCs (defanged)"),
            &s.facts.iocs.iter().map(|i| ioc_line(l, i)).collect::<Vec<_>>().join("\n"),
        );
    }
}

fn vendor_sections(d: &mut Doc, l: Locale, s: &IncidentSummary) {
    d.heading(tr(l, "お願い", "Request"));
    d.field(tr(l, "影響を受けたシステム", "Systems affected"), &systems(l, s));
    d.field(tr(l, "侵入経路", "Intrusion route"), s.facts.attack_vector.label(l));
    vulnerabilities(d, l, s);
    if s.facts.attack_vector == AttackVector::VendorRemoteMaintenance || s.facts.category == Category::SupplyChain {
        d.para(tr(
            l,
            "貴社のリモート保守回線・委託先経由の侵入の可能性があります。接続機器のログを保全し、他の顧客医療機関への影響をご確認ください。",
            "The intrusion may have come through your remote-maintenance line. Please preserve the logs of your connection devices and check your other hospital customers.",
        ));
    }
    d.para(tr(
        l,
        "復旧支援について医療機関の担当者へご連絡ください。",
        "Please contact the hospital about recovery support.",
    ));
}

fn prefecture_sections(d: &mut Doc, l: Locale, s: &IncidentSummary) {
    d.heading(tr(l, "地域医療への影響", "Effect on regional care"));
    d.field(tr(l, "診療への影響", "Impact on care"), s.facts.care_impact.label(l));
    d.field(tr(l, "影響を受けたシステム", "Systems affected"), &systems(l, s));
    d.field(tr(l, "病床数", "Beds"), &s.hospital.beds.map_or_else(|| unknown(l).to_owned(), |b| b.to_string()));
    if s.facts.care_impact >= CareImpact::OutpatientSuspended {
        d.para(tr(
            l,
            "診療の停止を伴います。周辺医療機関・救急搬送の調整をご検討ください。",
            "Care is suspended: please consider coordinating neighbouring hospitals and ambulance routing.",
        ));
    }
}

mod national;
pub use national::{advisory, campaign_alert};
mod notices;
pub use notices::{
    correspondence, dead_letter_alert, dispatch_assigned, dispatch_status_notice, obligation_reminder,
    sign_in_throttled, support_decision, webhook_dead_alert,
};

/// A ransomware incident at a Tokyo hospital with every kind of text the letters show, some of it
/// hostile (HTML in the hospital's strings).
#[cfg(test)]
pub(crate) mod example;

#[cfg(test)]
mod tests;
