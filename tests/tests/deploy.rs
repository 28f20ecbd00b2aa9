//! deploy against the twin: an approved model reaches the first environment
//! (a new endpoint), the next version rolls out blue/green with the policy's
//! strategy, exactly once however often events arrive; the outcome is what
//! DescribeEndpoint shows live (a silent rollback is a failed deployment); a
//! bake without an alarm makes the model known good and asks for promotion.

mod deploy_support;

use aws_sdk_cloudwatch::types::StateValue;
use aws_sdk_sagemaker::types::ModelApprovalStatus;
use deploy::{DeployError, Outcome};
use deploy_support::{detail_types, Stage, STAGING, STAGING_ALARM};

#[tokio::test]
async fn an_approved_model_creates_the_staging_endpoint_once_then_bakes_into_a_promotion_request() {
    let s = Stage::start().await;
    let v1 = s.register().await;
    let approved = s.approve(&v1).await;

    let outcome = deploy::handle(&s.deploy, approved.clone()).await.unwrap();
    let Outcome::Started {
        action,
        endpoint_config,
        version,
        ..
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!((action.as_str(), *version), ("create", 1));
    assert!(
        endpoint_config.starts_with("payroll-fraud-staging-v1-"),
        "{endpoint_config}"
    );
    // Redelivered: the first delivery's result, nothing made again.
    let again = deploy::handle(&s.deploy, approved).await.unwrap();
    assert!(matches!(again, Outcome::AlreadyDone { .. }), "{again:?}");
    assert_eq!(
        s.endpoint_configs().await,
        std::slice::from_ref(endpoint_config)
    );

    // The config: the model from the package, the policy's capacity and capture.
    let config = s
        .sagemaker()
        .describe_endpoint_config()
        .endpoint_config_name(endpoint_config)
        .send()
        .await
        .unwrap();
    let variant = &config.production_variants()[0];
    assert_eq!(variant.model_name(), Some("payroll-fraud-v1"));
    assert_eq!(variant.initial_instance_count(), Some(2));
    assert_eq!(
        config
            .data_capture_config()
            .and_then(|c| c.initial_sampling_percentage()),
        Some(20)
    );
    let model = s
        .sagemaker()
        .describe_model()
        .model_name("payroll-fraud-v1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        model
            .primary_container()
            .and_then(|c| c.model_package_name()),
        Some(v1.as_str())
    );

    s.serving(STAGING, endpoint_config).await;
    let start = std::time::Instant::now();
    while s.state("staging").await.rollout.is_some() {
        s.deliver_endpoint_events(STAGING).await;
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let state = s.state("staging").await;
    assert_eq!(state.current.as_ref().unwrap().model_package_arn, v1);
    assert!(state.bake_until.is_some());
    assert_eq!(
        state.last_known_good(),
        None,
        "not known good before the bake"
    );

    // Before the bake ends, the tick does nothing.
    let early = deploy::handle(&s.deploy, s.tick(chrono::Utc::now()))
        .await
        .unwrap();
    assert!(matches!(early, Outcome::Ignored { .. }), "{early:?}");
    let baked = s.tick_after_bake().await;
    assert_eq!(
        baked,
        Outcome::Baked {
            group: "payroll-fraud".into(),
            environment: "staging".into(),
            version: 1,
            promotion: "approval requested for prod".into(),
        }
    );
    assert_eq!(
        s.state("staging")
            .await
            .last_known_good()
            .unwrap()
            .model_package_arn,
        v1
    );
    // The next tick has nothing left to do.
    assert!(matches!(s.tick_after_bake().await, Outcome::Ignored { .. }));
    assert_eq!(
        s.steps("staging").await,
        ["deployment_started", "deployment_succeeded", "baked"]
    );
    let events = s.steward_events().await;
    let types = detail_types(&events);
    for expected in [
        "Deployment Started",
        "Deployment Succeeded",
        "Promotion Requested",
    ] {
        assert_eq!(
            types.iter().filter(|t| *t == expected).count(),
            1,
            "{expected}: {types:?}"
        );
    }
    let promotion = events
        .iter()
        .find(|e| e["detail-type"] == "Promotion Requested")
        .unwrap();
    assert_eq!(promotion["detail"]["environment"], "prod");
    assert_eq!(promotion["detail"]["fromEnvironment"], "staging");
    assert_eq!(promotion["detail"]["modelPackageArn"], v1.as_str());
    let started = events
        .iter()
        .find(|e| e["detail-type"] == "Deployment Started")
        .unwrap();
    assert_eq!(started["detail"]["correlationId"], "stw-test-chain");
}

#[tokio::test]
async fn the_next_version_rolls_out_with_the_policy_strategy_once_and_waits_for_a_busy_environment()
{
    let s = Stage::start().await;
    let v1 = s.register().await;
    let v1_config = s.deploy_live(&v1).await;
    let v2 = s.register().await;
    let v3 = s.register().await;
    let approved = s.approve(&v2).await;

    let outcome = deploy::handle(&s.deploy, approved.clone()).await.unwrap();
    let Outcome::Started {
        action,
        endpoint_config: v2_config,
        ..
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(action, "update");
    let updating = s.describe(STAGING).await;
    assert_eq!(
        updating
            .pending_deployment_summary()
            .and_then(|p| p.endpoint_config_name()),
        Some(v2_config.as_str())
    );
    assert_eq!(updating.endpoint_config_name(), Some(v1_config.as_str()));
    // The deployment config: linear 50% steps every 5 minutes, the staging
    // alarm as rollback alarm, a termination wait and a bounded execution time.
    let config = updating
        .last_deployment_config()
        .expect("deployment config");
    let blue_green = config.blue_green_update_policy().unwrap();
    let routing = blue_green.traffic_routing_configuration().unwrap();
    assert_eq!(routing.r#type().map(|t| t.as_str()), Some("LINEAR"));
    assert_eq!(routing.wait_interval_in_seconds(), Some(300));
    let step = routing.linear_step_size().unwrap();
    assert_eq!(
        (step.r#type().map(|t| t.as_str()), step.value()),
        (Some("CAPACITY_PERCENT"), Some(50))
    );
    assert_eq!(blue_green.termination_wait_in_seconds(), Some(300));
    assert_eq!(
        blue_green.maximum_execution_timeout_in_seconds(),
        Some(1800 + 300 + 300)
    );
    let alarms: Vec<&str> = config
        .auto_rollback_configuration()
        .unwrap()
        .alarms()
        .iter()
        .filter_map(|a| a.alarm_name())
        .collect();
    assert_eq!(alarms, [STAGING_ALARM]);

    // Redelivered mid-rollout: no second config, no second update.
    let again = deploy::handle(&s.deploy, approved).await.unwrap();
    assert!(matches!(again, Outcome::AlreadyDone { .. }), "{again:?}");
    assert_eq!(s.endpoint_configs().await.len(), 2);

    // v3 approved while v2 rolls out: a retryable error, nothing changed.
    let v3_approved = s.approve(&v3).await;
    let busy = deploy::handle(&s.deploy, v3_approved.clone())
        .await
        .unwrap_err();
    assert!(matches!(busy, DeployError::Busy { .. }), "{busy}");
    assert_eq!(busy.error_type(), "environment_busy");
    assert_eq!(s.endpoint_configs().await.len(), 2);

    // Once v2 is live and recorded, Lambda's retry of v3 goes through.
    s.serving(STAGING, v2_config).await;
    let start = std::time::Instant::now();
    while s.state("staging").await.rollout.is_some() {
        s.deliver_endpoint_events(STAGING).await;
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let retried = deploy::handle(&s.deploy, v3_approved).await.unwrap();
    assert!(
        matches!(&retried, Outcome::Started { action, version: 3, .. } if action == "update"),
        "{retried:?}"
    );
    let types = detail_types(&s.steward_events().await);
    assert_eq!(
        types.iter().filter(|t| *t == "Deployment Started").count(),
        3,
        "{types:?}"
    );
}

#[tokio::test]
async fn a_silent_rollback_by_sagemaker_is_a_failed_deployment_with_its_reason() {
    let s = Stage::start().await;
    let v1 = s.register().await;
    let v1_config = s.deploy_live(&v1).await;
    let v2 = s.register().await;
    let outcome = deploy::handle(&s.deploy, s.approve(&v2).await)
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Started { .. }), "{outcome:?}");
    // The alarm fires mid-rollout; SageMaker rolls back on its own.
    s.set_alarm(STAGING_ALARM, StateValue::Alarm).await;
    let start = std::time::Instant::now();
    let done = loop {
        let out = s.in_service(STAGING).await;
        if out.pending_deployment_summary().is_none() {
            break out;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
    };
    assert_eq!(done.endpoint_config_name(), Some(v1_config.as_str()));

    let start = std::time::Instant::now();
    let finished = loop {
        let outcomes = s.deliver_endpoint_events(STAGING).await;
        if let Some(finished) = outcomes
            .into_iter()
            .find(|o| matches!(o, Outcome::Finished { .. }))
        {
            break finished;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let Outcome::Finished { result, reason, .. } = &finished else {
        unreachable!()
    };
    assert_eq!(result, "failed");
    assert!(
        reason
            .as_deref()
            .unwrap_or_default()
            .contains(STAGING_ALARM),
        "{reason:?}"
    );
    let state = s.state("staging").await;
    assert_eq!(state.current.as_ref().unwrap().model_package_arn, v1);
    assert!(state.rollout.is_none());
    assert!(state.rolled_back.contains(&v2));
    let events = s.steward_events().await;
    let failed = events
        .iter()
        .find(|e| e["detail-type"] == "Deployment Failed")
        .expect("Deployment Failed");
    assert_eq!(failed["detail"]["modelPackageArn"], v2.as_str());
    assert_eq!(failed["detail"]["liveConfig"], v1_config.as_str());
    assert_eq!(
        detail_types(&events)
            .iter()
            .filter(|t| *t == "Deployment Succeeded")
            .count(),
        1,
        "only v1 succeeded"
    );
    // v1 still bakes: while the environment's alarm is in ALARM, the bake does not pass.
    let held = s.tick_after_bake().await;
    assert!(
        matches!(&held, Outcome::Ignored { reason } if reason.contains("in ALARM")),
        "{held:?}"
    );
    assert_eq!(s.state("staging").await.last_known_good(), None);
    s.set_alarm(STAGING_ALARM, StateValue::Ok).await;
    let baked = s.tick_after_bake().await;
    assert!(
        matches!(baked, Outcome::Baked { version: 1, .. }),
        "{baked:?}"
    );
}

#[tokio::test]
async fn an_operator_deploys_only_an_approved_package_through_the_same_path() {
    let s = Stage::start().await;
    let pending = s.register().await;
    let refused = deploy::manual::deploy_package(&s.deploy, &pending, "staging")
        .await
        .unwrap_err();
    assert_eq!(refused.error_type(), "model_package_not_approved");
    assert!(s.endpoint_configs().await.is_empty());

    // Approved (the registry event is not delivered here): the operator deploys it.
    s.approve(&pending).await;
    let unknown = deploy::manual::deploy_package(&s.deploy, &pending, "qa")
        .await
        .unwrap_err();
    assert_eq!(unknown.error_type(), "unknown_environment");
    let started = deploy::manual::deploy_package(&s.deploy, &pending, "staging")
        .await
        .unwrap();
    assert!(
        matches!(&started, Outcome::Started { action, version: 1, .. } if action == "create"),
        "{started:?}"
    );
    // The registry's Approved event arriving later finds the work done.
    let approved = s
        .events("SageMaker Model Package State Change")
        .into_iter()
        .rev()
        .find(|e| e["detail"]["ModelApprovalStatus"] == "Approved")
        .unwrap();
    let later = deploy::handle(&s.deploy, approved).await.unwrap();
    assert!(matches!(later, Outcome::AlreadyDone { .. }), "{later:?}");
    assert_eq!(s.endpoint_configs().await.len(), 1);
}

/// The example model's artifact with these weights.
fn model(weights: [f64; 4]) -> serde_json::Value {
    serde_json::json!({
        "kind": "logistic-regression",
        "features": ["amount", "hour", "vendor_new", "bank_changed"],
        "weights": weights,
        "bias": -1.0,
        "threshold": 0.5,
        "means": [1000.0, 12.0, 0.1, 0.05],
        "stds": [500.0, 6.0, 0.3, 0.2]
    })
}

/// What the good model (weights `GOOD`) answers for one CSV row.
fn good_prediction(x: [f64; 4]) -> serde_json::Value {
    let (means, stds) = ([1000.0, 12.0, 0.1, 0.05], [500.0, 6.0, 0.3, 0.2]);
    let z: f64 = (0..4)
        .map(|i| GOOD[i] * (x[i] - means[i]) / stds[i])
        .sum::<f64>()
        - 1.0;
    let score = 1.0 / (1.0 + (-z).exp());
    serde_json::json!({"predictions": [{"score": score, "label": u8::from(score >= 0.5)}]})
}

const GOOD: [f64; 4] = [1.5, -0.2, 0.8, 2.0];

#[tokio::test]
async fn a_model_failing_its_smoke_test_is_rolled_back_and_goes_no_further() {
    let policy = deploy_support::POLICY.replacen(
        "approval = \"none\"",
        "approval = \"none\"\nsmoke_test = { cases = \"s3://acme-ml-data/payroll-fraud/smoke/cases.jsonl\", tolerance = 0.001 }",
        1,
    );
    let s = Stage::start_with(&policy).await;
    s.put("artifacts", "fraud/v1/model.json", &model(GOOD).to_string())
        .await;
    s.put(
        "artifacts",
        "fraud/v2/model.json",
        &model([-1.5, 0.2, -0.8, -2.0]).to_string(),
    )
    .await;
    let cases: String = [[2500.0, 3.0, 1.0, 1.0], [900.0, 12.0, 0.0, 0.0]]
        .iter()
        .map(|x| {
            let input = x.map(|v| v.to_string()).join(",");
            format!(
                "{}\n",
                serde_json::json!({"input": input, "expected": good_prediction(*x)})
            )
        })
        .collect();
    s.put("acme-ml-data", "payroll-fraud/smoke/cases.jsonl", &cases)
        .await;

    // v1 passes its smoke test and serves.
    let v1 = s.register_with("s3://artifacts/fraud/v1/model.json").await;
    let v1_config = s.deploy_live(&v1).await;
    assert!(s
        .steps("staging")
        .await
        .contains(&"smoke_test_passed".to_string()));
    s.tick_after_bake().await;

    // v2 goes live, answers differently: failed, and v1 comes back.
    let v2 = s.register_with("s3://artifacts/fraud/v2/model.json").await;
    let Outcome::Started {
        endpoint_config: v2_config,
        ..
    } = deploy::handle(&s.deploy, s.approve(&v2).await)
        .await
        .unwrap()
    else {
        panic!("v2 did not start");
    };
    s.serving(STAGING, &v2_config).await;
    let start = std::time::Instant::now();
    let failed = loop {
        let outcomes = s.deliver_endpoint_events(STAGING).await;
        if let Some(o) = outcomes.into_iter().find(
            |o| matches!(o, Outcome::Finished { result, .. } if result == "smoke-test-failed"),
        ) {
            break o;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let Outcome::Finished { reason, .. } = failed else {
        unreachable!()
    };
    let reason = reason.unwrap();
    assert!(
        reason.starts_with("smoke test failed: 2 of 2 cases mismatched"),
        "{reason}"
    );
    s.serving(STAGING, &v1_config).await;
    let start = std::time::Instant::now();
    while s.state("staging").await.rollout.is_some() {
        s.deliver_endpoint_events(STAGING).await;
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let state = s.state("staging").await;
    assert_eq!(state.current.as_ref().unwrap().model_package_arn, v1);
    assert!(state.rolled_back.contains(&v2));
    assert_eq!(state.bake_until, None, "v1 was known good already");
    let steps = s.steps("staging").await;
    assert!(
        steps.contains(&"smoke_test_failed".to_string()),
        "{steps:?}"
    );
    assert!(
        steps.contains(&"rollback_completed".to_string()),
        "{steps:?}"
    );
    // The chain stops: nothing bakes, nothing is promoted.
    assert!(matches!(s.tick_after_bake().await, Outcome::Ignored { .. }));
    let events = s.steward_events().await;
    let types = detail_types(&events);
    assert_eq!(
        types.iter().filter(|t| *t == "Promotion Requested").count(),
        1,
        "only v1's promotion: {types:?}"
    );
    let failed = events
        .iter()
        .find(|e| e["detail-type"] == "Deployment Failed")
        .unwrap();
    assert_eq!(failed["detail"]["modelPackageArn"], v2.as_str());
    assert!(
        types.contains(&"Rollback Completed".to_string()),
        "{types:?}"
    );
    // v2 is Rejected with the mismatches as the reason; the stewards got one
    // mail however often the endpoint events came; v1 stays Approved.
    let (status, description) = s.package_status(&v2).await;
    assert_eq!(status, ModelApprovalStatus::Rejected);
    assert!(
        description.contains("smoke test failed: 2 of 2 cases mismatched"),
        "{description}"
    );
    assert_eq!(s.package_status(&v1).await.0, ModelApprovalStatus::Approved);
    let mail = s.mail_to(deploy_support::STEWARD).await;
    let smoke: Vec<_> = mail
        .iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|t| t.contains("v2 failed its smoke test in staging"))
        })
        .collect();
    assert_eq!(smoke.len(), 1, "{mail:?}");
    let body = smoke[0]["body"].as_str().unwrap();
    assert!(body.contains("case 1 at $"), "{body}");
    assert!(body.contains(&v1_config), "{body}");
}

#[tokio::test]
async fn promotion_deploys_the_next_environment_by_policy_or_once_a_person_approves() {
    // prod approved by policy: the bake in staging deploys prod directly.
    let auto = deploy_support::POLICY.replacen("approval = \"required\"", "approval = \"auto\"", 1);
    let s = Stage::start_with(&auto).await;
    let v1 = s.register().await;
    s.deploy_live(&v1).await;
    // The same tick may already see prod live (the twin is fast): both are fine.
    let outcomes = match s.tick_after_bake().await {
        Outcome::Several { outcomes } => outcomes,
        one => vec![one],
    };
    assert_eq!(
        outcomes[0],
        Outcome::Baked {
            group: "payroll-fraud".into(),
            environment: "staging".into(),
            version: 1,
            promotion: "deployed prod (approved by policy)".into(),
        }
    );
    let prod = s.describe("payroll-fraud-prod").await;
    assert!(prod
        .endpoint_config_name()
        .is_some_and(|c| c.starts_with("payroll-fraud-prod-v1-")));
    assert_eq!(
        s.steps("prod").await[..2],
        ["approved_by_policy", "deployment_started"]
    );
    // The stewards learn the policy promoted it, once: a later tick is quiet.
    s.tick_after_bake().await;
    let promoted: Vec<_> = s
        .mail_to(deploy_support::STEWARD)
        .await
        .into_iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|t| t.contains("v1 promoted to prod by policy"))
        })
        .collect();
    assert_eq!(promoted.len(), 1, "{promoted:?}");
    let body = promoted[0]["body"].as_str().unwrap();
    assert!(
        body.starts_with("v1 promoted to prod by policy: gate passed, the 10m bake in staging"),
        "{body}"
    );

    // prod needs a person: nothing moves until the approval flow decides.
    let s = Stage::start().await;
    let v1 = s.register().await;
    s.deploy_live(&v1).await;
    s.tick_after_bake().await;
    let decided = |environment: &str| {
        serde_json::json!({
            "version": "0",
            "id": format!("decided-{environment}"),
            "detail-type": "Approval Decided",
            "source": "steward",
            "account": "123456789012",
            "time": chrono::Utc::now().to_rfc3339(),
            "region": "us-east-1",
            "resources": [v1],
            "detail": {
                "modelPackageGroup": "payroll-fraud",
                "modelPackageArn": v1,
                "environment": environment,
                "correlationId": "stw-test-chain",
                "cause": format!("approval/decision/{v1}/{environment}"),
                "decision": "Approved",
                "approver": "ana.lima@acme.com",
                "channel": "link",
                "decidedAt": chrono::Utc::now().to_rfc3339(),
            }
        })
    };
    // The first environment's decision is the registry's Approved event's job.
    let first = deploy::handle(&s.deploy, decided("staging")).await.unwrap();
    assert!(matches!(first, Outcome::Ignored { .. }), "{first:?}");
    let promoted = deploy::handle(&s.deploy, decided("prod")).await.unwrap();
    assert!(
        matches!(&promoted, Outcome::Started { environment, version: 1, action, .. } if environment == "prod" && action == "create"),
        "{promoted:?}"
    );
    let again = deploy::handle(&s.deploy, decided("prod")).await.unwrap();
    assert!(matches!(again, Outcome::AlreadyDone { .. }), "{again:?}");
}
