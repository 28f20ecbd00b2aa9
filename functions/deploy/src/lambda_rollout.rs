//! Starting a rollout to a Lambda-served environment: a function version that
//! loads the package's model, then a CodeDeploy deployment shifting the alias
//! to it (the environment's strategy, alarms and smoke-test hook), exactly once
//! per (model package, environment) — the caller holds the ledger claim, and a
//! deployment already running for the same release is carried on, not doubled.

use serde_json::json;
use steward::deploy::lambda_alias::{self, AliasShift, LambdaDeploymentConfig};
use steward::deploy::{Release, Rollout, RolloutKind};
use steward::events::steward::{DeploymentStarted, Header};
use steward::ledger::{update_state, EnvironmentLedger, EnvironmentRecord, Ledger};
use steward::naming::IdempotencyKey;
use steward::policy::Target;

use crate::handler::{Context, Outcome};
use crate::lambda_serving::GroupSpec;
use crate::rollout::DeployRequest;
use crate::DeployError;

pub async fn start<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    request: &DeployRequest<'_>,
    model_name: &str,
    key: &IdempotencyKey,
) -> Result<Outcome, DeployError> {
    let group = &request.group.name;
    let env = request.environment;
    let Target::LambdaAlias { function, alias } = &env.target else {
        return Ok(Outcome::ignored(format!(
            "{} of {group} is not Lambda-served",
            env.name
        )));
    };
    let busy = |what: String| DeployError::Busy {
        group: group.clone(),
        environment: env.name.clone(),
        what,
    };
    let Some(role) = ctx.lambda_targets.codedeploy_role_arn.as_deref() else {
        return Err(DeployError::NoCodeDeployRole {
            group: group.clone(),
            environment: env.name.clone(),
        });
    };
    // Another rollout Steward started here and has not seen end: wait for it.
    if let Some(state) = ctx.environments.load_state(group, &env.name).await? {
        if let Some(rollout) = state
            .rollout
            .filter(|r| r.release.model_package_arn != request.model_package_arn)
        {
            return Err(busy(format!(
                "rolling out {} ({})",
                rollout.release.endpoint_config, rollout.cause
            )));
        }
    }
    let package = ctx.sagemaker.package(&request.model_package_arn).await?;
    let Some(model_data_url) = package.model_data_url.as_deref() else {
        return Err(DeployError::NoModelData {
            arn: request.model_package_arn.clone(),
        });
    };
    let target_version = ctx
        .lambda_serving
        .publish_model_version(function, &request.model_package_arn, model_data_url)
        .await?;
    let current_version = ctx.lambda_serving.alias_version(function, alias).await?;
    let label = lambda_alias::release_label(function, &target_version);
    let application = lambda_alias::application(group);
    let deployment_group = lambda_alias::deployment_group(&env.name);
    let config = LambdaDeploymentConfig::for_strategy(&env.strategy);
    ctx.lambda_serving.ensure_application(&application).await?;
    ctx.lambda_serving.ensure_config(&config).await?;
    ctx.lambda_serving
        .ensure_group(&GroupSpec {
            application: &application,
            group: &deployment_group,
            service_role_arn: role,
            config: &config.name,
            alarms: &env.alarms,
        })
        .await?;
    let description = lambda_alias::deployment_description(&request.model_package_arn, &label);
    let running = ctx
        .lambda_serving
        .running(&application, &deployment_group)
        .await?;
    let (action, deployment_id) = if let Some(ours) = running
        .iter()
        .find(|d| d.description.as_deref() == Some(description.as_str()))
    {
        ("already-rolling-out", Some(ours.id.clone()))
    } else if let Some(other) = running.first() {
        return Err(busy(format!(
            "CodeDeploy deployment {} is {}",
            other.id, other.status
        )));
    } else if current_version == target_version {
        ("already-live", None)
    } else {
        let shift = AliasShift {
            function: function.clone(),
            alias: alias.clone(),
            current_version: current_version.clone(),
            target_version: target_version.clone(),
            before_allow_traffic: env
                .smoke_test
                .as_ref()
                .and(ctx.lambda_targets.smoke_hook_function.clone()),
        };
        let id = ctx
            .lambda_serving
            .create_deployment(
                &application,
                &deployment_group,
                &config.name,
                shift.appspec(),
                &description,
            )
            .await?;
        ("create", Some(id))
    };
    let correlation_id = request
        .correlation_id
        .clone()
        .unwrap_or_else(|| key.correlation_id());
    let release = Release {
        model_package_arn: request.model_package_arn.clone(),
        version: request.version,
        model_name: model_name.to_string(),
        endpoint_config: label.clone(),
    };
    let rollout = Rollout {
        release,
        kind: RolloutKind::Deploy,
        cause: key.to_string(),
        correlation_id: correlation_id.clone(),
        started_at: request.at,
    };
    // Recorded after the call, as for endpoints: a rollout in the state is a
    // real deployment, which its state-change event completes.
    if deployment_id.is_some() {
        update_state(&ctx.environments, group, &env.name, |state| {
            let ours = state
                .rollout
                .as_ref()
                .is_some_and(|r| r.release.endpoint_config == label);
            (!ours).then(|| state.begin(rollout.clone()))
        })
        .await?;
    }
    let started = DeploymentStarted {
        header: Header {
            model_package_group: group.clone(),
            model_package_arn: Some(request.model_package_arn.clone()),
            environment: Some(env.name.clone()),
            correlation_id,
            cause: key.clone(),
            policy_version: Some(ctx.policy.version.clone()),
        },
        version: request.version,
        target: env.target.describe(),
        model_name: model_name.to_string(),
        endpoint_config: label.clone(),
        action: action.to_string(),
        traffic_routing: config.name.clone(),
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
                "codeDeploy": {
                    "application": application,
                    "deploymentGroup": deployment_group,
                    "deploymentConfig": config.name,
                    "deploymentId": deployment_id,
                    "currentVersion": current_version,
                    "targetVersion": target_version,
                },
            }),
        })
        .await?;
    ctx.publisher.publish(&started).await?;
    Ok(Outcome::Started {
        group: group.clone(),
        environment: env.name.clone(),
        version: request.version,
        endpoint_config: label,
        action: action.to_string(),
    })
}
