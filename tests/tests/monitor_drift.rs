//! monitor-drift against the emulator: capture objects in S3 (SageMaker's
//! layout, plain and gzip), a baseline, schedule ticks. Shifted traffic is
//! found once per window and retrains once; steady traffic, an empty window and
//! a missing baseline are clear results without an event.

use std::io::Write;
use std::time::Duration;

use monitor_drift::{handle, Check, Config, Context, Outcome};
use serde_json::{json, Value};
use steward::ledger::{Ledger, Subject};
use steward_drift::Status;
use steward_tests::{Local, DELIVERY_WAIT, EXAMPLE_POLICY};

const CAPTURE_BUCKET: &str = "acme-ml-capture";
const ARTIFACTS_BUCKET: &str = "acme-ml-artifacts";
const BASELINE_KEY: &str = "payroll-fraud/baseline.json";
const ENDPOINT: &str = "payroll-fraud-prod";

/// amount: shares .3 / .4 / .3 around 100 and 1000; channel: half web, half branch.
const BASELINE: &str = r#"{
  "format": "steward-baseline/1", "rows": 1000, "binning": "quantile",
  "features": [
    { "name": "amount", "type": "numerical", "missing": 0,
      "edges": [100.0, 1000.0], "counts": [300, 400, 300] },
    { "name": "channel", "type": "categorical", "missing": 0,
      "categories": [ { "value": "web", "count": 500 }, { "value": "branch", "count": 500 } ] }
  ]
}"#;

async fn monitor(local: &Local) -> Context {
    let config = Config {
        ledger_table: local.stack.spec.ledger_table.clone(),
        event_bus: local.stack.spec.event_bus.clone(),
        policy_parameter: local.stack.spec.policy_parameter.clone(),
        claim_lease: Duration::from_secs(120),
    };
    Context::connect(&local.sdk, steward_twin::s3_client(&local.sdk), &config)
        .await
        .unwrap_or_else(|e| panic!("monitor-drift could not start: {e}"))
}

async fn create_bucket(local: &Local, bucket: &str) {
    local
        .s3()
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateBucket {bucket}: {e:?}"));
}

fn tick(time: &str) -> Value {
    json!({
        "version": "0",
        "id": format!("tick-{time}"),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time,
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/steward-drift-check"],
        "detail": {}
    })
}

/// One capture line: a CSV request `amount,channel` as SageMaker records it.
fn capture_line(amount: f64, channel: &str) -> String {
    json!({
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv", "mode": "INPUT",
                "data": format!("{amount},{channel}"), "encoding": "CSV"
            },
            "endpointOutput": {
                "observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                "data": "0.12", "encoding": "CSV"
            }
        },
        "eventMetadata": { "eventId": "e", "inferenceTime": "2026-11-24T03:30:00Z" },
        "eventVersion": "0"
    })
    .to_string()
}

/// Traffic shaped like the baseline: 200 requests.
fn steady() -> String {
    let mut lines = Vec::new();
    for i in 0..200 {
        let amount = match i % 10 {
            0..=2 => 50.0,
            3..=6 => 500.0,
            _ => 2_000.0,
        };
        lines.push(capture_line(
            amount,
            if i % 2 == 0 { "web" } else { "branch" },
        ));
    }
    lines.join("\n") + "\n"
}

/// Traffic that moved: large amounts, web only.
fn shifted() -> String {
    (0..200)
        .map(|_| capture_line(5_000.0, "web"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn gzip(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

fn capture_key(hour_path: &str, file: &str) -> String {
    format!("payroll-fraud/prod/{ENDPOINT}/AllTraffic/{hour_path}/{file}")
}

fn only(outcome: &Outcome) -> &Check {
    assert_eq!(outcome.checks.len(), 1, "{outcome:#?}");
    &outcome.checks[0]
}

fn drift_events(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["detail-type"] == "Drift Detected")
        .collect()
}

#[tokio::test]
async fn shifted_traffic_is_found_once_per_window_and_retrains_once() {
    let local = Local::start(EXAMPLE_POLICY).await;
    create_bucket(&local, CAPTURE_BUCKET).await;
    create_bucket(&local, ARTIFACTS_BUCKET).await;
    local
        .put_object(ARTIFACTS_BUCKET, BASELINE_KEY, BASELINE.as_bytes())
        .await;
    // 03:00–04:00: steady traffic in two files, one of them gzip, plus a corrupt line.
    let steady = steady();
    let lines: Vec<&str> = steady.lines().collect();
    let (first, second) = (lines[..100].join("\n"), lines[100..].join("\n"));
    local
        .put_object(
            CAPTURE_BUCKET,
            &capture_key("2026/11/24/03", "10-00-000-a.jsonl"),
            format!("{first}\n{{\"truncated\n").as_bytes(),
        )
        .await;
    local
        .put_object(
            CAPTURE_BUCKET,
            &capture_key("2026/11/24/03", "40-00-000-b.jsonl"),
            &gzip(&second),
        )
        .await;
    // 04:00–05:00: shifted traffic.
    local
        .put_object(
            CAPTURE_BUCKET,
            &capture_key("2026/11/24/04", "15-00-000-c.jsonl"),
            shifted().as_bytes(),
        )
        .await;
    let ctx = monitor(&local).await;

    let steady_check = handle(&ctx, tick("2026-11-24T04:10:00Z"))
        .await
        .expect("checked");
    let check = only(&steady_check);
    assert_eq!(check.status, Status::NoDrift, "{check:#?}");
    assert_eq!(check.endpoint, ENDPOINT);
    assert_eq!(check.window, "2026-11-24T03:00:00Z/2026-11-24T04:00:00Z");
    assert_eq!(
        (check.objects, check.rows, check.corrupt_lines),
        (2, 200, 1)
    );
    assert_eq!(check.event_id, None);

    let drift_check = handle(&ctx, tick("2026-11-24T05:10:00Z"))
        .await
        .expect("checked");
    let check = only(&drift_check).clone();
    assert_eq!(check.status, Status::Drift, "{check:#?}");
    assert_eq!(check.drifted_features, ["amount", "channel"]);
    assert!(check.event_id.is_some());
    assert!(!check.repeated);

    // The same tick again (a redelivery): the stored check, nothing published.
    let again = handle(&ctx, tick("2026-11-24T05:10:30Z"))
        .await
        .expect("checked");
    let repeated = only(&again);
    assert!(repeated.repeated);
    assert_eq!(repeated.event_id, check.event_id);

    let events = local.stack.steward_events(DELIVERY_WAIT).await.unwrap();
    let drift = drift_events(&events);
    assert_eq!(drift.len(), 1, "{events:#?}");
    let detail = &drift[0]["detail"];
    assert_eq!(detail["endpointName"], ENDPOINT);
    assert_eq!(detail["modelPackageGroup"], "payroll-fraud");
    assert_eq!(detail["environment"], "prod");
    assert_eq!(detail["window"], check.window);
    assert_eq!(detail["driftedFeatures"], json!(["amount", "channel"]));
    assert_eq!(detail["policyVersion"], "ssm:/steward/policy:1");
    let amount = &detail["features"][0];
    assert_eq!(amount["name"], "amount");
    assert!(amount["scores"]["psi"].as_f64().unwrap() > 0.2, "{amount}");
    assert!(
        (amount["scores"]["ks"].as_f64().unwrap() - 0.7).abs() < 1e-9,
        "{amount}"
    );

    // Each check is in the group's history once.
    let history = ctx
        .ledger
        .records(&Subject::Group("payroll-fraud".into()))
        .await
        .unwrap();
    let checks: Vec<_> = history
        .iter()
        .filter(|r| r.kind == "drift_checked")
        .collect();
    assert_eq!(checks.len(), 2, "{history:#?}");
    assert_eq!(checks[1].detail["status"], "drift");

    // start-build turns the finding into one retrain, however often it arrives.
    let builds = local.start_build().await;
    let mut started = 0;
    for _ in 0..2 {
        if let start_build::Outcome::Started(_) = start_build::handle(&builds, drift[0].clone())
            .await
            .expect("start-build")
        {
            started += 1;
        }
    }
    assert_eq!(started, 1);
    assert_eq!(local.executions("payroll-fraud-train").await.len(), 1);
}

#[tokio::test]
async fn no_baseline_and_an_empty_window_are_clear_results() {
    let local = Local::start(EXAMPLE_POLICY).await;
    create_bucket(&local, CAPTURE_BUCKET).await;
    create_bucket(&local, ARTIFACTS_BUCKET).await;
    local
        .put_object(
            CAPTURE_BUCKET,
            &capture_key("2026/11/24/03", "10-00-000-a.jsonl"),
            shifted().as_bytes(),
        )
        .await;
    let ctx = monitor(&local).await;

    let outcome = handle(&ctx, tick("2026-11-24T04:10:00Z"))
        .await
        .expect("checked");
    let check = only(&outcome);
    assert_eq!(check.status, Status::NoBaseline);
    assert!(check.reason.contains(BASELINE_KEY), "{}", check.reason);

    local
        .put_object(ARTIFACTS_BUCKET, BASELINE_KEY, BASELINE.as_bytes())
        .await;
    let outcome = handle(&ctx, tick("2026-11-24T06:10:00Z"))
        .await
        .expect("checked");
    let check = only(&outcome);
    assert_eq!(check.status, Status::EmptyWindow);
    assert_eq!((check.objects, check.rows), (0, 0));

    let events = local.stack.steward_events(DELIVERY_WAIT).await.unwrap();
    assert!(drift_events(&events).is_empty(), "{events:#?}");

    // Not a schedule tick: a typed error, nothing checked.
    let wrong = json!({"version": "0", "id": "x", "detail-type": "Object Created",
        "source": "aws.s3", "time": "2026-11-24T04:00:00Z", "detail": {}});
    let err = handle(&ctx, wrong).await.unwrap_err();
    assert_eq!(err.error_type(), "unsupported_event");
}
