-- The national picture (issue 20): hospital profiles (remote-access products, the MHLW checklist),
-- campaigns across hospitals, advisories to hospitals before they are hit.

-- Remote-access products a hospital runs, kept by the hospital: [{kind, vendor, product, version?}].
ALTER TABLE organizations ADD COLUMN remote_access TEXT NOT NULL DEFAULT '[]';

-- The MHLW checklist state of a hospital: one row per item, as the hospital last recorded it.
-- An item without a row is not on record (never shown as "not done").
CREATE TABLE checklist_items (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    item TEXT NOT NULL,
    done BOOLEAN NOT NULL,
    -- Since when the measure has been in place (the hospital's word), if it said.
    done_since DATE,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (org_id, item)
);

-- Every change of an item, kept: what the hospital said, when and who.
CREATE TABLE checklist_history (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    item TEXT NOT NULL,
    done BOOLEAN NOT NULL,
    done_since DATE,
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX checklist_history_by_org ON checklist_history (org_id, recorded_at);

-- What an incident can be linked to other hospitals' incidents by: normalised IoCs, CVEs,
-- remote-access products and ransomware families. Written by the campaign detector, which looks
-- at every incident whose links_checked_at is NULL (new, or its facts changed).
CREATE TABLE incident_links (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    hospital_id TEXT NOT NULL,
    reported_at TIMESTAMP NOT NULL,
    drill BOOLEAN NOT NULL,
    PRIMARY KEY (incident_id, kind, value)
);
CREATE INDEX incident_links_by_value ON incident_links (kind, value, reported_at);
ALTER TABLE incidents ADD COLUMN links_checked_at TIMESTAMP;
CREATE INDEX incidents_links_pending ON incidents (reported_at) WHERE links_checked_at IS NULL;

-- Incidents at different hospitals the detector linked: proposed, then confirmed or dismissed by
-- an officer.
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    drill BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    decided_by TEXT REFERENCES users (id),
    note TEXT,
    version INTEGER NOT NULL
);
CREATE INDEX campaigns_by_status ON campaigns (status, created_at);
CREATE TABLE campaign_incidents (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    joined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (campaign_id, incident_id)
);
CREATE INDEX campaign_incidents_by_incident ON campaign_incidents (incident_id);

-- Warnings from the ministry to hospitals matching criteria (JSON: vendor, product, prefectures, all).
CREATE TABLE advisories (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    title_en TEXT,
    body_en TEXT,
    criteria TEXT NOT NULL,
    campaign_id TEXT REFERENCES campaigns (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
-- The hospitals an advisory went to (fixed when it was written) and their acknowledgements.
CREATE TABLE advisory_recipients (
    advisory_id TEXT NOT NULL REFERENCES advisories (id),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    notified_at TIMESTAMP,
    reminded_at TIMESTAMP,
    acknowledged_at TIMESTAMP,
    -- The user who acknowledged, or NULL when it was the signed link in the e-mail.
    acknowledged_by TEXT REFERENCES users (id),
    PRIMARY KEY (advisory_id, org_id)
);
CREATE INDEX advisory_recipients_by_org ON advisory_recipients (org_id);
