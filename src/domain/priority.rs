//! The duty officers' triage queue order: a priority score that explains itself, and the severity
//! suggested at filing (DOMAIN.md §3).
//!
//! Owns the scoring rule and its default weights. The weights are configuration so that the ministry
//! can re-balance the queue without a redeploy; the factor codes are a stable vocabulary that clients
//! may translate.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enums::{CareImpact, Category, OfflineBackup, PersonalDataStatus, RegionalRole, Severity};

/// Points per factor. Every field has a default, so a partial configuration is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PriorityWeights {
    pub care_none: i32,
    pub care_partial: i32,
    pub care_outpatient_suspended: i32,
    pub care_emergency_suspended: i32,
    pub care_full_suspension: i32,
    /// 災害拠点病院.
    pub role_disaster_base: i32,
    /// へき地医療拠点病院: no neighbour can take its patients, so it weighs most.
    pub role_remote_area_base: i32,
    /// 救命救急センター.
    pub role_emergency_center: i32,
    /// 周産期母子医療センター.
    pub role_perinatal_center: i32,
    /// 特定機能病院.
    pub role_advanced_treatment: i32,
    /// 20–199 beds.
    pub beds_20_199: i32,
    /// 200–399 beds.
    pub beds_200_399: i32,
    /// 400 beds or more.
    pub beds_400_plus: i32,
    pub ransomware: i32,
    /// Offline backup `none` or `affected`: recovery will be slower.
    pub backup_none_or_affected: i32,
    pub backup_unknown: i32,
    pub personal_data_confirmed: i32,
    pub personal_data_suspected: i32,
    /// Points per full hour since filing while the incident waits for triage.
    pub untriaged_per_hour: i32,
    pub untriaged_cap: i32,
    /// Points per overdue obligation.
    pub overdue_each: i32,
    pub overdue_cap: i32,
}

impl Default for PriorityWeights {
    fn default() -> Self {
        Self {
            care_none: 0,
            care_partial: 10,
            care_outpatient_suspended: 25,
            care_emergency_suspended: 40,
            care_full_suspension: 50,
            role_disaster_base: 15,
            role_remote_area_base: 20,
            role_emergency_center: 15,
            role_perinatal_center: 10,
            role_advanced_treatment: 10,
            beds_20_199: 5,
            beds_200_399: 10,
            beds_400_plus: 15,
            ransomware: 15,
            backup_none_or_affected: 10,
            backup_unknown: 5,
            personal_data_confirmed: 10,
            personal_data_suspected: 5,
            untriaged_per_hour: 2,
            untriaged_cap: 20,
            overdue_each: 10,
            overdue_cap: 30,
        }
    }
}

/// What the score is computed from: the incident's facts, its hospital, and its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityInput {
    pub care_impact: CareImpact,
    pub regional_roles: Vec<RegionalRole>,
    pub beds: Option<i32>,
    pub category: Category,
    pub offline_backup: OfflineBackup,
    pub personal_data: PersonalDataStatus,
    /// Full hours since filing; `None` once the incident has been triaged.
    pub hours_untriaged: Option<i64>,
    pub overdue_obligations: u32,
}

/// A priority score and the factors that make it up (`score` is their sum).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Priority {
    pub score: i32,
    pub factors: Vec<Factor>,
}

/// One contributing factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Factor {
    /// Stable code such as `care_impact:emergency_suspended`, `regional_role:remote_area_base`,
    /// `beds:400+`, `ransomware`, `offline_backup:none`, `personal_data:confirmed`,
    /// `untriaged_hours:3`, `overdue_obligations:1`.
    pub factor: String,
    pub points: i32,
}

/// Scores an incident for the triage queue. Only non-zero factors are listed.
pub fn score(input: &PriorityInput, w: &PriorityWeights) -> Priority {
    let mut factors = Vec::new();
    let mut add = |factor: String, points: i32| {
        if points != 0 {
            factors.push(Factor { factor, points });
        }
    };

    let care = match input.care_impact {
        CareImpact::None => w.care_none,
        CareImpact::Partial => w.care_partial,
        CareImpact::OutpatientSuspended => w.care_outpatient_suspended,
        CareImpact::EmergencySuspended => w.care_emergency_suspended,
        CareImpact::FullSuspension => w.care_full_suspension,
    };
    add(format!("care_impact:{}", input.care_impact), care);

    // A regional role only matters when care has stopped: the region loses what the hospital provides.
    if input.care_impact != CareImpact::None {
        // Walking ALL (not the input) counts each role once, in a stable order.
        for role in RegionalRole::ALL.iter().filter(|r| input.regional_roles.contains(r)) {
            let points = match role {
                RegionalRole::DisasterBase => w.role_disaster_base,
                RegionalRole::RemoteAreaBase => w.role_remote_area_base,
                RegionalRole::EmergencyCenter => w.role_emergency_center,
                RegionalRole::PerinatalCenter => w.role_perinatal_center,
                RegionalRole::AdvancedTreatment => w.role_advanced_treatment,
            };
            add(format!("regional_role:{role}"), points);
        }
    }

    if let Some((band, points)) = input.beds.and_then(|beds| bed_band(beds, w)) {
        add(format!("beds:{band}"), points);
    }

    if input.category == Category::Ransomware {
        add("ransomware".to_owned(), w.ransomware);
    }

    let backup = match input.offline_backup {
        OfflineBackup::None | OfflineBackup::Affected => w.backup_none_or_affected,
        OfflineBackup::Unknown => w.backup_unknown,
        OfflineBackup::Intact => 0,
    };
    add(format!("offline_backup:{}", input.offline_backup), backup);

    let personal = match input.personal_data {
        PersonalDataStatus::Confirmed => w.personal_data_confirmed,
        PersonalDataStatus::Suspected => w.personal_data_suspected,
        PersonalDataStatus::None => 0,
    };
    add(format!("personal_data:{}", input.personal_data), personal);

    // Negative hours (a clock running behind) must not subtract; zero adds nothing anyway.
    if let Some(hours) = input.hours_untriaged.filter(|h| *h > 0) {
        add(format!("untriaged_hours:{hours}"), capped(hours, w.untriaged_per_hour, w.untriaged_cap));
    }

    let n = input.overdue_obligations;
    add(format!("overdue_obligations:{n}"), capped(i64::from(n), w.overdue_each, w.overdue_cap));

    let score = factors.iter().fold(0i32, |sum, f| sum.saturating_add(f.points));
    Priority { score, factors }
}

/// `count × each`, at most `cap`, computed wide so that a long-forgotten incident cannot overflow.
fn capped(count: i64, each: i32, cap: i32) -> i32 {
    let points = count.saturating_mul(i64::from(each)).min(i64::from(cap));
    i32::try_from(points).unwrap_or(cap)
}

/// The bed band's label and points; `None` below 20 beds (a clinic, not a hospital).
fn bed_band(beds: i32, w: &PriorityWeights) -> Option<(&'static str, i32)> {
    match beds {
        i32::MIN..=19 => None,
        20..=199 => Some(("20-199", w.beds_20_199)),
        200..=399 => Some(("200-399", w.beds_200_399)),
        _ => Some(("400+", w.beds_400_plus)),
    }
}

/// The severity suggested at filing; a duty officer may override it with a reason.
///
/// Critical when emergency or all care is suspended; high when outpatients are turned away or it is
/// ransomware; moderate for partial care impact, any personal data at stake, or any cyber category.
pub fn suggest_severity(input: &PriorityInput) -> Severity {
    match input.care_impact {
        CareImpact::EmergencySuspended | CareImpact::FullSuspension => Severity::Critical,
        CareImpact::OutpatientSuspended => Severity::High,
        _ if input.category == Category::Ransomware => Severity::High,
        CareImpact::Partial => Severity::Moderate,
        _ if input.personal_data != PersonalDataStatus::None || input.category.is_cyber() => Severity::Moderate,
        _ => Severity::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CareImpact as Care;
    use Category as C;
    use OfflineBackup as B;
    use PersonalDataStatus as P;
    use RegionalRole as R;

    /// A small clinic-like incident that scores nothing: triaged, no impact, backup intact.
    fn quiet(category: Category) -> PriorityInput {
        PriorityInput {
            care_impact: Care::None,
            regional_roles: Vec::new(),
            beds: None,
            category,
            offline_backup: B::Intact,
            personal_data: P::None,
            hours_untriaged: None,
            overdue_obligations: 0,
        }
    }

    fn factors(p: &Priority) -> Vec<(&str, i32)> {
        p.factors.iter().map(|f| (f.factor.as_str(), f.points)).collect()
    }

    #[test]
    fn each_fact_adds_its_weight_and_is_listed_by_name() {
        let w = PriorityWeights::default();
        #[rustfmt::skip]
        let rows = vec![
            ("nothing at stake scores nothing",
             quiet(C::Other), vec![]),
            ("partial care impact adds 10",
             PriorityInput { care_impact: Care::Partial, ..quiet(C::Other) }, vec![("care_impact:partial", 10)]),
            ("outpatient suspension adds 25",
             PriorityInput { care_impact: Care::OutpatientSuspended, ..quiet(C::Other) }, vec![("care_impact:outpatient_suspended", 25)]),
            ("emergency suspension adds 40",
             PriorityInput { care_impact: Care::EmergencySuspended, ..quiet(C::Other) }, vec![("care_impact:emergency_suspended", 40)]),
            ("full suspension adds 50",
             PriorityInput { care_impact: Care::FullSuspension, ..quiet(C::Other) }, vec![("care_impact:full_suspension", 50)]),
            ("regional roles do not count while care continues",
             PriorityInput { regional_roles: vec![R::RemoteAreaBase, R::DisasterBase], ..quiet(C::Other) }, vec![]),
            ("regional roles are summed once care is hit",
             PriorityInput { care_impact: Care::Partial, regional_roles: vec![R::AdvancedTreatment, R::DisasterBase, R::EmergencyCenter], ..quiet(C::Other) },
             vec![("care_impact:partial", 10), ("regional_role:disaster_base", 15), ("regional_role:emergency_center", 15), ("regional_role:advanced_treatment", 10)]),
            ("a role listed twice counts once",
             PriorityInput { care_impact: Care::Partial, regional_roles: vec![R::PerinatalCenter, R::PerinatalCenter], ..quiet(C::Other) },
             vec![("care_impact:partial", 10), ("regional_role:perinatal_center", 10)]),
            ("a remote-area base weighs 20",
             PriorityInput { care_impact: Care::Partial, regional_roles: vec![R::RemoteAreaBase], ..quiet(C::Other) },
             vec![("care_impact:partial", 10), ("regional_role:remote_area_base", 20)]),
            ("ransomware adds 15",
             quiet(C::Ransomware), vec![("ransomware", 15)]),
            ("no offline backup adds 10",
             PriorityInput { offline_backup: B::None, ..quiet(C::Other) }, vec![("offline_backup:none", 10)]),
            ("an affected offline backup adds 10",
             PriorityInput { offline_backup: B::Affected, ..quiet(C::Other) }, vec![("offline_backup:affected", 10)]),
            ("an unknown offline backup adds 5",
             PriorityInput { offline_backup: B::Unknown, ..quiet(C::Other) }, vec![("offline_backup:unknown", 5)]),
            ("confirmed personal data adds 10",
             PriorityInput { personal_data: P::Confirmed, ..quiet(C::Other) }, vec![("personal_data:confirmed", 10)]),
            ("suspected personal data adds 5",
             PriorityInput { personal_data: P::Suspected, ..quiet(C::Other) }, vec![("personal_data:suspected", 5)]),
            ("each full hour waiting for triage adds 2",
             PriorityInput { hours_untriaged: Some(3), ..quiet(C::Other) }, vec![("untriaged_hours:3", 6)]),
            ("waiting less than an hour adds nothing",
             PriorityInput { hours_untriaged: Some(0), ..quiet(C::Other) }, vec![]),
            ("waiting for triage adds at most 20",
             PriorityInput { hours_untriaged: Some(15), ..quiet(C::Other) }, vec![("untriaged_hours:15", 20)]),
            ("a triaged incident does not age",
             PriorityInput { hours_untriaged: None, ..quiet(C::Other) }, vec![]),
            ("an overdue obligation adds 10",
             PriorityInput { overdue_obligations: 1, ..quiet(C::Other) }, vec![("overdue_obligations:1", 10)]),
            ("overdue obligations add at most 30",
             PriorityInput { overdue_obligations: 5, ..quiet(C::Other) }, vec![("overdue_obligations:5", 30)]),
            ("everything at once",
             PriorityInput { care_impact: Care::EmergencySuspended, regional_roles: vec![R::RemoteAreaBase], beds: Some(150),
                             category: C::Ransomware, offline_backup: B::None, personal_data: P::Suspected,
                             hours_untriaged: Some(3), overdue_obligations: 1 },
             vec![("care_impact:emergency_suspended", 40), ("regional_role:remote_area_base", 20), ("beds:20-199", 5),
                  ("ransomware", 15), ("offline_backup:none", 10), ("personal_data:suspected", 5),
                  ("untriaged_hours:3", 6), ("overdue_obligations:1", 10)]),
        ];
        for (case, input, expected) in rows {
            let p = score(&input, &w);
            assert_eq!(factors(&p), expected, "{case}");
            assert_eq!(p.score, expected.iter().map(|(_, n)| n).sum::<i32>(), "{case}");
        }
    }

    #[test]
    fn beds_fall_into_bands_of_20_199_200_399_and_400_plus() {
        let w = PriorityWeights::default();
        // (beds, expected factor)
        let rows = [
            (None, None),
            (Some(0), None),
            (Some(19), None),
            (Some(20), Some(("beds:20-199", 5))),
            (Some(199), Some(("beds:20-199", 5))),
            (Some(200), Some(("beds:200-399", 10))),
            (Some(399), Some(("beds:200-399", 10))),
            (Some(400), Some(("beds:400+", 15))),
            (Some(865), Some(("beds:400+", 15))),
        ];
        for (beds, expected) in rows {
            let p = score(&PriorityInput { beds, ..quiet(C::Other) }, &w);
            assert_eq!(factors(&p).first().copied(), expected, "{beds:?}");
        }
    }

    #[test]
    fn a_remote_area_base_with_emergency_suspended_outranks_a_larger_urban_hospital_with_partial_impact() {
        let w = PriorityWeights::default();
        let remote = PriorityInput {
            care_impact: Care::EmergencySuspended,
            regional_roles: vec![R::RemoteAreaBase],
            beds: Some(120),
            ..quiet(C::UnauthorizedAccess)
        };
        let urban = PriorityInput {
            care_impact: Care::Partial,
            regional_roles: vec![R::DisasterBase, R::AdvancedTreatment],
            beds: Some(865),
            ..quiet(C::UnauthorizedAccess)
        };
        assert!(score(&remote, &w).score > score(&urban, &w).score);
    }

    #[test]
    fn every_factor_is_non_zero_and_the_factors_sum_to_the_score() {
        let w = PriorityWeights::default();
        for &care_impact in CareImpact::ALL {
            for &offline_backup in OfflineBackup::ALL {
                for &personal_data in PersonalDataStatus::ALL {
                    for (category, beds, hours, overdue) in [
                        (C::Ransomware, Some(500), Some(40), 7),
                        (C::Misdelivery, Some(10), None, 0),
                        (C::SystemFailure, None, Some(1), 2),
                        // Filed this hour, nothing overdue: no factor for either.
                        (C::Other, Some(100), Some(0), 0),
                    ] {
                        let input = PriorityInput {
                            care_impact,
                            regional_roles: RegionalRole::ALL.to_vec(),
                            beds,
                            category,
                            offline_backup,
                            personal_data,
                            hours_untriaged: hours,
                            overdue_obligations: overdue,
                        };
                        let p = score(&input, &w);
                        assert!(p.factors.iter().all(|f| f.points != 0), "{input:?}");
                        assert_eq!(p.score, p.factors.iter().map(|f| f.points).sum::<i32>(), "{input:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn absurd_waits_and_weights_do_not_overflow() {
        let w = PriorityWeights {
            untriaged_per_hour: i32::MAX,
            untriaged_cap: i32::MAX,
            overdue_each: i32::MAX,
            overdue_cap: i32::MAX,
            ..PriorityWeights::default()
        };
        let input =
            PriorityInput { hours_untriaged: Some(i64::MAX), overdue_obligations: u32::MAX, ..quiet(C::Ransomware) };
        assert_eq!(score(&input, &w).score, i32::MAX);
    }

    #[test]
    fn a_partial_weights_configuration_keeps_the_other_defaults() {
        let w: PriorityWeights = serde_json::from_str(r#"{"ransomware": 30}"#).expect("valid config");
        assert_eq!(w, PriorityWeights { ransomware: 30, ..PriorityWeights::default() });
    }

    #[test]
    fn severity_is_suggested_from_care_impact_category_and_personal_data() {
        #[rustfmt::skip]
        let rows = [
            ("emergency suspended is critical", Care::EmergencySuspended, C::Misdelivery, P::None, Severity::Critical),
            ("full suspension is critical", Care::FullSuspension, C::SystemFailure, P::None, Severity::Critical),
            ("outpatients suspended is high", Care::OutpatientSuspended, C::SystemFailure, P::None, Severity::High),
            ("ransomware is high even before care is hit", Care::None, C::Ransomware, P::None, Severity::High),
            ("ransomware with confirmed personal data is high", Care::Partial, C::Ransomware, P::Confirmed, Severity::High),
            ("partial care impact is moderate", Care::Partial, C::SystemFailure, P::None, Severity::Moderate),
            ("suspected personal data is moderate", Care::None, C::Misdelivery, P::Suspected, Severity::Moderate),
            ("confirmed personal data is moderate", Care::None, C::LostMedia, P::Confirmed, Severity::Moderate),
            ("any cyber category is moderate", Care::None, C::Dos, P::None, Severity::Moderate),
            ("a system failure without impact is low", Care::None, C::SystemFailure, P::None, Severity::Low),
            ("anything else is low", Care::None, C::Other, P::None, Severity::Low),
        ];
        for (case, care_impact, category, personal_data, expected) in rows {
            let input = PriorityInput { care_impact, personal_data, ..quiet(category) };
            assert_eq!(suggest_severity(&input), expected, "{case}");
        }
    }
}
