//! start-build against the emulator: new data in S3 starts exactly one pipeline
//! execution, with its data version, recorded and announced.

use std::time::Duration;

use serde_json::{json, Value};
use start_build::{handle, Outcome, StartBuildError};
use steward::ledger::{Ledger, Subject};
use steward_tests::{Local, DELIVERY_WAIT, EXAMPLE_POLICY};

const BUCKET: &str = "acme-ml-data";
const PIPELINE: &str = "payroll-fraud-train";
const DAY: &str = "payroll-fraud/transactions/2026-11-23/";

fn started(outcome: &Outcome) -> &start_build::handler::Started {
    match outcome {
        Outcome::Started(s) | Outcome::AlreadyStarted(s) => s,
        Outcome::Ignored { reason } => panic!("expected a build, got ignored: {reason}"),
        other => panic!("expected a build, got {other:?}"),
    }
}

#[tokio::test]
async fn a_marker_starts_one_build_with_its_data_version_lineage_and_event() {
    let local = Local::start(EXAMPLE_POLICY).await;
    let ctx = local.start_build().await;
    let data_key = format!("{DAY}part-0000.csv");
    let marker_key = format!("{DAY}_SUCCESS");
    local
        .put_object(BUCKET, &data_key, b"amount,label\n1,0\n")
        .await;
    let marker_version = local.put_object(BUCKET, &marker_key, b"").await;
    assert!(!marker_version.is_empty(), "data buckets are versioned");

    // Both objects reach the function, as the rule would deliver them.
    let events = local.stack.s3_events(DELIVERY_WAIT).await.unwrap();
    assert_eq!(
        events.len(),
        2,
        "one Object Created per object: {events:#?}"
    );
    let mut outcomes = Vec::new();
    for event in events {
        outcomes.push(handle(&ctx, event).await.expect("handled"));
    }
    let builds: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Started(_)))
        .collect();
    assert_eq!(
        builds.len(),
        1,
        "only the marker starts a build: {outcomes:#?}"
    );
    assert!(outcomes.iter().any(|o| matches!(o,
        Outcome::Ignored { reason } if reason.contains("part-0000.csv") && reason.contains("_SUCCESS"))));
    let build = started(builds[0]);

    // Exactly one execution, with the data's location, version and trigger.
    let executions = local.executions(PIPELINE).await;
    assert_eq!(executions, vec![build.pipeline_execution_arn.clone()]);
    let parameters: Vec<(String, String)> = local
        .sagemaker()
        .list_pipeline_parameters_for_execution()
        .pipeline_execution_arn(&executions[0])
        .send()
        .await
        .unwrap()
        .pipeline_parameters
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.name.unwrap_or_default(), p.value.unwrap_or_default()))
        .collect();
    let parameter = |name: &str| {
        parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("parameter {name} missing: {parameters:?}"))
    };
    assert_eq!(parameter("InputDataUrl"), format!("s3://{BUCKET}/{DAY}"));
    assert_eq!(parameter("DataVersion"), marker_version);
    assert_eq!(parameter("Trigger"), "data");

    // One lineage record for the build, naming the data version and the policy.
    let records = ctx
        .ledger
        .records(&Subject::Execution(build.pipeline_execution_arn.clone()))
        .await
        .unwrap();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].kind, "build_started");
    assert_eq!(records[0].detail["data"]["versionId"], marker_version);
    assert_eq!(records[0].detail["data"]["markerKey"], marker_key);
    assert_eq!(records[0].detail["policyVersion"], "ssm:/steward/policy:1");
    let group_history = ctx
        .ledger
        .records(&Subject::Group("payroll-fraud".into()))
        .await
        .unwrap();
    assert_eq!(group_history.len(), 1);

    // One Build Started event on the steward bus, carrying the chain's ids.
    let announced = local.stack.steward_events(DELIVERY_WAIT).await.unwrap();
    assert_eq!(announced.len(), 1, "{announced:#?}");
    let event = &announced[0];
    assert_eq!(event["source"], "steward");
    assert_eq!(event["detail-type"], "Build Started");
    assert_eq!(
        event["detail"]["pipelineExecutionArn"],
        json!(build.pipeline_execution_arn)
    );
    assert_eq!(event["detail"]["modelPackageGroup"], "payroll-fraud");
    assert_eq!(
        event["detail"]["correlationId"],
        json!(build.correlation_id)
    );
    assert_eq!(event["detail"]["cause"], json!(build.cause));
    assert_eq!(
        event["detail"]["data"]["uri"],
        format!("s3://{BUCKET}/{DAY}")
    );
}

#[tokio::test]
async fn the_same_event_delivered_five_times_starts_one_build() {
    let local = Local::start(EXAMPLE_POLICY).await;
    let ctx = local.start_build().await;
    let marker_key = format!("{DAY}_SUCCESS");
    local.put_object(BUCKET, &marker_key, b"").await;
    let event = local.s3_event_for(&marker_key).await;

    let mut outcomes = Vec::new();
    for _ in 0..5 {
        outcomes.push(handle(&ctx, event.clone()).await.expect("handled"));
    }
    assert!(matches!(outcomes[0], Outcome::Started(_)), "{outcomes:#?}");
    let arn = &started(&outcomes[0]).pipeline_execution_arn;
    for outcome in &outcomes[1..] {
        assert!(
            matches!(outcome, Outcome::AlreadyStarted(s) if &s.pipeline_execution_arn == arn),
            "a redelivery must report the first build: {outcome:#?}"
        );
    }
    assert_eq!(local.executions(PIPELINE).await.len(), 1);
    let announced = local.stack.steward_events(DELIVERY_WAIT).await.unwrap();
    assert_eq!(announced.len(), 1, "one Build Started: {announced:#?}");
    let records = ctx
        .ledger
        .records(&Subject::Execution(arn.clone()))
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
}

#[tokio::test]
async fn five_concurrent_deliveries_start_one_build() {
    let local = Local::start(EXAMPLE_POLICY).await;
    let ctx = local.start_build().await;
    let marker_key = format!("{DAY}_SUCCESS");
    local.put_object(BUCKET, &marker_key, b"").await;
    let event = local.s3_event_for(&marker_key).await;

    let results = futures::future::join_all((0..5).map(|_| handle(&ctx, event.clone()))).await;
    let started_here = results
        .iter()
        .filter(|r| matches!(r, Ok(Outcome::Started(_))))
        .count();
    assert_eq!(started_here, 1, "{results:#?}");
    for result in &results {
        match result {
            Ok(Outcome::Started(_)) | Ok(Outcome::AlreadyStarted(_)) => {}
            // Lambda retries these; by then the claim is done.
            Err(StartBuildError::InProgress { .. }) => {}
            other => panic!("unexpected outcome of a concurrent delivery: {other:#?}"),
        }
    }
    assert_eq!(local.executions(PIPELINE).await.len(), 1);
    // A retry after the race sees the finished build.
    let retry = handle(&ctx, event).await.unwrap();
    assert!(matches!(retry, Outcome::AlreadyStarted(_)), "{retry:#?}");
    assert_eq!(local.executions(PIPELINE).await.len(), 1);
}

#[tokio::test]
async fn data_without_its_marker_or_outside_every_prefix_starts_nothing() {
    let local = Local::start(EXAMPLE_POLICY).await;
    let ctx = local.start_build().await;
    let data_key = format!("{DAY}part-0001.csv");
    let elsewhere = "scratch/notes/_SUCCESS";
    local.put_object(BUCKET, &data_key, b"amount,label\n").await;
    local.put_object(BUCKET, elsewhere, b"").await;
    let events = local.stack.s3_events(DELIVERY_WAIT).await.unwrap();
    assert_eq!(events.len(), 2);
    for event in events {
        let key = event["detail"]["object"]["key"]
            .as_str()
            .unwrap()
            .to_string();
        match handle(&ctx, event).await.unwrap() {
            Outcome::Ignored { reason } if key == data_key => {
                assert!(reason.contains("marker"), "{reason}")
            }
            Outcome::Ignored { reason } => {
                assert!(reason.contains("outside every watched prefix"), "{reason}")
            }
            other => panic!("{key} must start nothing: {other:#?}"),
        }
    }
    assert!(local.executions(PIPELINE).await.is_empty());
    assert_eq!(
        local.ledger_items().await,
        0,
        "nothing written to the ledger"
    );
    assert!(local
        .stack
        .steward_events(Duration::from_secs(1))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_malformed_event_is_a_typed_error_with_no_side_effect() {
    let local = Local::start(EXAMPLE_POLICY).await;
    let ctx = local.start_build().await;
    let marker_key = format!("{DAY}_SUCCESS");
    local.put_object(BUCKET, &marker_key, b"").await;
    let good = local.s3_event_for(&marker_key).await;

    let mut no_key = good.clone();
    no_key["detail"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("key");
    let mut wrong_type = good.clone();
    wrong_type["detail"]["bucket"] = json!("acme-ml-data");
    let not_an_event = json!({"hello": "world"});
    let mut unsupported = good.clone();
    unsupported["detail-type"] = json!("Object Deleted");

    for (bad, error_type) in [
        (no_key, "malformed_event"),
        (wrong_type, "malformed_event"),
        (not_an_event, "malformed_event"),
        (unsupported, "unsupported_event"),
    ] {
        let err = handle(&ctx, bad.clone()).await.unwrap_err();
        assert_eq!(err.error_type(), error_type, "{err} for {bad}");
    }
    let message = handle(&ctx, {
        let mut e = good.clone();
        e["detail"]["object"].as_object_mut().unwrap().remove("key");
        e
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("detail.object"),
        "the error names the field: {message}"
    );

    assert!(local.executions(PIPELINE).await.is_empty());
    assert_eq!(local.ledger_items().await, 0);
    assert!(local
        .stack
        .steward_events(Duration::from_secs(1))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_group_whose_pipeline_is_missing_fails_clearly_and_can_be_retried() {
    let local = Local::start(EXAMPLE_POLICY).await;
    let ctx = local.start_build().await;
    local
        .sagemaker()
        .delete_pipeline()
        .pipeline_name(PIPELINE)
        .client_request_token("steward-test-delete-pipeline-0001")
        .send()
        .await
        .unwrap();
    let marker_key = format!("{DAY}_SUCCESS");
    local.put_object(BUCKET, &marker_key, b"").await;
    let event = local.s3_event_for(&marker_key).await;

    let err = handle(&ctx, event.clone()).await.unwrap_err();
    assert_eq!(err.error_type(), "pipeline_not_found", "{err}");
    assert!(err.to_string().contains(PIPELINE), "{err}");
    assert!(err.to_string().contains("payroll-fraud"), "{err}");
    assert_eq!(local.ledger_items().await, 0, "the claim was released");
    assert!(local
        .stack
        .steward_events(Duration::from_secs(1))
        .await
        .unwrap()
        .is_empty());

    // Once the pipeline exists, the retried event starts the build.
    local
        .sagemaker()
        .create_pipeline()
        .pipeline_name(PIPELINE)
        .pipeline_definition(r#"{"Version":"2020-12-01","Parameters":[],"Steps":[]}"#)
        .role_arn("arn:aws:iam::123456789012:role/steward-local-pipeline")
        .client_request_token("steward-test-create-pipeline-0001")
        .send()
        .await
        .unwrap();
    let outcome = handle(&ctx, event).await.unwrap();
    assert!(matches!(outcome, Outcome::Started(_)), "{outcome:#?}");
    assert_eq!(local.executions(PIPELINE).await.len(), 1);
}

/// Why the ledger claim exists: the emulator (like a crashed-and-retried
/// attempt against any backend that forgets tokens) starts a second execution
/// for the same ClientRequestToken. If this ever fails, moto learned tokens.
#[tokio::test]
async fn the_emulator_ignores_client_request_tokens() {
    let local = Local::start(EXAMPLE_POLICY).await;
    for _ in 0..2 {
        local
            .sagemaker()
            .start_pipeline_execution()
            .pipeline_name(PIPELINE)
            .client_request_token("a".repeat(64))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(local.executions(PIPELINE).await.len(), 2);
}

#[tokio::test]
async fn the_sample_event_in_events_folder_is_handled() {
    let local = Local::start(EXAMPLE_POLICY).await;
    let ctx = local.start_build().await;
    let sample: Value =
        serde_json::from_str(include_str!("../../events/s3-object-created.json")).unwrap();
    let outcome = handle(&ctx, sample).await.unwrap();
    let build = started(&outcome);
    assert_eq!(build.group, "payroll-fraud");
    assert_eq!(
        local.executions(PIPELINE).await,
        vec![build.pipeline_execution_arn.clone()]
    );
}
