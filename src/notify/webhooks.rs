//! Webhooks: events pushed to subscribers' HTTP endpoints through the same outbox as e-mail (a row
//! written in the event's own transaction, retries with backoff, `dead` after the last attempt,
//! officers alerted), signed per the Standard Webhooks specification with the official crate.
//!
//! A delivery's `webhook-id` is its outbox row's Message-ID: the same on every retry, so a receiver
//! discards what it already took. Its payload is `{type, timestamp, data}`, and `data` passes the
//! need-to-know of the subscription's owner: an owner who may not see an incident gets nothing
//! about it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::auth::Scope;
use crate::config::Settings;
use crate::db::notifications::{Claimed, NewNotification, Notification};
use crate::db::orgs::Organization;
use crate::db::webhooks::Webhook;
use crate::db::{self, AnyConnection, DbResult};
use crate::domain::incident::Incident;
use crate::domain::{Locale, Role, WebhookEvent};
use crate::notify::mailer::SendError;

/// The outbox kind of a webhook delivery.
pub const KIND: &str = "webhook";

/// How long the previous secret still signs after a rotation (receivers switch in that time).
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// How long a subscription change made on another instance may take to reach this one.
pub const REFRESH: StdDuration = StdDuration::from_secs(5);

/// Roles that may own a subscription: their need-to-know is a scope computed without a lookup
/// per event (all incidents, or one hospital's).
pub const OWNER_ROLES: &[Role] = &[Role::Admin, Role::DutyOfficer, Role::Reporter];

/// A subscription ready to receive events: what its owner may see.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub webhook: Webhook,
    pub scope: Scope,
}

/// The active subscriptions, as last read: a request uses what is there (no statement), a background
/// task reads them again every [`REFRESH`] (`refresh_loop`), and a change made on this instance is
/// read at its next use.
#[derive(Default)]
pub struct Subscriptions {
    cached: RwLock<Option<Arc<Vec<Subscriber>>>>,
}

impl Subscriptions {
    /// The subscriptions as last read (read now if they never were, or changed here).
    pub fn current(&self, conn: &mut AnyConnection) -> DbResult<Arc<Vec<Subscriber>>> {
        if let Some(subs) = self.cached.read().ok().and_then(|g| g.clone()) {
            return Ok(subs);
        }
        self.refresh(conn)
    }

    /// Reads the active subscriptions whose owner is active.
    pub fn refresh(&self, conn: &mut AnyConnection) -> DbResult<Arc<Vec<Subscriber>>> {
        let mut subs = Vec::new();
        for webhook in db::webhooks::list(conn)?.into_iter().filter(|w| w.active) {
            let Some(owner) = db::users::get(conn, &webhook.owner_id)?.filter(|u| u.active) else { continue };
            let scope = match owner.role {
                Role::Admin | Role::DutyOfficer => Scope::All,
                Role::Reporter => Scope::Hospital(owner.org_id.clone()),
                _ => continue,
            };
            subs.push(Subscriber { webhook, scope });
        }
        let subs = Arc::new(subs);
        if let Ok(mut guard) = self.cached.write() {
            *guard = Some(subs.clone());
        }
        Ok(subs)
    }

    /// Forgets what was read (after a change made on this instance).
    pub fn invalidate(&self) {
        if let Ok(mut guard) = self.cached.write() {
            *guard = None;
        }
    }
}

/// Reads the subscriptions again every [`REFRESH`] until told to stop, so that changes made on
/// other instances arrive here and revoked owners stop receiving.
pub async fn refresh_loop(
    state: actix_web::web::Data<crate::state::AppState>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(REFRESH) => {}
            changed = stop.changed() => {
                if changed.is_err() {
                    break; // the application is gone
                }
            }
        }
        if *stop.borrow() {
            break;
        }
        let st = state.clone();
        let read = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = st.pool.get()?;
            st.webhooks.refresh(&mut conn)?;
            Ok(())
        })
        .await;
        if let Ok(Err(e)) = read {
            tracing::warn!(error = %e, "reading webhook subscriptions failed; keeping the last ones");
        }
    }
}

fn sees(scope: &Scope, incident: &Incident) -> bool {
    match scope {
        Scope::All => true,
        Scope::Hospital(h) => *h == incident.hospital_id,
        _ => false,
    }
}

/// What every event says about its incident.
fn incident_data(i: &Incident, hospital: &Organization) -> Value {
    json!({
        "id": i.id, "reference": i.reference, "status": i.status, "severity": i.severity,
        "category": i.facts.category, "care_impact": i.facts.care_impact, "drill": i.facts.drill,
        "hospital": {"id": hospital.id, "name": hospital.name, "prefecture": i.prefecture},
        "reported_at": i.reported_at, "updated_at": i.updated_at, "version": i.version,
    })
}

/// Writes one delivery per subscription to `event` whose owner sees `incident`, in the caller's
/// transaction. `key` names this occurrence of the event: the same key is never delivered twice to
/// one subscription. Returns how many deliveries were written.
#[allow(clippy::too_many_arguments)]
fn enqueue(
    conn: &mut AnyConnection,
    settings: &Settings,
    subs: &[Subscriber],
    event: WebhookEvent,
    incident: &Incident,
    hospital: &Organization,
    extra: Value,
    key: &str,
) -> DbResult<usize> {
    let mut data = json!({"incident": incident_data(incident, hospital)});
    if let (Some(d), Value::Object(extra)) = (data.as_object_mut(), extra) {
        d.extend(extra);
    }
    let payload = json!({"type": event, "timestamp": db::now(), "data": data});
    let messages: Vec<NewNotification> = subs
        .iter()
        .filter(|s| s.webhook.events.contains(&event) && sees(&s.scope, incident))
        .map(|s| delivery(s, event, key, &payload, Some(&incident.id)))
        .collect();
    db::notifications::enqueue_many(conn, messages, &crate::notify::outbox::mail_domain(settings))
}

/// One subscription's delivery of `payload`, an outbox row.
fn delivery(
    s: &Subscriber,
    event: WebhookEvent,
    key: &str,
    payload: &Value,
    incident_id: Option<&str>,
) -> NewNotification {
    NewNotification {
        thread: Default::default(),
        incident_id: incident_id.map(str::to_owned),
        kind: KIND.into(),
        authority: None,
        contact_id: None,
        dedup_key: delivery_key(&s.webhook.id, event, key),
        recipients: vec![s.webhook.url.clone()],
        locale: Locale::Ja,
        subject: event.as_str().into(),
        body_text: payload.to_string(),
        body_html: String::new(),
    }
}

/// Writes `event` about no single incident (`data` names hospitals: a campaign) to the
/// subscriptions whose owners see every hospital, in the caller's transaction.
pub fn emit_national(
    conn: &mut AnyConnection,
    state: &crate::state::AppState,
    event: WebhookEvent,
    data: Value,
    key: &str,
) -> DbResult<usize> {
    let subs = state.webhooks.current(conn)?;
    let payload = json!({"type": event, "timestamp": db::now(), "data": data});
    let messages: Vec<NewNotification> = subs
        .iter()
        .filter(|s| s.webhook.events.contains(&event) && s.scope == Scope::All)
        .map(|s| delivery(s, event, key, &payload, None))
        .collect();
    db::notifications::enqueue_many(conn, messages, &crate::notify::outbox::mail_domain(&state.settings))
}

/// The `webhook-signature` header: `v1,<signature>` with the current secret, and with the previous
/// one too while it overlaps (Standard Webhooks: space-separated signatures, any may verify).
pub fn signature(hook: &Webhook, id: &str, at: DateTime<Utc>, body: &str) -> Result<String, SendError> {
    let mut secrets = vec![hook.secret.as_str()];
    if let (Some(previous), Some(until)) = (&hook.previous_secret, hook.previous_until) {
        if until > at {
            secrets.push(previous);
        }
    }
    let mut signatures = Vec::new();
    for s in secrets {
        let signer = standardwebhooks::Webhook::new(s).map_err(|e| SendError::Build(format!("webhook secret: {e}")))?;
        let sig = signer
            .sign(id, at.timestamp(), body.as_bytes())
            .map_err(|e| SendError::Build(format!("webhook signature: {e}")))?;
        signatures.push(sig);
    }
    Ok(signatures.join(" "))
}

/// The outbox key of a delivery: it names the subscription (the outbox's `contact_id` refers to
/// authority contacts only), the event, and this occurrence of it.
fn delivery_key(webhook_id: &str, event: WebhookEvent, key: &str) -> String {
    format!("{KEY_PREFIX}{webhook_id}:{event}:{key}")
}

/// Every delivery's `dedup_key` starts so.
const KEY_PREFIX: &str = "webhook:";

/// The `dedup_key` prefix of every delivery to one subscription.
pub fn keys_of(webhook_id: &str) -> String {
    format!("{KEY_PREFIX}{webhook_id}:")
}

/// The subscription a delivery (by its `dedup_key`) is for.
pub fn webhook_of(dedup_key: &str) -> Option<&str> {
    dedup_key.strip_prefix(KEY_PREFIX)?.split(':').next()
}

/// A new secret: `whsec_` and the base64 of 32 random bytes (the Standard Webhooks form).
pub fn new_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Posts one delivery. Any 2xx answer delivers it; anything else is retried until the last attempt.
pub async fn deliver(
    client: &reqwest::Client,
    hooks: &HashMap<String, Webhook>,
    claimed: &Claimed,
) -> Result<(), SendError> {
    let (n, body) = (&claimed.n, &claimed.body_text);
    let hook = webhook_of(&claimed.dedup_key)
        .and_then(|id| hooks.get(id))
        .filter(|h| h.active)
        .ok_or_else(|| SendError::Rejected("the subscription was removed or paused".into()))?;
    let at = Utc::now();
    let signature = signature(hook, &n.message_id, at, body)?;
    let res = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("webhook-id", &n.message_id)
        .header("webhook-timestamp", at.timestamp().to_string())
        .header("webhook-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| SendError::Transient(format!("webhook POST failed: {e}")))?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(SendError::Transient(format!("webhook answered {}", res.status())))
    }
}

/// Makes rustls use the ring provider (the crypto lettre's TLS already uses); idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP client of deliveries: 10 seconds to answer, no redirects (a receiver that moved says so
/// by failing, not by sending the payload elsewhere).
pub fn client() -> anyhow::Result<reqwest::Client> {
    install_tls_provider();
    Ok(reqwest::Client::builder()
        .timeout(StdDuration::from_secs(10))
        .connect_timeout(StdDuration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("hikeshi/", env!("CARGO_PKG_VERSION"), " (webhooks)"))
        .build()?)
}

/// Writes `event` for every subscriber who should hear of it, in the caller's transaction (the
/// event and its deliveries commit together, or neither does).
pub fn emit(
    conn: &mut AnyConnection,
    state: &crate::state::AppState,
    event: WebhookEvent,
    incident: &Incident,
    hospital: &Organization,
    extra: Value,
    key: &str,
) -> DbResult<usize> {
    let subs = state.webhooks.current(conn)?;
    if subs.is_empty() {
        return Ok(0);
    }
    enqueue(conn, &state.settings, &subs, event, incident, hospital, extra, key)
}

/// `notification.dead` to subscribers: an e-mail to an authority could not be delivered.
pub fn notification_dead(
    conn: &mut AnyConnection,
    state: &crate::state::AppState,
    n: &Notification,
) -> DbResult<usize> {
    let Some(incident_id) = &n.incident_id else { return Ok(0) };
    let Some(incident) = db::incidents::get_visible(conn, incident_id, &Scope::All)? else { return Ok(0) };
    let Some(hospital) = db::orgs::get(conn, &incident.hospital_id)? else { return Ok(0) };
    let extra = json!({"notification": {"id": n.id, "kind": n.kind, "authority": n.authority, "attempts": n.attempts}});
    emit(conn, state, WebhookEvent::NotificationDead, &incident, &hospital, extra, &n.id)
}

/// A subscription URL: `https`, or `http` to a loopback address (tests, a relay on the same host).
pub fn check_url(url: &str) -> Result<String, String> {
    let u = url::Url::parse(url).map_err(|_| "must be an absolute URL".to_string())?;
    let loopback = match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => return Err("must name a host".into()),
    };
    match u.scheme() {
        "https" => Ok(u.to_string()),
        "http" if loopback => Ok(u.to_string()),
        _ => Err("must be https (plain http only to a loopback address)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's example inputs; the expected value was computed apart
    /// from the crate, with Python's `hmac` and `base64` over `id.timestamp.body` (the spec's scheme).
    #[test]
    fn the_signature_is_the_one_the_specification_gives() {
        let at = DateTime::from_timestamp(1614265330, 0).expect("a time");
        let hook = Webhook {
            id: "w".into(),
            url: "https://example.com".into(),
            events: vec![],
            owner_id: "u".into(),
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            previous_secret: None,
            previous_until: None,
            active: true,
            version: 1,
            created_at: at,
            updated_at: at,
        };
        let body = r#"{"test": 2432232314}"#;
        let sig = signature(&hook, "msg_p5jXN8AQM9LWM0D4loKWxJek", at, body).expect("signs");
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // During the overlap after a rotation both secrets sign; after it only the new one.
        let rotated = Webhook {
            secret: new_secret(),
            previous_secret: Some(hook.secret.clone()),
            previous_until: Some(at + chrono::Duration::hours(1)),
            ..hook.clone()
        };
        let both = signature(&rotated, "msg_p5jXN8AQM9LWM0D4loKWxJek", at, body).expect("signs");
        assert_eq!(both.split(' ').count(), 2);
        assert!(both.ends_with(&sig));
        let later =
            signature(&rotated, "msg_p5jXN8AQM9LWM0D4loKWxJek", at + chrono::Duration::hours(2), body).expect("signs");
        assert_eq!(later.split(' ').count(), 1);
    }

    #[test]
    fn urls_are_https_except_to_loopback() {
        assert!(check_url("https://siem.hospital.example/hook").is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(check_url("http://[::1]:9000/hook").is_ok());
        assert!(check_url("http://siem.hospital.example/hook").is_err());
        assert!(check_url("ftp://127.0.0.1/x").is_err());
        assert!(check_url("not a url").is_err());
    }
}
