//! Correspondence: e-mail read from the inbox, e-mail written in hikeshi, phone calls; and the
//! attachments of inbound mail (kept, never opened).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::incidents::Incident;
use super::schema::{contacts, message_attachments, messages, notifications, users};
use super::{from_json, parse_enum, to_json, ts, utc, AnyConnection, DbResult, LiteralLimitDsl};
use crate::domain::correspondence::Sender;
use crate::domain::{Authority, MessageChannel, MessageDirection, MessageParty, Role, SenderCheck};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = messages)]
#[diesel(treat_none_as_default_value = false)]
struct MessageRow {
    id: String,
    incident_id: Option<String>,
    channel: String,
    direction: String,
    message_id: Option<String>,
    in_reply_to: Option<String>,
    thread_references: String,
    from_address: Option<String>,
    from_name: Option<String>,
    to_addresses: String,
    cc_addresses: String,
    subject: String,
    body: String,
    sent_at: Option<NaiveDateTime>,
    party_kind: String,
    party_id: Option<String>,
    party_label: Option<String>,
    authority: Option<String>,
    auto_reply: bool,
    sender_check: String,
    matched_by: Option<String>,
    inbox_reason: Option<String>,
    notification_id: Option<String>,
    author_id: Option<String>,
    raw_size: i64,
    created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = message_attachments)]
struct AttachmentRow {
    id: String,
    message_id: String,
    position: i32,
    filename: Option<String>,
    declared_type: Option<String>,
    sniffed_type: Option<String>,
    size: i64,
    sha256: String,
    content: Option<Vec<u8>>,
    created_at: NaiveDateTime,
}

/// An attachment as listed: what it claims to be, what its bytes look like, and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Attachment {
    pub id: String,
    /// The file name the sender gave (never used as a path).
    pub filename: Option<String>,
    /// The media type the message declared.
    pub declared_type: Option<String>,
    /// The media type its first bytes show, where known (`application/x-msdownload`, `application/pdf`, ...).
    pub sniffed_type: Option<String>,
    pub size: i64,
    /// SHA-256 of the decoded content, lower-case hex.
    pub sha256: String,
    /// Whether the content is kept (false: larger than the limit; its size and hash are still known).
    pub stored: bool,
}

/// One piece of correspondence: an e-mail in or out, or a phone call.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Message {
    pub id: String,
    /// Absent while the message waits in the officers' inbox.
    pub incident_id: Option<String>,
    pub channel: MessageChannel,
    pub direction: MessageDirection,
    /// The e-mail's Message-ID (without angle brackets).
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// The sender's address (inbound), or hikeshi's (outbound); absent for calls.
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// The text (HTML mail reduced to text; never rendered as HTML), or a call's summary.
    pub body: String,
    /// The Date header, or when the call took place.
    pub sent_at: Option<DateTime<Utc>>,
    /// Who the other side is.
    pub party: MessageParty,
    /// The contact's or user's id, when known.
    pub party_id: Option<String>,
    /// The other side's name as hikeshi knows it (a contact's name, a user's name, who was on the phone).
    pub party_label: Option<String>,
    /// The authority of a contact party.
    pub authority: Option<Authority>,
    /// Sent by a machine (out-of-office reply, bounce, list): kept, answered by nothing.
    pub auto_reply: bool,
    /// What the receiving mail server said of the sender (`Authentication-Results` of the server
    /// named by `HIKESHI_INBOX__TRUSTED_AUTHSERV_ID`): `pass`, `fail` (likely forged: kept off the
    /// incident) or `unknown`. `unknown` for mail written in hikeshi and for calls.
    pub sender_check: SenderCheck,
    /// How an inbound message found its incident: `in_reply_to`, `references`, `subject` or `assigned`.
    pub matched_by: Option<String>,
    /// Why it waits (or waited) in the inbox: `no_match`, `sender_not_party`.
    pub inbox_reason: Option<String>,
    /// The outbox row that carries an outbound e-mail (its delivery status is there).
    pub notification_id: Option<String>,
    /// Who wrote an outbound message or logged a call.
    pub author_id: Option<String>,
    /// Size of the raw message in bytes (e-mail).
    pub size: i64,
    pub attachments: Vec<Attachment>,
    pub created_at: DateTime<Utc>,
}

impl Message {
    /// What the timeline says of a message (the need-to-know policy may cut it down to channel and
    /// direction: `api::need_to_know::timeline`).
    pub fn timeline_data(&self) -> serde_json::Value {
        serde_json::json!({
            "message": self.id, "channel": self.channel, "direction": self.direction, "party": self.party,
            "party_label": self.party_label, "authority": self.authority, "subject": self.subject,
            "auto_reply": self.auto_reply, "attachments": self.attachments.len(),
        })
    }
}

/// A message to store (and its attachments' contents).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub message: Message,
    pub references: Vec<String>,
    /// The content of each attachment in `message.attachments`, `None` where not kept.
    pub contents: Vec<Option<Vec<u8>>>,
}

fn to_row(m: &Message, references: &[String]) -> MessageRow {
    MessageRow {
        id: m.id.clone(),
        incident_id: m.incident_id.clone(),
        channel: m.channel.as_str().into(),
        direction: m.direction.as_str().into(),
        message_id: m.message_id.clone(),
        in_reply_to: m.in_reply_to.clone(),
        thread_references: references.join(" "),
        from_address: m.from_address.clone(),
        from_name: m.from_name.clone(),
        to_addresses: to_json(&m.to),
        cc_addresses: to_json(&m.cc),
        subject: m.subject.clone(),
        body: m.body.clone(),
        sent_at: m.sent_at.map(ts),
        party_kind: m.party.as_str().into(),
        party_id: m.party_id.clone(),
        party_label: m.party_label.clone(),
        authority: m.authority.map(|a| a.as_str().into()),
        auto_reply: m.auto_reply,
        sender_check: m.sender_check.as_str().into(),
        matched_by: m.matched_by.clone(),
        inbox_reason: m.inbox_reason.clone(),
        notification_id: m.notification_id.clone(),
        author_id: m.author_id.clone(),
        raw_size: m.size,
        created_at: ts(m.created_at),
    }
}

fn decode(r: MessageRow, attachments: Vec<Attachment>) -> DbResult<Message> {
    Ok(Message {
        channel: parse_enum(&r.channel)?,
        direction: parse_enum(&r.direction)?,
        to: from_json(&r.to_addresses)?,
        cc: from_json(&r.cc_addresses)?,
        party: parse_enum(&r.party_kind)?,
        sender_check: parse_enum(&r.sender_check)?,
        authority: r.authority.as_deref().map(parse_enum).transpose()?,
        sent_at: r.sent_at.map(utc),
        created_at: utc(r.created_at),
        id: r.id,
        incident_id: r.incident_id,
        message_id: r.message_id,
        in_reply_to: r.in_reply_to,
        from_address: r.from_address,
        from_name: r.from_name,
        subject: r.subject,
        body: r.body,
        party_id: r.party_id,
        party_label: r.party_label,
        auto_reply: r.auto_reply,
        matched_by: r.matched_by,
        inbox_reason: r.inbox_reason,
        notification_id: r.notification_id,
        author_id: r.author_id,
        size: r.raw_size,
        attachments,
    })
}

/// Stores a message with its attachments. `false` (and nothing written) when a message with the
/// same Message-ID is stored already: each e-mail is taken once.
pub fn insert(conn: &mut AnyConnection, m: &NewMessage) -> DbResult<bool> {
    let written = crate::with_inner!(conn, |c| diesel::insert_into(messages::table)
        .values(to_row(&m.message, &m.references))
        .on_conflict_do_nothing()
        .execute(c))?;
    if written == 0 {
        return Ok(false);
    }
    let rows: Vec<AttachmentRow> = m
        .message
        .attachments
        .iter()
        .zip(m.contents.iter().chain(std::iter::repeat(&None)))
        .enumerate()
        .map(|(i, (a, content))| AttachmentRow {
            id: a.id.clone(),
            message_id: m.message.id.clone(),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            filename: a.filename.clone(),
            declared_type: a.declared_type.clone(),
            sniffed_type: a.sniffed_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
            content: content.clone(),
            created_at: ts(m.message.created_at),
        })
        .collect();
    // One row at a time: a statement carrying several large contents would be built in memory at once.
    for row in rows {
        diesel::insert_into(message_attachments::table).values(&row).execute(conn)?;
    }
    Ok(true)
}

/// Whether a message with this Message-ID is stored.
pub fn has_message_id(conn: &mut AnyConnection, message_id: &str) -> DbResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(messages::table.filter(messages::message_id.eq(message_id.to_owned()))))
        .get_result(conn)?)
}

fn attachments_of(conn: &mut AnyConnection, ids: &[String]) -> DbResult<Vec<(String, Attachment)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    /// message id, attachment id, file name, declared type, sniffed type, size, hash, kept.
    type Listed = (String, String, Option<String>, Option<String>, Option<String>, i64, String, bool);
    let rows: Vec<Listed> = message_attachments::table
        .filter(message_attachments::message_id.eq_any(ids.to_vec()))
        .order((message_attachments::message_id, message_attachments::position))
        .select((
            message_attachments::message_id,
            message_attachments::id,
            message_attachments::filename,
            message_attachments::declared_type,
            message_attachments::sniffed_type,
            message_attachments::size,
            message_attachments::sha256,
            message_attachments::content.is_not_null(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(mid, id, filename, declared_type, sniffed_type, size, sha256, stored)| {
            (mid, Attachment { id, filename, declared_type, sniffed_type, size, sha256, stored })
        })
        .collect())
}

fn with_attachments(conn: &mut AnyConnection, rows: Vec<MessageRow>) -> DbResult<Vec<Message>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut by_message: std::collections::HashMap<String, Vec<Attachment>> = std::collections::HashMap::new();
    for (mid, a) in attachments_of(conn, &ids)? {
        by_message.entry(mid).or_default().push(a);
    }
    rows.into_iter()
        .map(|r| {
            let attachments = by_message.remove(&r.id).unwrap_or_default();
            decode(r, attachments)
        })
        .collect()
}

/// An incident's correspondence, oldest first.
pub fn for_incident(conn: &mut AnyConnection, incident_id: &str) -> DbResult<Vec<Message>> {
    let rows = messages::table
        .filter(messages::incident_id.eq(incident_id.to_owned()))
        .order((messages::created_at.asc(), messages::id.asc()))
        .select(MessageRow::as_select())
        .load(conn)?;
    with_attachments(conn, rows)
}

/// The officers' inbox: inbound mail that waits for an incident, newest first, before `before` (an id).
pub fn inbox(conn: &mut AnyConnection, before: Option<&str>, limit: i64) -> DbResult<Vec<Message>> {
    let mut q = messages::table.filter(messages::incident_id.is_null()).select(MessageRow::as_select()).into_boxed();
    if let Some(b) = before {
        q = q.filter(messages::id.lt(b.to_owned()));
    }
    let rows = q.order(messages::id.desc()).literal_limit(limit).load(conn)?;
    with_attachments(conn, rows)
}

pub fn get(conn: &mut AnyConnection, id: &str) -> DbResult<Option<Message>> {
    let Some(row) = messages::table
        .filter(messages::id.eq(id.to_owned()))
        .select(MessageRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    Ok(with_attachments(conn, vec![row])?.pop())
}

/// Puts an inbox message on an incident, with the sender as now classified for it. `false` when
/// the message is no longer in the inbox (another officer was first).
pub fn assign(conn: &mut AnyConnection, id: &str, incident_id: &str, party: &Party) -> DbResult<bool> {
    let n =
        diesel::update(messages::table.filter(messages::id.eq(id.to_owned())).filter(messages::incident_id.is_null()))
            .set((
                messages::incident_id.eq(incident_id.to_owned()),
                messages::matched_by.eq("assigned"),
                messages::party_kind.eq(party.kind.as_str()),
                messages::party_id.eq(party.id.clone()),
                messages::party_label.eq(party.label.clone()),
                messages::authority.eq(party.authority.map(|a| a.as_str())),
            ))
            .execute(conn)?;
    Ok(n == 1)
}

/// The incidents that e-mails with these Message-IDs belong to (sent by hikeshi, or stored), in
/// the order of `ids`.
pub fn incidents_of_message_ids(conn: &mut AnyConnection, ids: &[String]) -> DbResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: Vec<(String, Option<String>)> = notifications::table
        .filter(notifications::message_id.eq_any(ids.to_vec()))
        .select((notifications::message_id, notifications::incident_id))
        .load(conn)?;
    let stored: Vec<(Option<String>, Option<String>)> = messages::table
        .filter(messages::message_id.eq_any(ids.to_vec()))
        .select((messages::message_id, messages::incident_id))
        .load(conn)?;
    found.extend(stored.into_iter().filter_map(|(m, i)| Some((m?, i))));
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|(m, _)| m == id).and_then(|(m, i)| Some((m.clone(), i.clone()?))))
        .collect())
}

/// The newest e-mail of an incident with `address` on the other side (in either direction), whose
/// Message-ID and References an answer continues.
pub fn last_with(
    conn: &mut AnyConnection,
    incident_id: &str,
    addresses: &[String],
) -> DbResult<Option<(String, Vec<String>)>> {
    let inbound: Option<(Option<String>, String, NaiveDateTime)> = messages::table
        .filter(messages::incident_id.eq(incident_id.to_owned()))
        .filter(messages::channel.eq("email"))
        .filter(
            lower(messages::from_address.assume_not_null())
                .eq_any(addresses.iter().map(|a| a.to_lowercase()).collect::<Vec<_>>()),
        )
        .order(messages::created_at.desc())
        .select((messages::message_id, messages::thread_references, messages::created_at))
        .first(conn)
        .optional()?;
    let sent: Vec<(String, String, Option<String>, NaiveDateTime)> = notifications::table
        .filter(notifications::incident_id.eq(incident_id.to_owned()))
        .filter(notifications::kind.ne("webhook"))
        .order(notifications::created_at.desc())
        .select((
            notifications::message_id,
            notifications::recipients,
            notifications::thread_references,
            notifications::created_at,
        ))
        .literal_limit(200)
        .load(conn)?;
    let sent = sent.into_iter().find(|(_, recipients, _, _)| {
        from_json::<Vec<String>>(recipients)
            .map(|r| r.iter().any(|x| addresses.iter().any(|a| a.eq_ignore_ascii_case(x))))
            .unwrap_or(false)
    });
    let refs = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    Ok(match (inbound, sent) {
        (Some((Some(mid), r, at)), Some((_, _, _, sat))) if at >= sat => Some((mid, refs(&r))),
        (Some((Some(mid), r, _)), None) => Some((mid, refs(&r))),
        (_, Some((mid, _, r, _))) => Some((mid, refs(r.as_deref().unwrap_or("")))),
        _ => None,
    })
}

/// The other side of a message as hikeshi names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub kind: MessageParty,
    pub id: Option<String>,
    pub label: Option<String>,
    pub authority: Option<Authority>,
}

impl Party {
    pub fn unknown() -> Self {
        Party { kind: MessageParty::Unknown, id: None, label: None, authority: None }
    }
}

/// Who `address` is, for `incident` or for no incident. Returns the rule's [`Sender`] and the name
/// to show.
pub fn classify_sender(
    conn: &mut AnyConnection,
    incident: Option<&Incident>,
    address: &str,
) -> DbResult<(Sender, Party)> {
    let address = address.trim().to_lowercase();
    if let Some(incident_id) = incident.map(|i| i.id.as_str()) {
        let contact: Option<(String, String, String)> = contacts::table
            .filter(lower(contacts::address).eq(address.clone()))
            .filter(
                contacts::id.nullable().eq_any(
                    notifications::table
                        .filter(notifications::incident_id.eq(incident_id.to_owned()))
                        .select(notifications::contact_id),
                ),
            )
            .select((contacts::id, contacts::authority, contacts::name))
            .first(conn)
            .optional()?;
        if let Some((id, authority, name)) = contact {
            let authority: Authority = parse_enum(&authority)?;
            return Ok((
                Sender::IncidentContact { contact_id: id.clone(), authority },
                Party { kind: MessageParty::Contact, id: Some(id), label: Some(name), authority: Some(authority) },
            ));
        }
    }
    let user: Option<(String, String, String, String)> = users::table
        .filter(lower(users::email).eq(address.clone()))
        .filter(users::active.eq(true))
        .select((users::id, users::org_id, users::role, users::name))
        .first(conn)
        .optional()?;
    if let Some((id, org_id, role, name)) = user {
        let role: Role = parse_enum(&role)?;
        let ministry = matches!(role, Role::DutyOfficer | Role::Admin);
        let own_hospital = incident.is_some_and(|i| i.hospital_id == org_id);
        let (sender, kind) = match (ministry, own_hospital, incident.is_some()) {
            (true, _, _) => (Sender::Ministry { user_id: id.clone(), role }, MessageParty::Ministry),
            (false, true, _) => (Sender::Hospital { user_id: Some(id.clone()) }, MessageParty::Hospital),
            _ => (Sender::Known, MessageParty::Known),
        };
        return Ok((sender, Party { kind, id: Some(id), label: Some(name), authority: None }));
    }
    if let Some(contact_email) = incident.and_then(|i| i.facts.contact.email.as_deref()) {
        if contact_email.trim().eq_ignore_ascii_case(&address) {
            return Ok((
                Sender::Hospital { user_id: None },
                Party { kind: MessageParty::Hospital, id: None, label: None, authority: None },
            ));
        }
    }
    let contact: Option<(String, String, String)> = contacts::table
        .filter(lower(contacts::address).eq(address))
        .select((contacts::id, contacts::authority, contacts::name))
        .first(conn)
        .optional()?;
    Ok(match contact {
        Some((id, authority, name)) => (
            Sender::Known,
            Party {
                kind: MessageParty::Known,
                id: Some(id),
                label: Some(name),
                authority: parse_enum(&authority).ok(),
            },
        ),
        None => (Sender::Unknown, Party::unknown()),
    })
}

/// The stored content of an attachment of a message, if kept.
pub fn attachment_content(
    conn: &mut AnyConnection,
    message_id: &str,
    attachment_id: &str,
) -> DbResult<Option<(Attachment, Vec<u8>)>> {
    let row: Option<AttachmentRow> = message_attachments::table
        .filter(message_attachments::id.eq(attachment_id.to_owned()))
        .filter(message_attachments::message_id.eq(message_id.to_owned()))
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.and_then(|r| {
        let content = r.content?;
        Some((
            Attachment {
                id: r.id,
                filename: r.filename,
                declared_type: r.declared_type,
                sniffed_type: r.sniffed_type,
                size: r.size,
                sha256: r.sha256,
                stored: true,
            },
            content,
        ))
    }))
}
