//! Applies the need-to-know policy (`auth::policy::Sight`) to what leaves the service about an
//! incident. Every handler that answers with incident data passes its output through here, so the
//! rules live in one table (`Scope::sight`) and one place applies them.

use std::collections::HashMap;

use serde_json::Value;

use crate::auth::policy::{NotificationSight, Sight};
use crate::auth::AuthUser;
use crate::db::dispatches::SupportRequest;
use crate::db::messages::Message;
use crate::db::notifications::Notification;
use crate::db::updates::TimelineEntry;
use crate::db::{self, AnyConnection};
use crate::domain::vocabulary::Label;
use crate::domain::Role;
use crate::error::{ApiError, ApiResult};

/// The incident detail as JSON: without the hospital's contact, or who filed it, where not seen.
pub fn incident_json(mut json: Value, sight: Sight) -> Value {
    if let Some(m) = json.as_object_mut() {
        if !sight.contact {
            m.remove("contact");
        }
        if !sight.people {
            m.remove("reported_by");
        }
    }
    json
}

/// The timeline: correspondence cut to what the caller may read; where people are not seen, each
/// author is named by role only ("報告者 / Reporter").
pub fn timeline(conn: &mut AnyConnection, entries: &mut [TimelineEntry], sight: Sight) -> ApiResult<()> {
    for e in entries.iter_mut() {
        cut_message_entry(e, sight);
    }
    if sight.people {
        return Ok(());
    }
    let mut roles: HashMap<String, Option<Role>> = HashMap::new();
    for e in entries.iter_mut() {
        let role = match e.author_id.take() {
            Some(id) => match roles.get(&id) {
                Some(r) => *r,
                None => {
                    let r = db::users::get(conn, &id)?.map(|u| u.role);
                    roles.insert(id, r);
                    r
                }
            },
            None => None,
        };
        e.author_name = match role {
            Some(r) => format!("{} / {}", r.label_ja(), r.label_en()),
            None => "hikeshi".into(),
        };
    }
    Ok(())
}

/// The notifications of an incident this caller may list, addresses removed where not seen.
pub fn notifications(list: Vec<Notification>, sight: Sight) -> ApiResult<Vec<Notification>> {
    let mut list = match sight.notifications {
        NotificationSight::All => list,
        NotificationSight::OwnAuthority(a) => list.into_iter().filter(|n| n.authority == Some(a)).collect(),
        NotificationSight::None => {
            return Err(ApiError::Forbidden("your role does not see an incident's notifications".into()))
        }
    };
    if !sight.addresses {
        for n in &mut list {
            n.recipients.clear();
            n.contact_id = None;
        }
    }
    Ok(list)
}

/// Correspondence: what a caller's notification sight allows (all; its own authority's; none, 403),
/// without addresses and names where those are not seen.
pub fn messages(list: Vec<Message>, sight: Sight) -> ApiResult<Vec<Message>> {
    let mut list = match sight.notifications {
        NotificationSight::All => list,
        NotificationSight::OwnAuthority(a) => list.into_iter().filter(|m| m.authority == Some(a)).collect(),
        NotificationSight::None => {
            return Err(ApiError::Forbidden("your role does not see an incident's correspondence".into()))
        }
    };
    for m in &mut list {
        if !sight.addresses {
            m.from_address = None;
            m.to.clear();
            m.cc.clear();
        }
        if !sight.people {
            m.from_name = None;
            m.author_id = None;
            if m.party != crate::domain::MessageParty::Contact {
                m.party_label = None;
            }
        }
    }
    Ok(list)
}

/// A timeline entry of correspondence the caller may not read says only that a message or call
/// happened (channel and direction).
fn cut_message_entry(e: &mut TimelineEntry, sight: Sight) {
    if e.kind != crate::domain::UpdateKind::Message {
        return;
    }
    let authority =
        e.data.get("authority").and_then(|a| a.as_str()).and_then(|a| a.parse::<crate::domain::Authority>().ok());
    let readable = match sight.notifications {
        NotificationSight::All => true,
        NotificationSight::OwnAuthority(a) => authority == Some(a),
        NotificationSight::None => false,
    };
    if !readable {
        let keep = |k: &str| e.data.get(k).cloned().unwrap_or(Value::Null);
        e.data = serde_json::json!({"channel": keep("channel"), "direction": keep("direction")});
    } else if !sight.people {
        if let Some(m) = e.data.as_object_mut() {
            if m.get("party").and_then(|p| p.as_str()) != Some("contact") {
                m.remove("party_label");
            }
        }
    }
}

/// Support requests: who asked and who decided, only where people are seen.
pub fn support_requests(mut list: Vec<SupportRequest>, sight: Sight) -> Vec<SupportRequest> {
    if !sight.people {
        for s in &mut list {
            s.requested_by.clear();
            s.decided_by = None;
        }
    }
    list
}

/// A responder may change an incident (notes, milestones) only while its team works on it
/// (`auth::policy::dispatch_allows_work`); others are not limited here.
pub fn require_work(conn: &mut AnyConnection, user: &AuthUser, incident_id: &str) -> ApiResult<()> {
    if user.role != Role::Responder {
        return Ok(());
    }
    let statuses = db::dispatches::team_statuses(conn, incident_id, &user.org_id)?;
    if statuses.into_iter().any(crate::auth::policy::dispatch_allows_work) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("your team is not working on this incident (its dispatch is not active)".into()))
    }
}
