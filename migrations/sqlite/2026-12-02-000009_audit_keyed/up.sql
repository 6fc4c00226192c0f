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
-- or removed. (Whoever can write the database file can drop these triggers; the keyed chain and
-- the checkpoints catch what they do.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE on audit_log refused');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE on audit_log refused');
END;
CREATE TRIGGER audit_reads_no_update BEFORE UPDATE ON audit_reads
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE on audit_reads refused');
END;
CREATE TRIGGER audit_reads_no_delete BEFORE DELETE ON audit_reads
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE on audit_reads refused');
END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE on audit_checkpoints refused');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE on audit_checkpoints refused');
END;
