ALTER TABLE contacts DROP COLUMN municipality;
