//! CodeCommit `CodeCommit Repository State Change`: a push to the ML repository.

use serde::{Deserialize, Serialize};

use super::{AwsDetail, EventError};

open_enum! {
    /// What happened to the reference (`detail.event`).
    pub enum ReferenceEvent {
        /// A branch or tag was created (first push of a branch).
        ReferenceCreated = "referenceCreated",
        /// A branch or tag moved (a push or a merge).
        ReferenceUpdated = "referenceUpdated",
        /// A branch or tag was deleted; there is no `commitId`.
        ReferenceDeleted = "referenceDeleted",
        /// A merge commit was created without a reference pointing at it.
        UnreferencedMergeCommitCreated = "unreferencedMergeCommitCreated",
    }
}

/// The detail of a `CodeCommit Repository State Change` event (source
/// `aws.codecommit`).
///
/// Shape: AWS CodeCommit User Guide, "Monitoring CodeCommit events in Amazon
/// EventBridge and Amazon CloudWatch Events"
/// (<https://docs.aws.amazon.com/codecommit/latest/userguide/monitoring-events.html>),
/// examples `referenceCreated`, `referenceUpdated`, `referenceDeleted` and
/// `unreferencedMergeCommitCreated`; `callerUserArn` from the EventBridge schema
/// for this detail-type (CDK `CodeCommitRepositoryStateChangeProps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryStateChange {
    pub event: ReferenceEvent,
    pub repository_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_id: Option<String>,
    /// `branch` or `tag`; absent for `unreferencedMergeCommitCreated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_type: Option<String>,
    /// Branch or tag name, e.g. `main`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_name: Option<String>,
    /// e.g. `refs/heads/main`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_full_name: Option<String>,
    /// The commit the reference now points at; absent when it was deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
    /// The commit the reference pointed at before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_commit_id: Option<String>,
    /// Merge base, for updates made by a merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_commit_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_commit_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_commit_id: Option<String>,
    /// Who pushed, for the ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_user_arn: Option<String>,
}

impl AwsDetail for RepositoryStateChange {
    const SOURCE: &'static str = "aws.codecommit";
    const DETAIL_TYPE: &'static str = "CodeCommit Repository State Change";
}

impl RepositoryStateChange {
    /// The branch the event is about, when it is about a branch.
    pub fn branch(&self) -> Option<&str> {
        match self.reference_type.as_deref() {
            Some("branch") => self.reference_name.as_deref(),
            _ => None,
        }
    }

    /// Whether new commits arrived on a branch: created or moved, not deleted.
    /// Only these can start a build.
    pub fn is_branch_push(&self) -> bool {
        matches!(
            self.event,
            ReferenceEvent::ReferenceCreated | ReferenceEvent::ReferenceUpdated
        ) && self.branch().is_some()
    }

    /// The commit to build from.
    pub fn require_commit_id(&self) -> Result<&str, EventError> {
        self.commit_id.as_deref().ok_or(EventError::MissingField {
            field: "detail.commitId",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{decode_as, decode_str_as, Timestamp};
    use serde_json::json;

    const PUSH: &str = include_str!("../../../../events/codecommit-push.json");

    #[test]
    fn push_sample_decodes() {
        let event = decode_str_as::<RepositoryStateChange>(PUSH).expect("sample decodes");
        assert_eq!(
            event.resources.as_deref(),
            Some(&["arn:aws:codecommit:us-east-1:123456789012:payroll-fraud-model".to_owned()][..])
        );
        assert_eq!(
            event.time.map(Timestamp),
            "2026-11-22T17:41:09Z".parse().ok()
        );
        let detail = event.detail;
        assert_eq!(detail.event, ReferenceEvent::ReferenceUpdated);
        assert_eq!(detail.repository_name, "payroll-fraud-model");
        assert_eq!(
            detail.repository_id.as_deref(),
            Some("2f6b8c1d-7e3a-4d9f-b5c2-8a1e0f4d6b7c")
        );
        assert_eq!(detail.reference_type.as_deref(), Some("branch"));
        assert_eq!(
            detail.reference_full_name.as_deref(),
            Some("refs/heads/main")
        );
        assert_eq!(detail.branch(), Some("main"));
        assert!(detail.is_branch_push());
        assert_eq!(
            detail.require_commit_id(),
            Ok("8e1f3c5a7b9d2e4f6a8c0b1d3e5f7a9c2b4d6e8f")
        );
        assert_eq!(
            detail.old_commit_id.as_deref(),
            Some("1a3c5e7b9d0f2a4c6e8b1d3f5a7c9e0b2d4f6a8c")
        );
        assert_eq!(detail.base_commit_id, None);
        assert_eq!(
            detail.caller_user_arn.as_deref(),
            Some("arn:aws:iam::123456789012:user/dana")
        );
    }

    /// The `referenceDeleted` example from the CodeCommit guide.
    #[test]
    fn deleted_branch_is_not_a_push_and_has_no_commit() {
        let event = json!({
            "version": "0",
            "id": "01234567-EXAMPLE",
            "detail-type": "CodeCommit Repository State Change",
            "source": "aws.codecommit",
            "account": "123456789012",
            "time": "2019-06-12T10:23:43Z",
            "region": "us-east-2",
            "resources": ["arn:aws:codecommit:us-east-2:123456789012:MyDemoRepo"],
            "detail": {
                "event": "referenceDeleted",
                "repositoryName": "MyDemoRepo",
                "repositoryId": "12345678-1234-5678-abcd-12345678abcd",
                "referenceType": "branch",
                "referenceName": "myBranch",
                "referenceFullName": "refs/heads/myBranch",
                "oldCommitId": "26a8f2EXAMPLE"
            }
        });
        let detail = decode_as::<RepositoryStateChange>(event)
            .expect("decodes")
            .detail;
        assert_eq!(detail.event, ReferenceEvent::ReferenceDeleted);
        assert!(!detail.is_branch_push());
        assert_eq!(
            detail.require_commit_id(),
            Err(EventError::MissingField {
                field: "detail.commitId"
            })
        );
    }

    /// The `referenceUpdated` merge example from the CodeCommit guide, with a
    /// made-up extra field and event name.
    #[test]
    fn merge_fields_unknown_fields_and_unknown_events_are_kept_or_ignored() {
        let event = json!({
            "detail-type": "CodeCommit Repository State Change",
            "source": "aws.codecommit",
            "detail": {
                "event": "referenceRenamed",
                "repositoryName": "MyDemoRepo",
                "referenceType": "tag",
                "referenceName": "v1",
                "commitId": "7f0103fMERGE",
                "baseCommitId": "3e5a9bf1BASE",
                "sourceCommitId": "26a8f2SOURCE",
                "destinationCommitId": "3e5983DESTINATION",
                "mergeOption": "THREE_WAY_MERGE",
                "conflictDetailsLevel": "LINE_LEVEL",
                "somethingNew": {"nested": true}
            }
        });
        let detail = decode_as::<RepositoryStateChange>(event)
            .expect("decodes")
            .detail;
        assert_eq!(
            detail.event,
            ReferenceEvent::Other("referenceRenamed".into())
        );
        assert_eq!(detail.event.as_str(), "referenceRenamed");
        assert_eq!(detail.branch(), None, "a tag is not a branch");
        assert!(!detail.is_branch_push());
        assert_eq!(detail.base_commit_id.as_deref(), Some("3e5a9bf1BASE"));
        assert_eq!(detail.source_commit_id.as_deref(), Some("26a8f2SOURCE"));
    }

    #[test]
    fn missing_repository_name_names_its_path() {
        let mut event: serde_json::Value = serde_json::from_str(PUSH).expect("json");
        event["detail"]
            .as_object_mut()
            .expect("object")
            .remove("repositoryName");
        let err = decode_as::<RepositoryStateChange>(event).expect_err("required");
        assert!(
            matches!(&err, EventError::Malformed { path, .. } if path == "detail.repositoryName"),
            "{err:?}"
        );
    }
}
