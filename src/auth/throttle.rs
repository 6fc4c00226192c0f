//! Failed sign-ins make the *client* wait, not the account (OWASP ASVS 4.0.3 2.2.1: anti-automation
//! that does not let an attacker lock the owner out). Each account and client pair has its own
//! count: after `throttle_after` failures that client waits `throttle_first_wait_seconds`, doubled
//! at each further failure up to `throttle_max_minutes`, and its attempts are not even checked while
//! it waits. The owner, on another client, is not kept out by a stranger. Across all clients an
//! account takes at most `account_failures_per_hour` failures an hour before clients the owner has
//! never signed in from wait too (ASVS: no more than 100 failed attempts per hour on one account).
//! The owner is told by e-mail when a client starts to wait.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

use crate::config::AuthSettings;

/// The waits that apply, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub after: i32,
    pub first_wait: Duration,
    pub max_wait: Duration,
    pub account_per_hour: i32,
}

impl Policy {
    pub fn from_settings(a: &AuthSettings) -> Self {
        Policy {
            after: a.throttle_after,
            first_wait: Duration::seconds(a.throttle_first_wait_seconds),
            max_wait: Duration::minutes(a.throttle_max_minutes),
            account_per_hour: a.account_failures_per_hour,
        }
    }

    /// The wait a client earns with its `failures`-th failure in a row: none below the threshold,
    /// then the first wait, doubled at each further failure, never above the longest.
    pub fn wait_after(&self, failures: i32) -> Option<Duration> {
        if failures < self.after {
            return None;
        }
        let doublings = (failures - self.after).clamp(0, 30) as u32;
        let wait = self.first_wait.num_seconds().saturating_mul(1i64 << doublings);
        Some(Duration::seconds(wait).min(self.max_wait))
    }

    /// How long this client must still wait before an attempt is checked, if at all.
    pub fn must_wait(&self, s: &Standing, now: DateTime<Utc>) -> Option<Duration> {
        if let Some(until) = s.wait_until.filter(|t| *t > now) {
            return Some(until - now);
        }
        if !s.known_client && s.account_failures_last_hour >= i64::from(self.account_per_hour) {
            return Some(self.first_wait);
        }
        None
    }
}

/// What is recorded about an account and client before an attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// This client's wait, if it earned one.
    pub wait_until: Option<DateTime<Utc>>,
    /// The owner has signed in from this client before.
    pub known_client: bool,
    /// Failures of the account in the last hour, from every client.
    pub account_failures_last_hour: i64,
}

/// The client as throttling counts it: an IPv4 address, or the /64 network of an IPv6 address
/// (one subscriber usually holds a whole /64, so single addresses would be free to rotate).
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::from_settings(&AuthSettings::default())
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn waits_start_at_the_threshold_double_and_stop_growing_at_the_longest() {
        let p = policy();
        let table =
            [(1, None), (4, None), (5, Some(30)), (6, Some(60)), (7, Some(120)), (9, Some(480)), (10, Some(900))];
        for (failures, wait) in table {
            assert_eq!(p.wait_after(failures).map(|d| d.num_seconds()), wait, "after {failures} failures");
        }
        assert_eq!(p.wait_after(i32::MAX), Some(Duration::minutes(15)), "no overflow");
    }

    #[test]
    fn a_waiting_client_waits_and_a_stranger_flood_only_slows_clients_the_owner_never_used() {
        let p = policy();
        let waiting = Standing { wait_until: Some(t(30)), ..Standing::default() };
        assert_eq!(p.must_wait(&waiting, t(10)), Some(Duration::seconds(20)));
        assert_eq!(p.must_wait(&waiting, t(30)), None, "the wait is over at its end");
        let flooded = Standing { account_failures_last_hour: 100, ..Standing::default() };
        assert_eq!(p.must_wait(&flooded, t(0)), Some(Duration::seconds(30)));
        assert_eq!(p.must_wait(&Standing { account_failures_last_hour: 99, ..flooded.clone() }, t(0)), None);
        let owner = Standing { known_client: true, ..flooded };
        assert_eq!(p.must_wait(&owner, t(0)), None, "the owner's own client is not slowed by others' failures");
    }

    #[test]
    fn ipv6_clients_count_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        assert_eq!(client_key("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(client_key("192.0.2.7".parse().unwrap()), "192.0.2.7");
    }
}
