-- The triage queue flags incidents with a dead notification: a partial index holds only those.
CREATE INDEX notifications_dead ON notifications (incident_id) WHERE status = 'dead';
