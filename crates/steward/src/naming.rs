//! Deterministic names and keys.
//!
//! EventBridge delivers at least once and Lambda retries, so every side effect is
//! named from its cause: a retried event computes the same key, finds its own
//! claim in the ledger and the same token at AWS, and never does the work twice.

use sha2::{Digest, Sha256};

/// The idempotency key of a cause, e.g. `build/s3/acme-ml-data/payroll/2026-11-23/@3HL4k`.
///
/// Human-readable on purpose: it is stored in the ledger and carried in events,
/// where an operator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A build started by data: the bucket, the data prefix the marker closes, and
    /// the marker's identity (its version id, else its sequencer or etag).
    pub fn data_build(bucket: &str, prefix: &str, marker_identity: &str) -> Self {
        Self(format!("build/s3/{bucket}/{prefix}@{marker_identity}"))
    }

    /// Any other cause's key, written `<kind>/<what identifies it>` like the
    /// constructors above (e.g. `webhook/github/<delivery id>`,
    /// `build/git/<repo>/<branch>@<commit>/<group>`).
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short, stable digest of the key: 64 hex characters, safe wherever AWS
    /// limits a token's length or alphabet (e.g. SageMaker's `ClientRequestToken`,
    /// 32 to 128 characters).
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The token AWS uses to recognise a retried request as the same request.
    pub fn client_request_token(&self) -> String {
        self.digest()
    }

    /// The correlation id that follows the chain this cause starts.
    pub fn correlation_id(&self) -> String {
        format!("stw-{}", &self.digest()[..24])
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SageMaker pipeline execution display name: `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$`.
/// It tells a person in the console why the run started; the digest keeps it unique.
pub fn pipeline_execution_display_name(trigger: &str, key: &IdempotencyKey) -> String {
    let trigger: String = trigger
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect();
    let trigger = if trigger.is_empty() {
        "build".to_string()
    } else {
        trigger
    };
    format!("steward-{trigger}-{}", &key.digest()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_cause_same_token_different_cause_different_token() {
        let a = IdempotencyKey::data_build("b", "p/2026-11-23/", "v1");
        let again = IdempotencyKey::data_build("b", "p/2026-11-23/", "v1");
        let other = IdempotencyKey::data_build("b", "p/2026-11-23/", "v2");
        assert_eq!(a.client_request_token(), again.client_request_token());
        assert_ne!(a.client_request_token(), other.client_request_token());
        assert_eq!(a.client_request_token().len(), 64);
        assert!(a.correlation_id().starts_with("stw-"));
    }

    #[test]
    fn display_name_matches_sagemaker_pattern() {
        let key = IdempotencyKey::data_build("b", "p/", "v1");
        let name = pipeline_execution_display_name("s3 data!", &key);
        assert!(name.starts_with("steward-s3data-"));
        assert!(name.len() <= 82);
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        assert!(!name.contains("--"));
        assert!(pipeline_execution_display_name("", &key).starts_with("steward-build-"));
    }
}
