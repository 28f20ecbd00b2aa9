//! The schedule tick: rollouts whose end no event reported are checked, and
//! releases whose bake ended without an alarm become known good and are
//! promoted along the chain.

use chrono::{DateTime, Utc};
use serde_json::json;
use steward::deploy::{self, Promotion};
use steward::events::steward::{Header, PromotionRequested};
use steward::ledger::{update_state, Claim, EnvironmentLedger, EnvironmentRecord, Ledger};
use steward::notify::Mail;
use steward::policy::{Environment, Group, Target};

use crate::handler::{Context, Outcome};
use crate::rollout::{deploy_to, DeployRequest};
use crate::DeployError;

pub async fn on_tick<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    now: DateTime<Utc>,
) -> Result<Outcome, DeployError> {
    let mut outcomes = Vec::new();
    for group in ctx.policy.policy.groups.values() {
        for env in &group.environments {
            let Some(state) = ctx.environments.load_state(&group.name, &env.name).await? else {
                continue;
            };
            if state.rollout.is_some() {
                // A missed or late endpoint or CodeDeploy event must not leave
                // a rollout open.
                let outcome = match (&env.target, &state.rollout) {
                    (Target::SageMakerEndpoint { endpoint, .. }, _) => {
                        crate::complete::on_endpoint(ctx, endpoint, now).await?
                    }
                    (Target::LambdaAlias { .. }, Some(rollout)) => {
                        crate::lambda_complete::on_tick(ctx, group, env, rollout, now).await?
                    }
                    (Target::LambdaAlias { .. }, None) => continue,
                };
                if !matches!(outcome, Outcome::Ignored { .. }) {
                    outcomes.push(outcome);
                }
            } else if state.bake_due(now) {
                outcomes.push(bake(ctx, group, env, now).await?);
            }
        }
    }
    Ok(match outcomes.len() {
        0 => Outcome::ignored("no rollout ended and no bake is due"),
        1 => outcomes.remove(0),
        _ => Outcome::Several { outcomes },
    })
}

/// The alarms of `env` that are in ALARM now.
async fn firing<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    env: &Environment,
) -> Result<Vec<String>, DeployError> {
    if env.alarms.is_empty() {
        return Ok(Vec::new());
    }
    let out = ctx
        .cloudwatch
        .describe_alarms()
        .set_alarm_names(Some(env.alarms.clone()))
        .send()
        .await
        .map_err(|e| DeployError::Alarms {
            message: steward::aws_error::describe(&e),
        })?;
    Ok(out
        .metric_alarms()
        .iter()
        .filter(|a| a.state_value().map(|s| s.as_str()) == Some("ALARM"))
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .chain(
            out.composite_alarms()
                .iter()
                .filter(|a| a.state_value().map(|s| s.as_str()) == Some("ALARM"))
                .filter_map(|a| a.alarm_name().map(str::to_string)),
        )
        .collect())
}

async fn bake<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    group: &Group,
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<Outcome, DeployError> {
    let firing = firing(ctx, env).await?;
    if !firing.is_empty() {
        return Ok(Outcome::ignored(format!(
            "{}/{} does not pass its bake: {} in ALARM (the rollback function acts on it)",
            group.name,
            env.name,
            firing.join(", ")
        )));
    }
    // Promote first, then mark known good: a failed promotion (next environment
    // busy) is retried by the next tick, and every step is idempotent.
    let Some(state) = ctx.environments.load_state(&group.name, &env.name).await? else {
        return Ok(Outcome::ignored("no state"));
    };
    let (Some(current), Some(bake_until)) = (state.current.clone(), state.bake_until) else {
        return Ok(Outcome::ignored("nothing is baking"));
    };
    let key = deploy::keys::baked(
        &group.name,
        &env.name,
        &current.model_package_arn,
        &bake_until.to_rfc3339(),
    );
    ctx.environments
        .append_step(&EnvironmentRecord {
            group: group.name.clone(),
            environment: env.name.clone(),
            at: bake_until,
            kind: "baked".into(),
            id: key.digest()[..16].to_string(),
            detail: json!({"release": &current, "checkedAt": now}),
        })
        .await?;
    let promotion = match deploy::after_bake(group, &env.name) {
        Promotion::EndOfChain => "end of chain".to_string(),
        Promotion::Deploy { environment, auto } => {
            let next =
                group
                    .environment(&environment)
                    .ok_or_else(|| DeployError::UnknownEnvironment {
                        group: group.name.clone(),
                        environment: environment.clone(),
                    })?;
            if auto {
                // Approved by policy, not by a person: the ledger says which policy.
                ctx.environments
                    .append_step(&EnvironmentRecord {
                        group: group.name.clone(),
                        environment: environment.clone(),
                        at: now,
                        kind: "approved_by_policy".into(),
                        id: key.digest()[..16].to_string(),
                        detail: json!({
                            "modelPackageArn": current.model_package_arn,
                            "version": current.version,
                            "bakedIn": env.name,
                            "policyVersion": ctx.policy.version,
                        }),
                    })
                    .await?;
            }
            deploy_to(
                ctx,
                DeployRequest {
                    group,
                    environment: next,
                    model_package_arn: current.model_package_arn.clone(),
                    version: current.version,
                    correlation_id: None,
                    at: now,
                },
            )
            .await?;
            if auto {
                tell_promoted_by_policy(ctx, group, env, next, &current).await?;
            }
            format!(
                "deployed {environment}{}",
                if auto { " (approved by policy)" } else { "" }
            )
        }
        Promotion::RequestApproval { environment } => {
            request_approval(ctx, group, env, &environment, &current, &key).await?;
            format!("approval requested for {environment}")
        }
    };
    update_state(&ctx.environments, &group.name, &env.name, |state| {
        let same = state.current.as_ref() == Some(&current) && state.bake_until == Some(bake_until);
        (same && state.bake_due(now)).then(|| state.baked())
    })
    .await?;
    Ok(Outcome::Baked {
        group: group.name.clone(),
        environment: env.name.clone(),
        version: current.version,
        promotion,
    })
}

/// `Promotion Requested`, once per bake: the approval flow asks a person.
async fn request_approval<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    group: &Group,
    env: &Environment,
    next: &str,
    current: &deploy::Release,
    key: &steward::naming::IdempotencyKey,
) -> Result<(), DeployError> {
    let token = match ctx.ledger.claim(key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(_) => return Ok(()),
        Claim::InProgress { lease_until } => {
            return Err(DeployError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    let event = PromotionRequested {
        header: Header {
            model_package_group: group.name.clone(),
            model_package_arn: Some(current.model_package_arn.clone()),
            environment: Some(next.to_string()),
            correlation_id: key.correlation_id(),
            cause: key.clone(),
            policy_version: Some(ctx.policy.version.clone()),
        },
        version: current.version,
        from_environment: env.name.clone(),
    };
    if let Err(e) = ctx.publisher.publish(&event).await {
        let _ = ctx.ledger.release(&token).await;
        return Err(e.into());
    }
    ctx.ledger
        .complete(&token, &json!({"promotionRequested": next}))
        .await?;
    Ok(())
}

/// The stewards learn that the policy, not a person, promoted the release:
/// once per package and environment (a claim), after its rollout started.
async fn tell_promoted_by_policy<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    group: &Group,
    baked_in: &Environment,
    next: &Environment,
    current: &deploy::Release,
) -> Result<(), DeployError> {
    let key = deploy::keys::promoted_by_policy(&group.name, &next.name, &current.model_package_arn);
    let token = match ctx.ledger.claim(&key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(_) => return Ok(()),
        Claim::InProgress { lease_until } => {
            return Err(DeployError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    let mail = Mail {
        subject: format!(
            "Steward: {} v{} promoted to {} by policy",
            group.name, current.version, next.name
        ),
        body: format!(
            "v{version} promoted to {next} by policy: gate passed, the {bake} bake in {from} \
             passed without an alarm, and {next}'s approval is \"auto\" (policy {policy}).\n\n\
             Model package: {arn}\nRolling out to {target}.\nCause: {key}\n",
            version = current.version,
            next = next.name,
            bake = steward::policy::format_duration(baked_in.bake),
            from = baked_in.name,
            policy = ctx.policy.version,
            arn = current.model_package_arn,
            target = next.target.describe(),
        ),
    };
    if let Err(e) = ctx.notifier.send_each(&group.stewards, &mail).await {
        if let Err(release) = ctx.ledger.release(&token).await {
            tracing::warn!(error = %release, "could not release the promotion notice claim");
        }
        return Err(e.into());
    }
    ctx.ledger
        .complete(&token, &json!({"mailed": group.stewards}))
        .await?;
    Ok(())
}
