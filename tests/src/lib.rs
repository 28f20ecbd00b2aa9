//! Test harness: one emulator and one provisioned stack per test, so tests run
//! in parallel without sharing state.

use std::time::Duration;

use aws_config::SdkConfig;
use serde_json::Value;
use steward_twin::{local_sdk_config, s3_client, Emulator, Stack, StackSpec};

/// The example policy users start from: tests exercise the real thing.
pub const EXAMPLE_POLICY: &str = include_str!("../../examples/steward.toml");

/// How long to wait for the emulator to deliver an event to a capture queue.
pub const DELIVERY_WAIT: Duration = Duration::from_secs(5);

pub struct Local {
    pub emulator: Emulator,
    pub sdk: SdkConfig,
    pub stack: Stack,
}

impl Local {
    /// Start moto and provision the stack for `policy_text`.
    pub async fn start(policy_text: &str) -> Local {
        let emulator = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
        let sdk = local_sdk_config(&emulator.endpoint()).await;
        let stack = Stack::provision(&sdk, StackSpec::new(policy_text))
            .await
            .unwrap_or_else(|e| panic!("provisioning the local stack failed: {e}"));
        Local {
            emulator,
            sdk,
            stack,
        }
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        s3_client(&self.sdk)
    }

    pub fn sagemaker(&self) -> aws_sdk_sagemaker::Client {
        aws_sdk_sagemaker::Client::new(&self.sdk)
    }

    /// start-build's context, made the way its main.rs makes it.
    pub async fn start_build(&self) -> start_build::Context {
        let config = start_build::Config {
            ledger_table: self.stack.spec.ledger_table.clone(),
            event_bus: self.stack.spec.event_bus.clone(),
            policy_parameter: self.stack.spec.policy_parameter.clone(),
            claim_lease: Duration::from_secs(120),
            notifications_topic: Some(self.stack.notifications_topic_arn.clone()),
        };
        start_build::Context::connect(&self.sdk, &config)
            .await
            .unwrap_or_else(|e| panic!("start-build could not start: {e}"))
    }

    /// Put an object; returns its version id (the data buckets are versioned).
    pub async fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> String {
        self.s3()
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.to_vec().into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {key}: {e:?}"))
            .version_id
            .unwrap_or_default()
    }

    /// The `Object Created` events the emulator emitted, keyed by object key.
    pub async fn s3_event_for(&self, key: &str) -> Value {
        let events = self.stack.s3_events(DELIVERY_WAIT).await.expect("capture");
        events
            .into_iter()
            .find(|e| e["detail"]["object"]["key"] == key)
            .unwrap_or_else(|| panic!("no Object Created event for {key}"))
    }

    /// Pipeline executions of a pipeline, newest first.
    pub async fn executions(&self, pipeline: &str) -> Vec<String> {
        self.sagemaker()
            .list_pipeline_executions()
            .pipeline_name(pipeline)
            .send()
            .await
            .expect("ListPipelineExecutions")
            .pipeline_execution_summaries
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| s.pipeline_execution_arn)
            .collect()
    }

    /// Every item in the ledger table (tests keep it small).
    pub async fn ledger_items(&self) -> usize {
        aws_sdk_dynamodb::Client::new(&self.sdk)
            .scan()
            .table_name(&self.stack.spec.ledger_table)
            .send()
            .await
            .expect("Scan")
            .count as usize
    }
}

/// Wait (up to `deadline`) until a pipeline run is no longer `Executing`;
/// its final status.
pub async fn pipeline_run_ends(
    sagemaker: &aws_sdk_sagemaker::Client,
    arn: &str,
    deadline: Duration,
) -> String {
    let give_up = std::time::Instant::now() + deadline;
    loop {
        let status = sagemaker
            .describe_pipeline_execution()
            .pipeline_execution_arn(arn)
            .send()
            .await
            .unwrap()
            .pipeline_execution_status;
        if let Some(status) = status.as_ref().filter(|s| s.as_str() != "Executing") {
            return status.as_str().to_string();
        }
        assert!(
            std::time::Instant::now() < give_up,
            "{arn} still {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A model serving `model_data_url` and an endpoint config `name` that runs it
/// on 2 instances (both named `name`).
pub async fn model_and_endpoint_config(
    sm: &aws_sdk_sagemaker::Client,
    name: &str,
    model_data_url: &str,
) {
    use aws_sdk_sagemaker::types::{
        ContainerDefinition, ProductionVariant, ProductionVariantInstanceType,
    };
    sm.create_model()
        .model_name(name)
        .execution_role_arn("arn:aws:iam::123456789012:role/steward-sagemaker")
        .primary_container(
            ContainerDefinition::builder()
                .image("683313688378.dkr.ecr.us-east-1.amazonaws.com/sklearn:1.2")
                .model_data_url(model_data_url)
                .build(),
        )
        .send()
        .await
        .unwrap();
    sm.create_endpoint_config()
        .endpoint_config_name(name)
        .production_variants(
            ProductionVariant::builder()
                .variant_name("AllTraffic")
                .model_name(name)
                .initial_instance_count(2)
                .initial_variant_weight(1.0)
                .instance_type(ProductionVariantInstanceType::MlM5Large)
                .build(),
        )
        .send()
        .await
        .unwrap();
}
