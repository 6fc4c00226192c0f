//! Application metrics exported at `/metrics` beside the HTTP ones.

use prometheus::{IntCounter, IntGauge, Registry};

/// Gauges and counters that tell whether hikeshi is keeping its promises.
#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    /// Notifications waiting to be sent (pending or failed, retrying).
    pub outbox_pending: IntGauge,
    /// Seconds since the oldest notification still waiting was enqueued (0: none waits).
    pub outbox_oldest_pending_seconds: IntGauge,
    /// Notifications that could not be delivered after every attempt.
    pub outbox_dead: IntGauge,
    /// Reporting obligations past their deadline and not fulfilled.
    pub obligations_overdue: IntGauge,
    /// Messages accepted by the mail server (or written to the outbox folder).
    pub notifications_sent: IntCounter,
    /// Failed delivery attempts.
    pub notifications_failed: IntCounter,
    /// Incidents filed through this process.
    pub incidents_filed: IntCounter,
    /// Inbound e-mails stored by this process's inbox reader.
    pub messages_received: IntCounter,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let g = |name: &str, help: &str| -> anyhow::Result<IntGauge> {
            let m = IntGauge::new(name, help)?;
            registry.register(Box::new(m.clone()))?;
            Ok(m)
        };
        let outbox_pending = g("hikeshi_outbox_pending", "Notifications waiting to be sent (pending or retrying)")?;
        let outbox_oldest_pending_seconds = g(
            "hikeshi_outbox_oldest_pending_seconds",
            "Age of the oldest notification still waiting to be sent, in seconds (0: none)",
        )?;
        let outbox_dead = g("hikeshi_outbox_dead", "Notifications undeliverable after every attempt")?;
        let obligations_overdue = g("hikeshi_obligations_overdue", "Reporting obligations past due and not fulfilled")?;
        let c = |name: &str, help: &str| -> anyhow::Result<IntCounter> {
            let m = IntCounter::new(name, help)?;
            registry.register(Box::new(m.clone()))?;
            Ok(m)
        };
        Ok(Metrics {
            notifications_sent: c("hikeshi_notifications_sent_total", "Messages accepted by the mail transport")?,
            notifications_failed: c("hikeshi_notifications_failed_total", "Failed delivery attempts")?,
            incidents_filed: c("hikeshi_incidents_filed_total", "Incidents filed through this process")?,
            messages_received: c("hikeshi_messages_received_total", "Inbound e-mails stored by this process")?,
            registry,
            outbox_pending,
            outbox_oldest_pending_seconds,
            outbox_dead,
            obligations_overdue,
        })
    }
}
