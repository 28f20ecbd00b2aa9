//! Pipeline outcomes: each status change of a managed pipeline's execution is
//! recorded in the execution's lineage (once per event); a failed run mails the
//! group's stewards the execution ARN and SageMaker's failure reason, once per
//! failure and steward however often the event is delivered.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use steward::aws_error;
use steward::build::outcome::{self, STATUS_CHANGED};
use steward::build::Ignored;
use steward::events::sagemaker::{PipelineExecutionStatus, PipelineExecutionStatusChange};
use steward::events::{AwsDetail, Envelope, EventError};
use steward::ledger::{Claim, Ledger, LineageRecord, Subject};
use steward::naming::IdempotencyKey;
use steward::notify::Mail;
use tracing::warn;

use crate::handler::{Context, Outcome};
use crate::StartBuildError;

pub async fn on_status_change<L: Ledger>(
    ctx: &Context<L>,
    event: Envelope<PipelineExecutionStatusChange>,
    at: DateTime<Utc>,
) -> Result<Outcome, StartBuildError> {
    let change = &event.detail;
    let Some(group) = outcome::group_of(&ctx.policy.policy, change) else {
        return Ok(Outcome::Ignored {
            reason: Ignored::NotManagedPipeline {
                pipeline_arn: change.pipeline_arn.clone(),
            }
            .to_string(),
        });
    };
    let event_id = event
        .id
        .as_deref()
        .ok_or(EventError::MissingField { field: "id" })?;
    let arn = &change.pipeline_execution_arn;
    let status = &change.current_pipeline_execution_status;
    let failure_reason = match status {
        PipelineExecutionStatus::Failed => failure_reason(ctx, arn).await?,
        _ => None,
    };
    let subject = Subject::Execution(arn.clone());
    let mut detail = json!({
        "modelPackageGroup": group.name,
        "pipelineExecutionArn": arn,
        "status": status,
        "previousStatus": change.previous_pipeline_execution_status,
        "policyVersion": ctx.policy.version,
    });
    if let Some(reason) = &failure_reason {
        detail["failureReason"] = json!(reason);
    }
    // Keyed by the event id: a redelivery lands on the same record.
    ctx.ledger
        .append(&LineageRecord {
            subject: subject.clone(),
            at,
            kind: STATUS_CHANGED.into(),
            id: event_id.to_string(),
            source: PipelineExecutionStatusChange::SOURCE.into(),
            detail,
        })
        .await?;
    let mut notified = Vec::new();
    if outcome::notifies(status) {
        let build = ctx
            .ledger
            .records(&subject)
            .await?
            .into_iter()
            .find(|r| r.kind == "build_started")
            .map(|r| r.detail);
        let mail =
            outcome::failure_mail(group, change, failure_reason.as_deref(), build.as_ref(), at);
        for steward in &group.stewards {
            if mail_once(ctx, arn, steward, &mail).await? {
                notified.push(steward.clone());
            }
        }
    }
    Ok(Outcome::StatusRecorded {
        group: group.name.clone(),
        pipeline_execution_arn: arn.clone(),
        status: status.to_string(),
        failure_reason,
        notified,
    })
}

/// SageMaker's `FailureReason` (the event does not carry it).
async fn failure_reason<L: Ledger>(
    ctx: &Context<L>,
    arn: &str,
) -> Result<Option<String>, StartBuildError> {
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
    Ok(out.failure_reason.filter(|r| !r.trim().is_empty()))
}

/// One mail per (failed execution, steward): claimed first, so a redelivery or
/// a retry after a partial failure mails no one twice. `false`: mailed before.
async fn mail_once<L: Ledger>(
    ctx: &Context<L>,
    arn: &str,
    to: &str,
    mail: &Mail,
) -> Result<bool, StartBuildError> {
    let notifier = ctx
        .notifier
        .as_ref()
        .ok_or(StartBuildError::NotificationsNotConfigured)?;
    let key = IdempotencyKey::new(format!("mail/pipeline-failed/{arn}/{to}"));
    let token = match ctx.ledger.claim(&key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(_) => return Ok(false),
        Claim::InProgress { lease_until } => {
            return Err(StartBuildError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    match notifier.send(to, mail).await {
        Ok(message_id) => {
            let result: Value = json!({ "messageId": message_id });
            ctx.ledger.complete(&token, &result).await?;
            Ok(true)
        }
        Err(e) => {
            if let Err(release) = ctx.ledger.release(&token).await {
                warn!(error = %release, cause = %key, "could not release the claim");
            }
            Err(e.into())
        }
    }
}
