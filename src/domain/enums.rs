//! The closed vocabularies of the domain: every enumeration the API, the database and the rules share.
//!
//! Each is a lower-case snake_case string on the wire and in the database (DESIGN.md conventions).

/// Declares a string-valued enumeration with `as_str`, `parse`, `ALL`, serde and OpenAPI support.
/// Database mapping is added separately in `db::types` so that the domain stays free of SQL.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The wire and database spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Parses the wire spelling; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::parse(s).ok_or_else(|| {
                    let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("must be one of: {}", all.join(", "))
                })
            }
        }
    };
}

text_enum! {
    /// What kind of body an organisation is.
    pub enum OrgKind { Hospital = "hospital", Ministry = "ministry", ResponderTeam = "responder_team", Authority = "authority" }
}

text_enum! {
    /// A user's role (DESIGN.md "Roles").
    pub enum Role { Reporter = "reporter", DutyOfficer = "duty_officer", Responder = "responder", Liaison = "liaison", Admin = "admin" }
}

text_enum! {
    /// A hospital's regional role in care provision (DOMAIN.md §3).
    pub enum RegionalRole {
        /// 災害拠点病院
        DisasterBase = "disaster_base",
        /// へき地医療拠点病院
        RemoteAreaBase = "remote_area_base",
        /// 救命救急センター
        EmergencyCenter = "emergency_center",
        /// 周産期母子医療センター
        PerinatalCenter = "perinatal_center",
        /// 特定機能病院
        AdvancedTreatment = "advanced_treatment",
    }
}

text_enum! {
    /// What a webhook subscription is told about (DESIGN.md version 2).
    pub enum WebhookEvent {
        IncidentFiled = "incident.filed",
        IncidentUpdated = "incident.updated",
        ObligationOverdue = "obligation.overdue",
        NotificationDead = "notification.dead",
        DispatchUpdated = "dispatch.updated",
        /// A campaign was proposed, or an incident joined one (officers' and admins' subscriptions only).
        CampaignDetected = "campaign.detected",
    }
}

text_enum! {
    /// The Traffic Light Protocol 2.0 marking of what is shared about an incident (FIRST TLP 2.0).
    pub enum Tlp { Clear = "clear", Green = "green", Amber = "amber", AmberStrict = "amber+strict", Red = "red" }
}

text_enum! {
    /// A hospital's legal status under the APPI (DOMAIN.md 2.3). Only hospitals the State runs itself
    /// are 行政機関等 (Art. 68, threshold 100 persons); every other status follows Art. 26 (1,000).
    pub enum LegalStatus {
        /// 医療法人, 学校法人, 社会福祉法人, individuals.
        Private = "private",
        /// 別表第二 bodies: NHO, JCHO, 国立大学法人, 国立研究開発法人 (Art. 58 → Art. 26).
        DesignatedCorporation = "designated_corporation",
        /// 地方独立行政法人 (Art. 2(11)(iv) excludes them from 行政機関等 → Art. 26).
        LocalIaa = "local_iaa",
        /// 都道府県立, 市町村立, 一部事務組合 hospitals (Art. 58(2)(i) → Art. 26).
        LocalGovernment = "local_government",
        /// Hospitals the State runs itself: 国立療養所, 自衛隊病院, 防衛医大病院 (Art. 68).
        NationalGovernment = "national_government",
    }
}

impl LegalStatus {
    /// True for 行政機関等, which report under Art. 68 on the administrative-organ form.
    pub fn is_administrative_organ(self) -> bool {
        self == LegalStatus::NationalGovernment
    }
}

text_enum! {
    /// Who or what found the incident (PPC report item 1: how it was found).
    pub enum DiscoveredBy {
        Staff = "staff", Vendor = "vendor", Monitoring = "monitoring", OutsideNotice = "outside_notice",
        AttackerNotice = "attacker_notice", Patient = "patient", Other = "other",
    }
}

text_enum! {
    /// The technique of entry, apart from the device (NCO common format).
    pub enum EntryTechnique {
        Vulnerability = "vulnerability", StolenCredentials = "stolen_credentials", Phishing = "phishing",
        BruteForce = "brute_force", Misconfiguration = "misconfiguration", Unknown = "unknown", Other = "other",
    }
}

text_enum! {
    /// What the hospital recorded about a ransom. Nothing is said in a report unless recorded.
    pub enum RansomResponse { NotPaid = "not_paid", Undecided = "undecided", Unknown = "unknown" }
}

text_enum! {
    /// The medium of the affected personal data (PPC report item 2).
    pub enum DataMedium { Electronic = "electronic", Paper = "paper", Both = "both" }
}

text_enum! {
    /// Incident category (DOMAIN.md §2).
    pub enum Category {
        Ransomware = "ransomware",
        UnauthorizedAccess = "unauthorized_access",
        Malware = "malware",
        Dos = "dos",
        SupplyChain = "supply_chain",
        WebDefacement = "web_defacement",
        AccountCompromise = "account_compromise",
        Misdelivery = "misdelivery",
        LostMedia = "lost_media",
        Theft = "theft",
        InsiderMisuse = "insider_misuse",
        SystemFailure = "system_failure",
        Other = "other",
    }
}

impl Category {
    /// The cyber categories: suspicion of any of these is reported to MHLW and the police.
    pub fn is_cyber(self) -> bool {
        matches!(
            self,
            Category::Ransomware
                | Category::UnauthorizedAccess
                | Category::Malware
                | Category::Dos
                | Category::SupplyChain
                | Category::WebDefacement
                | Category::AccountCompromise
        )
    }

    /// Categories whose purpose is malicious (PPC: every cyber category, theft, insider misuse).
    pub fn is_malicious(self) -> bool {
        self.is_cyber() || matches!(self, Category::Theft | Category::InsiderMisuse)
    }
}

text_enum! {
    /// How the attacker got in.
    pub enum AttackVector {
        Vpn = "vpn", Rdp = "rdp", VendorRemoteMaintenance = "vendor_remote_maintenance", Email = "email",
        Web = "web", Usb = "usb", Insider = "insider", Unknown = "unknown", Other = "other",
    }
}

text_enum! {
    /// A hospital system affected by the incident.
    pub enum AffectedSystem {
        Emr = "emr", Ordering = "ordering", Pacs = "pacs", Lab = "lab", Pharmacy = "pharmacy",
        Billing = "billing", NurseCall = "nurse_call", Network = "network", Email = "email",
        Website = "website", Other = "other",
    }
}

text_enum! {
    /// The effect on patient care, from none to full suspension (ordered).
    pub enum CareImpact {
        None = "none", Partial = "partial", OutpatientSuspended = "outpatient_suspended",
        EmergencySuspended = "emergency_suspended", FullSuspension = "full_suspension",
    }
}

text_enum! {
    /// Whether personal data leaked, was lost or damaged.
    pub enum PersonalDataStatus { None = "none", Suspected = "suspected", Confirmed = "confirmed" }
}

text_enum! {
    /// The kinds of ransomware harm (government common format).
    pub enum RansomwareKind { Encryption = "encryption", LeakThreat = "leak_threat", RansomDemand = "ransom_demand" }
}

text_enum! {
    /// State of the offline backup.
    pub enum OfflineBackup { Intact = "intact", Affected = "affected", None = "none", Unknown = "unknown" }
}

text_enum! {
    /// Incident lifecycle status.
    pub enum IncidentStatus {
        Reported = "reported", Triaged = "triaged", Responding = "responding", Recovering = "recovering",
        Recovered = "recovered", Closed = "closed", Withdrawn = "withdrawn",
    }
}

text_enum! {
    /// Severity, from low to critical (ordered).
    pub enum Severity { Low = "low", Moderate = "moderate", High = "high", Critical = "critical" }
}

text_enum! {
    /// How the report reached hikeshi.
    pub enum ReportedVia { Web = "web", Phone = "phone" }
}

text_enum! {
    /// Recovery milestones (DOMAIN.md §5).
    pub enum Milestone {
        EmrRestored = "emr_restored", EmergencyAccepting = "emergency_accepting",
        NewOutpatientsAccepting = "new_outpatients_accepting", FullyNormal = "fully_normal",
        ReportPublished = "report_published",
    }
}

text_enum! {
    /// A body that receives reports.
    pub enum Authority { Mhlw = "mhlw", Ppc = "ppc", Police = "police", Ipa = "ipa", Vendor = "vendor", Prefecture = "prefecture" }
}

text_enum! {
    /// How a contact is reached: by e-mail, or manually through a portal.
    pub enum Channel { Email = "email", Manual = "manual" }
}

text_enum! {
    /// Language of a contact or user.
    pub enum Locale { Ja = "ja", En = "en" }
}

text_enum! {
    /// Delivery state of a notification.
    pub enum NotificationStatus { Pending = "pending", Sent = "sent", Failed = "failed", Dead = "dead" }
}

text_enum! {
    /// Whether routing to an authority is mandatory or advised.
    pub enum Requirement { Required = "required", Recommended = "recommended" }
}

text_enum! {
    /// A reporting duty with a deadline (or none) created by routing.
    pub enum ObligationKind {
        MhlwInitial = "mhlw_initial", PoliceReport = "police_report", IpaReport = "ipa_report",
        PpcPreliminary = "ppc_preliminary", PpcFinal = "ppc_final", PatientNotice = "patient_notice",
        AcdReport = "acd_report",
    }
}

text_enum! {
    /// A responder skill.
    pub enum Skill {
        Forensics = "forensics", Network = "network", ActiveDirectory = "active_directory",
        BackupRestore = "backup_restore", EmrVendorLiaison = "emr_vendor_liaison", Communications = "communications",
    }
}

text_enum! {
    /// A responder's availability.
    pub enum Availability { OnCall = "on_call", Available = "available", Busy = "busy", Off = "off" }
}

text_enum! {
    /// Dispatch lifecycle status.
    pub enum DispatchStatus {
        Assigned = "assigned", Accepted = "accepted", EnRoute = "en_route", OnSite = "on_site",
        Released = "released", Declined = "declined", Cancelled = "cancelled",
    }
}

text_enum! {
    /// Remote or on-site support.
    pub enum SupportMode { Remote = "remote", OnSite = "on_site" }
}

text_enum! {
    /// Kind of a timeline entry.
    pub enum UpdateKind {
        Note = "note", StatusReport = "status_report", StatusChange = "status_change",
        SeverityChange = "severity_change", Milestone = "milestone", Filed = "filed",
        FactsChanged = "facts_changed", Support = "support", Dispatch = "dispatch",
        Obligation = "obligation", Notification = "notification", DeadlineChanged = "deadline_changed",
        Message = "message",
    }
}

text_enum! {
    /// How a piece of correspondence travelled.
    pub enum MessageChannel { Email = "email", Phone = "phone" }
}

text_enum! {
    /// Whether correspondence came to hikeshi's side (in) or went from it (out).
    pub enum MessageDirection { In = "in", Out = "out" }
}

text_enum! {
    /// What the receiving mail server found out about a sender (RFC 8601 `Authentication-Results`).
    pub enum SenderCheck {
        /// DMARC, DKIM or SPF passed.
        Pass = "pass",
        /// DMARC failed, or SPF failed with no DKIM pass: the `From` is likely forged.
        Fail = "fail",
        /// Nothing trustworthy was said (no trusted server configured, or no result from it).
        Unknown = "unknown",
    }
}

text_enum! {
    /// Who the other side of a piece of correspondence is.
    pub enum MessageParty {
        /// An authority contact (MHLW, PPC, police, IPA, ...).
        Contact = "contact",
        /// The hospital (one of its users, or the contact person of the filing).
        Hospital = "hospital",
        /// The ministry's duty officers.
        Ministry = "ministry",
        /// A contact or user hikeshi knows, not a party to the incident.
        Known = "known",
        /// An address hikeshi does not know.
        Unknown = "unknown",
    }
}

text_enum! {
    /// How a hospital's system is reached from outside (DOMAIN.md 6: what campaigns hit).
    pub enum RemoteAccessKind { Vpn = "vpn", RemoteDesktop = "remote_desktop", Maintenance = "maintenance", Other = "other" }
}

text_enum! {
    /// The items of the MHLW checklist whose state a hospital keeps (DOMAIN.md 6, seed 002).
    pub enum ChecklistItem {
        /// 連絡体制図: who calls whom in an incident.
        ContactChart = "contact_chart",
        OfflineBackup = "offline_backup",
        /// 事業継続計画 for a cyber attack.
        Bcp = "bcp",
        /// 外部接続先の把握: every outside connection known.
        ExternalConnections = "external_connections",
        /// Two-factor authentication (required by FY2027).
        TwoFactor = "two_factor",
    }
}

text_enum! {
    /// A checklist item's state at an incident, for statistics: in place before the incident was
    /// detected, not (or only later), or never recorded.
    pub enum ChecklistState { Done = "done", NotDone = "not_done", Unknown = "unknown" }
}

text_enum! {
    /// Where a campaign stands: proposed by the detector, then confirmed or dismissed by an officer.
    pub enum CampaignStatus { Proposed = "proposed", Confirmed = "confirmed", Dismissed = "dismissed" }
}

text_enum! {
    /// What links incidents of different hospitals into a campaign.
    pub enum LinkKind { Ioc = "ioc", Cve = "cve", Product = "product", Family = "family" }
}
