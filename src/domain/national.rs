//! The national picture (issue 20): what links incidents at different hospitals into a campaign,
//! and how a hospital's remote-access products are named and matched.
//!
//! A campaign is what one flaw or one crew does to many hospitals within days (the 半田 and 岡山
//! cases both came through VPN appliances). Incidents are linked when, within a window (default 30
//! days), they share a normalised indicator of compromise, a CVE, a remote-access vendor and
//! product, or a ransomware family. Where it is uncertain whether two incidents belong together,
//! these rules link them: an officer dismisses a wrong proposal in a minute, while a missed link
//! leaves the next hospital unwarned.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::incident::IncidentFacts;
use super::ioc::IocType;
use super::parse::Reader;
use super::{CampaignStatus, EntryTechnique, LinkKind, RemoteAccessKind};

/// A remote-access product a hospital runs, or the one an attacker came through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RemoteAccess {
    pub kind: RemoteAccessKind,
    /// The maker, e.g. "Fortinet".
    #[schema(min_length = 1, max_length = 100, example = "Fortinet")]
    pub vendor: String,
    /// The product line as its maker names it, e.g. "FortiGate": campaigns are matched on vendor
    /// and product.
    #[schema(min_length = 1, max_length = 100, example = "FortiGate")]
    pub product: String,
    /// Model or firmware version, e.g. "60F / FortiOS 7.2.4".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100)]
    pub version: Option<String>,
}

/// Reads one remote-access entry (an object of `remote_access`, or an incident's `entry_point`).
pub fn read_remote_access(r: &mut Reader<'_>) -> Option<RemoteAccess> {
    let kind = r.enumeration("kind", true);
    let vendor = r.name("vendor", true, 1, 100);
    let product = r.name("product", true, 1, 100);
    let version = r.string("version", false, 0, 100).filter(|v| !v.is_empty());
    Some(RemoteAccess { kind: kind?, vendor: vendor?, product: product?, version })
}

/// A name folded for comparison: full-width forms to ASCII, lower case, letters and digits only
/// ("ＦｏｒｔｉＧａｔｅ", "Forti-Gate" and "fortigate" are one product).
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match u32::from(c) {
            // Fullwidth ASCII variants (U+FF01–U+FF5E) to ASCII.
            0xff01..=0xff5e => char::from_u32(u32::from(c) - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The key of a vendor and product ("fortinet/fortigate"); `None` when either folds to nothing.
pub fn product_key(vendor: &str, product: &str) -> Option<String> {
    let (v, p) = (fold(vendor), fold(product));
    (!v.is_empty() && !p.is_empty()).then(|| format!("{v}/{p}"))
}

/// The key of a ransomware family: folded, without a trailing version ("LockBit 3.0" and
/// "lockbit" are one family; "8Base" stays "8base").
pub fn family_key(family: &str) -> Option<String> {
    let folded: String = family
        .chars()
        .map(|c| match u32::from(c) {
            0xff01..=0xff5e => char::from_u32(u32::from(c) - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric() || *c == '.')
        .collect();
    let trimmed = folded.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let key: String = if trimmed.chars().any(char::is_alphabetic) { trimmed } else { folded.as_str() }.replace('.', "");
    (!key.is_empty()).then_some(key)
}

/// Addresses every network has (private, loopback, link-local, documentation): seen at many
/// hospitals without meaning anything in common.
fn shared_by_everyone(ioc_type: IocType, value: &str) -> bool {
    let address = value.split('/').next().unwrap_or(value);
    match ioc_type {
        IocType::Ipv4 => address.parse::<Ipv4Addr>().is_ok_and(|a| {
            a.is_private() || a.is_loopback() || a.is_link_local() || a.is_unspecified() || a.is_broadcast()
        }),
        IocType::Ipv6 => address.parse::<Ipv6Addr>().is_ok_and(|a| {
            let first = a.segments()[0];
            a.is_loopback() || a.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }),
        // A file name ("readme.txt") or "other" says too little to link hospitals by.
        IocType::FileName | IocType::Other => true,
        _ => value.parse::<IpAddr>().is_ok_and(|a| a.is_loopback()),
    }
}

/// What an incident can be linked by: every normalised IoC (but addresses every network has), every
/// CVE, the remote-access product it came through, its ransomware family.
///
/// The product: the incident's `entry_point` when the hospital named one; otherwise, when the
/// attacker got in by a vulnerability, stolen credentials or brute force (how VPN appliances and
/// remote desktops are broken into), every remote-access product on the hospital's profile: the
/// reading that links more, since an officer confirms every proposal.
pub fn link_keys(facts: &IncidentFacts, hospital_remote_access: &[RemoteAccess]) -> BTreeSet<(LinkKind, String)> {
    let mut keys = BTreeSet::new();
    for ioc in &facts.iocs {
        if !shared_by_everyone(ioc.ioc_type, &ioc.value) {
            keys.insert((LinkKind::Ioc, format!("{}:{}", ioc.ioc_type.as_str(), ioc.value)));
        }
    }
    for cve in &facts.vulnerabilities {
        keys.insert((LinkKind::Cve, cve.to_ascii_uppercase()));
    }
    let products: Vec<&RemoteAccess> = match &facts.entry_point {
        Some(p) => vec![p],
        None if needs_profile(facts) => hospital_remote_access.iter().collect(),
        None => Vec::new(),
    };
    for p in products {
        if let Some(k) = product_key(&p.vendor, &p.product) {
            keys.insert((LinkKind::Product, k));
        }
    }
    if let Some(k) = facts.ransomware.as_ref().and_then(|r| r.family.as_deref()).and_then(family_key) {
        keys.insert((LinkKind::Family, k));
    }
    keys
}

/// Whether [`link_keys`] reads the hospital's profile for this incident: no `entry_point`, and an
/// entry by a vulnerability, stolen credentials or brute force.
pub fn needs_profile(facts: &IncidentFacts) -> bool {
    facts.entry_point.is_none()
        && matches!(
            facts.entry_technique,
            Some(EntryTechnique::Vulnerability | EntryTechnique::StolenCredentials | EntryTechnique::BruteForce)
        )
}

/// Whether two reports are close enough in time to belong to one campaign.
pub fn within_window(a: DateTime<Utc>, b: DateTime<Utc>, window_days: i64) -> bool {
    (a - b).abs() <= Duration::days(window_days)
}

/// A campaign an incident already belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub campaign_id: String,
    pub status: CampaignStatus,
    pub created_at: DateTime<Utc>,
    /// Every incident of the campaign.
    pub incident_ids: BTreeSet<String>,
}

/// What the detector does with a newly looked-at incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing links it to another hospital's incident (or the link was dismissed already).
    Nothing,
    /// Add these incidents (the new one and matches not yet in it) to an open campaign.
    Join { campaign_id: String, add: Vec<String> },
    /// Propose a new campaign of these incidents.
    Propose(Vec<String>),
}

/// Decides for incident `id`, given the incidents of other hospitals it shares a link with inside
/// the window (`matches`) and the campaigns any of them belongs to.
///
/// - No match: nothing.
/// - An open (proposed or confirmed) campaign holds the incident or a match: the oldest such takes
///   in the incident and every match it lacks ("new matching incidents join it"), but none that
///   another open campaign holds.
/// - Otherwise, unless a dismissed campaign already holds all of them (an officer said no to
///   exactly this), a new campaign is proposed.
pub fn decide(id: &str, matches: &BTreeSet<String>, campaigns: &[Membership]) -> Decision {
    if matches.is_empty() {
        return Decision::Nothing;
    }
    let mut all: BTreeSet<String> = matches.clone();
    all.insert(id.to_owned());
    let open = campaigns
        .iter()
        .filter(|c| c.status != CampaignStatus::Dismissed && c.incident_ids.iter().any(|i| all.contains(i)))
        .min_by(|a, b| (a.created_at, &a.campaign_id).cmp(&(b.created_at, &b.campaign_id)));
    if let Some(c) = open {
        // An incident already in another open campaign stays there (one incident, one campaign).
        let elsewhere: BTreeSet<&String> = campaigns
            .iter()
            .filter(|o| o.status != CampaignStatus::Dismissed && o.campaign_id != c.campaign_id)
            .flat_map(|o| o.incident_ids.iter())
            .collect();
        let add: Vec<String> =
            all.iter().filter(|i| !c.incident_ids.contains(*i) && !elsewhere.contains(i)).cloned().collect();
        return if add.is_empty() {
            Decision::Nothing
        } else {
            Decision::Join { campaign_id: c.campaign_id.clone(), add }
        };
    }
    let dismissed_already =
        campaigns.iter().any(|c| c.status == CampaignStatus::Dismissed && all.is_subset(&c.incident_ids));
    if dismissed_already {
        Decision::Nothing
    } else {
        Decision::Propose(all.into_iter().collect())
    }
}

/// Which hospitals an advisory goes to. `all`: every hospital; otherwise every hospital matching
/// all the criteria given (a vendor and/or product on its remote-access list, one of the
/// prefectures).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryCriteria {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100, example = "Fortinet")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100, example = "FortiGate")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 47)]
    pub prefectures: Vec<super::Prefecture>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
}

impl AdvisoryCriteria {
    /// What is wrong with these criteria, as (field, message).
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        let blank = |s: &Option<String>| s.as_deref().is_some_and(|v| fold(v).is_empty());
        if blank(&self.vendor) {
            out.push(("criteria.vendor", "must name a vendor"));
        }
        if blank(&self.product) {
            out.push(("criteria.product", "must name a product"));
        }
        let narrowed = self.vendor.is_some() || self.product.is_some() || !self.prefectures.is_empty();
        if self.all && narrowed {
            out.push(("criteria.all", "reaches every hospital: leave out vendor, product and prefectures"));
        }
        if !self.all && !narrowed {
            out.push(("criteria", "needs vendor, product, prefectures, or all: true"));
        }
        out
    }

    /// Whether a hospital in `prefecture` running `remote_access` is reached.
    pub fn reaches(&self, prefecture: Option<super::Prefecture>, remote_access: &[RemoteAccess]) -> bool {
        if self.all {
            return true;
        }
        let in_area = self.prefectures.is_empty() || prefecture.is_some_and(|p| self.prefectures.contains(&p));
        let same = |wanted: &Option<String>, have: &str| wanted.as_deref().is_none_or(|w| fold(w) == fold(have));
        let runs = (self.vendor.is_none() && self.product.is_none())
            || remote_access.iter().any(|r| same(&self.vendor, &r.vendor) && same(&self.product, &r.product));
        in_area && runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incident::{Ioc, RansomwareFacts};

    fn facts() -> IncidentFacts {
        let now = Utc::now();
        IncidentFacts::draft(now, now)
    }

    fn vpn(vendor: &str, product: &str) -> RemoteAccess {
        RemoteAccess { kind: RemoteAccessKind::Vpn, vendor: vendor.into(), product: product.into(), version: None }
    }

    /// Source: issue 20 ("a normalised IoC, a CVE, a remote-access vendor and product, or a
    /// ransomware family"); DOMAIN.md 6 (remote-access products: what campaigns hit).
    #[test]
    fn names_fold_to_one_key() {
        let table = [
            (("Fortinet", "FortiGate"), Some("fortinet/fortigate")),
            (("ＦＯＲＴＩＮＥＴ", "Ｆｏｒｔｉ-Ｇａｔｅ"), Some("fortinet/fortigate")),
            ((" Ivanti ", "Connect Secure"), Some("ivanti/connectsecure")),
            (("-", "FortiGate"), None),
        ];
        for ((v, p), key) in table {
            assert_eq!(product_key(v, p).as_deref(), key, "{v} / {p}");
        }
        let families = [
            ("LockBit 3.0", Some("lockbit")),
            ("lockbit", Some("lockbit")),
            ("ＬｏｃｋＢｉｔ", Some("lockbit")),
            ("8Base", Some("8base")),
            ("Phobos", Some("phobos")),
            ("3.0", Some("30")),
            ("  ", None),
        ];
        for (f, key) in families {
            assert_eq!(family_key(f).as_deref(), key, "{f}");
        }
    }

    #[test]
    fn links_are_what_hospitals_share_and_nothing_every_network_has() {
        let mut f = facts();
        f.vulnerabilities = vec!["cve-2024-21762".into()];
        f.iocs = vec![
            Ioc { ioc_type: IocType::Ipv4, value: "203.0.113.7".into(), note: None },
            Ioc { ioc_type: IocType::Ipv4, value: "192.168.1.10".into(), note: None },
            Ioc { ioc_type: IocType::Ipv4, value: "10.0.0.0/8".into(), note: None },
            Ioc { ioc_type: IocType::FileName, value: "readme.txt".into(), note: None },
            Ioc { ioc_type: IocType::FileSha256, value: "a".repeat(64), note: None },
        ];
        f.ransomware = Some(RansomwareFacts {
            note_text: None,
            encrypted_extension: None,
            family: Some("LockBit 3.0".into()),
            kinds: vec![],
        });
        let keys = link_keys(&f, &[vpn("Fortinet", "FortiGate")]);
        let expected: BTreeSet<(LinkKind, String)> = [
            (LinkKind::Ioc, "ipv4-addr:203.0.113.7".to_string()),
            (LinkKind::Ioc, format!("file:sha256:{}", "a".repeat(64))),
            (LinkKind::Cve, "CVE-2024-21762".into()),
            (LinkKind::Family, "lockbit".into()),
        ]
        .into_iter()
        .collect();
        // No entry technique through remote access: the profile's VPN is not a link.
        assert_eq!(keys, expected);
    }

    #[test]
    fn the_product_comes_from_the_filing_or_for_remote_entries_from_the_profile() {
        let profile = [vpn("Fortinet", "FortiGate"), vpn("Cisco", "AnyConnect")];
        let table = [
            (None, None, vec![]),
            (Some(EntryTechnique::Phishing), None, vec![]),
            (Some(EntryTechnique::Vulnerability), None, vec!["cisco/anyconnect", "fortinet/fortigate"]),
            (Some(EntryTechnique::StolenCredentials), None, vec!["cisco/anyconnect", "fortinet/fortigate"]),
            (Some(EntryTechnique::Phishing), Some(vpn("Ivanti", "Connect Secure")), vec!["ivanti/connectsecure"]),
            (Some(EntryTechnique::Vulnerability), Some(vpn("Fortinet", "FortiGate")), vec!["fortinet/fortigate"]),
        ];
        for (technique, entry, expected) in table {
            let mut f = facts();
            f.entry_technique = technique;
            f.entry_point = entry.clone();
            let got: Vec<String> = link_keys(&f, &profile).into_iter().map(|(_, v)| v).collect();
            assert_eq!(got, expected, "{technique:?} {entry:?}");
        }
    }

    /// Source: issue 20 ("hospitals matching criteria (vendor, product, prefectures, all)").
    #[test]
    fn advisories_reach_the_hospitals_the_criteria_name() {
        use crate::domain::Prefecture;
        let tokyo = Prefecture::parse("13");
        let osaka = Prefecture::parse("27");
        let forti = [vpn("Fortinet", "FortiGate")];
        let c = |vendor: Option<&str>, product: Option<&str>, prefs: &[&str], all: bool| AdvisoryCriteria {
            vendor: vendor.map(str::to_owned),
            product: product.map(str::to_owned),
            prefectures: prefs.iter().filter_map(|p| Prefecture::parse(p)).collect(),
            all,
        };
        let table = [
            (c(None, None, &[], true), tokyo, &[][..], true),
            (c(Some("fortinet"), None, &[], false), tokyo, &forti[..], true),
            (c(Some("Fortinet"), Some("ＦｏｒｔｉＧａｔｅ"), &[], false), osaka, &forti[..], true),
            (c(Some("Fortinet"), Some("FortiMail"), &[], false), tokyo, &forti[..], false),
            (c(Some("Fortinet"), None, &[], false), tokyo, &[][..], false),
            (c(None, None, &["13"], false), tokyo, &[][..], true),
            (c(None, None, &["13"], false), osaka, &forti[..], false),
            (c(Some("Fortinet"), None, &["27"], false), tokyo, &forti[..], false),
            (c(None, None, &["13"], false), None, &[][..], false),
        ];
        for (criteria, prefecture, remote, reached) in table {
            assert_eq!(criteria.reaches(prefecture, remote), reached, "{criteria:?} {prefecture:?} {remote:?}");
        }
        assert!(c(None, None, &[], false).problems().iter().any(|(f, _)| *f == "criteria"));
        assert!(c(Some("x"), None, &[], true).problems().iter().any(|(f, _)| *f == "criteria.all"));
        assert!(c(Some(" - "), None, &[], false).problems().iter().any(|(f, _)| *f == "criteria.vendor"));
        assert!(c(None, None, &["01"], false).problems().is_empty());
    }

    #[test]
    fn the_window_holds_both_ways() {
        let t = Utc::now();
        assert!(within_window(t, t - Duration::days(30), 30));
        assert!(within_window(t - Duration::days(30), t, 30));
        assert!(!within_window(t, t - Duration::days(31), 30));
    }

    fn member(id: &str, status: CampaignStatus, days_ago: i64, ids: &[&str]) -> Membership {
        Membership {
            campaign_id: id.into(),
            status,
            created_at: Utc::now() - Duration::days(days_ago),
            incident_ids: ids.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn decisions() {
        use CampaignStatus::*;
        let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let strings = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let table: Vec<(&str, BTreeSet<String>, Vec<Membership>, Decision)> = vec![
            ("c", set(&[]), vec![], Decision::Nothing),
            ("c", set(&["a", "b"]), vec![], Decision::Propose(strings(&["a", "b", "c"]))),
            (
                "c",
                set(&["a"]),
                vec![member("k", Proposed, 1, &["a", "b"])],
                Decision::Join { campaign_id: "k".into(), add: strings(&["c"]) },
            ),
            (
                "c",
                set(&["a", "d"]),
                vec![member("new", Confirmed, 1, &["d", "e"]), member("old", Confirmed, 5, &["a", "b"])],
                Decision::Join { campaign_id: "old".into(), add: strings(&["c"]) },
            ),
            (
                "c",
                set(&["a", "d"]),
                vec![member("old", Proposed, 5, &["a", "b"]), member("gone", Dismissed, 1, &["d"])],
                Decision::Join { campaign_id: "old".into(), add: strings(&["c", "d"]) },
            ),
            ("c", set(&["a"]), vec![member("k", Confirmed, 1, &["a", "c"])], Decision::Nothing),
            ("c", set(&["a"]), vec![member("k", Dismissed, 1, &["a", "c"])], Decision::Nothing),
            (
                "c",
                set(&["a", "b"]),
                vec![member("k", Dismissed, 1, &["a", "c"])],
                Decision::Propose(strings(&["a", "b", "c"])),
            ),
        ];
        for (id, matches, campaigns, expected) in table {
            assert_eq!(decide(id, &matches, &campaigns), expected, "{matches:?} {campaigns:?}");
        }
    }
}
