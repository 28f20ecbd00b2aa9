//! A new model went live and failed its smoke test: the chain stops there. What
//! served before comes back (all at once; the deploy function records its
//! completion like any rollout); on a brand-new endpoint nothing did, so the
//! model stays but never bakes or moves on. Either way the package is Rejected
//! with the mismatches as the reason and the stewards are mailed (last: the
//! caller's claim makes a redelivery find it done).

use chrono::{DateTime, Utc};
use serde_json::json;
use steward::deploy::smoke::SmokeReport;
use steward::deploy::{DeploymentPlan, Rollout};
use steward::events::sagemaker::EndpointStatus;
use steward::events::steward::{DeploymentFailed, Header, RollbackStarted};
use steward::ledger::{update_state, EnvironmentLedger, EnvironmentRecord, Ledger};
use steward::naming::IdempotencyKey;
use steward::notify::Mail;
use steward::policy::{Environment, Group, Target};

use crate::handler::{Context, Outcome};
use crate::DeployError;

#[allow(clippy::too_many_arguments)]
pub async fn handle<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    group: &Group,
    env: &Environment,
    rollout: &Rollout,
    report: &SmokeReport,
    live_config: Option<String>,
    at: DateTime<Utc>,
    key: &IdempotencyKey,
) -> Result<Outcome, DeployError> {
    let reason = report.summary();
    let previous = ctx
        .environments
        .load_state(&group.name, &env.name)
        .await?
        .and_then(|s| s.current);
    let endpoint = match &env.target {
        Target::SageMakerEndpoint { endpoint, .. } => endpoint.as_str(),
        Target::LambdaAlias { function, .. } => function.as_str(),
    };
    if let Some(previous) = &previous {
        let observed = ctx.sagemaker.observe(endpoint).await?;
        let already = observed
            .as_ref()
            .is_some_and(|o| o.pending_config.as_deref() == Some(&previous.endpoint_config));
        if !already {
            if !observed
                .as_ref()
                .is_some_and(|o| o.status == EndpointStatus::InService)
            {
                return Err(DeployError::Busy {
                    group: group.name.clone(),
                    environment: env.name.clone(),
                    what: format!("endpoint {endpoint} is not in service for the smoke rollback"),
                });
            }
            ctx.sagemaker
                .update_endpoint(
                    endpoint,
                    &previous.endpoint_config,
                    &DeploymentPlan::rollback(),
                )
                .await?;
        }
    }
    let rollback_cause = format!("smoke-rollback/{}", rollout.cause);
    update_state(&ctx.environments, &group.name, &env.name, |state| {
        if state.rollout.as_ref().map(|r| &r.cause) != Some(&rollout.cause) {
            return None;
        }
        match &previous {
            Some(previous) => {
                state.roll_back_rollout(previous.clone(), &reason, rollback_cause.clone())
            }
            None => state.hold(&reason),
        }
        Some(())
    })
    .await?;
    let header = Header {
        model_package_group: group.name.clone(),
        model_package_arn: Some(rollout.release.model_package_arn.clone()),
        environment: Some(env.name.clone()),
        correlation_id: rollout.correlation_id.clone(),
        cause: key.clone(),
        policy_version: Some(ctx.policy.version.clone()),
    };
    ctx.environments
        .append_step(&EnvironmentRecord {
            group: group.name.clone(),
            environment: env.name.clone(),
            at,
            kind: "smoke_test_failed".into(),
            id: key.digest()[..16].to_string(),
            detail: json!({
                "report": report,
                "endpointConfig": rollout.release.endpoint_config,
                "rollbackTo": previous.as_ref().map(|p| &p.endpoint_config),
            }),
        })
        .await?;
    ctx.publisher
        .publish(&DeploymentFailed {
            header: header.clone(),
            version: rollout.release.version,
            endpoint_config: rollout.release.endpoint_config.clone(),
            reason: reason.clone(),
            live_config,
        })
        .await?;
    if let Some(previous) = &previous {
        ctx.publisher
            .publish(&RollbackStarted {
                header,
                reason: reason.clone(),
                automatic: false,
                from_endpoint_config: rollout.release.endpoint_config.clone(),
                to_model_package_arn: Some(previous.model_package_arn.clone()),
                to_endpoint_config: Some(previous.endpoint_config.clone()),
            })
            .await?;
    }
    reject_and_tell(ctx, group, env, rollout, report, previous.as_ref(), key).await?;
    Ok(Outcome::Finished {
        group: group.name.clone(),
        environment: env.name.clone(),
        endpoint_config: rollout.release.endpoint_config.clone(),
        result: "smoke-test-failed".into(),
        reason: Some(reason),
    })
}

/// The package is Rejected (status, description and metadata in one
/// `UpdateModelPackage`, existing metadata kept) and the stewards are mailed
/// what mismatched and what serves now.
async fn reject_and_tell<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    group: &Group,
    env: &Environment,
    rollout: &Rollout,
    report: &SmokeReport,
    previous: Option<&steward::deploy::Release>,
    key: &IdempotencyKey,
) -> Result<(), DeployError> {
    let release = &rollout.release;
    let reason = report.summary();
    let package = ctx.sagemaker.package(&release.model_package_arn).await?;
    ctx.sagemaker
        .reject_package(
            &package,
            &format!("Failed its smoke test in {}: {reason}", env.name),
            &[
                ("steward:smoke-test-failed-in", env.name.clone()),
                ("steward:rejection-cause", truncate(&reason, 256)),
            ],
        )
        .await?;
    let what_now = match previous {
        Some(p) => format!(
            "Steward is rolling {} back to version {} ({}), all at once.",
            env.name, p.version, p.endpoint_config
        ),
        None => format!(
            "Nothing served {} before: the model stays, but it never bakes or moves on. Act on it.",
            env.name
        ),
    };
    let mismatches: String = report
        .mismatches
        .iter()
        .take(MISMATCHES_MAILED)
        .map(|m| {
            format!(
                "  - case {} at {}: expected {}, got {}\n",
                m.case, m.path, m.expected, m.actual
            )
        })
        .collect();
    let more = report.mismatches.len().saturating_sub(MISMATCHES_MAILED);
    let more = if more > 0 {
        format!("  (and {more} more)\n")
    } else {
        String::new()
    };
    let mail = Mail {
        subject: format!(
            "Steward: {} v{} failed its smoke test in {}",
            group.name, release.version, env.name
        ),
        body: format!(
            "Model package {arn} (version {version}) went live in {env} ({target}) and failed its smoke test.\n\n\
             Why: {reason}\n{mismatches}{more}\n{what_now}\n\n\
             The model package is now Rejected; the chain stops here.\nCause: {key}\n",
            arn = release.model_package_arn,
            version = release.version,
            env = env.name,
            target = env.target.describe(),
        ),
    };
    ctx.notifier.send_each(&group.stewards, &mail).await?;
    Ok(())
}

/// The mail lists the first mismatches; the ledger record keeps them all.
const MISMATCHES_MAILED: usize = 5;

/// Metadata values are at most 256 characters.
fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
