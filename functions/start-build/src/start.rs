//! Starting one planned build exactly once: claim, guard, start, record.

use aws_sdk_sagemaker::types::Parameter;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward::aws_error;
use steward::build::BuildPlan;
use steward::events::steward::{BuildStarted, Header};
use steward::events::{self as ev};
use steward::guard::Verdict;
use steward::ledger::{Claim, Ledger, LineageRecord, Subject};
use tracing::warn;

use crate::handler::{Context, Outcome, Started};
use crate::StartBuildError;

/// Claim the cause, pass the retrain guard, start the build, record it, then
/// mark the claim done. A suppression is recorded and completes the claim too,
/// so a redelivery gets the same answer and the ledger one record. A failure
/// releases the claim and returns the error, so the retry starts over.
pub async fn start_guarded<L: Ledger>(
    ctx: &Context<L>,
    plan: &BuildPlan,
    at: DateTime<Utc>,
) -> Result<Outcome, StartBuildError> {
    let token = match ctx.ledger.claim(&plan.key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(result) => {
            let stored =
                serde_json::from_value(result).map_err(|e| StartBuildError::StoredResult {
                    key: plan.key.to_string(),
                    reason: e.to_string(),
                })?;
            return Ok(match stored {
                Stored::Started(started) => Outcome::AlreadyStarted(*started),
                Stored::Suppressed { suppressed } => Outcome::Suppressed {
                    group: plan.group.clone(),
                    cause: plan.key.to_string(),
                    reason: suppressed,
                },
            });
        }
        Claim::InProgress { lease_until } => {
            return Err(StartBuildError::InProgress {
                key: plan.key.to_string(),
                lease_until,
            })
        }
    };
    match guarded(ctx, plan, at).await {
        Ok((stored, outcome)) => {
            let result = serde_json::to_value(&stored).unwrap_or(Value::Null);
            ctx.ledger.complete(&token, &result).await?;
            Ok(outcome)
        }
        Err(e) => {
            if let Err(release) = ctx.ledger.release(&token).await {
                // The lease still expires, so the retry is only delayed.
                warn!(error = %release, cause = %plan.key, "could not release the claim");
            }
            Err(e)
        }
    }
}

/// What a claim remembers: the build, or why it was held back. Untagged so a
/// started build is stored exactly as before suppressions existed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Stored {
    Started(Box<Started>),
    Suppressed { suppressed: String },
}

async fn guarded<L: Ledger>(
    ctx: &Context<L>,
    plan: &BuildPlan,
    at: DateTime<Utc>,
) -> Result<(Stored, Outcome), StartBuildError> {
    match crate::guard::check(ctx, plan, at).await? {
        Verdict::Allow => {
            let started = start(ctx, plan, at).await?;
            Ok((
                Stored::Started(Box::new(started.clone())),
                Outcome::Started(started),
            ))
        }
        Verdict::Suppress { reason } => {
            crate::guard::record_suppression(ctx, plan, at, &reason).await?;
            Ok((
                Stored::Suppressed {
                    suppressed: reason.clone(),
                },
                Outcome::Suppressed {
                    group: plan.group.clone(),
                    cause: plan.key.to_string(),
                    reason,
                },
            ))
        }
    }
}

async fn start<L: Ledger>(
    ctx: &Context<L>,
    plan: &BuildPlan,
    at: DateTime<Utc>,
) -> Result<Started, StartBuildError> {
    let parameters = plan
        .parameters
        .iter()
        .map(|(name, value)| Parameter::builder().name(name).value(value).build())
        .collect();
    let out = ctx
        .sagemaker
        .start_pipeline_execution()
        .pipeline_name(&plan.pipeline_name)
        .pipeline_execution_display_name(&plan.display_name)
        .pipeline_execution_description(&plan.description)
        .set_pipeline_parameters(Some(parameters))
        // AWS returns the same execution for the same token: a retry after a
        // crash between this call and the claim's completion starts nothing new.
        .client_request_token(plan.key.client_request_token())
        .send()
        .await
        .map_err(|e| {
            // AWS documents ResourceNotFound; SageMaker (and the emulator) also
            // answer a missing pipeline with a ValidationException that says so.
            let not_found = e
                .as_service_error()
                .is_some_and(|se| se.is_resource_not_found())
                || aws_error::describe(&e).contains("not find pipeline")
                || aws_error::describe(&e).contains("does not exist");
            let message = aws_error::describe(&e);
            if not_found {
                StartBuildError::PipelineNotFound {
                    group: plan.group.clone(),
                    pipeline: plan.pipeline_name.clone(),
                    message,
                }
            } else {
                StartBuildError::StartPipeline {
                    pipeline: plan.pipeline_name.clone(),
                    message,
                }
            }
        })?;
    let arn = out
        .pipeline_execution_arn
        .ok_or_else(|| StartBuildError::StartPipeline {
            pipeline: plan.pipeline_name.clone(),
            message: "the response carried no PipelineExecutionArn".into(),
        })?;
    let event = BuildStarted {
        header: Header {
            model_package_group: plan.group.clone(),
            model_package_arn: None,
            environment: None,
            correlation_id: plan.key.correlation_id(),
            cause: plan.key.clone(),
            policy_version: Some(ctx.policy.version.clone()),
        },
        trigger: plan.trigger,
        pipeline_name: plan.pipeline_name.clone(),
        pipeline_execution_arn: arn.clone(),
        data: plan.data.clone(),
        commit: plan.commit.clone(),
    };
    let detail = serde_json::to_value(&event).unwrap_or(Value::Null);
    // The build's own lineage, and the group's history of builds.
    for subject in [
        Subject::Execution(arn.clone()),
        Subject::Group(plan.group.clone()),
    ] {
        ctx.ledger
            .append(&LineageRecord {
                subject,
                at,
                kind: "build_started".into(),
                id: plan.key.digest(),
                source: ev::steward::SOURCE.into(),
                detail: detail.clone(),
            })
            .await?;
    }
    ctx.publisher.publish(&event).await?;
    Ok(Started {
        group: plan.group.clone(),
        pipeline_name: plan.pipeline_name.clone(),
        pipeline_execution_arn: arn,
        cause: plan.key.to_string(),
        correlation_id: event.header.correlation_id.clone(),
        data: plan.data.clone(),
    })
}
