-- Statistics read only these columns: a covering index (SQLite has no INCLUDE, so all are keys)
-- lets them skip the wide incident rows.
CREATE INDEX incidents_stats ON incidents (drill, reported_at, prefecture, category, beds, detected_at, triaged_at,
    dispatch_accepted_at, on_site_at, emergency_accepting_at, fully_normal_at);
