-- A session is one sign-in: its refresh-token family and every access token issued in it. An access
-- token is accepted only while its session has not ended, so logout, a password reset, disabling the
-- account, enrolling or removing a second factor and refresh-token reuse take effect on the next
-- request, on every instance.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP NULL,
    end_reason TEXT NULL
);
CREATE INDEX sessions_live_of_user ON sessions (user_id) WHERE ended_at IS NULL;

-- The sessions of the families issued so far; a family with a revoked token has ended.
INSERT INTO sessions (id, user_id, created_at, ended_at, end_reason)
SELECT family_id, MIN(user_id), MIN(created_at), MAX(revoked_at),
       CASE WHEN MAX(revoked_at) IS NULL THEN NULL ELSE 'revoked' END
FROM refresh_tokens
GROUP BY family_id;
