//! One vocabulary: the Japanese and English names of every enumeration, served to the web UI by
//! `GET /vocabulary` and used by e-mails, reports and CSV headers, so that one value reads the same
//! everywhere.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::ioc::IocType;
use super::{
    AffectedSystem, AttackVector, Authority, Availability, CareImpact, Category, Channel, DataMedium, DiscoveredBy,
    DispatchStatus, EntryTechnique, IncidentStatus, LegalStatus, Locale, Milestone, NotificationStatus, ObligationKind,
    OfflineBackup, PersonalDataStatus, RansomResponse, RansomwareKind, RegionalRole, ReportedVia, Requirement, Role,
    Severity, Skill, SupportMode, Tlp, UpdateKind,
};
use super::{CampaignStatus, ChecklistItem, ChecklistState, LinkKind, RemoteAccessKind};
use super::{MessageChannel, MessageDirection, MessageParty, SenderCheck};

/// Japanese and English display names of an enumeration value.
pub trait Label: Copy {
    /// Japanese name.
    fn label_ja(self) -> &'static str;
    /// English name.
    fn label_en(self) -> &'static str;
    /// The name in `locale`.
    fn label(self, locale: Locale) -> &'static str {
        match locale {
            Locale::Ja => self.label_ja(),
            Locale::En => self.label_en(),
        }
    }
}

macro_rules! labels {
    ($ty:ident { $($variant:ident => ($ja:literal, $en:literal)),+ $(,)? }) => {
        impl Label for $ty {
            fn label_ja(self) -> &'static str {
                match self { $($ty::$variant => $ja),+ }
            }
            fn label_en(self) -> &'static str {
                match self { $($ty::$variant => $en),+ }
            }
        }
    };
}

labels!(Category {
    Ransomware => ("ランサムウェア", "Ransomware"),
    UnauthorizedAccess => ("不正アクセス", "Unauthorized access"),
    Malware => ("マルウェア感染", "Malware infection"),
    Dos => ("DoS攻撃（サービス妨害）", "Denial of service"),
    SupplyChain => ("サプライチェーン攻撃（委託先経由）", "Supply-chain attack (via a vendor)"),
    WebDefacement => ("ウェブサイト改ざん", "Website defacement"),
    AccountCompromise => ("アカウント乗っ取り", "Account compromise"),
    Misdelivery => ("誤送信・誤送付", "Misdelivery"),
    LostMedia => ("記録媒体の紛失", "Lost media"),
    Theft => ("盗難", "Theft"),
    InsiderMisuse => ("内部不正", "Insider misuse"),
    SystemFailure => ("システム障害", "System failure"),
    Other => ("その他", "Other"),
});

labels!(CareImpact {
    None => ("影響なし", "No impact"),
    Partial => ("一部の診療に影響", "Partial impact"),
    OutpatientSuspended => ("外来診療を停止", "Outpatient care suspended"),
    EmergencySuspended => ("救急受入を停止", "Emergency admissions suspended"),
    FullSuspension => ("診療を全面停止", "All care suspended"),
});

labels!(AttackVector {
    Vpn => ("VPN機器", "VPN appliance"),
    Rdp => ("リモートデスクトップ（RDP）", "Remote desktop (RDP)"),
    VendorRemoteMaintenance => ("保守業者のリモート保守回線", "Vendor remote-maintenance line"),
    Email => ("電子メール", "E-mail"),
    Web => ("ウェブ", "Web"),
    Usb => ("USB等の外部記録媒体", "USB or other removable media"),
    Insider => ("内部関係者", "Insider"),
    Unknown => ("不明（調査中）", "Unknown (under investigation)"),
    Other => ("その他", "Other"),
});

labels!(IocType {
    Ipv4 => ("IPv4アドレス", "IPv4 address"),
    Ipv6 => ("IPv6アドレス", "IPv6 address"),
    DomainName => ("ドメイン名", "Domain name"),
    Url => ("URL", "URL"),
    EmailAddr => ("メールアドレス", "E-mail address"),
    MacAddr => ("MACアドレス", "MAC address"),
    AutonomousSystem => ("AS番号", "Autonomous system number"),
    FileSha256 => ("ファイルのSHA-256ハッシュ", "File SHA-256 hash"),
    FileSha1 => ("ファイルのSHA-1ハッシュ", "File SHA-1 hash"),
    FileMd5 => ("ファイルのMD5ハッシュ", "File MD5 hash"),
    FileName => ("ファイル名", "File name"),
    WindowsRegistryKey => ("Windowsレジストリキー", "Windows registry key"),
    X509Certificate => ("X.509証明書（フィンガープリント）", "X.509 certificate (fingerprint)"),
    Other => ("その他", "Other"),
});

labels!(AffectedSystem {
    Emr => ("電子カルテ", "Electronic medical records"),
    Ordering => ("オーダリング", "Order entry"),
    Pacs => ("医用画像（PACS）", "Imaging (PACS)"),
    Lab => ("検査システム", "Laboratory system"),
    Pharmacy => ("薬剤システム", "Pharmacy system"),
    Billing => ("医事会計", "Billing"),
    NurseCall => ("ナースコール", "Nurse call"),
    Network => ("院内ネットワーク", "Hospital network"),
    Email => ("電子メール", "E-mail"),
    Website => ("ウェブサイト", "Website"),
    Other => ("その他", "Other"),
});

labels!(PersonalDataStatus {
    None => ("漏えい等なし", "No personal data involved"),
    Suspected => ("漏えい等のおそれ", "Leak, loss or damage suspected"),
    Confirmed => ("漏えい等を確認", "Leak, loss or damage confirmed"),
});

labels!(OfflineBackup {
    Intact => ("無事", "Intact"),
    Affected => ("被害あり", "Affected"),
    None => ("なし", "None"),
    Unknown => ("不明", "Unknown"),
});

labels!(Authority {
    Mhlw => ("厚生労働省", "Ministry of Health, Labour and Welfare (MHLW)"),
    Ppc => ("個人情報保護委員会", "Personal Information Protection Commission (PPC)"),
    Police => ("警察", "Police"),
    Ipa => ("情報処理推進機構（IPA）", "Information-technology Promotion Agency (IPA)"),
    Vendor => ("保守ベンダー", "Vendor"),
    Prefecture => ("都道府県", "Prefectural government"),
});

labels!(ObligationKind {
    MhlwInitial => ("厚生労働省への第一報", "Initial report to MHLW"),
    PoliceReport => ("警察への通報・相談", "Report to the police"),
    IpaReport => ("IPAへの届出", "Report to IPA"),
    PpcPreliminary => ("個人情報保護委員会への速報", "Preliminary report to the PPC"),
    PpcFinal => ("個人情報保護委員会への確報", "Final report to the PPC"),
    PatientNotice => ("本人（患者）への通知", "Notice to affected patients"),
    AcdReport => ("能動的サイバー防御法に基づく被害報告", "Report under the Active Cyber Defence law"),
});

labels!(Milestone {
    EmrRestored => ("電子カルテ復旧", "EMR restored"),
    EmergencyAccepting => ("救急受入再開", "Emergency admissions resumed"),
    NewOutpatientsAccepting => ("新規外来受入再開", "New outpatients accepted again"),
    FullyNormal => ("通常診療に復帰", "Fully normal operation"),
    ReportPublished => ("調査報告書の公表", "Investigation report published"),
});

labels!(DispatchStatus {
    Assigned => ("派遣決定", "Assigned"),
    Accepted => ("受諾", "Accepted"),
    EnRoute => ("移動中", "En route"),
    OnSite => ("現地到着", "On site"),
    Released => ("支援終了", "Released"),
    Declined => ("辞退", "Declined"),
    Cancelled => ("取消", "Cancelled"),
});

labels!(IncidentStatus {
    Reported => ("報告済み", "Reported"),
    Triaged => ("初期評価済み", "Triaged"),
    Responding => ("対応中", "Responding"),
    Recovering => ("復旧中", "Recovering"),
    Recovered => ("復旧完了", "Recovered"),
    Closed => ("終結", "Closed"),
    Withdrawn => ("取下げ（誤報）", "Withdrawn (false alarm)"),
});

labels!(RansomwareKind {
    Encryption => ("暗号化", "Encryption"),
    LeakThreat => ("情報公開の脅迫", "Leak threat"),
    RansomDemand => ("身代金要求", "Ransom demand"),
});

labels!(SupportMode {
    Remote => ("リモート支援", "Remote support"),
    OnSite => ("現地支援", "On-site support"),
});

labels!(Requirement {
    Required => ("必須", "Required"),
    Recommended => ("推奨", "Recommended"),
});

labels!(LegalStatus {
    Private => ("民間（医療法人・学校法人・社会福祉法人・個人等）", "Private (medical corporation, school, social welfare corporation, individual)"),
    DesignatedCorporation => ("規律移行法人（国立病院機構・JCHO・国立大学法人等）", "Designated corporation (NHO, JCHO, national university, NC)"),
    LocalIaa => ("地方独立行政法人", "Local incorporated administrative agency"),
    LocalGovernment => ("地方公共団体（都道府県立・市町村立・一部事務組合）", "Local government (prefectural, municipal)"),
    NationalGovernment => ("国の行政機関（国立療養所・自衛隊病院等）", "National government (run by the State itself)"),
});

labels!(DiscoveredBy {
    Staff => ("職員", "Staff"),
    Vendor => ("保守ベンダー", "Vendor"),
    Monitoring => ("監視・検知システム", "Monitoring"),
    OutsideNotice => ("外部からの通報", "Notice from outside"),
    AttackerNotice => ("攻撃者からの連絡（脅迫文等）", "Notice from the attacker (ransom note etc.)"),
    Patient => ("患者", "Patient"),
    Other => ("その他", "Other"),
});

labels!(EntryTechnique {
    Vulnerability => ("脆弱性の悪用", "Exploited vulnerability"),
    StolenCredentials => ("窃取された認証情報", "Stolen credentials"),
    Phishing => ("フィッシング", "Phishing"),
    BruteForce => ("総当たり攻撃", "Brute force"),
    Misconfiguration => ("設定不備", "Misconfiguration"),
    Unknown => ("不明（調査中）", "Unknown (under investigation)"),
    Other => ("その他", "Other"),
});

labels!(Tlp {
    Clear => ("TLP:CLEAR（公開可）", "TLP:CLEAR (no limit)"),
    Green => ("TLP:GREEN（コミュニティ内）", "TLP:GREEN (the community)"),
    Amber => ("TLP:AMBER（組織内と顧客）", "TLP:AMBER (the organisation and its clients)"),
    AmberStrict => ("TLP:AMBER+STRICT（組織内のみ）", "TLP:AMBER+STRICT (the organisation only)"),
    Red => ("TLP:RED（受領者のみ）", "TLP:RED (the recipients only)"),
});

labels!(RansomResponse {
    NotPaid => ("支払っていない", "Not paid"),
    Undecided => ("未定", "Undecided"),
    Unknown => ("不明", "Unknown"),
});

labels!(DataMedium {
    Electronic => ("電子データ", "Electronic"),
    Paper => ("紙媒体", "Paper"),
    Both => ("電子データ及び紙媒体", "Electronic and paper"),
});

labels!(Severity {
    Low => ("低", "Low"),
    Moderate => ("中", "Moderate"),
    High => ("高", "High"),
    Critical => ("緊急", "Critical"),
});

labels!(RegionalRole {
    DisasterBase => ("災害拠点病院", "Disaster base hospital"),
    RemoteAreaBase => ("へき地医療拠点病院", "Remote-area base hospital"),
    EmergencyCenter => ("救命救急センター", "Emergency and critical care centre"),
    PerinatalCenter => ("周産期母子医療センター", "Perinatal centre"),
    AdvancedTreatment => ("特定機能病院", "Advanced treatment hospital"),
});

labels!(NotificationStatus {
    Pending => ("送信待ち", "Pending"),
    Sent => ("送信済み", "Sent"),
    Failed => ("再送待ち", "Failed (will retry)"),
    Dead => ("送信不能", "Undeliverable"),
});

labels!(Channel {
    Email => ("電子メール", "E-mail"),
    Manual => ("ウェブフォーム等（手動）", "Web form or other manual channel"),
});

labels!(UpdateKind {
    Note => ("メモ", "Note"),
    StatusReport => ("状況報告", "Status report"),
    StatusChange => ("状態変更", "Status change"),
    SeverityChange => ("重大度変更", "Severity change"),
    Milestone => ("マイルストーン", "Milestone"),
    Filed => ("報告受付", "Filed"),
    FactsChanged => ("事実の変更", "Facts changed"),
    Support => ("支援要請", "Support"),
    Dispatch => ("派遣", "Dispatch"),
    Obligation => ("報告義務", "Obligation"),
    Notification => ("通知", "Notification"),
    DeadlineChanged => ("期限の再計算", "Deadline recomputed"),
    Message => ("連絡（メール・電話）", "Correspondence (e-mail, phone)"),
});

labels!(MessageChannel {
    Email => ("電子メール", "E-mail"),
    Phone => ("電話", "Phone"),
});

labels!(MessageDirection {
    In => ("受信", "Received"),
    Out => ("送信", "Sent"),
});

labels!(SenderCheck {
    Pass => ("差出人の認証: 成功", "Sender authenticated"),
    Fail => ("差出人の認証: 失敗（なりすましの疑い）", "Sender authentication failed (possibly forged)"),
    Unknown => ("差出人の認証: 不明", "Sender not authenticated"),
});

labels!(MessageParty {
    Contact => ("関係機関", "Authority"),
    Hospital => ("医療機関", "Hospital"),
    Ministry => ("厚生労働省", "Ministry"),
    Known => ("登録済みの差出人（この事案の関係者ではない）", "Known sender (not a party to this incident)"),
    Unknown => ("未登録の差出人", "Unknown sender"),
});

labels!(RemoteAccessKind {
    Vpn => ("VPN装置", "VPN appliance"),
    RemoteDesktop => ("リモートデスクトップ", "Remote desktop"),
    Maintenance => ("保守用接続（リモート保守）", "Maintenance connection"),
    Other => ("その他の外部接続", "Other remote access"),
});

labels!(ChecklistItem {
    ContactChart => ("インシデント発生時の連絡体制図", "Incident contact chart"),
    OfflineBackup => ("オフラインバックアップ", "Offline backup"),
    Bcp => ("サイバー攻撃を想定したBCP", "BCP for a cyber attack"),
    ExternalConnections => ("外部接続先の把握", "All outside connections known"),
    TwoFactor => ("二要素認証", "Two-factor authentication"),
});

labels!(ChecklistState {
    Done => ("事案の前から実施", "In place before the incident"),
    NotDone => ("未実施（または事案の後に実施）", "Not in place (or only afterwards)"),
    Unknown => ("記録なし", "Not on record"),
});

labels!(CampaignStatus {
    Proposed => ("提案（未確認）", "Proposed"),
    Confirmed => ("確認済み", "Confirmed"),
    Dismissed => ("却下", "Dismissed"),
});

labels!(LinkKind {
    Ioc => ("共通の侵害指標（IoC）", "Shared indicator (IoC)"),
    Cve => ("共通の脆弱性（CVE）", "Shared vulnerability (CVE)"),
    Product => ("共通のリモート接続製品", "Shared remote-access product"),
    Family => ("同じランサムウェア", "Same ransomware family"),
});

labels!(Role {
    Reporter => ("医療機関 報告者", "Hospital reporter"),
    DutyOfficer => ("当番", "Duty officer"),
    Responder => ("初動対応専門家", "Responder"),
    Liaison => ("関係機関 連絡担当", "Liaison"),
    Admin => ("管理者", "Administrator"),
});

labels!(Skill {
    Forensics => ("フォレンジック", "Forensics"),
    Network => ("ネットワーク", "Network"),
    ActiveDirectory => ("Active Directory", "Active Directory"),
    BackupRestore => ("バックアップ復元", "Backup restore"),
    EmrVendorLiaison => ("電子カルテ事業者との調整", "EMR vendor liaison"),
    Communications => ("広報・連絡", "Communications"),
});

labels!(Availability {
    OnCall => ("待機", "On call"),
    Available => ("対応可", "Available"),
    Busy => ("対応中", "Busy"),
    Off => ("不在", "Off"),
});

labels!(ReportedVia {
    Web => ("Web", "Web"),
    Phone => ("電話", "Phone"),
});

/// Vocabularies that are strings of the API rather than enumerations of the domain.
const SUPPORT_STATUS: &[(&str, &str, &str)] =
    &[("pending", "承認待ち", "Pending"), ("approved", "承認済み", "Approved"), ("declined", "却下", "Declined")];
const NOTIFICATION_KIND: &[(&str, &str, &str)] = &[
    ("authority_report", "関係機関への報告", "Report to an authority"),
    ("reminder", "期限のお知らせ（医療機関宛）", "Deadline reminder (to the hospital)"),
    ("overdue", "期限超過のお知らせ（医療機関宛）", "Overdue notice (to the hospital)"),
    ("dead_letter", "送信不能の通知（当番宛）", "Undeliverable alert (to duty officers)"),
    ("support_decision", "支援の判断（医療機関宛）", "Support decision (to the hospital)"),
    ("dispatch_assigned", "派遣依頼（専門家宛）", "Dispatch (to responders)"),
    ("dispatch_status", "派遣状況（医療機関宛）", "Dispatch status (to the hospital)"),
    ("webhook", "連携先システムへのイベント通知（Webhook）", "Event to a subscribed system (webhook)"),
    ("message", "連絡（事案についてのメール）", "Correspondence (an e-mail about the incident)"),
    ("advisory", "注意喚起（医療機関宛）", "Advisory (to hospitals)"),
    ("campaign", "キャンペーン検知（当番宛）", "Campaign detected (to duty officers)"),
];
/// Why an inbound e-mail waits in the officers' inbox (`domain::correspondence::place`).
const INBOX_REASON: &[(&str, &str, &str)] = &[
    ("no_match", "どの事案にも結び付かないメール", "Matches no incident"),
    (
        "sender_not_party",
        "差出人がその事案の関係者ではないメール",
        "The sender is not a party to the incident it names",
    ),
    (
        "sender_unverified",
        "差出人の認証に失敗したメール（なりすましの疑い）",
        "The receiving server found the sender forged",
    ),
    (
        "unverified_subject_match",
        "件名の参照番号だけで結び付き、差出人を確認できないメール",
        "Names an incident in its subject only, and its sender could not be verified",
    ),
];
/// The names of the triage priority's factors (`domain::priority`).
const PRIORITY_FACTOR: &[(&str, &str, &str)] = &[
    ("care_impact", "診療への影響", "Impact on care"),
    ("regional_role", "地域の役割", "Regional role"),
    ("beds", "病床数", "Beds"),
    ("ransomware", "ランサムウェア", "Ransomware"),
    ("offline_backup", "オフラインバックアップ", "Offline backup"),
    ("personal_data", "個人情報", "Personal data"),
    ("untriaged_hours", "未トリアージの経過時間", "Hours untriaged"),
    ("overdue_obligations", "期限超過の報告義務", "Overdue obligations"),
];
const STATS_GROUP: &[(&str, &str, &str)] = &[
    ("category", "種別", "Category"),
    ("prefecture", "都道府県", "Prefecture"),
    ("bed_band", "病床規模", "Bed band"),
    ("month", "月", "Month"),
    ("checklist", "チェックリスト項目の実施状況", "Checklist item state"),
];

/// One value and its display names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Term {
    pub value: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
}

fn terms<T: Label + Copy>(all: &[T], code: impl Fn(T) -> &'static str) -> Vec<Term> {
    all.iter().map(|v| Term { value: code(*v), ja: v.label_ja(), en: v.label_en() }).collect()
}

fn listed(table: &[(&'static str, &'static str, &'static str)]) -> Vec<Term> {
    table.iter().map(|(value, ja, en)| Term { value, ja, en }).collect()
}

/// Every enumeration's labels by name, each a list in the order of the enumeration (ordered ones,
/// such as care impact and severity, read from least to most): the one source for the web UI,
/// e-mails, reports and CSV headers.
pub fn vocabulary() -> BTreeMap<&'static str, Vec<Term>> {
    let mut v = BTreeMap::new();
    v.insert("category", terms(Category::ALL, Category::as_str));
    v.insert("care_impact", terms(CareImpact::ALL, CareImpact::as_str));
    v.insert("attack_vector", terms(AttackVector::ALL, AttackVector::as_str));
    v.insert("affected_system", terms(AffectedSystem::ALL, AffectedSystem::as_str));
    v.insert("personal_data_status", terms(PersonalDataStatus::ALL, PersonalDataStatus::as_str));
    v.insert("offline_backup", terms(OfflineBackup::ALL, OfflineBackup::as_str));
    v.insert("authority", terms(Authority::ALL, Authority::as_str));
    v.insert("obligation_kind", terms(ObligationKind::ALL, ObligationKind::as_str));
    v.insert("milestone", terms(Milestone::ALL, Milestone::as_str));
    v.insert("dispatch_status", terms(DispatchStatus::ALL, DispatchStatus::as_str));
    v.insert("incident_status", terms(IncidentStatus::ALL, IncidentStatus::as_str));
    v.insert("ransomware_kind", terms(RansomwareKind::ALL, RansomwareKind::as_str));
    v.insert("ioc_type", terms(IocType::ALL, IocType::as_str));
    v.insert("tlp", terms(Tlp::ALL, Tlp::as_str));
    v.insert("support_mode", terms(SupportMode::ALL, SupportMode::as_str));
    v.insert("requirement", terms(Requirement::ALL, Requirement::as_str));
    v.insert("legal_status", terms(LegalStatus::ALL, LegalStatus::as_str));
    v.insert("discovered_by", terms(DiscoveredBy::ALL, DiscoveredBy::as_str));
    v.insert("entry_technique", terms(EntryTechnique::ALL, EntryTechnique::as_str));
    v.insert("ransom_response", terms(RansomResponse::ALL, RansomResponse::as_str));
    v.insert("data_medium", terms(DataMedium::ALL, DataMedium::as_str));
    v.insert("severity", terms(Severity::ALL, Severity::as_str));
    v.insert("regional_role", terms(RegionalRole::ALL, RegionalRole::as_str));
    v.insert("notification_status", terms(NotificationStatus::ALL, NotificationStatus::as_str));
    v.insert("channel", terms(Channel::ALL, Channel::as_str));
    v.insert("update_kind", terms(UpdateKind::ALL, UpdateKind::as_str));
    v.insert("message_channel", terms(MessageChannel::ALL, MessageChannel::as_str));
    v.insert("message_direction", terms(MessageDirection::ALL, MessageDirection::as_str));
    v.insert("message_party", terms(MessageParty::ALL, MessageParty::as_str));
    v.insert("inbox_reason", listed(INBOX_REASON));
    v.insert("sender_check", terms(SenderCheck::ALL, SenderCheck::as_str));
    v.insert("role", terms(Role::ALL, Role::as_str));
    v.insert("remote_access_kind", terms(RemoteAccessKind::ALL, RemoteAccessKind::as_str));
    v.insert("checklist_item", terms(ChecklistItem::ALL, ChecklistItem::as_str));
    v.insert("checklist_state", terms(ChecklistState::ALL, ChecklistState::as_str));
    v.insert("campaign_status", terms(CampaignStatus::ALL, CampaignStatus::as_str));
    v.insert("campaign_link", terms(LinkKind::ALL, LinkKind::as_str));
    v.insert("skill", terms(Skill::ALL, Skill::as_str));
    v.insert("availability", terms(Availability::ALL, Availability::as_str));
    v.insert("reported_via", terms(ReportedVia::ALL, ReportedVia::as_str));
    v.insert("support_status", listed(SUPPORT_STATUS));
    v.insert("notification_kind", listed(NOTIFICATION_KIND));
    v.insert("priority_factor", listed(PRIORITY_FACTOR));
    v.insert("stats_group", listed(STATS_GROUP));
    v
}

/// The Japanese label of `value` in the vocabulary `name`, if both exist.
pub fn label_ja(name: &str, value: &str) -> Option<&'static str> {
    vocabulary().get(name)?.iter().find(|t| t.value == value).map(|t| t.ja)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_of_every_enumeration_has_non_empty_names_once() {
        for (name, terms) in vocabulary() {
            assert!(!terms.is_empty(), "{name}");
            let mut values: Vec<&str> = terms.iter().map(|t| t.value).collect();
            values.sort_unstable();
            values.dedup();
            assert_eq!(values.len(), terms.len(), "{name} lists a value twice");
            for t in terms {
                assert!(!t.ja.is_empty() && !t.en.is_empty(), "{name}.{}", t.value);
            }
        }
    }

    #[test]
    fn ordered_enumerations_keep_their_order() {
        let v = vocabulary();
        let values = |name: &str| v[name].iter().map(|t| t.value).collect::<Vec<_>>();
        assert_eq!(
            values("care_impact"),
            ["none", "partial", "outpatient_suspended", "emergency_suspended", "full_suspension"]
        );
        assert_eq!(values("severity"), ["low", "moderate", "high", "critical"]);
    }

    #[test]
    fn one_status_reads_the_same_everywhere() {
        // The screen said 報告済み and the e-mail 報告受付 for the same status (issue 15).
        assert_eq!(label_ja("incident_status", "reported"), Some(IncidentStatus::Reported.label_ja()));
        assert_eq!(label_ja("incident_status", "reported"), Some("報告済み"));
    }

    /// The web UI and the e-mail templates carry no labels of their own: they read this vocabulary
    /// (the UI through `GET /vocabulary`).
    #[test]
    fn neither_the_web_ui_nor_the_templates_carry_a_label_of_their_own() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let templates = std::fs::read_to_string(root.join("src/domain/letters.rs")).expect("letters");
        assert!(
            !templates.contains("impl Label for") && !templates.contains("labels!("),
            "templates label enumerations themselves"
        );
        // The e-mail templates only lay out a letter: no word of Japanese (kana or kanji; the list mark
        // ・ is layout) of their own.
        for name in ["letter.txt", "letter.html"] {
            let t = std::fs::read_to_string(root.join("templates").join(name)).expect("template");
            let own = t.chars().find(|c| matches!(u32::from(*c), 0x3041..=0x30fa | 0x4e00..=0x9fff));
            assert_eq!(own, None, "templates/{name} carries words of its own");
        }
        let i18n = std::fs::read_to_string(root.join("web/static/i18n.js")).expect("i18n.js");
        assert!(i18n.contains("/api/v1/vocabulary"), "the UI loads the vocabulary");
        for entry in std::fs::read_dir(root.join("web/static")).expect("web/static") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "js") {
                let js = std::fs::read_to_string(&path).expect("js");
                // A label table of its own: a value mapped to a `['日本語', 'English']` pair.
                for (at, _) in js.match_indices(": ['") {
                    let next = js[at + 4..].chars().next().unwrap_or(' ');
                    assert!(
                        next.is_ascii(),
                        "{} carries a label pair of its own: {}",
                        path.display(),
                        &js[at..(at + 40).min(js.len())]
                    );
                }
            }
        }
    }
}
