//! The SageMaker calls of a deployment: a thin adapter between the SDK and the
//! SDK-free decisions of this module. Every create is preceded by a describe,
//! so a retried event finds what it made before (SageMaker refuses a second
//! model or config of one name; moto silently replaces it).

use std::collections::HashMap;

use aws_sdk_sagemaker::types::{
    AutoRollbackConfig, BlueGreenUpdatePolicy, CapacitySize, CapacitySizeType,
    CaptureContentTypeHeader, CaptureMode, CaptureOption, ContainerDefinition, DataCaptureConfig,
    DeploymentConfig, ModelApprovalStatus, ProductionVariant, ProductionVariantInstanceType,
    TrafficRoutingConfig, TrafficRoutingConfigType,
};
use aws_sdk_sagemaker::Client;

use super::{CaptureSpec, DeploymentPlan, EndpointConfigSpec, ObservedEndpoint, Routing};
use crate::events::sagemaker::EndpointStatus;

#[derive(Debug, thiserror::Error)]
pub enum SageMakerError {
    #[error("SageMaker {operation} of `{resource}` failed: {message}")]
    Call {
        operation: &'static str,
        resource: String,
        message: String,
    },
    /// The endpoint is being changed by someone else: retry later.
    #[error("endpoint `{endpoint}` is busy ({message}); retry later")]
    Busy { endpoint: String, message: String },
}

impl SageMakerError {
    pub fn error_type(&self) -> &'static str {
        match self {
            SageMakerError::Call { .. } => "sagemaker_call_failed",
            SageMakerError::Busy { .. } => "endpoint_busy",
        }
    }
}

fn call<E>(operation: &'static str, resource: &str) -> impl FnOnce(E) -> SageMakerError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error,
{
    let resource = resource.to_string();
    move |e| SageMakerError::Call {
        operation,
        resource,
        message: crate::aws_error::describe(&e),
    }
}

fn not_found<E>(error: &E) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    error
        .message()
        .is_some_and(|m| m.contains("Could not find") || m.contains("does not exist"))
}

/// A model package as the rollback needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageInfo {
    pub arn: String,
    pub group: Option<String>,
    pub version: Option<u32>,
    pub approval_status: Option<String>,
    pub metadata: HashMap<String, String>,
    /// The first container's `ModelDataUrl` (what a Lambda-served model loads).
    pub model_data_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SageMakerEndpoints {
    client: Client,
}

impl SageMakerEndpoints {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// What `DescribeEndpoint` shows; `None` if there is no such endpoint.
    pub async fn observe(
        &self,
        endpoint: &str,
    ) -> Result<Option<ObservedEndpoint>, SageMakerError> {
        let out = match self
            .client
            .describe_endpoint()
            .endpoint_name(endpoint)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(not_found) => return Ok(None),
            Err(e) => return Err(call("DescribeEndpoint", endpoint)(e)),
        };
        Ok(Some(ObservedEndpoint {
            status: EndpointStatus::from(
                out.endpoint_status()
                    .map(|s| s.as_str())
                    .unwrap_or("Unknown"),
            ),
            live_config: out.endpoint_config_name().map(str::to_string),
            pending_config: out
                .pending_deployment_summary()
                .and_then(|p| p.endpoint_config_name())
                .map(str::to_string),
            failure_reason: out.failure_reason().map(str::to_string),
        }))
    }

    /// The model `name` running the model package (its container as
    /// registered), made unless it exists.
    pub async fn ensure_model(
        &self,
        name: &str,
        model_package_arn: &str,
        execution_role_arn: &str,
    ) -> Result<(), SageMakerError> {
        match self.client.describe_model().model_name(name).send().await {
            Ok(_) => return Ok(()),
            Err(e) if e.as_service_error().is_some_and(not_found) => {}
            Err(e) => return Err(call("DescribeModel", name)(e)),
        }
        self.client
            .create_model()
            .model_name(name)
            .execution_role_arn(execution_role_arn)
            .primary_container(
                ContainerDefinition::builder()
                    .model_package_name(model_package_arn)
                    .build(),
            )
            .tags(
                aws_sdk_sagemaker::types::Tag::builder()
                    .key("steward:model-package")
                    .value(model_package_arn)
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(call("CreateModel", name))
    }

    /// The endpoint config `name` with the spec's variant and data capture,
    /// made unless it exists.
    pub async fn ensure_endpoint_config(
        &self,
        name: &str,
        spec: &EndpointConfigSpec,
    ) -> Result<(), SageMakerError> {
        match self
            .client
            .describe_endpoint_config()
            .endpoint_config_name(name)
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.as_service_error().is_some_and(not_found) => {}
            Err(e) => return Err(call("DescribeEndpointConfig", name)(e)),
        }
        let variant = ProductionVariant::builder()
            .variant_name(&spec.variant_name)
            .model_name(&spec.model_name)
            .instance_type(ProductionVariantInstanceType::from(
                spec.instance_type.as_str(),
            ))
            .initial_instance_count(spec.instance_count as i32)
            .initial_variant_weight(1.0)
            .build();
        self.client
            .create_endpoint_config()
            .endpoint_config_name(name)
            .production_variants(variant)
            .set_data_capture_config(spec.data_capture.as_ref().map(data_capture))
            .send()
            .await
            .map(|_| ())
            .map_err(call("CreateEndpointConfig", name))
    }

    pub async fn create_endpoint(
        &self,
        endpoint: &str,
        config: &str,
    ) -> Result<(), SageMakerError> {
        self.client
            .create_endpoint()
            .endpoint_name(endpoint)
            .endpoint_config_name(config)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| busy_or(endpoint, "CreateEndpoint", e))
    }

    /// A blue/green update to `config`.
    pub async fn update_endpoint(
        &self,
        endpoint: &str,
        config: &str,
        plan: &DeploymentPlan,
    ) -> Result<(), SageMakerError> {
        self.client
            .update_endpoint()
            .endpoint_name(endpoint)
            .endpoint_config_name(config)
            .deployment_config(deployment_config(plan))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| busy_or(endpoint, "UpdateEndpoint", e))
    }

    pub async fn package(&self, arn: &str) -> Result<PackageInfo, SageMakerError> {
        let out = self
            .client
            .describe_model_package()
            .model_package_name(arn)
            .send()
            .await
            .map_err(call("DescribeModelPackage", arn))?;
        Ok(PackageInfo {
            arn: arn.to_string(),
            group: out.model_package_group_name().map(str::to_string),
            version: out.model_package_version().map(|v| v as u32),
            approval_status: out.model_approval_status().map(|s| s.as_str().to_string()),
            metadata: out
                .customer_metadata_properties()
                .cloned()
                .unwrap_or_default(),
            model_data_url: out
                .inference_specification()
                .and_then(|spec| spec.containers().first())
                .and_then(|c| c.model_data_url())
                .map(str::to_string),
        })
    }

    /// Set a package Rejected with `reason`. Status, description and metadata
    /// go together: moto (and the SageMaker API for some fields) nulls what an
    /// update omits, and the metadata must keep Steward's lineage keys.
    pub async fn reject_package(
        &self,
        package: &PackageInfo,
        reason: &str,
        extra: &[(&str, String)],
    ) -> Result<(), SageMakerError> {
        let mut metadata = package.metadata.clone();
        for (k, v) in extra {
            metadata.insert(k.to_string(), v.clone());
        }
        self.client
            .update_model_package()
            .model_package_arn(&package.arn)
            .model_approval_status(ModelApprovalStatus::Rejected)
            .approval_description(truncate(reason, 1024))
            .set_customer_metadata_properties(Some(metadata))
            .send()
            .await
            .map(|_| ())
            .map_err(call("UpdateModelPackage", &package.arn))
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn busy_or<E>(
    endpoint: &str,
    operation: &'static str,
    e: aws_sdk_sagemaker::error::SdkError<E>,
) -> SageMakerError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    aws_sdk_sagemaker::error::SdkError<E>: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    let message = e.message().unwrap_or_default().to_string();
    if message.contains("in-progress") || message.contains("in progress") {
        SageMakerError::Busy {
            endpoint: endpoint.to_string(),
            message,
        }
    } else {
        call(operation, endpoint)(e)
    }
}

fn data_capture(spec: &CaptureSpec) -> DataCaptureConfig {
    let mode = |m| CaptureOption::builder().capture_mode(m).build();
    DataCaptureConfig::builder()
        .enable_capture(true)
        .initial_sampling_percentage(i32::from(spec.percent))
        .destination_s3_uri(&spec.destination)
        .capture_options(mode(CaptureMode::Input))
        .capture_options(mode(CaptureMode::Output))
        .capture_content_type_header(
            CaptureContentTypeHeader::builder()
                .csv_content_types("text/csv")
                .json_content_types("application/json")
                .build(),
        )
        .build()
}

/// The plan as SageMaker's `DeploymentConfig`.
pub fn deployment_config(plan: &DeploymentPlan) -> DeploymentConfig {
    let percent = |value: u8| {
        CapacitySize::builder()
            .r#type(CapacitySizeType::CapacityPercent)
            .value(i32::from(value))
            .build()
    };
    let mut routing = TrafficRoutingConfig::builder()
        .r#type(TrafficRoutingConfigType::from(plan.routing.type_name()))
        .wait_interval_in_seconds(plan.routing.wait_seconds() as i32);
    match plan.routing {
        Routing::AllAtOnce => {}
        Routing::Canary { percent: p, .. } => routing = routing.canary_size(percent(p)),
        Routing::Linear { percent: p, .. } => routing = routing.linear_step_size(percent(p)),
    }
    let mut config = DeploymentConfig::builder().blue_green_update_policy(
        BlueGreenUpdatePolicy::builder()
            .traffic_routing_configuration(routing.build())
            .termination_wait_in_seconds(plan.termination_wait_seconds as i32)
            .maximum_execution_timeout_in_seconds(plan.maximum_execution_timeout_seconds as i32)
            .build(),
    );
    if !plan.rollback_alarms.is_empty() {
        let mut rollback = AutoRollbackConfig::builder();
        for alarm in &plan.rollback_alarms {
            rollback = rollback.alarms(
                aws_sdk_sagemaker::types::Alarm::builder()
                    .alarm_name(alarm)
                    .build(),
            );
        }
        config = config.auto_rollback_configuration(rollback.build());
    }
    config.build()
}
