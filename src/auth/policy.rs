//! The permission policy: which role may do what, and which incidents each caller can see.
//! Every handler asks here; no handler decides permissions on its own.

use crate::domain::{Authority, DispatchStatus, Prefecture, Role};
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
    /// Webhook subscriptions (they carry incident data out of the service).
    ManageWebhooks,
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
    /// Write a message about an incident (officers to the hospital or an authority, the hospital to the ministry).
    Correspond,
    /// Log a phone call on an incident.
    LogCall,
    /// The inbox of mail that matched no incident, and assigning it.
    ReadInbox,
    /// A hospital's own profile: its remote-access products and its checklist state.
    EditOwnProfile,
    /// Campaigns across hospitals, the national situation: they name every hospital.
    ReadCampaigns,
    /// Confirm or dismiss a proposed campaign; write advisories and remind.
    DecideCampaigns,
    WriteAdvisories,
    /// Acknowledge an advisory sent to one's hospital.
    AcknowledgeAdvisory,
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
        ManageContacts | ManageWebhooks => role == Admin,
        RequestSupport => matches!(role, Reporter | DutyOfficer),
        DecideSupport | Dispatch | CancelDispatch => role == DutyOfficer,
        MoveDispatch => role == Responder,
        ReadTeams => matches!(role, DutyOfficer | Admin | Responder),
        ManageTeams | SuggestTeams | SetAnyAvailability | ReadStats => matches!(role, DutyOfficer | Admin),
        Correspond => matches!(role, Reporter | DutyOfficer),
        LogCall | ReadInbox => role == DutyOfficer,
        EditOwnProfile | AcknowledgeAdvisory => role == Reporter,
        ReadCampaigns => matches!(role, DutyOfficer | Admin),
        DecideCampaigns | WriteAdvisories => role == DutyOfficer,
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
        self.sight().contact
    }

    /// What of an incident's record this caller may see beyond its facts (see [`Sight`]).
    pub fn sight(&self) -> Sight {
        match self {
            Scope::All | Scope::Hospital(_) => Sight::FULL,
            Scope::Team(_) => Sight {
                addresses: false,
                notifications: NotificationSight::None,
                reporter_in_exports: false,
                ..Sight::FULL
            },
            Scope::Authority { authority, .. } => Sight {
                contact: false,
                people: false,
                addresses: false,
                notifications: NotificationSight::OwnAuthority(*authority),
                reporter_in_exports: false,
            },
            Scope::Nothing => Sight {
                contact: false,
                people: false,
                addresses: false,
                notifications: NotificationSight::None,
                reporter_in_exports: false,
            },
        }
    }
}

/// Need-to-know: the one redaction policy every response and export of an incident passes (the
/// detail, the timeline, notifications, support requests, prepared reports). Facts about the
/// incident itself are shared with everyone who may see the incident; these are not:
///
/// | scope | contact | people | addresses | notifications | reporter named in exports |
/// | --- | --- | --- | --- | --- | --- |
/// | officers, admins | yes | yes | yes | all | yes |
/// | the hospital's reporters | yes | yes | yes | all | yes (their own) |
/// | a dispatched responder team | yes (to reach the hospital) | yes | no | none | no |
/// | an authority's liaison | no | no | no | its own authority's | no |
///
/// Exports (STIX, MISP) are made to be passed on: unless named, the reporting hospital is a pseudonym
/// and the export carries none of the hospital's free text.
///
/// The CSV export (officers and admins only) carries no contact or person columns at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sight {
    /// The hospital's contact person (name, phone, e-mail).
    pub contact: bool,
    /// Who did what: the names and ids of users (the filer, timeline authors, requesters).
    pub people: bool,
    /// Where mail went: the recipients' addresses of notifications.
    pub addresses: bool,
    /// Which notifications of the incident are listed.
    pub notifications: NotificationSight,
    /// The reporting hospital named (not pseudonymised) in STIX and MISP exports.
    pub reporter_in_exports: bool,
}

impl Sight {
    pub const FULL: Sight = Sight {
        contact: true,
        people: true,
        addresses: true,
        notifications: NotificationSight::All,
        reporter_in_exports: true,
    };
}

/// Which notifications of an incident a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationSight {
    All,
    /// Those to one authority (a liaison sees what was sent to its own authority).
    OwnAuthority(Authority),
    /// None: the endpoint answers 403.
    None,
}

/// Whether a team's dispatch in `status` lets it read the incident: from assignment (to decide
/// whether to accept) through its work and after release (its own record), never after it
/// declined or was cancelled.
pub fn dispatch_opens_incident(status: DispatchStatus) -> bool {
    !matches!(status, DispatchStatus::Declined | DispatchStatus::Cancelled)
}

/// Whether a team may change the incident (notes, milestones): only while it works on it.
pub fn dispatch_allows_work(status: DispatchStatus) -> bool {
    matches!(status, DispatchStatus::Accepted | DispatchStatus::EnRoute | DispatchStatus::OnSite)
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

    #[test]
    fn a_team_reads_from_assignment_to_after_release_and_works_only_while_on_it() {
        use DispatchStatus::*;
        #[rustfmt::skip]
        let rows = [
            (Assigned, true, false), (Accepted, true, true), (EnRoute, true, true), (OnSite, true, true),
            (Released, true, false), (Declined, false, false), (Cancelled, false, false),
        ];
        assert_eq!(rows.len(), DispatchStatus::ALL.len(), "every status has a row");
        for (status, reads, works) in rows {
            assert_eq!(dispatch_opens_incident(status), reads, "{status} reads");
            assert_eq!(dispatch_allows_work(status), works, "{status} works");
        }
    }

    #[test]
    fn the_need_to_know_table_reads_like_its_documentation() {
        let liaison = Scope::Authority { authority: Authority::Ppc, prefecture: None };
        let rows = [
            (Scope::All, (true, true, true)),
            (Scope::Hospital("h".into()), (true, true, true)),
            (Scope::Team("t".into()), (true, true, false)),
            (liaison.clone(), (false, false, false)),
            (Scope::Nothing, (false, false, false)),
        ];
        for (scope, (contact, people, addresses)) in rows {
            let s = scope.sight();
            assert_eq!((s.contact, s.people, s.addresses), (contact, people, addresses), "{scope:?}");
        }
        assert_eq!(liaison.sight().notifications, NotificationSight::OwnAuthority(Authority::Ppc));
        assert_eq!(Scope::Team("t".into()).sight().notifications, NotificationSight::None);
    }
}
