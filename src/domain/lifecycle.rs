//! State machines for incidents and dispatches (DESIGN.md "Status", DOMAIN.md §4–5).
//!
//! Owns which status changes are legal. Callers ask before they write, and an illegal move becomes a
//! 409 that lists the allowed ones, so the tables here are also what the user is shown.

use std::fmt;

use super::enums::{DispatchStatus, IncidentStatus, Milestone};

/// The statuses an incident may move to from `from`.
pub fn allowed_incident_transitions(from: IncidentStatus) -> &'static [IncidentStatus] {
    use IncidentStatus::*;
    match from {
        Reported => &[Triaged, Withdrawn],
        Triaged => &[Responding, Recovering, Withdrawn],
        Responding => &[Recovering],
        Recovering => &[Recovered],
        Recovered => &[Closed],
        Closed | Withdrawn => &[],
    }
}

/// Why an incident cannot make a status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// The move is not in the table.
    NotAllowed { from: IncidentStatus, to: IncidentStatus, allowed: Vec<IncidentStatus> },
    /// The move is in the table but needs a recovery milestone first.
    MilestoneMissing { milestone: Milestone },
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransitionError::NotAllowed { from, to, allowed } => {
                write!(f, "an incident cannot move from {from} to {to}; allowed: {}", list(allowed))
            }
            TransitionError::MilestoneMissing { milestone } => {
                write!(f, "the {milestone} milestone must be recorded first")
            }
        }
    }
}

impl std::error::Error for TransitionError {}

/// Checks an incident status change. `recovered` needs the `fully_normal` milestone, because the
/// time to full recovery is what the ministry measures and must not be claimed without it.
pub fn check_incident_transition(
    from: IncidentStatus,
    to: IncidentStatus,
    fully_normal_recorded: bool,
) -> Result<(), TransitionError> {
    let allowed = allowed_incident_transitions(from);
    if !allowed.contains(&to) {
        return Err(TransitionError::NotAllowed { from, to, allowed: allowed.to_vec() });
    }
    if to == IncidentStatus::Recovered && !fully_normal_recorded {
        return Err(TransitionError::MilestoneMissing { milestone: Milestone::FullyNormal });
    }
    Ok(())
}

/// The statuses a dispatch may move to from `from`.
pub fn allowed_dispatch_transitions(from: DispatchStatus) -> &'static [DispatchStatus] {
    use DispatchStatus::*;
    match from {
        Assigned => &[Accepted, Declined, Cancelled],
        // Remote support never travels, so it may end (released) straight from accepted; a team
        // already nearby may report on_site without an en_route step.
        Accepted => &[EnRoute, OnSite, Released, Cancelled],
        EnRoute => &[OnSite, Cancelled],
        OnSite => &[Released],
        Released | Declined | Cancelled => &[],
    }
}

/// A dispatch status change that is not in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchTransitionError {
    pub from: DispatchStatus,
    pub to: DispatchStatus,
    pub allowed: Vec<DispatchStatus>,
}

impl fmt::Display for DispatchTransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a dispatch cannot move from {} to {}; allowed: {}", self.from, self.to, list(&self.allowed))
    }
}

impl std::error::Error for DispatchTransitionError {}

/// Checks a dispatch status change.
pub fn check_dispatch_transition(from: DispatchStatus, to: DispatchStatus) -> Result<(), DispatchTransitionError> {
    let allowed = allowed_dispatch_transitions(from);
    if allowed.contains(&to) {
        Ok(())
    } else {
        Err(DispatchTransitionError { from, to, allowed: allowed.to_vec() })
    }
}

/// Whether a dispatch still ties up its team (assigned, accepted, en route or on site).
pub fn is_active(status: DispatchStatus) -> bool {
    matches!(
        status,
        DispatchStatus::Assigned | DispatchStatus::Accepted | DispatchStatus::EnRoute | DispatchStatus::OnSite
    )
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        "none (final state)".to_owned()
    } else {
        items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The incident table as DESIGN.md writes it, independent of the code under test.
    const INCIDENT_MOVES: &[(&str, &str)] = &[
        ("reported", "triaged"),
        ("reported", "withdrawn"),
        ("triaged", "responding"),
        ("triaged", "recovering"),
        ("triaged", "withdrawn"),
        ("responding", "recovering"),
        ("recovering", "recovered"),
        ("recovered", "closed"),
    ];

    /// The dispatch table: assigned → accepted → en_route → on_site → released, or declined, cancelled.
    const DISPATCH_MOVES: &[(&str, &str)] = &[
        ("assigned", "accepted"),
        ("assigned", "declined"),
        ("assigned", "cancelled"),
        ("accepted", "en_route"),
        ("accepted", "on_site"),
        ("accepted", "released"),
        ("accepted", "cancelled"),
        ("en_route", "on_site"),
        ("en_route", "cancelled"),
        ("on_site", "released"),
    ];

    #[test]
    fn every_incident_move_is_allowed_exactly_when_the_table_lists_it() {
        for &from in IncidentStatus::ALL {
            for &to in IncidentStatus::ALL {
                let listed = INCIDENT_MOVES.contains(&(from.as_str(), to.as_str()));
                // With the milestone recorded, only the table decides.
                let result = check_incident_transition(from, to, true);
                assert_eq!(result.is_ok(), listed, "{from} → {to}: {result:?}");
                if let Err(TransitionError::NotAllowed { allowed, .. }) = result {
                    assert_eq!(allowed, allowed_incident_transitions(from), "{from} → {to}");
                }
            }
        }
    }

    #[test]
    fn every_dispatch_move_is_allowed_exactly_when_the_table_lists_it() {
        for &from in DispatchStatus::ALL {
            for &to in DispatchStatus::ALL {
                let listed = DISPATCH_MOVES.contains(&(from.as_str(), to.as_str()));
                let result = check_dispatch_transition(from, to);
                assert_eq!(result.is_ok(), listed, "{from} → {to}: {result:?}");
                if let Err(e) = result {
                    assert_eq!(e.allowed, allowed_dispatch_transitions(from), "{from} → {to}");
                }
            }
        }
    }

    #[test]
    fn an_incident_cannot_be_recovered_without_the_fully_normal_milestone() {
        assert_eq!(
            check_incident_transition(IncidentStatus::Recovering, IncidentStatus::Recovered, false),
            Err(TransitionError::MilestoneMissing { milestone: Milestone::FullyNormal })
        );
        assert_eq!(check_incident_transition(IncidentStatus::Recovering, IncidentStatus::Recovered, true), Ok(()));
    }

    #[test]
    fn the_milestone_matters_only_for_the_move_to_recovered() {
        for &from in IncidentStatus::ALL {
            for &to in IncidentStatus::ALL {
                let with = check_incident_transition(from, to, true);
                let without = check_incident_transition(from, to, false);
                if from == IncidentStatus::Recovering && to == IncidentStatus::Recovered {
                    assert_ne!(with, without);
                } else {
                    assert_eq!(with, without, "{from} → {to}");
                }
            }
        }
    }

    #[test]
    fn an_illegal_move_names_the_allowed_ones() {
        let err = check_incident_transition(IncidentStatus::Reported, IncidentStatus::Closed, true)
            .expect_err("reported → closed is illegal");
        assert_eq!(err.to_string(), "an incident cannot move from reported to closed; allowed: triaged, withdrawn");
        let err =
            check_dispatch_transition(DispatchStatus::Released, DispatchStatus::OnSite).expect_err("released is final");
        assert_eq!(err.to_string(), "a dispatch cannot move from released to on_site; allowed: none (final state)");
    }

    #[test]
    fn a_dispatch_is_active_until_it_is_released_declined_or_cancelled() {
        use DispatchStatus::*;
        let rows = [
            (Assigned, true),
            (Accepted, true),
            (EnRoute, true),
            (OnSite, true),
            (Released, false),
            (Declined, false),
            (Cancelled, false),
        ];
        assert_eq!(rows.len(), DispatchStatus::ALL.len());
        for (status, active) in rows {
            assert_eq!(is_active(status), active, "{status}");
        }
    }

    #[test]
    fn final_states_have_no_way_out() {
        for status in [IncidentStatus::Closed, IncidentStatus::Withdrawn] {
            assert!(allowed_incident_transitions(status).is_empty(), "{status}");
        }
        for status in DispatchStatus::ALL.iter().filter(|s| !is_active(**s)) {
            assert!(allowed_dispatch_transitions(*status).is_empty(), "{status}");
        }
    }
}
