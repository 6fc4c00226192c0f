//! argon2id password hashing. Hashing is slow on purpose, so callers run it off the async threads.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

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
