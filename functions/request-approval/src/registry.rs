//! What the gate reads from and writes to the SageMaker model registry.

use std::collections::BTreeMap;

use aws_sdk_sagemaker::types::{ModelApprovalStatus, ModelPackageSortBy, SortOrder};
use steward::aws_error;
use steward::events::sagemaker::ApprovalStatus;

use crate::RequestApprovalError;

/// A model package as the gate needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub arn: String,
    pub group: String,
    pub version: Option<u32>,
    pub status: ApprovalStatus,
    /// `ModelMetrics.ModelQuality.Statistics.S3Uri`.
    pub metrics_uri: Option<String>,
    /// `ModelMetrics.Bias`: `Report`, `PreTrainingReport`, `PostTrainingReport`
    /// (Clarify's `analysis.json`), the ones named, in that order.
    pub bias_uris: Vec<String>,
    /// `CustomerMetadataProperties`: sent back whole on every update (an
    /// update without them may clear them; moto does).
    pub metadata: BTreeMap<String, String>,
    /// `MetadataProperties.GeneratedBy`: the pipeline execution.
    pub generated_by: Option<String>,
    /// `MetadataProperties.CommitId`.
    pub commit_id: Option<String>,
}

fn call(operation: &'static str) -> impl Fn(String) -> RequestApprovalError {
    move |message| RequestApprovalError::Registry { operation, message }
}

pub async fn describe(
    sagemaker: &aws_sdk_sagemaker::Client,
    arn: &str,
) -> Result<Package, RequestApprovalError> {
    let out = sagemaker
        .describe_model_package()
        .model_package_name(arn)
        .send()
        .await
        .map_err(|e| call("DescribeModelPackage")(aws_error::describe(&e)))?;
    Ok(Package {
        arn: out
            .model_package_arn
            .clone()
            .unwrap_or_else(|| arn.to_string()),
        group: out.model_package_group_name.clone().unwrap_or_default(),
        version: out
            .model_package_version
            .and_then(|v| u32::try_from(v).ok()),
        status: out
            .model_approval_status
            .as_ref()
            .map(|s| ApprovalStatus::from(s.as_str()))
            .unwrap_or_else(|| ApprovalStatus::from("")),
        metrics_uri: out
            .model_metrics
            .as_ref()
            .and_then(|m| m.model_quality.as_ref())
            .and_then(|q| q.statistics.as_ref())
            .and_then(|s| s.s3_uri.clone())
            .filter(|u| !u.is_empty()),
        bias_uris: out
            .model_metrics
            .as_ref()
            .and_then(|m| m.bias.as_ref())
            .map(|b| {
                [&b.report, &b.pre_training_report, &b.post_training_report]
                    .into_iter()
                    .flatten()
                    .filter_map(|source| source.s3_uri.clone())
                    .filter(|u| !u.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        metadata: out
            .customer_metadata_properties
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        generated_by: out
            .metadata_properties
            .as_ref()
            .and_then(|m| m.generated_by.clone()),
        commit_id: out
            .metadata_properties
            .as_ref()
            .and_then(|m| m.commit_id.clone()),
    })
}

/// The group's newest Approved package other than `except`, if any.
pub async fn latest_approved(
    sagemaker: &aws_sdk_sagemaker::Client,
    group: &str,
    except: &str,
) -> Result<Option<String>, RequestApprovalError> {
    let out = sagemaker
        .list_model_packages()
        .model_package_group_name(group)
        .model_approval_status(ModelApprovalStatus::Approved)
        .sort_by(ModelPackageSortBy::CreationTime)
        .sort_order(SortOrder::Descending)
        .max_results(10)
        .send()
        .await
        .map_err(|e| call("ListModelPackages")(aws_error::describe(&e)))?;
    Ok(out
        .model_package_summary_list()
        .iter()
        // Filtered again: the status filter is the emulator's weakest spot.
        .filter(|s| s.model_approval_status() == Some(&ModelApprovalStatus::Approved))
        .filter_map(|s| s.model_package_arn().map(str::to_string))
        .find(|arn| arn != except))
}

/// Set Rejected with the gate's reasons; status, description and metadata
/// always together.
pub async fn reject(
    sagemaker: &aws_sdk_sagemaker::Client,
    package: &Package,
    description: &str,
    metadata: &BTreeMap<String, String>,
) -> Result<(), RequestApprovalError> {
    sagemaker
        .update_model_package()
        .model_package_arn(&package.arn)
        .model_approval_status(ModelApprovalStatus::Rejected)
        .approval_description(description)
        .set_customer_metadata_properties(Some(metadata.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| call("UpdateModelPackage")(aws_error::describe(&e)))?;
    Ok(())
}
