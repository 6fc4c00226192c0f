ALTER TABLE notifications DROP COLUMN thread_references;
ALTER TABLE notifications DROP COLUMN in_reply_to;
DROP TABLE leases;
DROP TABLE message_attachments;
DROP TABLE messages;
