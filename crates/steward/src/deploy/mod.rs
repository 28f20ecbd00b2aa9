//! Deploying a model into the environments of its group, and rolling it back.
//!
//! Pure decisions (no SDK types): the deterministic names that let a retried
//! event find its own work, what an endpoint config contains, the blue/green
//! `DeploymentConfig` of each strategy, what `DescribeEndpoint` says about a
//! rollout, what an alarm calls for, and what follows a bake. The state of each
//! environment lives in the ledger (`ledger::environment`).

pub mod alarm;
pub mod deployment_config;
pub mod endpoint;
pub mod endpoint_config;
pub mod keys;
pub mod lambda_alias;
pub mod names;
pub mod promotion;
pub mod sagemaker;
pub mod smoke;
pub mod state;

pub use alarm::{respond_to_alarm, respond_to_alarm_at, AlarmResponse};
pub use deployment_config::{DeploymentPlan, Routing};
pub use endpoint::{judge, next_action, EndpointAction, ObservedEndpoint, Verdict};
pub use endpoint_config::{CaptureSpec, EndpointConfigSpec, VARIANT_NAME};
pub use promotion::{after_bake, Promotion};
pub use state::{EnvironmentState, Failure, Release, Rollout, RolloutKind};

use crate::policy::{Environment, Group, Policy};

/// The environments whose `alarms` name `alarm`, with their groups.
pub fn watching<'p>(policy: &'p Policy, alarm: &str) -> Vec<(&'p Group, &'p Environment)> {
    policy
        .groups
        .values()
        .flat_map(|g| g.environments.iter().map(move |e| (g, e)))
        .filter(|(_, e)| e.alarms.iter().any(|a| a == alarm))
        .collect()
}

/// The group and environment a CodeDeploy deployment group belongs to
/// (names from [`lambda_alias`]).
pub fn serving_deployment_group<'p>(
    policy: &'p Policy,
    application: &str,
    deployment_group: &str,
) -> Option<(&'p Group, &'p Environment)> {
    policy.groups.values().find_map(|g| {
        (lambda_alias::application(&g.name) == application)
            .then(|| {
                g.environments.iter().find(|e| {
                    matches!(e.target, crate::policy::Target::LambdaAlias { .. })
                        && lambda_alias::deployment_group(&e.name) == deployment_group
                })
            })
            .flatten()
            .map(|e| (g, e))
    })
}

/// The group and environment serving on a SageMaker endpoint.
pub fn serving_endpoint<'p>(
    policy: &'p Policy,
    endpoint: &str,
) -> Option<(&'p Group, &'p Environment)> {
    policy.groups.values().find_map(|g| {
        g.environments
            .iter()
            .find(|e| {
                matches!(&e.target, crate::policy::Target::SageMakerEndpoint { endpoint: name, .. } if name == endpoint)
            })
            .map(|e| (g, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::steward::{
        DeploymentFailed, DeploymentStarted, DeploymentSucceeded, Header, PromotionRequested,
        RollbackCompleted, RollbackStarted, StewardDetail, DETAIL_TYPES,
    };
    use crate::naming::IdempotencyKey;

    #[test]
    fn deployment_events_are_named_as_designed_and_carry_the_header_flat() {
        for name in [
            DeploymentStarted::DETAIL_TYPE,
            DeploymentSucceeded::DETAIL_TYPE,
            DeploymentFailed::DETAIL_TYPE,
            PromotionRequested::DETAIL_TYPE,
            RollbackStarted::DETAIL_TYPE,
            RollbackCompleted::DETAIL_TYPE,
        ] {
            assert!(DETAIL_TYPES.contains(&name), "{name}");
        }
        let event = PromotionRequested {
            header: Header {
                model_package_group: "payroll-fraud".into(),
                model_package_arn: Some("arn:pkg/7".into()),
                environment: Some("prod".into()),
                correlation_id: "stw-1".into(),
                cause: IdempotencyKey::new("deploy/baked/x"),
                policy_version: None,
            },
            version: 7,
            from_environment: "staging".into(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["environment"], "prod");
        assert_eq!(json["fromEnvironment"], "staging");
        assert_eq!(event.resources(), ["arn:pkg/7"]);
    }

    #[test]
    fn alarms_and_endpoints_lead_back_to_their_environment() {
        let policy = Policy::parse(include_str!("../../../../examples/steward.toml")).unwrap();
        let watching: Vec<(&str, &str)> = watching(&policy, "payroll-fraud-prod-5xx")
            .into_iter()
            .map(|(g, e)| (g.name.as_str(), e.name.as_str()))
            .collect();
        assert_eq!(watching, [("payroll-fraud", "prod")]);
        assert!(super::watching(&policy, "nobody-watches-this").is_empty());
        let (group, env) = serving_endpoint(&policy, "attrition-prod").unwrap();
        assert_eq!(
            (group.name.as_str(), env.name.as_str()),
            ("attrition", "prod")
        );
        // A Lambda function is not an endpoint.
        assert!(serving_endpoint(&policy, "attrition-model-staging").is_none());
    }
}
