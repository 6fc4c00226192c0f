//! The facts a hospital reports about an incident (DESIGN.md "Incident fields"), parsed once into a
//! value that cannot be invalid. Changes are JSON merge patches (RFC 7396) applied to the stored
//! facts and parsed again, so a patched incident obeys exactly the rules of a new one.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::deadlines::DeadlineConfig;
use super::parse::{looks_like_email, looks_like_phone, Reader};
use super::priority::{score, suggest_severity, Priority, PriorityInput, PriorityWeights};
use super::routing::{route, HospitalFacts, Route, RoutingFacts};
use super::{
    AffectedSystem, AttackVector, CareImpact, Category, DataMedium, DiscoveredBy, EntryTechnique, FieldError,
    IncidentStatus, Milestone, OfflineBackup, PersonalDataStatus, Prefecture, RansomResponse, RansomwareKind,
    ReportedVia, Severity, Tlp,
};

pub use super::ioc::IocType;

/// Numbers of persons affected, per kind (PPC report item 3), as far as known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Persons {
    #[schema(minimum = 0, maximum = 200000000)]
    pub patients: Option<i64>,
    #[schema(minimum = 0, maximum = 200000000)]
    pub staff: Option<i64>,
    #[schema(minimum = 0, maximum = 200000000)]
    pub others: Option<i64>,
}

impl Persons {
    /// The sum of the numbers given, `None` when none is.
    pub fn total(&self) -> Option<i64> {
        [self.patients, self.staff, self.others].into_iter().flatten().reduce(|a, b| a.saturating_add(b))
    }
}

/// Whether the key of the hospital's encryption was compromised: `true`, `false` or `"unknown"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum KeyCompromised {
    Known(bool),
    Unknown(UnknownWord),
}

/// The word `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum UnknownWord {
    #[serde(rename = "unknown")]
    Unknown,
}

impl Default for KeyCompromised {
    fn default() -> Self {
        KeyCompromised::Unknown(UnknownWord::Unknown)
    }
}

/// Protection of the data by the hospital's own strong encryption (高度な暗号化等の秘匿化).
/// Encryption by an attacker is never protection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StrongEncryption {
    /// The hospital had protected the data with strong encryption (or equivalent) before the event.
    #[serde(default)]
    pub protected: bool,
    /// Whether the key was compromised (`unknown` until it is known not to be).
    #[serde(default)]
    pub key_compromised: KeyCompromised,
    /// A duty officer's recorded reason for the exemption, required for ransomware, unauthorized
    /// access, account compromise and supply chain (PPC FAQ Q4-5). Only officers set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub officer_reason: Option<String>,
}

/// Personal data affected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PersonalData {
    /// none, suspected or confirmed, as the hospital stated it.
    pub status: PersonalDataStatus,
    /// Why the hospital states `none` although patient systems were hit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub none_reason: Option<String>,
    /// Numbers of persons per kind.
    #[serde(default)]
    pub persons: Persons,
    /// Total number of persons affected, as far as known.
    #[schema(minimum = 0, maximum = 200000000)]
    pub persons_estimate: Option<i64>,
    /// 要配慮個人情報 (medical records always are). Default true.
    pub sensitive: bool,
    /// Risk of financial damage (e.g. card data).
    pub financial_risk: bool,
    /// The hospital's own strong encryption, if any.
    #[serde(default)]
    pub strong_encryption: StrongEncryption,
    /// 特定個人情報 (My Number, e.g. staff payroll): reported on the PPC's My Number form.
    #[serde(default)]
    pub my_number: bool,
    /// The medium of the data, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<DataMedium>,
    /// Affected data items, e.g. "氏名", "病名".
    pub data_items: Vec<String>,
}

impl PersonalData {
    /// The number of persons to hold against a threshold: the larger of the stated total and the
    /// sum per kind (the reading that reports more often).
    pub fn persons_total(&self) -> Option<i64> {
        match (self.persons_estimate, self.persons.total()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Default for PersonalData {
    fn default() -> Self {
        PersonalData {
            status: PersonalDataStatus::None,
            none_reason: None,
            persons: Persons::default(),
            persons_estimate: None,
            sensitive: true,
            financial_risk: false,
            strong_encryption: StrongEncryption::default(),
            my_number: false,
            medium: None,
            data_items: Vec::new(),
        }
    }
}

/// A contractor (委託先) involved in the breach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contractor {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The breach happened at the contractor.
    pub breach_at_contractor: bool,
    /// When the contractor told the hospital (施行規則9条: the hospital reports from then on).
    pub notified_hospital_at: Option<DateTime<Utc>>,
}

/// The hospital's public announcement (公表), not its investigation report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicAnnouncement {
    pub at: DateTime<Utc>,
    /// How, e.g. "病院ウェブサイトに掲載".
    #[schema(min_length = 1, max_length = 500)]
    pub method: String,
}

/// Ransomware facts (government common format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RansomwareFacts {
    /// Text of the ransom note.
    #[schema(max_length = 20000)]
    pub note_text: Option<String>,
    /// Extension of encrypted files, e.g. ".lockbit".
    #[schema(max_length = 50)]
    pub encrypted_extension: Option<String>,
    /// Ransomware family if known.
    #[schema(max_length = 100)]
    pub family: Option<String>,
    /// encryption, leak_threat, ransom_demand.
    pub kinds: Vec<RansomwareKind>,
}

/// An indicator of compromise: a STIX 2.1 cyber-observable type and its canonical value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(from = "StoredIoc")]
pub struct Ioc {
    #[serde(rename = "type")]
    pub ioc_type: IocType,
    #[schema(min_length = 1, max_length = 2000)]
    pub value: String,
    /// Where it was seen or what it is, as the reporter put it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// An indicator as stored, in either vocabulary: facts written before the STIX names (`ip`, `hash`,
/// `domain`, ...) read as the STIX type they name; a stored value that is not valid for its type is
/// kept, as `other`, with a note saying what it was filed as: nothing accepted is lost.
#[derive(Deserialize)]
struct StoredIoc {
    #[serde(rename = "type")]
    ioc_type: String,
    value: String,
    #[serde(default)]
    note: Option<String>,
}

impl From<StoredIoc> for Ioc {
    fn from(s: StoredIoc) -> Self {
        match super::ioc::normalize(&s.ioc_type, &s.value) {
            Ok((ioc_type, value)) => Ioc { ioc_type, value, note: s.note },
            Err(_) => {
                let was = format!("filed as {}", s.ioc_type);
                let note = Some(s.note.map_or(was.clone(), |n| format!("{n} ({was})")));
                Ioc { ioc_type: IocType::Other, value: s.value, note }
            }
        }
    }
}

/// Reads `iocs[i]`: the type resolved to its STIX name, the value checked and made canonical.
fn read_ioc(i: &mut Reader<'_>) -> Option<Ioc> {
    let given = i.string("type", true, 1, 100);
    let value = i.string("value", true, 1, 2000);
    let note = i.string("note", false, 0, 500).filter(|n| !n.is_empty());
    match super::ioc::normalize(&given?, &value?) {
        Ok((ioc_type, value)) => Some(Ioc { ioc_type, value, note }),
        Err(None) => {
            i.error("type", super::ioc::unknown_type_message());
            None
        }
        Err(Some(m)) => {
            i.error("value", m);
            None
        }
    }
}

/// One entry per indicator: a repeated type and value keeps its first position, and the first note
/// given for it.
pub fn merge_duplicates(iocs: Vec<Ioc>) -> Vec<Ioc> {
    let mut out: Vec<Ioc> = Vec::with_capacity(iocs.len());
    for ioc in iocs {
        match out.iter_mut().find(|o| o.ioc_type == ioc.ioc_type && o.value == ioc.value) {
            Some(first) => {
                if first.note.is_none() {
                    first.note = ioc.note;
                }
            }
            None => out.push(ioc),
        }
    }
    out
}

/// Who to call back: a phone, because the hospital's e-mail may be down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentContact {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// 9–15 digits; spaces, hyphens, parentheses and a leading + allowed.
    #[schema(example = "03-1234-5678")]
    pub phone: String,
    pub email: Option<String>,
}

/// Everything the hospital reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentFacts {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub category: Category,
    /// When the incident was detected (not in the future).
    pub detected_at: DateTime<Utc>,
    /// When anyone at the hospital first learned of the event or its possibility (default:
    /// `detected_at`). Deadlines count from the Japanese day of this time, which is day 1.
    pub aware_at: DateTime<Utc>,
    /// When the event itself happened (発生日), as far as known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Who or what found it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovered_by: Option<DiscoveredBy>,
    /// How the attacker got in, apart from the device (`attack_vector`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_technique: Option<EntryTechnique>,
    /// CVE identifiers exploited, e.g. `CVE-2024-3400`.
    #[serde(default)]
    pub vulnerabilities: Vec<String>,
    /// The remote-access product the attacker came through, when known (links campaigns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<super::national::RemoteAccess>,
    /// A contractor (委託先) involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractor: Option<Contractor>,
    /// The public announcement (公表), once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_announcement: Option<PublicAnnouncement>,
    /// What the hospital recorded about a ransom (nothing is said about it unless recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ransom_response: Option<RansomResponse>,
    /// Containment taken so far (封じ込め).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 5000)]
    pub containment: Option<String>,
    /// The hospital consents to its report being shared with NCO (common format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nco_sharing_consent: Option<bool>,
    #[schema(max_length = 10000)]
    pub description: String,
    pub attack_vector: AttackVector,
    pub affected_systems: Vec<AffectedSystem>,
    pub care_impact: CareImpact,
    pub personal_data: PersonalData,
    pub ransom_demand: bool,
    pub ransomware: Option<RansomwareFacts>,
    pub iocs: Vec<Ioc>,
    pub offline_backup: OfflineBackup,
    pub bcp_activated: bool,
    pub support_requested: bool,
    /// Absent for callers who may not see patient-facing contact data (liaisons).
    #[schema(required = false)]
    pub contact: IncidentContact,
    /// A training exercise: routed only to drill contacts, excluded from statistics.
    pub drill: bool,
}

/// Clock skew tolerated for times that must not be in the future.
const SKEW: i64 = 300;

/// Keys the API layer reads itself on filing (not facts).
pub const FILING_KEYS: &[&str] = &["hospital_id", "reported_via"];

impl IncidentFacts {
    /// Parses a filing body. `extra_keys` are accepted but left to the caller.
    pub fn parse(
        body: &Map<String, Value>,
        now: DateTime<Utc>,
        extra_keys: &[&'static str],
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let limit = Some(now + Duration::seconds(SKEW));
        let mut r = Reader::new(body, "", &mut errors);
        r.allow(extra_keys);
        let title = r.name("title", true, 1, 200);
        let category = r.enumeration::<Category>("category", true);
        let detected_at = r.time("detected_at", true, limit);
        let aware_at = r.time("aware_at", false, limit);
        let occurred_at = r.time("occurred_at", false, limit);
        let discovered_by = r.enumeration("discovered_by", false);
        let entry_technique = r.enumeration("entry_technique", false);
        let vulnerabilities = r.strings("vulnerabilities", 50, 30);
        for (i, v) in vulnerabilities.iter().enumerate() {
            if !looks_like_cve(v) {
                r.error(&format!("vulnerabilities[{i}]"), "must be a CVE identifier, e.g. CVE-2024-3400");
            }
        }
        let entry_point = r.object("entry_point", super::national::read_remote_access).flatten();
        let contractor = r.object("contractor", |c| read_contractor(c, limit));
        let public_announcement = r.object("public_announcement", |a| {
            let at = a.time("at", true, limit);
            let method = a.string("method", true, 1, 500);
            Some(PublicAnnouncement { at: at?, method: method? })
        });
        let ransom_response = r.enumeration("ransom_response", false);
        let containment = r.string("containment", false, 0, 5000).filter(|c| !c.is_empty());
        let nco_sharing_consent =
            r.value("nco_sharing_consent").is_some().then(|| r.boolean("nco_sharing_consent", false));
        let description = r.string("description", false, 0, 10_000).unwrap_or_default();
        let attack_vector = r.enumeration("attack_vector", false).unwrap_or(AttackVector::Unknown);
        let affected_systems = r.enumerations::<AffectedSystem>("affected_systems", 20);
        let care_impact = r.enumeration::<CareImpact>("care_impact", true);
        let personal_data = r.object("personal_data", |p| read_personal_data(p, true)).unwrap_or_default();
        let ransom_demand = r.boolean("ransom_demand", false);
        let ransomware = r.object("ransomware", |w| RansomwareFacts {
            note_text: w.string("note_text", false, 0, 20_000),
            encrypted_extension: w.string("encrypted_extension", false, 0, 50),
            family: w.string("family", false, 0, 100),
            kinds: w.enumerations("kinds", 3),
        });
        let iocs = merge_duplicates(r.objects("iocs", 200, read_ioc));
        let offline_backup = r.enumeration("offline_backup", false).unwrap_or(OfflineBackup::Unknown);
        let bcp_activated = r.boolean("bcp_activated", false);
        let support_requested = r.boolean("support_requested", false);
        let contact = r.object("contact", |c| {
            let name = c.name("name", true, 1, 100);
            let phone = c.string("phone", true, 1, 40);
            if let Some(p) = &phone {
                if !looks_like_phone(p) {
                    c.error("phone", "must look like a phone number (9–15 digits), e.g. 03-1234-5678");
                }
            }
            let email = c.string("email", false, 0, 254).filter(|e| !e.is_empty());
            if let Some(e) = &email {
                if !looks_like_email(e) {
                    c.error("email", "must be an e-mail address");
                }
            }
            Some(IncidentContact { name: name?, phone: phone.filter(|p| looks_like_phone(p))?, email })
        });
        if contact.is_none() {
            r.error("contact", "is required (a phone number the ministry can call back)");
        }
        let drill = r.boolean("drill", false);
        r.finish();

        if let (Some(d), Some(a)) = (detected_at, aware_at) {
            if a < d {
                errors.push(FieldError::new("aware_at", "must not be before detected_at"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        match (title, category, detected_at, care_impact, contact.flatten()) {
            (Some(title), Some(category), Some(detected_at), Some(care_impact), Some(contact)) => Ok(IncidentFacts {
                title,
                category,
                detected_at,
                aware_at: aware_at.unwrap_or(detected_at),
                occurred_at,
                discovered_by,
                entry_technique,
                vulnerabilities,
                entry_point,
                contractor: contractor.flatten(),
                public_announcement: public_announcement.flatten(),
                ransom_response,
                containment,
                nco_sharing_consent,
                description,
                attack_vector,
                affected_systems,
                care_impact,
                personal_data,
                ransom_demand,
                ransomware,
                iocs,
                offline_backup,
                bcp_activated,
                support_requested,
                contact,
                drill,
            }),
            // Every None above has pushed an error, so this arm is only reached if a reader is wrong.
            _ => Err(vec![FieldError::new("body", "is incomplete")]),
        }
    }

    /// A draft with nothing but its times: the starting point of a routing preview.
    pub fn draft(detected_at: DateTime<Utc>, aware_at: DateTime<Utc>) -> Self {
        IncidentFacts {
            title: String::new(),
            category: Category::Other,
            detected_at,
            aware_at,
            occurred_at: None,
            discovered_by: None,
            entry_technique: None,
            vulnerabilities: Vec::new(),
            entry_point: None,
            contractor: None,
            public_announcement: None,
            ransom_response: None,
            containment: None,
            nco_sharing_consent: None,
            description: String::new(),
            attack_vector: AttackVector::Unknown,
            affected_systems: Vec::new(),
            care_impact: CareImpact::None,
            personal_data: PersonalData::default(),
            ransom_demand: false,
            ransomware: None,
            iocs: Vec::new(),
            offline_backup: OfflineBackup::Unknown,
            bcp_activated: false,
            support_requested: false,
            contact: IncidentContact { name: String::new(), phone: String::new(), email: None },
            drill: false,
        }
    }

    /// Applies a JSON merge patch and parses the result. `drill` cannot change after filing.
    pub fn patched(
        &self,
        patch: &Map<String, Value>,
        now: DateTime<Utc>,
        extra_keys: &[&'static str],
    ) -> Result<Self, Vec<FieldError>> {
        let mut current = serde_json::to_value(self).unwrap_or(Value::Null);
        merge_patch(&mut current, &Value::Object(patch.clone()));
        let Value::Object(merged) = current else {
            return Err(vec![FieldError::new("body", "must be an object")]);
        };
        let next = Self::parse(&merged, now, extra_keys)?;
        if next.drill != self.drill {
            return Err(vec![FieldError::new("drill", "cannot change after filing")]);
        }
        Ok(next)
    }
}

/// Reads `personal_data` (a filing's, or a draft's when `status_required` is false).
pub fn read_personal_data(p: &mut Reader<'_>, status_required: bool) -> PersonalData {
    p.renamed("encrypted", "strong_encryption");
    let status = p.enumeration("status", status_required).unwrap_or(PersonalDataStatus::None);
    let none_reason = p.string("none_reason", false, 0, 1000).filter(|s| !s.is_empty());
    let persons = p
        .object("persons", |n| Persons {
            patients: n.integer("patients", 0, 200_000_000),
            staff: n.integer("staff", 0, 200_000_000),
            others: n.integer("others", 0, 200_000_000),
        })
        .unwrap_or_default();
    let strong_encryption = p
        .object("strong_encryption", |e| {
            let protected = e.boolean("protected", false);
            let key_compromised = match e.value("key_compromised") {
                None => KeyCompromised::default(),
                Some(Value::Bool(b)) => KeyCompromised::Known(*b),
                Some(Value::String(s)) if s == "unknown" => KeyCompromised::default(),
                Some(_) => {
                    e.error("key_compromised", "must be true, false or \"unknown\"");
                    KeyCompromised::default()
                }
            };
            let officer_reason = e.string("officer_reason", false, 0, 1000).filter(|s| !s.is_empty());
            StrongEncryption { protected, key_compromised, officer_reason }
        })
        .unwrap_or_default();
    PersonalData {
        status,
        none_reason,
        persons,
        persons_estimate: p.integer("persons_estimate", 0, 200_000_000),
        sensitive: p.boolean("sensitive", true),
        financial_risk: p.boolean("financial_risk", false),
        strong_encryption,
        my_number: p.boolean("my_number", false),
        medium: p.enumeration("medium", false),
        data_items: p.strings("data_items", 50, 100),
    }
}

/// Reads `contractor` (a filing's or a draft's); `None` when a required part is missing (an error
/// is recorded).
pub fn read_contractor(c: &mut Reader<'_>, not_after: Option<DateTime<Utc>>) -> Option<Contractor> {
    let name = c.name("name", true, 1, 200);
    let breach_at_contractor = c.boolean("breach_at_contractor", false);
    let notified_hospital_at = c.time("notified_hospital_at", false, not_after);
    Some(Contractor { name: name?, breach_at_contractor, notified_hospital_at })
}

/// `CVE-YYYY-NNNN` with four or more digits in the last part.
pub fn looks_like_cve(s: &str) -> bool {
    let mut parts = s.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("CVE"), Some(y), Some(n), None)
            if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit())
                && n.len() >= 4 && n.len() <= 19 && n.bytes().all(|b| b.is_ascii_digit())
    )
}

/// RFC 7396 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Recovery milestones reached (DOMAIN.md §5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Milestones {
    pub emr_restored: Option<DateTime<Utc>>,
    pub emergency_accepting: Option<DateTime<Utc>>,
    pub new_outpatients_accepting: Option<DateTime<Utc>>,
    pub fully_normal: Option<DateTime<Utc>>,
    pub report_published: Option<DateTime<Utc>>,
}

impl Milestones {
    pub fn get(&self, m: Milestone) -> Option<DateTime<Utc>> {
        match m {
            Milestone::EmrRestored => self.emr_restored,
            Milestone::EmergencyAccepting => self.emergency_accepting,
            Milestone::NewOutpatientsAccepting => self.new_outpatients_accepting,
            Milestone::FullyNormal => self.fully_normal,
            Milestone::ReportPublished => self.report_published,
        }
    }

    pub fn set(&mut self, m: Milestone, at: DateTime<Utc>) {
        let slot = match m {
            Milestone::EmrRestored => &mut self.emr_restored,
            Milestone::EmergencyAccepting => &mut self.emergency_accepting,
            Milestone::NewOutpatientsAccepting => &mut self.new_outpatients_accepting,
            Milestone::FullyNormal => &mut self.fully_normal,
            Milestone::ReportPublished => &mut self.report_published,
        };
        *slot = Some(at);
    }
}

/// An incident: the hospital's facts and everything hikeshi derived or recorded about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: String,
    pub reference: String,
    pub hospital_id: String,
    pub prefecture: Prefecture,
    pub beds: Option<i32>,
    pub facts: IncidentFacts,
    pub status: IncidentStatus,
    pub severity: Severity,
    pub severity_overridden: bool,
    /// The marking of what is shared about the incident (exports); officers set it.
    pub tlp: Tlp,
    pub priority: Priority,
    pub routing: Vec<Route>,
    /// The rule set version the routing was computed with.
    pub rules_version: String,
    pub overdue_obligations: i32,
    pub reported_at: DateTime<Utc>,
    pub reported_via: ReportedVia,
    pub reported_by: String,
    pub triaged_at: Option<DateTime<Utc>>,
    pub dispatch_accepted_at: Option<DateTime<Utc>>,
    pub on_site_at: Option<DateTime<Utc>>,
    pub milestones: Milestones,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl Incident {
    /// A new incident as filed at a hospital, before routing ([`Incident::refresh`]): the one
    /// starting point of the handler and the benchmark seeder.
    pub fn filed(
        id: String,
        reference: String,
        hospital: FiledAt<'_>,
        facts: IncidentFacts,
        reported_at: DateTime<Utc>,
        reported_via: ReportedVia,
        reported_by: &str,
    ) -> Self {
        Incident {
            id,
            reference,
            hospital_id: hospital.hospital_id.to_owned(),
            prefecture: hospital.prefecture,
            beds: hospital.beds,
            facts,
            status: IncidentStatus::Reported,
            severity: Severity::Low,
            severity_overridden: false,
            tlp: Tlp::AmberStrict,
            priority: Priority { score: 0, factors: vec![] },
            routing: vec![],
            rules_version: super::routing::RULES_VERSION.to_owned(),
            overdue_obligations: 0,
            reported_at,
            reported_via,
            reported_by: reported_by.to_owned(),
            triaged_at: None,
            dispatch_accepted_at: None,
            on_site_at: None,
            milestones: Milestones::default(),
            closed_at: None,
            version: 1,
            updated_at: reported_at,
        }
    }

    /// The priority factors' inputs now.
    pub fn priority_input(&self, hospital: &HospitalFacts, now: DateTime<Utc>) -> PriorityInput {
        PriorityInput {
            care_impact: self.facts.care_impact,
            regional_roles: hospital.regional_roles.clone(),
            beds: hospital.beds,
            category: self.facts.category,
            offline_backup: self.facts.offline_backup,
            personal_data: self.facts.personal_data.status,
            hours_untriaged: (self.status == IncidentStatus::Reported).then(|| (now - self.reported_at).num_hours()),
            overdue_obligations: self.overdue_obligations.max(0) as u32,
        }
    }

    /// Recomputes routing (with the current rule set), priority and, unless an officer set it,
    /// severity: after filing and after every change of facts.
    pub fn refresh(&mut self, hospital: &HospitalFacts, rules: &Rules<'_>, now: DateTime<Utc>) {
        let facts = RoutingFacts::of(&self.facts, hospital, rules.active_cyber_defence);
        self.routing = route(&facts, rules.deadlines);
        self.rules_version = super::routing::RULES_VERSION.to_owned();
        let input = self.priority_input(hospital, now);
        self.priority = score(&input, rules.weights);
        if !self.severity_overridden {
            self.severity = suggest_severity(&input);
        }
    }
}

/// The hospital an incident is filed at, as the incident keeps it.
#[derive(Debug, Clone, Copy)]
pub struct FiledAt<'a> {
    pub hospital_id: &'a str,
    pub prefecture: Prefecture,
    pub beds: Option<i32>,
}

/// The configurable parts of the rules.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub deadlines: &'a DeadlineConfig,
    pub weights: &'a PriorityWeights,
    /// DOMAIN.md 7: the Active Cyber Defence route (off by default).
    pub active_cyber_defence: bool,
}

#[cfg(test)]
mod tests;
