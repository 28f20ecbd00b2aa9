//! rollback against the twin: an alarm during a rollout is SageMaker's
//! rollback, verified and recorded; after the rollout Steward rolls back to
//! the last known good model itself; either way the bad package is rejected
//! with the alarm as reason and the stewards get mail, once, however often the
//! alarm flaps; an OK alarm or one no environment watches changes nothing.

mod deploy_support;

use std::time::Duration;

use aws_sdk_cloudwatch::types::StateValue;
use aws_sdk_sagemaker::types::ModelApprovalStatus;
use deploy_support::{detail_types, Stage, STAGING, STAGING_ALARM, STEWARD};
use rollback::{Outcome, RollbackError};
use serde_json::Value;
use steward_twin::twin::TwinClient;

async fn package_status(s: &Stage, arn: &str) -> (ModelApprovalStatus, String, Value) {
    let out = s
        .sagemaker()
        .describe_model_package()
        .model_package_name(arn)
        .send()
        .await
        .unwrap();
    let metadata = serde_json::to_value(
        out.customer_metadata_properties()
            .cloned()
            .unwrap_or_default(),
    )
    .unwrap();
    (
        out.model_approval_status().cloned().unwrap(),
        out.approval_description().unwrap_or_default().to_string(),
        metadata,
    )
}

async fn mail_to(s: &Stage, to: &str) -> Vec<Value> {
    let reply = TwinClient::new(s.run.endpoint()).get("mail").await.unwrap();
    reply["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m["to"] == to)
        .collect()
}

/// Deliver the alarm event as Lambda does: retried while the rollback
/// cannot be verified yet.
async fn deliver_alarm(s: &Stage, event: Value) -> Outcome {
    let start = std::time::Instant::now();
    loop {
        match rollback::handle(&s.rollback, event.clone()).await {
            Ok(outcome) => return outcome,
            Err(e @ RollbackError::NotYetVerified { .. }) => {
                assert!(start.elapsed() < Duration::from_secs(30), "{e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn an_alarm_mid_rollout_is_sagemakers_rollback_verified_rejected_and_mailed_once() {
    let s = Stage::start().await;
    let v1 = s.register().await;
    let v1_config = s.deploy_live(&v1).await;
    let v2 = s.register().await;
    deploy::handle(&s.deploy, s.approve(&v2).await)
        .await
        .unwrap();
    s.set_alarm(STAGING_ALARM, StateValue::Alarm).await;
    let alarm = s.alarm_event(STAGING_ALARM);

    let outcome = deliver_alarm(&s, alarm.clone()).await;
    assert_eq!(
        outcome,
        Outcome::AutoRollbackVerified {
            group: "payroll-fraud".into(),
            environment: "staging".into(),
            rejected: v2.clone(),
            live_config: Some(v1_config.clone()),
        }
    );
    let (status, description, metadata) = package_status(&s, &v2).await;
    assert_eq!(status, ModelApprovalStatus::Rejected);
    assert!(description.contains(STAGING_ALARM), "{description}");
    assert!(description.contains("staging"), "{description}");
    // Status, description and metadata went together: nothing was nulled.
    assert_eq!(metadata["steward:correlation-id"], "stw-test-chain");
    assert!(
        metadata["steward:rollback-cause"]
            .as_str()
            .unwrap()
            .contains(STAGING_ALARM),
        "{metadata}"
    );
    let mail = mail_to(&s, STEWARD).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0]["subject"].as_str().unwrap().contains("v2"));
    assert!(mail[0]["body"].as_str().unwrap().contains(STAGING_ALARM));

    // Redelivered, or the alarm fires again: handled once.
    let again = rollback::handle(&s.rollback, alarm).await.unwrap();
    assert!(matches!(again, Outcome::AlreadyHandled { .. }), "{again:?}");
    // The deploy function sees the same end from the endpoint's events.
    let start = std::time::Instant::now();
    while s.state("staging").await.rollout.is_some() {
        s.deliver_endpoint_events(STAGING).await;
        assert!(start.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let state = s.state("staging").await;
    assert_eq!(state.current.as_ref().unwrap().model_package_arn, v1);
    // Once deploy recorded the failure too, the same alarm is known to be about
    // that rollout: it never blames v1, which serves again.
    let recorded = deliver_alarm(&s, s.alarm_event(STAGING_ALARM)).await;
    assert!(
        matches!(&recorded, Outcome::Ignored { reason } if reason.contains("failed rollout of v2")),
        "{recorded:?}"
    );
    assert!(state.last_failure.as_ref().unwrap().rollback_recorded);
    assert_eq!(
        package_status(&s, &v1).await.0,
        ModelApprovalStatus::Approved
    );
    assert_eq!(mail_to(&s, STEWARD).await.len(), 1);
    let types = detail_types(&s.steward_events().await);
    for once in [
        "Rollback Started",
        "Rollback Completed",
        "Deployment Failed",
    ] {
        assert_eq!(
            types.iter().filter(|t| *t == once).count(),
            1,
            "{once}: {types:?}"
        );
    }
    assert!(s
        .steps("staging")
        .await
        .contains(&"rollback_completed".to_string()));
}

#[tokio::test]
async fn an_alarm_after_the_rollout_rolls_back_to_the_last_known_good_once_however_it_flaps() {
    let s = Stage::start().await;
    let v1 = s.register().await;
    let v1_config = s.deploy_live(&v1).await;
    s.tick_after_bake().await;
    let v2 = s.register().await;
    let v2_config = s.deploy_live(&v2).await;
    assert_eq!(
        s.state("staging")
            .await
            .last_known_good()
            .unwrap()
            .model_package_arn,
        v1
    );

    s.set_alarm(STAGING_ALARM, StateValue::Alarm).await;
    let outcome = deliver_alarm(&s, s.alarm_event(STAGING_ALARM)).await;
    assert_eq!(
        outcome,
        Outcome::RollbackStarted {
            group: "payroll-fraud".into(),
            environment: "staging".into(),
            rejected: v2.clone(),
            to: v1.clone(),
            to_endpoint_config: v1_config.clone(),
        }
    );
    // All at once, and without the firing alarm as a rollback alarm.
    let updating = s.describe(STAGING).await;
    let config = updating.last_deployment_config().unwrap();
    let routing = config
        .blue_green_update_policy()
        .unwrap()
        .traffic_routing_configuration()
        .unwrap();
    assert_eq!(routing.r#type().map(|t| t.as_str()), Some("ALL_AT_ONCE"));
    assert!(config.auto_rollback_configuration().is_none());

    // Verified by what is live: the deploy function records the completion.
    s.serving(STAGING, &v1_config).await;
    let start = std::time::Instant::now();
    while s.state("staging").await.rollout.is_some() {
        s.deliver_endpoint_events(STAGING).await;
        assert!(start.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let state = s.state("staging").await;
    assert_eq!(state.current.as_ref().unwrap().endpoint_config, v1_config);
    assert!(state.restored);
    assert!(state.rolled_back.contains(&v2));
    assert!(state
        .known_good
        .iter()
        .all(|r| r.endpoint_config != v2_config));
    let (status, description, _) = package_status(&s, &v2).await;
    assert_eq!(status, ModelApprovalStatus::Rejected);
    assert!(description.contains(STAGING_ALARM), "{description}");

    // The alarm flaps: OK, then ALARM again. No second rollback, no second mail.
    s.set_alarm(STAGING_ALARM, StateValue::Ok).await;
    let ok = rollback::handle(&s.rollback, s.alarm_event(STAGING_ALARM))
        .await
        .unwrap();
    assert!(matches!(ok, Outcome::Ignored { .. }), "{ok:?}");
    s.set_alarm(STAGING_ALARM, StateValue::Alarm).await;
    let flap = rollback::handle(&s.rollback, s.alarm_event(STAGING_ALARM))
        .await
        .unwrap();
    assert!(matches!(flap, Outcome::Ignored { .. }), "{flap:?}");
    assert_eq!(
        s.describe(STAGING).await.endpoint_config_name(),
        Some(v1_config.as_str())
    );
    assert_eq!(mail_to(&s, STEWARD).await.len(), 1);
    let types = detail_types(&s.steward_events().await);
    for once in ["Rollback Started", "Rollback Completed"] {
        assert_eq!(
            types.iter().filter(|t| *t == once).count(),
            1,
            "{once}: {types:?}"
        );
    }
    // v1 is not rolled back in turn: it was restored.
    let (v1_status, _, _) = package_status(&s, &v1).await;
    assert_eq!(v1_status, ModelApprovalStatus::Approved);
}

#[tokio::test]
async fn an_ok_alarm_or_an_unwatched_alarm_changes_nothing() {
    let s = Stage::start().await;
    let v1 = s.register().await;
    let v1_config = s.deploy_live(&v1).await;
    let steps = s.steps("staging").await;

    s.set_alarm(STAGING_ALARM, StateValue::Alarm).await;
    s.set_alarm(STAGING_ALARM, StateValue::Ok).await;
    let ok = rollback::handle(&s.rollback, s.alarm_event(STAGING_ALARM))
        .await
        .unwrap();
    assert!(matches!(ok, Outcome::Ignored { .. }), "{ok:?}");

    s.cloudwatch()
        .put_metric_alarm()
        .alarm_name("someone-elses-alarm")
        .namespace("AWS/Lambda")
        .metric_name("Errors")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(
            aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
        )
        .send()
        .await
        .unwrap();
    s.set_alarm("someone-elses-alarm", StateValue::Alarm).await;
    let unwatched = rollback::handle(&s.rollback, s.alarm_event("someone-elses-alarm"))
        .await
        .unwrap();
    assert_eq!(
        unwatched,
        Outcome::Ignored {
            reason: "no environment watches alarm someone-elses-alarm".into()
        }
    );
    assert_eq!(s.steps("staging").await, steps);
    assert_eq!(
        s.describe(STAGING).await.endpoint_config_name(),
        Some(v1_config.as_str())
    );
    let (status, _, _) = package_status(&s, &v1).await;
    assert_eq!(status, ModelApprovalStatus::Approved);
    assert!(mail_to(&s, STEWARD).await.is_empty());
    let malformed = rollback::handle(&s.rollback, serde_json::json!({"source": "aws.cloudwatch"}))
        .await
        .unwrap_err();
    assert_eq!(malformed.error_type(), "malformed_event");
}

#[tokio::test]
async fn an_operator_rolls_back_to_the_last_known_good_with_a_reason() {
    let s = Stage::start().await;
    let v1 = s.register().await;
    let v1_config = s.deploy_live(&v1).await;
    // Nothing known good yet: nothing to roll back to, the package is rejected.
    let lone = rollback::handler::by_operator(
        &s.rollback,
        "payroll-fraud",
        "staging",
        "raj",
        "wrong scores",
    )
    .await
    .unwrap();
    assert!(matches!(lone, Outcome::NoKnownGood { .. }), "{lone:?}");
    assert_eq!(
        package_status(&s, &v1).await.0,
        ModelApprovalStatus::Rejected
    );

    let s = Stage::start().await;
    let v1 = s.register().await;
    let v1_config_2 = s.deploy_live(&v1).await;
    assert_eq!(v1_config_2, v1_config, "names are deterministic");
    s.tick_after_bake().await;
    let v2 = s.register().await;
    s.deploy_live(&v2).await;
    let outcome = rollback::handler::by_operator(
        &s.rollback,
        "payroll-fraud",
        "staging",
        "raj",
        "scores drift on the new vendor field",
    )
    .await
    .unwrap();
    assert_eq!(
        outcome,
        Outcome::RollbackStarted {
            group: "payroll-fraud".into(),
            environment: "staging".into(),
            rejected: v2.clone(),
            to: v1.clone(),
            to_endpoint_config: v1_config.clone(),
        }
    );
    let (status, description, _) = package_status(&s, &v2).await;
    assert_eq!(status, ModelApprovalStatus::Rejected);
    assert!(
        description.contains("rolled back by operator:raj: scores drift"),
        "{description}"
    );
    s.serving(STAGING, &v1_config).await;
    let unknown = rollback::handler::by_operator(&s.rollback, "payroll-fraud", "qa", "raj", "x")
        .await
        .unwrap_err();
    assert_eq!(unknown.error_type(), "unknown_environment");
}

#[tokio::test]
async fn a_failed_deployment_reported_by_deploy_is_recorded_once_even_without_the_alarm() {
    let s = Stage::start().await;
    let v1 = s.register().await;
    let v1_config = s.deploy_live(&v1).await;
    let v2 = s.register().await;
    deploy::handle(&s.deploy, s.approve(&v2).await)
        .await
        .unwrap();
    // The alarm fires, but its delivery to rollback is lost (retries ran out).
    s.set_alarm(STAGING_ALARM, StateValue::Alarm).await;
    s.serving(STAGING, &v1_config).await;
    let start = std::time::Instant::now();
    while s.state("staging").await.rollout.is_some() {
        s.deliver_endpoint_events(STAGING).await;
        assert!(start.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = s
        .steward_events()
        .await
        .into_iter()
        .find(|e| e["detail-type"] == "Deployment Failed")
        .expect("deploy reported the failure");
    let outcome = rollback::handle(&s.rollback, failed.clone()).await.unwrap();
    assert_eq!(
        outcome,
        Outcome::AutoRollbackVerified {
            group: "payroll-fraud".into(),
            environment: "staging".into(),
            rejected: v2.clone(),
            live_config: Some(v1_config),
        }
    );
    let (status, description, _) = package_status(&s, &v2).await;
    assert_eq!(status, ModelApprovalStatus::Rejected);
    assert!(
        description.contains("the deployment failed"),
        "{description}"
    );
    assert!(description.contains(STAGING_ALARM), "{description}");
    // The report again, or the alarm's late delivery: nothing more.
    let again = rollback::handle(&s.rollback, failed).await.unwrap();
    assert!(matches!(again, Outcome::Ignored { .. }), "{again:?}");
    let late = rollback::handle(&s.rollback, s.alarm_event(STAGING_ALARM))
        .await
        .unwrap();
    assert!(matches!(late, Outcome::Ignored { .. }), "{late:?}");
    let (v1_status, _, _) = package_status(&s, &v1).await;
    assert_eq!(v1_status, ModelApprovalStatus::Approved, "v1 is not blamed");
    assert_eq!(mail_to(&s, STEWARD).await.len(), 1);
}
