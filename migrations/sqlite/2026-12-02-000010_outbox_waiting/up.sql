-- The outbox claim (`status IN ('pending', 'failed') AND next_attempt_at <= now ORDER BY
-- next_attempt_at LIMIT n`) reads an index that holds only waiting messages, in the claim's order:
-- the database walks it from the oldest and stops after n rows, so a claim costs the same with
-- 40,000 messages waiting as with 40 (on (status, next_attempt_at) every waiting row was merged and
-- sorted). The second index gives the age of the oldest waiting message (a gauge) the same way.
CREATE INDEX notifications_waiting ON notifications (next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX notifications_waiting_since ON notifications (created_at) WHERE status IN ('pending', 'failed');
