//! SageMaker endpoints through the twin: creation, blue/green rollouts on the
//! simulated clock, auto-rollback on alarm, and InvokeEndpoint.

use std::time::Duration;

use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput;
use aws_sdk_sagemaker::types::{
    Alarm, AutoRollbackConfig, BlueGreenUpdatePolicy, CapacitySize, CapacitySizeType,
    DeploymentConfig, EndpointStatus, TrafficRoutingConfig, TrafficRoutingConfigType,
};
use serde_json::{json, Value};
use steward::events::sagemaker::EndpointDeploymentStateChange;
use steward_twin::twin::TwinClient;
use steward_twin::{local_sdk_config, s3_client, Emulator, Twin, TwinConfig};

const DEADLINE: Duration = Duration::from_secs(15);

struct Setup {
    _moto: Emulator,
    twin: Twin,
    sdk: aws_config::SdkConfig,
    sm: aws_sdk_sagemaker::Client,
}

/// 600 simulated seconds per real second: a 16-minute rollout takes ~1.6 s.
async fn setup() -> Setup {
    let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let twin = Twin::start(TwinConfig {
        time_scale: 600.0,
        ..TwinConfig::new(moto.endpoint())
    })
    .await
    .unwrap();
    let sdk = local_sdk_config(&twin.endpoint()).await;
    let sm = aws_sdk_sagemaker::Client::new(&sdk);
    Setup {
        _moto: moto,
        twin,
        sdk,
        sm,
    }
}

impl Setup {
    /// A model and a config `name` serving it on 2 instances.
    async fn config(&self, name: &str, model_data_url: &str) {
        steward_tests::model_and_endpoint_config(&self.sm, name, model_data_url).await;
    }

    async fn describe(&self, name: &str) -> DescribeEndpointOutput {
        self.sm
            .describe_endpoint()
            .endpoint_name(name)
            .send()
            .await
            .unwrap()
    }

    /// Poll DescribeEndpoint until `done` holds, or fail at the deadline.
    async fn until(
        &self,
        name: &str,
        what: &str,
        done: impl Fn(&DescribeEndpointOutput) -> bool,
    ) -> DescribeEndpointOutput {
        let start = std::time::Instant::now();
        loop {
            let out = self.describe(name).await;
            if done(&out) {
                return out;
            }
            assert!(start.elapsed() < DEADLINE, "{what} never happened: {out:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn in_service(&self, name: &str) -> DescribeEndpointOutput {
        self.until(name, "InService", |o| {
            o.endpoint_status() == Some(&EndpointStatus::InService)
        })
        .await
    }

    async fn endpoint(&self, name: &str, config: &str) {
        self.sm
            .create_endpoint()
            .endpoint_name(name)
            .endpoint_config_name(config)
            .send()
            .await
            .unwrap();
    }

    async fn events(&self, detail_type: &str) -> Vec<Value> {
        let all = TwinClient::new(self.twin.endpoint())
            .get("events")
            .await
            .unwrap();
        all["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["detail-type"] == detail_type)
            .cloned()
            .collect()
    }
}

fn canary(alarm: Option<&str>) -> DeploymentConfig {
    let routing = TrafficRoutingConfig::builder()
        .r#type(TrafficRoutingConfigType::Canary)
        // Two real seconds at 600x: long enough to observe the canary on a busy machine.
        .wait_interval_in_seconds(1200)
        .canary_size(
            CapacitySize::builder()
                .r#type(CapacitySizeType::InstanceCount)
                .value(1)
                .build(),
        )
        .build();
    let mut config = DeploymentConfig::builder().blue_green_update_policy(
        BlueGreenUpdatePolicy::builder()
            .traffic_routing_configuration(routing)
            .termination_wait_in_seconds(600)
            .maximum_execution_timeout_in_seconds(3600)
            .build(),
    );
    if let Some(alarm) = alarm {
        config = config.auto_rollback_configuration(
            AutoRollbackConfig::builder()
                .alarms(Alarm::builder().alarm_name(alarm).build())
                .build(),
        );
    }
    config.build()
}

#[tokio::test]
async fn a_created_endpoint_goes_in_service() {
    let s = setup().await;
    s.config("fraud-v1", "s3://models/v1/model.json").await;
    s.endpoint("fraud-prod", "fraud-v1").await;
    let first = s.describe("fraud-prod").await;
    assert_eq!(first.endpoint_status(), Some(&EndpointStatus::Creating));
    let out = s.in_service("fraud-prod").await;
    assert_eq!(out.endpoint_config_name(), Some("fraud-v1"));
    assert_eq!(
        out.endpoint_arn(),
        Some("arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud-prod")
    );
    let variant = &out.production_variants()[0];
    assert_eq!(variant.current_instance_count(), Some(2));
    assert_eq!(variant.current_weight(), Some(1.0));
    assert!(out.creation_time().is_some() && out.last_modified_time().is_some());
    let start = std::time::Instant::now();
    let states = loop {
        let events = s.events("SageMaker Endpoint State Change").await;
        if events.len() >= 2 || start.elapsed() > DEADLINE {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let statuses: Vec<&Value> = states
        .iter()
        .map(|e| &e["detail"]["EndpointStatus"])
        .collect();
    assert_eq!(statuses, [&json!("CREATING"), &json!("IN_SERVICE")]);

    s.sm.delete_endpoint()
        .endpoint_name("fraud-prod")
        .send()
        .await
        .unwrap();
    let err =
        s.sm.describe_endpoint()
            .endpoint_name("fraud-prod")
            .send()
            .await
            .unwrap_err();
    assert_eq!(steward::aws_error::code(&err), Some("ValidationException"));
}

#[tokio::test]
async fn a_canary_update_rolls_out_to_the_new_config() {
    let s = setup().await;
    s.config("fraud-v1", "s3://models/v1/model.json").await;
    s.config("fraud-v2", "s3://models/v2/model.json").await;
    s.endpoint("fraud-prod", "fraud-v1").await;
    s.in_service("fraud-prod").await;
    s.sm.update_endpoint()
        .endpoint_name("fraud-prod")
        .endpoint_config_name("fraud-v2")
        .deployment_config(canary(None))
        .send()
        .await
        .unwrap();
    let updating = s.describe("fraud-prod").await;
    assert_eq!(updating.endpoint_status(), Some(&EndpointStatus::Updating));
    assert_eq!(updating.endpoint_config_name(), Some("fraud-v1"));
    let pending = updating.pending_deployment_summary().expect("pending");
    assert_eq!(pending.endpoint_config_name(), Some("fraud-v2"));
    assert!(updating.last_deployment_config().is_some());

    let again =
        s.sm.update_endpoint()
            .endpoint_name("fraud-prod")
            .endpoint_config_name("fraud-v1")
            .send()
            .await
            .unwrap_err();
    assert_eq!(
        steward::aws_error::code(&again),
        Some("ValidationException")
    );

    // The canary: one of two new instances takes traffic.
    s.until("fraud-prod", "canary", |o| {
        o.pending_deployment_summary()
            .and_then(|p| p.production_variants().first())
            .is_some_and(|v| v.current_instance_count() == Some(1))
    })
    .await;
    let done = s.in_service("fraud-prod").await;
    assert_eq!(done.endpoint_config_name(), Some("fraud-v2"));
    assert!(done.pending_deployment_summary().is_none());
    assert_eq!(done.failure_reason(), None);

    // Events follow the status change (as on AWS, they are not instantaneous).
    let start = std::time::Instant::now();
    let deployments = loop {
        let events = s.events("SageMaker Endpoint Deployment State Change").await;
        if events.len() >= 4 || start.elapsed() > DEADLINE {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let typed: Vec<EndpointDeploymentStateChange> = deployments
        .iter()
        .map(|e| serde_json::from_value(e["detail"].clone()).unwrap())
        .collect();
    // Provisioning, canary shift, full shift, done.
    assert_eq!(typed.len(), 4, "{deployments:?}");
    assert_eq!(typed[1].pending_endpoint_config(), Some("fraud-v2"));
    assert_eq!(typed[3].endpoint_config_name.as_deref(), Some("fraud-v2"));
}

#[tokio::test]
async fn an_alarm_mid_rollout_rolls_back_to_the_old_config() {
    let s = setup().await;
    let cw = aws_sdk_cloudwatch::Client::new(&s.sdk);
    cw.put_metric_alarm()
        .alarm_name("fraud-prod-5xx")
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
    s.config("fraud-v1", "s3://models/v1/model.json").await;
    s.config("fraud-v2", "s3://models/v2/model.json").await;
    s.endpoint("fraud-prod", "fraud-v1").await;
    s.in_service("fraud-prod").await;
    s.sm.update_endpoint()
        .endpoint_name("fraud-prod")
        .endpoint_config_name("fraud-v2")
        .deployment_config(canary(Some("fraud-prod-5xx")))
        .send()
        .await
        .unwrap();
    s.until("fraud-prod", "canary", |o| {
        o.pending_deployment_summary()
            .and_then(|p| p.production_variants().first())
            .is_some_and(|v| v.current_instance_count() == Some(1))
    })
    .await;
    cw.set_alarm_state()
        .alarm_name("fraud-prod-5xx")
        .state_value(StateValue::Alarm)
        .state_reason("5XX errors on the canary")
        .send()
        .await
        .unwrap();
    let done = s.in_service("fraud-prod").await;
    assert_eq!(done.endpoint_config_name(), Some("fraud-v1"));
    assert!(done.pending_deployment_summary().is_none());
    let reason = done.failure_reason().expect("reason");
    assert!(reason.contains("fraud-prod-5xx"), "{reason}");
}

#[tokio::test]
async fn invoke_endpoint_runs_the_model_the_endpoint_serves() {
    let s = setup().await;
    let s3 = s3_client(&s.sdk);
    s3.create_bucket().bucket("models").send().await.unwrap();
    let model = json!({
        "kind": "logistic-regression",
        "features": ["amount", "hour", "vendor_new", "bank_changed"],
        "weights": [1.5, -0.2, 0.8, 2.0],
        "bias": -1.0,
        "threshold": 0.5,
        "means": [1000.0, 12.0, 0.1, 0.05],
        "stds": [500.0, 6.0, 0.3, 0.2]
    });
    s3.put_object()
        .bucket("models")
        .key("v1/model.json")
        .body(model.to_string().into_bytes().into())
        .send()
        .await
        .unwrap();
    s.config("fraud-v1", "s3://models/v1/model.json").await;
    s.endpoint("fraud-prod", "fraud-v1").await;
    s.in_service("fraud-prod").await;

    let runtime = aws_sdk_sagemakerruntime::Client::new(&s.sdk);
    let out = runtime
        .invoke_endpoint()
        .endpoint_name("fraud-prod")
        .content_type("text/csv")
        .body(b"2500,3,1,1\n900,12,0,0\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(out.body().unwrap().as_ref()).unwrap();
    let expect = |x: [f64; 4]| {
        let means = [1000.0, 12.0, 0.1, 0.05];
        let stds = [500.0, 6.0, 0.3, 0.2];
        let w = [1.5, -0.2, 0.8, 2.0];
        let z: f64 = (0..4)
            .map(|i| w[i] * (x[i] - means[i]) / stds[i])
            .sum::<f64>()
            - 1.0;
        1.0 / (1.0 + (-z).exp())
    };
    let (a, b) = (
        expect([2500.0, 3.0, 1.0, 1.0]),
        expect([900.0, 12.0, 0.0, 0.0]),
    );
    let scores: Vec<f64> = body["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores.len(), 2);
    assert!(
        (scores[0] - a).abs() < 1e-9 && (scores[1] - b).abs() < 1e-9,
        "{body}"
    );
    assert_eq!(body["predictions"][0]["label"], json!(u8::from(a >= 0.5)));
    assert_eq!(body["predictions"][1]["label"], json!(u8::from(b >= 0.5)));

    let json_out = runtime
        .invoke_endpoint()
        .endpoint_name("fraud-prod")
        .content_type("application/json")
        .body(
            json!({"instances": [{"amount": 2500, "hour": 3, "vendor_new": 1, "bank_changed": 1}]})
                .to_string()
                .into_bytes()
                .into(),
        )
        .send()
        .await
        .unwrap();
    let json_body: Value = serde_json::from_slice(json_out.body().unwrap().as_ref()).unwrap();
    assert_eq!(json_body["predictions"][0], body["predictions"][0]);

    let err = runtime
        .invoke_endpoint()
        .endpoint_name("nope")
        .content_type("text/csv")
        .body(b"1,2,3,4".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        steward::aws_error::code(&err),
        Some("ValidationError"),
        "{err:?}"
    );
}
