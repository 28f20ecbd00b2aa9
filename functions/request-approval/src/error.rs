//! What can go wrong in request-approval, with a stable `error_type` for logs,
//! alarms and Lambda's error report.

use lambda_runtime::Diagnostic;
use steward::approval::ask::AskError;
use steward::approval::decision::{DecisionError, RegistryError};
use steward::events::EventError;
use steward::ledger::LedgerError;
use steward::publish::PublishError;

#[derive(Debug, thiserror::Error)]
pub enum RequestApprovalError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("request-approval does not handle `{detail_type}` events from `{event_source}`; check the rule's pattern")]
    Unsupported {
        event_source: String,
        detail_type: String,
    },
    #[error("model package group `{group}` is not in the published policy ({policy_version}); nothing was done")]
    GroupNotManaged {
        group: String,
        policy_version: String,
    },
    #[error("model package {model_package_arn} is {status}: there is nothing left to approve")]
    NotPending {
        model_package_arn: String,
        status: String,
    },
    #[error("model package {model_package_arn} failed the gate ({failures}): nobody is asked to approve it")]
    GateFailed {
        model_package_arn: String,
        failures: String,
    },
    #[error("no environment of group `{group}` needs a person's approval")]
    NothingToAsk { group: String },
    #[error("SageMaker {operation} failed: {message}")]
    Registry {
        operation: &'static str,
        message: String,
    },
    #[error("reading the metrics file {uri} failed (not a missing file: retry): {message}")]
    MetricsUnavailable { uri: String, message: String },
    #[error(
        "another attempt is evaluating {key}; retry after its lease ends (epoch {lease_until})"
    )]
    InProgress { key: String, lease_until: i64 },
    #[error("the stored result of {key} is unreadable: {reason}")]
    StoredResult { key: String, reason: String },
    #[error(transparent)]
    Ask(#[from] AskError),
    #[error(transparent)]
    Decision(#[from] DecisionError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl From<RegistryError> for RequestApprovalError {
    fn from(e: RegistryError) -> Self {
        RequestApprovalError::Ask(AskError::Registry(e))
    }
}

impl RequestApprovalError {
    pub fn error_type(&self) -> &'static str {
        match self {
            RequestApprovalError::Event(e) => e.error_type(),
            RequestApprovalError::Unsupported { .. } => "unsupported_event",
            RequestApprovalError::GroupNotManaged { .. } => "group_not_managed",
            RequestApprovalError::NotPending { .. } => "not_pending",
            RequestApprovalError::GateFailed { .. } => "gate_failed",
            RequestApprovalError::NothingToAsk { .. } => "nothing_to_ask",
            RequestApprovalError::Registry { .. } => "registry_unavailable",
            RequestApprovalError::MetricsUnavailable { .. } => "metrics_unavailable",
            RequestApprovalError::InProgress { .. } => "gate_in_progress",
            RequestApprovalError::StoredResult { .. } => "stored_result_unreadable",
            RequestApprovalError::Ask(e) => e.error_type(),
            RequestApprovalError::Decision(e) => e.error_type(),
            RequestApprovalError::Ledger(e) => e.error_type(),
            RequestApprovalError::Publish(e) => e.error_type(),
        }
    }
}

impl From<RequestApprovalError> for Diagnostic {
    fn from(e: RequestApprovalError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}
