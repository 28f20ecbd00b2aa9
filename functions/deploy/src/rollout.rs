//! Starting a rollout: model, endpoint config, then CreateEndpoint or a
//! blue/green UpdateEndpoint, exactly once per (model package, environment).

use chrono::{DateTime, Utc};
use serde_json::json;
use steward::deploy::{
    self, names, DeploymentPlan, EndpointAction, EndpointConfigSpec, Release, Rollout, RolloutKind,
};
use steward::events::steward::{DeploymentStarted, Header};
use steward::ledger::{update_state, Claim, EnvironmentLedger, EnvironmentRecord, Ledger};
use steward::policy::{Environment, Group};

use crate::handler::{Context, Outcome};
use crate::DeployError;

/// One model package into one environment.
pub struct DeployRequest<'p> {
    pub group: &'p Group,
    pub environment: &'p Environment,
    pub model_package_arn: String,
    pub version: u32,
    /// The chain's correlation id, if the cause carries one.
    pub correlation_id: Option<String>,
    /// The causing event's time.
    pub at: DateTime<Utc>,
}

pub async fn deploy_to<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    request: DeployRequest<'_>,
) -> Result<Outcome, DeployError> {
    let env = request.environment;
    let model_name = names::model_name(&request.group.name, request.version);
    // No endpoint config: a Lambda-served environment, shifted by CodeDeploy.
    let spec = EndpointConfigSpec::for_environment(env, &model_name);
    let key = deploy::keys::deploy(&request.model_package_arn, &env.name);
    let token = match ctx.ledger.claim(&key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(result) => {
            return Ok(Outcome::AlreadyDone {
                cause: key.to_string(),
                result,
            })
        }
        Claim::InProgress { lease_until } => {
            return Err(DeployError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    let started = match &spec {
        Some(spec) => start(ctx, &request, spec, &model_name, &key).await,
        None => crate::lambda_rollout::start(ctx, &request, &model_name, &key).await,
    };
    match started {
        Ok(outcome) => {
            let result = serde_json::to_value(&outcome).unwrap_or_default();
            ctx.ledger.complete(&token, &result).await?;
            Ok(outcome)
        }
        Err(e) => {
            // Let the retry start at once; its names find whatever this attempt made.
            if let Err(release) = ctx.ledger.release(&token).await {
                tracing::warn!(error = %release, "could not release the deploy claim");
            }
            Err(e)
        }
    }
}

async fn start<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    request: &DeployRequest<'_>,
    spec: &EndpointConfigSpec,
    model_name: &str,
    key: &steward::naming::IdempotencyKey,
) -> Result<Outcome, DeployError> {
    let group = &request.group.name;
    let env = request.environment;
    let config_name = spec.name(request.version);
    let busy = |what: String| DeployError::Busy {
        group: group.clone(),
        environment: env.name.clone(),
        what,
    };
    // Another rollout Steward started here and has not seen end: wait for it.
    if let Some(state) = ctx.environments.load_state(group, &env.name).await? {
        if let Some(rollout) = state
            .rollout
            .filter(|r| r.release.endpoint_config != config_name)
        {
            return Err(busy(format!(
                "rolling out {} ({})",
                rollout.release.endpoint_config, rollout.cause
            )));
        }
    }
    ctx.sagemaker
        .ensure_model(
            model_name,
            &request.model_package_arn,
            &ctx.execution_role_arn,
        )
        .await?;
    ctx.sagemaker
        .ensure_endpoint_config(&config_name, spec)
        .await?;
    let observed = ctx.sagemaker.observe(&spec.endpoint).await?;
    let plan = DeploymentPlan::for_environment(env);
    let action = deploy::next_action(&config_name, observed.as_ref());
    let action_name = match &action {
        EndpointAction::Create => {
            ctx.sagemaker
                .create_endpoint(&spec.endpoint, &config_name)
                .await?;
            "create"
        }
        EndpointAction::Update => {
            ctx.sagemaker
                .update_endpoint(&spec.endpoint, &config_name, &plan)
                .await?;
            "update"
        }
        EndpointAction::AlreadyRollingOut => "already-rolling-out",
        EndpointAction::AlreadyLive => "already-live",
        EndpointAction::Busy { status } => {
            return Err(busy(format!("endpoint {} is {status}", spec.endpoint)))
        }
    };
    let correlation_id = request
        .correlation_id
        .clone()
        .unwrap_or_else(|| key.correlation_id());
    let release = Release {
        model_package_arn: request.model_package_arn.clone(),
        version: request.version,
        model_name: model_name.to_string(),
        endpoint_config: config_name.clone(),
    };
    let rollout = Rollout {
        release: release.clone(),
        kind: RolloutKind::Deploy,
        cause: key.to_string(),
        correlation_id: correlation_id.clone(),
        started_at: request.at,
    };
    // Recorded after the call: a rollout in the state is always a real one, so
    // completion never mistakes "not started yet" for "rolled back".
    update_state(&ctx.environments, group, &env.name, |state| {
        let ours = |r: &Rollout| r.release.endpoint_config == config_name;
        let live = state
            .current
            .as_ref()
            .is_some_and(|c| c.endpoint_config == config_name)
            && state.rollout.is_none();
        (!state.rollout.as_ref().is_some_and(ours) && !live).then(|| state.begin(rollout.clone()))
    })
    .await?;
    let header = Header {
        model_package_group: group.clone(),
        model_package_arn: Some(request.model_package_arn.clone()),
        environment: Some(env.name.clone()),
        correlation_id,
        cause: key.clone(),
        policy_version: Some(ctx.policy.version.clone()),
    };
    let started = DeploymentStarted {
        header,
        version: request.version,
        target: env.target.describe(),
        model_name: model_name.to_string(),
        endpoint_config: config_name.clone(),
        action: action_name.to_string(),
        traffic_routing: if action == EndpointAction::Create {
            "ALL_AT_ONCE".to_string()
        } else {
            plan.routing.type_name().to_string()
        },
    };
    ctx.environments
        .append_step(&EnvironmentRecord {
            group: group.clone(),
            environment: env.name.clone(),
            at: request.at,
            kind: "deployment_started".into(),
            id: key.digest()[..16].to_string(),
            detail: json!({
                "event": &started,
                "deploymentPlan": &plan,
                "endpoint": &spec.endpoint,
            }),
        })
        .await?;
    ctx.publisher.publish(&started).await?;
    Ok(Outcome::Started {
        group: group.clone(),
        environment: env.name.clone(),
        version: request.version,
        endpoint_config: config_name,
        action: action_name.to_string(),
    })
}
