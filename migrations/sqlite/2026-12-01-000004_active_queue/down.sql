DROP INDEX incidents_active_queue;
