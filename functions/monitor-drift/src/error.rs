//! What can go wrong in monitor-drift, with a stable `error_type` for logs,
//! alarms and Lambda's error report. A missing or unreadable baseline, an empty
//! window or corrupt capture are results, not errors: only what a retry can fix
//! fails the invocation.

use lambda_runtime::Diagnostic;
use steward::events::EventError;
use steward::ledger::LedgerError;
use steward::publish::PublishError;

#[derive(Debug, thiserror::Error)]
pub enum MonitorDriftError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("monitor-drift handles `Scheduled Event` from aws.events, not `{detail_type}` from `{event_source}`; check the rule")]
    Unsupported {
        event_source: String,
        detail_type: String,
    },
    #[error("S3 {operation} of s3://{bucket}/{key} failed: {message}")]
    S3 {
        operation: &'static str,
        bucket: String,
        key: String,
        message: String,
    },
    #[error("the drift check of {endpoint} stopped: {message}")]
    Check { endpoint: String, message: String },
    #[error("another attempt is checking {key}; retry after its lease ends (epoch {lease_until})")]
    InProgress { key: String, lease_until: i64 },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl MonitorDriftError {
    pub fn error_type(&self) -> &'static str {
        match self {
            MonitorDriftError::Event(e) => e.error_type(),
            MonitorDriftError::Unsupported { .. } => "unsupported_event",
            MonitorDriftError::S3 { .. } => "capture_unreadable",
            MonitorDriftError::Check { .. } => "drift_check_failed",
            MonitorDriftError::InProgress { .. } => "drift_check_in_progress",
            MonitorDriftError::Ledger(e) => e.error_type(),
            MonitorDriftError::Publish(e) => e.error_type(),
        }
    }
}

impl From<MonitorDriftError> for Diagnostic {
    fn from(e: MonitorDriftError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}
