//! The demo's last chapter: prod's traffic drifts and the drift monitor finds
//! it. Two hours on, an hour of payments with shifted amounts reaches the prod
//! endpoint; the twin captures a sample of the requests to S3 as SageMaker
//! does; the schedule fires monitor-drift through the router; its check
//! (drifted features, scores) publishes `Drift Detected`, which the router
//! hands to start-build: one retrain, within the retrain guard.

use aws_sdk_sagemaker::types::{
    CaptureContentTypeHeader, CaptureMode, CaptureOption, DataCaptureConfig,
};
use chrono::{DateTime, DurationRound, TimeDelta, Timelike, Utc};
use serde_json::Value;
use steward::ledger::{Ledger, Subject};
use steward::policy::Group;
use steward_twin::LocalRun;

use super::demo_functions::{summary, Functions};
use super::demo_story::{field, Story};

const DATA: &str = include_str!("../../../../examples/data/transactions.csv");
/// The model the team served before Steward (`<group>-v0`), in the example
/// training step's model.json format: it scores the same four features.
const V0_MODEL: &str = r#"{"kind": "logistic-regression",
  "features": ["amount", "hour", "vendor_new", "bank_changed"],
  "weights": [1.1, -0.4, 1.2, 1.4], "bias": -2.2, "threshold": 0.7,
  "means": [2790.95, 13.39, 0.17, 0.11], "stds": [1634.38, 5.88, 0.38, 0.31]}"#;
/// Payments per request: a sample of requests is captured, and the monitor
/// needs `min_rows` rows in its window.
const ROWS_PER_REQUEST: usize = 5;
/// Requests in flight at once.
const CONCURRENCY: usize = 8;
/// The skew: invoices three times larger than those the model learnt from.
const AMOUNT_FACTOR: f64 = 3.0;

/// Before the story: v0's artifact where its model points, the capture
/// bucket, and the data capture `env` asks for (v0's config carries it, as
/// deploy's configs do).
pub async fn prepare_v0(
    run: &LocalRun,
    group: &Group,
    env: &str,
) -> Result<Option<DataCaptureConfig>, String> {
    let s3 = steward_twin::s3_client(&run.sdk);
    let bucket = "steward-model-artifacts";
    let _ = s3.create_bucket().bucket(bucket).send().await;
    s3.put_object()
        .bucket(bucket)
        .key(format!("{}/v0/model.json", group.name))
        .body(V0_MODEL.as_bytes().to_vec().into())
        .send()
        .await
        .map_err(|e| format!("PutObject v0 model: {}", steward::aws_error::describe(&e)))?;
    let Some(capture) = group.environment(env).and_then(|e| e.data_capture.as_ref()) else {
        return Ok(None);
    };
    if let Some((capture_bucket, _)) = split_s3(&capture.destination) {
        let _ = s3.create_bucket().bucket(capture_bucket).send().await;
    }
    let mode = |m| CaptureOption::builder().capture_mode(m).build();
    Ok(Some(
        DataCaptureConfig::builder()
            .enable_capture(true)
            .initial_sampling_percentage(i32::from(capture.percent))
            .destination_s3_uri(&capture.destination)
            .capture_options(mode(CaptureMode::Input))
            .capture_options(mode(CaptureMode::Output))
            .capture_content_type_header(
                CaptureContentTypeHeader::builder()
                    .csv_content_types("text/csv")
                    .json_content_types("application/json")
                    .build(),
            )
            .build(),
    ))
}

/// The chapter. `trained`: the model package whose training baseline the
/// monitor compares with (the first model: trained on the demo's data). The
/// retrained model package, when the guard let the retrain start.
pub async fn drift(
    run: &LocalRun,
    story: &Story<'_>,
    functions: &Functions,
    group: &Group,
    trained: &str,
) -> Result<Option<String>, String> {
    let monitored = run
        .stack
        .policy
        .monitored()
        .into_iter()
        .find(|m| m.group.name == group.name)
        .ok_or_else(|| format!("{} monitors no captured endpoint", group.name))?;
    let monitor = monitored.monitor;
    let (env, endpoint, capture) = (
        monitored.environment.name.clone(),
        monitored.endpoint.to_string(),
        monitored.capture.clone(),
    );
    let s3 = steward_twin::s3_client(&run.sdk);

    // The baseline the training step wrote next to the model, published where
    // the policy's monitor reads it.
    let package = aws_sdk_sagemaker::Client::new(&run.sdk)
        .describe_model_package()
        .model_package_name(trained)
        .send()
        .await
        .map_err(|e| steward::aws_error::describe(&e))?;
    let from = package
        .drift_check_baselines()
        .and_then(|d| d.model_data_quality())
        .and_then(|q| q.statistics())
        .and_then(|s| s.s3_uri())
        .ok_or_else(|| format!("{trained} names no drift baseline"))?
        .to_string();
    let baseline = read(&s3, &from).await?;
    let (bucket, key) = split_s3(&monitor.baseline)
        .ok_or_else(|| format!("{} is not an s3:// URI", monitor.baseline))?;
    let _ = s3.create_bucket().bucket(bucket).send().await;
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(baseline.clone().into())
        .send()
        .await
        .map_err(|e| {
            format!(
                "PutObject {}: {}",
                monitor.baseline,
                steward::aws_error::describe(&e)
            )
        })?;
    let parsed: Value = serde_json::from_slice(&baseline).unwrap_or_default();

    // Two hours on (past the retrain guard's cooldown), clear of an hour's end
    // so the hour of traffic lands in one capture folder.
    let clock = &run.twin.ctx().clock;
    clock.advance(TimeDelta::hours(2));
    if clock.now().minute() >= 45 {
        clock.advance(TimeDelta::minutes(i64::from(61 - clock.now().minute())));
    }
    println!(
        "\n▶ Two hours later ({}): an hour of payments with invoices {AMOUNT_FACTOR}× larger reaches {endpoint}",
        clock.now().format("%H:%M")
    );
    println!(
        "  the drift baseline train.py wrote for {} ({from}: {} rows, {} features) is published where the policy's monitor reads it, {}",
        short(trained),
        parsed["rows"],
        parsed["features"].as_array().map_or(0, Vec::len),
        monitor.baseline
    );
    let bodies = skewed_requests();
    let payments = bodies.len() * ROWS_PER_REQUEST;
    let runtime = aws_sdk_sagemakerruntime::Client::new(&run.sdk);
    let mut flagged = 0usize;
    for chunk in bodies.chunks(CONCURRENCY) {
        let mut calls = tokio::task::JoinSet::new();
        for body in chunk {
            let (runtime, endpoint, body) = (runtime.clone(), endpoint.clone(), body.clone());
            calls.spawn(async move {
                runtime
                    .invoke_endpoint()
                    .endpoint_name(endpoint)
                    .content_type("text/csv")
                    .body(body.into_bytes().into())
                    .send()
                    .await
            });
        }
        while let Some(call) = calls.join_next().await {
            let out = call.map_err(|e| e.to_string())?.map_err(|e| {
                format!(
                    "InvokeEndpoint {endpoint}: {}",
                    steward::aws_error::describe(&e)
                )
            })?;
            let answer: Value =
                serde_json::from_slice(out.body().map(|b| b.as_ref()).unwrap_or_default())
                    .unwrap_or_default();
            flagged += answer["predictions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["label"] == 1)
                .count();
        }
    }
    let last_request = clock.now();
    let (capture_bucket, capture_prefix) = split_s3(&capture.destination)
        .ok_or_else(|| format!("{} is not an s3:// URI", capture.destination))?;
    let folder = format!(
        "{}{endpoint}/{}/{}/",
        match capture_prefix.trim_matches('/') {
            "" => String::new(),
            p => format!("{p}/"),
        },
        monitor.variant,
        last_request.format("%Y/%m/%d/%H")
    );
    let objects = s3
        .list_objects_v2()
        .bucket(capture_bucket)
        .prefix(&folder)
        .send()
        .await
        .map_err(|e| steward::aws_error::describe(&e))?;
    let keys: Vec<String> = objects
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    println!(
        "  {} requests ({payments} payments, {flagged} flagged as fraud) → InvokeEndpoint {endpoint} ({env})",
        bodies.len()
    );
    println!(
        "  SageMaker data capture ({}% sampled): {} objects under s3://{capture_bucket}/{folder}",
        capture.percent,
        keys.len()
    );
    if let Some(key) = keys.first() {
        let text = read(&s3, &format!("s3://{capture_bucket}/{key}")).await?;
        let line = String::from_utf8_lossy(&text);
        let line = line.lines().next().unwrap_or("");
        println!("    {}", key.rsplit('/').next().unwrap_or(key));
        println!("    {}…", line.chars().take(150).collect::<String>());
    }

    // The schedule fires ten past the next hour: the check covers the hour
    // the traffic arrived in.
    let hour = last_request
        .duration_trunc(TimeDelta::hours(1))
        .map_err(|e| e.to_string())?;
    let at: DateTime<Utc> = hour + TimeDelta::minutes(70);
    let router = run.router.as_ref().ok_or("the router is not running")?;
    let from_delivery = story.count();
    println!(
        "\n▶ {}: the schedule fires monitor-drift (template rule MonitorDriftFunctionDriftCheck, cron(10 * * * ? *))",
        at.format("%H:%M")
    );
    println!("  (monitor-drift's log lines in Embedded Metric Format: CloudWatch turns them into metrics)");
    let ticked = router.tick("monitor-drift", at).await;
    if ticked.is_empty() {
        return Err(format!(
            "the schedule reached no monitor-drift; dead letters: {:?}",
            router.dead_letters()
        ));
    }
    story.show();
    print_scores(functions, &group.name).await?;
    println!("  EventBridge may deliver a tick twice:");
    router.tick("monitor-drift", at).await;
    story.show();

    let found = story
        .until_after(
            from_delivery,
            "start-build's answer to `Drift Detected`",
            |d| d.function == "start-build" && d.rule.contains("Drift"),
        )
        .await?;
    story.show();
    let outcome = field(&found, "outcome");
    println!(
        "  → `Drift Detected` reached start-build ({}): {}",
        found.rule,
        summary(&found.response)
    );
    if outcome != "started" {
        return Ok(None);
    }
    let execution = field(&found, "pipelineExecutionArn").to_string();
    println!(
        "\n▶ The retrain: the twin runs {} on the drift",
        field(&found, "pipelineName")
    );
    let from_gate = story.count();
    let status =
        super::demo::wait_for_execution(&aws_sdk_sagemaker::Client::new(&run.sdk), &execution)
            .await?;
    if status != "Succeeded" {
        return Err(format!("the retrain ended {status}"));
    }
    let gated = story
        .until_after(from_gate, "the gate's answer to the retrained model", |d| {
            d.function == "request-approval"
                && d.rule.contains("ModelPackageRegistered")
                && !field(d, "model_package_arn").is_empty()
        })
        .await?;
    story.show();
    println!(
        "  retrained {} → the gate: {}",
        short(field(&gated, "model_package_arn")),
        field(&gated, "outcome")
    );
    Ok(Some(field(&gated, "model_package_arn").to_string()))
}

/// The check's scores per feature, from the ledger's `drift_checked` record.
async fn print_scores(functions: &Functions, group: &str) -> Result<(), String> {
    let records = functions
        .start_build()?
        .ledger
        .records(&Subject::Group(group.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    let Some(check) = records.iter().rev().find(|r| r.kind == "drift_checked") else {
        return Ok(());
    };
    for feature in check.detail["features"].as_array().into_iter().flatten() {
        let scores = &feature["scores"];
        let score = |name: &str| {
            scores[name]
                .as_f64()
                .map(|v| format!("{name} {v:.3}"))
                .unwrap_or_default()
        };
        println!(
            "    {} {:<13} {}  {}",
            if feature["drifted"] == true {
                "✗"
            } else {
                "✓"
            },
            feature["name"].as_str().unwrap_or("?"),
            [score("psi"), score("ks"), score("js")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            feature["crossed"]
                .as_array()
                .filter(|c| !c.is_empty())
                .map(|c| format!(
                    "over {}",
                    c.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// The demo's payments with amounts scaled, `ROWS_PER_REQUEST` per CSV body.
fn skewed_requests() -> Vec<String> {
    let rows: Vec<String> = DATA
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let amount: f64 = f.get(2)?.parse().ok()?;
            Some(format!(
                "{:.2},{},{},{}",
                amount * AMOUNT_FACTOR,
                f.get(3)?,
                f.get(4)?,
                f.get(5)?
            ))
        })
        .collect();
    rows.chunks(ROWS_PER_REQUEST)
        .map(|chunk| format!("{}\n", chunk.join("\n")))
        .collect()
}

fn split_s3(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, key))
}

async fn read(s3: &aws_sdk_s3::Client, uri: &str) -> Result<Vec<u8>, String> {
    let (bucket, key) = split_s3(uri).ok_or_else(|| format!("{uri} is not an s3:// URI"))?;
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| format!("GetObject {uri}: {}", steward::aws_error::describe(&e)))?;
    Ok(out
        .body
        .collect()
        .await
        .map_err(|e| format!("GetObject {uri}: {e}"))?
        .into_bytes()
        .to_vec())
}

fn short(arn: &str) -> &str {
    arn.split(":model-package/").nth(1).unwrap_or(arn)
}
