//! Access tokens: HS256 JWTs validated for signature, algorithm, expiry, issuer and audience.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::Role;

pub const ISSUER: &str = "hikeshi";
pub const AUDIENCE: &str = "hikeshi-api";

/// The claims hikeshi puts in an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sub: String,
    pub org: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// The refresh-token family this session belongs to (logout revokes it).
    pub fam: String,
    /// Set when the user must enrol two-factor authentication before doing anything else.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enrol: bool,
}

/// Signing and verification keys.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(***)")
    }
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        JwtKeys { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation }
    }

    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding).map_err(|e| anyhow::anyhow!("jwt encode: {e}"))
    }

    /// Verifies a token; the error text is safe to show.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => "token expired".to_owned(),
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => "wrong issuer".to_owned(),
            jsonwebtoken::errors::ErrorKind::InvalidAudience => "wrong audience".to_owned(),
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => "wrong algorithm".to_owned(),
            jsonwebtoken::errors::ErrorKind::InvalidSignature => "bad signature".to_owned(),
            _ => "malformed token".to_owned(),
        })
    }
}

/// Random bytes as lowercase hex (keys, refresh tokens).
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// SHA-256 of a token, hex: refresh tokens are stored only as this.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}
