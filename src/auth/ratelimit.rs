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

/// The client address: from `header` when configured, else the TCP peer. Of a list such as
/// `X-Forwarded-For: <client-supplied>, <client>`, the last entry is the one the trusted proxy
/// appended; earlier entries are whatever the client sent and are never trusted.
pub fn client_ip(req: &HttpRequest, header: Option<&str>) -> Option<IpAddr> {
    if let Some(h) = header {
        if let Some(v) = req.headers().get(h).and_then(|v| v.to_str().ok()) {
            if let Some(ip) = v.rsplit(',').next().and_then(|s| s.trim().parse().ok()) {
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

    #[test]
    fn behind_a_proxy_the_address_it_appended_counts_and_a_spoofed_one_does_not() {
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.1:4000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "198.51.100.7, 203.0.113.9"))
            .to_http_request();
        assert_eq!(client_ip(&req, Some("x-forwarded-for")), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(client_ip(&req, None), Some("10.0.0.1".parse().unwrap()));
    }
}
