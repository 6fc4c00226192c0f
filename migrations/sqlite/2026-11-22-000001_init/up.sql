-- hikeshi schema, version 1. The SQLite tree holds the same statements (see tests/schema.rs).
-- Ids are UUID v7 text; times are UTC TIMESTAMP set by the application (µs); JSON is TEXT.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('hospital', 'ministry', 'responder_team', 'authority')),
    name TEXT NOT NULL,
    prefecture TEXT NULL,
    beds INTEGER NULL,
    code TEXT NULL UNIQUE,
    regional_roles TEXT NOT NULL,
    legal_form TEXT NULL,
    authority TEXT NULL,
    skills TEXT NOT NULL,
    coverage TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reporter', 'duty_officer', 'responder', 'liaison', 'admin')),
    password_hash TEXT NOT NULL,
    totp_secret TEXT NULL,
    totp_pending_secret TEXT NULL,
    totp_last_step BIGINT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until TIMESTAMP NULL,
    availability TEXT NULL,
    active BOOLEAN NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL,
    revoked_at TIMESTAMP NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE reference_counters (
    year INTEGER PRIMARY KEY,
    last_value INTEGER NOT NULL
);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    hospital_id TEXT NOT NULL REFERENCES organizations (id),
    prefecture TEXT NOT NULL,
    beds INTEGER NULL,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    care_impact TEXT NOT NULL,
    personal_data_status TEXT NOT NULL,
    facts TEXT NOT NULL,
    drill BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('reported', 'triaged', 'responding', 'recovering', 'recovered', 'closed', 'withdrawn')),
    severity TEXT NOT NULL CHECK (severity IN ('low', 'moderate', 'high', 'critical')),
    severity_overridden BOOLEAN NOT NULL,
    priority_score INTEGER NOT NULL,
    priority_factors TEXT NOT NULL,
    routing TEXT NOT NULL,
    overdue_obligations INTEGER NOT NULL,
    detected_at TIMESTAMP NOT NULL,
    aware_at TIMESTAMP NOT NULL,
    reported_at TIMESTAMP NOT NULL,
    reported_via TEXT NOT NULL,
    reported_by TEXT NOT NULL REFERENCES users (id),
    triaged_at TIMESTAMP NULL,
    dispatch_accepted_at TIMESTAMP NULL,
    on_site_at TIMESTAMP NULL,
    emr_restored_at TIMESTAMP NULL,
    emergency_accepting_at TIMESTAMP NULL,
    new_outpatients_accepting_at TIMESTAMP NULL,
    fully_normal_at TIMESTAMP NULL,
    report_published_at TIMESTAMP NULL,
    closed_at TIMESTAMP NULL,
    version INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX incidents_queue ON incidents (priority_score DESC, reported_at, id);
CREATE INDEX incidents_hospital ON incidents (hospital_id, reported_at DESC, id);
CREATE INDEX incidents_reported ON incidents (reported_at DESC, id);
CREATE INDEX incidents_status ON incidents (status);

CREATE TABLE incident_routes (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    authority TEXT NOT NULL,
    requirement TEXT NOT NULL,
    PRIMARY KEY (incident_id, authority)
);
CREATE INDEX incident_routes_authority ON incident_routes (authority, incident_id);

CREATE TABLE incident_updates (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL,
    body TEXT NULL,
    data TEXT NOT NULL,
    author_id TEXT NULL REFERENCES users (id),
    author_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates (incident_id, created_at, id);

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

CREATE TABLE audit_heads (
    chain TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT NULL,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    incident_id TEXT NULL,
    request_id TEXT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_log_incident ON audit_log (incident_id, at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_at ON audit_log (at, id);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    authority TEXT NOT NULL CHECK (authority IN ('mhlw', 'ppc', 'police', 'ipa', 'vendor', 'prefecture')),
    prefecture TEXT NULL,
    hospital_id TEXT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'manual')),
    address TEXT NOT NULL,
    instructions TEXT NULL,
    locale TEXT NOT NULL CHECK (locale IN ('ja', 'en')),
    drill BOOLEAN NOT NULL,
    effective_from DATE NOT NULL,
    effective_until DATE NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX contacts_lookup ON contacts (authority, drill, prefecture);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    incident_id TEXT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL,
    authority TEXT NULL,
    contact_id TEXT NULL REFERENCES contacts (id),
    dedup_key TEXT NOT NULL UNIQUE,
    recipients TEXT NOT NULL,
    locale TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP NULL,
    last_error TEXT NULL,
    sent_at TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_incident ON notifications (incident_id, created_at);

CREATE TABLE obligations (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL,
    authority TEXT NOT NULL,
    due_at TIMESTAMP NULL,
    reminder_at TIMESTAMP NULL,
    reminded_at TIMESTAMP NULL,
    overdue_notified_at TIMESTAMP NULL,
    fulfilled_at TIMESTAMP NULL,
    fulfilled_reference TEXT NULL,
    fulfilled_by TEXT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL,
    UNIQUE (incident_id, kind)
);
CREATE INDEX obligations_due ON obligations (fulfilled_at, due_at);

CREATE TABLE support_requests (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    needs TEXT NOT NULL,
    mode TEXT NOT NULL,
    note TEXT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    decided_by TEXT NULL REFERENCES users (id),
    decided_at TIMESTAMP NULL,
    decision_reason TEXT NULL
);
CREATE INDEX support_requests_incident ON support_requests (incident_id);

CREATE TABLE dispatches (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    team_id TEXT NOT NULL REFERENCES organizations (id),
    responder_ids TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('assigned', 'accepted', 'en_route', 'on_site', 'released', 'declined', 'cancelled')),
    assigned_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP NULL,
    en_route_at TIMESTAMP NULL,
    on_site_at TIMESTAMP NULL,
    released_at TIMESTAMP NULL,
    ended_at TIMESTAMP NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    version INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX dispatches_incident ON dispatches (incident_id);
CREATE INDEX dispatches_team ON dispatches (team_id, status);
