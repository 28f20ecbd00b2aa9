//! deploy to a Lambda-served environment (target lambda-alias) against moto's
//! Lambda and the twin's CodeDeploy: the approved package becomes a function
//! version that loads its model, a CodeDeploy deployment shifts the alias to it
//! with the policy's strategy and the smoke-test hook, exactly once; the
//! deployment's state-change events end the rollout as `GetDeployment` says
//! (succeeded: baking; a failed hook: failed, the alias untouched).

mod deploy_support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use aws_sdk_codedeploy::types::{DeploymentStatus, LifecycleEventStatus};
use aws_sdk_lambda::primitives::Blob;
use deploy::Outcome;
use deploy_support::{Stage, SMOKE_HOOK};
use steward_twin::twin::codedeploy;

const FUNCTION: &str = "payroll-fraud-scorer";
const ALIAS: &str = "live";
const FUNCTION_ROLE: &str = "arn:aws:iam::123456789012:role/scorer-role";
const STATE_CHANGE: &str = "CodeDeploy Deployment State-change Notification";

const POLICY: &str = r#"
[groups.payroll-fraud]
stewards = ["ml-fraud@acme.com"]
approvers = ["ana.lima@acme.com"]

[groups.payroll-fraud.pipeline]
name = "payroll-fraud-train"

[[groups.payroll-fraud.environments]]
name = "staging"
target = { kind = "lambda-alias", function = "payroll-fraud-scorer", alias = "live" }
strategy = { kind = "linear", step_percent = 50, wait = "2m" }
alarms = ["payroll-fraud-staging-5xx"]
bake = "10m"
approval = "none"
smoke_test = { cases = "s3://acme-ml-data/payroll-fraud/smoke/cases.jsonl" }
"#;

struct Lambda {
    stage: Stage,
    lambda: aws_sdk_lambda::Client,
    codedeploy: aws_sdk_codedeploy::Client,
}

/// The stage with the serving function: version 1 behind alias `live`.
async fn lambda_stage() -> Lambda {
    let stage = Stage::start_with(POLICY).await;
    moto_query(
        &stage.run.emulator.endpoint(),
        "iam",
        "Action=CreateRole&Version=2010-05-08&RoleName=scorer-role&AssumeRolePolicyDocument=%7B%7D",
    );
    let lambda = aws_sdk_lambda::Client::new(&stage.run.sdk);
    lambda
        .create_function()
        .function_name(FUNCTION)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .role(FUNCTION_ROLE)
        .handler("bootstrap")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(Blob::new(b"scorer".to_vec()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    lambda
        .publish_version()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    lambda
        .create_alias()
        .function_name(FUNCTION)
        .name(ALIAS)
        .function_version("1")
        .send()
        .await
        .unwrap();
    let codedeploy = aws_sdk_codedeploy::Client::new(&stage.run.sdk);
    Lambda {
        stage,
        lambda,
        codedeploy,
    }
}

impl Lambda {
    async fn alias_version(&self) -> String {
        self.lambda
            .get_alias()
            .function_name(FUNCTION)
            .name(ALIAS)
            .send()
            .await
            .unwrap()
            .function_version()
            .unwrap_or_default()
            .to_string()
    }

    /// The deployment ids Steward created, oldest first.
    fn deployments(&self) -> Vec<String> {
        let mut ids: Vec<String> = codedeploy::hook_executions(self.stage.run.twin.ctx())
            .into_iter()
            .map(|h| h.deployment_id)
            .collect();
        ids.dedup();
        ids
    }

    /// Report `status` for the smoke-test hook of `id` (as the hook function
    /// would) until the deployment ends.
    async fn run_hook(&self, id: &str, status: LifecycleEventStatus) -> DeploymentStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for hook in codedeploy::hook_executions(self.stage.run.twin.ctx()) {
                if hook.deployment_id == id && hook.status.is_none() {
                    self.codedeploy
                        .put_lifecycle_event_hook_execution_status()
                        .deployment_id(id)
                        .lifecycle_event_hook_execution_id(&hook.execution_id)
                        .status(status.clone())
                        .send()
                        .await
                        .unwrap();
                }
            }
            let info = self
                .codedeploy
                .get_deployment()
                .deployment_id(id)
                .send()
                .await
                .unwrap()
                .deployment_info
                .unwrap();
            if info.complete_time.is_some() {
                return info.status.unwrap();
            }
            assert!(Instant::now() < deadline, "deployment {id} did not end");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Hand every state-change event of deployment `id` to deploy; the outcomes.
    async fn deliver(&self, id: &str) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        for event in self.stage.events(STATE_CHANGE) {
            if event["detail"]["deploymentId"] == id {
                outcomes.push(deploy::handle(&self.stage.deploy, event).await.unwrap());
            }
        }
        outcomes
    }

    /// Approve a new package and deploy it; the deployment id.
    async fn deploy_new(&self, model_data_url: &str) -> (String, String) {
        let arn = self.stage.register_with(model_data_url).await;
        let approved = self.stage.approve(&arn).await;
        let before = self.deployments().len();
        let outcome = deploy::handle(&self.stage.deploy, approved).await.unwrap();
        assert!(
            matches!(&outcome, Outcome::Started { action, .. } if action == "create"),
            "{outcome:?}"
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.deployments().len() == before {
            assert!(Instant::now() < deadline, "the hook never ran");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (arn, self.deployments().last().unwrap().clone())
    }
}

/// A form-encoded query-protocol call straight to moto (IAM has no SDK crate here).
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
async fn an_approved_model_becomes_a_function_version_that_codedeploy_shifts_the_alias_to() {
    let l = lambda_stage().await;
    let arn = l
        .stage
        .register_with("s3://artifacts/payroll-fraud/v1.json")
        .await;
    let approved = l.stage.approve(&arn).await;

    let outcome = deploy::handle(&l.stage.deploy, approved.clone())
        .await
        .unwrap();
    let Outcome::Started {
        action,
        endpoint_config,
        ..
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(action, "create");
    assert_eq!(endpoint_config, &format!("{FUNCTION}:2"));
    // Redelivered: the first delivery's result; no second version or deployment.
    let again = deploy::handle(&l.stage.deploy, approved).await.unwrap();
    assert!(matches!(again, Outcome::AlreadyDone { .. }), "{again:?}");

    // Version 2 loads the package's model.
    let version = l
        .lambda
        .get_function_configuration()
        .function_name(FUNCTION)
        .qualifier("2")
        .send()
        .await
        .unwrap();
    let variables = version.environment().unwrap().variables().unwrap();
    assert_eq!(
        variables.get("MODEL_DATA_URL").map(String::as_str),
        Some("s3://artifacts/payroll-fraud/v1.json")
    );
    assert_eq!(variables.get("MODEL_PACKAGE_ARN"), Some(&arn));
    let versions = l
        .lambda
        .list_versions_by_function()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 3, "$LATEST, 1 and 2");

    // The policy's linear 50% every 2m is a custom config, made once.
    let config = l
        .codedeploy
        .get_deployment_config()
        .deployment_config_name("steward-lambda-linear-50pct-every-2min")
        .send()
        .await
        .unwrap()
        .deployment_config_info
        .unwrap()
        .traffic_routing_config
        .unwrap()
        .time_based_linear
        .unwrap();
    assert_eq!((config.linear_percentage, config.linear_interval), (50, 2));

    // CodeDeploy calls the smoke-test hook before shifting traffic.
    let deadline = Instant::now() + Duration::from_secs(30);
    while l.deployments().is_empty() {
        assert!(Instant::now() < deadline, "the hook never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let id = l.deployments()[0].clone();
    let hooks: Vec<(String, String)> = codedeploy::hook_executions(l.stage.run.twin.ctx())
        .into_iter()
        .map(|h| (h.event, h.function))
        .collect();
    assert_eq!(hooks, [("BeforeAllowTraffic".into(), SMOKE_HOOK.into())]);
    let state = l.stage.state("staging").await;
    assert_eq!(
        state
            .rollout
            .as_ref()
            .map(|r| r.release.endpoint_config.as_str()),
        Some("payroll-fraud-scorer:2")
    );

    assert_eq!(
        l.run_hook(&id, LifecycleEventStatus::Succeeded).await,
        DeploymentStatus::Succeeded
    );
    assert_eq!(l.alias_version().await, "2");
    let outcomes = l.deliver(&id).await;
    assert!(
        outcomes.iter().any(|o| matches!(
            o,
            Outcome::Finished { result, .. } if result == "succeeded"
        )),
        "{outcomes:?}"
    );
    let state = l.stage.state("staging").await;
    assert!(state.rollout.is_none());
    assert_eq!(state.current.as_ref().unwrap().model_package_arn, arn);
    assert!(state.bake_until.is_some());
    assert_eq!(
        l.stage.steps("staging").await,
        ["deployment_started", "deployment_succeeded"]
    );
    // The event delivered again: nothing more.
    let again = l.deliver(&id).await;
    assert!(
        again.iter().all(|o| !matches!(o, Outcome::Finished { .. })),
        "{again:?}"
    );
    assert_eq!(l.stage.steps("staging").await.len(), 2);
}

#[tokio::test]
async fn a_failed_smoke_hook_fails_the_deployment_and_the_alias_stays() {
    let l = lambda_stage().await;
    let (arn, id) = l.deploy_new("s3://artifacts/payroll-fraud/bad.json").await;
    assert_eq!(
        l.run_hook(&id, LifecycleEventStatus::Failed).await,
        DeploymentStatus::Failed
    );
    assert_eq!(l.alias_version().await, "1");
    let outcomes = l.deliver(&id).await;
    let reason = outcomes
        .iter()
        .find_map(|o| match o {
            Outcome::Finished { result, reason, .. } if result == "failed" => reason.clone(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{outcomes:?}"));
    assert!(reason.contains("HOOK_EXECUTION_FAILURE"), "{reason}");
    let state = l.stage.state("staging").await;
    assert!(state.rollout.is_none());
    assert!(state.current.is_none());
    let failure = state.last_failure.unwrap();
    assert_eq!(failure.release.model_package_arn, arn);
    assert_eq!(
        l.stage.steps("staging").await,
        ["deployment_started", "deployment_failed"]
    );
}

#[tokio::test]
async fn a_second_model_waits_while_the_first_one_rolls_out() {
    let l = lambda_stage().await;
    let (_, first) = l.deploy_new("s3://artifacts/payroll-fraud/v1.json").await;
    let second = l.stage.register().await;
    let approved = l.stage.approve(&second).await;
    let busy = deploy::handle(&l.stage.deploy, approved.clone())
        .await
        .unwrap_err();
    assert_eq!(busy.error_type(), "environment_busy");
    assert_eq!(l.deployments(), std::slice::from_ref(&first));
    // Once the first ended, the retried delivery starts the second.
    l.run_hook(&first, LifecycleEventStatus::Succeeded).await;
    l.deliver(&first).await;
    let started = deploy::handle(&l.stage.deploy, approved).await.unwrap();
    assert!(
        matches!(&started, Outcome::Started { action, endpoint_config, .. }
            if action == "create" && endpoint_config == "payroll-fraud-scorer:3"),
        "{started:?}"
    );
}

#[tokio::test]
async fn the_environment_alarm_stops_the_deployment_and_codedeploy_shifts_back() {
    let l = lambda_stage().await;
    let (arn, id) = l.deploy_new("s3://artifacts/payroll-fraud/v1.json").await;
    // The deployment group carries the environment's alarm: in ALARM while
    // traffic shifts, CodeDeploy stops and rolls back on its own.
    l.stage
        .set_alarm(
            deploy_support::STAGING_ALARM,
            aws_sdk_cloudwatch::types::StateValue::Alarm,
        )
        .await;
    assert_eq!(
        l.run_hook(&id, LifecycleEventStatus::Succeeded).await,
        DeploymentStatus::Stopped
    );
    assert_eq!(l.alias_version().await, "1");
    let outcomes = l.deliver(&id).await;
    let reason = outcomes
        .iter()
        .find_map(|o| match o {
            Outcome::Finished { result, reason, .. } if result == "failed" => reason.clone(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{outcomes:?}"));
    assert!(reason.contains("ALARM_ACTIVE"), "{reason}");
    let state = l.stage.state("staging").await;
    assert_eq!(
        state
            .last_failure
            .as_ref()
            .unwrap()
            .release
            .model_package_arn,
        arn
    );
    assert!(state.rolled_back.contains(&arn));

    // rollback verifies CodeDeploy's rollback from the alias and records it once.
    let alarm = l.stage.alarm_event(deploy_support::STAGING_ALARM);
    let verified = rollback::handle(&l.stage.rollback, alarm.clone())
        .await
        .unwrap();
    let rollback::Outcome::AutoRollbackVerified {
        rejected,
        live_config,
        ..
    } = &verified
    else {
        panic!("{verified:?}");
    };
    assert_eq!(rejected, &arn);
    assert_eq!(live_config.as_deref(), Some("payroll-fraud-scorer:1"));
    let package = l
        .stage
        .sagemaker()
        .describe_model_package()
        .model_package_name(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        package.model_approval_status().map(|s| s.as_str()),
        Some("Rejected")
    );
    assert!(
        l.stage
            .state("staging")
            .await
            .last_failure
            .unwrap()
            .rollback_recorded
    );
    // Redelivered: already recorded, nothing again.
    let again = rollback::handle(&l.stage.rollback, alarm).await.unwrap();
    assert!(
        matches!(
            again,
            rollback::Outcome::Ignored { .. } | rollback::Outcome::AlreadyHandled { .. }
        ),
        "{again:?}"
    );
}

/// The serving function, as the smoke test sees it: version "2" scores 0.9,
/// any other 0.1 (moto's Lambda cannot run code without Docker).
struct Scorer {
    good: &'static str,
}

impl smoke_test_hook::InvokeVersion for Scorer {
    async fn invoke(
        &self,
        function: &str,
        version: &str,
        _payload: &serde_json::Value,
    ) -> serde_json::Value {
        assert_eq!(function, FUNCTION);
        let score = if version == self.good { 0.9 } else { 0.1 };
        serde_json::json!({ "score": score })
    }
}

impl Lambda {
    async fn hook(&self, good: &'static str) -> smoke_test_hook::Context<Scorer> {
        let spec = &self.stage.run.stack.spec;
        let connected = smoke_test_hook::Context::connect(
            &self.stage.run.sdk,
            &smoke_test_hook::Config {
                ledger_table: spec.ledger_table.clone(),
                policy_parameter: spec.policy_parameter.clone(),
                claim_lease: Duration::from_secs(300),
            },
        )
        .await
        .unwrap();
        smoke_test_hook::Context {
            codedeploy: connected.codedeploy,
            s3: connected.s3,
            versions: Scorer { good },
            ledger: connected.ledger,
            environments: connected.environments,
            policy: connected.policy,
            claim_lease: connected.claim_lease,
        }
    }

    /// CodeDeploy's invocation of the hook for deployment `id`.
    fn hook_event(&self, id: &str) -> serde_json::Value {
        let execution = codedeploy::hook_executions(self.stage.run.twin.ctx())
            .into_iter()
            .find(|h| h.deployment_id == id)
            .unwrap();
        serde_json::json!({
            "DeploymentId": id,
            "LifecycleEventHookExecutionId": execution.execution_id,
        })
    }

    async fn ended(&self, id: &str) -> DeploymentStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let info = self
                .codedeploy
                .get_deployment()
                .deployment_id(id)
                .send()
                .await
                .unwrap()
                .deployment_info
                .unwrap();
            if info.complete_time.is_some() {
                return info.status.unwrap();
            }
            assert!(Instant::now() < deadline, "deployment {id} did not end");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

const CASES: &str = r#"{"input": {"tenure": 3, "overtime": 12}, "expected": {"score": 0.9}}
{"input": {"tenure": 9, "overtime": 0}, "expected": {"score": 0.9}}
"#;

#[tokio::test]
async fn the_smoke_hook_passes_the_new_version_once_and_traffic_shifts() {
    let l = lambda_stage().await;
    l.stage
        .put("acme-ml-data", "payroll-fraud/smoke/cases.jsonl", CASES)
        .await;
    let (_, id) = l.deploy_new("s3://artifacts/payroll-fraud/v1.json").await;
    let hook = l.hook("2").await;
    let event = l.hook_event(&id);
    let outcome = smoke_test_hook::handle(&hook, event.clone()).await.unwrap();
    assert!(
        matches!(&outcome, smoke_test_hook::Outcome::Reported { status, .. } if status == "Succeeded"),
        "{outcome:?}"
    );
    // Invoked again (CodeDeploy retries asynchronous invocations): nothing more.
    let again = smoke_test_hook::handle(&hook, event).await.unwrap();
    assert!(
        matches!(again, smoke_test_hook::Outcome::AlreadyDone { .. }),
        "{again:?}"
    );
    assert_eq!(l.ended(&id).await, DeploymentStatus::Succeeded);
    assert_eq!(l.alias_version().await, "2");
    l.deliver(&id).await;
    assert_eq!(
        l.stage.steps("staging").await,
        [
            "deployment_started",
            "smoke_test_passed",
            "deployment_succeeded"
        ]
    );
}

#[tokio::test]
async fn a_smoke_mismatch_fails_the_hook_and_codedeploy_keeps_the_old_version() {
    let l = lambda_stage().await;
    l.stage
        .put("acme-ml-data", "payroll-fraud/smoke/cases.jsonl", CASES)
        .await;
    let (_, id) = l.deploy_new("s3://artifacts/payroll-fraud/bad.json").await;
    // Only version 7 would answer right: version 2 scores 0.1.
    let hook = l.hook("7").await;
    let outcome = smoke_test_hook::handle(&hook, l.hook_event(&id))
        .await
        .unwrap();
    let smoke_test_hook::Outcome::Reported {
        status, summary, ..
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(status, "Failed");
    assert!(summary.contains("2 of 2 cases mismatched"), "{summary}");
    assert_eq!(l.ended(&id).await, DeploymentStatus::Failed);
    assert_eq!(l.alias_version().await, "1");
    l.deliver(&id).await;
    assert_eq!(
        l.stage.steps("staging").await,
        [
            "deployment_started",
            "smoke_test_failed",
            "deployment_failed"
        ]
    );
}

#[tokio::test]
async fn a_missing_case_file_fails_the_hook() {
    let l = lambda_stage().await;
    let (_, id) = l.deploy_new("s3://artifacts/payroll-fraud/v1.json").await;
    let outcome = smoke_test_hook::handle(&l.hook("2").await, l.hook_event(&id))
        .await
        .unwrap();
    assert!(
        matches!(&outcome, smoke_test_hook::Outcome::Reported { status, .. } if status == "Failed"),
        "{outcome:?}"
    );
    assert_eq!(l.ended(&id).await, DeploymentStatus::Failed);
}

#[tokio::test]
async fn a_hook_event_of_another_shape_is_a_typed_error() {
    let l = lambda_stage().await;
    let err = smoke_test_hook::handle(
        &l.hook("2").await,
        serde_json::json!({"DeploymentId": "d-1"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "invalid_hook_event");
}

impl Lambda {
    /// Steward's rollback deployments (by their description), oldest first.
    async fn rollback_deployments(&self) -> Vec<(String, String)> {
        let ids = self
            .codedeploy
            .list_deployments()
            .application_name("steward-payroll-fraud")
            .deployment_group_name("staging")
            .send()
            .await
            .unwrap()
            .deployments
            .unwrap_or_default();
        let mut found = Vec::new();
        for id in ids {
            let info = self
                .codedeploy
                .get_deployment()
                .deployment_id(&id)
                .send()
                .await
                .unwrap()
                .deployment_info
                .unwrap();
            let description = info.description.unwrap_or_default();
            if description.starts_with("steward-rollback:") {
                found.push((id, info.deployment_config_name.unwrap_or_default()));
            }
        }
        found
    }

    /// Deploy a new package through its (passing) hook until deploy recorded
    /// the success; its ARN.
    async fn deploy_live(&self, model_data_url: &str) -> String {
        let (arn, id) = self.deploy_new(model_data_url).await;
        assert_eq!(
            self.run_hook(&id, LifecycleEventStatus::Succeeded).await,
            DeploymentStatus::Succeeded
        );
        self.deliver(&id).await;
        let state = self.stage.state("staging").await;
        assert!(state.rollout.is_none(), "{state:?}");
        assert_eq!(state.current.unwrap().model_package_arn, arn);
        arn
    }
}

#[tokio::test]
async fn an_alarm_after_the_bake_redeploys_the_last_known_good_version_all_at_once_once() {
    let l = lambda_stage().await;
    let v1 = l.deploy_live("s3://artifacts/payroll-fraud/v1.json").await;
    // The tick bakes Lambda-served environments too: v1 (version 2) is known good.
    let baked = l.stage.tick_after_bake().await;
    assert!(
        matches!(&baked, Outcome::Baked { environment, version: 1, .. } if environment == "staging"),
        "{baked:?}"
    );
    let v2 = l.deploy_live("s3://artifacts/payroll-fraud/v2.json").await;
    assert_eq!(l.alias_version().await, "3");

    l.stage
        .set_alarm(
            deploy_support::STAGING_ALARM,
            aws_sdk_cloudwatch::types::StateValue::Alarm,
        )
        .await;
    let alarm = l.stage.alarm_event(deploy_support::STAGING_ALARM);
    let outcome = rollback::handle(&l.stage.rollback, alarm.clone())
        .await
        .unwrap();
    assert_eq!(
        outcome,
        rollback::Outcome::RollbackStarted {
            group: "payroll-fraud".into(),
            environment: "staging".into(),
            rejected: v2.clone(),
            to: v1.clone(),
            to_endpoint_config: format!("{FUNCTION}:2"),
        }
    );
    // Redelivered: the rollback under way is found, no second deployment.
    let again = rollback::handle(&l.stage.rollback, alarm).await.unwrap();
    assert!(
        matches!(
            again,
            rollback::Outcome::Ignored { .. } | rollback::Outcome::AlreadyHandled { .. }
        ),
        "{again:?}"
    );
    let rollbacks = l.rollback_deployments().await;
    assert_eq!(rollbacks.len(), 1, "{rollbacks:?}");
    let (id, config) = &rollbacks[0];
    assert_eq!(config, "CodeDeployDefault.LambdaAllAtOnce");
    // The alarm still fires, but the rollback deployment does not watch it.
    assert_eq!(l.ended(id).await, DeploymentStatus::Succeeded);
    assert_eq!(l.alias_version().await, "2");

    // deploy records the end from the state-change event, checked by GetAlias.
    let outcomes = l.deliver(id).await;
    assert!(
        outcomes.iter().any(|o| matches!(
            o,
            Outcome::Finished { result, endpoint_config, .. }
                if result == "rolled-back" && endpoint_config == "payroll-fraud-scorer:2"
        )),
        "{outcomes:?}"
    );
    let state = l.stage.state("staging").await;
    assert!(state.rollout.is_none());
    assert_eq!(state.current.as_ref().unwrap().model_package_arn, v1);
    assert!(state.restored);
    assert!(state.rolled_back.contains(&v2));
    let (status, description) = l.stage.package_status(&v2).await;
    assert_eq!(
        status,
        aws_sdk_sagemaker::types::ModelApprovalStatus::Rejected
    );
    assert!(
        description.contains(deploy_support::STAGING_ALARM),
        "{description}"
    );
    let steps = l.stage.steps("staging").await;
    for once in ["rollback_started", "rollback_completed"] {
        assert_eq!(
            steps.iter().filter(|s| *s == once).count(),
            1,
            "{once}: {steps:?}"
        );
    }

    // The alarm flaps: no second rollback, no second mail.
    l.stage
        .set_alarm(
            deploy_support::STAGING_ALARM,
            aws_sdk_cloudwatch::types::StateValue::Ok,
        )
        .await;
    l.stage
        .set_alarm(
            deploy_support::STAGING_ALARM,
            aws_sdk_cloudwatch::types::StateValue::Alarm,
        )
        .await;
    let flap = rollback::handle(
        &l.stage.rollback,
        l.stage.alarm_event(deploy_support::STAGING_ALARM),
    )
    .await
    .unwrap();
    assert!(
        matches!(flap, rollback::Outcome::Ignored { .. }),
        "{flap:?}"
    );
    assert_eq!(l.rollback_deployments().await.len(), 1);
    let mail = l.stage.mail_to(deploy_support::STEWARD).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0]["subject"]
        .as_str()
        .unwrap()
        .contains("v2 rolled back in staging"));
    let types = deploy_support::detail_types(&l.stage.steward_events().await);
    for once in ["Rollback Started", "Rollback Completed"] {
        assert_eq!(
            types.iter().filter(|t| *t == once).count(),
            1,
            "{once}: {types:?}"
        );
    }
}

#[tokio::test]
async fn an_alarm_codedeploy_does_not_watch_makes_steward_stop_the_deployment_with_rollback() {
    let l = lambda_stage().await;
    // The deployment group exists already and watches no alarm: CodeDeploy
    // will not stop on the environment's alarm by itself.
    l.codedeploy
        .create_application()
        .application_name("steward-payroll-fraud")
        .compute_platform(aws_sdk_codedeploy::types::ComputePlatform::Lambda)
        .send()
        .await
        .unwrap();
    l.codedeploy
        .create_deployment_group()
        .application_name("steward-payroll-fraud")
        .deployment_group_name("staging")
        .service_role_arn(deploy_support::CODEDEPLOY_ROLE)
        .deployment_config_name("CodeDeployDefault.LambdaAllAtOnce")
        .auto_rollback_configuration(
            aws_sdk_codedeploy::types::AutoRollbackConfiguration::builder()
                .enabled(true)
                .events(aws_sdk_codedeploy::types::AutoRollbackEvent::DeploymentFailure)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // The new version waits in its BeforeAllowTraffic hook when the alarm fires.
    let (arn, id) = l.deploy_new("s3://artifacts/payroll-fraud/v1.json").await;
    l.stage
        .set_alarm(
            deploy_support::STAGING_ALARM,
            aws_sdk_cloudwatch::types::StateValue::Alarm,
        )
        .await;
    let alarm = l.stage.alarm_event(deploy_support::STAGING_ALARM);
    let err = rollback::handle(&l.stage.rollback, alarm.clone())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "rollback_not_yet_verified", "{err}");
    assert!(l
        .stage
        .steps("staging")
        .await
        .contains(&"deployment_stop_requested".to_string()));
    assert_eq!(l.ended(&id).await, DeploymentStatus::Stopped);
    let info = l
        .codedeploy
        .get_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap()
        .deployment_info
        .unwrap();
    assert_eq!(
        info.error_information
            .and_then(|e| e.code)
            .map(|c| c.as_str().to_string())
            .as_deref(),
        Some("MANUAL_STOP")
    );
    assert!(info.rollback_info.is_some());
    assert_eq!(l.alias_version().await, "1");

    // Lambda's retry verifies what is live and records it, once.
    let verified = rollback::handle(&l.stage.rollback, alarm.clone())
        .await
        .unwrap();
    let rollback::Outcome::AutoRollbackVerified {
        rejected,
        live_config,
        ..
    } = &verified
    else {
        panic!("{verified:?}");
    };
    assert_eq!(rejected, &arn);
    assert_eq!(live_config.as_deref(), Some("payroll-fraud-scorer:1"));
    let (status, description) = l.stage.package_status(&arn).await;
    assert_eq!(
        status,
        aws_sdk_sagemaker::types::ModelApprovalStatus::Rejected
    );
    assert!(description.contains("stopped by Steward"), "{description}");
    let again = rollback::handle(&l.stage.rollback, alarm).await.unwrap();
    assert!(
        matches!(again, rollback::Outcome::AlreadyHandled { .. }),
        "{again:?}"
    );
    // deploy ends the rollout, failed, once: here on the tick (as when the
    // state-change event is missed); the event then finds nothing to do.
    let ticked = l.stage.tick_after_bake().await;
    assert!(
        matches!(
            &ticked,
            Outcome::Finished { result, reason: Some(r), .. }
                if result == "failed" && r.contains("MANUAL_STOP")
        ),
        "{ticked:?}"
    );
    let outcomes = l.deliver(&id).await;
    assert!(
        outcomes
            .iter()
            .all(|o| !matches!(o, Outcome::Finished { .. })),
        "{outcomes:?}"
    );
    assert_eq!(
        l.stage
            .state("staging")
            .await
            .last_failure
            .unwrap()
            .release
            .model_package_arn,
        arn
    );
    assert_eq!(l.stage.mail_to(deploy_support::STEWARD).await.len(), 1);
    let steps = l.stage.steps("staging").await;
    assert_eq!(
        steps
            .iter()
            .filter(|s| *s == "deployment_stop_requested")
            .count(),
        1,
        "{steps:?}"
    );
}

#[tokio::test]
async fn an_operator_rolls_a_lambda_served_environment_back_to_its_last_known_good_version() {
    let l = lambda_stage().await;
    let v1 = l.deploy_live("s3://artifacts/payroll-fraud/v1.json").await;
    l.stage.tick_after_bake().await;
    let v2 = l.deploy_live("s3://artifacts/payroll-fraud/v2.json").await;
    let outcome = rollback::handler::by_operator(
        &l.stage.rollback,
        "payroll-fraud",
        "staging",
        "ops",
        "scores drift on the new vendor field",
    )
    .await
    .unwrap();
    assert_eq!(
        outcome,
        rollback::Outcome::RollbackStarted {
            group: "payroll-fraud".into(),
            environment: "staging".into(),
            rejected: v2.clone(),
            to: v1,
            to_endpoint_config: format!("{FUNCTION}:2"),
        }
    );
    let rollbacks = l.rollback_deployments().await;
    assert_eq!(rollbacks.len(), 1, "{rollbacks:?}");
    assert_eq!(l.ended(&rollbacks[0].0).await, DeploymentStatus::Succeeded);
    assert_eq!(l.alias_version().await, "2");
    let (_, description) = l.stage.package_status(&v2).await;
    assert!(
        description.contains("rolled back by operator:ops: scores drift"),
        "{description}"
    );
}
