-- Statistics read only these columns: a covering index lets them skip the wide incident rows
-- (facts and routing JSON) with an index-only scan.
CREATE INDEX incidents_stats ON incidents (drill, reported_at)
    INCLUDE (prefecture, category, beds, detected_at, triaged_at, dispatch_accepted_at, on_site_at,
             emergency_accepting_at, fully_normal_at);
