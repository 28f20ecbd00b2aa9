//! The model registry as the decision needs it: read a package's approval
//! state, set its approval. The port keeps SDK types out of the decision; the
//! SageMaker adapter is the real one.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_sagemaker::types::ModelApprovalStatus;
use aws_sdk_sagemaker::Client;

use crate::events::sagemaker::ApprovalStatus;

/// What the decision reads about a package.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageApproval {
    pub model_package_arn: String,
    pub group: String,
    pub version: Option<u32>,
    pub status: ApprovalStatus,
    pub description: Option<String>,
    /// `CustomerMetadataProperties`: sent back whole on every update, since
    /// an UpdateModelPackage without them may clear them (moto does).
    pub metadata: BTreeMap<String, String>,
    /// Lineage shown to the approver: the description the training step
    /// wrote, what generated the package (the pipeline run), and its commit.
    pub package_description: Option<String>,
    pub generated_by: Option<String>,
    pub commit_id: Option<String>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the decision writes: status, description and metadata together.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalUpdate {
    pub status: ApprovalStatus,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("model package {0} does not exist")]
    NotFound(String),
    #[error("SageMaker {operation} on {arn} failed: {message}")]
    Call {
        operation: &'static str,
        arn: String,
        message: String,
    },
}

impl RegistryError {
    pub fn error_type(&self) -> &'static str {
        match self {
            RegistryError::NotFound(_) => "model_package_not_found",
            RegistryError::Call { .. } => "registry_unavailable",
        }
    }
}

pub trait ModelRegistry: Send + Sync {
    fn package(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<PackageApproval, RegistryError>> + Send;

    fn set_approval(
        &self,
        arn: &str,
        update: &ApprovalUpdate,
    ) -> impl Future<Output = Result<(), RegistryError>> + Send;
}

fn is_missing(described: &str) -> bool {
    described.starts_with("ValidationException")
        && (described.contains("does not exist") || described.contains("not found"))
}

/// The registry on SageMaker.
#[derive(Debug, Clone)]
pub struct SageMakerRegistry {
    client: Client,
}

impl SageMakerRegistry {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl ModelRegistry for SageMakerRegistry {
    async fn package(&self, arn: &str) -> Result<PackageApproval, RegistryError> {
        let out = self
            .client
            .describe_model_package()
            .model_package_name(arn)
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            // DescribeModelPackage answers a missing package with a
            // ValidationException ("does not exist"; moto: "not found"), not
            // a typed not-found.
            Err(e) if is_missing(&crate::aws_error::describe(&e)) => {
                return Err(RegistryError::NotFound(arn.to_string()))
            }
            Err(e) => {
                return Err(RegistryError::Call {
                    operation: "DescribeModelPackage",
                    arn: arn.to_string(),
                    message: crate::aws_error::describe(&e),
                })
            }
        };
        let status = out
            .model_approval_status
            .as_ref()
            .map(|s| ApprovalStatus::from(s.as_str()))
            .unwrap_or_else(|| ApprovalStatus::from(""));
        Ok(PackageApproval {
            model_package_arn: out
                .model_package_arn
                .clone()
                .unwrap_or_else(|| arn.to_string()),
            group: out.model_package_group_name.clone().unwrap_or_default(),
            version: out
                .model_package_version
                .and_then(|v| u32::try_from(v).ok()),
            status,
            description: out.approval_description.clone(),
            package_description: out.model_package_description.clone(),
            generated_by: out
                .metadata_properties
                .as_ref()
                .and_then(|m| m.generated_by.clone()),
            commit_id: out
                .metadata_properties
                .as_ref()
                .and_then(|m| m.commit_id.clone()),
            created_at: out
                .creation_time
                .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
            metadata: out
                .customer_metadata_properties
                .unwrap_or_default()
                .into_iter()
                .collect(),
        })
    }

    async fn set_approval(&self, arn: &str, update: &ApprovalUpdate) -> Result<(), RegistryError> {
        self.client
            .update_model_package()
            .model_package_arn(arn)
            .model_approval_status(ModelApprovalStatus::from(update.status.as_str()))
            .approval_description(&update.description)
            .set_customer_metadata_properties(Some(update.metadata.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| RegistryError::Call {
                operation: "UpdateModelPackage",
                arn: arn.to_string(),
                message: crate::aws_error::describe(&e),
            })?;
        Ok(())
    }
}
