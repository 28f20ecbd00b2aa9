//! What can go wrong in publish-policy, with a stable `error_type`.

use lambda_runtime::Diagnostic;
use steward::events::EventError;
use steward::ledger::LedgerError;
use steward::notify::NotifyError;
use steward::policy_store::PolicyLoadError;

use crate::fetch::FetchError;

#[derive(Debug, thiserror::Error)]
pub enum PublishPolicyError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("publish-policy does not handle `{detail_type}` events from `{event_source}`; check the rule's pattern")]
    Unsupported {
        event_source: String,
        detail_type: String,
    },
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Policy(#[from] PolicyLoadError),
    #[error("could not read the git token secret {secret}: {message}")]
    Token { secret: String, message: String },
    #[error("the HTTPS client could not start: {0}")]
    Http(String),
    #[error("another attempt is handling {key}; retry after its lease ends (epoch {lease_until})")]
    InProgress { key: String, lease_until: i64 },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
}

impl PublishPolicyError {
    pub fn error_type(&self) -> &'static str {
        match self {
            PublishPolicyError::Event(e) => e.error_type(),
            PublishPolicyError::Unsupported { .. } => "unsupported_event",
            PublishPolicyError::Fetch(e) => e.error_type(),
            PublishPolicyError::Policy(e) => e.error_type(),
            PublishPolicyError::Token { .. } => "git_token_unreadable",
            PublishPolicyError::Http(_) => "https_client_unavailable",
            PublishPolicyError::InProgress { .. } => "publish_in_progress",
            PublishPolicyError::Ledger(e) => e.error_type(),
            PublishPolicyError::Notify(e) => e.error_type(),
        }
    }
}

impl From<PublishPolicyError> for Diagnostic {
    fn from(e: PublishPolicyError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}
