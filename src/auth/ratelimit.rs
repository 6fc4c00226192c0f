//! A fixed-window limiter keyed by client address, for sign-in. The client address is the peer,
//! or the first address of a configured header when hikeshi sits behind a trusted reverse proxy.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;

pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    buckets: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        RateLimiter { per_window, window, buckets: Mutex::new(HashMap::new()) }
    }

    /// Counts one attempt; `Err(seconds)` when the client must wait.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if b.len() > 100_000 {
            // Bounded memory under a spray of addresses: forget expired windows.
            b.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = b.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_window {
            let wait = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(wait.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// The client address: from `header` (first entry) when configured, else the TCP peer.
pub fn client_ip(req: &HttpRequest, header: Option<&str>) -> Option<IpAddr> {
    if let Some(h) = header {
        if let Some(v) = req.headers().get(h).and_then(|v| v.to_str().ok()) {
            if let Some(ip) = v.split(',').next().and_then(|s| s.trim().parse().ok()) {
                return Some(ip);
            }
        }
    }
    req.peer_addr().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_refused_after_its_allowance_and_others_are_not() {
        let l = RateLimiter::new(3, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(l.check(a).is_ok());
        }
        assert!(l.check(a).is_err());
        assert!(l.check(b).is_ok());
    }
}
