//! What can go wrong in rollback, with a stable `error_type`. Errors are
//! returned so Lambda retries: a rollback SageMaker has not finished yet is
//! verified by the retry.

use lambda_runtime::Diagnostic;
use steward::deploy::sagemaker::SageMakerError;
use steward::events::EventError;
use steward::ledger::LedgerError;
use steward::notify::NotifyError;
use steward::publish::PublishError;

#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("{endpoint} is not rolled back yet ({status}); retry to verify")]
    NotYetVerified { endpoint: String, status: String },
    #[error("{group}/{environment} is busy: {what}; retry later")]
    Busy {
        group: String,
        environment: String,
        what: String,
    },
    #[error(
        "another attempt is rolling back {key}; retry after its lease ends (epoch {lease_until})"
    )]
    InProgress { key: String, lease_until: i64 },
    #[error("environment `{environment}` of group `{group}` is not in the policy")]
    UnknownEnvironment { group: String, environment: String },
    #[error(transparent)]
    SageMaker(#[from] SageMakerError),
    #[error("GetAlias on {function} failed: {message}")]
    Lambda { function: String, message: String },
    #[error("{operation} on {target} failed: {message}")]
    CodeDeploy {
        operation: &'static str,
        target: String,
        message: String,
    },
    #[error("`{label}` names no function version to roll back to")]
    ReleaseLabel { label: String },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
}

impl RollbackError {
    pub fn error_type(&self) -> &'static str {
        match self {
            RollbackError::Event(e) => e.error_type(),
            RollbackError::NotYetVerified { .. } => "rollback_not_yet_verified",
            RollbackError::Busy { .. } => "environment_busy",
            RollbackError::InProgress { .. } => "rollback_in_progress",
            RollbackError::UnknownEnvironment { .. } => "unknown_environment",
            RollbackError::SageMaker(e) => e.error_type(),
            RollbackError::Lambda { .. } => "lambda_call_failed",
            RollbackError::CodeDeploy { .. } => "codedeploy_call_failed",
            RollbackError::ReleaseLabel { .. } => "invalid_release_label",
            RollbackError::Ledger(e) => e.error_type(),
            RollbackError::Publish(e) => e.error_type(),
            RollbackError::Notify(e) => e.error_type(),
        }
    }
}

impl From<RollbackError> for Diagnostic {
    fn from(e: RollbackError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}
