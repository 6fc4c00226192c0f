//! Background work: the outbox sender, and housekeeping (reminders, overdue deadlines, queue
//! priorities, metrics). Every step is safe with several processes on one PostgreSQL.

use std::time::Duration as StdDuration;

use actix_web::web;
use chrono::Duration;
use futures_util::StreamExt;
use rand::Rng;
use tokio::sync::watch;

use crate::db::{self, notifications, AnyConnection};
use crate::domain::NotificationStatus;
use crate::notify::mailer::{Mailer, OutgoingEmail, SMTP_CONNECTIONS};
use crate::notify::{outbox, webhooks};
use crate::state::AppState;

/// Runs `f` on a pooled connection off the async threads, with the audit key in reach.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&mut AnyConnection) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let pool = state.pool.clone();
    let key = state.audit_key.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        db::audit::with_key(key, || f(&mut conn))
    })
    .await?
}

/// Retry delay after `attempts` failures: exponential from the base, capped, with ±20 % jitter so
/// that many messages failing together do not retry together.
pub fn backoff(attempts: i32, base: i64, max: i64) -> Duration {
    let exp = base.saturating_mul(1i64 << (attempts.clamp(1, 30) - 1)).min(max);
    let jitter = rand::rng().random_range(0.8..1.2);
    Duration::milliseconds((exp as f64 * 1000.0 * jitter) as i64)
}

/// Messages claimed in one trip to the database. Bounds what a sender holds: at most this many
/// messages (subject, recipients, text and HTML bodies) per worker.
pub const CLAIM_BATCH: i64 = 64;
/// Results written in one transaction at most (fewer when fewer are ready: nothing waits to fill it).
const RECORD_BATCH: usize = 32;

/// Claims and sends one batch, `SMTP_CONNECTIONS` at a time, while the results that are ready are
/// recorded together in one transaction (so the database sees one commit per group of sends, not
/// one per e-mail, and a slow server cannot hold finished results past the lease); returns how many
/// were claimed. A message sent but not recorded (the database went away) is sent again when its
/// lease ends: delivery is at least once, and the Message-ID lets the receiver discard the copy.
pub async fn drain_once(state: &web::Data<AppState>, mailer: &Mailer) -> anyhow::Result<usize> {
    let lease = Duration::seconds(state.settings.worker.lease_seconds);
    let batch = blocking(state, move |c| Ok(notifications::claim_due(c, db::now(), lease, CLAIM_BATCH)?)).await?;
    let n = batch.len();
    // Webhook deliveries are signed with their subscription's secrets as they are now.
    let hooks: std::collections::HashMap<String, db::webhooks::Webhook> =
        if batch.iter().any(|c| c.n.kind == webhooks::KIND) {
            blocking(state, |c| Ok(db::webhooks::list(c)?)).await?.into_iter().map(|w| (w.id.clone(), w)).collect()
        } else {
            Default::default()
        };
    let hooks = &hooks;
    // Bounded: a sender waits for the recorder rather than piling results up in memory.
    let (tx, mut rx) = tokio::sync::mpsc::channel(RECORD_BATCH);
    let send_all = async move {
        futures_util::stream::iter(batch)
            .for_each_concurrent(SMTP_CONNECTIONS, |claimed| {
                let tx = tx.clone();
                async move {
                    if claimed.n.kind == webhooks::KIND {
                        let result = if state.settings.worker.deliver_webhooks {
                            webhooks::deliver(&state.http, hooks, &claimed).await
                        } else {
                            Err(crate::notify::mailer::SendError::Rejected("webhook delivery is off here".into()))
                        };
                        let _ = tx.send((claimed.n, result)).await;
                        return;
                    }
                    let email = OutgoingEmail {
                        message_id: claimed.n.message_id.clone(),
                        to: claimed.n.recipients.clone(),
                        subject: claimed.n.subject.clone(),
                        text: claimed.body_text,
                        html: claimed.body_html,
                        in_reply_to: claimed.thread.in_reply_to,
                        references: claimed.thread.references,
                        reply_to: state.settings.inbox.reply_to.clone(),
                        // Reports to authorities are not marked: an intake system may set aside
                        // auto-generated mail, and a statutory report must reach a person.
                        auto_generated: !matches!(
                            claimed.n.kind.as_str(),
                            crate::notify::correspondence::KIND | "authority_report"
                        ),
                    };
                    let result = mailer.send(&email).await;
                    // The receiver lives until every sender has finished.
                    let _ = tx.send((claimed.n, result)).await;
                }
            })
            .await;
    };
    let record_all = async {
        let mut ready = Vec::with_capacity(RECORD_BATCH);
        let mut outcome = Ok(());
        while rx.recv_many(&mut ready, RECORD_BATCH).await > 0 {
            if let Err(e) = record(state, std::mem::take(&mut ready)).await {
                outcome = Err(e); // keep recording the others; the lease brings these back
            }
        }
        outcome
    };
    let ((), recorded) = tokio::join!(send_all, record_all);
    recorded.map(|()| n)
}

type SendResult = Result<(), crate::notify::mailer::SendError>;

/// Records a group of finished sends in one transaction: the delivered in one statement (and the
/// MHLW initial report's obligation fulfilled by its Message-ID), each failure with its retry time
/// or as dead (officers alerted).
async fn record(
    state: &web::Data<AppState>,
    results: Vec<(notifications::Notification, SendResult)>,
) -> anyhow::Result<()> {
    let w = &state.settings.worker;
    let mut sent = Vec::new();
    let mut failed = Vec::new();
    for (note, result) in results {
        match result {
            Ok(()) => sent.push(note),
            Err(e) => {
                tracing::warn!(notification = %note.id, attempts = note.attempts, error = %e, "delivery failed");
                let dead = e.is_permanent() || note.attempts >= w.max_attempts;
                let next = db::now() + backoff(note.attempts, w.backoff_base_seconds, w.backoff_max_seconds);
                failed.push((note, e.to_string(), next, dead));
            }
        }
    }
    state.metrics.notifications_sent.inc_by(sent.len() as u64);
    state.metrics.notifications_failed.inc_by(failed.len() as u64);
    let st = state.clone();
    blocking(state, move |c| {
        c.write_transaction(|c| {
            let ids: Vec<&str> = sent.iter().map(|n| n.id.as_str()).collect();
            notifications::mark_sent(c, &ids)?;
            for note in &sent {
                if note.kind == "authority_report" && note.authority == Some(crate::domain::Authority::Mhlw) {
                    if let Some(i) = &note.incident_id {
                        db::obligations::fulfil_kind(
                            c,
                            i,
                            crate::domain::ObligationKind::MhlwInitial,
                            &note.message_id,
                        )?;
                    }
                }
            }
            for (note, msg, next, dead) in &failed {
                let status = notifications::mark_failed(c, &note.id, msg, *next, *dead)?;
                if status == NotificationStatus::Dead {
                    if let Some(n) = notifications::get(c, &note.id)? {
                        outbox::dead_letter(c, &st.settings, &n)?;
                        if n.kind != webhooks::KIND {
                            webhooks::notification_dead(c, &st, &n)?;
                        }
                    }
                }
            }
            Ok::<_, db::DbError>(())
        })?;
        Ok(())
    })
    .await
}

/// Sends until told to stop; wakes on enqueue (same process) or every poll interval.
pub async fn outbox_loop(state: web::Data<AppState>, mailer: Mailer, mut stop: watch::Receiver<bool>) {
    let poll = StdDuration::from_millis(state.settings.worker.poll_ms);
    loop {
        if *stop.borrow() {
            break;
        }
        let claimed = match drain_once(&state, &mailer).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "outbox drain failed; retrying");
                0
            }
        };
        if claimed > 0 {
            continue; // there may be more right away
        }
        tokio::select! {
            _ = state.outbox_wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => {}
        }
    }
}

/// The waiting time adds to an untriaged incident's priority hour by hour. Only incidents whose next
/// full hour has come are read (`priority_due_at`), `page` at a time (read all at once, a campaign's
/// thousands were held whole in memory and the allocator kept them: heaptrack); per page, one more
/// statement reads their hospitals and one writes every new priority and due time. Returns how many
/// priorities changed.
pub fn refresh_untriaged(
    conn: &mut AnyConnection,
    settings: &crate::config::Settings,
    now: chrono::DateTime<chrono::Utc>,
    page: i64,
) -> anyhow::Result<usize> {
    let mut changed = 0;
    let mut after: Option<String> = None;
    loop {
        let incidents = db::incidents::untriaged_due(conn, now, after.as_deref(), page)?;
        let hospital_ids: Vec<&str> = incidents.iter().map(|i| i.hospital_id.as_str()).collect();
        let hospitals = db::orgs::by_ids(conn, &hospital_ids)?;
        let full = incidents.len() as i64 == page;
        after = incidents.last().map(|i| i.id.clone());
        let priorities: Vec<_> = incidents
            .iter()
            .map(|i| {
                hospitals
                    .get(&i.hospital_id)
                    .map_or_else(|| i.priority.clone(), |h| crate::api::incidents::priority_of(i, h, settings, now))
            })
            .collect();
        let writes: Vec<db::incidents::PriorityChange<'_>> = incidents
            .iter()
            .zip(&priorities)
            .map(|(i, p)| {
                changed += usize::from(*p != i.priority);
                // The factor counts full hours since filing: it next changes at the next full hour.
                let hours = (now - i.reported_at).num_hours().max(0);
                db::incidents::PriorityChange {
                    id: &i.id,
                    version: i.version,
                    priority: p,
                    due_at: i.reported_at + Duration::hours(hours + 1),
                }
            })
            .collect();
        db::incidents::set_priorities(conn, &writes)?;
        if !full {
            return Ok(changed);
        }
    }
}

/// Untriaged incidents read per statement by housekeeping: bounds its memory (about 2.5 MB a page).
const UNTRIAGED_PAGE: i64 = 500;

/// One housekeeping pass: reminders, overdue notices, priorities of waiting incidents, an audit
/// checkpoint when one is due, old sign-in failures, gauges.
pub fn housekeeping_once(conn: &mut AnyConnection, state: &AppState) -> anyhow::Result<usize> {
    let now = db::now();
    let settings = &state.settings;
    let mut enqueued = 0;
    for o in db::obligations::due_for_reminder(conn, now, 100)? {
        enqueued += conn.write_transaction(|c| -> anyhow::Result<usize> {
            if !db::obligations::mark_reminded(c, &o.id)? {
                return Ok(0);
            }
            let Some(i) = db::incidents::get_visible(c, &o.incident_id, &crate::auth::Scope::All)? else {
                return Ok(0);
            };
            let Some(h) = db::orgs::get(c, &i.hospital_id)? else { return Ok(0) };
            Ok(usize::from(outbox::obligation_notice(c, settings, &i, &h, &o, false)?))
        })?;
    }
    for o in db::obligations::newly_overdue(conn, now, 100)? {
        enqueued += conn.write_transaction(|c| -> anyhow::Result<usize> {
            if !db::obligations::mark_overdue_notified(c, &o.id)? {
                return Ok(0);
            }
            let Some(mut i) = db::incidents::get_visible(c, &o.incident_id, &crate::auth::Scope::All)? else {
                return Ok(0);
            };
            let Some(h) = db::orgs::get(c, &i.hospital_id)? else { return Ok(0) };
            i.overdue_obligations = db::obligations::count_overdue(c, &i.id, now)? as i32;
            i.priority = crate::api::incidents::priority_of(&i, &h, settings, now);
            db::incidents::set_overdue(c, &i.id, i.overdue_obligations, &i.priority, now)?;
            db::updates::add(
                c,
                &i.id,
                crate::domain::UpdateKind::Obligation,
                None,
                serde_json::json!({"obligation": o.kind, "overdue": true, "due_at": o.due_at}),
                None,
            )?;
            let about = serde_json::json!({"obligation": {"id": o.id, "kind": o.kind, "due_at": o.due_at}});
            let hooks = webhooks::emit(c, state, crate::domain::WebhookEvent::ObligationOverdue, &i, &h, about, &o.id)?;
            Ok(usize::from(outbox::obligation_notice(c, settings, &i, &h, &o, true)?) + hooks)
        })?;
    }
    refresh_untriaged(conn, settings, now, UNTRIAGED_PAGE)?;
    let due = db::audit::last_checkpoint_at(conn)?
        .is_none_or(|at| now - at >= Duration::seconds(settings.audit_checkpoint_seconds));
    if due {
        for cp in conn.write_transaction(db::audit::checkpoint)? {
            // The log leaves the database: a copy of each checkpoint's MAC outside it.
            tracing::info!(seq = cp.seq, entries = cp.entries, reads = cp.reads, mac = %cp.mac, "audit checkpoint");
        }
    }
    // Failed sign-ins are kept a day (the throttle looks back an hour); the owner's clients a year.
    db::sign_in::prune(conn, now - Duration::days(1), now - Duration::days(365))?;
    state.metrics.outbox_pending.set(
        notifications::count_by_status(conn, NotificationStatus::Pending)?
            + notifications::count_by_status(conn, NotificationStatus::Failed)?,
    );
    let oldest = notifications::oldest_waiting_since(conn)?.map_or(0, |t| (now - t).num_seconds().max(0));
    state.metrics.outbox_oldest_pending_seconds.set(oldest);
    state.metrics.outbox_dead.set(notifications::count_by_status(conn, NotificationStatus::Dead)?);
    state.metrics.obligations_overdue.set(db::obligations::count_all_overdue(conn, now)?);
    Ok(enqueued)
}

/// Runs housekeeping every interval until told to stop.
pub async fn housekeeping_loop(state: web::Data<AppState>, mut stop: watch::Receiver<bool>) {
    let every = StdDuration::from_secs(state.settings.worker.housekeeping_seconds.max(1));
    loop {
        if *stop.borrow() {
            break;
        }
        let st = state.clone();
        match blocking(&state, move |c| housekeeping_once(c, &st)).await {
            Ok(n) if n > 0 => state.outbox_wake.notify_one(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}
