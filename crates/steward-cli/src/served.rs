//! `steward served <endpoint> --at <time>`: which model served then, since
//! when, who approved it, on what evidence, from what data and commit.

use steward::audit::queries::{self, ServedAnswer};
use steward::ledger::DynamoLedger;

use crate::aws_args::AwsArgs;
use crate::render::{self, model, opt_time, or_dash, time};

#[derive(clap::Args, Debug)]
pub struct ServedArgs {
    /// The SageMaker endpoint's name.
    pub endpoint: String,
    /// The instant to ask about (RFC 3339, e.g. 2026-11-23T09:15:00Z).
    #[arg(long)]
    pub at: String,
    /// Print JSON for machines.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

pub async fn run(args: &ServedArgs) -> Result<(), String> {
    let at = render::parse_time(&args.at)?;
    let (sdk, store) = args.aws.store().await;
    let ledger = DynamoLedger::new(aws_sdk_dynamodb::Client::new(&sdk), args.aws.table());
    let answer = queries::served(&store, Some(&ledger), &args.endpoint, at)
        .await
        .map_err(|e| e.to_string())?;
    if args.json {
        return render::print_json(&answer);
    }
    println!("{}", human(&answer));
    Ok(())
}

pub fn human(a: &ServedAnswer) -> String {
    let mut out = vec![format!("{} at {}", a.endpoint, time(a.at))];
    let (Some(group), Some(env)) = (&a.group, &a.environment) else {
        out.push("  no Steward deployment to this endpoint is recorded".into());
        return out.join("\n");
    };
    out.push(format!("  group {group}, environment {env}"));
    match &a.serving {
        None => {
            out.push("  serving: nothing Steward deployed (before its first deployment)".into())
        }
        Some(s) => {
            out.push(format!(
                "  serving: {} ({}) from {} until {}",
                model(&s.model_package_arn),
                s.how,
                time(s.from),
                s.until.map(time).unwrap_or_else(|| "now".into())
            ));
            out.push(format!("  model package: {}", s.model_package_arn));
        }
    }
    if let Some(r) = &a.rolling_out {
        out.push(format!(
            "  rolling out: {} ({}) since {}",
            model(&r.model_package_arn),
            or_dash(r.strategy.as_deref()),
            time(r.since)
        ));
    }
    for ap in &a.approvals {
        out.push(format!(
            "  approved: {} by {} via {} at {}{}",
            or_dash(ap.decision.as_deref()),
            or_dash(ap.approver.as_deref()),
            or_dash(ap.channel.as_deref()),
            time(ap.at),
            ap.comment
                .as_deref()
                .map(|c| format!(" \"{c}\""))
                .unwrap_or_default()
        ));
    }
    if let Some(g) = &a.gate {
        out.push(format!(
            "  evidence: gate {} at {} ({} checks, policy {}){}{}",
            match g.passed {
                Some(true) => "passed",
                Some(false) => "failed",
                None => "evaluated",
            },
            time(g.at),
            g.checks_run.map_or("?".into(), |n| n.to_string()),
            or_dash(g.policy_version.as_deref()),
            g.champion
                .as_deref()
                .map(|c| format!(", against champion {}", model(c)))
                .unwrap_or_default(),
            if g.metrics.is_null() {
                String::new()
            } else {
                format!(", metrics {}", g.metrics)
            }
        ));
    }
    if let Some(metrics) = a
        .registration
        .as_ref()
        .and_then(|r| r.metrics_uri.as_deref())
    {
        out.push(format!("  evaluation report: {metrics}"));
    }
    if let Some(b) = &a.build {
        out.push(format!(
            "  data: {} (version {})",
            or_dash(b.data_uri.as_deref()),
            or_dash(b.data_version.as_deref())
        ));
        out.push(format!(
            "  commit: {}, build {} ({}), started {}",
            or_dash(b.commit.as_deref()),
            b.pipeline_execution_arn,
            or_dash(b.trigger.as_deref()),
            opt_time(b.started_at)
        ));
    } else if let Some(r) = &a.registration {
        out.push(format!(
            "  data: {}, commit: {}",
            or_dash(r.data_uri.as_deref()),
            or_dash(r.commit.as_deref())
        ));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testing::{gate_ledger, schema, story_store};

    #[tokio::test]
    async fn json_schema_is_stable() {
        let store = story_store().await;
        let at = render::parse_time("2026-11-23T09:15:00Z").unwrap();
        let ledger = gate_ledger().await;
        let answer = queries::served(&store, Some(&ledger), "payroll-fraud-prod", at)
            .await
            .unwrap();
        let paths = schema(&serde_json::to_value(&answer).unwrap());
        assert_eq!(paths, EXPECTED);
        let text = human(&answer);
        assert!(
            text.contains("serving: payroll-fraud/3 (deployed) from 2026-11-23T09:12:40Z"),
            "{text}"
        );
        assert!(text.contains("by ana@example.com via link"), "{text}");
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
        "at: string",
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
        "endpoint: string",
        "environment: string",
        "gate.at: string",
        "gate.champion: string",
        "gate.checks: array",
        "gate.checksRun: number",
        "gate.evaluatedAt: string",
        "gate.metrics: object",
        "gate.passed: boolean",
        "gate.policyVersion: string",
        "gate: object",
        "group: string",
        "registration.approvalDescription: string",
        "registration.approvalStatus: string",
        "registration.commit: string",
        "registration.dataUri: string",
        "registration.dataVersion: string",
        "registration.metricsUri: string",
        "registration.modelDataUrl: string",
        "registration.registeredAt: string",
        "registration: object",
        "serving.endedBy: string",
        "serving.endpointConfig: string",
        "serving.from: string",
        "serving.how: string",
        "serving.modelPackageArn: string",
        "serving.until: string",
        "serving.version: number",
        "serving: object",
    ];
}
