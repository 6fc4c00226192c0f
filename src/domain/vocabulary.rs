//! One vocabulary: the Japanese and English names of every enumeration, served to the web UI by
//! `GET /vocabulary` and used by e-mails, reports and CSV headers, so that one value reads the same
//! everywhere.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::{
    AffectedSystem, AttackVector, Authority, CareImpact, Category, Channel, DataMedium, DiscoveredBy, DispatchStatus,
    EntryTechnique, IncidentStatus, LegalStatus, Locale, Milestone, NotificationStatus, ObligationKind, OfflineBackup,
    PersonalDataStatus, RansomResponse, RansomwareKind, RegionalRole, Requirement, Severity, SupportMode, UpdateKind,
};

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
});

/// One value's display names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Names {
    pub ja: &'static str,
    pub en: &'static str,
}

fn entries<T: Label + Copy>(all: &[T], code: impl Fn(T) -> &'static str) -> BTreeMap<&'static str, Names> {
    all.iter().map(|v| (code(*v), Names { ja: v.label_ja(), en: v.label_en() })).collect()
}

/// Every enumeration's labels by name and value: the one source for the web UI, e-mails, reports
/// and CSV headers.
pub fn vocabulary() -> BTreeMap<&'static str, BTreeMap<&'static str, Names>> {
    let mut v = BTreeMap::new();
    v.insert("category", entries(Category::ALL, Category::as_str));
    v.insert("care_impact", entries(CareImpact::ALL, CareImpact::as_str));
    v.insert("attack_vector", entries(AttackVector::ALL, AttackVector::as_str));
    v.insert("affected_system", entries(AffectedSystem::ALL, AffectedSystem::as_str));
    v.insert("personal_data_status", entries(PersonalDataStatus::ALL, PersonalDataStatus::as_str));
    v.insert("offline_backup", entries(OfflineBackup::ALL, OfflineBackup::as_str));
    v.insert("authority", entries(Authority::ALL, Authority::as_str));
    v.insert("obligation_kind", entries(ObligationKind::ALL, ObligationKind::as_str));
    v.insert("milestone", entries(Milestone::ALL, Milestone::as_str));
    v.insert("dispatch_status", entries(DispatchStatus::ALL, DispatchStatus::as_str));
    v.insert("incident_status", entries(IncidentStatus::ALL, IncidentStatus::as_str));
    v.insert("ransomware_kind", entries(RansomwareKind::ALL, RansomwareKind::as_str));
    v.insert("support_mode", entries(SupportMode::ALL, SupportMode::as_str));
    v.insert("requirement", entries(Requirement::ALL, Requirement::as_str));
    v.insert("legal_status", entries(LegalStatus::ALL, LegalStatus::as_str));
    v.insert("discovered_by", entries(DiscoveredBy::ALL, DiscoveredBy::as_str));
    v.insert("entry_technique", entries(EntryTechnique::ALL, EntryTechnique::as_str));
    v.insert("ransom_response", entries(RansomResponse::ALL, RansomResponse::as_str));
    v.insert("data_medium", entries(DataMedium::ALL, DataMedium::as_str));
    v.insert("severity", entries(Severity::ALL, Severity::as_str));
    v.insert("regional_role", entries(RegionalRole::ALL, RegionalRole::as_str));
    v.insert("notification_status", entries(NotificationStatus::ALL, NotificationStatus::as_str));
    v.insert("channel", entries(Channel::ALL, Channel::as_str));
    v.insert("update_kind", entries(UpdateKind::ALL, UpdateKind::as_str));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_of_every_enumeration_has_two_distinct_non_empty_names() {
        for (name, values) in vocabulary() {
            assert!(!values.is_empty(), "{name}");
            for (code, n) in values {
                assert!(!n.ja.is_empty() && !n.en.is_empty(), "{name}.{code}");
            }
        }
    }

    #[test]
    fn one_status_reads_the_same_everywhere() {
        // The screen said 報告済み and the e-mail 報告受付 for the same status (issue 15).
        assert_eq!(vocabulary()["incident_status"]["reported"].ja, IncidentStatus::Reported.label_ja());
    }
}
