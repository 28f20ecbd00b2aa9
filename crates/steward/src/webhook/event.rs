//! `Git Push`: a verified push to a branch, announced on the `steward` bus.

use serde::{Deserialize, Serialize};

use super::{Provider, Push};
use crate::events::steward::{Header, StewardDetail};
use crate::naming::IdempotencyKey;

/// The header's model package group on a `Git Push`.
///
/// A push is about a repository, not yet about a model group: which groups it
/// rebuilds is start-build's decision (the policy's branches and path filters),
/// made after the event, with the policy of that moment. The webhook does not
/// guess; `*` says "any group may be concerned". It can never be taken for a
/// real group: group names are SageMaker names, letters, digits and hyphens.
pub const ANY_GROUP: &str = "*";

/// `Git Push`: a push to a branch whose delivery was verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitPush {
    #[serde(flatten)]
    pub header: Header,
    pub provider: Provider,
    /// `owner/name` (GitHub) or `group/name` (GitLab).
    pub repository: String,
    pub branch: String,
    /// The commit the branch points to after the push.
    pub commit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Sorted, without repeats.
    pub changed_paths: Vec<String>,
    /// See [`Push::changed_paths_complete`].
    pub changed_paths_complete: bool,
    /// The forge's delivery id (`X-GitHub-Delivery`, GitLab's `Idempotency-Key`).
    pub delivery_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pusher: Option<String>,
}

impl StewardDetail for GitPush {
    const DETAIL_TYPE: &'static str = "Git Push";
    fn header(&self) -> &Header {
        &self.header
    }
}

/// The idempotency key of a webhook delivery: `webhook/<provider>/<delivery id>`.
/// A redelivery carries the same id, so it finds the first delivery's claim.
pub fn delivery_key(provider: Provider, delivery_id: &str) -> IdempotencyKey {
    IdempotencyKey::new(format!("webhook/{}/{delivery_id}", provider.as_str()))
}

impl GitPush {
    /// The event for a push to a branch; `None` for a push that starts nothing
    /// (see [`Push::ignore_reason`]).
    pub fn from_push(push: &Push, delivery_id: &str) -> Option<Self> {
        if push.ignore_reason().is_some() {
            return None;
        }
        let branch = push.branch()?.to_string();
        let cause = delivery_key(push.provider, delivery_id);
        Some(Self {
            header: Header {
                model_package_group: ANY_GROUP.into(),
                model_package_arn: None,
                environment: None,
                correlation_id: cause.correlation_id(),
                cause,
                policy_version: None,
            },
            provider: push.provider,
            repository: push.repository.clone(),
            branch,
            commit: push.commit.clone(),
            before: push.before.clone(),
            changed_paths: push.changed_paths.clone(),
            changed_paths_complete: push.changed_paths_complete,
            delivery_id: delivery_id.to_string(),
            pusher: push.pusher.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(git_ref: &str, deleted: bool) -> Push {
        Push {
            provider: Provider::Github,
            repository: "acme/payroll-ml".into(),
            git_ref: git_ref.into(),
            before: Some("a".repeat(40)),
            commit: "b".repeat(40),
            changed_paths: vec!["models/payroll-fraud/train.py".into()],
            changed_paths_complete: true,
            pusher: Some("octocat".into()),
            deleted,
        }
    }

    #[test]
    fn a_branch_push_becomes_a_git_push_event_with_camel_case_fields() {
        let event = GitPush::from_push(&push("refs/heads/main", false), "d-1").unwrap();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["modelPackageGroup"], ANY_GROUP);
        assert_eq!(json["cause"], "webhook/github/d-1");
        assert_eq!(json["repository"], "acme/payroll-ml");
        assert_eq!(json["branch"], "main");
        assert_eq!(json["provider"], "github");
        assert_eq!(json["deliveryId"], "d-1");
        assert_eq!(json["changedPaths"][0], "models/payroll-fraud/train.py");
        assert_eq!(json["changedPathsComplete"], true);
        assert_eq!(GitPush::DETAIL_TYPE, "Git Push");
        assert!(event.resources().is_empty());
        let back: GitPush = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn deletions_and_tags_become_no_event() {
        assert!(GitPush::from_push(&push("refs/heads/main", true), "d").is_none());
        assert!(GitPush::from_push(&push("refs/tags/v1", false), "d").is_none());
    }

    #[test]
    fn the_same_delivery_has_the_same_cause() {
        let a = delivery_key(Provider::Gitlab, "uuid-1");
        assert_eq!(a.as_str(), "webhook/gitlab/uuid-1");
        assert_eq!(a, delivery_key(Provider::Gitlab, "uuid-1"));
        assert_ne!(a, delivery_key(Provider::Github, "uuid-1"));
    }
}
