-- Every statement that queues messages tells the outbox listeners of every instance (NOTIFY is
-- delivered at commit, and not at all on rollback; several in one transaction reach a listener as
-- one). In the database rather than in the code: one round trip less per filing, and rows queued by
-- any writer wake the senders.
CREATE FUNCTION hikeshi_outbox_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NOTIFY hikeshi_outbox;
    RETURN NULL;
END
$$;
CREATE TRIGGER notifications_announce AFTER INSERT ON notifications
    FOR EACH STATEMENT EXECUTE FUNCTION hikeshi_outbox_announce();
