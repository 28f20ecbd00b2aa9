//! Pipeline outcomes against the twin: a build whose pipeline step fails is
//! recorded in the execution's lineage, and the group's stewards get one mail
//! each with the execution ARN and SageMaker's failure reason, however often
//! the status change is delivered.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use start_build::{handle, Config, Context, Outcome};
use steward::build::outcome::STATUS_CHANGED;
use steward::build::BuildRequested;
use steward::events::sagemaker::PipelineExecutionStatusChange;
use steward::events::AwsDetail;
use steward::ledger::{Ledger, Subject};
use steward_tests::{pipeline_run_ends, EXAMPLE_POLICY};
use steward_twin::twin::TwinClient;
use steward_twin::{local_sdk_config, Emulator, Stack, StackSpec, Twin, TwinConfig};

const REASON: &str = "no rows under s3://acme-ml-data/payroll-fraud/transactions/empty/";
const DEADLINE: Duration = Duration::from_secs(20);

struct Env {
    _moto: Emulator,
    twin: Twin,
    ctx: Context,
    sagemaker: aws_sdk_sagemaker::Client,
}

/// The twin runs payroll-fraud's pipeline as a step that fails with REASON;
/// attrition's pipeline has no step and succeeds.
async fn start() -> Env {
    let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let mut config = TwinConfig::new(moto.endpoint());
    config.pipeline_steps = HashMap::from([(
        "payroll-fraud-train".to_string(),
        vec![
            "sh".into(),
            "-c".into(),
            format!("echo 'loading' >&2; echo '{REASON}' >&2; exit 2"),
        ],
    )]);
    let twin = Twin::start(config).await.unwrap();
    let sdk = local_sdk_config(&twin.endpoint()).await;
    let stack = Stack::provision(&sdk, StackSpec::new(EXAMPLE_POLICY))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let config = Config {
        ledger_table: stack.spec.ledger_table.clone(),
        event_bus: stack.spec.event_bus.clone(),
        policy_parameter: stack.spec.policy_parameter.clone(),
        claim_lease: Duration::from_secs(120),
        notifications_topic: Some(stack.notifications_topic_arn.clone()),
    };
    let ctx = Context::connect(&sdk, &config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Env {
        _moto: moto,
        twin,
        ctx,
        sagemaker: aws_sdk_sagemaker::Client::new(&sdk),
    }
}

impl Env {
    async fn build(&self, group: &str, id: &str) -> String {
        let request = BuildRequested {
            model_package_group: group.into(),
            force: false,
            requested_by: Some("outcome-test".into()),
        };
        match handle(&self.ctx, request.event(id, chrono::Utc::now()))
            .await
            .unwrap()
        {
            Outcome::Started(s) => s.pipeline_execution_arn,
            other => panic!("expected a build, got {other:?}"),
        }
    }

    /// The status change events the twin emitted for `arn`, in the envelope
    /// EventBridge delivers them in (the twin lists source, detail-type,
    /// resources, time and detail; the id names the status change).
    async fn status_events(&self, arn: &str) -> Vec<Value> {
        let reply = TwinClient::new(self.twin.endpoint())
            .get("events")
            .await
            .unwrap();
        reply["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["detail-type"] == PipelineExecutionStatusChange::DETAIL_TYPE)
            .filter(|e| e["detail"]["pipelineExecutionArn"] == arn)
            .map(|e| {
                let status = e["detail"]["currentPipelineExecutionStatus"].clone();
                serde_json::json!({
                    "version": "0",
                    "id": format!("evt-{}-{}", status.as_str().unwrap_or("?"), arn.rsplit('/').next().unwrap_or(arn)),
                    "detail-type": e["detail-type"],
                    "source": e["source"],
                    "account": "123456789012",
                    "time": e["time"],
                    "region": "us-east-1",
                    "resources": e["resources"],
                    "detail": e["detail"],
                })
            })
            .collect()
    }

    async fn mail(&self) -> Vec<Value> {
        let reply = TwinClient::new(self.twin.endpoint())
            .get("mail")
            .await
            .unwrap();
        reply["messages"].as_array().cloned().unwrap_or_default()
    }
}

#[tokio::test]
async fn a_failed_run_is_recorded_and_mails_each_steward_once() {
    let env = start().await;
    let arn = env.build("payroll-fraud", "req-1").await;
    assert_eq!(
        pipeline_run_ends(&env.sagemaker, &arn, DEADLINE).await,
        "Failed"
    );
    let events = env.status_events(&arn).await;
    assert_eq!(events.len(), 2, "Executing, then Failed: {events:#?}");

    // Each status change lands once in the execution's lineage, however often
    // delivered; the failure is mailed once, concurrent redeliveries included.
    let mut outcomes = Vec::new();
    for event in &events {
        outcomes.push(handle(&env.ctx, event.clone()).await.unwrap());
    }
    let failed = events[1].clone();
    let again = futures::future::join_all((0..5).map(|_| handle(&env.ctx, failed.clone()))).await;
    for outcome in again {
        match outcome.unwrap() {
            Outcome::StatusRecorded { notified, .. } => {
                assert!(notified.is_empty(), "mailed again: {notified:?}")
            }
            other => panic!("{other:?}"),
        }
    }
    let Outcome::StatusRecorded {
        status,
        failure_reason,
        notified,
        ..
    } = &outcomes[1]
    else {
        panic!("{:?}", outcomes[1]);
    };
    assert_eq!(status, "Failed");
    assert_eq!(failure_reason.as_deref(), Some(REASON));
    assert_eq!(notified, &vec!["ml-fraud@acme.com".to_string()]);

    let records = env
        .ctx
        .ledger
        .records(&Subject::Execution(arn.clone()))
        .await
        .unwrap();
    let changes: Vec<_> = records
        .iter()
        .filter(|r| r.kind == STATUS_CHANGED)
        .collect();
    assert_eq!(changes.len(), 2, "{records:#?}");
    assert_eq!(changes[1].detail["status"], "Failed");
    assert_eq!(changes[1].detail["failureReason"], REASON);

    let mail: Vec<Value> = env
        .mail()
        .await
        .into_iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .unwrap_or_default()
                .contains("build failed")
        })
        .collect();
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert_eq!(mail[0]["to"], "ml-fraud@acme.com");
    let body = mail[0]["body"].as_str().unwrap();
    assert!(body.contains(&arn), "{body}");
    assert!(body.contains(REASON), "{body}");
    assert!(body.contains("Trigger:        manual"), "{body}");
}

#[tokio::test]
async fn a_successful_run_is_recorded_and_mails_no_one() {
    let env = start().await;
    let arn = env.build("attrition", "req-2").await;
    assert_eq!(
        pipeline_run_ends(&env.sagemaker, &arn, DEADLINE).await,
        "Succeeded"
    );
    for event in env.status_events(&arn).await {
        match handle(&env.ctx, event).await.unwrap() {
            Outcome::StatusRecorded { notified, .. } => assert!(notified.is_empty()),
            other => panic!("{other:?}"),
        }
    }
    let records = env
        .ctx
        .ledger
        .records(&Subject::Execution(arn))
        .await
        .unwrap();
    assert_eq!(
        records.iter().filter(|r| r.kind == STATUS_CHANGED).count(),
        2
    );
    assert!(env.mail().await.is_empty());

    // A pipeline no group runs is not Steward's business.
    let mut foreign = serde_json::from_str::<Value>(include_str!(
        "../../events/pipeline-execution-succeeded.json"
    ))
    .unwrap();
    foreign["detail"]["pipelineArn"] = "arn:aws:sagemaker:us-east-1:1:pipeline/not-ours".into();
    foreign["detail"]["pipelineExecutionArn"] =
        "arn:aws:sagemaker:us-east-1:1:pipeline/not-ours/execution/x".into();
    assert!(matches!(
        handle(&env.ctx, foreign).await.unwrap(),
        Outcome::Ignored { .. }
    ));
}
