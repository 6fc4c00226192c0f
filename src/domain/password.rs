//! The password policy of the MHLW 2025 checklist, which hikeshi holds itself to: at least 8
//! characters mixing letters, digits and symbols, or at least 13 characters of any kind.

/// A password that satisfies the policy.
pub struct Password(String);

impl Password {
    pub const MAX_LEN: usize = 128;

    /// Checks the policy; the error says what is missing.
    pub fn parse(s: &str) -> Result<Password, String> {
        let len = s.chars().count();
        if len > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        if len >= 13 {
            return Ok(Password(s.to_owned()));
        }
        let letters = s.chars().any(|c| c.is_alphabetic());
        let digits = s.chars().any(|c| c.is_ascii_digit());
        let symbols = s.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace());
        if len >= 8 && letters && digits && symbols {
            Ok(Password(s.to_owned()))
        } else {
            Err("must be 8+ characters mixing letters, digits and symbols, or 13+ characters".into())
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checklist_policy_accepts_and_refuses_as_written() {
        #[rustfmt::skip]
        let rows = [
            ("Abc123!x",            true,  "8 characters with letters, digits and a symbol"),
            ("Abc123x",             false, "7 characters is too short"),
            ("Abcdefgh!",           false, "no digit"),
            ("Abcdefg12",           false, "no symbol"),
            ("12345678!",           false, "no letter"),
            ("correcthorsebat",     true,  "13+ characters of any kind"),
            ("aaaaaaaaaaaa",        false, "12 letters only"),
            ("病院のパスワード12!",  true,  "non-ASCII letters count as letters"),
        ];
        for (pw, ok, why) in rows {
            assert_eq!(Password::parse(pw).is_ok(), ok, "{why}: {pw}");
        }
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::parse(&"x".repeat(128)).is_ok(), "128 characters is the limit, not over it");
        let p = Password::parse("Abc123!x").unwrap();
        assert_eq!(p.expose(), "Abc123!x");
        assert_eq!(format!("{p:?}"), "Password(***)", "a password never reaches a log");
    }
}
