-- Evidence that cannot be quietly rewritten. Entries written with HIKESHI_AUDIT_KEY set are chained
-- with HMAC-SHA256 under that key (`keyed`), so recomputing a chain needs the key, which is kept
-- outside the database. Checkpoints record, under the same key, the head (seq, hash) of every chain
-- that changed since the previous checkpoint, and the number of entries and read records, each
-- checkpoint chained to the one before: `hikeshi audit verify` names a chain that was deleted,
-- truncated or recomputed since a checkpoint.
ALTER TABLE audit_log ADD COLUMN keyed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE audit_heads ADD COLUMN checkpointed_seq BIGINT NOT NULL DEFAULT 0;

-- Reads of incident data (the detail, timeline, notifications, reports, exports). Each is one
-- inserted row with its own MAC and no chain, so reads by many users, or of one incident by many,
-- never wait on each other; checkpoints count them, so deleting them is detected.
CREATE TABLE audit_reads (
    id TEXT PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor_id TEXT NULL,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    incident_id TEXT NULL,
    request_id TEXT NULL,
    details TEXT NOT NULL,
    keyed BOOLEAN NOT NULL,
    mac TEXT NOT NULL
);
CREATE INDEX audit_reads_incident ON audit_reads (incident_id, id);
CREATE INDEX audit_reads_actor ON audit_reads (actor_id, id);

CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    entries BIGINT NOT NULL,
    reads BIGINT NOT NULL,
    heads TEXT NOT NULL,
    keyed BOOLEAN NOT NULL,
    prev_mac TEXT NOT NULL,
    mac TEXT NOT NULL
);

-- The trail is append-only for everyone, the service included: rows can be inserted, never changed
-- or removed. (An owner of the tables can drop these triggers; the README's PostgreSQL set-up gives
-- the service a role that owns nothing, and the keyed chain and checkpoints catch what an owner does.)
CREATE FUNCTION hikeshi_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION hikeshi_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION hikeshi_append_only();
CREATE TRIGGER audit_reads_append_only BEFORE UPDATE OR DELETE ON audit_reads
    FOR EACH ROW EXECUTE FUNCTION hikeshi_append_only();
CREATE TRIGGER audit_reads_no_truncate BEFORE TRUNCATE ON audit_reads
    FOR EACH STATEMENT EXECUTE FUNCTION hikeshi_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION hikeshi_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION hikeshi_append_only();
