-- The triage queue flags incidents with a dead notification: a partial index holds only those.
CREATE INDEX notifications_dead ON notifications (incident_id) WHERE status = 'dead';

-- Statistics are served from snapshots; the latest incident change (an index lookup) tells
-- whether a snapshot may be stale.
CREATE INDEX incidents_updated ON incidents (updated_at);
CREATE TABLE stats_snapshots (
    key TEXT PRIMARY KEY,
    groups TEXT NOT NULL,
    mark TIMESTAMP,
    computed_at TIMESTAMP NOT NULL
);
