//! Where functions read the policy from: the SSM parameter the CLI publishes.
//!
//! Read once at cold start; the parameter's version is recorded with every
//! decision, so the ledger says which policy made it.

use aws_sdk_ssm::Client;

use crate::policy::{Policy, PolicyErrors};

/// The policy in force, and which published version it is.
#[derive(Debug, Clone)]
pub struct PublishedPolicy {
    pub policy: Policy,
    /// `ssm:<parameter name>:<version>`.
    pub version: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    #[error("could not read the policy parameter {name}: {message}")]
    Read { name: String, message: String },
    #[error("the policy parameter {name} is empty")]
    Empty { name: String },
    #[error("the published policy {name} (version {version}) is invalid:\n{errors}")]
    Invalid {
        name: String,
        version: i64,
        errors: PolicyErrors,
    },
}

impl PolicyLoadError {
    pub fn error_type(&self) -> &'static str {
        match self {
            PolicyLoadError::Read { .. } => "policy_unreadable",
            PolicyLoadError::Empty { .. } => "policy_empty",
            PolicyLoadError::Invalid { .. } => "policy_invalid",
        }
    }
}

/// Read and validate the published policy.
pub async fn load_policy(client: &Client, name: &str) -> Result<PublishedPolicy, PolicyLoadError> {
    let out = client
        .get_parameter()
        .name(name)
        .send()
        .await
        .map_err(|e| PolicyLoadError::Read {
            name: name.into(),
            message: crate::aws_error::describe(&e),
        })?;
    let parameter = out
        .parameter
        .ok_or_else(|| PolicyLoadError::Empty { name: name.into() })?;
    let version = parameter.version;
    let text = parameter
        .value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| PolicyLoadError::Empty { name: name.into() })?;
    let policy = Policy::parse(&text).map_err(|errors| PolicyLoadError::Invalid {
        name: name.into(),
        version,
        errors,
    })?;
    Ok(PublishedPolicy {
        policy,
        version: format!("ssm:{name}:{version}"),
    })
}
