//! The start-build handler: decode the trigger, decide the build from the
//! policy, then start it exactly once.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sagemaker::types::Parameter;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward::aws_error;
use steward::build::{self, BuildPlan, Decision};
use steward::events::s3::ObjectCreated;
use steward::events::steward::{BuildStarted, DataVersion, Header};
use steward::events::{self as ev, EventError};
use steward::ledger::{Claim, DynamoLedger, Ledger, LineageRecord, Subject};
use steward::policy_store::{load_policy, PolicyLoadError, PublishedPolicy};
use steward::publish::Publisher;
use tracing::{error, info, warn};

use crate::{Config, StartBuildError};

/// What start-build needs, made once per cold start.
pub struct Context<L = DynamoLedger> {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub ledger: L,
    pub publisher: Publisher,
    pub policy: PublishedPolicy,
    pub claim_lease: Duration,
}

impl Context<DynamoLedger> {
    /// Build the clients from one SDK config and load the published policy.
    pub async fn connect(aws: &SdkConfig, config: &Config) -> Result<Self, PolicyLoadError> {
        let policy = load_policy(&aws_sdk_ssm::Client::new(aws), &config.policy_parameter).await?;
        Ok(Self {
            sagemaker: aws_sdk_sagemaker::Client::new(aws),
            ledger: DynamoLedger::new(aws_sdk_dynamodb::Client::new(aws), &config.ledger_table),
            publisher: Publisher::new(aws_sdk_eventbridge::Client::new(aws), &config.event_bus),
            policy,
            claim_lease: config.claim_lease,
        })
    }
}

/// A build that was started, by this delivery or an earlier one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    pub group: String,
    pub pipeline_name: String,
    pub pipeline_execution_arn: String,
    pub cause: String,
    pub correlation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataVersion>,
}

/// The function's response: what this delivery did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// This delivery started the build.
    Started(Started),
    /// An earlier delivery of the same cause started it; nothing was done again.
    AlreadyStarted(Started),
    /// Nothing to build, and why.
    Ignored { reason: String },
}

/// The Lambda entry point: handle, and log the outcome or the typed error as JSON.
/// Errors are returned, not swallowed, so Lambda retries and then dead-letters.
pub async fn run<L: Ledger>(ctx: &Context<L>, payload: Value) -> Result<Outcome, StartBuildError> {
    let result = handle(ctx, payload).await;
    match &result {
        Ok(Outcome::Started(s)) => info!(
            group = %s.group,
            pipeline_execution_arn = %s.pipeline_execution_arn,
            correlation_id = %s.correlation_id,
            cause = %s.cause,
            "build started"
        ),
        Ok(Outcome::AlreadyStarted(s)) => info!(
            group = %s.group,
            pipeline_execution_arn = %s.pipeline_execution_arn,
            cause = %s.cause,
            "duplicate delivery: build already started"
        ),
        Ok(Outcome::Ignored { reason }) => info!(%reason, "nothing to build"),
        Err(e) => error!(error_type = e.error_type(), error = %e, "start-build failed"),
    }
    result
}

/// Handle one event.
pub async fn handle<L: Ledger>(
    ctx: &Context<L>,
    payload: Value,
) -> Result<Outcome, StartBuildError> {
    if ev::is::<ObjectCreated>(&payload) {
        return on_object_created(ctx, payload).await;
    }
    let (source, detail_type) = ev::event_type(&payload)?;
    Err(StartBuildError::Unsupported {
        event_source: source.to_string(),
        detail_type: detail_type.to_string(),
    })
}

async fn on_object_created<L: Ledger>(
    ctx: &Context<L>,
    payload: Value,
) -> Result<Outcome, StartBuildError> {
    let event = ev::decode_as::<ObjectCreated>(payload)?;
    match build::on_object_created(&ctx.policy.policy, &event.detail)? {
        Decision::Ignore(reason) => Ok(Outcome::Ignored {
            reason: reason.to_string(),
        }),
        Decision::Build(plan) => {
            // Records are keyed by the event's own time, so a redelivery of the
            // same event lands on the same ledger item.
            let at = event
                .time
                .ok_or(EventError::MissingField { field: "time" })?;
            start_once(ctx, &plan, at).await
        }
    }
}

/// Claim the cause, start the build, record it, then mark the claim done. A
/// failure releases the claim and returns the error, so the retry starts over.
async fn start_once<L: Ledger>(
    ctx: &Context<L>,
    plan: &BuildPlan,
    at: DateTime<Utc>,
) -> Result<Outcome, StartBuildError> {
    let token = match ctx.ledger.claim(&plan.key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(result) => {
            let started =
                serde_json::from_value(result).map_err(|e| StartBuildError::StoredResult {
                    key: plan.key.to_string(),
                    reason: e.to_string(),
                })?;
            return Ok(Outcome::AlreadyStarted(started));
        }
        Claim::InProgress { lease_until } => {
            return Err(StartBuildError::InProgress {
                key: plan.key.to_string(),
                lease_until,
            })
        }
    };
    match start(ctx, plan, at).await {
        Ok(started) => {
            let result = serde_json::to_value(&started).unwrap_or(Value::Null);
            ctx.ledger.complete(&token, &result).await?;
            Ok(Outcome::Started(started))
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
