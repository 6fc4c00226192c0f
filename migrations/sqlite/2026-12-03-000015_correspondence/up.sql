-- Correspondence on an incident: e-mail read from the inbox (HIKESHI_INBOX_URL), e-mail written in
-- hikeshi and sent through the outbox, and phone calls an officer logged. incident_id is NULL while
-- an inbound message waits in the officers' inbox (it matched no incident, or its sender may not
-- write to the incident it names).
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    incident_id TEXT REFERENCES incidents (id),
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    -- RFC 5322 Message-ID without angle brackets (e-mail only): an inbound message is taken once.
    message_id TEXT UNIQUE,
    in_reply_to TEXT,
    -- The References header's ids, space-separated.
    thread_references TEXT NOT NULL,
    from_address TEXT,
    from_name TEXT,
    to_addresses TEXT NOT NULL,
    cc_addresses TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- The Date header, or when the call took place.
    sent_at TIMESTAMP,
    -- Who the other party is: contact, hospital, ministry, known (not a party) or unknown.
    party_kind TEXT NOT NULL,
    party_id TEXT,
    party_label TEXT,
    -- The authority of a contact party (liaisons see their own authority's correspondence).
    authority TEXT,
    auto_reply BOOLEAN NOT NULL,
    -- What the receiving mail server said of the sender (Authentication-Results): pass, fail, unknown.
    sender_check TEXT NOT NULL,
    -- How an inbound message found its incident, or why it waits in the inbox.
    matched_by TEXT,
    inbox_reason TEXT,
    notification_id TEXT REFERENCES notifications (id),
    author_id TEXT REFERENCES users (id),
    raw_size BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX messages_by_incident ON messages (incident_id, created_at);
CREATE INDEX messages_inbox ON messages (id) WHERE incident_id IS NULL;

-- Attachments of inbound mail: kept (up to the size limit), never opened or rendered.
CREATE TABLE message_attachments (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES messages (id),
    position INTEGER NOT NULL,
    filename TEXT,
    declared_type TEXT,
    sniffed_type TEXT,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    -- NULL when the attachment was larger than the limit (its size and hash are still recorded).
    content BLOB,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX message_attachments_by_message ON message_attachments (message_id, position);

-- A job only one instance may run at a time (the inbox reader): held until 'until', renewed by
-- its holder, taken over by another instance after it lapses.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until TIMESTAMP NOT NULL
);

-- Threading headers of an outbound message (correspondence answers a thread).
ALTER TABLE notifications ADD COLUMN in_reply_to TEXT;
ALTER TABLE notifications ADD COLUMN thread_references TEXT;
