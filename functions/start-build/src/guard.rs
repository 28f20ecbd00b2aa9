//! The retrain guard at work: the group's history from the ledger, whether its
//! latest build still runs from SageMaker, the decision from `steward::guard`.

use chrono::{DateTime, Utc};
use serde_json::json;
use steward::aws_error;
use steward::build::BuildPlan;
use steward::events::sagemaker::PipelineExecutionStatus;
use steward::guard::{decide, GuardInput, PastBuild, Verdict};
use steward::ledger::{Ledger, LineageRecord, Subject};

use crate::handler::Context;
use crate::StartBuildError;

/// The ledger kind of a build the guard held back.
pub const SUPPRESSED: &str = "build_suppressed";

pub async fn check<L: Ledger>(
    ctx: &Context<L>,
    plan: &BuildPlan,
    at: DateTime<Utc>,
) -> Result<Verdict, StartBuildError> {
    if plan.force {
        return Ok(Verdict::Allow);
    }
    let Some(group) = ctx.policy.policy.group(&plan.group) else {
        // Plans come from the policy; a group that vanished has no guard to apply.
        return Ok(Verdict::Allow);
    };
    let history: Vec<PastBuild> = ctx
        .ledger
        .records(&Subject::Group(plan.group.clone()))
        .await?
        .into_iter()
        .filter(|r| r.kind == "build_started")
        .filter_map(|r| {
            Some(PastBuild {
                at: r.at,
                pipeline_execution_arn: r.detail["pipelineExecutionArn"].as_str()?.to_string(),
            })
        })
        .collect();
    let executing = match history.iter().max_by_key(|b| b.at) {
        Some(latest) if still_running(ctx, &latest.pipeline_execution_arn).await? => {
            Some(latest.pipeline_execution_arn.as_str())
        }
        _ => None,
    };
    Ok(decide(&GuardInput {
        guard: &group.retrain,
        history: &history,
        executing,
        trigger: plan.trigger,
        now: at,
        force: plan.force,
    }))
}

async fn still_running<L: Ledger>(ctx: &Context<L>, arn: &str) -> Result<bool, StartBuildError> {
    let out = ctx
        .sagemaker
        .describe_pipeline_execution()
        .pipeline_execution_arn(arn)
        .send()
        .await
        .map_err(|e| StartBuildError::DescribeExecution {
            arn: arn.to_string(),
            message: aws_error::describe(&e),
        })?;
    let status = out
        .pipeline_execution_status
        .map(|s| PipelineExecutionStatus::from(s.as_str()));
    Ok(matches!(
        status,
        Some(PipelineExecutionStatus::Executing | PipelineExecutionStatus::Stopping)
    ))
}

/// `GROUP#<group>` / `build_suppressed`: the trigger, its cause and the reason.
pub async fn record_suppression<L: Ledger>(
    ctx: &Context<L>,
    plan: &BuildPlan,
    at: DateTime<Utc>,
    reason: &str,
) -> Result<(), StartBuildError> {
    let mut detail = json!({
        "modelPackageGroup": plan.group,
        "trigger": plan.trigger,
        "cause": plan.key,
        "reason": reason,
        "policyVersion": ctx.policy.version,
    });
    if let Some(commit) = &plan.commit {
        detail["commit"] = json!(commit);
    }
    if let Some(data) = &plan.data {
        detail["data"] = json!(data);
    }
    ctx.ledger
        .append(&LineageRecord {
            subject: Subject::Group(plan.group.clone()),
            at,
            kind: SUPPRESSED.into(),
            id: plan.key.digest(),
            source: steward::events::steward::SOURCE.into(),
            detail,
        })
        .await?;
    Ok(())
}
