//! The facts a hospital reports about an incident (DESIGN.md "Incident fields"), parsed once into a
//! value that cannot be invalid. Changes are JSON merge patches (RFC 7396) applied to the stored
//! facts and parsed again, so a patched incident obeys exactly the rules of a new one.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::parse::{looks_like_email, looks_like_phone, Reader};
use super::{
    AffectedSystem, AttackVector, CareImpact, Category, FieldError, OfflineBackup, PersonalDataStatus, RansomwareKind,
};

crate::text_enum! {
    /// Kind of an indicator of compromise.
    pub enum IocType { Ip = "ip", Domain = "domain", Url = "url", Hash = "hash", Email = "email", File = "file", Other = "other" }
}

/// Personal data affected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PersonalData {
    /// none, suspected or confirmed.
    pub status: PersonalDataStatus,
    /// Number of persons affected, as far as known.
    #[schema(minimum = 0, maximum = 200000000)]
    pub persons_estimate: Option<i64>,
    /// 要配慮個人情報 (medical records always are). Default true.
    pub sensitive: bool,
    /// Risk of financial damage (e.g. card data).
    pub financial_risk: bool,
    /// Protected by strong encryption (then no PPC report is needed).
    pub encrypted: bool,
    /// Affected data items, e.g. "氏名", "病名".
    pub data_items: Vec<String>,
}

impl Default for PersonalData {
    fn default() -> Self {
        PersonalData {
            status: PersonalDataStatus::None,
            persons_estimate: None,
            sensitive: true,
            financial_risk: false,
            encrypted: false,
            data_items: Vec::new(),
        }
    }
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

/// An indicator of compromise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ioc {
    #[serde(rename = "type")]
    pub ioc_type: IocType,
    #[schema(min_length = 1, max_length = 2000)]
    pub value: String,
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
    /// When the hospital became aware that it is reportable (default: detected_at); deadlines count from here.
    pub aware_at: DateTime<Utc>,
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
        let title = r.string("title", true, 1, 200);
        let category = r.enumeration::<Category>("category", true);
        let detected_at = r.time("detected_at", true, limit);
        let aware_at = r.time("aware_at", false, limit);
        let description = r.string("description", false, 0, 10_000).unwrap_or_default();
        let attack_vector = r.enumeration("attack_vector", false).unwrap_or(AttackVector::Unknown);
        let affected_systems = r.enumerations::<AffectedSystem>("affected_systems", 20);
        let care_impact = r.enumeration::<CareImpact>("care_impact", true);
        let personal_data = r
            .object("personal_data", |p| {
                let status = p.enumeration("status", true).unwrap_or(PersonalDataStatus::None);
                PersonalData {
                    status,
                    persons_estimate: p.integer("persons_estimate", 0, 200_000_000),
                    sensitive: p.boolean("sensitive", true),
                    financial_risk: p.boolean("financial_risk", false),
                    encrypted: p.boolean("encrypted", false),
                    data_items: p.strings("data_items", 50, 100),
                }
            })
            .unwrap_or_default();
        let ransom_demand = r.boolean("ransom_demand", false);
        let ransomware = r.object("ransomware", |w| RansomwareFacts {
            note_text: w.string("note_text", false, 0, 20_000),
            encrypted_extension: w.string("encrypted_extension", false, 0, 50),
            family: w.string("family", false, 0, 100),
            kinds: w.enumerations("kinds", 3),
        });
        let iocs = r.objects("iocs", 200, |i| {
            let ioc_type = i.enumeration::<IocType>("type", true);
            let value = i.string("value", true, 1, 2000);
            Some(Ioc { ioc_type: ioc_type?, value: value? })
        });
        let offline_backup = r.enumeration("offline_backup", false).unwrap_or(OfflineBackup::Unknown);
        let bcp_activated = r.boolean("bcp_activated", false);
        let support_requested = r.boolean("support_requested", false);
        let contact = r.object("contact", |c| {
            let name = c.string("name", true, 1, 100);
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-11-22T00:00:00Z".parse().unwrap()
    }

    fn filing() -> Value {
        json!({
            "title": "電子カルテ暗号化 / EMR encrypted",
            "category": "ransomware",
            "detected_at": "2026-11-21T06:10:00+09:00",
            "care_impact": "emergency_suspended",
            "personal_data": {"status": "suspected", "persons_estimate": 40000},
            "ransomware": {"note_text": "Your files are encrypted", "kinds": ["encryption", "leak_threat"]},
            "contact": {"name": "山田 太郎", "phone": "03-1234-5678"}
        })
    }

    #[test]
    fn a_minimal_ransomware_filing_parses_with_defaults() {
        let f = IncidentFacts::parse(filing().as_object().unwrap(), now(), &[]).unwrap();
        assert_eq!(f.aware_at, f.detected_at);
        assert_eq!(f.attack_vector, AttackVector::Unknown);
        assert!(f.personal_data.sensitive, "medical records are sensitive by default");
        assert_eq!(f.detected_at.to_rfc3339(), "2026-11-20T21:10:00+00:00");
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let body = json!({
            "title": "",
            "category": "earthquake",
            "detected_at": "2099-01-01T00:00:00+09:00",
            "care_impact": "partial",
            "personal_data": {"status": "confirmed", "persons_estimate": -1},
            "contact": {"name": "x", "phone": "not a phone"},
            "colour": "red"
        });
        let errs = IncidentFacts::parse(body.as_object().unwrap(), now(), &[]).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in ["title", "category", "detected_at", "personal_data.persons_estimate", "contact.phone", "colour"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn awareness_cannot_precede_detection() {
        let mut b = filing();
        b["aware_at"] = json!("2026-11-20T00:00:00+09:00");
        let errs = IncidentFacts::parse(b.as_object().unwrap(), now(), &[]).unwrap_err();
        assert_eq!(errs[0].field, "aware_at");
    }

    #[test]
    fn a_missing_contact_is_required() {
        let mut b = filing();
        b.as_object_mut().unwrap().remove("contact");
        let errs = IncidentFacts::parse(b.as_object().unwrap(), now(), &[]).unwrap_err();
        assert_eq!(errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["contact"]);
    }

    #[test]
    fn a_merge_patch_changes_only_what_it_names_and_keeps_the_rules() {
        let f = IncidentFacts::parse(filing().as_object().unwrap(), now(), &[]).unwrap();
        let p = json!({"personal_data": {"status": "confirmed", "persons_estimate": 130000}});
        let g = f.patched(p.as_object().unwrap(), now(), &[]).unwrap();
        assert_eq!(g.personal_data.persons_estimate, Some(130000));
        assert_eq!(g.personal_data.status, PersonalDataStatus::Confirmed);
        assert_eq!(g.title, f.title);
        let bad = json!({"drill": true});
        assert_eq!(f.patched(bad.as_object().unwrap(), now(), &[]).unwrap_err()[0].field, "drill");
        let bad = json!({"care_impact": "apocalyptic"});
        assert_eq!(f.patched(bad.as_object().unwrap(), now(), &[]).unwrap_err()[0].field, "care_impact");
    }
}
