//! The demo's second act: a git push and a drift finding each start one
//! build, through the same start-build handler, guard and ledger as data.

use chrono::{Duration as TimeDelta, SecondsFormat, Utc};
use serde_json::{json, Value};
use start_build::{Context, Outcome};

/// A verified GitHub push to the policy's repository (what git-webhook puts on
/// the steward bus), then a `Drift Detected` on payroll-fraud's production
/// endpoint; each is handed to start-build twice (at-least-once delivery).
pub async fn git_push_and_drift(ctx: &Context) -> Result<(), String> {
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
    deliver_twice(ctx, push, "attrition").await?;

    // payroll-fraud built from data a moment ago and its cooldown is 2h: the
    // finding is dated three hours later, as the drift monitor would report it.
    let later = now + TimeDelta::hours(3);
    println!(
        "\n▶ Three hours later ({}), the drift monitor reports drift on payroll-fraud-prod",
        later.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let drift = event(
        "demo-drift-1",
        "Drift Detected",
        later,
        json!({
            "endpointName": "payroll-fraud-prod",
            "window": later.to_rfc3339_opts(SecondsFormat::Secs, true),
        }),
    );
    deliver_twice(ctx, drift, "payroll-fraud").await
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

async fn deliver_twice(ctx: &Context, event: Value, group: &str) -> Result<(), String> {
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
            Ok(())
        }
        other => Err(format!("a redelivery must start nothing, got {other:?}")),
    }
}

async fn handle(ctx: &Context, event: Value) -> Result<Outcome, String> {
    start_build::handler::run(ctx, event)
        .await
        .map_err(|e| format!("{e} ({})", e.error_type()))
}
