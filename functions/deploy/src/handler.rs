//! The deploy handler: dispatch on the event, log the outcome or the typed
//! error as JSON.

use std::time::Duration;

use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward::deploy::sagemaker::SageMakerEndpoints;
use steward::events::codedeploy::DeploymentStateChange;
use steward::events::sagemaker::{
    EndpointDeploymentStateChange, EndpointStateChange, ModelPackageStateChange,
};
use steward::events::schedule::Scheduled;
use steward::events::steward::ApprovalDecided;
use steward::events::{self as ev, EventError};
use steward::ledger::{DynamoEnvironments, DynamoLedger, EnvironmentLedger, Ledger};
use steward::notify::Notifier;
use steward::policy_store::{load_policy, PolicyLoadError, PublishedPolicy};
use steward::publish::Publisher;
use tracing::{error, info};

use crate::rollout::{deploy_to, DeployRequest};
use crate::{Config, DeployError};

/// What deploy needs, made once per cold start.
pub struct Context<L = DynamoLedger, E = DynamoEnvironments> {
    pub sagemaker: SageMakerEndpoints,
    /// Lambda-served environments: the function versions and CodeDeploy.
    pub lambda_serving: crate::lambda_serving::LambdaServing,
    pub lambda_targets: crate::LambdaTargets,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Smoke tests: the case files, and the endpoint they are replayed against.
    pub s3: aws_sdk_s3::Client,
    pub runtime: aws_sdk_sagemakerruntime::Client,
    pub ledger: L,
    pub environments: E,
    pub publisher: Publisher,
    /// Stewards are mailed when a smoke test fails or the policy promotes.
    pub notifier: Notifier,
    pub policy: PublishedPolicy,
    pub execution_role_arn: String,
    pub claim_lease: Duration,
}

impl Context {
    pub async fn connect(aws: &SdkConfig, config: &Config) -> Result<Self, PolicyLoadError> {
        let policy = load_policy(&aws_sdk_ssm::Client::new(aws), &config.policy_parameter).await?;
        let dynamo = aws_sdk_dynamodb::Client::new(aws);
        Ok(Self {
            sagemaker: SageMakerEndpoints::new(aws_sdk_sagemaker::Client::new(aws)),
            lambda_serving: crate::lambda_serving::LambdaServing {
                lambda: aws_sdk_lambda::Client::new(aws),
                codedeploy: aws_sdk_codedeploy::Client::new(aws),
            },
            lambda_targets: config.lambda.clone(),
            cloudwatch: aws_sdk_cloudwatch::Client::new(aws),
            s3: s3_client(aws),
            runtime: aws_sdk_sagemakerruntime::Client::new(aws),
            ledger: DynamoLedger::new(dynamo.clone(), &config.ledger_table),
            environments: DynamoEnvironments::new(dynamo, &config.ledger_table),
            publisher: Publisher::new(aws_sdk_eventbridge::Client::new(aws), &config.event_bus),
            notifier: Notifier::new(aws_sdk_sns::Client::new(aws), &config.notifications_topic),
            policy,
            execution_role_arn: config.execution_role_arn.clone(),
            claim_lease: config.claim_lease,
        })
    }
}

/// Path-style addressing when a custom endpoint is set (the local twin serves
/// no virtual-hosted bucket names); the default otherwise.
fn s3_client(aws: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(aws)
        .force_path_style(aws.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// What this delivery did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// A rollout started (or a retry found its own rollout and carried on).
    Started {
        group: String,
        environment: String,
        version: u32,
        endpoint_config: String,
        /// `create`, `update`, `already-rolling-out` or `already-live`.
        action: String,
    },
    /// An earlier delivery of the same cause did the work; its result.
    AlreadyDone {
        cause: String,
        result: Value,
    },
    /// A rollout ended: `succeeded`, `failed`, `rolled-back` (a rollback
    /// rollout reached its known good model) or `rollback-failed`.
    Finished {
        group: String,
        environment: String,
        endpoint_config: String,
        result: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A bake ended without an alarm: known good; and what followed.
    Baked {
        group: String,
        environment: String,
        version: u32,
        /// `deployed <env>`, `approval requested for <env>` or `end of chain`.
        promotion: String,
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
) -> Result<Outcome, DeployError> {
    let result = handle(ctx, payload).await;
    match &result {
        Ok(outcome) => {
            info!(outcome = %serde_json::to_string(outcome).unwrap_or_default(), "deploy handled the event")
        }
        Err(e) => error!(error_type = e.error_type(), error = %e, "deploy failed"),
    }
    result
}

pub async fn handle<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    payload: Value,
) -> Result<Outcome, DeployError> {
    if ev::is::<ModelPackageStateChange>(&payload) {
        let event = ev::decode_as::<ModelPackageStateChange>(payload)?;
        return on_approved(ctx, &event.detail, time(event.time)?).await;
    }
    if ev::is::<EndpointDeploymentStateChange>(&payload) {
        let event = ev::decode_as::<EndpointDeploymentStateChange>(payload)?;
        return crate::complete::on_endpoint(ctx, &event.detail.endpoint_name, time(event.time)?)
            .await;
    }
    if ev::is::<EndpointStateChange>(&payload) {
        let event = ev::decode_as::<EndpointStateChange>(payload)?;
        return crate::complete::on_endpoint(ctx, &event.detail.endpoint_name, time(event.time)?)
            .await;
    }
    if ev::is::<DeploymentStateChange>(&payload) {
        let event = ev::decode_as::<DeploymentStateChange>(payload)?;
        return crate::lambda_complete::on_deployment(ctx, &event.detail, time(event.time)?).await;
    }
    if ev::is::<Scheduled>(&payload) {
        let event = ev::decode_as::<Scheduled>(payload)?;
        return crate::bake::on_tick(ctx, time(event.time)?).await;
    }
    let (source, detail_type) = ev::event_type(&payload)?;
    if source == ev::steward::SOURCE && detail_type == "Approval Decided" {
        let event = ev::decode::<ApprovalDecided>(payload)?;
        return on_promotion_approved(ctx, &event.detail, time(event.time)?).await;
    }
    Err(DeployError::Unsupported {
        event_source: source.to_string(),
        detail_type: detail_type.to_string(),
    })
}

fn time(at: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, EventError> {
    at.ok_or(EventError::MissingField { field: "time" })
}

/// Approved in the registry: the first environment of the group's chain.
async fn on_approved<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    detail: &ModelPackageStateChange,
    at: DateTime<Utc>,
) -> Result<Outcome, DeployError> {
    if !detail.is_approved() {
        return Ok(Outcome::ignored(format!(
            "model package {} is {}, not Approved",
            detail.model_package_arn,
            detail
                .model_approval_status
                .as_ref()
                .map(|s| s.as_str())
                .unwrap_or("without a status")
        )));
    }
    let group_name = detail.require_group_name()?;
    let Some(group) = ctx.policy.policy.group(group_name) else {
        return Ok(Outcome::ignored(format!(
            "group {group_name} is not managed by the policy"
        )));
    };
    let Some(first) = group.first_environment() else {
        return Ok(Outcome::ignored(format!(
            "group {group_name} has no environments"
        )));
    };
    let correlation_id = detail
        .customer_metadata_properties
        .get("steward:correlation-id")
        .cloned();
    deploy_to(
        ctx,
        DeployRequest {
            group,
            environment: first,
            model_package_arn: detail.model_package_arn.clone(),
            version: detail.require_version()?,
            correlation_id,
            at,
        },
    )
    .await
}

/// A person (or the policy) approved a model for a later environment.
async fn on_promotion_approved<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    detail: &ApprovalDecided,
    at: DateTime<Utc>,
) -> Result<Outcome, DeployError> {
    let header = &detail.header;
    if detail.decision != "Approved" {
        return Ok(Outcome::ignored(format!("decision is {}", detail.decision)));
    }
    let (Some(arn), Some(environment)) = (&header.model_package_arn, &header.environment) else {
        return Ok(Outcome::ignored(
            "the decision names no model package and environment",
        ));
    };
    let Some(group) = ctx.policy.policy.group(&header.model_package_group) else {
        return Ok(Outcome::ignored(format!(
            "group {} is not managed by the policy",
            header.model_package_group
        )));
    };
    // The first environment is deployed on the registry's Approved event, which
    // the same decision caused: this event would only duplicate it.
    if group.first_environment().map(|e| &e.name) == Some(environment) {
        return Ok(Outcome::ignored(format!(
            "{environment} is the first environment: the registry's Approved event deploys it"
        )));
    }
    let Some(env) = group.environment(environment) else {
        return Err(DeployError::UnknownEnvironment {
            group: group.name.clone(),
            environment: environment.clone(),
        });
    };
    deploy_to(
        ctx,
        DeployRequest {
            group,
            environment: env,
            model_package_arn: arn.clone(),
            version: version_of(arn)?,
            correlation_id: Some(header.correlation_id.clone()),
            at,
        },
    )
    .await
}

/// The version of a versioned package ARN (`…:model-package/<group>/<version>`).
pub fn version_of(arn: &str) -> Result<u32, DeployError> {
    arn.rsplit('/')
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| DeployError::PackageArn { arn: arn.into() })
}
