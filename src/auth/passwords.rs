//! argon2id password hashing. Hashing is slow on purpose, so callers run it off the async threads.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Hashes computed at once. Each takes 19 MiB and a blocking thread for about 30 ms: a burst of
/// sign-ins waits here instead of taking the memory and the threads everything else needs.
static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// [`hash`] on a blocking thread, at most two at a time.
pub async fn hash_off_thread(password: String) -> anyhow::Result<String> {
    let _slot = SLOTS.acquire().await?;
    tokio::task::spawn_blocking(move || hash(&password)).await?
}

/// [`verify`] on a blocking thread, at most two at a time.
pub async fn verify_off_thread(password: String, stored: String) -> anyhow::Result<bool> {
    let _slot = SLOTS.acquire().await?;
    Ok(tokio::task::spawn_blocking(move || verify(&password, &stored)).await?)
}

/// Hashes a password (argon2id, default parameters: m=19 MiB, t=2, p=1).
pub fn hash(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// True when `password` matches the stored hash. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), stored).is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = super::hash("Abc123!xyz").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("Abc123!xyz", &h));
        assert!(!super::verify("Abc123!xyz ", &h));
        assert!(!super::verify("Abc123!xyz", "not a hash"));
    }
}
