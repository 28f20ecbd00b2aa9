//! Where functions read the policy from: the SSM parameter the CLI publishes.
//!
//! Read once at cold start; the parameter's version is recorded with every
//! decision, so the ledger says which policy made it.

pub mod publish;

use aws_sdk_ssm::types::{ParameterTier, ParameterType};
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
    #[error("could not publish the policy to {name} ({operation}): {message}")]
    Write {
        name: String,
        operation: &'static str,
        message: String,
    },
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
            PolicyLoadError::Write { .. } => "policy_publish_failed",
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

/// The published text and its version, or `None` before the first publication.
pub async fn published_text(
    client: &Client,
    name: &str,
) -> Result<Option<(String, i64)>, PolicyLoadError> {
    match client.get_parameter().name(name).send().await {
        Ok(out) => Ok(out
            .parameter
            .map(|p| (p.value.unwrap_or_default(), p.version))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_parameter_not_found()) =>
        {
            Ok(None)
        }
        Err(e) => Err(PolicyLoadError::Read {
            name: name.into(),
            message: crate::aws_error::describe(&e),
        }),
    }
}

/// Publish a validated policy as the parameter's next version, described by
/// `description` (which names the commit, so a retry can tell its own
/// version: see [`version_description`]), and label that version (e.g.
/// `commit-<sha>`); returns the version.
pub async fn publish_policy(
    client: &Client,
    name: &str,
    text: &str,
    description: &str,
    label: &str,
) -> Result<i64, PolicyLoadError> {
    let failed = |operation: &'static str| {
        move |message: String| PolicyLoadError::Write {
            name: name.into(),
            operation,
            message,
        }
    };
    // Standard parameters hold 4 KB; a commented policy is often larger.
    let tier = if text.len() > 4096 {
        ParameterTier::Advanced
    } else {
        ParameterTier::Standard
    };
    let version = client
        .put_parameter()
        .name(name)
        .value(text)
        .description(description)
        .r#type(ParameterType::String)
        .tier(tier)
        .overwrite(true)
        .send()
        .await
        .map_err(|e| failed("PutParameter")(crate::aws_error::describe(&e)))?
        .version;
    label_version(client, name, version, label).await?;
    Ok(version)
}

/// Attach `label` to a version of the parameter (moving it if another version
/// had it).
pub async fn label_version(
    client: &Client,
    name: &str,
    version: i64,
    label: &str,
) -> Result<(), PolicyLoadError> {
    client
        .label_parameter_version()
        .name(name)
        .parameter_version(version)
        .labels(label)
        .send()
        .await
        .map_err(|e| PolicyLoadError::Write {
            name: name.into(),
            operation: "LabelParameterVersion",
            message: crate::aws_error::describe(&e),
        })?;
    Ok(())
}

/// The description a version of the parameter was published with
/// (`GetParameterHistory`), or `None` when it has none or is gone.
pub async fn version_description(
    client: &Client,
    name: &str,
    version: i64,
) -> Result<Option<String>, PolicyLoadError> {
    let mut pages = client
        .get_parameter_history()
        .name(name)
        .max_results(50)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| PolicyLoadError::Read {
            name: name.into(),
            message: crate::aws_error::describe(&e),
        })?;
        if let Some(found) = page
            .parameters
            .unwrap_or_default()
            .into_iter()
            .find(|p| p.version == version)
        {
            return Ok(found.description.filter(|d| !d.is_empty()));
        }
    }
    Ok(None)
}
