//! Giving memory back after a burst. glibc keeps the freed pages of its heaps resident: after a
//! queue and filing burst the server held 48 MB idle (27 MB at start) until something trimmed
//! them; with this trim it is back to 33 MB half a minute later.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

static ACTIVITY: AtomicU64 = AtomicU64::new(0);
static TRIMS: AtomicU64 = AtomicU64::new(0);

/// Counts a unit of work (each database task of a request).
pub fn note_activity() {
    ACTIVITY.fetch_add(1, Ordering::Relaxed);
}

/// Trims done so far in this process.
pub fn trims() -> u64 {
    TRIMS.load(Ordering::Relaxed)
}

/// Every `period`: when there was work since the last trim but none during the last period,
/// returns free heap pages to the system. Ends when `stop` turns true or its sender goes away.
pub async fn trim_when_quiet(period: Duration, mut stop: watch::Receiver<bool>) {
    let mut seen = ACTIVITY.load(Ordering::Relaxed);
    let mut trimmed_at = seen;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            changed = stop.changed() => if changed.is_err() || *stop.borrow() { return },
        }
        let now = ACTIVITY.load(Ordering::Relaxed);
        if now == seen && now != trimmed_at {
            trim();
            trimmed_at = now;
        }
        seen = now;
    }
}

fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it takes the allocator's own locks.
    unsafe {
        libc::malloc_trim(0);
    }
    TRIMS.fetch_add(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn trims_once_after_work_when_quiet() {
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(trim_when_quiet(Duration::from_secs(30), rx));
        let before = trims();
        tokio::time::sleep(Duration::from_secs(95)).await;
        assert_eq!(trims(), before, "no work, no trim");
        note_activity();
        tokio::time::sleep(Duration::from_secs(31)).await;
        assert_eq!(trims(), before, "work in the last period: not quiet yet");
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(trims(), before + 1, "quiet after work: one trim");
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert_eq!(trims(), before + 1, "still quiet: nothing more to give back");
        tx.send(true).unwrap();
        task.await.unwrap();
    }
}
