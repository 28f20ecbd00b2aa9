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
    /// `STEWARD_CLAIM_LEASE_SECONDS` (default 120): how long an attempt owns a
    /// cause before another delivery may take it over. Longer than the function's
    /// timeout, so a live attempt is never overtaken.
    pub claim_lease: Duration,
    /// `STEWARD_NOTIFICATIONS_TOPIC` (optional): the SNS topic stewards are
    /// mailed through (a failed pipeline run). Unset, a failed run is recorded
    /// and the handler fails with `notifications_not_configured`.
    pub notifications_topic: Option<String>,
}

impl FromEnv for Config {
    fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            ledger_table: env.required("STEWARD_LEDGER_TABLE")?,
            event_bus: env.required("STEWARD_EVENT_BUS")?,
            policy_parameter: env.required("STEWARD_POLICY_PARAMETER")?,
            claim_lease: env.seconds("STEWARD_CLAIM_LEASE_SECONDS", Duration::from_secs(120))?,
            notifications_topic: env.required("STEWARD_NOTIFICATIONS_TOPIC").ok(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn reads_names_and_defaults_the_lease() {
        let config = Config::from_lookup(env(&[
            ("STEWARD_LEDGER_TABLE", "ledger"),
            ("STEWARD_EVENT_BUS", "steward"),
            ("STEWARD_POLICY_PARAMETER", "/steward/policy"),
        ]))
        .unwrap();
        assert_eq!(config.ledger_table, "ledger");
        assert_eq!(config.claim_lease, Duration::from_secs(120));
    }

    #[test]
    fn missing_and_invalid_values_are_named() {
        let err = Config::from_lookup(env(&[("STEWARD_LEDGER_TABLE", "ledger")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable STEWARD_EVENT_BUS is not set"
        );
        let err = Config::from_lookup(env(&[
            ("STEWARD_LEDGER_TABLE", "ledger"),
            ("STEWARD_EVENT_BUS", "steward"),
            ("STEWARD_POLICY_PARAMETER", "/p"),
            ("STEWARD_CLAIM_LEASE_SECONDS", "soon"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("STEWARD_CLAIM_LEASE_SECONDS"),
            "{err}"
        );
    }
}
