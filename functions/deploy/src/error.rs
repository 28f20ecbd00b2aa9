//! What can go wrong in deploy, with a stable `error_type`. Every error is
//! returned so Lambda retries (and then dead-letters): a busy endpoint or a
//! rollout another attempt is starting is retried, never dropped.

use lambda_runtime::Diagnostic;
use steward::deploy::sagemaker::SageMakerError;
use steward::events::EventError;
use steward::ledger::LedgerError;
use steward::notify::NotifyError;
use steward::publish::PublishError;

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("deploy does not handle `{detail_type}` events from `{event_source}`; check the rule's pattern")]
    Unsupported {
        event_source: String,
        detail_type: String,
    },
    #[error("environment `{environment}` of group `{group}` is not in the policy")]
    UnknownEnvironment { group: String, environment: String },
    #[error("model package `{arn}` is {status}, not Approved: only approved models are deployed")]
    NotApproved { arn: String, status: String },
    #[error("`{arn}` is not a versioned model package ARN")]
    PackageArn { arn: String },
    #[error("{group}/{environment} is busy: {what}; retry later")]
    Busy {
        group: String,
        environment: String,
        what: String,
    },
    #[error(
        "another attempt is working on {key}; retry after its lease ends (epoch {lease_until})"
    )]
    InProgress { key: String, lease_until: i64 },
    #[error("CloudWatch DescribeAlarms failed: {message}")]
    Alarms { message: String },
    #[error(transparent)]
    SageMaker(#[from] SageMakerError),
    #[error(transparent)]
    LambdaServing(#[from] crate::lambda_serving::LambdaServingError),
    #[error("{group}/{environment} is Lambda-served but STEWARD_CODEDEPLOY_ROLE_ARN is not set")]
    NoCodeDeployRole { group: String, environment: String },
    #[error("model package `{arn}` has no ModelDataUrl for the serving function to load")]
    NoModelData { arn: String },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
}

impl DeployError {
    pub fn error_type(&self) -> &'static str {
        match self {
            DeployError::Event(e) => e.error_type(),
            DeployError::Unsupported { .. } => "unsupported_event",
            DeployError::UnknownEnvironment { .. } => "unknown_environment",
            DeployError::PackageArn { .. } => "invalid_model_package_arn",
            DeployError::NotApproved { .. } => "model_package_not_approved",
            DeployError::Busy { .. } => "environment_busy",
            DeployError::InProgress { .. } => "deployment_in_progress",
            DeployError::Alarms { .. } => "alarms_unavailable",
            DeployError::SageMaker(e) => e.error_type(),
            DeployError::LambdaServing(e) => e.error_type(),
            DeployError::NoCodeDeployRole { .. } => "codedeploy_role_missing",
            DeployError::NoModelData { .. } => "model_data_missing",
            DeployError::Ledger(e) => e.error_type(),
            DeployError::Publish(e) => e.error_type(),
            DeployError::Notify(e) => e.error_type(),
        }
    }
}

impl From<DeployError> for Diagnostic {
    fn from(e: DeployError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}
