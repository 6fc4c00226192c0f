DROP TRIGGER notifications_announce ON notifications;
DROP FUNCTION hikeshi_outbox_announce();
