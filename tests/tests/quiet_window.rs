//! Quiet-window data mode against the emulator: real PutObjects, the real
//! `Object Created` events moto emits, delivered to start-build (out of order,
//! repeated, concurrently); the schedule tick builds each quiet period once.

use chrono::{DateTime, Duration as TimeDelta, SecondsFormat, Utc};
use serde_json::{json, Value};
use start_build::{handle, Outcome};
use steward::ledger::{Ledger, Subject};
use steward_tests::{Local, DELIVERY_WAIT, EXAMPLE_POLICY};

const BUCKET: &str = "acme-ml-data";
const PIPELINE: &str = "attrition-train";
const PREFIX: &str = "attrition/snapshots/";
/// examples/steward.toml: `debounce = { quiet_window = "30m" }` for attrition.
const WINDOW: TimeDelta = TimeDelta::minutes(30);

/// The example policy without calendar schedules, so a tick builds only what
/// the quiet window decides, whatever time of day the test runs.
fn policy() -> String {
    assert!(EXAMPLE_POLICY.contains("debounce = { quiet_window = \"30m\" }"));
    EXAMPLE_POLICY
        .lines()
        .filter(|l| !l.starts_with("schedule ="))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tick(id: &str, at: DateTime<Utc>) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/steward-tick"],
        "detail": {}
    })
}

fn event_time(event: &Value) -> DateTime<Utc> {
    event["time"].as_str().unwrap().parse().unwrap()
}

/// Put `count` objects under the prefix; the `Object Created` events moto
/// emitted for them.
async fn burst(local: &Local, folder: &str, count: usize) -> Vec<Value> {
    for i in 0..count {
        let key = format!("{PREFIX}{folder}/part-{i:04}.csv");
        local.put_object(BUCKET, &key, b"tenure,left\n3,0\n").await;
    }
    let mut events = Vec::new();
    for _ in 0..10 {
        events.extend(local.stack.s3_events(DELIVERY_WAIT).await.unwrap());
        if events.len() >= count {
            break;
        }
    }
    assert_eq!(events.len(), count, "one Object Created per object");
    events
}

fn recorded(outcome: &Outcome) -> (&str, &str) {
    match outcome {
        Outcome::Debounced {
            recorded, period, ..
        } => (recorded.as_str(), period.as_str()),
        other => panic!("expected the object to be recorded, got {other:?}"),
    }
}

fn is_nothing(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Ignored { .. })
}

#[tokio::test]
async fn a_burst_of_200_objects_builds_once_after_the_quiet_window() {
    let local = Local::start(&policy()).await;
    let ctx = local.start_build().await;
    let mut events = burst(&local, "2026-11", 200).await;

    // The latest object by (event time, key) names the period's data version.
    let last = events
        .iter()
        .max_by_key(|e| {
            (
                event_time(e),
                e["detail"]["object"]["key"].as_str().unwrap(),
            )
        })
        .cloned()
        .unwrap();
    let last_at = event_time(&last);

    // Delivered out of order, in concurrent batches: one period is opened, and
    // every object is recorded in it.
    events.reverse();
    let mut outcomes = Vec::new();
    for batch in events.chunks(20) {
        for result in futures::future::join_all(batch.iter().map(|e| handle(&ctx, e.clone()))).await
        {
            outcomes.push(result.expect("handled"));
        }
    }
    let periods: std::collections::BTreeSet<&str> =
        outcomes.iter().map(|o| recorded(o).1).collect();
    assert_eq!(periods.len(), 1, "one quiet period: {periods:?}");
    let opened = outcomes
        .iter()
        .filter(|o| recorded(o).0 == "opened")
        .count();
    assert_eq!(opened, 1, "the first recorded object opens the period");
    assert!(local.executions(PIPELINE).await.is_empty());

    // A redelivered object changes nothing.
    let again = handle(&ctx, last.clone()).await.unwrap();
    assert_eq!(recorded(&again).0, "covered");

    // Before the window: nothing.
    let early = handle(
        &ctx,
        tick("t-early", last_at + WINDOW - TimeDelta::seconds(1)),
    )
    .await
    .unwrap();
    assert!(is_nothing(&early), "{early:?}");
    assert!(local.executions(PIPELINE).await.is_empty());

    // After it: exactly one build, of the prefix, versioned by the last object.
    let due = tick("t-due", last_at + WINDOW);
    let built = handle(&ctx, due.clone()).await.unwrap();
    let Outcome::Started(started) = &built else {
        panic!("expected one build, got {built:?}");
    };
    assert_eq!(started.group, "attrition");
    let executions = local.executions(PIPELINE).await;
    assert_eq!(executions, vec![started.pipeline_execution_arn.clone()]);
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
    let last_key = last["detail"]["object"]["key"].as_str().unwrap();
    let last_version = last["detail"]["object"]["version-id"].as_str().unwrap();
    assert!(parameters.contains(&("InputDataUrl".into(), format!("s3://{BUCKET}/{PREFIX}"))));
    assert!(
        parameters.contains(&("DataVersion".into(), format!("{last_key}@{last_version}"))),
        "{parameters:?}"
    );
    assert!(parameters.contains(&("Trigger".into(), "data".into())));

    // A second tick, and the same tick redelivered: nothing more.
    let later = handle(
        &ctx,
        tick("t-later", last_at + WINDOW + TimeDelta::minutes(5)),
    )
    .await
    .unwrap();
    assert!(is_nothing(&later), "{later:?}");
    let redelivered = handle(&ctx, due).await.unwrap();
    assert!(is_nothing(&redelivered), "{redelivered:?}");
    assert_eq!(local.executions(PIPELINE).await.len(), 1);
    let builds: Vec<_> = ctx
        .ledger
        .records(&Subject::Group("attrition".into()))
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "build_started")
        .collect();
    assert_eq!(builds.len(), 1, "{builds:#?}");
    assert_eq!(builds[0].detail["data"]["markerKey"], last_key);

    // A late delivery of the closed period's data changes nothing; a new
    // object opens a new period.
    let late = handle(&ctx, events[0].clone()).await.unwrap();
    assert_eq!(recorded(&late).0, "covered");
    let next = burst(&local, "2026-12", 1).await;
    let fresh = handle(&ctx, next[0].clone()).await.unwrap();
    assert_eq!(recorded(&fresh).0, "opened");
    assert_ne!(recorded(&fresh).1, recorded(&again).1);
}

#[tokio::test]
async fn concurrent_ticks_build_a_quiet_period_once() {
    let local = Local::start(&policy()).await;
    let ctx = local.start_build().await;
    let events = burst(&local, "2026-11", 20).await;
    for event in &events {
        handle(&ctx, event.clone()).await.unwrap();
    }
    let last_at = events.iter().map(event_time).max().unwrap();
    let ticks = (0..10).map(|i| {
        let at = last_at + WINDOW + TimeDelta::seconds(i);
        handle(&ctx, tick(&format!("t-{i}"), at))
    });
    let outcomes: Vec<Outcome> = futures::future::join_all(ticks)
        .await
        .into_iter()
        .map(|r| r.expect("every tick succeeds"))
        .collect();
    let started = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Started(_)))
        .count();
    assert_eq!(started, 1, "{outcomes:#?}");
    assert!(
        outcomes.iter().all(
            |o| matches!(o, Outcome::Started(_) | Outcome::AlreadyStarted(_)) || is_nothing(o)
        ),
        "{outcomes:#?}"
    );
    assert_eq!(local.executions(PIPELINE).await.len(), 1);
}
