//! Configuration from the environment, parsed once at cold start.

use std::time::Duration;

use steward::config::Env;
pub use steward::config::{ConfigError, FromEnv};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `STEWARD_LEDGER_TABLE`: the ledger's DynamoDB table.
    pub ledger_table: String,
    /// `STEWARD_EVENT_BUS`: the bus Steward's own events go to.
    pub event_bus: String,
    /// `STEWARD_POLICY_PARAMETER`: the SSM parameter holding the published policy.
    pub policy_parameter: String,
    /// `STEWARD_SAGEMAKER_ROLE_ARN`: the execution role of the models Steward
    /// creates (passed to SageMaker: the function needs `iam:PassRole` on it).
    pub execution_role_arn: String,
    /// `STEWARD_NOTIFICATIONS_TOPIC`: the SNS topic stewards are mailed
    /// through (a failed smoke test, a promotion approved by policy).
    pub notifications_topic: String,
    /// `STEWARD_CLAIM_LEASE_SECONDS` (default 120).
    pub claim_lease: Duration,
    /// Lambda-served (CodeDeploy) environments.
    pub lambda: LambdaTargets,
}

/// Settings of Lambda-served environments; both optional (a stack without
/// such environments needs neither).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LambdaTargets {
    /// `STEWARD_CODEDEPLOY_ROLE_ARN`: the service role of the deployment
    /// groups Steward creates (passed to CodeDeploy).
    pub codedeploy_role_arn: Option<String>,
    /// `STEWARD_SMOKE_HOOK_FUNCTION`: the BeforeAllowTraffic hook that runs an
    /// environment's smoke test against the new version.
    pub smoke_hook_function: Option<String>,
}

impl FromEnv for Config {
    fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            ledger_table: env.required("STEWARD_LEDGER_TABLE")?,
            event_bus: env.required("STEWARD_EVENT_BUS")?,
            policy_parameter: env.required("STEWARD_POLICY_PARAMETER")?,
            execution_role_arn: env.required("STEWARD_SAGEMAKER_ROLE_ARN")?,
            notifications_topic: env.required("STEWARD_NOTIFICATIONS_TOPIC")?,
            claim_lease: env.seconds("STEWARD_CLAIM_LEASE_SECONDS", Duration::from_secs(120))?,
            lambda: LambdaTargets {
                codedeploy_role_arn: env.required("STEWARD_CODEDEPLOY_ROLE_ARN").ok(),
                smoke_hook_function: env.required("STEWARD_SMOKE_HOOK_FUNCTION").ok(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_execution_role_is_required() {
        let all =
            |name: &str| (name != "STEWARD_SAGEMAKER_ROLE_ARN").then(|| format!("{name}-value"));
        let err = Config::from_lookup(all).unwrap_err();
        assert_eq!(err, ConfigError::Missing("STEWARD_SAGEMAKER_ROLE_ARN"));
        let err = Config::from_lookup(|name: &str| Some(format!("{name}-value"))).unwrap_err();
        // A lease must be a number.
        assert!(err.to_string().contains("STEWARD_CLAIM_LEASE_SECONDS"));
        let no_topic =
            |name: &str| (name != "STEWARD_NOTIFICATIONS_TOPIC").then(|| "1".to_string());
        let err = Config::from_lookup(no_topic).unwrap_err();
        assert_eq!(err, ConfigError::Missing("STEWARD_NOTIFICATIONS_TOPIC"));
    }
}
