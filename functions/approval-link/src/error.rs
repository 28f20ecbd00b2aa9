//! What can go wrong in approval-link beyond a refused link (which is answered
//! with a page, not an error), with a stable `error_type`.
//!
//! These are infrastructure failures: the function returns them as errors, so
//! Lambda counts them (alarms see them) and the Function URL answers 502. Any
//! claim taken was released, so the approver can simply try again.

use lambda_runtime::Diagnostic;
use steward::approval::decision::{DecisionError, RegistryError};

use crate::keys::KeysError;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Keys(#[from] KeysError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Decision(#[from] DecisionError),
    #[error("the approval request could not be read: {0}")]
    Evidence(String),
}

impl LinkError {
    pub fn error_type(&self) -> &'static str {
        match self {
            LinkError::Keys(e) => e.error_type(),
            LinkError::Registry(e) => e.error_type(),
            LinkError::Decision(e) => e.error_type(),
            LinkError::Evidence(_) => "approval_request_unreadable",
        }
    }
}

impl From<LinkError> for Diagnostic {
    fn from(e: LinkError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}
