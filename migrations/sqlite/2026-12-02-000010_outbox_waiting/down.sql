DROP INDEX notifications_waiting_since;
DROP INDEX notifications_waiting;
