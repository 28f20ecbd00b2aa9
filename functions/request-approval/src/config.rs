//! Configuration from the environment, parsed once at cold start.

use std::time::Duration;

use steward::config::Env;
pub use steward::config::{ConfigError, FromEnv};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `STEWARD_LEDGER_TABLE`: claims, lineage records and approval requests.
    pub ledger_table: String,
    /// `STEWARD_EVENT_BUS`: where `Gate Evaluated` and `Approval Requested` go.
    pub event_bus: String,
    /// `STEWARD_POLICY_PARAMETER`: the SSM parameter holding the published policy.
    pub policy_parameter: String,
    /// `STEWARD_NOTIFICATIONS_TOPIC`: the SNS topic every mail goes through.
    pub notifications_topic: String,
    /// `STEWARD_APPROVAL_URL`: the approval-link function's URL; links are
    /// `{url}?token=…`.
    pub approval_url: String,
    /// `STEWARD_APPROVAL_KEY_SECRET_ID`: the Secrets Manager secret whose
    /// current value signs approval links.
    pub key_secret_id: String,
    /// `STEWARD_CLAIM_LEASE_SECONDS` (default 120): how long an attempt owns a
    /// cause; longer than the function's timeout.
    pub claim_lease: Duration,
}

impl FromEnv for Config {
    fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let approval_url = env.required("STEWARD_APPROVAL_URL")?;
        if !(approval_url.starts_with("https://") || approval_url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                name: "STEWARD_APPROVAL_URL",
                reason: format!("expected an http(s) URL, got `{approval_url}`"),
            });
        }
        Ok(Self {
            ledger_table: env.required("STEWARD_LEDGER_TABLE")?,
            event_bus: env.required("STEWARD_EVENT_BUS")?,
            policy_parameter: env.required("STEWARD_POLICY_PARAMETER")?,
            notifications_topic: env.required("STEWARD_NOTIFICATIONS_TOPIC")?,
            approval_url,
            key_secret_id: env.required("STEWARD_APPROVAL_KEY_SECRET_ID")?,
            claim_lease: env.seconds("STEWARD_CLAIM_LEASE_SECONDS", Duration::from_secs(120))?,
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

    const ALL: [(&str, &str); 6] = [
        ("STEWARD_LEDGER_TABLE", "ledger"),
        ("STEWARD_EVENT_BUS", "steward"),
        ("STEWARD_POLICY_PARAMETER", "/steward/policy"),
        (
            "STEWARD_NOTIFICATIONS_TOPIC",
            "arn:aws:sns:us-east-1:1:steward",
        ),
        (
            "STEWARD_APPROVAL_URL",
            "https://abc.lambda-url.us-east-1.on.aws/",
        ),
        ("STEWARD_APPROVAL_KEY_SECRET_ID", "steward/approval-key"),
    ];

    #[test]
    fn reads_every_name_and_defaults_the_lease() {
        let config = Config::from_lookup(env(&ALL)).unwrap();
        assert_eq!(
            config.approval_url,
            "https://abc.lambda-url.us-east-1.on.aws/"
        );
        assert_eq!(config.claim_lease, Duration::from_secs(120));
    }

    #[test]
    fn a_missing_or_odd_approval_url_is_named() {
        let err = Config::from_lookup(env(&ALL[..4])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("STEWARD_APPROVAL_URL"));
        let mut odd = ALL;
        odd[4] = ("STEWARD_APPROVAL_URL", "abc.example");
        let err = Config::from_lookup(env(&odd)).unwrap_err();
        assert!(err.to_string().contains("STEWARD_APPROVAL_URL"), "{err}");
    }
}
