-- The anchor of the filing benchmark (issue 17): the minimal transaction a filing needs, run by
-- pgbench -M prepared with -D hospital=<a hospital's id> -D reporter=<one of its users' id> and the
-- documents of a seeded incident (-D facts=, factors=, routing=, prefecture=, rules=), so the rows are
-- ones hikeshi reads back. One incident row, four outbox rows in one INSERT, one audit row, in one
-- transaction; the e-mail bodies of a typical filing's size, the ids drawn at random.
\set n random(1, 9000000000000000000)
BEGIN;
INSERT INTO incidents (id, reference, hospital_id, prefecture, beds, title, category, care_impact,
    personal_data_status, facts, drill, status, severity, severity_overridden, priority_score,
    priority_factors, priority_due_at, routing, overdue_obligations, detected_at, aware_at, reported_at,
    reported_via, reported_by, version, updated_at, rules_version)
VALUES ('min-' || :n, 'HK-MIN-' || :n, :hospital, :prefecture, 300,
    '電子カルテのランサムウェア感染', 'ransomware', 'emergency_suspended', 'suspected',
    :facts, false, 'reported', 'critical', false, 120, :factors, now() + interval '1 hour', :routing, 0, now(), now(), now(), 'web', :reporter, 1, now(),
    :rules);
INSERT INTO notifications (id, incident_id, kind, authority, dedup_key, recipients, locale, subject, body_text,
    body_html, message_id, status, attempts, next_attempt_at, created_at, updated_at)
SELECT 'min-' || :n || '-' || a, 'min-' || :n, 'authority_report', a, 'min-' || :n || '-' || a, '["desk@example.jp"]', 'ja',
    '【第一報】医療機関におけるサイバー攻撃', repeat('本文 ', 600), repeat('<p>本文</p>', 400),
    'min-' || :n || '-' || a || '@hikeshi.example', 'pending', 0, now(), now(), now()
FROM unnest(ARRAY['mhlw', 'ppc', 'police', 'ipa']) AS a;
INSERT INTO audit_log (id, chain, seq, at, actor_label, action, target_type, target_id, details, prev_hash, hash, keyed)
VALUES ('min-' || :n, 'min-' || :n, 1, now(), 'reporter', 'incident.filed',
    'incident', 'min-' || :n, '{"reference": "HK-MIN", "proxy": false}', repeat('0', 64), md5(random()::text) || md5(random()::text), true);
COMMIT;
