-- PostgreSQL announces queued messages with a trigger (NOTIFY); SQLite has one process per database
-- and no NOTIFY: nothing changes here. The migration exists so both engines share version numbers.
SELECT 1;
