//! SageMaker events: model package registered or decided, pipeline execution
//! finished, endpoint deployment progressed.
//!
//! Shapes: Amazon SageMaker Developer Guide, "Events that Amazon SageMaker AI
//! sends to Amazon EventBridge"
//! (<https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html>).
//! SageMaker details are PascalCase like its API (the model package detail
//! mirrors `DescribeModelPackage`), except pipeline events, which are camelCase.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::{null_as_default, opt_count};
use super::{AwsDetail, EventError, Timestamp};

open_enum! {
    /// `ModelApprovalStatus` of a model package.
    pub enum ApprovalStatus {
        PendingManualApproval = "PendingManualApproval",
        Approved = "Approved",
        Rejected = "Rejected",
    }
}

open_enum! {
    /// `ModelPackageStatus`: whether registration itself finished.
    pub enum ModelPackageStatus {
        Pending = "Pending",
        InProgress = "InProgress",
        Completed = "Completed",
        Failed = "Failed",
        Deleting = "Deleting",
    }
}

open_enum! {
    /// `PipelineExecutionStatus` (API `DescribePipelineExecution`).
    pub enum PipelineExecutionStatus {
        Executing = "Executing",
        Stopping = "Stopping",
        Stopped = "Stopped",
        Failed = "Failed",
        Succeeded = "Succeeded",
    }
}

open_enum! {
    /// `EndpointStatus`. Events write it `IN_SERVICE`, `UPDATING` (both
    /// examples in the guide), the API `InService`, `Updating`; both are
    /// read, and it is written the way events write it.
    pub enum EndpointStatus {
        OutOfService = "OUT_OF_SERVICE" | "OutOfService",
        Creating = "CREATING" | "Creating",
        Updating = "UPDATING" | "Updating",
        SystemUpdating = "SYSTEM_UPDATING" | "SystemUpdating",
        RollingBack = "ROLLING_BACK" | "RollingBack",
        InService = "IN_SERVICE" | "InService",
        Deleting = "DELETING" | "Deleting",
        Failed = "FAILED" | "Failed",
        UpdateRollbackFailed = "UPDATE_ROLLBACK_FAILED" | "UpdateRollbackFailed",
    }
}

/// The detail of a `SageMaker Model Package State Change` event (source
/// `aws.sagemaker`): a model package was registered, or its approval changed.
///
/// Shape: the "Model package state change" example in the SageMaker guide
/// (times as RFC 3339 strings there), a captured event in the README of
/// aws-samples/amazon-sagemaker-drift-detection (`ModelPackageName`, and
/// `CreationTime` as epoch milliseconds, which is what SageMaker sends), and
/// the `ModelPackage` type of the SageMaker API reference for fields the
/// examples leave out (`ApprovalDescription`, `CustomerMetadataProperties`,
/// `MetadataProperties.CommitId`/`Repository`/`ProjectId`, `ModelMetrics.Bias`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModelPackageStateChange {
    /// Absent for unversioned model packages, which Steward does not manage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_package_group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_package_version: Option<u32>,
    pub model_package_arn: String,
    /// `group/version` for a versioned package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_package_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_package_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_approval_status: Option<ApprovalStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_package_status: Option<ModelPackageStatus>,
    /// Why it was approved or rejected; Steward writes the gate's reason here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_metrics: Option<ModelMetrics>,
    /// Free key/value metadata; Steward keeps its correlation id here.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub customer_metadata_properties: BTreeMap<String, String>,
    /// Lineage: the commit and pipeline execution that produced the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_properties: Option<MetadataProperties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_specification: Option<InferenceSpecification>,
}

/// `ModelMetrics`: where the evaluation reports are. Each report is a
/// [`MetricsSource`] pointing at a JSON file in S3.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModelMetrics {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_quality: Option<StatisticsAndConstraints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_data_quality: Option<StatisticsAndConstraints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<Bias>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explainability: Option<Explainability>,
}

/// `ModelQuality` / `ModelDataQuality`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatisticsAndConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<MetricsSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<MetricsSource>,
}

/// `Bias`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Bias {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<MetricsSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_training_report: Option<MetricsSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_training_report: Option<MetricsSource>,
}

/// `Explainability`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Explainability {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<MetricsSource>,
}

/// `MetricsSource`: one report file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricsSource {
    pub s3_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_digest: Option<String>,
}

/// `MetadataProperties`: where the model came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetadataProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Usually the pipeline execution ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
}

/// `InferenceSpecification`: what to deploy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InferenceSpecification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub containers: Vec<Container>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub supported_content_types: Vec<String>,
    #[serde(
        rename = "SupportedResponseMIMETypes",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub supported_response_mime_types: Vec<String>,
}

/// One inference container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Container {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_data_url: Option<String>,
}

impl AwsDetail for ModelPackageStateChange {
    const SOURCE: &'static str = "aws.sagemaker";
    const DETAIL_TYPE: &'static str = "SageMaker Model Package State Change";
}

impl ModelPackageStateChange {
    /// The group, which names the policy entry that governs the package.
    pub fn require_group_name(&self) -> Result<&str, EventError> {
        self.model_package_group_name
            .as_deref()
            .ok_or(EventError::MissingField {
                field: "detail.ModelPackageGroupName",
            })
    }

    /// The version, which deterministic names (`{group}-v{version}`) need.
    pub fn require_version(&self) -> Result<u32, EventError> {
        self.model_package_version.ok_or(EventError::MissingField {
            field: "detail.ModelPackageVersion",
        })
    }

    /// The approval status, which decides between gate and deploy.
    pub fn require_approval_status(&self) -> Result<&ApprovalStatus, EventError> {
        self.model_approval_status
            .as_ref()
            .ok_or(EventError::MissingField {
                field: "detail.ModelApprovalStatus",
            })
    }

    /// Registered and waiting for a decision: the gate's trigger.
    pub fn is_pending_approval(&self) -> bool {
        self.model_approval_status == Some(ApprovalStatus::PendingManualApproval)
    }

    /// Approved: the deploy trigger.
    pub fn is_approved(&self) -> bool {
        self.model_approval_status == Some(ApprovalStatus::Approved)
    }

    /// The model-quality statistics report (the evaluation the gate reads).
    pub fn quality_report(&self) -> Option<&MetricsSource> {
        self.model_metrics
            .as_ref()?
            .model_quality
            .as_ref()?
            .statistics
            .as_ref()
    }

    /// The first container's model artifact.
    pub fn model_data_url(&self) -> Option<&str> {
        self.inference_specification
            .as_ref()?
            .containers
            .first()?
            .model_data_url
            .as_deref()
    }

    /// The commit the model was built from, for lineage.
    pub fn commit_id(&self) -> Option<&str> {
        self.metadata_properties.as_ref()?.commit_id.as_deref()
    }
}

/// The detail of a `SageMaker Model Building Pipeline Execution Status Change`
/// event: a build's pipeline execution changed status.
///
/// Shape: the "Pipeline execution state change" example in the SageMaker guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineExecutionStatusChange {
    pub pipeline_arn: String,
    pub pipeline_execution_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_execution_display_name: Option<String>,
    pub current_pipeline_execution_status: PipelineExecutionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_pipeline_execution_status: Option<PipelineExecutionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_start_time: Option<Timestamp>,
    /// Absent until the execution ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_end_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_execution_description: Option<String>,
}

impl AwsDetail for PipelineExecutionStatusChange {
    const SOURCE: &'static str = "aws.sagemaker";
    const DETAIL_TYPE: &'static str = "SageMaker Model Building Pipeline Execution Status Change";
}

impl PipelineExecutionStatusChange {
    /// Whether the execution is over (succeeded, failed or stopped).
    pub fn is_finished(&self) -> bool {
        matches!(
            self.current_pipeline_execution_status,
            PipelineExecutionStatus::Succeeded
                | PipelineExecutionStatus::Failed
                | PipelineExecutionStatus::Stopped
        )
    }
}

/// A production variant as endpoint events report it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProductionVariant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_weight: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_weight: Option<f64>,
    #[serde(
        default,
        deserialize_with = "opt_count",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_instance_count: Option<u32>,
    #[serde(
        default,
        deserialize_with = "opt_count",
        skip_serializing_if = "Option::is_none"
    )]
    pub desired_instance_count: Option<u32>,
    /// The rollout step the variant is in (`Creating`, `Updating`,
    /// `ActivatingTraffic`, `Baking`, `Deleting`), newest last.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub variant_status: Vec<VariantStatus>,
}

/// One secondary deployment status of a variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VariantStatus {
    /// `Creating`, `Deleting`, `Updating`, `ActivatingTraffic` or `Baking`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
}

/// `PendingDeploymentSummary`: the blue/green rollout in progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PendingDeploymentSummary {
    /// The endpoint config being rolled out (the new model's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_config_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub production_variants: Vec<ProductionVariant>,
}

/// The detail of a `SageMaker Endpoint Deployment State Change` event: a
/// blue/green or capacity update of an endpoint progressed.
///
/// Shape: the "Endpoint deployment state change" examples in the SageMaker
/// guide (canary update with `PendingDeploymentSummary`; capacity update).
/// Times there are epoch milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointDeploymentStateChange {
    pub endpoint_name: String,
    pub endpoint_arn: String,
    /// The config currently serving (the old one while a rollout is pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_config_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub production_variants: Vec<ProductionVariant>,
    pub endpoint_status: EndpointStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_deployment_summary: Option<PendingDeploymentSummary>,
}

impl AwsDetail for EndpointDeploymentStateChange {
    const SOURCE: &'static str = "aws.sagemaker";
    const DETAIL_TYPE: &'static str = "SageMaker Endpoint Deployment State Change";
}

impl EndpointDeploymentStateChange {
    /// The endpoint config being rolled out, while a rollout is pending.
    pub fn pending_endpoint_config(&self) -> Option<&str> {
        self.pending_deployment_summary
            .as_ref()?
            .endpoint_config_name
            .as_deref()
    }
}

/// The detail of a `SageMaker Endpoint State Change` event: an endpoint's
/// status changed (e.g. back to `IN_SERVICE` after an update or a rollback).
///
/// Shape: the "Endpoint state change" example in the SageMaker guide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointStateChange {
    pub endpoint_name: String,
    pub endpoint_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_config_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub production_variants: Vec<ProductionVariant>,
    pub endpoint_status: EndpointStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_time: Option<Timestamp>,
}

impl AwsDetail for EndpointStateChange {
    const SOURCE: &'static str = "aws.sagemaker";
    const DETAIL_TYPE: &'static str = "SageMaker Endpoint State Change";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{decode_as, decode_str_as, Envelope};
    use serde_json::{json, Value};

    const PENDING: &str = include_str!("../../../../events/model-package-pending.json");
    const APPROVED: &str = include_str!("../../../../events/model-package-approved.json");
    const PIPELINE: &str = include_str!("../../../../events/pipeline-execution-succeeded.json");
    const DEPLOYMENT: &str =
        include_str!("../../../../events/endpoint-deployment-state-change.json");

    const PACKAGE_ARN: &str =
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/3";

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid time")
    }

    fn package(text: &str) -> Envelope<ModelPackageStateChange> {
        decode_str_as::<ModelPackageStateChange>(text).expect("sample decodes")
    }

    #[test]
    fn pending_sample_decodes() {
        let event = package(PENDING);
        assert_eq!(
            event.resources.as_deref(),
            Some(&[PACKAGE_ARN.to_owned()][..])
        );
        let detail = event.detail;
        assert_eq!(detail.require_group_name(), Ok("payroll-fraud"));
        assert_eq!(detail.require_version(), Ok(3));
        assert_eq!(detail.model_package_arn, PACKAGE_ARN);
        assert_eq!(
            detail.model_package_name.as_deref(),
            Some("payroll-fraud/3")
        );
        assert_eq!(
            detail.require_approval_status(),
            Ok(&ApprovalStatus::PendingManualApproval)
        );
        assert!(detail.is_pending_approval());
        assert!(!detail.is_approved());
        assert_eq!(
            detail.model_package_status,
            Some(ModelPackageStatus::Completed)
        );
        // Epoch milliseconds, as SageMaker sends them.
        assert_eq!(detail.creation_time, Some(at("2026-11-23T06:48:31.512Z")));
        assert_eq!(detail.last_modified_time, detail.creation_time);
        assert_eq!(detail.approval_description, None);
        assert_eq!(
            detail.quality_report(),
            Some(&MetricsSource {
                s3_uri: "s3://acme-ml-artifacts/payroll-fraud/pipelines-k3v9x2q7mz1a-Evaluate/output/evaluation/evaluation.json".into(),
                content_type: Some("application/json".into()),
                content_digest: None,
            })
        );
        let bias = detail
            .model_metrics
            .as_ref()
            .and_then(|m| m.bias.as_ref())
            .and_then(|b| b.report.as_ref())
            .expect("bias report");
        assert_eq!(
            bias.s3_uri,
            "s3://acme-ml-artifacts/payroll-fraud/pipelines-k3v9x2q7mz1a-Bias/output/analysis.json"
        );
        assert_eq!(
            detail
                .customer_metadata_properties
                .get("steward:correlation-id")
                .map(String::as_str),
            Some("build-payroll-fraud-20261123-061502")
        );
        let metadata = detail.metadata_properties.as_ref().expect("lineage");
        assert_eq!(
            detail.commit_id(),
            Some("8e1f3c5a7b9d2e4f6a8c0b1d3e5f7a9c2b4d6e8f")
        );
        assert_eq!(metadata.repository.as_deref(), Some("payroll-fraud-model"));
        assert_eq!(
            metadata.generated_by.as_deref(),
            Some("arn:aws:sagemaker:us-east-1:123456789012:pipeline/payroll-fraud-train/execution/k3v9x2q7mz1a")
        );
        assert_eq!(metadata.project_id.as_deref(), Some("p-4fz0k2c8wq1m"));
        let spec = detail.inference_specification.as_ref().expect("spec");
        assert_eq!(
            spec.containers[0].image.as_deref(),
            Some("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")
        );
        assert_eq!(spec.supported_response_mime_types, ["text/csv"]);
        assert_eq!(
            detail.model_data_url(),
            Some("s3://acme-ml-artifacts/payroll-fraud/pipelines-k3v9x2q7mz1a-Train/output/model.tar.gz")
        );
    }

    #[test]
    fn approved_sample_decodes() {
        let detail = package(APPROVED).detail;
        assert!(detail.is_approved());
        assert_eq!(detail.require_group_name(), Ok("payroll-fraud"));
        assert_eq!(detail.require_version(), Ok(3));
        assert_eq!(
            detail.approval_description.as_deref(),
            Some("Approved by dana@acme.example via Steward approval link")
        );
        // RFC 3339 with a fraction, as in the SageMaker guide's example.
        assert_eq!(detail.creation_time, Some(at("2026-11-23T06:48:31.512Z")));
        // Epoch milliseconds in a string, as in the guide's training job example.
        assert_eq!(
            detail.last_modified_time,
            Some(at("2026-11-23T09:05:11.804Z"))
        );
        assert_eq!(
            detail.model_metrics.as_ref().and_then(|m| m.bias.as_ref()),
            None
        );
    }

    /// The "Model package state change" example from the SageMaker guide,
    /// less the second `source` key the guide's example has by mistake.
    #[test]
    fn aws_guide_example_decodes() {
        let event = json!({
            "version": "0",
            "id": "844e2571-85d4-695f-b930-0153b71dcb42",
            "detail-type": "SageMaker Model Package State Change",
            "source": "aws.sagemaker",
            "account": "123456789012",
            "time": "2021-02-24T17:00:14Z",
            "region": "us-east-2",
            "resources": ["arn:aws:sagemaker:us-east-2:123456789012:model-package/versionedmp-p-idy6c3e1fiqj/2"],
            "detail": {
                "ModelPackageGroupName": "versionedmp-p-idy6c3e1fiqj",
                "ModelPackageVersion": 2,
                "ModelPackageArn": "arn:aws:sagemaker:us-east-2:123456789012:model-package/versionedmp-p-idy6c3e1fiqj/2",
                "CreationTime": "2021-02-24T17:00:14Z",
                "ModelPackageStatus": "Completed",
                "ModelApprovalStatus": "Rejected",
                "MetadataProperties": {"GeneratedBy": "arn:aws:sagemaker:us-east-2:123456789012:pipeline/versionedmp-p-idy6c3e1fiqj/execution/4r83jejmhorv"},
                "LastModifiedTime": "2021-02-24T17:00:14Z"
            }
        });
        let detail = decode_as::<ModelPackageStateChange>(event)
            .expect("decodes")
            .detail;
        assert_eq!(detail.model_approval_status, Some(ApprovalStatus::Rejected));
        assert_eq!(detail.commit_id(), None);
        assert!(detail.customer_metadata_properties.is_empty());
    }

    #[test]
    fn unknown_approval_status_is_kept() {
        let mut value: Value = serde_json::from_str(PENDING).expect("json");
        value["detail"]["ModelApprovalStatus"] = json!("PendingAutomatedReview");
        value["detail"]["SomethingNew"] = json!([1, 2, 3]);
        let detail = decode_as::<ModelPackageStateChange>(value)
            .expect("decodes")
            .detail;
        assert_eq!(
            detail.model_approval_status,
            Some(ApprovalStatus::Other("PendingAutomatedReview".into()))
        );
        assert!(!detail.is_pending_approval());
        let written = serde_json::to_value(&detail).expect("serializes");
        assert_eq!(
            written["ModelApprovalStatus"],
            json!("PendingAutomatedReview")
        );
    }

    /// moto's UpdateModelPackage nulls what it was not given.
    #[test]
    fn nulls_from_the_emulator_are_absent_values() {
        let mut value: Value = serde_json::from_str(PENDING).expect("json");
        for field in [
            "ModelPackageGroupName",
            "ModelApprovalStatus",
            "CustomerMetadataProperties",
            "MetadataProperties",
            "ModelMetrics",
            "ApprovalDescription",
        ] {
            value["detail"][field] = Value::Null;
        }
        value["detail"]["InferenceSpecification"]["Containers"] = Value::Null;
        let detail = decode_as::<ModelPackageStateChange>(value)
            .expect("decodes")
            .detail;
        assert_eq!(
            detail.require_group_name(),
            Err(EventError::MissingField {
                field: "detail.ModelPackageGroupName"
            })
        );
        assert_eq!(
            detail.require_approval_status(),
            Err(EventError::MissingField {
                field: "detail.ModelApprovalStatus"
            })
        );
        assert!(detail.customer_metadata_properties.is_empty());
        assert_eq!(detail.model_data_url(), None);
        assert_eq!(detail.quality_report(), None);
    }

    #[test]
    fn version_must_be_a_number() {
        let mut value: Value = serde_json::from_str(PENDING).expect("json");
        value["detail"]["ModelPackageVersion"] = json!("3");
        let err = decode_as::<ModelPackageStateChange>(value).expect_err("string version");
        assert!(
            matches!(&err, EventError::Malformed { path, .. } if path == "detail.ModelPackageVersion"),
            "{err:?}"
        );
    }

    #[test]
    fn missing_metrics_uri_names_its_path() {
        let mut value: Value = serde_json::from_str(PENDING).expect("json");
        value["detail"]["ModelMetrics"]["ModelQuality"]["Statistics"]
            .as_object_mut()
            .expect("object")
            .remove("S3Uri");
        let err = decode_as::<ModelPackageStateChange>(value).expect_err("S3Uri required");
        assert_eq!(
            err,
            EventError::Malformed {
                path: "detail.ModelMetrics.ModelQuality.Statistics.S3Uri".into(),
                reason: "missing field `S3Uri`".into(),
            }
        );
    }

    #[test]
    fn pipeline_sample_decodes() {
        let event =
            decode_str_as::<PipelineExecutionStatusChange>(PIPELINE).expect("sample decodes");
        assert_eq!(event.resources.as_ref().map(Vec::len), Some(2));
        let detail = event.detail;
        assert_eq!(
            detail.pipeline_arn,
            "arn:aws:sagemaker:us-east-1:123456789012:pipeline/payroll-fraud-train"
        );
        assert_eq!(
            detail.pipeline_execution_arn,
            "arn:aws:sagemaker:us-east-1:123456789012:pipeline/payroll-fraud-train/execution/k3v9x2q7mz1a"
        );
        assert_eq!(
            detail.pipeline_execution_display_name.as_deref(),
            Some("steward-data-2026-11-23")
        );
        assert_eq!(
            detail.current_pipeline_execution_status,
            PipelineExecutionStatus::Succeeded
        );
        assert_eq!(
            detail.previous_pipeline_execution_status,
            Some(PipelineExecutionStatus::Executing)
        );
        assert!(detail.is_finished());
        assert_eq!(
            detail.execution_start_time,
            Some(at("2026-11-23T06:15:05Z"))
        );
        assert_eq!(detail.execution_end_time, Some(at("2026-11-23T06:48:20Z")));
        assert!(detail
            .pipeline_execution_description
            .as_deref()
            .is_some_and(|d| d.starts_with("Steward build for payroll-fraud")));
    }

    #[test]
    fn executing_pipeline_has_no_end_and_is_not_finished() {
        let mut value: Value = serde_json::from_str(PIPELINE).expect("json");
        let detail = value["detail"].as_object_mut().expect("object");
        detail.remove("executionEndTime");
        detail.insert("currentPipelineExecutionStatus".into(), json!("Executing"));
        detail.remove("previousPipelineExecutionStatus");
        let detail = decode_as::<PipelineExecutionStatusChange>(value)
            .expect("decodes")
            .detail;
        assert!(!detail.is_finished());
        assert_eq!(detail.execution_end_time, None);
    }

    #[test]
    fn deployment_sample_decodes() {
        let detail = decode_str_as::<EndpointDeploymentStateChange>(DEPLOYMENT)
            .expect("sample decodes")
            .detail;
        assert_eq!(detail.endpoint_name, "payroll-fraud-prod");
        assert_eq!(
            detail.endpoint_arn,
            "arn:aws:sagemaker:us-east-1:123456789012:endpoint/payroll-fraud-prod"
        );
        assert_eq!(
            detail.endpoint_config_name.as_deref(),
            Some("payroll-fraud-prod-v2-5c1e9a7d")
        );
        assert_eq!(detail.endpoint_status, EndpointStatus::Updating);
        assert_eq!(detail.creation_time, Some(at("2026-10-02T08:30:12.400Z")));
        assert_eq!(
            detail.last_modified_time,
            Some(at("2026-11-23T09:05:24.117Z"))
        );
        let serving = &detail.production_variants[0];
        assert_eq!(serving.variant_name.as_deref(), Some("AllTraffic"));
        assert_eq!(serving.current_weight, Some(1.0));
        assert_eq!(serving.current_instance_count, Some(2));
        assert_eq!(
            detail.pending_endpoint_config(),
            Some("payroll-fraud-prod-v3-8b2f4d6e")
        );
        let pending = detail.pending_deployment_summary.as_ref().expect("pending");
        assert_eq!(pending.start_time, Some(at("2026-11-23T09:05:24.117Z")));
        let canary = &pending.production_variants[0];
        assert_eq!(canary.current_instance_count, Some(1));
        assert_eq!(canary.desired_instance_count, Some(2));
        assert_eq!(canary.variant_status[0].status, "Baking");
        assert_eq!(
            canary.variant_status[0].start_time,
            Some(at("2026-11-23T09:12:40.250Z"))
        );
    }

    #[test]
    fn endpoint_status_reads_both_spellings_and_writes_the_event_one() {
        let mut value: Value = serde_json::from_str(DEPLOYMENT).expect("json");
        value["detail"]["EndpointStatus"] = json!("InService");
        let detail = decode_as::<EndpointDeploymentStateChange>(value)
            .expect("decodes")
            .detail;
        assert_eq!(detail.endpoint_status, EndpointStatus::InService);
        let written = serde_json::to_value(&detail).expect("serializes");
        assert_eq!(written["EndpointStatus"], json!("IN_SERVICE"));
    }

    /// The "Endpoint state change" example from the SageMaker guide, with its
    /// float counts and times.
    #[test]
    fn endpoint_state_change_example_decodes() {
        let event = json!({
            "version": "0",
            "id": "d2921b5a-b0ad-cace-a8e3-0f159d018e06",
            "detail-type": "SageMaker Endpoint State Change",
            "source": "aws.sagemaker",
            "account": "123456789012",
            "time": "2020-06-17T16:39:54Z",
            "region": "us-west-2",
            "resources": ["arn:aws:sagemaker:us-west-2:123456789012:endpoint/myendpoint"],
            "detail": {
                "EndpointName": "MyEndpoint",
                "EndpointArn": "arn:aws:sagemaker:us-west-2:123456789012:endpoint/myendpoint",
                "EndpointConfigName": "MyEndpointConfig",
                "ProductionVariants": [{"DesiredWeight": 1.0, "DesiredInstanceCount": 1.0}],
                "EndpointStatus": "IN_SERVICE",
                "CreationTime": 1592411992203.0,
                "LastModifiedTime": 1592411994287.0,
                "Tags": {}
            }
        });
        let detail = decode_as::<EndpointStateChange>(event)
            .expect("decodes")
            .detail;
        assert_eq!(detail.endpoint_status, EndpointStatus::InService);
        assert_eq!(
            detail.production_variants[0].desired_instance_count,
            Some(1)
        );
        assert_eq!(detail.creation_time, Some(at("2020-06-17T16:39:52.203Z")));
    }

    #[test]
    fn sagemaker_details_are_told_apart_by_detail_type() {
        let err = decode_str_as::<EndpointStateChange>(DEPLOYMENT).expect_err("other type");
        assert_eq!(
            err,
            EventError::UnexpectedType {
                expected: "aws.sagemaker/SageMaker Endpoint State Change".into(),
                got: "aws.sagemaker/SageMaker Endpoint Deployment State Change".into(),
            }
        );
        assert!(decode_str_as::<ModelPackageStateChange>(PIPELINE).is_err());
    }
}
