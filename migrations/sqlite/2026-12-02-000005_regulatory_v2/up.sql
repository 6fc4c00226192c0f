-- Regulatory rules, version 2 (DOMAIN.md 2.3–2.6).
-- A hospital's legal status replaces its legal form: every public body except the State's own
-- hospitals follows Art. 26 with the 1,000-person threshold since 2023-04, so `public_body` becomes
-- `local_government` (the form that most public hospitals have).
ALTER TABLE organizations ADD COLUMN legal_status TEXT NULL;
UPDATE organizations SET legal_status = CASE legal_form
    WHEN 'private' THEN 'private'
    WHEN 'public_body' THEN 'local_government'
    ELSE NULL END;
ALTER TABLE organizations DROP COLUMN legal_form;
-- JIS X 0402 municipality code: selects the health authority (保健所設置市, 特別区).
ALTER TABLE organizations ADD COLUMN municipality TEXT NULL;
-- The date the law holds the hospital to, after a closed-day move (equal to due_at when none).
ALTER TABLE obligations ADD COLUMN legal_due_at TIMESTAMP NULL;
UPDATE obligations SET legal_due_at = due_at;
-- The rule set an incident was routed with; incidents routed before this migration used version 1.
ALTER TABLE incidents ADD COLUMN rules_version TEXT NOT NULL DEFAULT '2026-11.1';
