DROP INDEX incidents_priority_due;
ALTER TABLE incidents DROP COLUMN priority_due_at;
