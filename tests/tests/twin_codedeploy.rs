//! CodeDeploy Lambda deployments through the twin: hooks, traffic shifting on
//! the alias (in moto's Lambda), rollback on a failed hook, a stop or an alarm,
//! and a state-change event per transition.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use aws_sdk_codedeploy::types::{
    AlarmConfiguration, AppSpecContent, AutoRollbackConfiguration, AutoRollbackEvent,
    ComputePlatform, DeploymentInfo, DeploymentStatus, LifecycleEventStatus, RevisionLocation,
    RevisionLocationType, TimeBasedLinear, TrafficRoutingConfig, TrafficRoutingType,
};
use aws_sdk_lambda::primitives::Blob;
use steward_twin::twin::{codedeploy, TwinClient};
use steward_twin::{local_sdk_config, Emulator, Twin, TwinConfig};

const APP: &str = "fraud-scorer";
const GROUP: &str = "live";
const FUNCTION: &str = "scorer";
const ALIAS: &str = "live";
const ROLE: &str = "arn:aws:iam::123456789012:role/scorer-role";

struct Local {
    moto: Emulator,
    twin: Twin,
    deploy: aws_sdk_codedeploy::Client,
    lambda: aws_sdk_lambda::Client,
}

/// moto + twin at `scale` simulated seconds per second, a function with
/// versions 1 and 2 and alias `live` → 1, and a Lambda application.
async fn local(scale: f64) -> Local {
    let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let mut config = TwinConfig::new(moto.endpoint());
    config.time_scale = scale;
    let twin = Twin::start(config).await.unwrap();
    let sdk = local_sdk_config(&twin.endpoint()).await;
    let deploy = aws_sdk_codedeploy::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    moto_query(
        &moto.endpoint(),
        "iam",
        "Action=CreateRole&Version=2010-05-08&RoleName=scorer-role&AssumeRolePolicyDocument=%7B%7D",
    );
    lambda
        .create_function()
        .function_name(FUNCTION)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .role(ROLE)
        .handler("bootstrap")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(Blob::new(b"v1".to_vec()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v1 = lambda
        .publish_version()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.version(), Some("1"));
    lambda
        .update_function_code()
        .function_name(FUNCTION)
        .zip_file(Blob::new(b"v2".to_vec()))
        .send()
        .await
        .unwrap();
    let v2 = lambda
        .publish_version()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.version(), Some("2"));
    lambda
        .create_alias()
        .function_name(FUNCTION)
        .name(ALIAS)
        .function_version("1")
        .send()
        .await
        .unwrap();
    deploy
        .create_application()
        .application_name(APP)
        .compute_platform(ComputePlatform::Lambda)
        .send()
        .await
        .unwrap();
    Local {
        moto,
        twin,
        deploy,
        lambda,
    }
}

impl Local {
    async fn group(&self, config: &str, alarms: &[&str]) {
        let mut alarm_config = AlarmConfiguration::builder().enabled(!alarms.is_empty());
        for name in alarms {
            alarm_config = alarm_config.alarms(
                aws_sdk_codedeploy::types::Alarm::builder()
                    .name(*name)
                    .build(),
            );
        }
        self.deploy
            .create_deployment_group()
            .application_name(APP)
            .deployment_group_name(GROUP)
            .service_role_arn("arn:aws:iam::123456789012:role/codedeploy")
            .deployment_config_name(config)
            .alarm_configuration(alarm_config.build())
            .auto_rollback_configuration(
                AutoRollbackConfiguration::builder()
                    .enabled(true)
                    .events(AutoRollbackEvent::DeploymentFailure)
                    .events(AutoRollbackEvent::DeploymentStopOnAlarm)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    /// Deploy version 2 with the given hooks (YAML AppSpec).
    async fn deploy(&self, before: Option<&str>, after: Option<&str>) -> String {
        let mut hooks = String::new();
        if let Some(f) = before {
            hooks.push_str(&format!("  - BeforeAllowTraffic: {f}\n"));
        }
        if let Some(f) = after {
            hooks.push_str(&format!("  - AfterAllowTraffic: {f}\n"));
        }
        let hooks = if hooks.is_empty() {
            String::new()
        } else {
            format!("Hooks:\n{hooks}")
        };
        let appspec = format!(
            "version: 0.0\nResources:\n  - scorer:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: {FUNCTION}\n        Alias: {ALIAS}\n        CurrentVersion: 1\n        TargetVersion: 2\n{hooks}"
        );
        self.deploy
            .create_deployment()
            .application_name(APP)
            .deployment_group_name(GROUP)
            .revision(
                RevisionLocation::builder()
                    .revision_type(RevisionLocationType::AppSpecContent)
                    .app_spec_content(AppSpecContent::builder().content(appspec).build())
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .deployment_id
            .unwrap()
    }

    async fn info(&self, id: &str) -> DeploymentInfo {
        self.deploy
            .get_deployment()
            .deployment_id(id)
            .send()
            .await
            .unwrap()
            .deployment_info
            .unwrap()
    }

    /// Report `status` for every hook of `id` awaiting one, until it ends.
    async fn run_hooks(&self, id: &str, status: LifecycleEventStatus) -> DeploymentInfo {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            for hook in codedeploy::hook_executions(self.twin.ctx()) {
                if hook.deployment_id == id && hook.status.is_none() {
                    self.deploy
                        .put_lifecycle_event_hook_execution_status()
                        .deployment_id(id)
                        .lifecycle_event_hook_execution_id(&hook.execution_id)
                        .status(status.clone())
                        .send()
                        .await
                        .unwrap();
                }
            }
            let info = self.info(id).await;
            if info.complete_time.is_some() {
                return info;
            }
            assert!(Instant::now() < deadline, "deployment {id} did not end");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// (function version, weights of additional versions) of the alias.
    async fn alias(&self) -> (String, Vec<(String, f64)>) {
        let alias = self
            .lambda
            .get_alias()
            .function_name(FUNCTION)
            .name(ALIAS)
            .send()
            .await
            .unwrap();
        let weights = alias
            .routing_config()
            .and_then(|r| r.additional_version_weights())
            .map(|w| w.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        (alias.function_version().unwrap_or_default().into(), weights)
    }

    async fn wait_for_canary(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.alias().await == ("1".to_string(), vec![("2".to_string(), 0.1)]) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the alias never carried the canary"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The `state`s of the deployment's state-change events, in order.
    async fn states(&self, id: &str) -> Vec<String> {
        let events = TwinClient::new(self.twin.endpoint())
            .get("events")
            .await
            .unwrap();
        events["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| {
                e["source"] == "aws.codedeploy"
                    && e["detail-type"] == "CodeDeploy Deployment State-change Notification"
                    && e["detail"]["deploymentId"] == id
            })
            .map(|e| {
                assert_eq!(e["detail"]["application"], APP);
                assert_eq!(e["detail"]["deploymentGroup"], GROUP);
                assert_eq!(e["resources"].as_array().map(Vec::len), Some(2));
                e["detail"]["state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }
}

/// A form-encoded query-protocol call straight to moto (IAM, CloudWatch): the
/// tests need a role and an alarm but no SDK crate for either.
fn moto_query(endpoint: &str, service: &str, body: &str) -> String {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    reply
}

#[tokio::test]
async fn all_at_once_with_hooks_succeeds_and_points_the_alias_at_the_target() {
    let local = local(600.0).await;
    local.group("CodeDeployDefault.LambdaAllAtOnce", &[]).await;
    let id = local
        .deploy(Some("check-before"), Some("check-after"))
        .await;
    let info = local.run_hooks(&id, LifecycleEventStatus::Succeeded).await;
    assert_eq!(info.status, Some(DeploymentStatus::Succeeded), "{info:?}");
    assert!(info.error_information.is_none());
    assert_eq!(info.deployment_overview.unwrap().succeeded, 1);
    assert_eq!(local.alias().await, ("2".to_string(), vec![]));
    let hooks: Vec<(String, String)> = codedeploy::hook_executions(local.twin.ctx())
        .into_iter()
        .map(|h| (h.event, h.function))
        .collect();
    assert_eq!(
        hooks,
        [
            ("BeforeAllowTraffic".into(), "check-before".into()),
            ("AfterAllowTraffic".into(), "check-after".into())
        ]
    );
    assert_eq!(local.states(&id).await, ["START", "SUCCESS"]);
}

#[tokio::test]
async fn a_canary_carries_ten_percent_then_shifts_fully() {
    let local = local(300.0).await;
    local
        .group("CodeDeployDefault.LambdaCanary10Percent5Minutes", &[])
        .await;
    let id = local.deploy(None, None).await;
    local.wait_for_canary().await;
    assert_eq!(
        local.info(&id).await.status,
        Some(DeploymentStatus::InProgress)
    );
    let info = local.run_hooks(&id, LifecycleEventStatus::Succeeded).await;
    assert_eq!(info.status, Some(DeploymentStatus::Succeeded));
    assert_eq!(local.alias().await, ("2".to_string(), vec![]));
    assert_eq!(local.states(&id).await, ["START", "SUCCESS"]);
}

#[tokio::test]
async fn a_failed_before_allow_traffic_hook_fails_and_leaves_the_alias() {
    let local = local(600.0).await;
    local.group("CodeDeployDefault.LambdaAllAtOnce", &[]).await;
    let id = local.deploy(Some("check-before"), None).await;
    let info = local.run_hooks(&id, LifecycleEventStatus::Failed).await;
    assert_eq!(info.status, Some(DeploymentStatus::Failed));
    let error = info.error_information.unwrap();
    assert_eq!(
        error.code.map(|c| c.as_str().to_string()).as_deref(),
        Some("HOOK_EXECUTION_FAILURE")
    );
    assert!(error.message.unwrap().contains("check-before"));
    assert!(info.rollback_info.is_some());
    assert_eq!(local.alias().await, ("1".to_string(), vec![]));
    assert_eq!(local.states(&id).await, ["START", "FAILURE"]);
}

#[tokio::test]
async fn stop_with_auto_rollback_stops_and_shifts_the_alias_back() {
    let local = local(600.0).await;
    local
        .group("CodeDeployDefault.LambdaCanary10Percent30Minutes", &[])
        .await;
    let id = local.deploy(None, None).await;
    local.wait_for_canary().await;
    let stopped = local
        .deploy
        .stop_deployment()
        .deployment_id(&id)
        .auto_rollback_enabled(true)
        .send()
        .await
        .unwrap();
    assert!(stopped.status.is_some());
    let info = local.run_hooks(&id, LifecycleEventStatus::Succeeded).await;
    assert_eq!(info.status, Some(DeploymentStatus::Stopped));
    assert_eq!(
        info.error_information
            .and_then(|e| e.code)
            .map(|c| c.as_str().to_string())
            .as_deref(),
        Some("MANUAL_STOP")
    );
    assert_eq!(local.alias().await, ("1".to_string(), vec![]));
    assert_eq!(local.states(&id).await, ["START", "STOP"]);
    let again = local
        .deploy
        .stop_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        steward::aws_error::code(&again),
        Some("DeploymentAlreadyCompletedException")
    );
}

#[tokio::test]
async fn an_alarm_in_alarm_during_the_canary_rolls_back() {
    let local = local(600.0).await;
    let moto = local.moto.endpoint();
    moto_query(
        &moto,
        "monitoring",
        "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=scorer-errors&MetricName=Errors&Namespace=AWS%2FLambda&Statistic=Sum&Period=60&EvaluationPeriods=1&Threshold=1&ComparisonOperator=GreaterThanOrEqualToThreshold",
    );
    local
        .group(
            "CodeDeployDefault.LambdaCanary10Percent30Minutes",
            &["scorer-errors"],
        )
        .await;
    let id = local.deploy(None, None).await;
    local.wait_for_canary().await;
    moto_query(
        &moto,
        "monitoring",
        "Action=SetAlarmState&Version=2010-08-01&AlarmName=scorer-errors&StateValue=ALARM&StateReason=errors",
    );
    let info = local.run_hooks(&id, LifecycleEventStatus::Succeeded).await;
    assert_eq!(info.status, Some(DeploymentStatus::Stopped));
    let error = info.error_information.unwrap();
    assert_eq!(
        error.code.map(|c| c.as_str().to_string()).as_deref(),
        Some("ALARM_ACTIVE")
    );
    assert!(error.message.unwrap().contains("scorer-errors"));
    assert_eq!(local.alias().await, ("1".to_string(), vec![]));
    assert_eq!(local.states(&id).await, ["START", "STOP"]);
}

#[tokio::test]
async fn lambda_deployment_configs_are_answered_and_custom_ones_kept() {
    let local = local(600.0).await;
    let config = local
        .deploy
        .get_deployment_config()
        .deployment_config_name("CodeDeployDefault.LambdaCanary10Percent5Minutes")
        .send()
        .await
        .unwrap()
        .deployment_config_info
        .unwrap();
    let canary = config
        .traffic_routing_config
        .unwrap()
        .time_based_canary
        .unwrap();
    assert_eq!((canary.canary_percentage, canary.canary_interval), (10, 5));
    local
        .deploy
        .create_deployment_config()
        .deployment_config_name("Linear50PercentEvery1Minute")
        .compute_platform(ComputePlatform::Lambda)
        .traffic_routing_config(
            TrafficRoutingConfig::builder()
                .r#type(TrafficRoutingType::TimeBasedLinear)
                .time_based_linear(
                    TimeBasedLinear::builder()
                        .linear_percentage(50)
                        .linear_interval(1)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let linear = local
        .deploy
        .get_deployment_config()
        .deployment_config_name("Linear50PercentEvery1Minute")
        .send()
        .await
        .unwrap()
        .deployment_config_info
        .unwrap()
        .traffic_routing_config
        .unwrap()
        .time_based_linear
        .unwrap();
    assert_eq!((linear.linear_percentage, linear.linear_interval), (50, 1));
    local.group("Linear50PercentEvery1Minute", &[]).await;
    let id = local.deploy(None, None).await;
    let info = local.run_hooks(&id, LifecycleEventStatus::Succeeded).await;
    assert_eq!(info.status, Some(DeploymentStatus::Succeeded));
    assert_eq!(
        info.deployment_config_name.as_deref(),
        Some("Linear50PercentEvery1Minute")
    );
    assert_eq!(local.alias().await, ("2".to_string(), vec![]));
}
