//! `steward local demo`: the story so far, told as it happens.
//!
//! Data files and their `_SUCCESS` marker land in S3; the emulator emits the
//! `Object Created` events; each reaches start-build as the rule delivers it;
//! only the marker starts a pipeline run, once, even when delivered again.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use start_build::{Config, Context, Outcome};
use steward::ledger::{Ledger, Subject};
use steward_twin::s3_client;

const DATA: &str = include_str!("../../../../examples/data/transactions.csv");

pub async fn demo(policy: &Path) -> Result<(), String> {
    println!("▶ Starting the AWS emulator and provisioning Steward's stack");
    let (emulator, stack) = super::start(policy).await?;
    println!(
        "  moto server on {} (log {})",
        emulator.endpoint(),
        emulator.log_path().display()
    );
    let group = stack
        .policy
        .groups
        .values()
        .find(|g| {
            g.data
                .as_ref()
                .is_some_and(|d| matches!(d.debounce, steward::policy::Debounce::Marker { .. }))
        })
        .ok_or("the policy has no group that watches data with a marker")?
        .clone();
    let watch = group.data.clone().ok_or("the group watches no data")?;
    let marker = match &watch.debounce {
        steward::policy::Debounce::Marker { marker } => marker.clone(),
        steward::policy::Debounce::QuietWindow { .. } => unreachable!("filtered above"),
    };
    println!(
        "  group {}: watches s3://{}/{} for `{}`, starts pipeline {}",
        group.name, watch.bucket, watch.prefix, marker, group.pipeline.name
    );

    let config = Config {
        ledger_table: stack.spec.ledger_table.clone(),
        event_bus: stack.spec.event_bus.clone(),
        policy_parameter: stack.spec.policy_parameter.clone(),
        claim_lease: Duration::from_secs(120),
    };
    let ctx = Context::connect(&stack.sdk, &config)
        .await
        .map_err(|e| e.to_string())?;

    let day = chrono::Utc::now().format("%Y-%m-%d");
    let prefix = format!("{}{day}/", watch.prefix);
    let s3 = s3_client(&stack.sdk);
    println!("\n▶ New data lands in s3://{}/{prefix}", watch.bucket);
    let lines: Vec<&str> = DATA.lines().collect();
    let (header, rows) = lines.split_first().ok_or("the sample data is empty")?;
    for (i, chunk) in rows.chunks(rows.len().div_ceil(2).max(1)).enumerate() {
        let key = format!("{prefix}part-{i:04}.csv");
        let body = format!("{header}\n{}\n", chunk.join("\n"));
        put(&s3, &watch.bucket, &key, body.into_bytes()).await?;
        println!("  put {key} ({} rows)", chunk.len());
    }
    let marker_key = format!("{prefix}{marker}");
    let version = put(&s3, &watch.bucket, &marker_key, Vec::new()).await?;
    println!("  put {marker_key} (version {version}): the data set is complete");

    println!("\n▶ EventBridge delivers each Object Created event to start-build");
    let events = stack
        .s3_events(Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;
    let mut marker_event: Option<Value> = None;
    for event in &events {
        let key = event["detail"]["object"]["key"].as_str().unwrap_or("?");
        let outcome = start_build::handler::run(&ctx, event.clone())
            .await
            .map_err(|e| format!("start-build failed on {key}: {e}"))?;
        println!("  {key} → {}", describe(&outcome));
        if matches!(outcome, Outcome::Started(_)) {
            marker_event = Some(event.clone());
        }
    }
    let marker_event = marker_event.ok_or("no event started a build")?;

    println!("\n▶ EventBridge delivers at least once: the marker's event again");
    let again = start_build::handler::run(&ctx, marker_event)
        .await
        .map_err(|e| e.to_string())?;
    println!("  {marker_key} → {}", describe(&again));

    let (Outcome::Started(build) | Outcome::AlreadyStarted(build)) = again else {
        return Err("the redelivery did not report the build".into());
    };
    println!("\n▶ The pipeline run in SageMaker");
    let sagemaker = aws_sdk_sagemaker::Client::new(&stack.sdk);
    let runs = sagemaker
        .list_pipeline_executions()
        .pipeline_name(&build.pipeline_name)
        .send()
        .await
        .map_err(|e| format!("ListPipelineExecutions: {e}"))?
        .pipeline_execution_summaries
        .unwrap_or_default();
    println!("  {} run(s) of {}", runs.len(), build.pipeline_name);
    println!("  {}", build.pipeline_execution_arn);
    let parameters = sagemaker
        .list_pipeline_parameters_for_execution()
        .pipeline_execution_arn(&build.pipeline_execution_arn)
        .send()
        .await
        .map_err(|e| format!("ListPipelineParametersForExecution: {e}"))?
        .pipeline_parameters
        .unwrap_or_default();
    for p in parameters {
        println!(
            "    {} = {}",
            p.name().unwrap_or("?"),
            p.value().unwrap_or("")
        );
    }

    println!("\n▶ The ledger's lineage of this build");
    let records = ctx
        .ledger
        .records(&Subject::Execution(build.pipeline_execution_arn.clone()))
        .await
        .map_err(|e| e.to_string())?;
    for record in records {
        println!(
            "  {}  {}  data {} (version {}), policy {}, cause {}",
            record.at.to_rfc3339(),
            record.kind,
            record.detail["data"]["uri"].as_str().unwrap_or("?"),
            record.detail["data"]["version"].as_str().unwrap_or("?"),
            record.detail["policyVersion"].as_str().unwrap_or("?"),
            record.detail["cause"].as_str().unwrap_or("?"),
        );
    }

    println!("\n▶ Steward's events on the `{}` bus", stack.spec.event_bus);
    for event in stack
        .steward_events(Duration::from_secs(3))
        .await
        .map_err(|e| e.to_string())?
    {
        println!(
            "  {} for {} (correlation {})",
            event["detail-type"].as_str().unwrap_or("?"),
            event["detail"]["modelPackageGroup"].as_str().unwrap_or("?"),
            event["detail"]["correlationId"].as_str().unwrap_or("?"),
        );
    }
    println!("\n✔ One data set, one marker, one pipeline run, one record, one event.");
    drop(emulator);
    Ok(())
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Started(s) => format!(
            "started {} ({})",
            s.pipeline_name,
            short(&s.pipeline_execution_arn)
        ),
        Outcome::AlreadyStarted(s) => format!(
            "already started ({}): nothing done again",
            short(&s.pipeline_execution_arn)
        ),
        Outcome::Ignored { reason } => format!("ignored: {reason}"),
    }
}

fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

async fn put(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
) -> Result<String, String> {
    let out = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .map_err(|e| format!("PutObject {key}: {}", steward::aws_error::describe(&e)))?;
    Ok(out.version_id.unwrap_or_default())
}
