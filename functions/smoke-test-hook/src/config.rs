//! Configuration from the environment, parsed once at cold start.

use std::time::Duration;

use steward::config::Env;
pub use steward::config::{ConfigError, FromEnv};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `STEWARD_LEDGER_TABLE`: the ledger's DynamoDB table.
    pub ledger_table: String,
    /// `STEWARD_POLICY_PARAMETER`: the SSM parameter holding the published policy.
    pub policy_parameter: String,
    /// `STEWARD_CLAIM_LEASE_SECONDS` (default 300: a smoke test takes a while).
    pub claim_lease: Duration,
}

impl FromEnv for Config {
    fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            ledger_table: env.required("STEWARD_LEDGER_TABLE")?,
            policy_parameter: env.required("STEWARD_POLICY_PARAMETER")?,
            claim_lease: env.seconds("STEWARD_CLAIM_LEASE_SECONDS", Duration::from_secs(300))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_and_the_policy_are_required() {
        let err = Config::from_lookup(|n: &str| {
            (n != "STEWARD_POLICY_PARAMETER").then(|| "x".to_string())
        })
        .unwrap_err();
        assert_eq!(err, ConfigError::Missing("STEWARD_POLICY_PARAMETER"));
        let config = Config::from_lookup(|n: &str| {
            (n != "STEWARD_CLAIM_LEASE_SECONDS").then(|| format!("{n}-value"))
        })
        .unwrap();
        assert_eq!(config.claim_lease, Duration::from_secs(300));
    }
}
