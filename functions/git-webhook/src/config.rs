//! Configuration from the environment, parsed once at cold start.

use std::time::Duration;

use steward::config::Env;
pub use steward::config::{ConfigError, FromEnv};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `STEWARD_WEBHOOK_SECRET_ID`: the Secrets Manager secret (name or ARN)
    /// holding the webhook secret GitHub signs with and GitLab sends.
    pub secret_id: String,
    /// `STEWARD_LEDGER_TABLE`: where delivery ids are claimed.
    pub ledger_table: String,
    /// `STEWARD_EVENT_BUS`: where `Git Push` events go.
    pub event_bus: String,
    /// `STEWARD_CLAIM_LEASE_SECONDS` (default 60): how long a delivery being
    /// handled holds its claim before a redelivery may take over. Longer than
    /// the function's timeout, so a live attempt is never overtaken.
    pub claim_lease: Duration,
}

impl FromEnv for Config {
    fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            secret_id: env.required("STEWARD_WEBHOOK_SECRET_ID")?,
            ledger_table: env.required("STEWARD_LEDGER_TABLE")?,
            event_bus: env.required("STEWARD_EVENT_BUS")?,
            claim_lease: env.seconds("STEWARD_CLAIM_LEASE_SECONDS", Duration::from_secs(60))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_defaults_the_lease_and_names_what_is_missing() {
        let env = |name: &str| match name {
            "STEWARD_WEBHOOK_SECRET_ID" => Some("steward/webhook".to_string()),
            "STEWARD_LEDGER_TABLE" => Some("ledger".to_string()),
            "STEWARD_EVENT_BUS" => Some("steward".to_string()),
            _ => None,
        };
        let config = Config::from_lookup(env).unwrap();
        assert_eq!(config.secret_id, "steward/webhook");
        assert_eq!(config.claim_lease, Duration::from_secs(60));
        let err = Config::from_lookup(|_| None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable STEWARD_WEBHOOK_SECRET_ID is not set"
        );
    }
}
