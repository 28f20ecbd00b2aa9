//! `Promotion Requested`: a model baked in one environment and the next one
//! needs a person. Its approvers are asked with signed links (purpose
//! `approve:<env>`), once per (package, environment): approval-link's
//! decision then keeps the package Approved and announces `Approval Decided`
//! for that environment, which deploy rolls out.

use chrono::{DateTime, Utc};
use serde_json::Value;
use steward::approval::ask::{decidable_for, Ask};
use steward::events::steward::PromotionRequested;
use steward::ledger::{Claim, Ledger};
use steward::naming::IdempotencyKey;
use tracing::warn;

use crate::handler::{Context, Outcome};
use crate::{registry, RequestApprovalError};

/// The one request round of a promotion of a package to an environment.
pub fn promotion_key(model_package_arn: &str, environment: &str) -> IdempotencyKey {
    IdempotencyKey::new(format!(
        "approval/promotion/{model_package_arn}/{environment}"
    ))
}

pub async fn on_promotion_requested(
    ctx: &Context,
    event: &PromotionRequested,
    at: DateTime<Utc>,
) -> Result<Outcome, RequestApprovalError> {
    let header = &event.header;
    let (Some(arn), Some(environment)) = (&header.model_package_arn, &header.environment) else {
        return Ok(Outcome::Ignored {
            reason: "the promotion names no model package and environment".into(),
        });
    };
    let Some(group) = ctx.policy.policy.group(&header.model_package_group) else {
        return Ok(Outcome::Ignored {
            reason: format!(
                "model package group {} is not managed by policy {}",
                header.model_package_group, ctx.policy.version
            ),
        });
    };
    let Some(env) = group.environment(environment) else {
        return Ok(Outcome::Ignored {
            reason: format!("{} has no environment {environment}", group.name),
        });
    };
    if !env.approval.needs_a_person() {
        return Ok(Outcome::Ignored {
            reason: format!("{environment} needs no person's approval (deploy promotes it)"),
        });
    }
    let key = promotion_key(arn, environment);
    let claim = match ctx.ledger.claim(&key, ctx.claim_lease).await? {
        Claim::Acquired(claim) => claim,
        Claim::Done(previous) => {
            let previous: Outcome = serde_json::from_value(previous).map_err(|e| {
                RequestApprovalError::StoredResult {
                    key: key.to_string(),
                    reason: e.to_string(),
                }
            })?;
            return Ok(Outcome::AlreadyHandled {
                previous: Box::new(previous),
            });
        }
        Claim::InProgress { lease_until } => {
            return Err(RequestApprovalError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    match ask(
        ctx,
        group,
        arn,
        environment,
        &key,
        &header.correlation_id,
        at,
    )
    .await
    {
        Ok(outcome) => {
            let stored = serde_json::to_value(&outcome).unwrap_or(Value::Null);
            ctx.ledger.complete(&claim, &stored).await?;
            Ok(outcome)
        }
        Err(e) => {
            if let Err(release) = ctx.ledger.release(&claim).await {
                warn!(error = %release, cause = %key, "could not release the promotion claim");
            }
            Err(e)
        }
    }
}

async fn ask(
    ctx: &Context,
    group: &steward::policy::Group,
    arn: &str,
    environment: &str,
    key: &IdempotencyKey,
    correlation_id: &str,
    at: DateTime<Utc>,
) -> Result<Outcome, RequestApprovalError> {
    let package = registry::describe(&ctx.sagemaker, arn).await?;
    // Approved for the earlier environments; a rejected package is never promoted.
    if !decidable_for(
        &ctx.policy.policy,
        &group.name,
        environment,
        &package.status,
    ) {
        return Ok(Outcome::Ignored {
            reason: format!(
                "model package is {}: it is not promoted to {environment}",
                package.status.as_str()
            ),
        });
    }
    // The evidence the approvers read: the gate's recorded report.
    // A package Steward never gated (registered before it watched) is gated now.
    let report = match crate::gate::recorded_report(ctx, arn).await? {
        Some(report) => report,
        None => {
            let (lineage, _) = crate::lineage::lineage(&ctx.ledger, &package).await?;
            crate::gate::evaluate(ctx, group, &package, lineage).await?
        }
    };
    if !report.passed {
        return Err(RequestApprovalError::GateFailed {
            model_package_arn: arn.to_string(),
            failures: report.failure_summary(),
        });
    }
    let asked = ctx
        .asker()
        .ask(&Ask {
            report: &report,
            environment,
            approvers: &group.approvers,
            cause: key,
            correlation_id,
            lifetime: group.approval_lifetime,
            now: at,
        })
        .await?;
    Ok(Outcome::Requested {
        model_package_arn: arn.to_string(),
        asked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_promotion_names_the_package_and_the_next_environment() {
        let sample: Value =
            serde_json::from_str(include_str!("../../../events/promotion-requested.json")).unwrap();
        let event = steward::events::decode::<PromotionRequested>(sample).unwrap();
        let header = &event.detail.header;
        assert_eq!(header.environment.as_deref(), Some("prod"));
        assert_eq!(event.detail.from_environment, "staging");
        let arn = header.model_package_arn.as_deref().unwrap();
        assert_eq!(
            promotion_key(arn, "prod").as_str(),
            format!("approval/promotion/{arn}/prod")
        );
    }
}
