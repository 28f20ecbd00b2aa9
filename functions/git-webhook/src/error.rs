//! What can go wrong in git-webhook beyond a bad request (which is answered
//! with a 4xx, not an error), with a stable `error_type`.
//!
//! These are infrastructure failures: the function returns them as errors, so
//! Lambda counts them (alarms see them) and the Function URL answers 502; the
//! forge marks the delivery failed and it can be redelivered, which the claim
//! makes safe.

use lambda_runtime::Diagnostic;
use steward::ledger::LedgerError;
use steward::publish::PublishError;

use crate::secrets::SecretLoadError;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Secret(#[from] SecretLoadError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl WebhookError {
    pub fn error_type(&self) -> &'static str {
        match self {
            WebhookError::Secret(e) => e.error_type(),
            WebhookError::Ledger(e) => e.error_type(),
            WebhookError::Publish(e) => e.error_type(),
        }
    }
}

impl From<WebhookError> for Diagnostic {
    fn from(e: WebhookError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}
