//! A fixed-window limiter keyed by client address, and the client address itself: the peer, or,
//! behind a reverse proxy listed in `trusted_proxies`, the address that proxy forwarded.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use ipnet::IpNet;

/// Clients tracked at most (about 48 bytes each: 5 MB). A spray of addresses beyond it, once the
/// expired windows are forgotten, shares one bucket: new clients are limited together rather than
/// the map growing without end.
pub const MAX_CLIENTS: usize = 100_000;

pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    buckets: Mutex<Buckets>,
}

struct Buckets {
    windows: HashMap<IpAddr, (Instant, u32)>,
    pruned_at: Instant,
}

/// The key a client is counted under: an IPv4 address, or the /64 network of an IPv6 address (one
/// subscriber usually holds a whole /64, so single addresses would be free to rotate).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
        v4 => v4,
    }
}

/// The bucket shared by the clients that arrive while the map is full.
const OVERFLOW: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

impl RateLimiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        let buckets = Buckets { windows: HashMap::new(), pruned_at: Instant::now() };
        RateLimiter { per_window, window, buckets: Mutex::new(buckets) }
    }

    /// Counts one attempt; `Err(seconds)` when the client must wait.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.check_bounded(ip, MAX_CLIENTS)
    }

    fn check_bounded(&self, ip: IpAddr, max_clients: usize) -> Result<(), u64> {
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let mut key = client_key(ip);
        if b.windows.len() >= max_clients && !b.windows.contains_key(&key) {
            // Forget expired windows, at most once a window (a scan of the map under the lock).
            if now.duration_since(b.pruned_at) >= self.window {
                let window = self.window;
                b.windows.retain(|_, (start, _)| now.duration_since(*start) < window);
                b.windows.shrink_to_fit();
                b.pruned_at = now;
            }
            if b.windows.len() >= max_clients {
                key = OVERFLOW;
            }
        }
        let entry = b.windows.entry(key).or_insert((now, 0));
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

    #[cfg(test)]
    fn clients(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).windows.len()
    }
}

/// Parses `trusted_proxies`: CIDRs, or single addresses (a /32 or /128).
pub fn parse_proxies(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is not a CIDR such as 10.0.0.0/8 or an address"))
        })
        .collect()
}

/// The client address. From a peer in `trusted` (a reverse proxy), `X-Forwarded-For` is read from
/// its end: each proxy appends the address it received from, so the first address from the right
/// that is not itself a trusted proxy is the client; what lies left of it was sent by the client and
/// is never believed. From any other peer the header is ignored.
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.iter().any(|n| n.contains(&peer)) {
        return Some(peer);
    }
    let forwarded = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    let mut client = peer;
    for hop in forwarded.iter().flat_map(|v| v.split(',')).rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else { break };
        client = ip;
        if !trusted.iter().any(|n| n.contains(&ip)) {
            break;
        }
    }
    Some(client)
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
    fn a_spray_of_addresses_is_held_to_the_bound_and_shares_one_allowance() {
        let l = RateLimiter::new(3, Duration::from_secs(60));
        let max = 50;
        for i in 0..max as u32 {
            assert!(l.check_bounded(IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i)), max).is_ok());
        }
        // Beyond the bound (nothing has expired yet) every new address counts against one bucket.
        let extra: Vec<IpAddr> = (0..4u32).map(|i| IpAddr::from(std::net::Ipv4Addr::from(0x0b00_0000 + i))).collect();
        assert!(extra[..3].iter().all(|ip| l.check_bounded(*ip, max).is_ok()));
        assert!(l.check_bounded(extra[3], max).is_err(), "the shared bucket is spent");
        assert_eq!(l.clients(), max + 1);
        // Clients already known keep their own allowance.
        assert!(l.check_bounded(IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000)), max).is_ok());
    }

    #[test]
    fn addresses_of_one_ipv6_subscriber_count_together() {
        let l = RateLimiter::new(2, Duration::from_secs(60));
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(l.check(a).is_ok() && l.check(b).is_ok());
        assert!(l.check(a).is_err(), "the same /64");
        assert!(l.check(c).is_ok(), "another /64");
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn behind_a_trusted_proxy_the_address_it_appended_counts_and_a_spoofed_one_does_not() {
        let trusted = parse_proxies(&["10.0.0.0/8".into()]).unwrap();
        let from = |peer: &str, xff: &str| {
            actix_web::test::TestRequest::default()
                .peer_addr(format!("{peer}:4000").parse().unwrap())
                .insert_header(("X-Forwarded-For", xff))
                .to_http_request()
        };
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // Through the trusted proxy: the address it appended, not the one the client wrote.
        let via_proxy = from("10.0.0.1", "198.51.100.7, 203.0.113.9");
        assert_eq!(client_ip(&via_proxy, &trusted), ip("203.0.113.9"));
        // Through two trusted proxies: still the first untrusted address from the right.
        assert_eq!(client_ip(&from("10.0.0.1", "198.51.100.7, 203.0.113.9, 10.0.0.2"), &trusted), ip("203.0.113.9"));
        // From anyone else, the header is ignored.
        assert_eq!(client_ip(&from("203.0.113.50", "198.51.100.7"), &trusted), ip("203.0.113.50"));
        assert_eq!(client_ip(&via_proxy, &[]), ip("10.0.0.1"));
        // Garbage in the header stops the walk at the last good address.
        assert_eq!(client_ip(&from("10.0.0.1", "x, 203.0.113.9"), &trusted), ip("203.0.113.9"));
        assert_eq!(client_ip(&from("10.0.0.1", "not-an-address"), &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn proxies_are_cidrs_or_addresses() {
        assert_eq!(parse_proxies(&["10.0.0.0/8".into(), "::1".into()]).unwrap().len(), 2);
        assert!(parse_proxies(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_proxies(&["anyone".into()]).is_err());
    }
}
