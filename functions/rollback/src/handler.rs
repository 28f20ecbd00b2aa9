//! The rollback handler: which environments watch the alarm, and what each
//! one's state calls for.

use std::time::Duration;

use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward::deploy::{self, sagemaker::SageMakerEndpoints};
use steward::events::cloudwatch::AlarmStateChange;
use steward::events::steward::{DeploymentFailed, StewardDetail};
use steward::events::{self as ev, EventError};
use steward::ledger::{DynamoEnvironments, DynamoLedger, EnvironmentLedger, Ledger};
use steward::notify::Notifier;
use steward::policy::Target;
use steward::policy_store::{load_policy, PolicyLoadError, PublishedPolicy};
use steward::publish::Publisher;
use tracing::{error, info};

use crate::respond::{respond, Alarm, Cause};
use crate::{Config, RollbackError};

/// What rollback needs, made once per cold start.
pub struct Context<L = DynamoLedger, E = DynamoEnvironments> {
    pub sagemaker: SageMakerEndpoints,
    /// Lambda-served environments: their alias and CodeDeploy deployments.
    pub alias_serving: crate::alias::AliasServing,
    pub ledger: L,
    pub environments: E,
    pub publisher: Publisher,
    pub notifier: Notifier,
    pub policy: PublishedPolicy,
    pub claim_lease: Duration,
}

impl Context {
    pub async fn connect(aws: &SdkConfig, config: &Config) -> Result<Self, PolicyLoadError> {
        let policy = load_policy(&aws_sdk_ssm::Client::new(aws), &config.policy_parameter).await?;
        let dynamo = aws_sdk_dynamodb::Client::new(aws);
        Ok(Self {
            sagemaker: SageMakerEndpoints::new(aws_sdk_sagemaker::Client::new(aws)),
            alias_serving: crate::alias::AliasServing::new(aws),
            ledger: DynamoLedger::new(dynamo.clone(), &config.ledger_table),
            environments: DynamoEnvironments::new(dynamo, &config.ledger_table),
            publisher: Publisher::new(aws_sdk_eventbridge::Client::new(aws), &config.event_bus),
            notifier: Notifier::new(aws_sdk_sns::Client::new(aws), &config.notifications_topic),
            policy,
            claim_lease: config.claim_lease,
        })
    }
}

/// What this delivery did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// SageMaker rolled the rollout back itself; verified and recorded.
    AutoRollbackVerified {
        group: String,
        environment: String,
        rejected: String,
        live_config: Option<String>,
    },
    /// Steward started a rollback to the last known good model (the deploy
    /// function records `Rollback Completed` once it is live).
    RollbackStarted {
        group: String,
        environment: String,
        rejected: String,
        to: String,
        to_endpoint_config: String,
    },
    /// The bad model serves and nothing known good is left: rejected, stewards
    /// told, nothing else to do.
    NoKnownGood {
        group: String,
        environment: String,
        rejected: String,
    },
    /// An earlier delivery (or an earlier alarm on the same model) did it.
    AlreadyHandled {
        cause: String,
        result: Value,
    },
    Ignored {
        reason: String,
    },
    Several {
        outcomes: Vec<Outcome>,
    },
}

impl Outcome {
    pub fn ignored(reason: impl Into<String>) -> Self {
        Outcome::Ignored {
            reason: reason.into(),
        }
    }
}

pub async fn run<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    payload: Value,
) -> Result<Outcome, RollbackError> {
    let result = handle(ctx, payload).await;
    match &result {
        Ok(outcome) => {
            info!(outcome = %serde_json::to_string(outcome).unwrap_or_default(), "rollback handled the alarm")
        }
        Err(e) => error!(error_type = e.error_type(), error = %e, "rollback failed"),
    }
    result
}

pub async fn handle<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    payload: Value,
) -> Result<Outcome, RollbackError> {
    let (source, detail_type) = ev::event_type(&payload)?;
    if source == ev::steward::SOURCE && detail_type == DeploymentFailed::DETAIL_TYPE {
        let event = ev::decode::<DeploymentFailed>(payload)?;
        let at = event
            .time
            .ok_or(EventError::MissingField { field: "time" })?;
        return on_failed_deployment(ctx, &event.detail, at).await;
    }
    let event = ev::decode_as::<AlarmStateChange>(payload)?;
    let at: DateTime<Utc> = event
        .time
        .ok_or(EventError::MissingField { field: "time" })?;
    let detail = &event.detail;
    if !detail.is_alarm() {
        return Ok(Outcome::ignored(format!(
            "alarm {} is {}: nothing to roll back",
            detail.alarm_name, detail.state.value
        )));
    }
    let watching = deploy::watching(&ctx.policy.policy, &detail.alarm_name);
    if watching.is_empty() {
        return Ok(Outcome::ignored(format!(
            "no environment watches alarm {}",
            detail.alarm_name
        )));
    }
    let alarm = Alarm {
        name: detail.alarm_name.clone(),
        reason: detail.state.reason.clone(),
        at,
        cause: Cause::Alarm,
    };
    let mut outcomes = Vec::new();
    for (group, env) in watching {
        // A Lambda-served environment is answered through its function's
        // alias and CodeDeploy.
        let serving = match &env.target {
            Target::SageMakerEndpoint { endpoint, .. } => endpoint,
            Target::LambdaAlias { function, .. } => function,
        };
        outcomes.push(respond(ctx, group, env, serving, &alarm, None).await?);
    }
    Ok(match outcomes.len() {
        1 => outcomes.remove(0),
        _ => Outcome::Several { outcomes },
    })
}

/// deploy saw SageMaker roll a rollout back: verify and record it (reject the
/// package, tell the stewards) unless the alarm's delivery already did.
async fn on_failed_deployment<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    detail: &DeploymentFailed,
    at: DateTime<Utc>,
) -> Result<Outcome, RollbackError> {
    let header = &detail.header;
    let (Some(arn), Some(environment)) = (&header.model_package_arn, &header.environment) else {
        return Ok(Outcome::ignored(
            "the failed deployment names no package or environment",
        ));
    };
    let unknown = || RollbackError::UnknownEnvironment {
        group: header.model_package_group.clone(),
        environment: environment.clone(),
    };
    let group = ctx
        .policy
        .policy
        .group(&header.model_package_group)
        .ok_or_else(unknown)?;
    let env = group.environment(environment).ok_or_else(unknown)?;
    let endpoint = match &env.target {
        Target::SageMakerEndpoint { endpoint, .. } => endpoint,
        Target::LambdaAlias { function, .. } => function,
    };
    let trigger = Alarm {
        name: "deployment".into(),
        reason: Some(detail.reason.clone()),
        at,
        cause: Cause::FailedDeployment,
    };
    respond(ctx, group, env, endpoint, &trigger, Some(arn)).await
}

/// `steward rollback <group> --env <env>`: the same response as to an alarm
/// after the rollout (back to the last known good model, the serving package
/// rejected, stewards told), asked for by an operator.
pub async fn by_operator<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    group: &str,
    environment: &str,
    who: &str,
    reason: &str,
) -> Result<Outcome, RollbackError> {
    let unknown = || RollbackError::UnknownEnvironment {
        group: group.to_string(),
        environment: environment.to_string(),
    };
    let group = ctx.policy.policy.group(group).ok_or_else(unknown)?;
    let env = group.environment(environment).ok_or_else(unknown)?;
    let serving = match &env.target {
        Target::SageMakerEndpoint { endpoint, .. } => endpoint,
        Target::LambdaAlias { function, .. } => function,
    };
    let trigger = Alarm {
        name: format!("operator:{who}"),
        reason: Some(reason.to_string()),
        at: Utc::now(),
        cause: Cause::Operator,
    };
    respond(ctx, group, env, serving.as_str(), &trigger, None).await
}
