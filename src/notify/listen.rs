//! Waking the outbox sender across instances (PostgreSQL). Every enqueue (and resend) also sends
//! `NOTIFY hikeshi_outbox` in its transaction, which PostgreSQL delivers at commit; each instance
//! that runs the sender keeps one connection that `LISTEN`s and wakes its sender at once, whichever
//! instance took the request. The poll interval (`HIKESHI_WORKER__POLL_MS`) stays as the fallback
//! for a listener that is reconnecting. SQLite has one process per database: the in-process wake
//! after each commit is enough there.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use tokio::sync::{watch, Notify};

use crate::db::notifications::CHANNEL;

/// How often the listener looks at its connection for delivered notifications. Looking is a
/// non-blocking read of the socket, not a query.
const LOOK_EVERY: Duration = Duration::from_millis(20);

/// Listens until `stop` turns true, reconnecting (after a second, then up to 30) when the
/// connection fails. Runs on a thread of its own: each look is a short system call.
pub fn listen(url: &str, wake: Arc<Notify>, stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_secs(1);
    while !*stop.borrow() {
        match listen_once(url, &wake, &stop) {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "outbox listener lost its connection; the sender polls until it is back");
                // Whatever was notified meanwhile is found by the sender's next look.
                wake.notify_one();
                let until = std::time::Instant::now() + backoff;
                while std::time::Instant::now() < until && !*stop.borrow() {
                    std::thread::sleep(LOOK_EVERY);
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

fn listen_once(url: &str, wake: &Notify, stop: &watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(url)?;
    conn.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    tracing::debug!("outbox listener connected");
    // Rows enqueued before LISTEN took effect are not lost: the sender looks once now.
    wake.notify_one();
    while !*stop.borrow() {
        let mut woken = false;
        for n in conn.notifications_iter() {
            n?;
            woken = true;
        }
        if woken {
            wake.notify_one();
        }
        std::thread::sleep(LOOK_EVERY);
    }
    Ok(())
}
