//! `steward status [group]`: per group and environment, what serves, what is
//! rolling out, what waits for approval, the last build and its trigger, and
//! the triggers the retrain guard held back.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use steward::audit::views::{suppressed_triggers, GroupStatus, SuppressedTrigger};
use steward::audit::{queries, AuditStore};
use steward::ledger::{DynamoLedger, Ledger, Subject};

use crate::aws_args::AwsArgs;
use crate::render::{self, model, opt_time, or_dash, table, time};

/// How many of the latest suppressed triggers status shows.
const SUPPRESSED_SHOWN: usize = 5;

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// One model package group (default: every group in the ledger).
    pub group: Option<String>,
    /// Print JSON for machines.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

pub async fn run(args: &StatusArgs) -> Result<(), String> {
    let (sdk, store) = args.aws.store().await;
    let ledger = DynamoLedger::new(aws_sdk_dynamodb::Client::new(&sdk), args.aws.table());
    let groups = match &args.group {
        Some(group) => vec![group.clone()],
        None => store.groups().await.map_err(|e| e.to_string())?,
    };
    let now = Utc::now();
    let mut out = Vec::new();
    for group in groups {
        let status = queries::status(&store, &group, now)
            .await
            .map_err(|e| e.to_string())?;
        let records = ledger
            .records(&Subject::Group(group.clone()))
            .await
            .map_err(|e| e.to_string())?;
        out.push((status, suppressed_triggers(&records)));
    }
    if args.json {
        return render::print_json(&to_json(&out));
    }
    if out.is_empty() {
        println!("no groups in the ledger yet");
    }
    println!("{}", human(&out, now));
    Ok(())
}

/// `{"groups": [<GroupStatus> + "suppressedTriggers"]}`.
pub fn to_json(groups: &[(GroupStatus, Vec<SuppressedTrigger>)]) -> Value {
    let groups: Vec<Value> = groups
        .iter()
        .map(|(status, suppressed)| {
            let mut value = serde_json::to_value(status).unwrap_or(Value::Null);
            value["suppressedTriggers"] = json!(suppressed);
            value
        })
        .collect();
    json!({ "groups": groups })
}

pub fn human(groups: &[(GroupStatus, Vec<SuppressedTrigger>)], now: DateTime<Utc>) -> String {
    let mut out = Vec::new();
    for (status, suppressed) in groups {
        out.push(format!("{} (as of {})", status.group, time(now)));
        match &status.last_build {
            Some(b) => out.push(format!(
                "  last build: {} trigger {} status {} ({})",
                time(b.at),
                or_dash(b.trigger.as_deref()),
                or_dash(b.status.as_deref()),
                b.pipeline_execution_arn
            )),
            None => out.push("  last build: none recorded".into()),
        }
        let rows: Vec<Vec<String>> = status
            .environments
            .iter()
            .map(|e| {
                vec![
                    e.environment.clone(),
                    e.serving
                        .as_ref()
                        .map(|s| model(&s.model_package_arn))
                        .unwrap_or_else(|| "-".into()),
                    opt_time(e.serving.as_ref().map(|s| s.from)),
                    e.rolling_out
                        .as_ref()
                        .map(|r| {
                            format!(
                                "{} ({}, since {})",
                                model(&r.model_package_arn),
                                or_dash(r.strategy.as_deref()),
                                time(r.since)
                            )
                        })
                        .unwrap_or_else(|| "-".into()),
                    e.last_event
                        .as_ref()
                        .map(|l| l.summary.clone())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        if rows.is_empty() {
            out.push("  no deployments recorded".into());
        } else {
            let t = table(
                &[
                    "ENVIRONMENT",
                    "SERVING",
                    "SINCE",
                    "ROLLING OUT",
                    "LAST EVENT",
                ],
                &rows,
            );
            out.extend(t.lines().map(|l| format!("  {l}")));
        }
        if status.pending_approvals.is_empty() {
            out.push("  pending approvals: none".into());
        } else {
            out.push("  pending approvals:".into());
            for p in &status.pending_approvals {
                out.push(format!(
                    "    {} for {}, requested {} of {}, expires {}",
                    model(&p.model_package_arn),
                    p.environment,
                    time(p.requested_at),
                    or_dash(p.approver.as_deref()),
                    opt_time(p.expires_at)
                ));
            }
        }
        if !suppressed.is_empty() {
            out.push(format!(
                "  suppressed triggers ({} in all, latest {}):",
                suppressed.len(),
                SUPPRESSED_SHOWN.min(suppressed.len())
            ));
            for s in suppressed.iter().rev().take(SUPPRESSED_SHOWN) {
                out.push(format!(
                    "    {} {}: {}",
                    time(s.at),
                    or_dash(s.trigger.as_deref()),
                    s.reason
                ));
            }
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testing::{schema, story_store};

    #[tokio::test]
    async fn json_schema_is_stable() {
        let store = story_store().await;
        let now = render::parse_time("2026-11-23T09:11:00Z").unwrap();
        let status = queries::status(&store, "payroll-fraud", now).await.unwrap();
        let suppressed = vec![SuppressedTrigger {
            at: now,
            group: "payroll-fraud".into(),
            trigger: Some("drift".into()),
            cause: Some("build/drift/payroll-fraud-prod@w".into()),
            reason: "cooldown".into(),
            policy_version: Some("ssm:/steward/policy:7".into()),
        }];
        // Earlier, an approval was still pending: the schema covers its fields too.
        let waiting = queries::status(
            &store,
            "payroll-fraud",
            render::parse_time("2026-11-23T07:00:00Z").unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(waiting.pending_approvals.len(), 1);
        let groups = vec![(status, suppressed), (waiting, vec![])];
        assert_eq!(schema(&to_json(&groups)), EXPECTED);
        let text = human(&groups, now);
        assert!(text.contains("prod         payroll-fraud/2"), "{text}");
        assert!(
            text.contains("payroll-fraud/3 (CANARY, since 2026-11-23T09:10:00Z)"),
            "{text}"
        );
        assert!(text.contains("pending approvals: none"), "{text}");
    }

    const EXPECTED: &[&str] = &[
        "groups: array",
        "groups[].environments: array",
        "groups[].environments[].environment: string",
        "groups[].environments[].lastEvent.at: string",
        "groups[].environments[].lastEvent.detailType: string",
        "groups[].environments[].lastEvent.environment: string",
        "groups[].environments[].lastEvent.eventId: string",
        "groups[].environments[].lastEvent.source: string",
        "groups[].environments[].lastEvent.summary: string",
        "groups[].environments[].lastEvent: object",
        "groups[].environments[].rollingOut.modelPackageArn: string",
        "groups[].environments[].rollingOut.since: string",
        "groups[].environments[].rollingOut.strategy: string",
        "groups[].environments[].rollingOut.version: number",
        "groups[].environments[].rollingOut: object",
        "groups[].environments[].serving.endpointConfig: string",
        "groups[].environments[].serving.from: string",
        "groups[].environments[].serving.how: string",
        "groups[].environments[].serving.modelPackageArn: string",
        "groups[].environments[].serving.version: number",
        "groups[].environments[].serving: object",
        "groups[].environments[]: object",
        "groups[].group: string",
        "groups[].lastBuild.at: string",
        "groups[].lastBuild.pipelineExecutionArn: string",
        "groups[].lastBuild.status: string",
        "groups[].lastBuild.trigger: string",
        "groups[].lastBuild: object",
        "groups[].pendingApprovals: array",
        "groups[].pendingApprovals[].approver: string",
        "groups[].pendingApprovals[].environment: string",
        "groups[].pendingApprovals[].expiresAt: string",
        "groups[].pendingApprovals[].modelPackageArn: string",
        "groups[].pendingApprovals[].requestedAt: string",
        "groups[].pendingApprovals[].version: number",
        "groups[].pendingApprovals[]: object",
        "groups[].suppressedTriggers: array",
        "groups[].suppressedTriggers[].at: string",
        "groups[].suppressedTriggers[].cause: string",
        "groups[].suppressedTriggers[].group: string",
        "groups[].suppressedTriggers[].policyVersion: string",
        "groups[].suppressedTriggers[].reason: string",
        "groups[].suppressedTriggers[].trigger: string",
        "groups[].suppressedTriggers[]: object",
        "groups[]: object",
    ];
}
