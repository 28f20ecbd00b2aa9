//! The twin's model registry: the `SageMaker Model Package State Change`
//! events moto does not emit, and UpdateModelPackage keeping omitted fields.

use aws_sdk_sagemaker::types::{
    InferenceSpecification, MetadataProperties, MetricsSource, ModelApprovalStatus, ModelMetrics,
    ModelPackageContainerDefinition, ModelQuality,
};
use steward::events::sagemaker::{ApprovalStatus, ModelPackageStateChange};
use steward::events::AwsDetail;
use steward_twin::{local_sdk_config, Emulator, Twin, TwinConfig};

const GROUP: &str = "payroll-fraud";
const REPORT: &str = "s3://artifacts/payroll-fraud/run-1/evaluation.json";

async fn twin() -> (Emulator, Twin, aws_sdk_sagemaker::Client) {
    let emulator = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let twin = Twin::start(TwinConfig::new(emulator.endpoint()))
        .await
        .unwrap();
    let sagemaker = aws_sdk_sagemaker::Client::new(&local_sdk_config(&twin.endpoint()).await);
    (emulator, twin, sagemaker)
}

/// Register a package as a training step does; returns its ARN.
async fn register(sagemaker: &aws_sdk_sagemaker::Client) -> String {
    sagemaker
        .create_model_package_group()
        .model_package_group_name(GROUP)
        .send()
        .await
        .unwrap();
    sagemaker
        .create_model_package()
        .model_package_group_name(GROUP)
        .model_package_description("trained on day 1")
        .inference_specification(
            InferenceSpecification::builder()
                .containers(
                    ModelPackageContainerDefinition::builder()
                        .image("steward-local/logistic-regression:1")
                        .model_data_url("s3://artifacts/payroll-fraud/run-1/model.json")
                        .build(),
                )
                .supported_content_types("text/csv")
                .supported_response_mime_types("application/json")
                .build(),
        )
        .model_metrics(
            ModelMetrics::builder()
                .model_quality(
                    ModelQuality::builder()
                        .statistics(
                            MetricsSource::builder()
                                .content_type("application/json")
                                .s3_uri(REPORT)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .metadata_properties(
            MetadataProperties::builder()
                .generated_by("arn:aws:sagemaker:us-east-1:123456789012:pipeline/payroll-fraud-train/execution/abc")
                .build(),
        )
        .customer_metadata_properties("steward:data-version", "v1")
        .model_approval_status(ModelApprovalStatus::PendingManualApproval)
        .send()
        .await
        .unwrap()
        .model_package_arn
        .unwrap()
}

/// The package events the twin emitted, decoded as Steward decodes them.
fn package_events(twin: &Twin) -> Vec<ModelPackageStateChange> {
    twin.ctx()
        .events
        .emitted()
        .into_iter()
        .filter(|e| {
            e.source == ModelPackageStateChange::SOURCE
                && e.detail_type == ModelPackageStateChange::DETAIL_TYPE
        })
        .map(|e| serde_json::from_value(e.detail).expect("detail decodes"))
        .collect()
}

#[tokio::test]
async fn registering_a_package_emits_one_pending_event() {
    let (_moto, twin, sagemaker) = twin().await;
    let arn = register(&sagemaker).await;
    let events = package_events(&twin);
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.model_package_arn, arn);
    assert_eq!(event.require_group_name().unwrap(), GROUP);
    assert_eq!(event.require_version().unwrap(), 1);
    assert_eq!(event.model_package_name.as_deref(), Some("payroll-fraud/1"));
    assert!(event.is_pending_approval());
    assert_eq!(event.quality_report().unwrap().s3_uri, REPORT);
    assert!(event.creation_time.is_some());
    assert_eq!(
        event
            .customer_metadata_properties
            .get("steward:data-version"),
        Some(&"v1".to_string())
    );
    let emitted = &twin.ctx().events.emitted()[0];
    assert_eq!(emitted.resources, vec![arn]);
}

#[tokio::test]
async fn approving_with_only_a_status_keeps_description_and_metadata() {
    let (_moto, twin, sagemaker) = twin().await;
    let arn = register(&sagemaker).await;
    sagemaker
        .update_model_package()
        .model_package_arn(&arn)
        .approval_description("gate passed: auc 0.97")
        .customer_metadata_properties("steward:correlation-id", "stw-1")
        .send()
        .await
        .unwrap();
    sagemaker
        .update_model_package()
        .model_package_arn(&arn)
        .model_approval_status(ModelApprovalStatus::Approved)
        .send()
        .await
        .unwrap();

    let stored = sagemaker
        .describe_model_package()
        .model_package_name(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.model_approval_status,
        Some(ModelApprovalStatus::Approved)
    );
    assert_eq!(
        stored.approval_description.as_deref(),
        Some("gate passed: auc 0.97")
    );
    let metadata = stored.customer_metadata_properties.unwrap_or_default();
    assert_eq!(
        metadata.get("steward:data-version").map(String::as_str),
        Some("v1")
    );
    assert_eq!(
        metadata.get("steward:correlation-id").map(String::as_str),
        Some("stw-1")
    );

    let events = package_events(&twin);
    let statuses: Vec<_> = events
        .iter()
        .map(|e| e.model_approval_status.clone())
        .collect();
    // Registration, then the approval: the metadata-only update emits nothing.
    assert_eq!(
        statuses,
        vec![
            Some(ApprovalStatus::PendingManualApproval),
            Some(ApprovalStatus::Approved)
        ]
    );
    let approved = &events[1];
    assert_eq!(
        approved.approval_description.as_deref(),
        Some("gate passed: auc 0.97")
    );
    assert_eq!(approved.customer_metadata_properties.len(), 2);
    assert!(approved.last_modified_time >= approved.creation_time);
}

#[tokio::test]
async fn an_update_that_keeps_the_status_emits_nothing() {
    let (_moto, twin, sagemaker) = twin().await;
    let arn = register(&sagemaker).await;
    sagemaker
        .update_model_package()
        .model_package_arn(&arn)
        .model_approval_status(ModelApprovalStatus::PendingManualApproval)
        .approval_description("still waiting")
        .send()
        .await
        .unwrap();
    assert_eq!(package_events(&twin).len(), 1);
    let stored = sagemaker
        .describe_model_package()
        .model_package_name(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.approval_description.as_deref(),
        Some("still waiting")
    );
}

#[tokio::test]
async fn updating_an_unknown_package_is_moto_s_validation_error() {
    let (_moto, twin, sagemaker) = twin().await;
    let err = sagemaker
        .update_model_package()
        .model_package_arn("arn:aws:sagemaker:us-east-1:123456789012:model-package/none/1")
        .model_approval_status(ModelApprovalStatus::Approved)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        steward::aws_error::code(&err),
        Some("ValidationException"),
        "{err:?}"
    );
    assert!(package_events(&twin).is_empty());
}
