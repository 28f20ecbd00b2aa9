//! How a CodeDeploy (lambda-alias) rollout ended, decided by `GetDeployment`
//! (never by the event's `state` alone): then the same state, records and
//! events as an endpoint rollout ([`crate::complete::finish`]).

use chrono::{DateTime, Utc};
use steward::deploy::{self, lambda_alias, Verdict};
use steward::events::codedeploy::DeploymentStateChange;
use steward::ledger::{EnvironmentLedger, Ledger};
use steward::policy::Target;

use crate::handler::{Context, Outcome};
use crate::DeployError;

pub async fn on_deployment<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    detail: &DeploymentStateChange,
    at: DateTime<Utc>,
) -> Result<Outcome, DeployError> {
    if !detail.state.is_final() {
        return Ok(Outcome::ignored(format!(
            "deployment {} is at {}",
            detail.deployment_id,
            detail.state.as_str()
        )));
    }
    let Some((group, env)) = deploy::serving_deployment_group(
        &ctx.policy.policy,
        &detail.application,
        &detail.deployment_group,
    ) else {
        return Ok(Outcome::ignored(format!(
            "no environment of the policy deploys through {}/{}",
            detail.application, detail.deployment_group
        )));
    };
    let Target::LambdaAlias { function, alias } = &env.target else {
        return Ok(Outcome::ignored("not a Lambda-served environment"));
    };
    let state = ctx.environments.load_state(&group.name, &env.name).await?;
    let Some(rollout) = state.and_then(|s| s.rollout) else {
        return Ok(Outcome::ignored(format!(
            "no rollout of {}/{} is in progress",
            group.name, env.name
        )));
    };
    let view = ctx.lambda_serving.deployment(&detail.deployment_id).await?;
    let ours = lambda_alias::deployment_description(
        &rollout.release.model_package_arn,
        &rollout.release.endpoint_config,
    );
    if view.description.as_deref() != Some(ours.as_str()) {
        return Ok(Outcome::ignored(format!(
            "deployment {} is not the rollout of {} in progress",
            view.id, rollout.release.endpoint_config
        )));
    }
    let verdict = match view.status.as_str() {
        "Succeeded" => Verdict::Live,
        "Failed" | "Stopped" => Verdict::RolledBack {
            reason: format!(
                "CodeDeploy deployment {} {}: {}",
                view.id,
                view.status.to_lowercase(),
                view.error.as_deref().unwrap_or("no error information")
            ),
        },
        // The event is final but GetDeployment lags: retry until it agrees.
        status => {
            return Err(DeployError::Busy {
                group: group.name.clone(),
                environment: env.name.clone(),
                what: format!("deployment {} is still {status}", view.id),
            })
        }
    };
    let serving = ctx.lambda_serving.alias_version(function, alias).await?;
    let live = Some(lambda_alias::release_label(function, &serving));
    crate::complete::finish(ctx, group, env, &rollout, verdict, live, at).await
}
