//! Settings: defaults < `hikeshi.toml` < `HIKESHI_*` environment (`__` for nesting), validated once
//! at start-up. Secrets are wrapped so that they never reach logs or `Debug` output.

use std::net::SocketAddr;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::domain::deadlines::DeadlineConfig;
use crate::domain::priority::PriorityWeights;
use crate::domain::Role;

/// A string that prints as `***`.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Replaces the password of a URL (`scheme://user:pass@host`) with `***`; a URL that does not parse
/// is shown by its scheme only (its password could be anywhere in it).
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…"),
            None => "…".to_owned(),
        },
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Sign-in and token settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// Access token lifetime in seconds.
    pub access_token_seconds: i64,
    /// Refresh token lifetime in days.
    pub refresh_token_days: i64,
    /// Failed sign-ins to one account from one client before that client must wait.
    pub throttle_after: i32,
    /// The first wait, in seconds; each further failure doubles it.
    pub throttle_first_wait_seconds: i64,
    /// The longest wait, in minutes.
    pub throttle_max_minutes: i64,
    /// Failed sign-ins to one account per hour, from all clients together, after which clients the
    /// owner has never signed in from must wait too (ASVS 2.2.1: at most 100 per hour).
    pub account_failures_per_hour: i32,
    /// Replaced by `throttle_after` (there is no account lock any more); refused when set.
    #[serde(skip_serializing)]
    pub lockout_threshold: Option<i64>,
    /// Replaced by `throttle_max_minutes`; refused when set.
    #[serde(skip_serializing)]
    pub lockout_minutes: Option<i64>,
    /// Sign-in attempts allowed per client address per minute.
    pub login_per_minute: u32,
    /// Roles that must use two-factor authentication (the admin API can change this at run time).
    pub totp_required_roles: Vec<Role>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_token_seconds: 900,
            refresh_token_days: 14,
            throttle_after: 5,
            throttle_first_wait_seconds: 30,
            throttle_max_minutes: 15,
            account_failures_per_hour: 100,
            lockout_threshold: None,
            lockout_minutes: None,
            login_per_minute: 20,
            totp_required_roles: Vec::new(),
        }
    }
}

/// Outbox worker settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkerSettings {
    /// Run the outbox and deadline workers in this process.
    pub enabled: bool,
    /// Poll interval when nothing wakes the worker, in milliseconds.
    pub poll_ms: u64,
    /// Attempts before a notification is `dead`.
    pub max_attempts: i32,
    /// First retry delay in seconds; doubled each attempt, with jitter.
    pub backoff_base_seconds: i64,
    /// Longest retry delay in seconds.
    pub backoff_max_seconds: i64,
    /// How long a claimed notification stays leased to one worker, in seconds.
    pub lease_seconds: i64,
    /// Interval of reminders, overdue checks and priority refresh, in seconds.
    pub housekeeping_seconds: u64,
    /// Post webhook deliveries. `false` (an isolated test run whose subscriptions name made-up
    /// hosts): each delivery ends `dead` at once, with officers alerted, and nothing leaves the host.
    pub deliver_webhooks: bool,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_ms: 1000,
            max_attempts: 8,
            backoff_base_seconds: 30,
            backoff_max_seconds: 3600,
            lease_seconds: 60,
            housekeeping_seconds: 30,
            deliver_webhooks: true,
        }
    }
}

/// The campaign detector (issue 20).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CampaignSettings {
    /// Run the campaign detector in this process (with the workers). Off: another instance runs it.
    pub enabled: bool,
    /// Incidents reported within this many days of each other can be linked into one campaign.
    pub window_days: i64,
    /// How often an instance looks for incidents to link when no filing on it woke the detector, in seconds.
    pub poll_seconds: u64,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self { enabled: true, window_days: 30, poll_seconds: 10 }
    }
}

/// Reading replies from the inbox (`inbox_url`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct InboxSettings {
    /// The address answers should go to (`Reply-To` on every e-mail), when it is not `mail_from`:
    /// the address of the mailbox `inbox_url` reads.
    pub reply_to: Option<String>,
    /// How often the mailbox is searched when the server offers no IDLE, and the longest IDLE, in seconds.
    pub poll_seconds: u64,
    /// How long one instance holds the reader's lease before renewing it, in seconds.
    pub lease_seconds: i64,
    /// A message larger than this is recorded by its headers only and left in the mailbox, in bytes.
    pub max_message_bytes: u32,
    /// An attachment larger than this is recorded (name, types, size, SHA-256) but not kept, in bytes.
    pub max_attachment_bytes: u32,
    /// The authserv-id of the mail server that delivers to the inbox (RFC 8601), e.g.
    /// `mx.example.go.jp`: its `Authentication-Results` are believed, and a sender it found forged
    /// (DMARC fail; SPF fail without DKIM pass) never reaches an incident. None: not checked.
    pub trusted_authserv_id: Option<String>,
}

impl Default for InboxSettings {
    fn default() -> Self {
        Self {
            reply_to: None,
            poll_seconds: 60,
            lease_seconds: 30,
            max_message_bytes: 64 * 1024 * 1024,
            max_attachment_bytes: 10 * 1024 * 1024,
            trusted_authserv_id: None,
        }
    }
}

/// Statistics snapshots (`GET /stats`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct StatsSettings {
    /// While incidents change, a snapshot is served for this many seconds before it is computed
    /// again (0: recompute after any change).
    pub refresh_seconds: i64,
    /// A snapshot is never served older than this, in seconds, changes seen or not.
    pub max_age_seconds: i64,
}

impl Default for StatsSettings {
    fn default() -> Self {
        Self { refresh_seconds: 60, max_age_seconds: 900 }
    }
}

/// Every setting of the service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub database_url: Secret,
    pub bind: String,
    pub public_url: String,
    pub mail_url: Secret,
    pub mail_from: String,
    /// `imap://user:pass@host:143/INBOX` or `imaps://…`: the mailbox replies arrive in (none: hikeshi
    /// only sends).
    pub inbox_url: Option<Secret>,
    pub inbox: InboxSettings,
    pub campaigns: CampaignSettings,
    pub jwt_secret: Option<Secret>,
    pub log_format: LogFormat,
    /// Connections in the pool (default: two per core of this machine, from 4 to 16).
    pub pool_size: u32,
    /// CIDRs of the reverse proxies whose `X-Forwarded-For` is believed (e.g. `["10.0.0.0/8"]`);
    /// from any other peer the header is ignored and the peer is the client.
    pub trusted_proxies: Vec<String>,
    /// Replaced by `trusted_proxies` (a header was believed from anyone); refused when set.
    #[serde(skip_serializing)]
    pub trusted_proxy_header: Option<String>,
    /// Largest accepted JSON body, in bytes.
    pub max_body_bytes: usize,
    /// Origins allowed to call the API from a browser (CORS), e.g. `["https://portal.example.jp"]`;
    /// empty (the default) allows none.
    pub cors_allowed_origins: Vec<String>,
    /// Requests per client address per minute under `/api/v1` (0: unlimited). The client address
    /// is the peer, or the address a trusted proxy (`trusted_proxies`) forwarded.
    pub rate_limit_per_minute: u32,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>` (401 otherwise).
    pub metrics_token: Option<Secret>,
    /// Key of the keyed audit chain and its checkpoints (32+ characters, kept outside the
    /// database); without it entries are chained with plain SHA-256 and `serve` warns.
    pub audit_key: Option<Secret>,
    /// How often an instance makes an audit checkpoint (when the trail changed), in seconds.
    pub audit_checkpoint_seconds: i64,
    pub auth: AuthSettings,
    pub worker: WorkerSettings,
    pub stats: StatsSettings,
    pub priority: PriorityWeights,
    pub deadlines: DeadlineConfig,
    /// Rules behind a switch (DOMAIN.md 7).
    pub rules: RuleSwitches,
}

/// Rules that exist in law or in draft but are switched off until they apply to hospitals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleSwitches {
    /// The Active Cyber Defence law (令和7年法律第42号) treats 特定機能病院 as designated operators
    /// (proposed by MHLW, 医療部会 2025-11-25; not in force for hospitals). Default off.
    pub active_cyber_defence: bool,
}

/// Two connections per core, from 4 to 16. Each database task also needs this process's CPU (to
/// decode rows and encode JSON), so more connections than its cores can feed only queue inside the
/// process: on 2 cores, 4 connections served the triage queue at 3,240 pages/s (p99 20 ms) and
/// filings at 290/s, 8 connections at 3,085/s (p99 30 ms) and 264/s, 12 at 2,930/s (p99 37 ms).
pub fn default_pool_size() -> u32 {
    (2 * cores() as u32).clamp(4, 16)
}

/// The cores this process may use (its cgroup quota included); 2 when that cannot be known.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: Secret::new("sqlite://hikeshi.db"),
            bind: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            mail_url: Secret::new("file://./outbox"),
            mail_from: "hikeshi@localhost".into(),
            inbox_url: None,
            inbox: InboxSettings::default(),
            campaigns: CampaignSettings::default(),
            jwt_secret: None,
            log_format: LogFormat::Pretty,
            pool_size: default_pool_size(),
            trusted_proxies: Vec::new(),
            trusted_proxy_header: None,
            max_body_bytes: 256 * 1024,
            cors_allowed_origins: Vec::new(),
            rate_limit_per_minute: 1200,
            metrics_token: None,
            audit_key: None,
            audit_checkpoint_seconds: 300,
            auth: AuthSettings::default(),
            worker: WorkerSettings::default(),
            stats: StatsSettings::default(),
            priority: PriorityWeights::default(),
            deadlines: DeadlineConfig::default(),
            rules: RuleSwitches::default(),
        }
    }
}

impl Settings {
    /// Loads defaults < `hikeshi.toml` (or `HIKESHI_CONFIG`) < `HIKESHI_*` environment, then validates.
    pub fn load() -> anyhow::Result<Self> {
        let file = std::env::var("HIKESHI_CONFIG").unwrap_or_else(|_| "hikeshi.toml".into());
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("HIKESHI_").split("__").ignore(&["config"]))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    /// The mailbox to read, if any (an empty `HIKESHI_INBOX_URL` names none).
    pub fn inbox_url(&self) -> Option<&str> {
        self.inbox_url.as_ref().map(Secret::expose).filter(|u| !u.trim().is_empty())
    }

    /// Checks values that serde cannot, with messages that name the setting.
    pub fn validate(&self) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        if self.bind.parse::<SocketAddr>().is_err() {
            problems.push(format!("HIKESHI_BIND {:?} is not an address such as 127.0.0.1:8080", self.bind));
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            problems.push(format!("HIKESHI_PUBLIC_URL {:?} must start with http:// or https://", self.public_url));
        }
        for origin in &self.cors_allowed_origins {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.trim_end_matches('/').contains(['*', ' '])
                && origin.split("://").nth(1).is_some_and(|h| !h.is_empty() && !h.trim_end_matches('/').contains('/'));
            if !ok {
                problems.push(format!(
                    "HIKESHI_CORS_ALLOWED_ORIGINS: {origin:?} is not an origin such as https://portal.example.jp"
                ));
            }
        }
        if let Some(url) = self.inbox_url() {
            if let Err(e) = crate::notify::inbox::InboxUrl::parse(url) {
                problems.push(format!("HIKESHI_INBOX_URL {:?}: {e}", redact_url(url)));
            }
        }
        if let Some(r) = &self.inbox.reply_to {
            if r.parse::<lettre::message::Mailbox>().is_err() {
                problems.push(format!("HIKESHI_INBOX__REPLY_TO {r:?} is not an e-mail address"));
            }
        }
        if self.inbox.lease_seconds < 5 || self.inbox.poll_seconds < 1 {
            problems.push(
                "HIKESHI_INBOX__LEASE_SECONDS must be at least 5 and HIKESHI_INBOX__POLL_SECONDS at least 1".into(),
            );
        }
        if let Err(e) = crate::auth::ratelimit::parse_proxies(&self.trusted_proxies) {
            problems.push(format!("HIKESHI_TRUSTED_PROXIES: {e}"));
        }
        if self.trusted_proxy_header.is_some() {
            problems.push(
                "HIKESHI_TRUSTED_PROXY_HEADER was replaced by HIKESHI_TRUSTED_PROXIES: the CIDRs of the proxies whose X-Forwarded-For is believed, e.g. [\"10.0.0.0/8\"]".into(),
            );
        }
        if self.auth.lockout_threshold.is_some() || self.auth.lockout_minutes.is_some() {
            problems.push(
                "HIKESHI_AUTH__LOCKOUT_THRESHOLD and HIKESHI_AUTH__LOCKOUT_MINUTES were replaced by HIKESHI_AUTH__THROTTLE_AFTER and HIKESHI_AUTH__THROTTLE_MAX_MINUTES: failed sign-ins now make one client wait instead of locking the account".into(),
            );
        }
        if self.auth.throttle_after < 1
            || self.auth.throttle_first_wait_seconds < 1
            || self.auth.throttle_max_minutes < 1
            || self.auth.account_failures_per_hour < 1
        {
            problems
                .push("HIKESHI_AUTH__THROTTLE_* and HIKESHI_AUTH__ACCOUNT_FAILURES_PER_HOUR must be at least 1".into());
        }
        if self.database_url.expose().trim().is_empty() {
            problems.push("HIKESHI_DATABASE_URL is empty".into());
        }
        if let Err(e) = crate::notify::mailer::Mailer::from_url(self.mail_url.expose(), &self.mail_from) {
            problems.push(format!("HIKESHI_MAIL_URL / HIKESHI_MAIL_FROM: {e}"));
        }
        if let Some(secret) = &self.jwt_secret {
            if secret.expose().len() < 32 {
                problems.push("HIKESHI_JWT_SECRET must be at least 32 characters".into());
            }
        }
        if self.audit_key.as_ref().is_some_and(|k| !k.expose().is_empty() && k.expose().len() < 32) {
            problems.push("HIKESHI_AUDIT_KEY must be at least 32 characters".into());
        }
        if self.audit_checkpoint_seconds < 1 {
            problems.push("HIKESHI_AUDIT_CHECKPOINT_SECONDS must be at least 1".into());
        }
        if self.pool_size == 0 {
            problems.push("HIKESHI_POOL_SIZE must be at least 1".into());
        }
        if self.auth.access_token_seconds < 60 || self.auth.access_token_seconds > 3600 {
            problems.push("HIKESHI_AUTH__ACCESS_TOKEN_SECONDS must be between 60 and 3600".into());
        }
        if self.worker.max_attempts < 1 {
            problems.push("HIKESHI_WORKER__MAX_ATTEMPTS must be at least 1".into());
        }
        if self.stats.refresh_seconds < 0 || self.stats.max_age_seconds < self.stats.refresh_seconds {
            problems.push(
                "HIKESHI_STATS__REFRESH_SECONDS must be at least 0 and HIKESHI_STATS__MAX_AGE_SECONDS at least as large"
                    .into(),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("invalid configuration:\n  - {}", problems.join("\n  - "))
        }
    }

    pub fn public_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// The audit key, when one is set (an empty `HIKESHI_AUDIT_KEY=` is no key).
    pub fn audit_key(&self) -> Option<std::sync::Arc<crate::db::audit::AuditKey>> {
        self.audit_key
            .as_ref()
            .filter(|k| !k.expose().is_empty())
            .map(|k| std::sync::Arc::new(crate::db::audit::AuditKey::new(k.expose())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = Settings {
            jwt_secret: Some(Secret::new("a-very-secret-signing-key-of-32-chars!")),
            mail_url: Secret::new("smtps://user:hunter2@mail.example:465"),
            ..Settings::default()
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("a-very-secret"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn redact_url_hides_only_the_password() {
        assert_eq!(redact_url("postgres://app:pw@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(redact_url("sqlite://hikeshi.db"), "sqlite://hikeshi.db");
        assert_eq!(redact_url("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
        // A password with an unescaped `/` breaks the URL: nothing of it is shown.
        assert_eq!(redact_url("imap://u:pa/ss@mail.example/INBOX"), "imap://…");
        assert_eq!(
            redact_url("imaps://u%40x:p%2Fw@mail.example:993/INBOX"),
            "imaps://u%40x:***@mail.example:993/INBOX"
        );
    }

    #[test]
    fn validation_names_every_bad_setting() {
        let s = Settings {
            bind: "nowhere".into(),
            public_url: "ftp://x".into(),
            jwt_secret: Some(Secret::new("short")),
            ..Settings::default()
        };
        let err = s.validate().unwrap_err().to_string();
        for needle in ["HIKESHI_BIND", "HIKESHI_PUBLIC_URL", "HIKESHI_JWT_SECRET"] {
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn an_empty_audit_key_is_no_key_and_a_short_one_is_refused() {
        let empty = Settings { audit_key: Some(Secret::new("")), ..Settings::default() };
        empty.validate().expect("an empty key is no key");
        assert!(empty.audit_key().is_none());
        let short = Settings { audit_key: Some(Secret::new("short")), ..Settings::default() };
        assert!(short.validate().unwrap_err().to_string().contains("HIKESHI_AUDIT_KEY"));
        let good = Settings { audit_key: Some(Secret::new("k".repeat(32))), ..Settings::default() };
        assert!(good.validate().is_ok() && good.audit_key().is_some());
    }

    #[test]
    fn a_renamed_setting_is_refused_naming_its_replacement() {
        let mut s = Settings { trusted_proxy_header: Some("x-forwarded-for".into()), ..Settings::default() };
        s.auth.lockout_threshold = Some(5);
        let err = s.validate().unwrap_err().to_string();
        for needle in ["HIKESHI_TRUSTED_PROXIES", "HIKESHI_AUTH__THROTTLE_AFTER"] {
            assert!(err.contains(needle), "{err}");
        }
        let bad = Settings { trusted_proxies: vec!["10.0.0.0/33".into()], ..Settings::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("HIKESHI_TRUSTED_PROXIES"));
        let good = Settings { trusted_proxies: vec!["10.0.0.0/8".into(), "::1".into()], ..Settings::default() };
        good.validate().expect("CIDRs and single addresses are accepted");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail fixes the closure's error type
    fn trusted_proxies_read_from_the_environment_as_a_list() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("HIKESHI_TRUSTED_PROXIES", "[10.0.0.0/8, \"192.168.0.0/16\"]");
            let s = Settings::load().map_err(|e| e.to_string())?;
            assert_eq!(s.trusted_proxies, vec!["10.0.0.0/8".to_owned(), "192.168.0.0/16".to_owned()]);
            Ok(())
        });
    }
}
