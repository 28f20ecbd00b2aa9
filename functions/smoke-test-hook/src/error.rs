//! What can go wrong in the hook, with a stable `error_type`. An error is
//! returned (Lambda retries the asynchronous invocation); a smoke test that
//! ran and failed is not an error: it is reported to CodeDeploy as Failed.

use lambda_runtime::Diagnostic;
use steward::ledger::LedgerError;

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(
        "the hook event is not CodeDeploy's {{DeploymentId, LifecycleEventHookExecutionId}}: {0}"
    )]
    BadInput(String),
    #[error("another attempt is running hook execution {key}; retry after its lease (epoch {lease_until})")]
    InProgress { key: String, lease_until: i64 },
    #[error("{operation} on {target} failed: {message}")]
    CodeDeploy {
        operation: &'static str,
        target: String,
        message: String,
    },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl HookError {
    pub fn error_type(&self) -> &'static str {
        match self {
            HookError::BadInput(_) => "invalid_hook_event",
            HookError::InProgress { .. } => "hook_in_progress",
            HookError::CodeDeploy { .. } => "codedeploy_call_failed",
            HookError::Ledger(e) => e.error_type(),
        }
    }
}

impl From<HookError> for Diagnostic {
    fn from(e: HookError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}
