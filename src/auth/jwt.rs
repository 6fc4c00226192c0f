//! Access tokens: HS256 JWTs validated for signature, algorithm, expiry, issuer and audience.
//!
//! hikeshi signs and verifies with HS256 only. `jsonwebtoken` asks for a crypto provider; its
//! `rust_crypto` provider brings the `rsa` crate (RUSTSEC-2023-0071, no fix) for algorithms never
//! used here, so hikeshi installs a provider of HS256 alone, built on RustCrypto's `hmac` (the crate
//! that provider itself uses for HMAC). Every other algorithm is refused.

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error as JwtError, ErrorKind};
use jsonwebtoken::signature::{Error as SignatureError, Signer, Verifier};
use jsonwebtoken::{decode, encode, Algorithm, AlgorithmFamily, DecodingKey, EncodingKey, Header, Validation};
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
    /// Signs links sent by e-mail that act without a sign-in (an advisory's acknowledgement):
    /// HMAC-SHA256 under a key derived from the signing secret, never usable as an access token.
    links: Hmac<sha2::Sha256>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(***)")
    }
}

type HmacSha256 = Hmac<sha2::Sha256>;

/// HMAC-SHA256 keyed with the service's secret: signs and verifies (in constant time).
struct Hs256(HmacSha256);

impl Hs256 {
    fn keyed(secret: &[u8]) -> Result<Self, JwtError> {
        HmacSha256::new_from_slice(secret).map(Hs256).map_err(|_| ErrorKind::InvalidKeyFormat.into())
    }
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignatureError> {
        let mut mac = self.0.clone();
        mac.update(msg);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), SignatureError> {
        let mut mac = self.0.clone();
        mac.update(msg);
        mac.verify_slice(signature).map_err(SignatureError::from_source)
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

/// The crypto provider of HS256 alone.
static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: |alg, key| match (alg, key.family()) {
        (Algorithm::HS256, AlgorithmFamily::Hmac) => Ok(Box::new(Hs256::keyed(key.as_bytes())?)),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    },
    verifier_factory: |alg, key| match (alg, key.family()) {
        (Algorithm::HS256, AlgorithmFamily::Hmac) => Ok(Box::new(Hs256::keyed(key.try_get_as_bytes()?)?)),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    },
    key_utils: KeyUtils::new_unimplemented(),
};

/// Installs the HS256 provider for this process (once; later calls change nothing).
pub fn install_crypto_provider() {
    let _already_installed = HS256_ONLY.install_default();
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        install_crypto_provider();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let mut derive = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
        derive.update(b"hikeshi e-mail link key v1");
        let link_key = derive.finalize().into_bytes();
        let links = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&link_key).expect("HMAC takes any key length");
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            links,
        }
    }

    /// The signature of an e-mail link for `purpose` and its `parts` (base64url, no padding).
    pub fn sign_link(&self, purpose: &str, parts: &[&str]) -> String {
        use base64::Engine;
        let mut mac = self.links.clone();
        mac.update(purpose.as_bytes());
        for p in parts {
            mac.update(b"\n");
            mac.update(p.as_bytes());
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Whether `signature` is [`JwtKeys::sign_link`]'s for these parts (compared in constant time).
    pub fn verify_link(&self, purpose: &str, parts: &[&str], signature: &str) -> bool {
        use base64::Engine;
        let Ok(given) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else { return false };
        let mut mac = self.links.clone();
        mac.update(purpose.as_bytes());
        for p in parts {
            mac.update(b"\n");
            mac.update(p.as_bytes());
        }
        mac.verify_slice(&given).is_ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "u".into(),
            org: "o".into(),
            role: Role::Reporter,
            iat: now,
            exp: now + 60,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            jti: "j".into(),
            fam: "f".into(),
            enrol: false,
        }
    }

    #[test]
    fn the_hs256_provider_signs_verifies_and_refuses_every_other_algorithm() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let token = keys.sign(&claims()).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), claims());
        // Another secret, a flipped signature byte: refused.
        assert_eq!(JwtKeys::new(b"another-secret-another-secret!!").verify(&token), Err("bad signature".into()));
        let mut forged = token.clone().into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        assert!(keys.verify(std::str::from_utf8(&forged).unwrap()).is_err());
        // The provider signs nothing but HS256.
        let key = EncodingKey::from_secret(b"k");
        for alg in [Algorithm::HS384, Algorithm::HS512, Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
            assert!(encode(&Header::new(alg), &claims(), &key).is_err(), "{alg:?}");
        }
    }
}
