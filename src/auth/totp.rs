//! Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30 s, one step of skew).

use totp_rs::{Builder, Secret, Totp};

fn totp(secret_b32: &str, account: &str) -> anyhow::Result<Totp> {
    let secret = Secret::try_from_base32(secret_b32).map_err(|e| anyhow::anyhow!("bad TOTP secret: {e:?}"))?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some("hikeshi"))
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP: {e:?}"))
}

/// A new random secret, base32.
pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

/// The `otpauth://` URL an authenticator app scans.
pub fn otpauth_url(secret_b32: &str, account: &str) -> anyhow::Result<String> {
    totp(secret_b32, account)?.to_url().map_err(|e| anyhow::anyhow!("TOTP url: {e:?}"))
}

/// The step a code matches, if it is valid now; callers reject steps already used (replay).
pub fn check(secret_b32: &str, code: &str) -> Option<u64> {
    let t = totp(secret_b32, "user").ok()?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.check_current(code)
}

/// The current code (tests and the demo use it).
pub fn current_code(secret_b32: &str) -> anyhow::Result<String> {
    Ok(totp(secret_b32, "user")?.generate_current().to_string())
}
