//! The retrain guard against the local twin: cooldown, daily cap and a run in
//! flight each hold a build back, every suppression lands in the ledger with
//! its reason, and `--force` passes.

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use start_build::{handle, Config, Context, Outcome};
use steward::build::BuildRequested;
use steward::ledger::{Ledger, LineageRecord, Subject};
use steward_tests::EXAMPLE_POLICY;
use steward_twin::{s3_client, LocalOptions, LocalRun};

const FRAUD: &str = "payroll-fraud-train";
const DEADLINE: Duration = Duration::from_secs(20);

struct Env {
    run: LocalRun,
    ctx: Context,
}

/// `time_scale` sets how long a run takes: 30 simulated seconds.
async fn start(policy: &str, time_scale: f64) -> Env {
    let mut options = LocalOptions::new(policy);
    options.example_training = false;
    options.time_scale = time_scale;
    let run = LocalRun::start(options)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let spec = &run.stack.spec;
    let config = Config {
        ledger_table: spec.ledger_table.clone(),
        event_bus: spec.event_bus.clone(),
        policy_parameter: spec.policy_parameter.clone(),
        claim_lease: Duration::from_secs(120),
        notifications_topic: Some(run.stack.notifications_topic_arn.clone()),
    };
    let ctx = Context::connect(&run.sdk, &config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Env { run, ctx }
}

/// payroll-fraud's guard as given (cooldown, then max_per_day).
fn policy(cooldown: &str, max_per_day: u32) -> String {
    assert!(
        EXAMPLE_POLICY.contains("cooldown = \"2h\"") && EXAMPLE_POLICY.contains("max_per_day = 4"),
        "the example's guard changed shape"
    );
    EXAMPLE_POLICY
        .replace("cooldown = \"2h\"", &format!("cooldown = \"{cooldown}\""))
        .replace("max_per_day = 4", &format!("max_per_day = {max_per_day}"))
}

fn request(id: &str, force: bool) -> Value {
    BuildRequested {
        model_package_group: "payroll-fraud".into(),
        force,
        requested_by: Some("guard-test".into()),
    }
    .event(id, Utc::now())
}

impl Env {
    async fn executions(&self) -> Vec<String> {
        aws_sdk_sagemaker::Client::new(&self.run.sdk)
            .list_pipeline_executions()
            .pipeline_name(FRAUD)
            .send()
            .await
            .unwrap()
            .pipeline_execution_summaries
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| s.pipeline_execution_arn)
            .collect()
    }

    async fn started(&self, event: Value) -> String {
        match handle(&self.ctx, event).await.unwrap() {
            Outcome::Started(s) => s.pipeline_execution_arn,
            other => panic!("expected a build: {other:#?}"),
        }
    }

    async fn suppressed(&self, event: Value) -> String {
        match handle(&self.ctx, event).await.unwrap() {
            Outcome::Suppressed { reason, group, .. } => {
                assert_eq!(group, "payroll-fraud");
                reason
            }
            other => panic!("expected a suppression: {other:#?}"),
        }
    }

    async fn suppressions(&self) -> Vec<LineageRecord> {
        self.ctx
            .ledger
            .records(&Subject::Group("payroll-fraud".into()))
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.kind == "build_suppressed")
            .collect()
    }

    async fn wait_until_done(&self, arn: &str) {
        let sagemaker = aws_sdk_sagemaker::Client::new(&self.run.sdk);
        steward_tests::pipeline_run_ends(&sagemaker, arn, DEADLINE).await;
    }
}

#[tokio::test]
async fn a_second_build_within_the_cooldown_is_suppressed_and_recorded_once() {
    let env = start(&policy("2h", 4), 60.0).await;
    let first = env.started(request("r-1", false)).await;
    env.wait_until_done(&first).await;
    let reason = env.suppressed(request("r-2", false)).await;
    assert!(
        reason.contains("cooldown") && reason.contains("2h"),
        "{reason}"
    );
    assert!(reason.contains("next build is allowed from"), "{reason}");
    // A redelivery gets the same answer and writes nothing new.
    assert_eq!(env.suppressed(request("r-2", false)).await, reason);
    let records = env.suppressions().await;
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].detail["reason"], json!(reason));
    assert_eq!(records[0].detail["trigger"], "manual");
    assert_eq!(records[0].detail["cause"], "build/manual/payroll-fraud/r-2");
    assert_eq!(env.executions().await, vec![first]);
}

#[tokio::test]
async fn the_daily_cap_suppresses_the_build_over_it() {
    let env = start(&policy("0s", 2), 60.0).await;
    for id in ["c-1", "c-2"] {
        let arn = env.started(request(id, false)).await;
        env.wait_until_done(&arn).await;
    }
    let reason = env.suppressed(request("c-3", false)).await;
    assert!(
        reason.contains("daily cap") && reason.contains("2 per day"),
        "{reason}"
    );
    assert!(
        reason.contains(&Utc::now().date_naive().to_string()),
        "{reason}"
    );
    let records = env.suppressions().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].detail["reason"], json!(reason));
    assert_eq!(env.executions().await.len(), 2);
}

#[tokio::test]
async fn no_second_run_while_one_executes_unless_forced_data_builds_included() {
    // 30 simulated seconds at 1/10 speed: the run stays in flight for the test.
    let env = start(&policy("0s", 10), 0.1).await;
    let running = env.started(request("f-1", false)).await;

    let reason = env.suppressed(request("f-2", false)).await;
    assert!(
        reason.contains("still executing") && reason.contains(&running),
        "{reason}"
    );

    // A data marker is guarded too.
    let marker = "payroll-fraud/transactions/2026-11-24/_SUCCESS";
    s3_client(&env.run.sdk)
        .put_object()
        .bucket("acme-ml-data")
        .key(marker)
        .body(Vec::new().into())
        .send()
        .await
        .unwrap();
    let events = env
        .run
        .stack
        .s3_events(Duration::from_secs(5))
        .await
        .unwrap();
    let event = events
        .into_iter()
        .find(|e| e["detail"]["object"]["key"] == marker)
        .expect("the marker's Object Created");
    let reason = env.suppressed(event).await;
    assert!(reason.contains("still executing"), "{reason}");
    let records = env.suppressions().await;
    assert_eq!(records.len(), 2, "{records:#?}");
    assert!(records.iter().any(|r| r.detail["trigger"] == "data"));

    // --force passes.
    let forced = env.started(request("f-3", true)).await;
    assert_ne!(forced, running);
    assert_eq!(env.executions().await.len(), 2);
}
