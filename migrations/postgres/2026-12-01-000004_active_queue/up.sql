-- The officers' triage queue shows incidents whose care is not yet fully back (?active=true):
-- in priority order, from an index that holds only those, however many finished incidents
-- rank above them.
CREATE INDEX incidents_active_queue ON incidents (priority_score DESC, reported_at, id)
    WHERE status IN ('reported', 'triaged', 'responding', 'recovering');
