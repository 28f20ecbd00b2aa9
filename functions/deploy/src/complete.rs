//! How a rollout ended, decided by what `DescribeEndpoint` shows live (never
//! by what the event says or what Steward asked for): SageMaker rolls an update
//! back on its own and says so only in `FailureReason`.

use chrono::{DateTime, Utc};
use serde_json::json;
use steward::deploy::{self, Rollout, RolloutKind, Verdict};
use steward::events::steward::{
    DeploymentFailed, DeploymentSucceeded, Header, RollbackCompleted, StewardDetail,
};
use steward::ledger::{update_state, Claim, EnvironmentLedger, EnvironmentRecord, Ledger};
use steward::naming::IdempotencyKey;
use steward::policy::{Environment, Group, Target};

use crate::handler::{Context, Outcome};
use crate::DeployError;

/// An endpoint event (or the tick) for `endpoint`.
pub async fn on_endpoint<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    endpoint: &str,
    at: DateTime<Utc>,
) -> Result<Outcome, DeployError> {
    let Some((group, env)) = deploy::serving_endpoint(&ctx.policy.policy, endpoint) else {
        return Ok(Outcome::ignored(format!(
            "no environment of the policy serves on endpoint {endpoint}"
        )));
    };
    let state = ctx.environments.load_state(&group.name, &env.name).await?;
    let Some(rollout) = state.and_then(|s| s.rollout) else {
        return Ok(Outcome::ignored(format!(
            "no rollout of {}/{} is in progress",
            group.name, env.name
        )));
    };
    let observed = ctx.sagemaker.observe(endpoint).await?;
    let verdict = deploy::judge(&rollout.release.endpoint_config, observed.as_ref());
    if verdict == Verdict::InProgress {
        return Ok(Outcome::ignored(format!(
            "{} is still rolling out to {}",
            endpoint, rollout.release.endpoint_config
        )));
    }
    let live_config = observed.and_then(|o| o.live_config);
    finish(ctx, group, env, &rollout, verdict, live_config, at).await
}

pub(crate) async fn finish<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    group: &Group,
    env: &Environment,
    rollout: &Rollout,
    verdict: Verdict,
    live_config: Option<String>,
    at: DateTime<Utc>,
) -> Result<Outcome, DeployError> {
    let key = deploy::keys::outcome(&rollout.cause);
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
    match record(ctx, group, env, rollout, &verdict, live_config, at, &key).await {
        Ok(outcome) => {
            let result = serde_json::to_value(&outcome).unwrap_or_default();
            ctx.ledger.complete(&token, &result).await?;
            Ok(outcome)
        }
        Err(e) => {
            if let Err(release) = ctx.ledger.release(&token).await {
                tracing::warn!(error = %release, "could not release the outcome claim");
            }
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn record<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    group: &Group,
    env: &Environment,
    rollout: &Rollout,
    verdict: &Verdict,
    live_config: Option<String>,
    at: DateTime<Utc>,
    key: &IdempotencyKey,
) -> Result<Outcome, DeployError> {
    // A new model that went live must pass its smoke test before it bakes.
    let smoke = match (verdict, &rollout.kind, &env.smoke_test, &env.target) {
        (
            Verdict::Live,
            RolloutKind::Deploy,
            Some(test),
            Target::SageMakerEndpoint { endpoint, .. },
        ) => Some(crate::smoke::run(ctx, endpoint, test).await),
        _ => None,
    };
    if let Some(report) = smoke.as_ref().filter(|r| !r.passed()) {
        return crate::smoke_failed::handle(ctx, group, env, rollout, report, live_config, at, key)
            .await;
    }
    if let Some(report) = &smoke {
        ctx.environments
            .append_step(&EnvironmentRecord {
                group: group.name.clone(),
                environment: env.name.clone(),
                at,
                kind: "smoke_test_passed".into(),
                id: key.digest()[..16].to_string(),
                detail: json!({"report": report, "endpointConfig": rollout.release.endpoint_config}),
            })
            .await?;
    }
    let bake_until = at + chrono::Duration::from_std(env.bake).unwrap_or(chrono::Duration::zero());
    let reason = match verdict {
        Verdict::RolledBack { reason } | Verdict::Failed { reason } => Some(reason.clone()),
        _ => None,
    };
    update_state(&ctx.environments, &group.name, &env.name, |state| {
        if state.rollout.as_ref().map(|r| &r.cause) != Some(&rollout.cause) {
            return None; // already recorded by another delivery
        }
        match &reason {
            None => state.succeed(bake_until),
            // When it was seen, not the (possibly older, redelivered) event's
            // time: every alarm that caused it fired before this.
            Some(reason) => state.fail_at(reason, Some(Utc::now().max(at))),
        }
        Some(())
    })
    .await?;
    let is_rollback = matches!(rollout.kind, RolloutKind::Rollback { .. });
    let (result, kind) = match (reason.is_some(), is_rollback) {
        (false, false) => ("succeeded", "deployment_succeeded"),
        (false, true) => ("rolled-back", "rollback_completed"),
        (true, false) => ("failed", "deployment_failed"),
        (true, true) => ("rollback-failed", "rollback_failed"),
    };
    let header = |arn: &str| Header {
        model_package_group: group.name.clone(),
        model_package_arn: Some(arn.to_string()),
        environment: Some(env.name.clone()),
        correlation_id: rollout.correlation_id.clone(),
        cause: key.clone(),
        policy_version: Some(ctx.policy.version.clone()),
    };
    let release = &rollout.release;
    let step = Step {
        group,
        env,
        at,
        kind,
        key,
        live_config: &live_config,
    };
    match (&rollout.kind, &reason) {
        (RolloutKind::Deploy, None) => {
            let event = DeploymentSucceeded {
                header: header(&release.model_package_arn),
                version: release.version,
                endpoint_config: release.endpoint_config.clone(),
                bake_until: bake_until.to_rfc3339(),
            };
            step.record_and_publish(ctx, &event).await?
        }
        (RolloutKind::Rollback { from, reason: why }, None) => {
            let event = RollbackCompleted {
                header: header(&from.model_package_arn),
                reason: why.clone(),
                automatic: false,
                live_config: live_config.clone(),
            };
            step.record_and_publish(ctx, &event).await?
        }
        (_, Some(reason)) => {
            let event = DeploymentFailed {
                header: header(&release.model_package_arn),
                version: release.version,
                endpoint_config: release.endpoint_config.clone(),
                reason: reason.clone(),
                live_config: live_config.clone(),
            };
            step.record_and_publish(ctx, &event).await?
        }
    }
    Ok(Outcome::Finished {
        group: group.name.clone(),
        environment: env.name.clone(),
        endpoint_config: release.endpoint_config.clone(),
        result: result.into(),
        reason,
    })
}

/// One step of an environment's history: recorded, then announced.
struct Step<'a> {
    group: &'a Group,
    env: &'a Environment,
    at: DateTime<Utc>,
    kind: &'static str,
    key: &'a IdempotencyKey,
    live_config: &'a Option<String>,
}

impl Step<'_> {
    async fn record_and_publish<D: StewardDetail, L: Ledger, E: EnvironmentLedger>(
        &self,
        ctx: &Context<L, E>,
        event: &D,
    ) -> Result<(), DeployError> {
        ctx.environments
            .append_step(&EnvironmentRecord {
                group: self.group.name.clone(),
                environment: self.env.name.clone(),
                at: self.at,
                kind: self.kind.into(),
                id: self.key.digest()[..16].to_string(),
                detail: json!({"event": event, "liveConfig": self.live_config}),
            })
            .await?;
        ctx.publisher.publish(event).await?;
        Ok(())
    }
}
