DROP TABLE stats_snapshots;
DROP INDEX incidents_updated;
DROP INDEX notifications_dead;
