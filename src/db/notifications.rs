//! The transactional outbox: every e-mail is a row written in the same transaction as the change
//! that caused it, then claimed and sent by a worker. Several workers on PostgreSQL claim with
//! `FOR UPDATE SKIP LOCKED` plus a lease, so no row is sent by two of them at once.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::conn::AnyConnection;
use super::schema::notifications;
use super::{from_json, parse_enum, to_json, ts, utc, DbResult};
use crate::domain::{Authority, Locale, NotificationStatus};

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = notifications)]
#[diesel(treat_none_as_default_value = false)] // None is NULL: rows insert many to a statement on SQLite too
struct NotificationRow {
    id: String,
    incident_id: Option<String>,
    kind: String,
    authority: Option<String>,
    contact_id: Option<String>,
    dedup_key: String,
    recipients: String,
    locale: String,
    subject: String,
    body_text: String,
    body_html: String,
    message_id: String,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    locked_until: Option<NaiveDateTime>,
    last_error: Option<String>,
    sent_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    in_reply_to: Option<String>,
    thread_references: Option<String>,
}

/// The thread an outbound message continues (RFC 5322 §3.6.4): ids without angle brackets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thread {
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
}

/// A message to enqueue.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub incident_id: Option<String>,
    /// authority_report, status_report, reminder, overdue, dead_letter, dispatch_assigned, ...
    pub kind: String,
    pub authority: Option<Authority>,
    pub contact_id: Option<String>,
    /// Unique: the same key is never enqueued twice (nobody is told twice for the same stage).
    pub dedup_key: String,
    pub recipients: Vec<String>,
    pub locale: Locale,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// Empty for everything but correspondence.
    pub thread: Thread,
}

/// A notification as shown to officers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: String,
    pub incident_id: Option<String>,
    pub kind: String,
    pub authority: Option<Authority>,
    /// Absent for callers who may not see where mail went (responders, liaisons).
    pub contact_id: Option<String>,
    /// The addresses; empty for callers who may not see them (responders, liaisons).
    pub recipients: Vec<String>,
    pub locale: Locale,
    pub subject: String,
    /// The stable Message-ID (a retry carries the same one, so receivers can de-duplicate).
    pub message_id: String,
    pub status: NotificationStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A claimed message with its body, for the worker.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub n: Notification,
    /// Its unique key (a webhook delivery's names its subscription).
    pub dedup_key: String,
    pub body_text: String,
    pub body_html: String,
    pub thread: Thread,
}

fn decode(r: NotificationRow) -> DbResult<Claimed> {
    Ok(Claimed {
        thread: Thread {
            in_reply_to: r.in_reply_to.clone(),
            references: r.thread_references.as_deref().unwrap_or("").split_whitespace().map(str::to_owned).collect(),
        },
        dedup_key: r.dedup_key.clone(),
        n: Notification {
            authority: r.authority.as_deref().map(parse_enum).transpose()?,
            recipients: from_json(&r.recipients)?,
            locale: parse_enum(&r.locale)?,
            status: parse_enum(&r.status)?,
            id: r.id,
            incident_id: r.incident_id,
            kind: r.kind,
            contact_id: r.contact_id,
            subject: r.subject,
            message_id: r.message_id,
            attempts: r.attempts,
            next_attempt_at: utc(r.next_attempt_at),
            last_error: r.last_error,
            sent_at: r.sent_at.map(utc),
            created_at: utc(r.created_at),
        },
        body_text: r.body_text,
        body_html: r.body_html,
    })
}

/// Enqueues unless the dedup key exists; true when a row was written.
pub fn enqueue(conn: &mut AnyConnection, n: NewNotification, mail_domain: &str) -> DbResult<bool> {
    Ok(enqueue_many(conn, vec![n], mail_domain)? == 1)
}

/// Enqueues each message whose dedup key does not exist yet, in one statement; returns how many
/// were written. On PostgreSQL a trigger (migration 000012) sends `NOTIFY` with the insert.
pub fn enqueue_many(conn: &mut AnyConnection, messages: Vec<NewNotification>, mail_domain: &str) -> DbResult<usize> {
    if messages.is_empty() {
        return Ok(0);
    }
    let now = ts(super::now());
    let rows: Vec<NotificationRow> = messages
        .into_iter()
        .map(|n| {
            let id = super::new_id();
            NotificationRow {
                message_id: format!("{id}@{mail_domain}"),
                id,
                incident_id: n.incident_id,
                kind: n.kind,
                authority: n.authority.map(|a| a.as_str().into()),
                contact_id: n.contact_id,
                dedup_key: n.dedup_key,
                recipients: to_json(&n.recipients),
                locale: n.locale.as_str().into(),
                subject: n.subject,
                body_text: n.body_text,
                body_html: n.body_html,
                status: NotificationStatus::Pending.as_str().into(),
                attempts: 0,
                next_attempt_at: now,
                locked_until: None,
                last_error: None,
                sent_at: None,
                created_at: now,
                updated_at: now,
                in_reply_to: n.thread.in_reply_to,
                thread_references: (!n.thread.references.is_empty()).then(|| n.thread.references.join(" ")),
            }
        })
        .collect();
    // PostgreSQL binds at most 65,535 parameters per statement (22 per row): an advisory to every
    // hospital of the country is written in several statements.
    let mut written = 0;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        written += crate::with_inner!(conn, |c| diesel::insert_into(notifications::table)
            .values(chunk)
            .on_conflict(notifications::dedup_key)
            .do_nothing()
            .execute(c))?;
    }
    Ok(written)
}

/// Rows per multi-row insert (far under PostgreSQL's bound-parameter limit).
const ROWS_PER_INSERT: usize = 1000;

/// The notification written with `dedup_key`, if any.
pub fn by_dedup_key(conn: &mut AnyConnection, dedup_key: &str) -> DbResult<Option<Notification>> {
    notifications::table
        .filter(notifications::dedup_key.eq(dedup_key.to_owned()))
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()?
        .map(|r| decode(r).map(|c| c.n))
        .transpose()
}

/// The PostgreSQL channel that tells outbox listeners of every instance that rows are due
/// (`crate::notify::listen`).
pub const CHANNEL: &str = "hikeshi_outbox";

/// `NOTIFY`, delivered at commit (and not at all on rollback); several in one transaction reach a
/// listener as one. Inserts announce themselves (a trigger); this is for rows queued again.
/// Nothing on SQLite, which has one process per database.
fn announce(conn: &mut AnyConnection) -> DbResult<()> {
    use diesel::connection::SimpleConnection;
    if let AnyConnection::Postgresql(c) = conn {
        c.batch_execute(&format!("NOTIFY {CHANNEL}"))?;
    }
    Ok(())
}

/// `status IN ('pending', 'failed')` written into the statement's text, not bound: only then can
/// PostgreSQL's prepared (generic) plan use the partial index `notifications_waiting`, which holds
/// waiting messages alone in due order (bound, the claim sorted every waiting row: 34 ms at 50,000
/// waiting against 0.12 ms).
fn waiting() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>("status IN ('pending', 'failed')")
}

/// Claims up to `limit` due messages for `lease`: each claim counts as an attempt, so a process
/// that dies mid-send still moves the message towards `dead` rather than retrying forever.
pub fn claim_due(conn: &mut AnyConnection, now: DateTime<Utc>, lease: Duration, limit: i64) -> DbResult<Vec<Claimed>> {
    let now_ts = ts(now);
    macro_rules! due {
        () => {
            notifications::table
                .filter(waiting())
                .filter(notifications::next_attempt_at.le(now_ts))
                .filter(notifications::locked_until.is_null().or(notifications::locked_until.lt(now_ts)))
                .order(notifications::next_attempt_at.asc())
                .limit(limit)
                .select(notifications::id)
        };
    }
    conn.write_transaction(|conn| {
        let ids: Vec<String> = match conn {
            AnyConnection::Postgresql(c) => due!().for_update().skip_locked().load(c)?,
            // SQLite: BEGIN IMMEDIATE already excludes every other writer.
            AnyConnection::Sqlite(c) => due!().load(c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(notifications::table.filter(notifications::id.eq_any(&ids)))
            .set((
                notifications::locked_until.eq(ts(now + lease)),
                notifications::attempts.eq(notifications::attempts + 1),
                notifications::updated_at.eq(now_ts),
            ))
            .execute(conn)?;
        notifications::table
            .filter(notifications::id.eq_any(&ids))
            .select(NotificationRow::as_select())
            .load(conn)?
            .into_iter()
            .map(decode)
            .collect()
    })
}

/// Marks delivered messages sent, in one statement.
pub fn mark_sent(conn: &mut AnyConnection, ids: &[&str]) -> DbResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let now = ts(super::now());
    diesel::update(notifications::table.filter(notifications::id.eq_any(ids)))
        .set((
            notifications::status.eq(NotificationStatus::Sent.as_str()),
            notifications::sent_at.eq(Some(now)),
            notifications::locked_until.eq(None::<NaiveDateTime>),
            notifications::last_error.eq(None::<String>),
            notifications::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: retry at `next_at`, or `dead` when `dead` is true. Returns the status set.
pub fn mark_failed(
    conn: &mut AnyConnection,
    id: &str,
    error: &str,
    next_at: DateTime<Utc>,
    dead: bool,
) -> DbResult<NotificationStatus> {
    let status = if dead { NotificationStatus::Dead } else { NotificationStatus::Failed };
    let error: String = error.chars().take(500).collect();
    diesel::update(notifications::table.filter(notifications::id.eq(id)))
        .set((
            notifications::status.eq(status.as_str()),
            notifications::last_error.eq(Some(error)),
            notifications::next_attempt_at.eq(ts(next_at)),
            notifications::locked_until.eq(None::<NaiveDateTime>),
            notifications::updated_at.eq(ts(super::now())),
        ))
        .execute(conn)?;
    Ok(status)
}

/// Every column of a row but the bodies, which lists never show (empty strings in their place, so
/// an incident's list holds subjects and states, not every letter sent about it).
macro_rules! without_bodies {
    () => {
        (
            notifications::id,
            notifications::incident_id,
            notifications::kind,
            notifications::authority,
            notifications::contact_id,
            notifications::dedup_key,
            notifications::recipients,
            notifications::locale,
            notifications::subject,
            diesel::dsl::sql::<diesel::sql_types::Text>("''"),
            diesel::dsl::sql::<diesel::sql_types::Text>("''"),
            notifications::message_id,
            notifications::status,
            notifications::attempts,
            notifications::next_attempt_at,
            notifications::locked_until,
            notifications::last_error,
            notifications::sent_at,
            notifications::created_at,
            notifications::updated_at,
            notifications::in_reply_to,
            notifications::thread_references,
        )
    };
}

/// An incident's notifications, oldest first, without their bodies.
pub fn for_incident(conn: &mut AnyConnection, incident_id: &str) -> DbResult<Vec<Notification>> {
    notifications::table
        .filter(notifications::incident_id.eq(incident_id))
        .select(without_bodies!())
        .order(notifications::id.asc())
        .load::<NotificationRow>(conn)?
        .into_iter()
        .map(|r| decode(r).map(|c| c.n))
        .collect()
}

pub fn get(conn: &mut AnyConnection, id: &str) -> DbResult<Option<Notification>> {
    notifications::table
        .filter(notifications::id.eq(id))
        .select(without_bodies!())
        .first::<NotificationRow>(conn)
        .optional()?
        .map(|r| decode(r).map(|c| c.n))
        .transpose()
}

/// Queues a message again now. A message already delivered gets a new Message-ID, so the
/// receiver does not discard the resend as a duplicate.
pub fn resend(conn: &mut AnyConnection, id: &str, mail_domain: &str) -> DbResult<bool> {
    let Some(n) = get(conn, id)? else { return Ok(false) };
    let now = ts(super::now());
    let message_id = if n.status == NotificationStatus::Sent {
        format!("{}.{}@{mail_domain}", n.id, super::new_id())
    } else {
        n.message_id.clone()
    };
    diesel::update(notifications::table.filter(notifications::id.eq(id)))
        .set((
            notifications::status.eq(NotificationStatus::Pending.as_str()),
            notifications::attempts.eq(0),
            notifications::next_attempt_at.eq(now),
            notifications::locked_until.eq(None::<NaiveDateTime>),
            notifications::message_id.eq(message_id),
            notifications::updated_at.eq(now),
        ))
        .execute(conn)?;
    announce(conn)?;
    Ok(true)
}

/// Counts by status (for `/metrics`).
/// When the oldest message still waiting (pending or retrying) was enqueued.
pub fn oldest_waiting_since(conn: &mut AnyConnection) -> DbResult<Option<DateTime<Utc>>> {
    let t: Option<NaiveDateTime> =
        notifications::table.filter(waiting()).select(diesel::dsl::min(notifications::created_at)).first(conn)?;
    Ok(t.map(utc))
}

pub fn count_by_status(conn: &mut AnyConnection, status: NotificationStatus) -> DbResult<i64> {
    Ok(notifications::table.filter(notifications::status.eq(status.as_str())).count().get_result(conn)?)
}

/// The earliest time a pending or failed message becomes due (the worker sleeps until then).
pub fn next_due(conn: &mut AnyConnection) -> DbResult<Option<DateTime<Utc>>> {
    let t: Option<NaiveDateTime> =
        notifications::table.filter(waiting()).select(diesel::dsl::min(notifications::next_attempt_at)).first(conn)?;
    Ok(t.map(utc))
}

/// Ends the deliveries still waiting for a removed webhook subscription: `dead`, with the reason,
/// and no alert (nobody is left to receive them).
pub fn end_webhook_deliveries(conn: &mut AnyConnection, webhook_id: &str, reason: &str) -> DbResult<usize> {
    use super::schema::notifications as n;
    let waiting = [NotificationStatus::Pending.as_str(), NotificationStatus::Failed.as_str()];
    Ok(diesel::update(
        n::table
            .filter(n::kind.eq(crate::notify::webhooks::KIND))
            .filter(n::dedup_key.like(format!("{}%", crate::notify::webhooks::keys_of(webhook_id))))
            .filter(n::status.eq_any(waiting)),
    )
    .set((
        n::status.eq(NotificationStatus::Dead.as_str()),
        n::last_error.eq(reason),
        n::updated_at.eq(ts(super::now())),
    ))
    .execute(conn)?)
}
