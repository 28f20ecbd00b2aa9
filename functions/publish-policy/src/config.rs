//! Configuration from the environment, parsed once at cold start.

use std::time::Duration;

use steward::config::Env;
pub use steward::config::{ConfigError, FromEnv};
use steward::policy_store::publish::PolicySource;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `STEWARD_LEDGER_TABLE`.
    pub ledger_table: String,
    /// `STEWARD_POLICY_PARAMETER`: the SSM parameter the policy is published to.
    pub policy_parameter: String,
    /// `STEWARD_NOTIFICATIONS_TOPIC`: the topic stewards are mailed through.
    pub notifications_topic: String,
    /// `STEWARD_POLICY_REPOSITORY` (CodeCommit name, GitHub `owner/name`,
    /// GitLab `group/name`), `STEWARD_POLICY_BRANCH` (default `main`),
    /// `STEWARD_POLICY_PATH` (default `steward.toml`).
    pub source: PolicySource,
    /// `STEWARD_GIT_TOKEN_SECRET` (optional): Secrets Manager secret holding the
    /// token for the GitHub or GitLab API; not needed for CodeCommit.
    pub git_token_secret: Option<String>,
    /// `STEWARD_GITHUB_API_URL` (default `https://api.github.com`; GitHub
    /// Enterprise: `https://<host>/api/v3`).
    pub github_api: String,
    /// `STEWARD_GITLAB_API_URL` (default `https://gitlab.com/api/v4`).
    pub gitlab_api: String,
    /// `STEWARD_CLAIM_LEASE_SECONDS` (default 120).
    pub claim_lease: Duration,
}

impl FromEnv for Config {
    fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let or = |name: &'static str, default: &str| {
            env.required(name).unwrap_or_else(|_| default.to_string())
        };
        Ok(Self {
            ledger_table: env.required("STEWARD_LEDGER_TABLE")?,
            policy_parameter: env.required("STEWARD_POLICY_PARAMETER")?,
            notifications_topic: env.required("STEWARD_NOTIFICATIONS_TOPIC")?,
            source: PolicySource {
                repository: env.required("STEWARD_POLICY_REPOSITORY")?,
                branch: or("STEWARD_POLICY_BRANCH", "main"),
                path: or("STEWARD_POLICY_PATH", "steward.toml"),
            },
            git_token_secret: env.required("STEWARD_GIT_TOKEN_SECRET").ok(),
            github_api: or("STEWARD_GITHUB_API_URL", "https://api.github.com"),
            gitlab_api: or("STEWARD_GITLAB_API_URL", "https://gitlab.com/api/v4"),
            claim_lease: env.seconds("STEWARD_CLAIM_LEASE_SECONDS", Duration::from_secs(120))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults_the_branch_path_and_apis() {
        let config = Config::from_lookup(lookup(&[
            ("STEWARD_LEDGER_TABLE", "ledger"),
            ("STEWARD_POLICY_PARAMETER", "/steward/policy"),
            (
                "STEWARD_NOTIFICATIONS_TOPIC",
                "arn:aws:sns:us-east-1:1:steward",
            ),
            ("STEWARD_POLICY_REPOSITORY", "acme/ml-models"),
        ]))
        .unwrap();
        assert_eq!(config.source.branch, "main");
        assert_eq!(config.source.path, "steward.toml");
        assert_eq!(config.github_api, "https://api.github.com");
        assert_eq!(config.gitlab_api, "https://gitlab.com/api/v4");
        assert_eq!(config.git_token_secret, None);
        let err = Config::from_lookup(lookup(&[("STEWARD_LEDGER_TABLE", "ledger")])).unwrap_err();
        assert!(
            err.to_string().contains("STEWARD_POLICY_PARAMETER"),
            "{err}"
        );
    }
}
