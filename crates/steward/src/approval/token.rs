//! Approval tokens: what an emailed link carries.
//!
//! `v1.<claims>.<signature>`, both parts base64url without padding; the
//! signature is HMAC-SHA256 over `v1.<claims>` with a key kept in Secrets
//! Manager. The claims name the model package, the approver, the purpose (what
//! deciding means, e.g. `approve:staging`), the expiry and the token id, so a
//! token cannot be moved to another package, person or step, or outlive its
//! request. Verification accepts the current key and the previous one, so a
//! key rotation does not break links already in inboxes; once a key is retired
//! (two rotations), its links stop working. Single use is the ledger's job: the
//! token id is claimed once, at decision time.
//!
//! Tokens are credentials: never log them. [`Claims`] are safe to log.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::secrets::SecretStages;

const VERSION: &str = "v1";
/// A key shorter than this is refused: HMAC-SHA256 wants at least 256 bits.
pub const MIN_KEY_BYTES: usize = 32;
/// Links are pasted, wrapped and re-encoded by mail clients; anything longer
/// than this is not a token of ours and is refused before any work.
const MAX_TOKEN_CHARS: usize = 2048;

/// What a token says. Short field names keep links short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "tid")]
    pub token_id: String,
    #[serde(rename = "pkg")]
    pub model_package_arn: String,
    #[serde(rename = "sub")]
    pub approver: String,
    #[serde(rename = "pur")]
    pub purpose: String,
    /// Seconds since the epoch, UTC.
    #[serde(rename = "exp")]
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token at all (truncated, wrong shape, not base64, not our claims).
    #[error("the token is malformed")]
    Malformed,
    /// Forged, tampered with, or signed with a retired key.
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token expired at {expired_at}")]
    Expired { expired_at: i64 },
}

impl TokenError {
    pub fn error_type(&self) -> &'static str {
        match self {
            TokenError::Malformed => "token_malformed",
            TokenError::BadSignature => "token_forged",
            TokenError::Expired { .. } => "token_expired",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the signing key has {0} bytes; at least {MIN_KEY_BYTES} are required")]
    TooShort(usize),
}

/// The keys that sign and verify: the current one signs; current and previous verify.
#[derive(Clone)]
pub struct SigningKeys {
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("has_previous", &self.previous.is_some())
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    pub fn new(current: impl Into<Vec<u8>>, previous: Option<Vec<u8>>) -> Result<Self, KeyError> {
        let current = current.into();
        if current.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(current.len()));
        }
        // A too-short previous key is dropped rather than fatal: it only narrows
        // which old links verify, never widens it.
        let previous = previous.filter(|p| p.len() >= MIN_KEY_BYTES);
        Ok(Self { current, previous })
    }

    /// From the secret's `AWSCURRENT` and `AWSPREVIOUS` values.
    pub fn from_stages(stages: SecretStages) -> Result<Self, KeyError> {
        Self::new(stages.current, stages.previous)
    }

    /// Sign claims with the current key.
    pub fn sign(&self, claims: &Claims) -> String {
        let payload = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(claims).expect("claims are plain strings and numbers"));
        let signed = format!("{VERSION}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(mac(&self.current, &signed).finalize().into_bytes());
        format!("{signed}.{signature}")
    }

    /// Check the signature (current, then previous key; constant time) and the
    /// expiry against `now` (seconds since the epoch). The claims are only read
    /// once the signature holds.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_CHARS {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(version), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        if version != VERSION {
            return Err(TokenError::Malformed);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        let signed = &token[..version.len() + 1 + payload.len()];
        let genuine = std::iter::once(self.current.as_slice())
            .chain(self.previous.as_deref())
            .any(|key| mac(key, signed).verify_slice(&signature).is_ok());
        if !genuine {
            return Err(TokenError::BadSignature);
        }
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(TokenError::Malformed)?;
        if now >= claims.expires_at {
            return Err(TokenError::Expired {
                expired_at: claims.expires_at,
            });
        }
        Ok(claims)
    }
}

fn mac(key: &[u8], signed: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(signed.as_bytes());
    mac
}

/// A token id derived from the request it belongs to, so a retried request
/// mints the same id (and the same link) instead of a second one.
pub fn token_id(cause: &str, approver: &str, purpose: &str) -> String {
    use sha2::Digest;
    let digest = Sha256::digest(format!("{cause}\n{approver}\n{purpose}").as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..18])
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &[u8] = b"0123456789abcdef0123456789abcdef-key-a";
    const KEY_B: &[u8] = b"0123456789abcdef0123456789abcdef-key-b";
    const KEY_C: &[u8] = b"0123456789abcdef0123456789abcdef-key-c";
    const NOW: i64 = 1_795_000_000;

    fn claims() -> Claims {
        Claims {
            token_id: token_id("gate/arn:pkg/7", "ana@acme.com", "approve:staging"),
            model_package_arn:
                "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/7".into(),
            approver: "ana@acme.com".into(),
            purpose: "approve:staging".into(),
            expires_at: NOW + 3600,
        }
    }

    fn keys(current: &[u8], previous: Option<&[u8]>) -> SigningKeys {
        SigningKeys::new(current, previous.map(<[u8]>::to_vec)).unwrap()
    }

    #[test]
    fn a_signed_token_verifies_to_its_claims_and_is_url_safe() {
        let keys = keys(KEY_A, None);
        let token = keys.sign(&claims());
        assert!(token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')));
        assert_eq!(keys.verify(&token, NOW), Ok(claims()));
    }

    #[test]
    fn a_forged_signature_is_refused() {
        let token = keys(KEY_B, None).sign(&claims());
        assert_eq!(
            keys(KEY_A, None).verify(&token, NOW),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn tampered_claims_are_refused() {
        let keys = keys(KEY_A, None);
        let token = keys.sign(&claims());
        let mut other = claims();
        other.approver = "mallory@acme.com".into();
        let forged_payload = keys.sign(&other).split('.').nth(1).unwrap().to_string();
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(keys.verify(&tampered, NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn an_expired_token_is_refused_at_and_after_its_expiry() {
        let keys = keys(KEY_A, None);
        let token = keys.sign(&claims());
        assert!(keys.verify(&token, NOW + 3599).is_ok());
        assert_eq!(
            keys.verify(&token, NOW + 3600),
            Err(TokenError::Expired {
                expired_at: NOW + 3600
            })
        );
    }

    #[test]
    fn after_a_rotation_old_links_verify_until_the_key_is_retired() {
        let old = keys(KEY_A, None).sign(&claims());
        let rotated = keys(KEY_B, Some(KEY_A));
        assert_eq!(rotated.verify(&old, NOW), Ok(claims()));
        let retired = keys(KEY_C, Some(KEY_B));
        assert_eq!(retired.verify(&old, NOW), Err(TokenError::BadSignature));
        // New links are signed with the current key.
        let fresh = rotated.sign(&claims());
        assert_eq!(retired.verify(&fresh, NOW), Ok(claims()));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let keys = keys(KEY_A, None);
        for bad in [
            "",
            "v1",
            "v1..",
            "v2.e30.AAAA",
            "v1.e30.!!!",
            "v1.a.b.c",
            &"v1.".repeat(1000),
        ] {
            assert!(
                matches!(
                    keys.verify(bad, NOW),
                    Err(TokenError::Malformed | TokenError::BadSignature)
                ),
                "{bad:?}"
            );
        }
        // Correctly signed but not our claims.
        let signed = format!("v1.{}", URL_SAFE_NO_PAD.encode(b"{\"x\":1}"));
        let sig = URL_SAFE_NO_PAD.encode(mac(KEY_A, &signed).finalize().into_bytes());
        assert_eq!(
            keys.verify(&format!("{signed}.{sig}"), NOW),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(SigningKeys::new(b"short".to_vec(), None).is_err());
        let keys = SigningKeys::new(KEY_A, Some(b"short".to_vec())).unwrap();
        assert!(format!("{keys:?}").contains("has_previous: false"));
    }

    #[test]
    fn token_ids_are_stable_per_request_and_distinct_per_approver() {
        let a = token_id("c", "ana@acme.com", "approve:prod");
        assert_eq!(a, token_id("c", "ana@acme.com", "approve:prod"));
        assert_ne!(a, token_id("c", "raj@acme.com", "approve:prod"));
        assert_eq!(a.len(), 24);
    }
}
