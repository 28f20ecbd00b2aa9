//! Idempotency keys of deployment causes: a redelivered event, or a retry after
//! a crash, computes the same key and finds its claim.

use crate::naming::IdempotencyKey;

/// Deploying a model package to an environment (approval, promotion, CLI).
pub fn deploy(model_package_arn: &str, environment: &str) -> IdempotencyKey {
    IdempotencyKey::new(format!("deploy/{model_package_arn}/{environment}"))
}

/// Recording how a rollout ended; `rollout_cause` is unique per rollout.
pub fn outcome(rollout_cause: &str) -> IdempotencyKey {
    IdempotencyKey::new(format!("deploy/outcome/{rollout_cause}"))
}

/// A release's bake ending (and the promotion it leads to).
pub fn baked(
    group: &str,
    environment: &str,
    model_package_arn: &str,
    bake_until: &str,
) -> IdempotencyKey {
    IdempotencyKey::new(format!(
        "deploy/baked/{group}/{environment}/{model_package_arn}@{bake_until}"
    ))
}

/// Telling the stewards a release was promoted to `environment` by policy
/// (approval "auto"): one mail per package and environment.
pub fn promoted_by_policy(
    group: &str,
    environment: &str,
    model_package_arn: &str,
) -> IdempotencyKey {
    IdempotencyKey::new(format!(
        "deploy/promoted-by-policy/{group}/{environment}/{model_package_arn}"
    ))
}

/// Rolling a model package back out of an environment: at most once, however
/// often its alarms fire.
pub fn rollback(group: &str, environment: &str, model_package_arn: &str) -> IdempotencyKey {
    IdempotencyKey::new(format!(
        "rollback/{group}/{environment}/{model_package_arn}"
    ))
}
