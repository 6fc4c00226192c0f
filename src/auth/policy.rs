//! The permission policy: which role may do what, and which incidents each caller can see.
//! Every handler asks here; no handler decides permissions on its own.

use crate::domain::{Authority, Prefecture, Role};
use crate::error::ApiError;

use super::AuthUser;

/// Things a caller may try to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ManageOrganizations,
    ReadOrganizations,
    ManageUsers,
    ManageSecurityPolicy,
    FileIncident,
    ProxyFileIncident,
    ChangeFacts,
    ChangeTriage,
    Transition,
    AddUpdate,
    SetMilestone,
    ReadAudit,
    FulfilObligation,
    ResendNotification,
    PreviewRouting,
    ReadContacts,
    ManageContacts,
    RequestSupport,
    DecideSupport,
    Dispatch,
    MoveDispatch,
    CancelDispatch,
    ReadTeams,
    ManageTeams,
    SuggestTeams,
    SetAnyAvailability,
    ReadStats,
}

/// The policy table: one row per action, the roles allowed.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        ManageOrganizations | ManageUsers | ManageSecurityPolicy => role == Admin,
        ReadOrganizations => matches!(role, Admin | DutyOfficer | Reporter),
        FileIncident => role == Reporter,
        ProxyFileIncident => role == DutyOfficer,
        ChangeFacts => matches!(role, Reporter | DutyOfficer),
        ChangeTriage | Transition => role == DutyOfficer,
        AddUpdate | SetMilestone => matches!(role, Reporter | DutyOfficer | Responder),
        ReadAudit => matches!(role, DutyOfficer | Admin),
        FulfilObligation => matches!(role, Reporter | DutyOfficer),
        ResendNotification => role == DutyOfficer,
        PreviewRouting => matches!(role, Reporter | DutyOfficer),
        ReadContacts => matches!(role, Admin | DutyOfficer),
        ManageContacts => role == Admin,
        RequestSupport => matches!(role, Reporter | DutyOfficer),
        DecideSupport | Dispatch | CancelDispatch => role == DutyOfficer,
        MoveDispatch => role == Responder,
        ReadTeams => matches!(role, DutyOfficer | Admin | Responder),
        ManageTeams | SuggestTeams | SetAnyAvailability | ReadStats => matches!(role, DutyOfficer | Admin),
    }
}

/// 403 unless the caller's role allows `action` (use only where the target is visible to them).
pub fn require(user: &AuthUser, action: Action) -> Result<(), ApiError> {
    if allows(user.role, action) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("the role {} may not do this", user.role)))
    }
}

/// Whether the caller can see a dispatch of `team_id` at all (others get 404): responders see
/// their own team's, officers and admins all.
pub fn sees_dispatch(user: &AuthUser, team_id: &str) -> bool {
    match user.role {
        Role::Responder => team_id == user.org_id,
        Role::DutyOfficer | Role::Admin => true,
        _ => false,
    }
}

/// Which incidents a caller can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Duty officers and admins.
    All,
    /// A reporter: its own hospital's.
    Hospital(String),
    /// A responder: those its team is or was dispatched to.
    Team(String),
    /// A liaison: those routed to its authority (in its prefecture, when it has one).
    Authority { authority: Authority, prefecture: Option<Prefecture> },
    /// Nothing (a misconfigured liaison without an authority).
    Nothing,
}

impl Scope {
    /// Whether patient-facing contact data may be shown.
    pub fn sees_contact_data(&self) -> bool {
        !matches!(self, Scope::Authority { .. } | Scope::Nothing)
    }
}

/// The caller's scope; liaisons need their organisation's authority and prefecture.
pub fn incident_scope(user: &AuthUser, liaison_of: Option<(Option<Authority>, Option<Prefecture>)>) -> Scope {
    match user.role {
        Role::DutyOfficer | Role::Admin => Scope::All,
        Role::Reporter => Scope::Hospital(user.org_id.clone()),
        Role::Responder => Scope::Team(user.org_id.clone()),
        Role::Liaison => match liaison_of {
            Some((Some(authority), prefecture)) => Scope::Authority { authority, prefecture },
            _ => Scope::Nothing,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_table_reads_like_the_design() {
        use Action::*;
        use Role::*;
        #[rustfmt::skip]
        let rows: &[(Role, Action, bool)] = &[
            (Reporter, FileIncident, true),
            (DutyOfficer, FileIncident, false),
            (DutyOfficer, ProxyFileIncident, true),
            (Reporter, ProxyFileIncident, false),
            (Reporter, ChangeFacts, true),
            (Responder, ChangeFacts, false),
            (Reporter, ChangeTriage, false),
            (DutyOfficer, ChangeTriage, true),
            (Reporter, Transition, false),
            (Responder, SetMilestone, true),
            (Liaison, AddUpdate, false),
            (Admin, ManageUsers, true),
            (DutyOfficer, ManageUsers, false),
            (Reporter, ReadAudit, false),
            (Admin, ReadAudit, true),
            (Responder, MoveDispatch, true),
            (DutyOfficer, MoveDispatch, false),
            (Responder, CancelDispatch, false),
            (DutyOfficer, CancelDispatch, true),
            (Reporter, Dispatch, false),
            (Reporter, RequestSupport, true),
            (Responder, RequestSupport, false),
            (Reporter, ReadStats, false),
            (Admin, ReadStats, true),
        ];
        for (role, action, allowed) in rows {
            assert_eq!(allows(*role, *action), *allowed, "{role} {action:?}");
        }
    }
}
