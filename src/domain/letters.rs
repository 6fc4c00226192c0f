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
    AttackVector, Authority, CareImpact, Category, DispatchStatus, Locale, ObligationKind, Prefecture, RansomwareKind,
    Requirement, SupportMode,
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
        d.list(s.facts.iocs.iter().map(|i| format!("{}: {}", i.ioc_type.as_str(), defang(&i.value))));
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
            &s.facts
                .iocs
                .iter()
                .map(|i| format!("{}: {}", i.ioc_type.as_str(), defang(&i.value)))
                .collect::<Vec<_>>()
                .join("\n"),
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

/// Reminder (or, with `overdue`, an overdue notice) of a reporting duty, sent to the hospital.
#[allow(clippy::too_many_arguments)]
pub fn obligation_reminder(
    locale: Locale,
    reference: &str,
    hospital_name: &str,
    kind: ObligationKind,
    due: DateTime<Utc>,
    url: &str,
    drill: bool,
    overdue: bool,
) -> Letter {
    let l = locale;
    let tag = match (overdue, l) {
        (true, Locale::Ja) => "【期限超過】",
        (false, Locale::Ja) => "【期限のお知らせ】",
        (true, Locale::En) => "[Overdue] ",
        (false, Locale::En) => "[Reminder] ",
    };
    let subject = format!("{}{tag}{reference} {}（{}）", prefix(drill), kind.label(l), due_text(l, Some(due)));
    let subject = if l == Locale::En { subject.replace('（', "(").replace('）', ")") } else { subject };
    let mut d = Doc::new();
    drill_banner(&mut d, l, drill);
    match l {
        Locale::Ja => d.para(&format!("{} ご担当者様", hospital_name)),
        Locale::En => d.para(&format!("To: {hospital_name}")),
    }
    d.para(match (overdue, l) {
        (true, Locale::Ja) => "次の報告の期限が過ぎています。至急ご対応ください。",
        (false, Locale::Ja) => "次の報告の期限が近づいています。",
        (true, Locale::En) => "The following report is overdue. Please act now.",
        (false, Locale::En) => "The following report is due soon.",
    });
    d.field(tr(l, "参照番号", "Reference"), reference);
    d.field(tr(l, "義務", "Obligation"), kind.label(l));
    d.field(tr(l, "期限", "Due"), &format_jst(due));
    d.para(match kind {
        ObligationKind::PpcPreliminary | ObligationKind::PpcFinal => tr(
            l,
            "個人情報保護委員会の報告フォームから提出し、提出日と受付番号を hikeshi に記録してください。",
            "File it on the PPC's online form, then record the date and receipt number in hikeshi.",
        ),
        ObligationKind::PatientNotice => tr(
            l,
            "本人への通知（概要、個人データの項目、原因、二次被害のおそれ、その他）を行い、hikeshi に記録してください。",
            "Notify the affected patients (overview, data items, cause, possible secondary harm, other) and record it in hikeshi.",
        ),
        _ => tr(
            l,
            "提出後、hikeshi で完了を記録してください。",
            "Once done, record it as fulfilled in hikeshi.",
        ),
    });
    d.link(tr(l, "事案ページ", "Incident page"), url);
    if l == Locale::Ja {
        d.rule();
        d.para(&format!(
            "{} {reference}: {} — due {}. {}",
            if overdue { "OVERDUE" } else { "Reminder" },
            kind.label_en(),
            format_jst(due),
            url
        ));
    }
    d.finish(l, subject)
}

/// Alert to the duty officers: a notification to an authority could not be delivered; they should phone.
pub fn dead_letter_alert(
    reference: &str,
    authority: Authority,
    address: &str,
    attempts: i32,
    last_error: &str,
    url: &str,
    drill: bool,
) -> Letter {
    let subject = format!(
        "{}【配信失敗】{reference} {}への通知が届いていません / Delivery failed",
        prefix(drill),
        authority.label_ja()
    );
    let mut d = Doc::new();
    drill_banner(&mut d, Locale::Ja, drill);
    d.para(&format!(
        "{}への通知を{attempts}回試みましたが配信できませんでした。電話等で直接連絡し、hikeshi で再送または手動連絡を記録してください。",
        authority.label_ja()
    ));
    d.field("参照番号", reference);
    d.field("宛先", &format!("{} <{address}>", authority.label_ja()));
    d.field("試行回数", &attempts.to_string());
    d.field("最後のエラー", last_error);
    d.link("事案ページ", url);
    d.rule();
    d.para(&format!(
        "The notification to {} <{address}> failed after {attempts} attempts. Please phone them, then resend or record the manual contact in hikeshi.",
        authority.label_en()
    ));
    d.field("Last error", last_error);
    d.link("Incident page", url);
    d.finish(Locale::Ja, subject)
}

/// Notice to an account's owner: one client failed to sign in to the account again and again and
/// now has to wait between attempts. The account itself is not locked; the owner is told so that a
/// password under attack is changed, and whom to tell if it was not them.
pub fn sign_in_throttled(client: &str, failures: i32, wait_seconds: i64, at: DateTime<Utc>, url: &str) -> Letter {
    let subject = "【hikeshi】サインインの失敗が続いています / Repeated failed sign-ins to your account".to_owned();
    let mut d = Doc::new();
    d.para(&format!(
        "あなたの hikeshi アカウントへのサインインが、同じ接続元から{failures}回続けて失敗しました。この接続元からの次の試行は{wait_seconds}秒待たされ、失敗が続くたびに待ち時間が倍になります。アカウントはロックされておらず、いつもの端末からはサインインできます。"
    ));
    d.field("接続元", client);
    d.field("時刻", &format_jst(at));
    d.para(
        "心当たりがない場合は、パスワードを変更し、二要素認証を有効にして、厚生労働省の当番担当者に連絡してください。",
    );
    d.link("hikeshi", url);
    d.rule();
    d.para(&format!(
        "Sign-in to your hikeshi account failed {failures} times in a row from one client ({client}); its next attempt must wait {wait_seconds} seconds, twice as long after each further failure. Your account is not locked: you can still sign in from your usual device. If this was not you, change your password, turn on two-factor authentication and tell the ministry's duty officer."
    ));
    d.finish(Locale::Ja, subject)
}

/// Notice to a responder team: it has been dispatched to a hospital.
pub fn dispatch_assigned(
    locale: Locale,
    reference: &str,
    hospital_name: &str,
    prefecture: Prefecture,
    mode: SupportMode,
    url: &str,
    drill: bool,
) -> Letter {
    let l = locale;
    let subject = match l {
        Locale::Ja => format!(
            "{}【派遣要請】{reference} {}（{}）{}",
            prefix(drill),
            one_line(hospital_name),
            prefecture.name_ja(),
            mode.label_ja()
        ),
        Locale::En => format!(
            "{}[Dispatch] {reference} {} ({}) {}",
            prefix(drill),
            one_line(hospital_name),
            prefecture.name_en(),
            mode.label_en().to_lowercase()
        ),
    };
    let mut d = Doc::new();
    drill_banner(&mut d, l, drill);
    d.para(tr(
        l,
        "貴チームに次の医療機関への支援が割り当てられました。事案ページで受諾または辞退を登録してください。",
        "Your team has been assigned to support the hospital below. Please accept or decline on the incident page.",
    ));
    d.field(tr(l, "参照番号", "Reference"), reference);
    d.field(tr(l, "医療機関", "Hospital"), hospital_name);
    d.field(tr(l, "都道府県", "Prefecture"), prefecture_name(l, prefecture));
    d.field(tr(l, "支援形態", "Mode"), mode.label(l));
    d.link(tr(l, "事案ページ", "Incident page"), url);
    if l == Locale::Ja {
        d.rule();
        d.para(&format!(
            "Dispatch: {reference}, {} ({}), {}. Accept or decline: {url}",
            hospital_name,
            prefecture.name_en(),
            mode.label_en().to_lowercase()
        ));
    }
    d.finish(l, subject)
}

/// Notice to the hospital: a responder team's dispatch changed status.
pub fn dispatch_status_notice(
    locale: Locale,
    reference: &str,
    team_name: &str,
    status: DispatchStatus,
    at: DateTime<Utc>,
    url: &str,
    drill: bool,
) -> Letter {
    let l = locale;
    let subject = match l {
        Locale::Ja => {
            format!("{}【支援チーム】{reference} {}: {}", prefix(drill), one_line(team_name), status.label_ja())
        }
        Locale::En => {
            format!("{}[Support team] {reference} {}: {}", prefix(drill), one_line(team_name), status.label_en())
        }
    };
    let mut d = Doc::new();
    drill_banner(&mut d, l, drill);
    d.para(tr(l, "支援チームの状況が更新されました。", "The support team's status has changed."));
    d.field(tr(l, "参照番号", "Reference"), reference);
    d.field(tr(l, "チーム", "Team"), team_name);
    d.field(tr(l, "状況", "Status"), status.label(l));
    d.field(tr(l, "日時", "At"), &format_jst(at));
    d.link(tr(l, "事案ページ", "Incident page"), url);
    if l == Locale::Ja {
        d.rule();
        d.para(&format!("Support team {team_name}: {} at {}. {url}", status.label_en().to_lowercase(), format_jst(at)));
    }
    d.finish(l, subject)
}

/// Notice to the hospital: its support request was approved or declined.
pub fn support_decision(
    locale: Locale,
    reference: &str,
    approved: bool,
    reason: &str,
    url: &str,
    drill: bool,
) -> Letter {
    let l = locale;
    let decision = match (approved, l) {
        (true, Locale::Ja) => "承認",
        (false, Locale::Ja) => "見送り",
        (true, Locale::En) => "approved",
        (false, Locale::En) => "declined",
    };
    let subject = match l {
        Locale::Ja => format!("{}【支援要請】{reference} 支援要請は{decision}されました", prefix(drill)),
        Locale::En => format!("{}[Support request] {reference} {decision}", prefix(drill)),
    };
    let mut d = Doc::new();
    drill_banner(&mut d, l, drill);
    d.para(match (approved, l) {
        (true, Locale::Ja) => {
            "支援要請が承認されました。支援チームの割当てをお知らせしますので、しばらくお待ちください。"
        }
        (false, Locale::Ja) => {
            "今回の支援要請は見送りとなりました。理由は下記のとおりです。状況が変わった場合は再度要請してください。"
        }
        (true, Locale::En) => "Your support request was approved. You will be told which team is assigned.",
        (false, Locale::En) => {
            "Your support request was declined for the reason below. Please ask again if the situation changes."
        }
    });
    d.field(tr(l, "参照番号", "Reference"), reference);
    d.field(tr(l, "判断", "Decision"), decision);
    d.field(tr(l, "理由", "Reason"), reason);
    d.link(tr(l, "事案ページ", "Incident page"), url);
    if l == Locale::Ja {
        d.rule();
        d.para(&format!("Support request {reference}: {}. {url}", if approved { "approved" } else { "declined" }));
    }
    d.finish(l, subject)
}

/// A ransomware incident at a Tokyo hospital with every kind of text the letters show, some of it
/// hostile (HTML in the hospital's strings).
#[cfg(test)]
pub(crate) mod example {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::domain::incident::{Ioc, IocType, RansomwareFacts};
    use crate::domain::{AffectedSystem, OfflineBackup, PersonalDataStatus};

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
            Ioc { ioc_type: IocType::Ip, value: "203.0.113.7".into() },
            Ioc { ioc_type: IocType::Url, value: "http://evil.example/x".into() },
        ];
        f.offline_backup = OfflineBackup::Intact;
        f.bcp_activated = true;
        f.contact.name = "山田 花子".into();
        f.contact.phone = "03-1234-5678".into();
        let mut s = IncidentSummary::new(
            "HK-2026-000123",
            &f,
            HospitalLine {
                name: "火消総合病院 & <b>分院</b>".into(),
                code: Some("1312345678".into()),
                beds: Some(420),
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
            reasons: vec![(
                "要配慮個人情報の漏えい等のおそれ".into(),
                "Possible leak of sensitive personal data".into(),
            )],
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
            out.push(obligation_reminder(
                l,
                "HK-2026-000123",
                "病院",
                ObligationKind::PpcFinal,
                due,
                url,
                drill,
                false,
            ));
            out.push(dispatch_assigned(l, "HK-2026-000123", "H", s.prefecture, SupportMode::OnSite, url, drill));
            out.push(dispatch_status_notice(l, "HK-2026-000123", "T", DispatchStatus::OnSite, due, url, drill));
            out.push(support_decision(l, "HK-2026-000123", true, "", url, drill));
        }
        out.push(dead_letter_alert("HK-2026-000123", Authority::Mhlw, "a@b", 5, "550", url, drill));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::example::{every_letter, route, summary, t};
    use super::*;
    use crate::domain::incident::IncidentContact;
    use crate::domain::{DiscoveredBy, EntryTechnique, RansomResponse};

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
        assert!(police
            .blocks
            .contains(&Block::Quote { text: "YOUR FILES ARE ENCRYPTED\ncontact <evil@onion>".into() }));

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
            assert!(
                matches!(&letter.blocks[0], Block::Banner { text } if text.contains("DRILL")),
                "{}",
                letter.subject
            );
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
        let r = dead_letter_alert(
            "HK-2026-000123",
            Authority::Ppc,
            "ppc@example.test",
            7,
            "550 <no such user>",
            url,
            false,
        );
        assert!(has(&r, "電話") && has(&r, "試行回数: 7") && has(&r, "ppc@example.test") && has(&r, "phone"));
        let p = Prefecture::parse("27").unwrap();
        let r = dispatch_assigned(Locale::Ja, "HK-2026-000123", "<病院>", p, SupportMode::Remote, url, false);
        assert!(has(&r, "大阪府") && has(&r, "リモート支援") && has(&r, "<病院>"));
        let r = dispatch_status_notice(
            Locale::En,
            "HK-2026-000123",
            "Team A",
            DispatchStatus::EnRoute,
            t(3, 0),
            url,
            false,
        );
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
            assert_eq!(
                has(&authority_report(Authority::Vendor, Locale::Ja, &s, &r, "initial"), line),
                says,
                "{vector}"
            );
        }
        // The prefecture is asked to coordinate neighbouring care only when care is suspended.
        for (impact, asks) in [
            (CareImpact::Partial, false),
            (CareImpact::OutpatientSuspended, true),
            (CareImpact::EmergencySuspended, true),
        ] {
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
}
