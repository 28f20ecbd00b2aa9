//! The start-build handler: decode the trigger, decide the builds from the
//! policy, pass each through the retrain guard, then start it exactly once.

use std::time::Duration;

use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward::build::quiet_store::QuietPeriods;
use steward::build::{self, BuildPlan, Decision, Plans};
use steward::events::codecommit::RepositoryStateChange;
use steward::events::s3::ObjectCreated;
use steward::events::sagemaker::PipelineExecutionStatusChange;
use steward::events::schedule::Scheduled;
use steward::events::steward::DataVersion;
use steward::events::{self as ev, EventError};
use steward::ledger::{DynamoLedger, Ledger};
use steward::notify::Notifier;
use steward::policy_store::{load_policy, PolicyLoadError, PublishedPolicy};
use steward::publish::Publisher;
use tracing::{error, info};

use crate::start::start_guarded;
use crate::{Config, StartBuildError};

/// What start-build needs, made once per cold start.
pub struct Context<L = DynamoLedger> {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub ledger: L,
    pub publisher: Publisher,
    pub policy: PublishedPolicy,
    pub claim_lease: Duration,
    /// Quiet-window groups' open periods, on the ledger's table.
    pub quiet: QuietPeriods,
    /// Mail to stewards (a failed run); `None` when no topic is configured.
    pub notifier: Option<Notifier>,
}

impl Context<DynamoLedger> {
    /// Build the clients from one SDK config and load the published policy.
    pub async fn connect(aws: &SdkConfig, config: &Config) -> Result<Self, PolicyLoadError> {
        let policy = load_policy(&aws_sdk_ssm::Client::new(aws), &config.policy_parameter).await?;
        let dynamodb = aws_sdk_dynamodb::Client::new(aws);
        Ok(Self {
            sagemaker: aws_sdk_sagemaker::Client::new(aws),
            quiet: QuietPeriods::new(dynamodb.clone(), &config.ledger_table),
            ledger: DynamoLedger::new(dynamodb, &config.ledger_table),
            publisher: Publisher::new(aws_sdk_eventbridge::Client::new(aws), &config.event_bus),
            policy,
            claim_lease: config.claim_lease,
            notifier: config
                .notifications_topic
                .as_ref()
                .map(|topic| Notifier::new(aws_sdk_sns::Client::new(aws), topic)),
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
    /// The retrain guard held the build back; recorded in the ledger (once per
    /// cause: a redelivery gets the same answer).
    Suppressed {
        group: String,
        cause: String,
        reason: String,
    },
    /// Data for a quiet-window group: recorded in its quiet period (`opened`,
    /// `extended`, or `covered` when not newer than the period's latest
    /// object); the tick builds the period once it is quiet until `quiet_until`.
    Debounced {
        group: String,
        key: String,
        recorded: String,
        period: String,
        quiet_until: String,
    },
    /// A build's pipeline execution changed status: recorded in its lineage;
    /// `notified` names the stewards this delivery mailed (a failed run, once).
    StatusRecorded {
        group: String,
        pipeline_execution_arn: String,
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_reason: Option<String>,
        notified: Vec<String>,
    },
    /// One trigger concerned several groups (a push to a shared repository):
    /// each group's outcome.
    Several { outcomes: Vec<Outcome> },
}

/// The Lambda entry point: handle, and log the outcome or the typed error as JSON.
/// Errors are returned, not swallowed, so Lambda retries and then dead-letters.
pub async fn run<L: Ledger>(ctx: &Context<L>, payload: Value) -> Result<Outcome, StartBuildError> {
    let result = handle(ctx, payload).await;
    match &result {
        Ok(outcome) => log(outcome),
        Err(e) => error!(error_type = e.error_type(), error = %e, "start-build failed"),
    }
    result
}

fn log(outcome: &Outcome) {
    match outcome {
        Outcome::Started(s) => info!(
            group = %s.group,
            pipeline_execution_arn = %s.pipeline_execution_arn,
            correlation_id = %s.correlation_id,
            cause = %s.cause,
            "build started"
        ),
        Outcome::AlreadyStarted(s) => info!(
            group = %s.group,
            pipeline_execution_arn = %s.pipeline_execution_arn,
            cause = %s.cause,
            "duplicate delivery: build already started"
        ),
        Outcome::Ignored { reason } => info!(%reason, "nothing to build"),
        Outcome::Suppressed {
            group,
            cause,
            reason,
        } => info!(%group, %cause, %reason, "build suppressed by the retrain guard"),
        Outcome::Debounced {
            group,
            key,
            recorded,
            quiet_until,
            ..
        } => info!(%group, %key, %recorded, %quiet_until, "data recorded in the quiet period"),
        Outcome::StatusRecorded {
            group,
            pipeline_execution_arn,
            status,
            notified,
            ..
        } => {
            info!(%group, %pipeline_execution_arn, %status, notified = notified.len(), "pipeline status recorded")
        }
        Outcome::Several { outcomes } => outcomes.iter().for_each(log),
    }
}

/// Handle one event.
pub async fn handle<L: Ledger>(
    ctx: &Context<L>,
    payload: Value,
) -> Result<Outcome, StartBuildError> {
    if ev::is::<ObjectCreated>(&payload) {
        return on_object_created(ctx, payload).await;
    }
    if ev::is::<RepositoryStateChange>(&payload) {
        let event = ev::decode_as::<RepositoryStateChange>(payload)?;
        let at = time(event.time)?;
        let plans = build::on_codecommit(&ctx.policy.policy, &event.detail)?;
        return start_all(ctx, plans, at).await;
    }
    if ev::is::<PipelineExecutionStatusChange>(&payload) {
        let event = ev::decode_as::<PipelineExecutionStatusChange>(payload)?;
        let at = time(event.time)?;
        return crate::outcome::on_status_change(ctx, event, at).await;
    }
    if ev::is::<Scheduled>(&payload) {
        let event = ev::decode_as::<Scheduled>(payload)?;
        return crate::schedule::on_tick(ctx, time(event.time)?).await;
    }
    let (source, detail_type) = ev::event_type(&payload)?;
    if source == ev::steward::SOURCE {
        match detail_type {
            build::GIT_PUSH => {
                let event = ev::decode::<build::GitPush>(payload)?;
                let plans = build::on_git_push(&ctx.policy.policy, &event.detail)?;
                return start_all(ctx, plans, time(event.time)?).await;
            }
            build::DRIFT_DETECTED => {
                let event = ev::decode::<build::DriftDetected>(payload)?;
                let id = event
                    .id
                    .as_deref()
                    .ok_or(EventError::MissingField { field: "id" })?;
                let plans = build::on_drift(&ctx.policy.policy, &event.detail, id)?;
                return start_all(ctx, plans, time(event.time)?).await;
            }
            build::BUILD_REQUESTED => {
                let event = ev::decode::<build::BuildRequested>(payload)?;
                let id = event
                    .id
                    .as_deref()
                    .ok_or(EventError::MissingField { field: "id" })?;
                let plans = build::on_build_requested(&ctx.policy.policy, &event.detail, id)?;
                return start_all(ctx, plans, time(event.time)?).await;
            }
            _ => {}
        }
    }
    Err(StartBuildError::Unsupported {
        event_source: source.to_string(),
        detail_type: detail_type.to_string(),
    })
}

/// Records are keyed by the event's own time, so a redelivery of the same event
/// lands on the same ledger item.
fn time(at: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, EventError> {
    at.ok_or(EventError::MissingField { field: "time" })
}

async fn on_object_created<L: Ledger>(
    ctx: &Context<L>,
    payload: Value,
) -> Result<Outcome, StartBuildError> {
    let event = ev::decode_as::<ObjectCreated>(payload)?;
    let at = time(event.time)?;
    match build::on_object_created(&ctx.policy.policy, &event.detail, at)? {
        Decision::Ignore(reason) => Ok(Outcome::Ignored {
            reason: reason.to_string(),
        }),
        Decision::Quiet(arrival) => crate::quiet::on_arrival(ctx, arrival).await,
        Decision::Build(plan) => start_guarded(ctx, &plan, at).await,
    }
}

/// Each plan through the guard and started once. A failure returns the error at
/// once: the retry finds the groups already done by their keys.
pub(crate) async fn start_all<L: Ledger>(
    ctx: &Context<L>,
    plans: Plans,
    at: DateTime<Utc>,
) -> Result<Outcome, StartBuildError> {
    let plans: Vec<BuildPlan> = match plans {
        Plans::Ignore(reason) => {
            return Ok(Outcome::Ignored {
                reason: reason.to_string(),
            })
        }
        Plans::Build(plans) => plans,
    };
    let mut outcomes = Vec::with_capacity(plans.len());
    for plan in &plans {
        outcomes.push(start_guarded(ctx, plan, at).await?);
    }
    Ok(match outcomes.len() {
        1 => outcomes.remove(0),
        _ => Outcome::Several { outcomes },
    })
}
