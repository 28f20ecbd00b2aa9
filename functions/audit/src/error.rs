//! What can go wrong in audit, with a stable `error_type` for logs, alarms
//! and Lambda's error report.

use lambda_runtime::Diagnostic;
use steward::audit::AuditError;
use steward::events::EventError;

#[derive(Debug, thiserror::Error)]
pub enum AuditFunctionError {
    /// Not an EventBridge event (no id, time, source, detail-type or detail):
    /// retrying cannot help, so it goes to the dead-letter queue as it is.
    #[error(transparent)]
    Event(#[from] EventError),
    #[error(transparent)]
    Store(#[from] AuditError),
}

impl AuditFunctionError {
    pub fn error_type(&self) -> &'static str {
        match self {
            AuditFunctionError::Event(e) => e.error_type(),
            AuditFunctionError::Store(e) => e.error_type(),
        }
    }
}

impl From<AuditFunctionError> for Diagnostic {
    fn from(e: AuditFunctionError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}
