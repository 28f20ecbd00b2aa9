//! How a CodeDeploy (lambda-alias) rollout ended, decided by `GetDeployment`
//! and verified by `GetAlias` (never by the event's `state` alone): then the
//! same state, records and events as an endpoint rollout
//! ([`crate::complete::finish`]). A rollout is a new version or the rollback
//! function's redeploy of a known good one.

use chrono::{DateTime, Utc};
use steward::deploy::{self, lambda_alias, Rollout, Verdict};
use steward::events::codedeploy::DeploymentStateChange;
use steward::ledger::{EnvironmentLedger, Ledger};
use steward::policy::{Environment, Group, Target};

use crate::handler::{Context, Outcome};
use crate::lambda_serving::DeploymentView;
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
    if !matches!(env.target, Target::LambdaAlias { .. }) {
        return Ok(Outcome::ignored("not a Lambda-served environment"));
    }
    let state = ctx.environments.load_state(&group.name, &env.name).await?;
    let Some(rollout) = state.and_then(|s| s.rollout) else {
        return Ok(Outcome::ignored(format!(
            "no rollout of {}/{} is in progress",
            group.name, env.name
        )));
    };
    let view = ctx.lambda_serving.deployment(&detail.deployment_id).await?;
    // A rollout of a new version, or Steward's rollback to a known good one.
    let ours = lambda_alias::rollout_description(&rollout);
    if view.description.as_deref() != Some(ours.as_str()) {
        return Ok(Outcome::ignored(format!(
            "deployment {} is not the rollout of {} in progress",
            view.id, rollout.release.endpoint_config
        )));
    }
    judge_and_finish(ctx, group, env, &rollout, &view, at).await
}

/// The tick: a Lambda-served rollout whose state-change event was missed (or
/// came before the rollout was recorded) is ended from `GetDeployment` too.
pub async fn on_tick<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    group: &Group,
    env: &Environment,
    rollout: &Rollout,
    at: DateTime<Utc>,
) -> Result<Outcome, DeployError> {
    let description = lambda_alias::rollout_description(rollout);
    let found = ctx
        .lambda_serving
        .find(
            &lambda_alias::application(&group.name),
            &lambda_alias::deployment_group(&env.name),
            &description,
        )
        .await?;
    match found {
        Some(view) if !view.is_running() => {
            judge_and_finish(ctx, group, env, rollout, &view, at).await
        }
        Some(view) => Ok(Outcome::ignored(format!(
            "deployment {} of {} is {}",
            view.id, rollout.release.endpoint_config, view.status
        ))),
        None => Ok(Outcome::ignored(format!(
            "no CodeDeploy deployment of {} yet",
            rollout.release.endpoint_config
        ))),
    }
}

/// How the deployment `view` of `rollout` ended, checked on the alias.
async fn judge_and_finish<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    group: &Group,
    env: &Environment,
    rollout: &Rollout,
    view: &DeploymentView,
    at: DateTime<Utc>,
) -> Result<Outcome, DeployError> {
    let Target::LambdaAlias { function, alias } = &env.target else {
        return Ok(Outcome::ignored("not a Lambda-served environment"));
    };
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
    let label = lambda_alias::release_label(function, &serving);
    // Success is what GetAlias shows, not only what GetDeployment says.
    let verdict = match verdict {
        Verdict::Live if label != rollout.release.endpoint_config => Verdict::Failed {
            reason: format!(
                "CodeDeploy deployment {} succeeded but {function}:{alias} points at {label}, not {}",
                view.id, rollout.release.endpoint_config
            ),
        },
        other => other,
    };
    let live = Some(label);
    crate::complete::finish(ctx, group, env, rollout, verdict, live, at).await
}
