//! Configuration from the environment, parsed once at cold start.

use steward::config::Env;
pub use steward::config::{ConfigError, FromEnv};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `STEWARD_LEDGER_TABLE`: the ledger's DynamoDB table.
    pub ledger_table: String,
}

impl FromEnv for Config {
    fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            ledger_table: env.required("STEWARD_LEDGER_TABLE")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_required() {
        let config = Config::from_lookup(|n| (n == "STEWARD_LEDGER_TABLE").then(|| "l".into()));
        assert_eq!(config.unwrap().ledger_table, "l");
        assert_eq!(
            Config::from_lookup(|_| None).unwrap_err().to_string(),
            "environment variable STEWARD_LEDGER_TABLE is not set"
        );
    }
}
