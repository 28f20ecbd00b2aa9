//! What can go wrong in start-build, with a stable `error_type` for logs,
//! alarms and Lambda's error report.

use lambda_runtime::Diagnostic;
use steward::events::EventError;
use steward::ledger::LedgerError;
use steward::notify::NotifyError;
use steward::publish::PublishError;

#[derive(Debug, thiserror::Error)]
pub enum StartBuildError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("start-build does not handle `{detail_type}` events from `{event_source}`; check the rule's pattern")]
    Unsupported {
        event_source: String,
        detail_type: String,
    },
    #[error("pipeline `{pipeline}` of group `{group}` does not exist in SageMaker: {message}")]
    PipelineNotFound {
        group: String,
        pipeline: String,
        message: String,
    },
    #[error("DescribePipelineExecution of `{arn}` failed (the retrain guard needs its status): {message}")]
    DescribeExecution { arn: String, message: String },
    #[error("StartPipelineExecution for `{pipeline}` failed: {message}")]
    StartPipeline { pipeline: String, message: String },
    #[error(
        "another attempt is starting build {key}; retry after its lease ends (epoch {lease_until})"
    )]
    InProgress { key: String, lease_until: i64 },
    #[error("the stored result of build {key} is unreadable: {reason}")]
    StoredResult { key: String, reason: String },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error("a failed pipeline run must be mailed to its stewards, but STEWARD_NOTIFICATIONS_TOPIC is not set")]
    NotificationsNotConfigured,
}

impl StartBuildError {
    pub fn error_type(&self) -> &'static str {
        match self {
            StartBuildError::Event(e) => e.error_type(),
            StartBuildError::Unsupported { .. } => "unsupported_event",
            StartBuildError::PipelineNotFound { .. } => "pipeline_not_found",
            StartBuildError::StartPipeline { .. } => "start_pipeline_failed",
            StartBuildError::DescribeExecution { .. } => "describe_execution_failed",
            StartBuildError::InProgress { .. } => "build_in_progress",
            StartBuildError::StoredResult { .. } => "stored_result_unreadable",
            StartBuildError::Ledger(e) => e.error_type(),
            StartBuildError::Publish(e) => e.error_type(),
            StartBuildError::Notify(e) => e.error_type(),
            StartBuildError::NotificationsNotConfigured => "notifications_not_configured",
        }
    }
}

impl From<StartBuildError> for Diagnostic {
    fn from(e: StartBuildError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}
