//! GitHub push webhooks: `X-Hub-Signature-256` and the push payload.
//!
//! GitHub signs the raw body with HMAC-SHA256 keyed by the webhook's secret and
//! sends `sha256=<hex>`. The signature must be checked over the exact bytes
//! received, before the body is parsed, and compared in constant time.

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::push::{changed_paths, decode, is_zero_sha, CommitPaths};
use super::{Provider, Push, PushError, Secrets};

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
pub const EVENT_HEADER: &str = "x-github-event";
pub const DELIVERY_HEADER: &str = "x-github-delivery";

/// GitHub lists at most this many commits in a push payload; a longer push
/// is trimmed, so its changed paths are incomplete.
pub const MAX_LISTED_COMMITS: usize = 2048;

/// Why a delivery is not proven to come from GitHub. The messages name the
/// header, never its value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256: set a secret on the webhook")]
    Missing,
    #[error("X-Hub-Signature-256 is not of the form sha256=<64 hex digits>")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body and the secret")]
    Mismatch,
}

/// Check `X-Hub-Signature-256` over the raw body against every accepted secret.
pub fn verify_signature(
    secrets: &Secrets,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_digest = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let signature = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    if signature.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    // Every secret is tried (no early exit on the first), so timing does not
    // tell which secret, if any, was close.
    let mut matched = false;
    for secret in secrets.accepted() {
        matched |= signature_matches(secret, body, &signature);
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn signature_matches(secret: &[u8], body: &[u8], signature: &[u8]) -> bool {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            // verify_slice compares in constant time.
            mac.verify_slice(signature).is_ok()
        }
        Err(_) => false,
    }
}

/// `sha256=<hex>` for a body: what GitHub sends (for tests, samples and tools).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        }
        // HMAC takes keys of any length; this arm is never taken.
        Err(_) => String::new(),
    }
}

#[derive(Debug, Deserialize)]
struct Payload {
    #[serde(rename = "ref")]
    git_ref: String,
    #[serde(default)]
    before: Option<String>,
    after: String,
    #[serde(default)]
    deleted: bool,
    repository: Repository,
    #[serde(default)]
    commits: Vec<CommitPaths>,
    #[serde(default)]
    head_commit: Option<CommitPaths>,
    #[serde(default)]
    pusher: Option<Pusher>,
}

#[derive(Debug, Deserialize)]
struct Repository {
    full_name: String,
}

#[derive(Debug, Deserialize)]
struct Pusher {
    #[serde(default)]
    name: Option<String>,
}

/// Read a `push` event's body.
pub fn parse_push(body: &[u8]) -> Result<Push, PushError> {
    let payload: Payload = decode(Provider::Github, body)?;
    // No listed commit (a new branch at an existing commit, a force push to an
    // older one): the head commit's own paths are the best hint there is.
    let (paths, complete) = if payload.commits.is_empty() {
        (changed_paths(payload.head_commit.as_ref()), false)
    } else {
        (
            changed_paths(&payload.commits),
            payload.commits.len() < MAX_LISTED_COMMITS,
        )
    };
    Ok(Push {
        provider: Provider::Github,
        repository: payload.repository.full_name,
        git_ref: payload.git_ref,
        before: payload.before.filter(|b| !is_zero_sha(b)),
        deleted: payload.deleted || is_zero_sha(&payload.after),
        commit: payload.after,
        changed_paths: paths,
        changed_paths_complete: complete,
        pusher: payload.pusher.and_then(|p| p.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../../events/github-push.json");

    fn secrets() -> Secrets {
        Secrets::new("current-secret", None::<&str>).unwrap()
    }

    #[test]
    fn a_good_signature_is_accepted() {
        let body = br#"{"zen":"Keep it logically awesome."}"#;
        let header = sign(b"current-secret", body);
        assert!(header.starts_with("sha256=") && header.len() == 71);
        assert_eq!(verify_signature(&secrets(), body, Some(&header)), Ok(()));
    }

    #[test]
    fn githubs_documented_example_verifies() {
        // From GitHub's "Validating webhook deliveries".
        let secrets = Secrets::new("It's a Secret to Everybody", None::<&str>).unwrap();
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            verify_signature(&secrets, b"Hello, World!", Some(header)),
            Ok(())
        );
    }

    #[test]
    fn a_tampered_body_a_wrong_secret_or_a_bad_header_is_refused() {
        let body = SAMPLE.as_bytes();
        let header = sign(b"current-secret", body);
        let tampered = SAMPLE.replace("payroll-fraud", "payroll-fraux");
        assert_eq!(
            verify_signature(&secrets(), tampered.as_bytes(), Some(&header)),
            Err(SignatureError::Mismatch)
        );
        let wrong = sign(b"another-secret", body);
        assert_eq!(
            verify_signature(&secrets(), body, Some(&wrong)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(&secrets(), body, None),
            Err(SignatureError::Missing)
        );
        for bad in ["", "sha1=abc", "sha256=zz", "sha256=abcd", &header[7..]] {
            assert_eq!(
                verify_signature(&secrets(), body, Some(bad)),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_previous_secret_is_accepted_during_a_rotation() {
        let body = b"{}";
        let rotated = Secrets::new("new-secret", Some("old-secret")).unwrap();
        for secret in ["new-secret", "old-secret"] {
            let header = sign(secret.as_bytes(), body);
            assert_eq!(verify_signature(&rotated, body, Some(&header)), Ok(()));
        }
        let retired = sign(b"older-secret", body);
        assert_eq!(
            verify_signature(&rotated, body, Some(&retired)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_sample_push_lists_its_branch_commit_and_changed_paths() {
        let push = parse_push(SAMPLE.as_bytes()).unwrap();
        assert_eq!(push.repository, "acme/ml-models");
        assert_eq!(push.branch(), Some("main"));
        assert_eq!(push.commit, "9f2c1e0b8d4a6c3e5f7a9b1d2c4e6f8a0b1c3d5e");
        assert_eq!(
            push.changed_paths,
            vec![
                "README.md",
                "models/payroll-fraud/features.py",
                "models/payroll-fraud/old_features.py",
                "models/payroll-fraud/train.py",
            ]
        );
        assert!(push.changed_paths_complete);
        assert_eq!(push.pusher.as_deref(), Some("octocat"));
        assert!(!push.deleted);
        assert_eq!(push.ignore_reason(), None);
    }

    #[test]
    fn a_branch_deletion_is_read_as_a_deletion() {
        let body = serde_json::json!({
            "ref": "refs/heads/experiment",
            "before": "9f2c1e0b8d4a6c3e5f7a9b1d2c4e6f8a0b1c3d5e",
            "after": "0000000000000000000000000000000000000000",
            "created": false, "deleted": true, "forced": false,
            "repository": {"full_name": "acme/payroll-ml"},
            "commits": [], "head_commit": null,
            "pusher": {"name": "octocat"}
        });
        let push = parse_push(body.to_string().as_bytes()).unwrap();
        assert!(push.deleted);
        assert!(push.ignore_reason().unwrap().contains("deleted"));
    }

    #[test]
    fn a_new_branch_without_commits_has_incomplete_paths() {
        let body = serde_json::json!({
            "ref": "refs/heads/feature",
            "before": "0000000000000000000000000000000000000000",
            "after": "9f2c1e0b8d4a6c3e5f7a9b1d2c4e6f8a0b1c3d5e",
            "created": true, "deleted": false,
            "repository": {"full_name": "acme/payroll-ml"},
            "commits": [],
            "head_commit": {"id": "9f2c", "added": [], "modified": ["a.py"], "removed": []}
        });
        let push = parse_push(body.to_string().as_bytes()).unwrap();
        assert_eq!(push.changed_paths, vec!["a.py"]);
        assert!(!push.changed_paths_complete);
        assert_eq!(push.before, None);
    }

    #[test]
    fn a_malformed_payload_names_the_field() {
        let err = parse_push(br#"{"ref": "refs/heads/main", "after": "abc", "repository": {}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("full_name"), "{err}");
    }
}
