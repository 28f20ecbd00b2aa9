//! What deploy.rs and rollback.rs share: a local run with a small two-stage
//! policy, model packages registered and approved through the twin's
//! registry, the twin's events as EventBridge delivers them, and the two
//! functions' contexts made as their main.rs makes them.

#![allow(dead_code)]

use std::time::Duration;

use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput;
use aws_sdk_sagemaker::types::{
    EndpointStatus, InferenceSpecification, ModelApprovalStatus, ModelPackageContainerDefinition,
};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use steward::deploy::EnvironmentState;
use steward::ledger::{DynamoEnvironments, EnvironmentLedger};
use steward_twin::{LocalOptions, LocalRun};

pub const GROUP: &str = "payroll-fraud";
pub const STAGING: &str = "payroll-fraud-staging";
pub const STAGING_ALARM: &str = "payroll-fraud-staging-5xx";
pub const PROD_ALARM: &str = "payroll-fraud-prod-5xx";
pub const STEWARD: &str = "ml-fraud@acme.com";
const ROLE: &str = steward_twin::LOCAL_SAGEMAKER_ROLE;
/// The CodeDeploy service role of Lambda-served environments (the twin does
/// not assume it).
pub const CODEDEPLOY_ROLE: &str = "arn:aws:iam::123456789012:role/steward-codedeploy";
/// The smoke-test hook's function name in lambda-alias AppSpecs.
pub const SMOKE_HOOK: &str = "steward-smoke-test-hook";
const DEADLINE: Duration = Duration::from_secs(30);

/// Staging: linear 50% steps, its own alarm, a 10-minute bake, no approval;
/// prod: canary, approval required.
pub const POLICY: &str = r#"
[groups.payroll-fraud]
stewards = ["ml-fraud@acme.com"]
approvers = ["ana.lima@acme.com"]

[groups.payroll-fraud.pipeline]
name = "payroll-fraud-train"

[[groups.payroll-fraud.environments]]
name = "staging"
target = { kind = "sagemaker-endpoint", endpoint = "payroll-fraud-staging", instance_type = "ml.m5.large", instance_count = 2 }
strategy = { kind = "linear", step_percent = 50, wait = "5m" }
alarms = ["payroll-fraud-staging-5xx"]
bake = "10m"
approval = "none"
data_capture = { percent = 20, destination = "s3://acme-ml-capture/payroll-fraud/staging/" }

[[groups.payroll-fraud.environments]]
name = "prod"
target = { kind = "sagemaker-endpoint", endpoint = "payroll-fraud-prod", instance_type = "ml.m5.xlarge", instance_count = 4 }
strategy = { kind = "canary", size_percent = 25, wait = "10m" }
alarms = ["payroll-fraud-prod-5xx"]
bake = "30m"
approval = "required"
"#;

pub struct Stage {
    pub run: LocalRun,
    pub deploy: deploy::Context,
    pub rollback: rollback::Context,
}

impl Stage {
    /// 600 simulated seconds per real second: a rollout takes about a second.
    pub async fn start() -> Stage {
        Self::start_with(POLICY).await
    }

    pub async fn start_with(policy: &str) -> Stage {
        let mut options = LocalOptions::new(policy);
        options.example_training = false;
        options.time_scale = 600.0;
        let run = LocalRun::start(options)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let spec = &run.stack.spec;
        let deploy = deploy::Context::connect(
            &run.sdk,
            &deploy::Config {
                ledger_table: spec.ledger_table.clone(),
                event_bus: spec.event_bus.clone(),
                policy_parameter: spec.policy_parameter.clone(),
                execution_role_arn: ROLE.into(),
                notifications_topic: run.stack.notifications_topic_arn.clone(),
                claim_lease: Duration::from_secs(120),
                lambda: deploy::LambdaTargets {
                    codedeploy_role_arn: Some(CODEDEPLOY_ROLE.into()),
                    smoke_hook_function: Some(SMOKE_HOOK.into()),
                },
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let rollback = rollback::Context::connect(
            &run.sdk,
            &rollback::Config {
                ledger_table: spec.ledger_table.clone(),
                event_bus: spec.event_bus.clone(),
                policy_parameter: spec.policy_parameter.clone(),
                notifications_topic: run.stack.notifications_topic_arn.clone(),
                claim_lease: Duration::from_secs(120),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let stage = Stage {
            run,
            deploy,
            rollback,
        };
        for alarm in [STAGING_ALARM, PROD_ALARM] {
            stage.put_alarm(alarm).await;
        }
        stage
            .sagemaker()
            .create_model_package_group()
            .model_package_group_name(GROUP)
            .send()
            .await
            .unwrap();
        stage
    }

    /// Put an object, making its bucket if need be.
    pub async fn put(&self, bucket: &str, key: &str, body: &str) {
        let s3 = steward_twin::s3_client(&self.run.sdk);
        let _ = s3.create_bucket().bucket(bucket).send().await;
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }

    pub fn sagemaker(&self) -> aws_sdk_sagemaker::Client {
        aws_sdk_sagemaker::Client::new(&self.run.sdk)
    }

    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.run.sdk)
    }

    async fn put_alarm(&self, name: &str) {
        self.cloudwatch()
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/SageMaker")
            .metric_name("Invocation5XXErrors")
            .statistic(Statistic::Sum)
            .period(60)
            .evaluation_periods(1)
            .threshold(5.0)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .send()
            .await
            .unwrap();
    }

    pub async fn set_alarm(&self, name: &str, value: StateValue) {
        self.cloudwatch()
            .set_alarm_state()
            .alarm_name(name)
            .state_value(value)
            .state_reason("5XX errors above threshold")
            .send()
            .await
            .unwrap();
    }

    /// Register the next version (pending) with Steward's lineage metadata;
    /// its ARN.
    pub async fn register(&self) -> String {
        self.register_with("s3://artifacts/payroll-fraud/model.json")
            .await
    }

    /// Register the next version, serving the model at `model_data_url`.
    pub async fn register_with(&self, model_data_url: &str) -> String {
        self.sagemaker()
            .create_model_package()
            .model_package_group_name(GROUP)
            .inference_specification(
                InferenceSpecification::builder()
                    .containers(
                        ModelPackageContainerDefinition::builder()
                            .image("steward-local/logistic-regression:1")
                            .model_data_url(model_data_url)
                            .build(),
                    )
                    .supported_content_types("text/csv")
                    .supported_response_mime_types("application/json")
                    .build(),
            )
            .customer_metadata_properties("steward:correlation-id", "stw-test-chain")
            .model_approval_status(ModelApprovalStatus::PendingManualApproval)
            .send()
            .await
            .unwrap()
            .model_package_arn
            .unwrap()
    }

    /// Approve a package (as the approval link does); the registry's Approved event.
    pub async fn approve(&self, arn: &str) -> Value {
        self.sagemaker()
            .update_model_package()
            .model_package_arn(arn)
            .model_approval_status(ModelApprovalStatus::Approved)
            .approval_description("approved by ana.lima@acme.com")
            .send()
            .await
            .unwrap();
        self.events("SageMaker Model Package State Change")
            .into_iter()
            .rev()
            .find(|e| {
                e["detail"]["ModelPackageArn"] == arn
                    && e["detail"]["ModelApprovalStatus"] == "Approved"
            })
            .expect("the registry emits the Approved event")
    }

    /// The twin's events of one type, oldest first, as EventBridge delivers them.
    pub fn events(&self, detail_type: &str) -> Vec<Value> {
        self.run
            .twin
            .ctx()
            .events
            .emitted()
            .into_iter()
            .enumerate()
            .filter(|(_, e)| e.detail_type == detail_type)
            .map(|(i, e)| {
                json!({
                    "version": "0",
                    "id": format!("twin-{i}"),
                    "detail-type": e.detail_type,
                    "source": e.source,
                    "account": "123456789012",
                    "time": e.time.to_rfc3339(),
                    "region": "us-east-1",
                    "resources": e.resources,
                    "detail": e.detail,
                })
            })
            .collect()
    }

    /// The endpoint events of `endpoint` so far.
    pub fn endpoint_events(&self, endpoint: &str) -> Vec<Value> {
        let mut all = self.events("SageMaker Endpoint Deployment State Change");
        all.extend(self.events("SageMaker Endpoint State Change"));
        all.retain(|e| e["detail"]["EndpointName"] == endpoint);
        all
    }

    /// The latest `CloudWatch Alarm State Change` of `alarm`.
    pub fn alarm_event(&self, alarm: &str) -> Value {
        self.events("CloudWatch Alarm State Change")
            .into_iter()
            .rev()
            .find(|e| e["detail"]["alarmName"] == alarm)
            .expect("the twin emits the alarm's state change")
    }

    /// The schedule tick at `time`.
    pub fn tick(&self, time: DateTime<Utc>) -> Value {
        json!({
            "version": "0",
            "id": format!("tick-{}", time.timestamp()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": time.to_rfc3339(),
            "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/steward-tick"],
            "detail": {}
        })
    }

    pub async fn describe(&self, endpoint: &str) -> DescribeEndpointOutput {
        self.sagemaker()
            .describe_endpoint()
            .endpoint_name(endpoint)
            .send()
            .await
            .unwrap()
    }

    /// Wait until the endpoint is InService on `config`, or fail at the deadline.
    pub async fn serving(&self, endpoint: &str, config: &str) -> DescribeEndpointOutput {
        let start = std::time::Instant::now();
        loop {
            let out = self.describe(endpoint).await;
            if out.endpoint_status() == Some(&EndpointStatus::InService)
                && out.endpoint_config_name() == Some(config)
            {
                return out;
            }
            assert!(start.elapsed() < DEADLINE, "never served {config}: {out:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until the endpoint is InService (on whatever config).
    pub async fn in_service(&self, endpoint: &str) -> DescribeEndpointOutput {
        let start = std::time::Instant::now();
        loop {
            let out = self.describe(endpoint).await;
            if out.endpoint_status() == Some(&EndpointStatus::InService) {
                return out;
            }
            assert!(start.elapsed() < DEADLINE, "never in service: {out:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Hand every endpoint event of `endpoint` so far to deploy, as the rule
    /// would; the outcomes.
    pub async fn deliver_endpoint_events(&self, endpoint: &str) -> Vec<deploy::Outcome> {
        let mut outcomes = Vec::new();
        for event in self.endpoint_events(endpoint) {
            outcomes.push(deploy::handle(&self.deploy, event).await.unwrap());
        }
        outcomes
    }

    /// The mail the twin captured for `to`, oldest first.
    pub async fn mail_to(&self, to: &str) -> Vec<Value> {
        let reply = steward_twin::twin::TwinClient::new(self.run.endpoint())
            .get("mail")
            .await
            .unwrap();
        reply["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m["to"] == to)
            .collect()
    }

    /// A package's approval status and description.
    pub async fn package_status(&self, arn: &str) -> (ModelApprovalStatus, String) {
        let out = self
            .sagemaker()
            .describe_model_package()
            .model_package_name(arn)
            .send()
            .await
            .unwrap();
        (
            out.model_approval_status().cloned().unwrap(),
            out.approval_description().unwrap_or_default().to_string(),
        )
    }

    pub async fn state(&self, environment: &str) -> EnvironmentState {
        DynamoEnvironments::new(
            aws_sdk_dynamodb::Client::new(&self.run.sdk),
            &self.run.stack.spec.ledger_table,
        )
        .load_state(GROUP, environment)
        .await
        .unwrap()
        .expect("the environment has a state")
    }

    pub async fn steps(&self, environment: &str) -> Vec<String> {
        DynamoEnvironments::new(
            aws_sdk_dynamodb::Client::new(&self.run.sdk),
            &self.run.stack.spec.ledger_table,
        )
        .steps(GROUP, environment)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.kind)
        .collect()
    }

    /// Steward's events since the last call, by detail-type.
    pub async fn steward_events(&self) -> Vec<Value> {
        self.run
            .stack
            .steward_events(steward_tests::DELIVERY_WAIT)
            .await
            .unwrap()
    }

    pub async fn endpoint_configs(&self) -> Vec<String> {
        self.sagemaker()
            .list_endpoint_configs()
            .send()
            .await
            .unwrap()
            .endpoint_configs
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| c.endpoint_config_name)
            .collect()
    }

    /// Deploy `arn`'s Approved event and wait until the staging endpoint
    /// serves it and deploy recorded the success; its endpoint config.
    pub async fn deploy_live(&self, arn: &str) -> String {
        let approved = self.approve(arn).await;
        let outcome = deploy::handle(&self.deploy, approved).await.unwrap();
        let deploy::Outcome::Started {
            endpoint_config, ..
        } = outcome
        else {
            panic!("expected a started rollout: {outcome:?}");
        };
        self.serving(STAGING, &endpoint_config).await;
        // The final event follows the status (as on AWS); the tick catches up too.
        let start = std::time::Instant::now();
        loop {
            self.deliver_endpoint_events(STAGING).await;
            let state = self.state("staging").await;
            if state.rollout.is_none() {
                assert_eq!(
                    state.current.as_ref().map(|c| c.endpoint_config.as_str()),
                    Some(endpoint_config.as_str())
                );
                return endpoint_config;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "success never recorded: {state:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A tick far enough ahead that every bake is over.
    pub async fn tick_after_bake(&self) -> deploy::Outcome {
        let later = Utc::now() + chrono::Duration::hours(2);
        deploy::handle(&self.deploy, self.tick(later))
            .await
            .unwrap()
    }
}

/// The detail-types of Steward events.
pub fn detail_types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["detail-type"].as_str().map(str::to_string))
        .collect()
}
