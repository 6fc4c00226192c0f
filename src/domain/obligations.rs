//! Reporting obligations as dates: what routing asks for, counted from awareness, and how the dates
//! of unfulfilled obligations follow when the facts change (DOMAIN.md 2.4).
//!
//! Owns two rules: the plan (each route's obligations with `due_at`, the `legal_due_at` after a
//! closed-day move, and the reminder), and the recomputation: an unfulfilled obligation whose date
//! moves earlier moves at once; one whose date would move later keeps its date until an officer
//! gives a reason. Every move, applied or held, is returned so that the caller records it on the
//! timeline.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::deadlines::{legal_due_at, DeadlineConfig};
use super::routing::{DueNature, Route};
use super::{Authority, ObligationKind};

/// An obligation with its dates, as routing asks for it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub kind: ObligationKind,
    pub authority: Authority,
    /// The date the service holds the hospital to (a target for the PPC 速報).
    pub due_at: Option<DateTime<Utc>>,
    /// The legal deadline after a closed-day move; equal to `due_at` when there is none.
    pub legal_due_at: Option<DateTime<Utc>>,
    pub reminder_at: Option<DateTime<Utc>>,
}

/// The obligations of `routes` for an incident aware at `aware_at`.
pub fn plan(routes: &[Route], aware_at: DateTime<Utc>, cfg: &DeadlineConfig) -> Vec<Planned> {
    routes
        .iter()
        .flat_map(|r| r.obligations.iter().map(move |o| (r.authority, o)))
        .map(|(authority, o)| {
            let due_at = o.due_days.map(|d| cfg.due_at(aware_at, d));
            let legal_due_at = match o.nature {
                DueNature::Statutory => due_at.map(legal_due_at),
                DueNature::Target | DueNature::Promptly => due_at,
            };
            Planned {
                kind: o.kind,
                authority,
                due_at,
                legal_due_at,
                reminder_at: o.reminder_day.map(|d| cfg.reminder_at(aware_at, d)),
            }
        })
        .collect()
}

/// An obligation as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub id: String,
    pub kind: ObligationKind,
    pub due_at: Option<DateTime<Utc>>,
    pub legal_due_at: Option<DateTime<Utc>>,
    pub reminder_at: Option<DateTime<Utc>>,
    pub fulfilled: bool,
}

/// A recomputed date of one obligation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlineChange {
    pub obligation_id: String,
    pub kind: ObligationKind,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub legal_from: Option<DateTime<Utc>>,
    pub legal_to: Option<DateTime<Utc>>,
    pub reminder_to: Option<DateTime<Utc>>,
    /// False when the date would move later and no officer gave a reason: the old date stands.
    pub applied: bool,
}

/// The changes to make to unfulfilled obligations so that they match `planned`. A date that moves
/// later (or disappears) is applied only with `officer_reason`; an earlier one always is.
pub fn recompute(current: &[Current], planned: &[Planned], officer_reason: Option<&str>) -> Vec<DeadlineChange> {
    let mut changes = Vec::new();
    for c in current.iter().filter(|c| !c.fulfilled) {
        let Some(p) = planned.iter().find(|p| p.kind == c.kind) else { continue };
        if p.due_at == c.due_at && p.legal_due_at == c.legal_due_at && p.reminder_at == c.reminder_at {
            continue;
        }
        let later = |new: Option<DateTime<Utc>>, old: Option<DateTime<Utc>>| match (new, old) {
            (Some(n), Some(o)) => n > o,
            (None, Some(_)) => true,
            _ => false,
        };
        // The date the hospital is held to decides; the legal deadline only follows it (it is the
        // law's closed-day move of that date, not a date hikeshi could relax).
        let moves_later = later(p.due_at, c.due_at);
        changes.push(DeadlineChange {
            obligation_id: c.id.clone(),
            kind: c.kind,
            from: c.due_at,
            to: p.due_at,
            legal_from: c.legal_due_at,
            legal_to: p.legal_due_at,
            reminder_to: p.reminder_at,
            applied: !moves_later || officer_reason.is_some(),
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::routing::{route, RoutingFacts};
    use crate::domain::{CareImpact, Category, LegalStatus, PersonalDataStatus};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("test timestamp").with_timezone(&Utc)
    }

    fn jst(t: Option<DateTime<Utc>>) -> String {
        t.map(|t| t.with_timezone(&chrono_tz::Asia::Tokyo).format("%Y-%m-%d").to_string()).unwrap_or_default()
    }

    fn leak(category: Category) -> RoutingFacts {
        RoutingFacts {
            category,
            care_impact: CareImpact::None,
            affected_systems: vec![],
            personal_data: PersonalDataStatus::Confirmed,
            none_reason_given: false,
            persons: Some(1),
            sensitive: true,
            financial_risk: false,
            encryption_protected: false,
            key_compromised: Default::default(),
            exemption_confirmed_by_officer: false,
            my_number: false,
            contractor_breach: false,
            legal_status: Some(LegalStatus::Private),
            health_authority: crate::domain::health_authority::HealthAuthority::Prefecture,
            acd_designated: false,
        }
    }

    #[test]
    fn the_plan_gives_the_dates_of_the_domain_example() {
        // Source: DOMAIN.md 2.4 example (aware 2026-11-20 JST).
        let cfg = DeadlineConfig::default();
        let aware = utc("2026-11-20T10:00:00+09:00");
        // (category, kind, due, legal due, reminder)
        #[rustfmt::skip]
        let rows = [
            (Category::Misdelivery, ObligationKind::PpcPreliminary, "2026-11-24", "2026-11-24", "2026-11-22"),
            (Category::Misdelivery, ObligationKind::PpcFinal, "2026-12-19", "2026-12-21", ""),
            (Category::Misdelivery, ObligationKind::PatientNotice, "", "", "2026-11-24"),
            (Category::Ransomware, ObligationKind::PpcFinal, "2027-01-18", "2027-01-18", ""),
            (Category::Ransomware, ObligationKind::MhlwInitial, "", "", ""),
        ];
        for (category, kind, due, legal, reminder) in rows {
            let p = plan(&route(&leak(category), &cfg), aware, &cfg);
            let o = p.iter().find(|o| o.kind == kind).expect("obligation planned");
            assert_eq!(
                (jst(o.due_at), jst(o.legal_due_at), jst(o.reminder_at)),
                (due.into(), legal.into(), reminder.into()),
                "{category} {kind}"
            );
        }
    }

    fn current(kind: ObligationKind, due: &str, fulfilled: bool) -> Current {
        let due = Some(utc(due));
        Current { id: format!("{kind}"), kind, due_at: due, legal_due_at: due, reminder_at: None, fulfilled }
    }

    fn planned(kind: ObligationKind, due: &str) -> Planned {
        let due = Some(utc(due));
        Planned { kind, authority: Authority::Ppc, due_at: due, legal_due_at: due, reminder_at: None }
    }

    #[test]
    fn dates_follow_the_facts_but_never_move_later_without_an_officers_reason() {
        // Source: DOMAIN.md 2.4 "Deadlines follow the facts".
        use ObligationKind::*;
        let (early, late) = ("2026-12-19T14:59:59Z", "2027-01-18T14:59:59Z");
        // (case, current, planned, officer reason, expected (kind, applied))
        type Row = (&'static str, Vec<Current>, Vec<Planned>, Option<&'static str>, Vec<(ObligationKind, bool)>);
        let moved = |f: fn(Planned) -> Planned, kind| f(planned(kind, early));
        #[rustfmt::skip]
        let rows: Vec<Row> = vec![
            ("an earlier aware_at moves the date earlier at once",
                vec![current(PpcFinal, late, false)], vec![planned(PpcFinal, early)], None, vec![(PpcFinal, true)]),
            ("a 60-day case reclassified to 30 days moves earlier at once",
                vec![current(PpcFinal, late, false)], vec![planned(PpcFinal, early)], None, vec![(PpcFinal, true)]),
            ("a later date is held without an officer's reason",
                vec![current(PpcFinal, early, false)], vec![planned(PpcFinal, late)], None, vec![(PpcFinal, false)]),
            ("a later date is applied with an officer's reason",
                vec![current(PpcFinal, early, false)], vec![planned(PpcFinal, late)], Some("aware_at was mistyped"), vec![(PpcFinal, true)]),
            ("a fulfilled obligation never moves",
                vec![current(PpcFinal, late, true)], vec![planned(PpcFinal, early)], None, vec![]),
            ("an unchanged date is no change",
                vec![current(PpcFinal, early, false)], vec![planned(PpcFinal, early)], None, vec![]),
            ("a due date earlier with its legal deadline later (a closed-day move) is applied",
                vec![current(PpcFinal, "2026-12-20T14:59:59Z", false)],
                vec![Planned { legal_due_at: Some(utc("2026-12-21T14:59:59Z")), ..planned(PpcFinal, "2026-12-19T14:59:59Z") }],
                None, vec![(PpcFinal, true)]),
            ("the same due date with a moved legal deadline is a change, applied",
                vec![current(PpcFinal, early, false)],
                vec![moved(|p| Planned { legal_due_at: Some(utc("2026-12-21T14:59:59Z")), ..p }, PpcFinal)],
                None, vec![(PpcFinal, true)]),
            ("a moved reminder alone is a change, applied",
                vec![current(PpcPreliminary, early, false)],
                vec![moved(|p| Planned { reminder_at: Some(utc("2026-12-17T00:00:00Z")), ..p }, PpcPreliminary)],
                None, vec![(PpcPreliminary, true)]),
            ("a date that would disappear is held",
                vec![current(PpcFinal, early, false)],
                vec![moved(|p| Planned { due_at: None, legal_due_at: None, ..p }, PpcFinal)],
                None, vec![(PpcFinal, false)]),
            ("a date that appears is applied",
                vec![Current { due_at: None, legal_due_at: None, ..current(PpcFinal, early, false) }],
                vec![planned(PpcFinal, early)], None, vec![(PpcFinal, true)]),
            ("an obligation no longer planned keeps its date",
                vec![current(PpcFinal, early, false)], vec![], None, vec![]),
        ];
        for (case, cur, plan, reason, expected) in rows {
            let got: Vec<(ObligationKind, bool)> =
                recompute(&cur, &plan, reason).iter().map(|c| (c.kind, c.applied)).collect();
            assert_eq!(got, expected, "{case}");
        }
    }

    #[test]
    fn a_change_records_old_and_new_dates() {
        let c = recompute(
            &[current(ObligationKind::PpcFinal, "2027-01-18T14:59:59Z", false)],
            &[planned(ObligationKind::PpcFinal, "2026-12-19T14:59:59Z")],
            None,
        );
        assert_eq!(c[0].from, Some(utc("2027-01-18T14:59:59Z")));
        assert_eq!(c[0].to, Some(utc("2026-12-19T14:59:59Z")));
        assert_eq!(c[0].obligation_id, "ppc_final");
    }
}
