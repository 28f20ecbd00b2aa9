//! `steward local demo`: the whole story, told as it happens.
//!
//! Every function runs in this process behind the router, which matches each
//! event against template.yaml's rules and delivers it, as EventBridge and
//! Lambda would: data lands → start-build starts one pipeline run → the twin
//! trains and registers a model → request-approval's gate passes and staging
//! (approval "none") is approved by policy → deploy rolls staging out → the
//! bake ends on a tick → `Promotion Requested` → prod's approvers are mailed a
//! link → Approve → `Approval Decided` → prod's canary → an alarm mid-rollout
//! → SageMaker rolls back, rollback verifies, the package is rejected and the
//! stewards told → a worse model is rejected by the gate; then the ledger
//! answers where the model came from and what served when; last, prod's
//! traffic drifts and monitor-drift, fired by the schedule, retrains once
//! (demo_drift.rs); good models bake in prod and an alarm after the bake
//! rolls prod back to the last known good (demo_bake.rs).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use start_build::Outcome;
use steward::ledger::{Ledger, Subject};
use steward::policy::{Debounce, Group};
use steward_twin::router::Invoker;
use steward_twin::twin::EmittedEvent;
use steward_twin::{s3_client, LocalOptions, LocalRun};

use super::demo_chain;
use super::demo_functions::Functions;
use super::demo_story::{answered, Story};

const DATA: &str = include_str!("../../../../examples/data/transactions.csv");
/// The same payments with 28 of 72 frauds relabelled 0 (not yet confirmed):
/// the model trained on it misses fraud, and the gate says so.
const WORSE_DATA: &str =
    include_str!("../../../../examples/data/transactions-unconfirmed-labels.csv");
const TEMPLATE: &str = include_str!("../../../../template.yaml");
const STORY_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn demo(policy: &Path) -> Result<(), String> {
    let began = Instant::now();
    let policy_text = super::read_policy(policy)?;
    println!("▶ Starting moto, the twin in front of it, and Steward's stack");
    // Every function runs in this process; their contexts are made once the
    // stack is up, from the environment `steward local up` gives them.
    let functions = Arc::new(Functions::default());
    let mut options = LocalOptions::new(policy_text);
    options.router = Some((
        TEMPLATE.to_string(),
        Invoker::in_process(functions.clone().invoker()),
    ));
    let run = LocalRun::start(options).await.map_err(|e| e.to_string())?;
    println!(
        "  twin {} → moto {}",
        run.endpoint(),
        run.emulator.endpoint()
    );
    let approval = super::demo_approval::serve_approval_link(&run).await?;
    functions.connect(&run, &approval.url()).await?;
    println!(
        "  functions: start-build, request-approval, deploy, rollback, audit, monitor-drift (in this process); approval-link at {}",
        approval.url()
    );
    let ctx = functions.start_build()?;
    let router = run.router.as_ref().ok_or("the router is not running")?;
    let story = Story::new(router);

    let (group, bucket, prefix, marker) = marker_group(&run)?;
    println!(
        "  group {}: watches s3://{bucket}/{prefix} for `{marker}`, trains with pipeline {}",
        group.name, group.pipeline.name
    );
    demo_chain::prepare(&run, &group).await?;

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
    let build = story
        .until("start-build starting a pipeline run", |d| {
            answered(d, "start-build", "started")
        })
        .await?;
    let build: start_build::handler::Started = match serde_json::from_value(build.response) {
        Ok(Outcome::Started(s)) => s,
        other => return Err(format!("start-build answered {other:?}")),
    };

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

    let arn = pending.detail["ModelPackageArn"]
        .as_str()
        .ok_or("the pending event names no model package")?
        .to_string();
    println!("\n▶ The gate: the router hands the pending model to request-approval");
    let gated = demo_chain::gated(&story, &arn).await?;
    super::demo_approval::print_gate_report(&functions, &arn).await?;
    if !answered(&gated, "request-approval", "approved-by-policy") {
        return Err(format!(
            "the demo expects the first environment approved by policy; request-approval answered {}",
            gated.response
        ));
    }
    let chain = demo_chain::endpoints(&group);
    let (Some((first_env, _)), Some((next_env, _))) = (chain.first(), chain.get(1)) else {
        return Err(format!(
            "{} needs two SageMaker environments for the demo",
            group.name
        ));
    };
    demo_chain::first_rollout(&story, first_env).await?;
    demo_chain::bake(&story, &functions, first_env).await?;
    let started = demo_chain::approve_promotion(&run, &story, next_env).await?;
    let (mid_rollout, prod_endpoint) =
        demo_chain::alarm_mid_rollout(&run, &story, &group, &started).await?;
    println!("\n▶ The model is rejected and its stewards told");
    demo_chain::rejected(&run, &arn, &group.stewards).await?;

    println!("\n▶ The ledger's lineage of this build");
    for record in ctx
        .ledger
        .records(&Subject::Execution(build.pipeline_execution_arn.clone()))
        .await
        .map_err(|e| e.to_string())?
    {
        let what = match record.detail["data"]["uri"].as_str() {
            Some(uri) => format!(
                "data {uri} (version {})",
                record.detail["data"]["version"].as_str().unwrap_or("?")
            ),
            None => format!(
                "status {}",
                record.detail["status"]
                    .as_str()
                    .or(record.detail["pipelineExecutionStatus"].as_str())
                    .unwrap_or("?")
            ),
        };
        println!(
            "  {}  {}  {what}, policy {}",
            record.at.to_rfc3339(),
            record.kind,
            record.detail["policyVersion"].as_str().unwrap_or("?"),
        );
    }

    worse_model(&run, &story, &group, &bucket, &prefix, &marker).await?;

    super::demo_triggers::git_push(&run, ctx).await?;

    println!("\n▶ `steward lineage {arn}`");
    super::demo_audit::lineage(&run, &arn).await?;
    for (_, endpoint) in &chain {
        println!(
            "\n▶ `steward served {endpoint} --at {}` (mid-canary in {prod_endpoint})",
            mid_rollout.to_rfc3339()
        );
        super::demo_audit::served(&run, endpoint, mid_rollout).await?;
    }

    let retrained = super::demo_drift::drift(&run, &story, &functions, &group, &arn).await?;
    if let Some(retrained) = retrained {
        super::demo_bake::bake_then_alarm(&run, &story, &group, &retrained).await?;
    }

    println!("\n▶ `steward status {}`", group.name);
    super::demo_audit::status(&run, &group.name).await?;

    println!("\n▶ Events so far, by detail-type");
    let mut counts: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for event in run
        .stack
        .steward_events(Duration::from_secs(2))
        .await
        .map_err(|e| e.to_string())?
    {
        let detail_type = event["detail-type"].as_str().unwrap_or("?").to_string();
        *counts.entry(("steward".into(), detail_type)).or_default() += 1;
    }
    for event in run.twin.ctx().events.emitted() {
        *counts.entry((event.source, event.detail_type)).or_default() += 1;
    }
    for ((source, detail_type), n) in counts {
        println!("  {source:<14} {detail_type} ×{n}");
    }
    println!(
        "\n  audit recorded {} events; dead letters: {}",
        story.audited(),
        router.dead_letters().len()
    );
    println!(
        "\n✔ One data set → one pipeline run → one model: gated, deployed to staging, baked, approved by a person for prod, \
rolled back by SageMaker when prod's alarm fired mid-canary, rejected with the reason; a worse model stopped at the gate; \
prod's traffic drifted, the drift monitor found it and retrained once; two good models baked in prod, and an alarm after \
the bake rolled prod back to the last known good; every step recorded in the ledger ({}s).",
        began.elapsed().as_secs()
    );
    Ok(())
}

/// A second data set whose labels are not yet confirmed: the retrain guard
/// holds the data-driven build back (cooldown), the data scientist runs the
/// pipeline on it by hand, and the gate rejects the model it registers.
async fn worse_model(
    run: &LocalRun,
    story: &Story<'_>,
    group: &Group,
    bucket: &str,
    prefix: &str,
    marker: &str,
) -> Result<(), String> {
    let data_prefix = format!(
        "{prefix}{}-unconfirmed/",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    println!("\n▶ A second data set lands: s3://{bucket}/{data_prefix} (28 of 72 frauds not yet confirmed, labelled 0)");
    let s3 = s3_client(&run.sdk);
    let from = story.count();
    let data_key = format!("{data_prefix}part-0000.csv");
    put(&s3, bucket, &data_key, WORSE_DATA.as_bytes().to_vec()).await?;
    let marker_key = format!("{data_prefix}{marker}");
    put(&s3, bucket, &marker_key, Vec::new()).await?;
    let answer = story
        .until_after(from, "start-build's answer to the second marker", |d| {
            d.function == "start-build"
                && ["started", "suppressed"].contains(&d.response["outcome"].as_str().unwrap_or(""))
        })
        .await?;
    let sagemaker = aws_sdk_sagemaker::Client::new(&run.sdk);
    let execution = match serde_json::from_value::<Outcome>(answer.response) {
        Ok(Outcome::Started(s)) => s.pipeline_execution_arn,
        _ => {
            println!(
                "  the retrain guard holds it back; the data scientist starts {} on it by hand",
                group.pipeline.name
            );
            let parameter = |name: &str, value: &str| {
                aws_sdk_sagemaker::types::Parameter::builder()
                    .name(name)
                    .value(value)
                    .build()
            };
            sagemaker
                .start_pipeline_execution()
                .pipeline_name(&group.pipeline.name)
                .pipeline_parameters(parameter(
                    "InputDataUrl",
                    &format!("s3://{bucket}/{data_prefix}"),
                ))
                .pipeline_parameters(parameter("DataVersion", "unconfirmed-labels"))
                .send()
                .await
                .map_err(|e| steward::aws_error::describe(&e))?
                .pipeline_execution_arn
                .ok_or("StartPipelineExecution returned no ARN")?
        }
    };
    let status = wait_for_execution(&sagemaker, &execution).await?;
    if status != "Succeeded" {
        return Err(format!("the second pipeline run ended {status}"));
    }
    let pending = run
        .twin
        .ctx()
        .events
        .emitted()
        .into_iter()
        .find(|e| {
            e.detail_type == "SageMaker Model Package State Change"
                && e.detail["MetadataProperties"]["GeneratedBy"] == execution.as_str()
        })
        .ok_or("the second run registered no model")?;
    let arn = pending.detail["ModelPackageArn"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    println!(
        "  registered {} — the router hands it to the gate",
        short(&arn)
    );
    let gated = demo_chain::gated(story, &arn).await?;
    println!(
        "  request-approval: {}",
        gated.response["outcome"].as_str().unwrap_or("?")
    );
    for failure in gated.response["failures"].as_array().into_iter().flatten() {
        println!("    ✗ {}", failure.as_str().unwrap_or("?"));
    }
    demo_chain::rejected(run, &arn, &group.stewards).await?;
    Ok(())
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

pub(super) async fn wait_for_execution(
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
        Outcome::Debounced { group, .. } => format!("recorded in {group}'s quiet period"),
        Outcome::StatusRecorded { status, .. } => format!("pipeline run {status}, recorded"),
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
