//! `steward lineage <model-package-arn | group/version>`: the whole timeline
//! of one model; `--format markdown` gives a report an auditor can file.

use steward::audit::views::Lineage;
use steward::audit::{all_records, group_of_arn, queries, AuditSubject, DynamoAuditStore, Query};
use steward::ledger::DynamoLedger;

use crate::aws_args::AwsArgs;
use crate::render::{self, model, opt_time, or_dash, table, time};

#[derive(clap::Args, Debug)]
pub struct LineageArgs {
    /// A model package ARN, or `group/version`.
    pub model: String,
    /// `table` (default) or `markdown`.
    #[arg(long, default_value = "table", value_parser = ["table", "markdown"])]
    pub format: String,
    /// Print JSON for machines.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

pub async fn run(args: &LineageArgs) -> Result<(), String> {
    let (sdk, store) = args.aws.store().await;
    let ledger = DynamoLedger::new(aws_sdk_dynamodb::Client::new(&sdk), args.aws.table());
    let arn = resolve(&store, &args.model).await?;
    let lineage = queries::lineage(&store, Some(&ledger), &arn)
        .await
        .map_err(|e| e.to_string())?;
    if lineage.timeline.is_empty() {
        return Err(format!("the ledger has no record of {arn}"));
    }
    if args.json {
        return render::print_json(&lineage);
    }
    match args.format.as_str() {
        "markdown" => println!("{}", markdown(&lineage)),
        _ => println!("{}", human(&lineage)),
    }
    Ok(())
}

/// An ARN as given; `group/version` found among the group's records.
async fn resolve(store: &DynamoAuditStore, model: &str) -> Result<String, String> {
    if model.starts_with("arn:") {
        return Ok(model.to_string());
    }
    let (group, version) = model
        .rsplit_once('/')
        .filter(|(_, v)| v.parse::<u32>().is_ok())
        .ok_or_else(|| format!("`{model}` is neither a model package ARN nor group/version"))?;
    let suffix = format!(":model-package/{group}/{version}");
    let records = all_records(store, &AuditSubject::group(group), &Query::default())
        .await
        .map_err(|e| e.to_string())?;
    records
        .iter()
        .filter_map(|r| r.model_package_arn())
        .find(|arn| arn.ends_with(&suffix) && group_of_arn(arn).as_deref() == Some(group))
        .map(String::from)
        .ok_or_else(|| format!("the ledger has no model package {model}"))
}

pub fn human(l: &Lineage) -> String {
    let mut out = vec![format!(
        "{} ({})",
        model(&l.model_package_arn),
        l.model_package_arn
    )];
    if let Some(b) = &l.build {
        out.push(format!(
            "  build: {} trigger {} status {} started {}",
            b.pipeline_execution_arn,
            or_dash(b.trigger.as_deref()),
            or_dash(b.status.as_deref()),
            opt_time(b.started_at)
        ));
        out.push(format!(
            "  data: {} (version {}), commit {}, policy {}",
            or_dash(b.data_uri.as_deref()),
            or_dash(b.data_version.as_deref()),
            or_dash(b.commit.as_deref()),
            or_dash(b.policy_version.as_deref())
        ));
    }
    if let Some(r) = &l.registration {
        out.push(format!(
            "  registry: {} (registered {}), metrics {}",
            or_dash(r.approval_status.as_deref()),
            time(r.registered_at),
            or_dash(r.metrics_uri.as_deref())
        ));
    }
    let rows: Vec<Vec<String>> = l
        .timeline
        .iter()
        .map(|e| {
            vec![
                time(e.at),
                e.environment.clone().unwrap_or_else(|| "-".into()),
                e.detail_type.clone(),
                e.summary.clone(),
            ]
        })
        .collect();
    out.push(String::new());
    out.push(table(&["TIME", "ENV", "EVENT", "SUMMARY"], &rows));
    out.join("\n")
}

/// A report to file: provenance, evidence, decisions, deployments, incidents.
pub fn markdown(l: &Lineage) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut md = vec![
        format!("# Lineage of {}", model(&l.model_package_arn)),
        String::new(),
        format!("Model package: `{}`", l.model_package_arn),
        String::new(),
        "## Provenance".into(),
        String::new(),
    ];
    match &l.build {
        Some(b) => {
            md.push("| | |".into());
            md.push("|---|---|".into());
            for (k, v) in [
                ("Pipeline execution", Some(b.pipeline_execution_arn.clone())),
                ("Trigger", b.trigger.clone()),
                ("Started", b.started_at.map(time)),
                ("Status", b.status.clone()),
                ("Data", b.data_uri.clone()),
                ("Data version", b.data_version.clone()),
                ("Commit", b.commit.clone()),
                ("Policy version", b.policy_version.clone()),
                ("Cause", b.cause.clone()),
            ] {
                md.push(format!("| {k} | {} |", cell(v.as_deref().unwrap_or("-"))));
            }
        }
        None => md.push("No build recorded.".into()),
    }
    md.extend(["".into(), "## Gate".into(), "".into()]);
    if l.gates.is_empty() {
        md.push("No gate evaluation recorded.".into());
    }
    for g in &l.gates {
        md.push(format!(
            "{}: **{}**, {} checks, policy {}, champion {}, metrics `{}`",
            time(g.at),
            match g.passed {
                Some(true) => "passed",
                Some(false) => "failed",
                None => "evaluated",
            },
            g.checks_run.map_or("?".into(), |n| n.to_string()),
            or_dash(g.policy_version.as_deref()),
            g.champion.as_deref().map_or("-".into(), model),
            g.metrics
        ));
        md.push(String::new());
        for f in &g.failures {
            md.push(format!("- failed: {f}"));
        }
        if !g.checks.is_empty() {
            md.push("| Metric | Check | Value | Bound | Champion | Passed | Reason |".into());
            md.push("|---|---|---|---|---|---|---|".into());
            for c in &g.checks {
                let s = |k: &str| {
                    c.get(k)
                        .map(|v| {
                            v.as_str()
                                .map(String::from)
                                .unwrap_or_else(|| v.to_string())
                        })
                        .unwrap_or_else(|| "-".into())
                };
                md.push(format!(
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    cell(&s("metric")),
                    cell(&s("kind")),
                    s("value"),
                    s("bound"),
                    s("championValue"),
                    s("passed"),
                    cell(&s("reason"))
                ));
            }
        }
    }
    md.extend(["".into(), "## Approvals".into(), "".into()]);
    if l.approvals.is_empty() {
        md.push("No approval recorded.".into());
    } else {
        md.push("| Time | Step | Environment | Approver | Decision | Channel | Comment |".into());
        md.push("|---|---|---|---|---|---|---|".into());
        for a in &l.approvals {
            md.push(format!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                time(a.at),
                a.step,
                or_dash(a.environment.as_deref()),
                cell(&or_dash(a.approver.as_deref())),
                or_dash(a.decision.as_deref()),
                or_dash(a.channel.as_deref()),
                cell(&or_dash(a.comment.as_deref()))
            ));
        }
    }
    md.extend(["".into(), "## Deployments".into(), "".into()]);
    if l.deployments.is_empty() {
        md.push("Never deployed.".into());
    } else {
        md.push("| Environment | Strategy | Started | Outcome | Finished | Reason |".into());
        md.push("|---|---|---|---|---|---|".into());
        for d in &l.deployments {
            md.push(format!(
                "| {} | {} | {} | {} | {} | {} |",
                d.environment,
                or_dash(d.strategy.as_deref()),
                opt_time(d.started_at),
                d.outcome,
                opt_time(d.finished_at),
                cell(&or_dash(d.reason.as_deref()))
            ));
        }
    }
    md.extend(["".into(), "## Rollbacks".into(), "".into()]);
    if l.rollbacks.is_empty() {
        md.push("None.".into());
    }
    for r in &l.rollbacks {
        md.push(format!(
            "- {} in {}: {} (alarm {}, {}), completed {}{}",
            time(r.started_at),
            r.environment,
            r.reason,
            or_dash(r.alarm.as_deref()),
            match r.automatic {
                Some(true) => "automatic",
                Some(false) => "by Steward",
                None => "-",
            },
            opt_time(r.completed_at),
            r.to_model_package_arn
                .as_deref()
                .map(|to| format!(", back to {}", model(to)))
                .unwrap_or_default()
        ));
    }
    md.extend(["".into(), "## Drift".into(), "".into()]);
    if l.drift.is_empty() {
        md.push("None found while it served.".into());
    }
    for d in &l.drift {
        md.push(format!("- {}: {}", time(d.at), d.summary));
    }
    md.extend([
        "".into(),
        "## Timeline".into(),
        "".into(),
        "| Time | Event | Summary | Event id |".into(),
        "|---|---|---|---|".into(),
    ]);
    for e in &l.timeline {
        md.push(format!(
            "| {} | {} | {} | `{}` |",
            time(e.at),
            e.detail_type,
            cell(&e.summary),
            e.event_id
        ));
    }
    md.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testing::{gate_ledger, schema, story_store};

    const V3: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/3";

    #[tokio::test]
    async fn json_schema_is_stable_and_the_report_has_every_section() {
        let store = story_store().await;
        let ledger = gate_ledger().await;
        let lineage = queries::lineage(&store, Some(&ledger), V3).await.unwrap();
        assert_eq!(schema(&serde_json::to_value(&lineage).unwrap()), EXPECTED);
        let md = markdown(&lineage);
        for section in [
            "# Lineage of payroll-fraud/3",
            "## Provenance",
            "## Gate",
            "## Approvals",
            "## Deployments",
            "## Rollbacks",
            "## Drift",
            "## Timeline",
        ] {
            assert!(md.contains(section), "{section} missing:\n{md}");
        }
        assert!(
            md.contains("| ana@example.com | Approved | link | AUC up, bias report clean |"),
            "{md}"
        );
        assert!(md.contains("alarm payroll-fraud-prod-5xx"), "{md}");
        assert!(md.contains("| auc | threshold | 0.93 | 0.85 |"), "{md}");
        let text = human(&lineage);
        assert!(text.contains("Rollback Completed"), "{text}");
    }

    const EXPECTED: &[&str] = &[
        "approvals: array",
        "approvals[].approver: string",
        "approvals[].at: string",
        "approvals[].channel: string",
        "approvals[].comment: string",
        "approvals[].decision: string",
        "approvals[].environment: string",
        "approvals[].step: string",
        "approvals[]: object",
        "build.cause: string",
        "build.commit: string",
        "build.correlationId: string",
        "build.dataUri: string",
        "build.dataVersion: string",
        "build.endedAt: string",
        "build.pipelineExecutionArn: string",
        "build.pipelineName: string",
        "build.policyVersion: string",
        "build.startedAt: string",
        "build.status: string",
        "build.trigger: string",
        "build: object",
        "deployments: array",
        "deployments[].endpointConfig: string",
        "deployments[].environment: string",
        "deployments[].finishedAt: string",
        "deployments[].outcome: string",
        "deployments[].startedAt: string",
        "deployments[].strategy: string",
        "deployments[].target: string",
        "deployments[]: object",
        "drift: array",
        "drift[].at: string",
        "drift[].endpoint: string",
        "drift[].summary: string",
        "drift[]: object",
        "gates: array",
        "gates[].at: string",
        "gates[].champion: string",
        "gates[].checks: array",
        "gates[].checksRun: number",
        "gates[].evaluatedAt: string",
        "gates[].metrics: object",
        "gates[].passed: boolean",
        "gates[].policyVersion: string",
        "gates[]: object",
        "group: string",
        "modelPackageArn: string",
        "registration.approvalDescription: string",
        "registration.approvalStatus: string",
        "registration.commit: string",
        "registration.dataUri: string",
        "registration.dataVersion: string",
        "registration.metricsUri: string",
        "registration.modelDataUrl: string",
        "registration.registeredAt: string",
        "registration: object",
        "rollbacks: array",
        "rollbacks[].alarm: string",
        "rollbacks[].automatic: boolean",
        "rollbacks[].completedAt: string",
        "rollbacks[].environment: string",
        "rollbacks[].reason: string",
        "rollbacks[].startedAt: string",
        "rollbacks[].toModelPackageArn: string",
        "rollbacks[]: object",
        "timeline: array",
        "timeline[].at: string",
        "timeline[].detailType: string",
        "timeline[].environment: string",
        "timeline[].eventId: string",
        "timeline[].source: string",
        "timeline[].summary: string",
        "timeline[]: object",
        "version: number",
    ];
}
