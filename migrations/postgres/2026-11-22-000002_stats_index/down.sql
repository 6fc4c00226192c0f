DROP INDEX incidents_stats;
