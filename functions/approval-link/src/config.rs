//! Configuration from the environment, parsed once at cold start.

use std::time::Duration;

use steward::config::Env;
pub use steward::config::{ConfigError, FromEnv};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `STEWARD_APPROVAL_KEY_SECRET_ID`: the Secrets Manager secret (name or
    /// ARN) whose value signs approval links (AWSCURRENT signs, AWSPREVIOUS
    /// still verifies during a rotation).
    pub key_secret_id: String,
    /// `STEWARD_LEDGER_TABLE`: where token ids and decisions are claimed.
    pub ledger_table: String,
    /// `STEWARD_EVENT_BUS`: where `Approval Decided` goes.
    pub event_bus: String,
    /// `STEWARD_CLAIM_LEASE_SECONDS` (default 120): how long a decision under
    /// way holds its claims; longer than the function's timeout.
    pub claim_lease: Duration,
    /// `STEWARD_KEY_REFRESH_SECONDS` (default 60): a link that does not verify
    /// makes a warm function re-read the key at most this often, so links
    /// signed right after a rotation work without waiting for a cold start.
    pub key_refresh: Duration,
}

impl FromEnv for Config {
    fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            key_secret_id: env.required("STEWARD_APPROVAL_KEY_SECRET_ID")?,
            ledger_table: env.required("STEWARD_LEDGER_TABLE")?,
            event_bus: env.required("STEWARD_EVENT_BUS")?,
            claim_lease: env.seconds("STEWARD_CLAIM_LEASE_SECONDS", Duration::from_secs(120))?,
            key_refresh: env.seconds("STEWARD_KEY_REFRESH_SECONDS", Duration::from_secs(60))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_defaults_the_durations_and_names_what_is_missing() {
        let env = |name: &str| match name {
            "STEWARD_APPROVAL_KEY_SECRET_ID" => Some("steward/approval-key".to_string()),
            "STEWARD_LEDGER_TABLE" => Some("ledger".to_string()),
            "STEWARD_EVENT_BUS" => Some("steward".to_string()),
            _ => None,
        };
        let config = Config::from_lookup(env).unwrap();
        assert_eq!(config.key_secret_id, "steward/approval-key");
        assert_eq!(config.claim_lease, Duration::from_secs(120));
        assert_eq!(config.key_refresh, Duration::from_secs(60));
        let err = Config::from_lookup(|_| None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable STEWARD_APPROVAL_KEY_SECRET_ID is not set"
        );
    }
}
