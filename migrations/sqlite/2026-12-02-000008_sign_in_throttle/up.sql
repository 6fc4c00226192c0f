-- Failed sign-ins are counted per account and client instead of per account: a client that keeps
-- failing waits longer and longer before its next attempt is even checked, while the owner, signing
-- in from another client, is not kept out by a stranger (OWASP ASVS 2.2.1). The key is the e-mail
-- as typed (lower-cased), so an address with no account is throttled the same way and the answers
-- do not reveal which addresses exist. `last_success_at` marks a client the owner has used.
CREATE TABLE sign_in_failures (
    email TEXT NOT NULL,
    client TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at TIMESTAMP NULL,
    wait_until TIMESTAMP NULL,
    last_success_at TIMESTAMP NULL,
    PRIMARY KEY (email, client)
);

-- The account-wide lock is gone.
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;
