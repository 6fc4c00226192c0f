//! What every request handler shares.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::auth::jwt::JwtKeys;
use crate::auth::ratelimit::RateLimiter;
use crate::config::Settings;
use crate::db::Pool;
use crate::metrics::Metrics;

pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub keys: JwtKeys,
    pub login_limiter: RateLimiter,
    /// `trusted_proxies`, parsed once.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `audit_key`: set as the ambient audit key around every piece of database work.
    pub audit_key: Option<Arc<crate::db::audit::AuditKey>>,
    /// An argon2 hash verified when the e-mail is unknown, so both failures take the same time.
    pub dummy_hash: String,
    /// Wakes the outbox worker after a commit that enqueued mail.
    pub outbox_wake: Arc<Notify>,
    /// Wakes the campaign detector after a commit that filed or changed an incident.
    pub campaign_wake: Arc<Notify>,
    pub metrics: Metrics,
    /// One statistics computation at a time in this process: requests that find no fresh
    /// snapshot wait for the one being computed instead of sorting the same rows again.
    pub stats_lock: Arc<tokio::sync::Mutex<()>>,
    /// Active webhook subscriptions, refreshed every few seconds.
    pub webhooks: crate::notify::webhooks::Subscriptions,
    /// The HTTP client of webhook deliveries (connection pool, timeouts).
    pub http: reqwest::Client,
}
