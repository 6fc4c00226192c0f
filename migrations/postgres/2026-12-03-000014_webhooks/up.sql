-- Webhook subscriptions. Deliveries are outbox rows (notifications, kind 'webhook', contact_id =
-- the subscription). The secret signs deliveries (HMAC-SHA256, Standard Webhooks), so it is kept;
-- the API shows it only when it is created or rotated.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users (id),
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until TIMESTAMP,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
