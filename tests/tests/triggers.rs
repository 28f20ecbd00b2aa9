//! Every way a build starts, against the local twin: a CodeCommit push, a
//! verified Git Push, drift, an operator's request and the schedule tick each
//! start exactly one execution with the right parameters and one lineage
//! record, however often the event is delivered.

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use start_build::{handle, Config, Context, Outcome, StartBuildError};
use steward::build::BuildRequested;
use steward::ledger::{Ledger, Subject};
use steward_tests::{DELIVERY_WAIT, EXAMPLE_POLICY};
use steward_twin::{LocalOptions, LocalRun};

const FRAUD: &str = "payroll-fraud-train";
const ATTRITION: &str = "attrition-train";

struct Env {
    run: LocalRun,
    ctx: Context,
}

async fn start(policy: &str) -> Env {
    let mut options = LocalOptions::new(policy);
    options.example_training = false;
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

impl Env {
    fn sagemaker(&self) -> aws_sdk_sagemaker::Client {
        aws_sdk_sagemaker::Client::new(&self.run.sdk)
    }

    async fn executions(&self, pipeline: &str) -> Vec<String> {
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

    async fn parameters(&self, arn: &str) -> Vec<(String, String)> {
        let mut parameters: Vec<(String, String)> = self
            .sagemaker()
            .list_pipeline_parameters_for_execution()
            .pipeline_execution_arn(arn)
            .send()
            .await
            .expect("ListPipelineParametersForExecution")
            .pipeline_parameters
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.name.unwrap_or_default(), p.value.unwrap_or_default()))
            .collect();
        parameters.sort();
        parameters
    }

    /// The build's own lineage: exactly one record, `build_started`.
    async fn one_lineage_record(&self, arn: &str) -> Value {
        let records = self
            .ctx
            .ledger
            .records(&Subject::Execution(arn.to_string()))
            .await
            .unwrap();
        assert_eq!(records.len(), 1, "{records:#?}");
        assert_eq!(records[0].kind, "build_started");
        records[0].detail.clone()
    }

    /// Delivers `event` 20 times in a row and 20 times at once; exactly one
    /// delivery starts the build.
    async fn deliver_duplicates(&self, event: &Value) -> String {
        let first = handle(&self.ctx, event.clone()).await.expect("handled");
        let Outcome::Started(started) = first else {
            panic!("the first delivery starts the build: {first:#?}")
        };
        for _ in 0..19 {
            let again = handle(&self.ctx, event.clone()).await.expect("handled");
            assert!(
                matches!(&again, Outcome::AlreadyStarted(s) if s.pipeline_execution_arn == started.pipeline_execution_arn),
                "{again:#?}"
            );
        }
        let concurrent =
            futures::future::join_all((0..20).map(|_| handle(&self.ctx, event.clone()))).await;
        for result in concurrent {
            assert!(
                matches!(result, Ok(Outcome::AlreadyStarted(_))),
                "{result:#?}"
            );
        }
        started.pipeline_execution_arn
    }
}

fn parameter<'a>(parameters: &'a [(String, String)], name: &str) -> &'a str {
    parameters
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("parameter {name} missing: {parameters:?}"))
}

fn steward_event(detail_type: &str, id: &str, time: &str, detail: Value) -> Value {
    json!({
        "version": "0", "id": id, "detail-type": detail_type, "source": "steward",
        "account": "123456789012", "time": time, "region": "us-east-1",
        "resources": [], "detail": detail
    })
}

#[tokio::test]
async fn a_codecommit_push_starts_one_build_with_its_commit_however_often_delivered() {
    // The sample's repository is payroll-fraud's.
    let policy = EXAMPLE_POLICY.replacen("\"acme/ml-models\"", "\"payroll-fraud-model\"", 1);
    let env = start(&policy).await;
    let event: Value =
        serde_json::from_str(include_str!("../../events/codecommit-push.json")).unwrap();
    let arn = env.deliver_duplicates(&event).await;
    assert_eq!(env.executions(FRAUD).await, vec![arn.clone()]);
    assert!(env.executions(ATTRITION).await.is_empty());
    let commit = "8e1f3c5a7b9d2e4f6a8c0b1d3e5f7a9c2b4d6e8f";
    let parameters = env.parameters(&arn).await;
    assert_eq!(parameter(&parameters, "GitCommit"), commit);
    assert_eq!(parameter(&parameters, "Trigger"), "git-push");
    let lineage = env.one_lineage_record(&arn).await;
    assert_eq!(lineage["commit"], commit);
    assert_eq!(lineage["trigger"], "git-push");
    let announced = env.run.stack.steward_events(DELIVERY_WAIT).await.unwrap();
    assert_eq!(announced.len(), 1, "{announced:#?}");
    assert_eq!(announced[0]["detail-type"], "Build Started");
    assert_eq!(announced[0]["detail"]["commit"], commit);
}

#[tokio::test]
async fn a_git_push_rebuilds_the_group_whose_paths_changed_and_a_readme_nothing() {
    let env = start(EXAMPLE_POLICY).await;
    let push = |id: &str, commit: &str, paths: &[&str]| {
        steward_event(
            "Git Push",
            id,
            "2026-11-24T10:00:00Z",
            json!({"repository": "acme/ml-models", "branch": "main", "commit": commit,
                   "changedPaths": paths, "provider": "github", "deliveryId": id}),
        )
    };
    let readme = push("d-readme", "aaaa111", &["README.md", "docs/how.md"]);
    let outcome = handle(&env.ctx, readme).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Ignored { reason } if reason.contains("changed no path")),
        "{outcome:#?}"
    );
    assert!(env.executions(FRAUD).await.is_empty());
    assert!(env.executions(ATTRITION).await.is_empty());

    let code = push(
        "d-code",
        "bbbb222",
        &["README.md", "models/payroll-fraud/train.py"],
    );
    let arn = env.deliver_duplicates(&code).await;
    assert_eq!(env.executions(FRAUD).await, vec![arn.clone()]);
    assert!(
        env.executions(ATTRITION).await.is_empty(),
        "attrition's paths did not change"
    );
    let parameters = env.parameters(&arn).await;
    assert_eq!(parameter(&parameters, "GitCommit"), "bbbb222");
    assert_eq!(parameter(&parameters, "Trigger"), "git-push");
    env.one_lineage_record(&arn).await;
}

#[tokio::test]
async fn drift_on_an_endpoint_retrains_the_group_serving_there_once() {
    let env = start(EXAMPLE_POLICY).await;
    let event: Value =
        serde_json::from_str(include_str!("../../events/drift-detected.json")).unwrap();
    let arn = env.deliver_duplicates(&event).await;
    assert_eq!(env.executions(FRAUD).await, vec![arn.clone()]);
    assert_eq!(parameter(&env.parameters(&arn).await, "Trigger"), "drift");
    let lineage = env.one_lineage_record(&arn).await;
    assert!(
        lineage["cause"]
            .as_str()
            .unwrap()
            .starts_with("build/drift/payroll-fraud/payroll-fraud-prod@"),
        "{lineage}"
    );
    // Drift on an endpoint nobody serves builds nothing.
    let mut elsewhere = event.clone();
    elsewhere["id"] = json!("other");
    elsewhere["detail"] = json!({"endpointName": "unknown-endpoint"});
    let outcome = handle(&env.ctx, elsewhere).await.unwrap();
    assert!(matches!(outcome, Outcome::Ignored { .. }), "{outcome:#?}");
}

#[tokio::test]
async fn a_build_request_starts_one_manual_build() {
    let env = start(EXAMPLE_POLICY).await;
    let request = BuildRequested {
        model_package_group: "attrition".into(),
        force: false,
        requested_by: Some("dana".into()),
    };
    let event = request.event("cli-test-1", Utc::now());
    let arn = env.deliver_duplicates(&event).await;
    assert_eq!(env.executions(ATTRITION).await, vec![arn.clone()]);
    assert_eq!(parameter(&env.parameters(&arn).await, "Trigger"), "manual");
    env.one_lineage_record(&arn).await;
    // The sample parses and names a group the policy has.
    let sample: Value =
        serde_json::from_str(include_str!("../../events/build-requested.json")).unwrap();
    let unknown = BuildRequested {
        model_package_group: "no-such-group".into(),
        ..serde_json::from_value(sample["detail"].clone()).unwrap()
    };
    let outcome = handle(&env.ctx, unknown.event("cli-test-2", Utc::now()))
        .await
        .unwrap();
    assert!(
        matches!(&outcome, Outcome::Ignored { reason } if reason.contains("no-such-group")),
        "{outcome:#?}"
    );
}

fn tick(time: &str) -> Value {
    let mut event: Value =
        serde_json::from_str(include_str!("../../events/scheduled.json")).unwrap();
    event["time"] = json!(time);
    event["id"] = json!(format!("tick-{time}"));
    event
}

async fn wait_until_done(env: &Env, arn: &str) {
    steward_tests::pipeline_run_ends(&env.sagemaker(), arn, Duration::from_secs(20)).await;
}

#[tokio::test]
async fn the_schedule_starts_one_build_per_due_time_even_after_missed_ticks() {
    let env = start(EXAMPLE_POLICY).await;
    // attrition: cron(0 6 ? * MON *); 2026-11-23 is a Monday.
    let before = handle(&env.ctx, tick("2026-11-23T05:55:00Z"))
        .await
        .unwrap();
    assert!(matches!(before, Outcome::Ignored { .. }), "{before:#?}");
    let due = tick("2026-11-23T06:00:00Z");
    let Outcome::Started(first) = handle(&env.ctx, due.clone()).await.unwrap() else {
        panic!("the due tick starts the build")
    };
    let arn = first.pipeline_execution_arn;
    // Redelivered ticks find the due time handled (in the ledger) or claimed.
    for _ in 0..19 {
        let again = handle(&env.ctx, due.clone()).await.unwrap();
        assert!(matches!(again, Outcome::Ignored { .. }), "{again:#?}");
    }
    let concurrent =
        futures::future::join_all((0..20).map(|_| handle(&env.ctx, due.clone()))).await;
    assert!(
        concurrent
            .iter()
            .all(|r| matches!(r, Ok(Outcome::Ignored { .. }))),
        "{concurrent:#?}"
    );
    assert_eq!(env.executions(ATTRITION).await, vec![arn.clone()]);
    assert_eq!(
        parameter(&env.parameters(&arn).await, "Trigger"),
        "schedule"
    );
    let lineage = env.one_lineage_record(&arn).await;
    assert_eq!(
        lineage["cause"],
        "build/schedule/attrition/2026-11-23T06:00:00Z"
    );
    // The next tick finds the due time handled.
    let after = handle(&env.ctx, tick("2026-11-23T06:05:00Z"))
        .await
        .unwrap();
    assert!(matches!(after, Outcome::Ignored { .. }), "{after:#?}");
    wait_until_done(&env, &arn).await;

    // Three weeks without ticks: one build, for the latest due time only.
    let late = handle(&env.ctx, tick("2026-12-14T09:30:00Z"))
        .await
        .unwrap();
    let Outcome::Started(late) = late else {
        panic!("one build after the gap: {late:#?}")
    };
    assert_eq!(late.cause, "build/schedule/attrition/2026-12-14T06:00:00Z");
    for minutes in [35, 40, 45] {
        let time = format!("2026-12-14T09:{minutes}:00Z");
        let outcome = handle(&env.ctx, tick(&time)).await.unwrap();
        assert!(matches!(outcome, Outcome::Ignored { .. }), "{outcome:#?}");
    }
    assert_eq!(env.executions(ATTRITION).await.len(), 2);
    assert!(
        env.executions(FRAUD).await.is_empty(),
        "payroll-fraud has no schedule"
    );
}

#[tokio::test]
async fn events_start_build_does_not_handle_are_typed_errors() {
    let env = start(EXAMPLE_POLICY).await;
    let event = steward_event("Gate Evaluated", "x", "2026-11-24T10:00:00Z", json!({}));
    let err = handle(&env.ctx, event).await.unwrap_err();
    assert!(matches!(err, StartBuildError::Unsupported { .. }), "{err}");
    let bad = steward_event(
        "Git Push",
        "y",
        "2026-11-24T10:00:00Z",
        json!({"repository": 1}),
    );
    let err = handle(&env.ctx, bad).await.unwrap_err();
    assert_eq!(err.error_type(), "malformed_event", "{err}");
}
