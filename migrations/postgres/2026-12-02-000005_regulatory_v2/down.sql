ALTER TABLE incidents DROP COLUMN rules_version;
ALTER TABLE obligations DROP COLUMN legal_due_at;
ALTER TABLE organizations DROP COLUMN municipality;
ALTER TABLE organizations ADD COLUMN legal_form TEXT NULL;
UPDATE organizations SET legal_form = CASE
    WHEN legal_status IS NULL THEN NULL
    WHEN legal_status = 'private' THEN 'private'
    ELSE 'public_body' END;
ALTER TABLE organizations DROP COLUMN legal_status;
