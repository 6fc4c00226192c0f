//! Routing: which authorities an incident goes to, why, and which reporting duties follow
//! (DOMAIN.md 2, rule set version [`RULES_VERSION`]).
//!
//! Owns the routing table as one pure function from incident facts to routes. Each route carries its
//! reasons in Japanese and English with the sources they rest on (law article, guideline section or
//! page), because the hospital acts on them without a lawyer, and the obligations (with deadlines in
//! days) that the caller turns into tracked tasks. Contacts are not chosen here: they are data with
//! effective dates, looked up by authority and prefecture elsewhere.
//!
//! Where the law is uncertain, each rule takes the reading that makes the hospital report earlier
//! or to more authorities, and its reason says so.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::deadlines::DeadlineConfig;
use super::enums::{
    AffectedSystem, Authority, CareImpact, Category, LegalStatus, ObligationKind, PersonalDataStatus, RegionalRole,
    Requirement,
};
use super::health_authority::{health_authority, HealthAuthority};
use super::incident::{IncidentFacts, KeyCompromised};

/// The version of the rule set below; each incident records the version it was routed with.
pub const RULES_VERSION: &str = "2026-12.2";

/// Persons above which a breach is reportable to the PPC on numbers alone (Art. 26, 施行規則7条4号).
const PPC_PERSONS_THRESHOLD: i64 = 1000;
/// The same threshold for 行政機関等 (Art. 68, 施行規則43条4号).
const PPC_PERSONS_THRESHOLD_ADMINISTRATIVE: i64 = 100;

/// Where a rule comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Source {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The sources the rules cite, by name.
pub mod sources {
    /// A source: title and address.
    pub type S = (&'static str, Option<&'static str>);
    pub const MHLW_GUIDELINE: S = (
        "医療情報システムの安全管理に関するガイドライン 第6.0版 経営管理編 3.4.3",
        Some("https://www.mhlw.go.jp/stf/shingi/0000516275_00006.html"),
    );
    pub const MHLW_NOTICE_2018: S =
        ("医療機関等におけるサイバーセキュリティ対策の強化について（平成30年10月29日 厚生労働省通知）", None);
    pub const APPI_26: S = ("個人情報の保護に関する法律 第26条", Some("https://laws.e-gov.go.jp/law/415AC0000000057"));
    pub const APPI_68: S = ("個人情報の保護に関する法律 第68条", Some("https://laws.e-gov.go.jp/law/415AC0000000057"));
    pub const APPI_RULES_7: S =
        ("個人情報の保護に関する法律施行規則 第7条", Some("https://laws.e-gov.go.jp/law/428M60020000003"));
    pub const APPI_RULES_8: S =
        ("個人情報の保護に関する法律施行規則 第8条", Some("https://laws.e-gov.go.jp/law/428M60020000003"));
    pub const APPI_RULES_9: S =
        ("個人情報の保護に関する法律施行規則 第9条", Some("https://laws.e-gov.go.jp/law/428M60020000003"));
    pub const PPC_LEAK_ACTION: S = (
        "個人情報保護委員会「漏えい等の対応とお役立ち資料」",
        Some("https://www.ppc.go.jp/personalinfo/legal/leakAction/"),
    );
    pub const PPC_GUIDELINE: S = (
        "個人情報の保護に関する法律についてのガイドライン（通則編）3-5",
        Some("https://www.ppc.go.jp/personalinfo/legal/guidelines_tsusoku/"),
    );
    pub const PPC_FAQ: S = (
        "「個人情報の保護に関する法律についてのガイドライン」に関するQ&A（漏えい等報告：高度な暗号化等の秘匿化）",
        Some("https://www.ppc.go.jp/personalinfo/faq/APPI_QA/"),
    );
    pub const MY_NUMBER_ACT: S = (
        "行政手続における特定の個人を識別するための番号の利用等に関する法律 第29条の4",
        Some("https://laws.e-gov.go.jp/law/425AC0000000027"),
    );
    pub const NPA_CYBER: S =
        ("警察庁 サイバー事案に関する相談窓口", Some("https://www.npa.go.jp/bureau/cyber/soudan.html"));
    pub const IPA_TODOKEDE: S = (
        "コンピュータウイルス対策基準・コンピュータ不正アクセス対策基準（経済産業省告示）に基づくIPAへの届出",
        Some("https://www.ipa.go.jp/security/todokede/crack-virus/about.html"),
    );
    pub const MEDICAL_CARE_ACT_25: S = ("医療法 第25条", Some("https://laws.e-gov.go.jp/law/323AC0000000205"));
    pub const COMMUNITY_HEALTH_ACT: S = (
        "地域保健法 第5条、地域保健法施行令 第1条（保健所設置市・特別区）",
        Some("https://laws.e-gov.go.jp/law/322AC0000000101"),
    );
    pub const ACD_ACT: S = (
        "重要電子計算機に対する不正な行為による被害の防止に関する法律（令和7年法律第42号）第2章; 医療部会 2025-11-25 資料（特定機能病院の指定案）",
        Some("https://laws.e-gov.go.jp/law/507AC0000000042"),
    );
    pub const DOMAIN_MD: S = ("hikeshi DOMAIN.md version 2", None);
}

fn src(s: sources::S) -> Source {
    Source { title: s.0.to_owned(), url: s.1.map(str::to_owned) }
}

/// The facts of an incident, and of its hospital, that routing depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingFacts {
    pub category: Category,
    pub care_impact: CareImpact,
    pub affected_systems: Vec<AffectedSystem>,
    /// As the hospital stated it.
    pub personal_data: PersonalDataStatus,
    /// The hospital gave a reason for `none`.
    pub none_reason_given: bool,
    /// Number of persons affected, when known (the larger of the total and the sum per kind).
    pub persons: Option<i64>,
    /// 要配慮個人情報 (all medical records are).
    pub sensitive: bool,
    /// Risk of financial damage (e.g. card or bank data).
    pub financial_risk: bool,
    /// The hospital's own strong encryption protected the data.
    pub encryption_protected: bool,
    pub key_compromised: KeyCompromised,
    /// A duty officer recorded why the exemption holds.
    pub exemption_confirmed_by_officer: bool,
    /// 特定個人情報 is involved.
    pub my_number: bool,
    /// The breach happened at a contractor (委託先).
    pub contractor_breach: bool,
    /// `None` when the hospital's legal status is not on record.
    pub legal_status: Option<LegalStatus>,
    /// Who oversees the hospital under 医療法25条.
    pub health_authority: HealthAuthority,
    /// The hospital is a designated operator under the Active Cyber Defence law (switch, DOMAIN.md 7).
    pub acd_designated: bool,
}

/// What routing needs of the hospital.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HospitalFacts {
    pub legal_status: Option<LegalStatus>,
    /// JIS X 0402 municipality code.
    pub municipality: Option<String>,
    pub regional_roles: Vec<RegionalRole>,
    /// Licensed beds (for the triage priority).
    pub beds: Option<i32>,
}

impl HospitalFacts {
    /// A hospital known only by its legal status.
    pub fn with_status(legal_status: Option<LegalStatus>) -> Self {
        HospitalFacts { legal_status, ..HospitalFacts::default() }
    }
}

impl RoutingFacts {
    /// The routing facts of an incident at `hospital`; `active_cyber_defence` is the switch of
    /// DOMAIN.md 7 (特定機能病院 as designated operators).
    pub fn of(f: &IncidentFacts, hospital: &HospitalFacts, active_cyber_defence: bool) -> Self {
        let pd = &f.personal_data;
        RoutingFacts {
            category: f.category,
            care_impact: f.care_impact,
            affected_systems: f.affected_systems.clone(),
            personal_data: pd.status,
            none_reason_given: pd.none_reason.is_some(),
            persons: pd.persons_total(),
            sensitive: pd.sensitive,
            financial_risk: pd.financial_risk,
            encryption_protected: pd.strong_encryption.protected,
            key_compromised: pd.strong_encryption.key_compromised,
            exemption_confirmed_by_officer: pd.strong_encryption.officer_reason.is_some(),
            my_number: pd.my_number,
            contractor_breach: f.contractor.as_ref().is_some_and(|c| c.breach_at_contractor),
            legal_status: hospital.legal_status,
            health_authority: health_authority(hospital.municipality.as_deref()),
            acd_designated: active_cyber_defence && hospital.regional_roles.contains(&RegionalRole::AdvancedTreatment),
        }
    }
}

/// Systems that hold patient data: when an attack hits one, personal data is at least damaged (毀損).
pub const PATIENT_SYSTEMS: &[AffectedSystem] = &[
    AffectedSystem::Emr,
    AffectedSystem::Pacs,
    AffectedSystem::Lab,
    AffectedSystem::Pharmacy,
    AffectedSystem::Ordering,
];

/// Categories for which the encryption exemption needs an officer's recorded reason (PPC FAQ):
/// the attacker may have had the key as well as the data.
const EXEMPTION_NEEDS_OFFICER: &[Category] =
    &[Category::Ransomware, Category::UnauthorizedAccess, Category::AccountCompromise, Category::SupplyChain];

/// The personal-data status routing uses: as stated, or `suspected` when a cyber attack hit a
/// patient system and the hospital stated `none` without a reason (DOMAIN.md 2.2). True when inferred.
pub fn effective_personal_data(facts: &RoutingFacts) -> (PersonalDataStatus, bool) {
    let inferred = facts.personal_data == PersonalDataStatus::None
        && !facts.none_reason_given
        && facts.category.is_cyber()
        && facts.affected_systems.iter().any(|s| PATIENT_SYSTEMS.contains(s));
    if inferred {
        (PersonalDataStatus::Suspected, true)
    } else {
        (facts.personal_data, false)
    }
}

/// One authority an incident is routed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Route {
    pub authority: Authority,
    pub requirement: Requirement,
    /// Every rule that applied, in words.
    pub reasons: Vec<Reason>,
    /// Reporting duties this route creates (none for advisory contacts).
    pub obligations: Vec<ObligationSpec>,
    /// Every source the reasons cite, once each.
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// Why a route applies: a stable code, the explanation in Japanese and English, and its sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    /// Stable snake_case code, e.g. `cyber_category`.
    pub code: String,
    pub ja: String,
    pub en: String,
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// What a due date means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DueNature {
    /// No date: "promptly" (速やかに).
    Promptly,
    /// A target (目安), not a legal deadline: the PPC 速報's day 5.
    Target,
    /// A legal deadline: it moves to the next open day when it falls on a closed day.
    Statutory,
}

/// A reporting duty to create, with its deadline counted in days from awareness (see `deadlines`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObligationSpec {
    pub kind: ObligationKind,
    /// Due at the end of this day (JST; the day of awareness is day 1); `None` when the rule only
    /// says "promptly".
    pub due_days: Option<u32>,
    /// Day on which to remind the hospital, if any.
    pub reminder_day: Option<u32>,
    #[serde(default = "promptly")]
    pub nature: DueNature,
}

fn promptly() -> DueNature {
    DueNature::Promptly
}

impl ObligationSpec {
    fn undated(kind: ObligationKind) -> Self {
        Self { kind, due_days: None, reminder_day: None, nature: DueNature::Promptly }
    }
}

/// Routes an incident. The result is ordered MHLW, PPC, police, IPA, vendor, health authority.
pub fn route(facts: &RoutingFacts, cfg: &DeadlineConfig) -> Vec<Route> {
    let mhlw = mhlw_route(facts);
    let prefecture = mhlw.as_ref().map(|_| prefecture_route(facts));
    [mhlw, ppc_route(facts, cfg), police_route(facts), ipa_route(facts), vendor_route(facts), prefecture]
        .into_iter()
        .flatten()
        .map(with_sources)
        .collect()
}

/// Gathers the reasons' sources on the route, once each, in order.
fn with_sources(mut r: Route) -> Route {
    let mut all: Vec<Source> = Vec::new();
    for s in r.reasons.iter().flat_map(|x| &x.sources) {
        if !all.contains(s) {
            all.push(s.clone());
        }
    }
    r.sources = all;
    r
}

fn reason(code: &'static str, ja: impl Into<String>, en: impl Into<String>, sources: &[sources::S]) -> Reason {
    Reason { code: code.to_owned(), ja: ja.into(), en: en.into(), sources: sources.iter().copied().map(src).collect() }
}

fn mhlw_route(facts: &RoutingFacts) -> Option<Route> {
    let first = if facts.category.is_cyber() {
        reason(
            "cyber_category",
            "サイバー攻撃（疑いを含む）は厚生労働省へ報告します",
            "Cyber attacks (including suspected ones) are reported to MHLW",
            &[sources::MHLW_GUIDELINE, sources::MHLW_NOTICE_2018],
        )
    } else if facts.category == Category::SystemFailure && facts.care_impact != CareImpact::None {
        reason(
            "system_failure_care_impact",
            "診療に影響が出ているシステム障害は厚生労働省へ報告します",
            "System failures that affect patient care are reported to MHLW",
            &[sources::MHLW_GUIDELINE],
        )
    } else {
        return None;
    };
    let mut reasons = vec![first];
    let mut obligations = vec![ObligationSpec::undated(ObligationKind::MhlwInitial)];
    if facts.acd_designated && facts.category.is_cyber() {
        reasons.push(reason(
            "active_cyber_defence",
            "特定機能病院は能動的サイバー防御法（令和7年法律第42号）の特別社会基盤事業者として、特定侵害事象を事業所管大臣（厚生労働大臣）等へ報告する対象となります（この規則は設定で有効化されています）",
            "As an advanced treatment hospital designated under the Active Cyber Defence law (Act No. 42 of 2025), the hospital reports the intrusion to its competent minister (MHLW) and the government; this rule is switched on by configuration",
            &[sources::ACD_ACT],
        ));
        obligations.push(ObligationSpec::undated(ObligationKind::AcdReport));
    }
    Some(Route {
        authority: Authority::Mhlw,
        requirement: Requirement::Required,
        reasons,
        obligations,
        sources: Vec::new(),
    })
}

fn ppc_route(facts: &RoutingFacts, cfg: &DeadlineConfig) -> Option<Route> {
    let (status, inferred) = effective_personal_data(facts);
    let mut reasons = match status {
        PersonalDataStatus::None => return None,
        PersonalDataStatus::Suspected if inferred => vec![reason(
            "personal_data_inferred",
            "患者情報を扱うシステム（電子カルテ等）が攻撃を受けたため、個人データの毀損（漏えいのおそれを含む）があるものとして扱います。該当しない場合は、理由を添えて「なし」と記録してください",
            "A system holding patient data was attacked, so personal data is treated as at least damaged (possibly leaked); record `none` with a reason if it was not",
            &[sources::PPC_GUIDELINE, sources::DOMAIN_MD],
        )],
        PersonalDataStatus::Suspected => vec![reason(
            "personal_data_suspected",
            "個人データの漏えい等のおそれがあります",
            "Personal data may have been leaked, lost or damaged",
            &[sources::APPI_RULES_7],
        )],
        PersonalDataStatus::Confirmed => vec![reason(
            "personal_data_confirmed",
            "個人データの漏えい等が発生しました",
            "Personal data has been leaked, lost or damaged",
            &[sources::APPI_RULES_7],
        )],
    };

    // Only the hospital's own strong encryption, with a key known to be safe, removes the duty;
    // encryption by an attacker is never protection.
    if facts.encryption_protected && facts.key_compromised == KeyCompromised::Known(false) {
        if !EXEMPTION_NEEDS_OFFICER.contains(&facts.category) || facts.exemption_confirmed_by_officer {
            return None;
        }
        reasons.push(reason(
            "encryption_exemption_unconfirmed",
            "暗号化による適用除外は、攻撃者が鍵も得た可能性があるため、厚生労働省当番の確認理由が記録されるまで適用しません",
            "The encryption exemption is not applied until a duty officer records why it holds: the attacker may have had the key too",
            &[sources::PPC_FAQ],
        ));
    }

    let mut triggers = Vec::new();
    if facts.sensitive {
        triggers.push(reason(
            "sensitive_data",
            "要配慮個人情報（診療情報等）が含まれます",
            "The data includes sensitive personal information (such as medical records)",
            &[sources::APPI_RULES_7],
        ));
    }
    if facts.financial_risk {
        triggers.push(reason(
            "financial_risk",
            "不正に利用されることにより財産的被害が生じるおそれがあります",
            "Misuse of the data could cause financial damage",
            &[sources::APPI_RULES_7],
        ));
    }
    if facts.category.is_malicious() {
        let label = category_label(facts.category);
        triggers.push(reason(
            "malicious_purpose",
            format!("{}は不正の目的によるおそれがある事態です", label.ja),
            format!("{} may have been done for a malicious purpose", label.en),
            &[sources::APPI_RULES_7],
        ));
    }
    let (threshold, ja_basis, en_basis, basis_source) = match facts.legal_status {
        Some(s) if s.is_administrative_organ() => (
            PPC_PERSONS_THRESHOLD_ADMINISTRATIVE,
            "行政機関等の基準である",
            " (the threshold for 行政機関等, hospitals the State runs itself)",
            sources::APPI_68,
        ),
        Some(_) => (PPC_PERSONS_THRESHOLD, "", "", sources::APPI_RULES_7),
        None => (
            PPC_PERSONS_THRESHOLD_ADMINISTRATIVE,
            "法人の種別が未登録のため、より早く報告となる行政機関等の基準",
            " (legal status not on record: the lower threshold of 行政機関等 applies until it is)",
            sources::APPI_68,
        ),
    };
    if let Some(persons) = facts.persons.filter(|n| *n > threshold) {
        triggers.push(reason(
            "persons_over_threshold",
            format!("本人の数（推定{persons}人）が{ja_basis}{threshold}人を超えています"),
            format!("The number of persons affected (estimated {persons}) exceeds {threshold}{en_basis}"),
            &[basis_source, sources::PPC_LEAK_ACTION],
        ));
    }
    if triggers.is_empty() {
        return None;
    }
    reasons.append(&mut triggers);
    reasons.push(form_reason(facts));
    if facts.contractor_breach {
        reasons.push(reason(
            "contractor_breach",
            "委託先で発生した漏えい等も、委託元である病院が報告します（委託先は病院へ通知することで報告義務を免れます）",
            "A breach at a contractor is reported by the hospital, which entrusted the data; the contractor is freed only by telling the hospital",
            &[sources::APPI_26, sources::APPI_RULES_9],
        ));
    }

    Some(Route {
        authority: Authority::Ppc,
        requirement: Requirement::Required,
        reasons,
        obligations: vec![
            ObligationSpec {
                kind: ObligationKind::PpcPreliminary,
                due_days: Some(cfg.ppc_preliminary_days),
                reminder_day: Some(cfg.ppc_preliminary_reminder_day),
                nature: DueNature::Target,
            },
            ObligationSpec {
                kind: ObligationKind::PpcFinal,
                due_days: Some(cfg.ppc_final_days_for(facts.category.is_malicious())),
                reminder_day: None,
                nature: DueNature::Statutory,
            },
            ObligationSpec {
                kind: ObligationKind::PatientNotice,
                due_days: None,
                reminder_day: Some(cfg.patient_notice_reminder_day),
                nature: DueNature::Promptly,
            },
        ]
        .into_iter()
        .filter(|o| cfg.patient_notice || o.kind != ObligationKind::PatientNotice)
        .collect(),
        sources: Vec::new(),
    })
}

/// Which PPC online form to use (the PPC's own questions: My Number first, then the kind of body).
fn form_reason(facts: &RoutingFacts) -> Reason {
    if facts.my_number {
        return reason(
            "ppc_form_my_number",
            "マイナンバー（特定個人情報）を含むため、個人情報保護委員会の漏えい等報告フォームで「マイナンバーを含む」を選び、特定個人情報の様式で報告します",
            "My Number data is involved: answer yes to the PPC form's My Number question and report on the My Number form",
            &[sources::MY_NUMBER_ACT, sources::PPC_LEAK_ACTION],
        );
    }
    match facts.legal_status {
        Some(s) if s.is_administrative_organ() => reason(
            "ppc_form_administrative",
            "個人情報保護委員会の漏えい等報告フォームで「行政機関等」を選んで報告します（施行規則第43条）",
            "Report on the PPC online form for 行政機関等 (administrative organs)",
            &[sources::APPI_68, sources::PPC_LEAK_ACTION],
        ),
        _ => reason(
            "ppc_form_private",
            "個人情報保護委員会の漏えい等報告フォームで「民間事業者・規律移行法人」を選んで報告します（報告はフォームからのみ、施行規則第8条第3項）",
            "Report on the PPC online form for private businesses and designated corporations (reports are taken only through the form)",
            &[sources::APPI_26, sources::APPI_RULES_8, sources::PPC_LEAK_ACTION],
        ),
    }
}

fn police_route(facts: &RoutingFacts) -> Option<Route> {
    let reason = match facts.category {
        c if c.is_cyber() => reason(
            "cyber_crime",
            "サイバー攻撃は犯罪に当たる可能性があるため、都道府県警察のサイバー犯罪相談窓口への通報・相談をお勧めします",
            "Cyber attacks may be crimes; reporting to the prefectural police cyber desk is recommended",
            &[sources::MHLW_GUIDELINE, sources::NPA_CYBER],
        ),
        Category::Theft => reason(
            "theft",
            "盗難は犯罪のため、警察への届出をお勧めします",
            "Theft is a crime; reporting it to the police is recommended",
            &[sources::DOMAIN_MD],
        ),
        Category::InsiderMisuse => reason(
            "insider_misuse",
            "職員等による不正な持ち出し・利用は犯罪に当たる可能性があるため、警察への相談をお勧めします",
            "Misuse by staff or other insiders may be a crime; consulting the police is recommended",
            &[sources::DOMAIN_MD],
        ),
        _ => return None,
    };
    Some(Route {
        authority: Authority::Police,
        requirement: Requirement::Recommended,
        reasons: vec![reason],
        obligations: vec![ObligationSpec::undated(ObligationKind::PoliceReport)],
        sources: Vec::new(),
    })
}

fn ipa_route(facts: &RoutingFacts) -> Option<Route> {
    let reportable = matches!(
        facts.category,
        Category::Ransomware
            | Category::Malware
            | Category::UnauthorizedAccess
            | Category::AccountCompromise
            | Category::SupplyChain
            | Category::WebDefacement
    );
    if !reportable {
        return None;
    }
    let label = category_label(facts.category);
    Some(Route {
        authority: Authority::Ipa,
        requirement: Requirement::Recommended,
        reasons: vec![reason(
            "ipa_reportable_category",
            format!("{}は情報処理推進機構（IPA）へのコンピュータウイルス・不正アクセスの届出をお勧めします", label.ja),
            format!("{} should be reported to IPA (computer virus and unauthorized access reporting)", label.en),
            &[sources::IPA_TODOKEDE],
        )],
        obligations: vec![ObligationSpec::undated(ObligationKind::IpaReport)],
        sources: Vec::new(),
    })
}

fn vendor_route(facts: &RoutingFacts) -> Option<Route> {
    facts.category.is_cyber().then(|| Route {
        authority: Authority::Vendor,
        requirement: Requirement::Recommended,
        reasons: vec![reason(
            "contact_vendor",
            "サイバー攻撃が疑われる場合は、直ちにシステムの保守会社（ベンダー）へ連絡してください（平成30年厚生労働省通知）",
            "When a cyber attack is suspected, contact the system vendor immediately (2018 MHLW notice)",
            &[sources::MHLW_NOTICE_2018],
        )],
        obligations: Vec::new(),
        sources: Vec::new(),
    })
}

/// The health authority follows MHLW: every cyber case, and (the wider reading, since 医療法25条
/// covers care that has stopped) system failures that hit care. Which body it is follows the
/// hospital's municipality.
fn prefecture_route(facts: &RoutingFacts) -> Route {
    let (ja, en) = match &facts.health_authority {
        HealthAuthority::Municipality(name) => (
            format!("医療法第25条に基づき立入検査等を行う{name}（保健所設置市・特別区）の衛生主管部局への連絡をお勧めします"),
            format!("The health department of {name}, which runs its own public health centre and may inspect under Article 25 of the Medical Care Act, should be informed"),
        ),
        HealthAuthority::Prefecture => (
            "医療法第25条に基づき立入検査等を行う都道府県の衛生主管部局への連絡をお勧めします".to_owned(),
            "The prefecture's health department, which may inspect under Article 25 of the Medical Care Act, should be informed".to_owned(),
        ),
        HealthAuthority::PrefectureOrCity => (
            "医療法第25条に基づき立入検査等を行う衛生主管部局（都道府県。保健所設置市では市、東京都特別区では区）への連絡をお勧めします（病院の市区町村コードが未登録です）".to_owned(),
            "The health authority that may inspect under Article 25 of the Medical Care Act (the prefecture; the city where it runs a public health centre; the ward in Tokyo's special wards) should be informed (the hospital's municipality is not on record)".to_owned(),
        ),
    };
    Route {
        authority: Authority::Prefecture,
        requirement: Requirement::Recommended,
        reasons: vec![reason(
            "health_authority_oversight",
            ja,
            en,
            &[sources::MEDICAL_CARE_ACT_25, sources::COMMUNITY_HEALTH_ACT],
        )],
        obligations: Vec::new(),
        sources: Vec::new(),
    }
}

/// One rule of the set, in words, for `GET /rules`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleText {
    /// Stable id; the reasons it produces carry these codes.
    pub id: &'static str,
    pub authority: Authority,
    pub condition_ja: &'static str,
    pub condition_en: &'static str,
    /// What follows: the requirement and the obligations with their days.
    pub outputs: Vec<String>,
    pub sources: Vec<Source>,
}

/// The rule set version and its rules.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleSet {
    pub version: &'static str,
    pub rules: Vec<RuleText>,
}

/// The rules of [`route`], in words, with the configured days.
pub fn rule_set(cfg: &DeadlineConfig) -> RuleSet {
    let rule = |id, authority, ja, en, outputs: Vec<String>, s: &[sources::S]| RuleText {
        id,
        authority,
        condition_ja: ja,
        condition_en: en,
        outputs,
        sources: s.iter().copied().map(src).collect(),
    };
    let ppc_outputs = vec![
        "required".to_owned(),
        format!("ppc_preliminary: target end of day {} (day 1 = day of awareness), reminder day {}", cfg.ppc_preliminary_days, cfg.ppc_preliminary_reminder_day),
        format!(
            "ppc_final: end of day {} ({} when a malicious purpose may be involved); moved to the next open day as the legal deadline when it falls on a Saturday, Sunday, holiday or 12/29-1/3",
            cfg.ppc_final_days, cfg.ppc_final_malicious_days
        ),
        format!("patient_notice: promptly, reminder day {}", cfg.patient_notice_reminder_day),
    ];
    RuleSet {
        version: RULES_VERSION,
        rules: vec![
            rule("cyber_category", Authority::Mhlw,
                "サイバー攻撃（疑いを含む）", "A cyber attack, suspected or confirmed",
                vec!["required".into(), "mhlw_initial: promptly".into()], &[sources::MHLW_GUIDELINE, sources::MHLW_NOTICE_2018]),
            rule("system_failure_care_impact", Authority::Mhlw,
                "診療に影響するシステム障害", "A system failure that affects care",
                vec!["required".into(), "mhlw_initial: promptly".into()], &[sources::MHLW_GUIDELINE]),
            rule("personal_data_inferred", Authority::Ppc,
                "サイバー攻撃で電子カルテ・PACS・検査・薬剤・オーダリングのいずれかが被害を受け、個人データ「なし」に理由がない場合は「おそれ」として扱う",
                "A cyber attack hit emr, pacs, lab, pharmacy or ordering and `none` was stated without a reason: treated as suspected",
                vec!["personal data status: suspected".into()], &[sources::PPC_GUIDELINE, sources::DOMAIN_MD]),
            rule("ppc_report", Authority::Ppc,
                "個人データの漏えい・滅失・毀損（おそれを含む）で、要配慮個人情報、財産的被害のおそれ、不正の目的のおそれ、又は本人の数が基準（行政機関等100人、それ以外1,000人）を超えるもの",
                "Personal data leaked, lost or damaged (or possibly so) and any of: sensitive data, risk of financial damage, possible malicious purpose, more persons than the threshold (100 for 行政機関等, 1,000 otherwise)",
                ppc_outputs, &[sources::APPI_26, sources::APPI_68, sources::APPI_RULES_7, sources::APPI_RULES_8, sources::PPC_LEAK_ACTION]),
            rule("legal_status_unrecorded", Authority::Ppc,
                "病院の法人種別が未登録のときは、より早く報告となる100人の基準を用いる",
                "When the hospital's legal status is not on record, the lower threshold of 100 applies (the reading that reports more)",
                vec!["threshold: 100".into()], &[sources::APPI_68, sources::DOMAIN_MD]),
            rule("encryption_exemption", Authority::Ppc,
                "病院自身による高度な暗号化で保護され、鍵が漏えいしていない場合のみ報告不要。攻撃者による暗号化は保護ではない。ランサムウェア・不正アクセス・アカウント乗っ取り・サプライチェーン攻撃では当番の確認理由の記録が必要",
                "No report only when the hospital's own strong encryption protected the data and the key was not compromised; encryption by an attacker is never protection; for ransomware, unauthorized access, account compromise and supply chain a duty officer must record why",
                vec!["no PPC route".into()], &[sources::PPC_FAQ, sources::APPI_RULES_7]),
            rule("ppc_form", Authority::Ppc,
                "報告フォームの選択：マイナンバーを含むときは特定個人情報の様式、国の行政機関は「行政機関等」、それ以外は「民間事業者・規律移行法人」",
                "The PPC form: My Number form when My Number data is involved; 行政機関等 for hospitals the State runs; otherwise private businesses and designated corporations",
                vec!["reason: ppc_form_*".into()], &[sources::PPC_LEAK_ACTION, sources::MY_NUMBER_ACT, sources::APPI_RULES_8]),
            rule("contractor_breach", Authority::Ppc,
                "委託先で発生した漏えい等は委託元の病院が報告する",
                "A breach at a contractor is reported by the hospital",
                vec!["reason: contractor_breach".into()], &[sources::APPI_26, sources::APPI_RULES_9]),
            rule("cyber_crime", Authority::Police,
                "サイバー攻撃、盗難、内部不正", "A cyber attack, theft or insider misuse",
                vec!["recommended".into(), "police_report: promptly".into()], &[sources::MHLW_GUIDELINE, sources::NPA_CYBER]),
            rule("ipa_reportable_category", Authority::Ipa,
                "ランサムウェア、マルウェア、不正アクセス、アカウント乗っ取り、サプライチェーン攻撃、ウェブサイト改ざん",
                "Ransomware, malware, unauthorized access, account compromise, supply chain or web defacement",
                vec!["recommended".into(), "ipa_report: no deadline".into()], &[sources::IPA_TODOKEDE]),
            rule("contact_vendor", Authority::Vendor,
                "サイバー攻撃の疑い", "A suspected cyber attack",
                vec!["recommended: immediately".into()], &[sources::MHLW_NOTICE_2018]),
            rule("health_authority_oversight", Authority::Prefecture,
                "厚生労働省へ報告する事案（サイバー攻撃、診療に影響するシステム障害）。連絡先は市区町村コードで決まる：保健所設置市・特別区はその市・区、それ以外は都道府県",
                "Whatever is reported to MHLW (cyber attacks, failures that hit care); the body follows the municipality: the city or ward that runs its own public health centre, else the prefecture",
                vec!["recommended".into()], &[sources::MEDICAL_CARE_ACT_25, sources::COMMUNITY_HEALTH_ACT]),
            rule("active_cyber_defence", Authority::Mhlw,
                "能動的サイバー防御法の特別社会基盤事業者（特定機能病院の指定案）へのサイバー攻撃。設定で有効化した場合のみ（既定は無効）",
                "A cyber attack on an advanced treatment hospital as a designated operator under the Active Cyber Defence law; only when switched on (off by default)",
                vec!["acd_report: promptly".into()], &[sources::ACD_ACT]),
        ],
    }
}

/// How a category reads inside a reason sentence.
struct Label {
    ja: &'static str,
    en: &'static str,
}

fn category_label(category: Category) -> Label {
    let (ja, en) = match category {
        Category::Ransomware => ("ランサムウェア被害", "A ransomware attack"),
        Category::UnauthorizedAccess => ("不正アクセス", "Unauthorized access"),
        Category::Malware => ("マルウェア感染", "A malware infection"),
        Category::Dos => ("DoS攻撃", "A denial-of-service attack"),
        Category::SupplyChain => ("委託先等を経由した攻撃", "An attack through a vendor or contractor"),
        Category::WebDefacement => ("Webサイトの改ざん", "Website defacement"),
        Category::AccountCompromise => ("アカウントの乗っ取り", "An account compromise"),
        Category::Misdelivery => ("誤送付", "Misdelivery"),
        Category::LostMedia => ("記録媒体等の紛失", "Loss of media"),
        Category::Theft => ("盗難", "Theft"),
        Category::InsiderMisuse => ("内部不正", "Insider misuse"),
        Category::SystemFailure => ("システム障害", "A system failure"),
        Category::Other => ("その他の事案", "The incident"),
    };
    Label { ja, en }
}

#[cfg(test)]
mod tests;
