//! The demo's second act: a git push starts one build, through the same
//! start-build handler, guard and ledger as data. (Drift is found for real at
//! the end of the demo: demo_drift.rs.)

use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};
use start_build::{Context, Outcome};
use steward_twin::LocalRun;

/// A verified GitHub push to the policy's repository (what git-webhook puts on
/// the steward bus), handed to start-build twice (at-least-once delivery).
pub async fn git_push(run: &LocalRun, ctx: &Context) -> Result<(), String> {
    println!("\n▶ A push to acme/ml-models changes models/attrition/train.py (a `Git Push` from git-webhook)");
    let now = Utc::now();
    let push = event(
        "demo-push-1",
        "Git Push",
        now,
        json!({
            "modelPackageGroup": "*",
            "correlationId": "stw-demo-push",
            "cause": "webhook/github/demo-delivery-1",
            "provider": "github",
            "repository": "acme/ml-models",
            "branch": "main",
            "commit": "4d2c8e1f0a9b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
            "changedPaths": ["README.md", "models/attrition/train.py"],
            "changedPathsComplete": true,
            "deliveryId": "demo-delivery-1",
        }),
    );
    let execution = deliver_twice(ctx, push, "attrition").await?;
    pipeline_failure_is_mailed(run, &execution).await
}

/// The attrition group has no data yet, so its run fails: start-build records
/// the outcome (through the router) and mails the group's stewards the
/// execution and SageMaker's reason.
async fn pipeline_failure_is_mailed(run: &LocalRun, execution: &str) -> Result<(), String> {
    let sagemaker = aws_sdk_sagemaker::Client::new(&run.sdk);
    let status = super::demo::wait_for_execution(&sagemaker, execution).await?;
    if status != "Failed" {
        return Ok(());
    }
    println!("  attrition has no snapshots yet (s3://acme-ml-data/attrition/snapshots/ is empty): the run fails");
    let run_id = execution.rsplit('/').next().unwrap_or(execution);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mail = steward_twin::twin::TwinClient::new(run.endpoint())
            .get("mail")
            .await
            .map_err(|e| e.to_string())?;
        let found = mail["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["body"].as_str().is_some_and(|b| b.contains(run_id)));
        if let Some(m) = found {
            println!(
                "  mail to {}: {}",
                m["to"].as_str().unwrap_or(""),
                m["subject"].as_str().unwrap_or("")
            );
            if let Some(reason) = m["body"]
                .as_str()
                .and_then(|b| b.lines().find(|l| l.starts_with("Failure reason")))
            {
                println!("    {}", reason.trim());
            }
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no mail told attrition's stewards that {run_id} failed"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn event(id: &str, detail_type: &str, at: chrono::DateTime<Utc>, detail: Value) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": detail_type,
        "source": "steward",
        "account": "123456789012",
        "time": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    })
}

/// The execution ARN the first delivery started.
async fn deliver_twice(ctx: &Context, event: Value, group: &str) -> Result<String, String> {
    let first = handle(ctx, event.clone()).await?;
    let Outcome::Started(started) = &first else {
        return Err(format!("expected a build of {group}, got {first:?}"));
    };
    println!(
        "  start-build → started {} for {} (cause {})",
        started.pipeline_name, started.group, started.cause
    );
    match handle(ctx, event).await? {
        Outcome::AlreadyStarted(again)
            if again.pipeline_execution_arn == started.pipeline_execution_arn =>
        {
            println!("  delivered again → already started, nothing done again");
            Ok(started.pipeline_execution_arn.clone())
        }
        other => Err(format!("a redelivery must start nothing, got {other:?}")),
    }
}

async fn handle(ctx: &Context, event: Value) -> Result<Outcome, String> {
    start_build::handler::run(ctx, event)
        .await
        .map_err(|e| format!("{e} ({})", e.error_type()))
}
