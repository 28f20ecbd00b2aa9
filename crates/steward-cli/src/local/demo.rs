//! `steward local demo`: the story so far, told as it happens.
//!
//! Data files and their `_SUCCESS` marker land in S3; the emulator emits the
//! `Object Created` events; the router matches them against template.yaml's
//! rules and delivers them to start-build (run in this process); only the
//! marker starts a pipeline run, once, even when delivered again; the twin runs
//! the example training step for that run, which registers a model package
//! with its metrics; the registry emits the pending-approval event that the
//! gate (next stage) reacts to.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use start_build::{Config, Context, Outcome};
use steward::ledger::{Ledger, Subject};
use steward::policy::{Debounce, Group};
use steward_twin::router::{InProcessFn, InvokeError, Invoker};
use steward_twin::twin::EmittedEvent;
use steward_twin::{s3_client, LocalOptions, LocalRun};

const DATA: &str = include_str!("../../../../examples/data/transactions.csv");
const TEMPLATE: &str = include_str!("../../../../template.yaml");
const STORY_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn demo(policy: &Path) -> Result<(), String> {
    let policy_text = super::read_policy(policy)?;
    println!("▶ Starting moto, the twin in front of it, and Steward's stack");
    // start-build runs in this process; its context is built once the stack is up.
    let slot: Arc<tokio::sync::OnceCell<Context>> = Arc::new(tokio::sync::OnceCell::new());
    let mut options = LocalOptions::new(policy_text);
    options.router = Some((
        TEMPLATE.to_string(),
        Invoker::in_process(functions(slot.clone())),
    ));
    let run = LocalRun::start(options).await.map_err(|e| e.to_string())?;
    println!(
        "  twin {} → moto {}",
        run.endpoint(),
        run.emulator.endpoint()
    );
    let config = Config {
        ledger_table: run.stack.spec.ledger_table.clone(),
        event_bus: run.stack.spec.event_bus.clone(),
        policy_parameter: run.stack.spec.policy_parameter.clone(),
        claim_lease: Duration::from_secs(120),
    };
    let ctx = Context::connect(&run.sdk, &config)
        .await
        .map_err(|e| e.to_string())?;
    slot.set(ctx).map_err(|_| "start-build was set up twice")?;
    let ctx = slot.get().ok_or("start-build is not set up")?;

    let (group, bucket, prefix, marker) = marker_group(&run)?;
    println!(
        "  group {}: watches s3://{bucket}/{prefix} for `{marker}`, trains with pipeline {}",
        group.name, group.pipeline.name
    );

    let day = chrono::Utc::now().format("%Y-%m-%d");
    let data_prefix = format!("{prefix}{day}/");
    let s3 = s3_client(&run.sdk);
    println!("\n▶ New data lands in s3://{bucket}/{data_prefix}");
    let lines: Vec<&str> = DATA.lines().collect();
    let (header, rows) = lines.split_first().ok_or("the sample data is empty")?;
    let mut keys = Vec::new();
    for (i, chunk) in rows.chunks(rows.len().div_ceil(2).max(1)).enumerate() {
        let key = format!("{data_prefix}part-{i:04}.csv");
        let body = format!("{header}\n{}\n", chunk.join("\n"));
        put(&s3, &bucket, &key, body.into_bytes()).await?;
        println!("  put {key} ({} rows)", chunk.len());
        keys.push(key);
    }
    let marker_key = format!("{data_prefix}{marker}");
    let version = put(&s3, &bucket, &marker_key, Vec::new()).await?;
    println!("  put {marker_key} (version {version}): the data set is complete");
    keys.push(marker_key.clone());

    println!("\n▶ The router delivers each Object Created event to start-build (rule from template.yaml)");
    let router = run.router.as_ref().ok_or("the router is not running")?;
    let deadline = Instant::now() + STORY_TIMEOUT;
    let mut shown = 0;
    while shown < keys.len() {
        if Instant::now() > deadline {
            return Err(format!(
                "only {shown} of {} deliveries arrived; dead letters: {:?}",
                keys.len(),
                router.dead_letters()
            ));
        }
        let delivered = router.delivered();
        for delivery in delivered.iter().skip(shown) {
            let outcome: Outcome = serde_json::from_value(delivery.response.clone())
                .map_err(|e| format!("start-build answered something else: {e}"))?;
            println!(
                "  rule {} → {}: {}",
                delivery.rule,
                delivery.function,
                describe(&outcome)
            );
            shown += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let build = find_started(router).ok_or("no delivery started a build")?;

    println!("\n▶ EventBridge delivers at least once: the marker's event again");
    let events = run
        .stack
        .s3_events(Duration::from_secs(3))
        .await
        .map_err(|e| e.to_string())?;
    let marker_event = events
        .into_iter()
        .find(|e| e["detail"]["object"]["key"] == marker_key.as_str())
        .ok_or("the marker's event was not captured")?;
    let again = start_build::handler::run(ctx, marker_event)
        .await
        .map_err(|e| e.to_string())?;
    println!("  {marker_key} → {}", describe(&again));

    println!(
        "\n▶ The twin runs the pipeline's step: the example training (examples/train/train.py)"
    );
    let sagemaker = aws_sdk_sagemaker::Client::new(&run.sdk);
    let status = wait_for_execution(&sagemaker, &build.pipeline_execution_arn).await?;
    for p in sagemaker
        .list_pipeline_parameters_for_execution()
        .pipeline_execution_arn(&build.pipeline_execution_arn)
        .send()
        .await
        .map_err(|e| steward::aws_error::describe(&e))?
        .pipeline_parameters
        .unwrap_or_default()
    {
        println!(
            "    {} = {}",
            p.name().unwrap_or("?"),
            p.value().unwrap_or("")
        );
    }
    println!("  {} → {status}", short(&build.pipeline_execution_arn));
    if status != "Succeeded" {
        return Err(format!("the pipeline run ended {status}"));
    }

    println!("\n▶ The model it registered, pending approval");
    let pending = wait_for_event(&run, "SageMaker Model Package State Change").await?;
    println!(
        "  {} version {} — {}",
        pending.detail["ModelPackageGroupName"]
            .as_str()
            .unwrap_or("?"),
        pending.detail["ModelPackageVersion"],
        pending.detail["ModelApprovalStatus"]
            .as_str()
            .unwrap_or("?")
    );
    let report = pending.detail["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
        .as_str()
        .unwrap_or("");
    if let Some(metrics) = read_report(&s3, report).await {
        let m = &metrics["binary_classification_metrics"];
        println!(
            "  metrics ({report}): AUC {:.3}, recall {:.3}, precision {:.3}, F1 {:.3}",
            m["auc"]["value"].as_f64().unwrap_or(f64::NAN),
            m["recall"]["value"].as_f64().unwrap_or(f64::NAN),
            m["precision"]["value"].as_f64().unwrap_or(f64::NAN),
            m["f1"]["value"].as_f64().unwrap_or(f64::NAN),
        );
    }
    println!(
        "  lineage: generated by {}",
        short(
            pending.detail["MetadataProperties"]["GeneratedBy"]
                .as_str()
                .unwrap_or("?")
        )
    );
    println!("  → `SageMaker Model Package State Change` (PendingManualApproval) is on the default bus: the gate reacts to it next");

    println!("\n▶ The ledger's lineage of this build");
    for record in ctx
        .ledger
        .records(&Subject::Execution(build.pipeline_execution_arn.clone()))
        .await
        .map_err(|e| e.to_string())?
    {
        println!(
            "  {}  {}  data {} (version {}), policy {}",
            record.at.to_rfc3339(),
            record.kind,
            record.detail["data"]["uri"].as_str().unwrap_or("?"),
            record.detail["data"]["version"].as_str().unwrap_or("?"),
            record.detail["policyVersion"].as_str().unwrap_or("?"),
        );
    }

    println!("\n▶ Events so far");
    for event in run
        .stack
        .steward_events(Duration::from_secs(2))
        .await
        .map_err(|e| e.to_string())?
    {
        println!(
            "  steward        {}",
            event["detail-type"].as_str().unwrap_or("?")
        );
    }
    for event in run.twin.ctx().events.emitted() {
        println!("  {:<14} {}", event.source, event.detail_type);
    }
    println!(
        "\n✔ One data set → one pipeline run → one model, pending approval; every step recorded."
    );
    Ok(())
}

/// The functions the demo runs in this process, by their template Binary name.
fn functions(start_build: Arc<tokio::sync::OnceCell<Context>>) -> InProcessFn {
    Arc::new(move |function: String, event: Value| {
        let start_build = start_build.clone();
        Box::pin(async move {
            match function.as_str() {
                "start-build" => {
                    let ctx = start_build.get().ok_or_else(|| InvokeError::Function {
                        error_type: "not_ready".into(),
                        message: "start-build is still starting".into(),
                    })?;
                    let outcome = start_build::handler::run(ctx, event).await.map_err(|e| {
                        InvokeError::Function {
                            error_type: e.error_type().into(),
                            message: e.to_string(),
                        }
                    })?;
                    serde_json::to_value(outcome).map_err(|e| InvokeError::Function {
                        error_type: "unserializable".into(),
                        message: e.to_string(),
                    })
                }
                other => Err(InvokeError::Transport {
                    url: format!("in-process://{other}"),
                    message: "the demo does not run this function yet".into(),
                }),
            }
        })
    })
}

fn marker_group(run: &LocalRun) -> Result<(Group, String, String, String), String> {
    for group in run.stack.policy.groups.values() {
        if let Some(data) = &group.data {
            if let Debounce::Marker { marker } = &data.debounce {
                return Ok((
                    group.clone(),
                    data.bucket.clone(),
                    data.prefix.clone(),
                    marker.clone(),
                ));
            }
        }
    }
    Err("the policy has no group that watches data with a marker".into())
}

fn find_started(
    router: &steward_twin::router::RouterHandle,
) -> Option<start_build::handler::Started> {
    router.delivered().into_iter().find_map(|d| {
        match serde_json::from_value::<Outcome>(d.response) {
            Ok(Outcome::Started(s)) => Some(s),
            _ => None,
        }
    })
}

async fn wait_for_execution(
    sagemaker: &aws_sdk_sagemaker::Client,
    arn: &str,
) -> Result<String, String> {
    let deadline = Instant::now() + STORY_TIMEOUT;
    let mut last = String::new();
    loop {
        let status = sagemaker
            .describe_pipeline_execution()
            .pipeline_execution_arn(arn)
            .send()
            .await
            .map_err(|e| steward::aws_error::describe(&e))?
            .pipeline_execution_status
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if status != last {
            println!("  {} … {status}", short(arn));
            last = status.clone();
        }
        if matches!(status.as_str(), "Succeeded" | "Failed" | "Stopped") {
            return Ok(status);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the pipeline run is still {status} after {}s",
                STORY_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_for_event(run: &LocalRun, detail_type: &str) -> Result<EmittedEvent, String> {
    let deadline = Instant::now() + STORY_TIMEOUT;
    loop {
        if let Some(event) = run
            .twin
            .ctx()
            .events
            .emitted()
            .into_iter()
            .find(|e| e.detail_type == detail_type)
        {
            return Ok(event);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no {detail_type} event within {}s",
                STORY_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn read_report(s3: &aws_sdk_s3::Client, uri: &str) -> Option<Value> {
    let (bucket, key) = uri.strip_prefix("s3://")?.split_once('/')?;
    let body = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .ok()?
        .body;
    let bytes = body.collect().await.ok()?.into_bytes();
    serde_json::from_slice(&bytes).ok()
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
        Outcome::Suppressed { reason, .. } => format!("suppressed: {reason}"),
        Outcome::Several { outcomes } => {
            outcomes.iter().map(describe).collect::<Vec<_>>().join("; ")
        }
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
