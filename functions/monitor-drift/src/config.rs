//! Configuration from the environment, parsed once at cold start.

use std::time::Duration;

use steward::config::Env;
pub use steward::config::{ConfigError, FromEnv};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `STEWARD_LEDGER_TABLE`: the ledger's DynamoDB table.
    pub ledger_table: String,
    /// `STEWARD_EVENT_BUS`: the bus `Drift Detected` goes to.
    pub event_bus: String,
    /// `STEWARD_POLICY_PARAMETER`: the SSM parameter holding the published policy.
    pub policy_parameter: String,
    /// `STEWARD_CLAIM_LEASE_SECONDS` (default 900): how long one check owns its
    /// endpoint and window; longer than the function's timeout.
    pub claim_lease: Duration,
}

impl FromEnv for Config {
    fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            ledger_table: env.required("STEWARD_LEDGER_TABLE")?,
            event_bus: env.required("STEWARD_EVENT_BUS")?,
            policy_parameter: env.required("STEWARD_POLICY_PARAMETER")?,
            claim_lease: env.seconds("STEWARD_CLAIM_LEASE_SECONDS", Duration::from_secs(900))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_variables_with_a_default_lease() {
        let config = Config::from_lookup(|name| match name {
            "STEWARD_LEDGER_TABLE" => Some("ledger".into()),
            "STEWARD_EVENT_BUS" => Some("steward".into()),
            "STEWARD_POLICY_PARAMETER" => Some("/steward/policy".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.claim_lease, Duration::from_secs(900));
        assert_eq!(config.event_bus, "steward");
        let missing = Config::from_lookup(|_| None).unwrap_err();
        assert_eq!(missing, ConfigError::Missing("STEWARD_LEDGER_TABLE"));
    }
}
