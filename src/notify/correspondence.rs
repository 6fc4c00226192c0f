//! Outbound correspondence: a message written in hikeshi goes out through the outbox as an answer in
//! its thread (`In-Reply-To` / `References` of the last e-mail exchanged with the same addresses),
//! so the reply comes back to the same incident; and phone calls an officer logs.

use chrono::{DateTime, Utc};

use crate::auth::AuthUser;
use crate::config::Settings;
use crate::db::incidents::Incident;
use crate::db::messages::{Message, NewMessage, Party};
use crate::db::notifications::{self, NewNotification, Thread};
use crate::db::{self, AnyConnection};
use crate::domain::{
    letters, Authority, Channel, FieldError, Locale, MessageChannel, MessageDirection, MessageParty, Role, SenderCheck,
};
use crate::error::{ApiError, ApiResult};
use crate::notify::{outbox, templates};

/// The outbox kind of correspondence (sent without `Auto-Submitted`: a person wrote it).
pub const KIND: &str = "message";
/// The most ids of a thread carried in `References` (the oldest are dropped; RFC 5322 §3.6.4 allows it).
pub const MAX_REFERENCES: usize = 20;

/// Whom a message is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// The hospital: its reporters and the filing's contact e-mail.
    Hospital,
    /// The ministry's duty officers.
    Ministry,
    /// An authority contact hikeshi has written to about the incident.
    Contact(String),
}

impl Recipient {
    pub fn parse(s: &str) -> Option<Recipient> {
        match s.trim() {
            "hospital" => Some(Recipient::Hospital),
            "ministry" => Some(Recipient::Ministry),
            id if !id.is_empty() && id.len() <= 64 => Some(Recipient::Contact(id.to_owned())),
            _ => None,
        }
    }
}

/// Who may write to whom: officers to the hospital or a contact of the incident, the hospital to the
/// ministry.
pub fn allowed(role: Role, to: &Recipient) -> bool {
    matches!(
        (role, to),
        (Role::DutyOfficer, Recipient::Hospital | Recipient::Contact(_)) | (Role::Reporter, Recipient::Ministry)
    )
}

fn party_and_addresses(
    conn: &mut AnyConnection,
    incident: &Incident,
    to: &Recipient,
) -> ApiResult<(Party, Vec<String>)> {
    let invalid = |m: &str| ApiError::Validation(vec![FieldError::new("to", m)]);
    Ok(match to {
        Recipient::Hospital => {
            let hospital = db::orgs::get(conn, &incident.hospital_id)?.ok_or(ApiError::NotFound)?;
            (
                Party {
                    kind: MessageParty::Hospital,
                    id: Some(hospital.id),
                    label: Some(hospital.name),
                    authority: None,
                },
                outbox::hospital_recipients(conn, incident)?,
            )
        }
        Recipient::Ministry => (
            Party { kind: MessageParty::Ministry, id: None, label: None, authority: None },
            db::users::by_org_and_role(conn, None, Role::DutyOfficer)?.into_iter().map(|u| u.email).collect(),
        ),
        Recipient::Contact(id) => {
            let written: Vec<String> =
                db::notifications::for_incident(conn, &incident.id)?.into_iter().filter_map(|n| n.contact_id).collect();
            let contact = db::contacts::get(conn, id)?
                .filter(|c| written.contains(&c.id))
                .ok_or_else(|| invalid("must be \"hospital\", or the id of a contact this incident was reported to"))?;
            if contact.channel != Channel::Email {
                return Err(invalid(
                    "this contact is reached by a web form or by phone, not by e-mail: log a call instead",
                ));
            }
            (
                Party {
                    kind: MessageParty::Contact,
                    id: Some(contact.id.clone()),
                    label: Some(contact.name.clone()),
                    authority: Some(contact.authority),
                },
                vec![contact.address.clone()],
            )
        }
    })
}

/// Writes an outbound message: its outbox row (threaded), its record, its timeline and audit
/// entries, in the caller's transaction. Nothing is sent here; the outbox worker sends it.
pub fn send(
    conn: &mut AnyConnection,
    settings: &Settings,
    user: &AuthUser,
    incident: &Incident,
    to: &Recipient,
    subject: &str,
    body: &str,
) -> ApiResult<Message> {
    let (party, addresses) = party_and_addresses(conn, incident, to)?;
    if addresses.is_empty() {
        return Err(ApiError::Validation(vec![FieldError::new("to", "no e-mail address reaches this recipient")]));
    }
    let thread = match db::messages::last_with(conn, &incident.id, &addresses)? {
        Some((parent, mut refs)) => {
            refs.push(parent.clone());
            let skip = refs.len().saturating_sub(MAX_REFERENCES);
            Thread { in_reply_to: Some(parent), references: refs.split_off(skip) }
        }
        None => Thread::default(),
    };
    let id = db::new_id();
    let from_label = match user.role {
        Role::Reporter => format!("{} ({})", user.name, incident.reference),
        _ => format!("厚生労働省 / MHLW: {}", user.name),
    };
    let url = format!("{}/incidents/{}", settings.public_url(), incident.id);
    let letter = letters::correspondence(&incident.reference, subject, body, &from_label, &url, incident.facts.drill);
    let rendered = templates::render(&letter);
    let dedup_key = format!("message:{id}");
    notifications::enqueue(
        conn,
        NewNotification {
            incident_id: Some(incident.id.clone()),
            kind: KIND.into(),
            authority: party.authority,
            contact_id: party.id.clone().filter(|_| party.kind == MessageParty::Contact),
            dedup_key: dedup_key.clone(),
            recipients: addresses.clone(),
            locale: Locale::Ja,
            subject: rendered.subject.clone(),
            body_text: rendered.text,
            body_html: rendered.html,
            thread: thread.clone(),
        },
        &outbox::mail_domain(settings),
    )?;
    let note = notifications::by_dedup_key(conn, &dedup_key)?.ok_or(ApiError::NotFound)?;
    let message = Message {
        id,
        incident_id: Some(incident.id.clone()),
        channel: MessageChannel::Email,
        direction: MessageDirection::Out,
        message_id: Some(note.message_id.clone()),
        in_reply_to: thread.in_reply_to.clone(),
        from_address: Some(settings.mail_from.clone()),
        from_name: Some(user.name.clone()),
        // The duty officers' own addresses are the ministry's business: the record says "ministry".
        to: if *to == Recipient::Ministry { Vec::new() } else { addresses },
        cc: Vec::new(),
        subject: rendered.subject,
        body: body.trim().to_owned(),
        sent_at: Some(db::now()),
        party: party.kind,
        party_id: party.id,
        party_label: party.label,
        authority: party.authority,
        auto_reply: false,
        sender_check: SenderCheck::Unknown,
        matched_by: None,
        inbox_reason: None,
        notification_id: Some(note.id),
        author_id: Some(user.id.clone()),
        size: 0,
        attachments: Vec::new(),
        created_at: db::now(),
    };
    db::messages::insert(
        conn,
        &NewMessage { message: message.clone(), references: thread.references, contents: Vec::new() },
    )?;
    record(conn, user, &message, "message.sent")?;
    Ok(message)
}

/// A phone call as an officer logged it.
#[derive(Debug, Clone)]
pub struct Call {
    pub direction: MessageDirection,
    /// Who was on the other end, as the officer wrote it.
    pub with: String,
    pub at: DateTime<Utc>,
    pub summary: String,
    /// The authority, when the call was with one; otherwise it was with the hospital.
    pub authority: Option<Authority>,
}

/// Records a phone call on the incident (timeline and audit), in the caller's transaction.
pub fn log_call(conn: &mut AnyConnection, user: &AuthUser, incident: &Incident, call: Call) -> ApiResult<Message> {
    let message = Message {
        id: db::new_id(),
        incident_id: Some(incident.id.clone()),
        channel: MessageChannel::Phone,
        direction: call.direction,
        message_id: None,
        in_reply_to: None,
        from_address: None,
        from_name: None,
        to: Vec::new(),
        cc: Vec::new(),
        subject: String::new(),
        body: call.summary,
        sent_at: Some(call.at),
        party: if call.authority.is_some() { MessageParty::Contact } else { MessageParty::Hospital },
        party_id: None,
        party_label: Some(call.with),
        authority: call.authority,
        auto_reply: false,
        sender_check: SenderCheck::Unknown,
        matched_by: None,
        inbox_reason: None,
        notification_id: None,
        author_id: Some(user.id.clone()),
        size: 0,
        attachments: Vec::new(),
        created_at: db::now(),
    };
    db::messages::insert(conn, &NewMessage { message: message.clone(), references: Vec::new(), contents: Vec::new() })?;
    record(conn, user, &message, "call.logged")?;
    Ok(message)
}

fn record(conn: &mut AnyConnection, user: &AuthUser, m: &Message, action: &str) -> ApiResult<()> {
    let incident_id = m.incident_id.as_deref().unwrap_or_default();
    db::updates::add(
        conn,
        incident_id,
        crate::domain::UpdateKind::Message,
        None,
        m.timeline_data(),
        Some((&user.id, &user.name)),
    )?;
    crate::api::audit_by(
        conn,
        user,
        action,
        ("message", &m.id),
        Some(incident_id),
        serde_json::json!({"channel": m.channel, "direction": m.direction, "party": m.party, "party_id": m.party_id,
                           "authority": m.authority, "to": m.to, "notification": m.notification_id}),
    )
}
