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

/// `Approval Decided`: a person (by link or CLI) or the policy (`auto`)
/// approved or rejected a model package for an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalDecided {
    #[serde(flatten)]
    pub header: Header,
    /// `Approved` or `Rejected`, as the registry spells the status it set.
    pub decision: String,
    /// Who decided: an approver's address (link), an IAM ARN (CLI), or
    /// `steward` (auto).
    pub approver: String,
    /// `link`, `cli` or `auto`.
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The approval token used (link only); never the token itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// RFC 3339.
    pub decided_at: String,
}

impl StewardDetail for ApprovalDecided {
    const DETAIL_TYPE: &'static str = "Approval Decided";
    fn header(&self) -> &Header {
        &self.header
    }
}

/// `Gate Evaluated`: a newly registered model was checked against its group's
/// gate. The whole report is in the ledger (`MODEL#<arn>`, kind `gate_evaluated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateEvaluated {
    #[serde(flatten)]
    pub header: Header,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// `passed` or `failed`.
    pub outcome: String,
    /// How many checks ran.
    pub checks: usize,
    /// The reason of each failed check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// The model compared with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub champion_arn: Option<String>,
    /// RFC 3339.
    pub evaluated_at: String,
}

impl StewardDetail for GateEvaluated {
    const DETAIL_TYPE: &'static str = "Gate Evaluated";
    fn header(&self) -> &Header {
        &self.header
    }
}

/// `Approval Requested`: each approver was emailed a link to decide the model
/// package for the header's environment (token ids only, never tokens).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequested {
    #[serde(flatten)]
    pub header: Header,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    pub approvers: Vec<String>,
    pub token_ids: Vec<String>,
    /// RFC 3339: the links stop working then.
    pub expires_at: String,
}

impl StewardDetail for ApprovalRequested {
    const DETAIL_TYPE: &'static str = "Approval Requested";
    fn header(&self) -> &Header {
        &self.header
    }
}

/// `Deployment Started`: a model is rolling out to an environment (header:
/// its package and the environment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStarted {
    #[serde(flatten)]
    pub header: Header,
    pub version: u32,
    /// `endpoint <name>` or `lambda <function>:<alias>`.
    pub target: String,
    pub model_name: String,
    pub endpoint_config: String,
    /// `create` (a new endpoint) or `update` (blue/green).
    pub action: String,
    /// `ALL_AT_ONCE`, `CANARY` or `LINEAR`.
    pub traffic_routing: String,
}

/// `Deployment Succeeded`: what `DescribeEndpoint` shows live is the new
/// model's config; its bake runs until `bakeUntil`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSucceeded {
    #[serde(flatten)]
    pub header: Header,
    pub version: u32,
    pub endpoint_config: String,
    /// RFC 3339.
    pub bake_until: String,
}

/// `Deployment Failed`: the rollout did not take (SageMaker rolled it back,
/// or the endpoint failed); what serves is unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentFailed {
    #[serde(flatten)]
    pub header: Header,
    pub version: u32,
    pub endpoint_config: String,
    /// SageMaker's `FailureReason`, else what Steward observed.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_config: Option<String>,
}

/// `Promotion Requested`: a model baked in `fromEnvironment`; the next
/// environment (the header's) needs a person's approval before it deploys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromotionRequested {
    #[serde(flatten)]
    pub header: Header,
    pub version: u32,
    pub from_environment: String,
}

/// `Rollback Started`: traffic goes back to a known good model (header: the
/// bad model's package).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackStarted {
    #[serde(flatten)]
    pub header: Header,
    /// The alarm that fired, or the operator's reason.
    pub reason: String,
    /// SageMaker's auto-rollback (true) or Steward's own (false).
    pub automatic: bool,
    pub from_endpoint_config: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_model_package_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_endpoint_config: Option<String>,
}

/// `Rollback Completed`: verified by what `DescribeEndpoint` shows live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackCompleted {
    #[serde(flatten)]
    pub header: Header,
    pub reason: String,
    pub automatic: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_config: Option<String>,
}

macro_rules! deployment_detail {
    ($($ty:ident = $name:literal),+ $(,)?) => {$(
        impl StewardDetail for $ty {
            const DETAIL_TYPE: &'static str = $name;
            fn header(&self) -> &Header {
                &self.header
            }
        }
    )+};
}

deployment_detail!(
    DeploymentStarted = "Deployment Started",
    DeploymentSucceeded = "Deployment Succeeded",
    DeploymentFailed = "Deployment Failed",
    PromotionRequested = "Promotion Requested",
    RollbackStarted = "Rollback Started",
    RollbackCompleted = "Rollback Completed",
);

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
