//! GitLab push webhooks: `X-Gitlab-Token` and the `Push Hook` payload.
//!
//! GitLab does not sign the body; it sends the webhook's secret token verbatim
//! in `X-Gitlab-Token` (over TLS). The token is compared in constant time.

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::push::{changed_paths, decode, is_zero_sha, CommitPaths};
use super::{Provider, Push, PushError, Secrets};

pub const TOKEN_HEADER: &str = "x-gitlab-token";
pub const EVENT_HEADER: &str = "x-gitlab-event";
/// The same on GitLab's automatic retries of one delivery (GitLab 17.4+).
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// One per event; older GitLab versions send only this.
pub const EVENT_UUID_HEADER: &str = "x-gitlab-event-uuid";
pub const PUSH_EVENT: &str = "Push Hook";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("missing X-Gitlab-Token: set a secret token on the webhook")]
    Missing,
    #[error("X-Gitlab-Token does not match the secret")]
    Mismatch,
}

/// Check `X-Gitlab-Token` against every accepted secret.
pub fn verify_token(secrets: &Secrets, header: Option<&str>) -> Result<(), TokenError> {
    let token = header.ok_or(TokenError::Missing)?;
    let mut matched = false;
    for secret in secrets.accepted() {
        matched |= token_matches(secret, token.as_bytes());
    }
    if matched {
        Ok(())
    } else {
        Err(TokenError::Mismatch)
    }
}

/// Compare the MACs of both under a fixed key rather than the values
/// themselves: the MACs have a fixed length, so neither the content nor the
/// length of the secret leaks through timing, and `verify_slice` is constant time.
fn token_matches(secret: &[u8], token: &[u8]) -> bool {
    let mac = |value: &[u8]| {
        Hmac::<Sha256>::new_from_slice(b"steward/gitlab-token").map(|mut mac| {
            mac.update(value);
            mac
        })
    };
    match (mac(secret), mac(token)) {
        (Ok(expected), Ok(given)) => given
            .verify_slice(&expected.finalize().into_bytes())
            .is_ok(),
        _ => false,
    }
}

#[derive(Debug, Deserialize)]
struct Payload {
    #[serde(rename = "ref")]
    git_ref: String,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    after: Option<String>,
    /// Null when the branch was deleted.
    #[serde(default)]
    checkout_sha: Option<String>,
    project: Project,
    #[serde(default)]
    commits: Vec<CommitPaths>,
    #[serde(default)]
    total_commits_count: Option<u64>,
    #[serde(default)]
    user_username: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Project {
    path_with_namespace: String,
}

/// Read a `Push Hook` body.
pub fn parse_push(body: &[u8]) -> Result<Push, PushError> {
    let payload: Payload = decode(Provider::Gitlab, body)?;
    let after = payload.after.unwrap_or_default();
    let deleted = is_zero_sha(&after) || (after.is_empty() && payload.checkout_sha.is_none());
    let commit = payload
        .checkout_sha
        .filter(|sha| !sha.is_empty())
        .unwrap_or(after);
    // GitLab lists at most 20 commits; total_commits_count says how many there were.
    let listed = payload.commits.len() as u64;
    let complete = listed > 0
        && payload
            .total_commits_count
            .is_none_or(|total| total <= listed);
    Ok(Push {
        provider: Provider::Gitlab,
        repository: payload.project.path_with_namespace,
        git_ref: payload.git_ref,
        before: payload.before.filter(|b| !is_zero_sha(b)),
        commit,
        changed_paths: changed_paths(&payload.commits),
        changed_paths_complete: complete,
        pusher: payload.user_username,
        deleted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../../events/gitlab-push.json");

    #[test]
    fn the_token_is_accepted_only_when_it_matches() {
        let secrets = Secrets::new("gl-current", Some("gl-previous")).unwrap();
        assert_eq!(verify_token(&secrets, Some("gl-current")), Ok(()));
        assert_eq!(verify_token(&secrets, Some("gl-previous")), Ok(()));
        assert_eq!(
            verify_token(&secrets, Some("gl-curren")),
            Err(TokenError::Mismatch)
        );
        assert_eq!(
            verify_token(&secrets, Some("gl-current ")),
            Err(TokenError::Mismatch)
        );
        assert_eq!(verify_token(&secrets, Some("")), Err(TokenError::Mismatch));
        assert_eq!(verify_token(&secrets, None), Err(TokenError::Missing));
    }

    #[test]
    fn the_sample_push_lists_its_project_branch_commit_and_paths() {
        let push = parse_push(SAMPLE.as_bytes()).unwrap();
        assert_eq!(push.provider, Provider::Gitlab);
        assert_eq!(push.repository, "acme/ml-models");
        assert_eq!(push.branch(), Some("main"));
        assert_eq!(push.commit, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
        assert_eq!(
            push.changed_paths,
            vec![
                "models/payroll-fraud/features.py",
                "models/payroll-fraud/train.py",
                "notebooks/scratch.ipynb",
            ]
        );
        assert!(push.changed_paths_complete);
        assert_eq!(push.pusher.as_deref(), Some("jsmith"));
        assert_eq!(push.ignore_reason(), None);
    }

    #[test]
    fn a_trimmed_commit_list_and_a_deletion_are_recognised() {
        let trimmed = serde_json::json!({
            "ref": "refs/heads/main", "after": "abc1", "checkout_sha": "abc1",
            "project": {"path_with_namespace": "acme/ml"},
            "commits": [{"added": ["x.py"]}], "total_commits_count": 25
        });
        let push = parse_push(trimmed.to_string().as_bytes()).unwrap();
        assert!(!push.changed_paths_complete);
        assert_eq!(push.changed_paths, vec!["x.py"]);

        let deleted = serde_json::json!({
            "ref": "refs/heads/old", "before": "abc1",
            "after": "0000000000000000000000000000000000000000", "checkout_sha": null,
            "project": {"path_with_namespace": "acme/ml"},
            "commits": [], "total_commits_count": 0
        });
        let push = parse_push(deleted.to_string().as_bytes()).unwrap();
        assert!(push.deleted);
        assert!(push.ignore_reason().is_some());
    }
}
