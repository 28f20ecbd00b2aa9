//! Steward's own events, published to the `steward` bus (source `steward`).
//!
//! Every event carries a [`Header`]: the model package group, the model package
//! ARN where there is one, the environment where there is one, the correlation id
//! of the chain and the idempotency key of its cause, so the audit ledger can
//! join a whole story from events alone. Fields are camelCase like other AWS
//! service events.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::naming::IdempotencyKey;

/// The source of every Steward event.
pub const SOURCE: &str = "steward";

/// What every Steward event carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub model_package_group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_package_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub correlation_id: String,
    pub cause: IdempotencyKey,
    /// The policy version that made the decision (e.g. `ssm:/steward/policy:7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
}

/// A Steward event detail: its detail-type and header.
pub trait StewardDetail: Serialize + DeserializeOwned {
    const DETAIL_TYPE: &'static str;
    fn header(&self) -> &Header;
    /// The resources the EventBridge entry lists (ARNs the event is about).
    fn resources(&self) -> Vec<String> {
        self.header().model_package_arn.iter().cloned().collect()
    }
}

/// Why a build started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// New data landed in a watched S3 prefix.
    Data,
    /// A push to a branch the policy names.
    GitPush,
    /// The group's retrain schedule.
    Schedule,
    /// Drift was detected on an endpoint the group serves.
    Drift,
    /// An operator asked for it.
    Manual,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Data => "data",
            Trigger::GitPush => "git-push",
            Trigger::Schedule => "schedule",
            Trigger::Drift => "drift",
            Trigger::Manual => "manual",
        }
    }
}

/// The data a build trains on: where it is and which version of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataVersion {
    /// `s3://bucket/prefix/`, the input the pipeline reads.
    pub uri: String,
    pub bucket: String,
    pub prefix: String,
    /// The object whose arrival closed the data set (the marker).
    pub marker_key: String,
    /// The marker's S3 version id, else its etag.
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// `Build Started`: one SageMaker pipeline execution started, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildStarted {
    #[serde(flatten)]
    pub header: Header,
    pub trigger: Trigger,
    pub pipeline_name: String,
    pub pipeline_execution_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl StewardDetail for BuildStarted {
    const DETAIL_TYPE: &'static str = "Build Started";
    fn header(&self) -> &Header {
        &self.header
    }
    fn resources(&self) -> Vec<String> {
        vec![self.pipeline_execution_arn.clone()]
    }
}

/// Every detail-type Steward emits, as named in DESIGN.md, plus the two
/// that start builds (`Git Push` from the webhook, `Build Requested` from the CLI).
pub const DETAIL_TYPES: [&str; 13] = [
    "Build Started",
    "Gate Evaluated",
    "Approval Requested",
    "Approval Decided",
    "Deployment Started",
    "Deployment Succeeded",
    "Deployment Failed",
    "Promotion Requested",
    "Rollback Started",
    "Rollback Completed",
    "Drift Detected",
    "Git Push",
    "Build Requested",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn build_started() -> BuildStarted {
        BuildStarted {
            header: Header {
                model_package_group: "payroll-fraud".into(),
                model_package_arn: None,
                environment: None,
                correlation_id: "stw-abc".into(),
                cause: IdempotencyKey::data_build("acme-ml-data", "p/", "v1"),
                policy_version: Some("ssm:/steward/policy:3".into()),
            },
            trigger: Trigger::Data,
            pipeline_name: "payroll-fraud-train".into(),
            pipeline_execution_arn: "arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/x".into(),
            data: None,
            commit: None,
        }
    }

    #[test]
    fn header_is_flattened_and_camel_cased() {
        let json = serde_json::to_value(build_started()).unwrap();
        assert_eq!(json["modelPackageGroup"], "payroll-fraud");
        assert_eq!(json["correlationId"], "stw-abc");
        assert_eq!(json["cause"], "build/s3/acme-ml-data/p/@v1");
        assert_eq!(json["trigger"], "data");
        assert!(json.get("modelPackageArn").is_none());
        let back: BuildStarted = serde_json::from_value(json).unwrap();
        assert_eq!(back, build_started());
    }

    #[test]
    fn build_started_is_about_its_execution() {
        assert!(DETAIL_TYPES.contains(&BuildStarted::DETAIL_TYPE));
        assert_eq!(
            build_started().resources(),
            vec!["arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/x".to_string()]
        );
    }
}
