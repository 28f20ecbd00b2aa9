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
    /// `STEWARD_NOTIFICATIONS_TOPIC`: the SNS topic stewards are mailed through.
    pub notifications_topic: String,
    /// `STEWARD_CLAIM_LEASE_SECONDS` (default 120).
    pub claim_lease: Duration,
}

impl FromEnv for Config {
    fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            ledger_table: env.required("STEWARD_LEDGER_TABLE")?,
            event_bus: env.required("STEWARD_EVENT_BUS")?,
            policy_parameter: env.required("STEWARD_POLICY_PARAMETER")?,
            notifications_topic: env.required("STEWARD_NOTIFICATIONS_TOPIC")?,
            claim_lease: env.seconds("STEWARD_CLAIM_LEASE_SECONDS", Duration::from_secs(120))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notifications_topic_is_required() {
        let err = Config::from_lookup(|name: &str| {
            (name != "STEWARD_NOTIFICATIONS_TOPIC").then(|| "x".to_string())
        })
        .unwrap_err();
        assert_eq!(err, ConfigError::Missing("STEWARD_NOTIFICATIONS_TOPIC"));
    }
}
