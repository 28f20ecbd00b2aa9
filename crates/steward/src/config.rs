//! Reading a function's configuration from its environment, once at cold
//! start. Every function names its variables; this is how they are read, so a
//! missing or malformed one is reported the same way everywhere.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// A function's configuration, read once at cold start from its environment
/// (`from_env`) or, in tests, from any lookup (`from_lookup`), so tests need not
/// mutate the process environment. Implementors write `read` only.
pub trait FromEnv: Sized {
    fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError>;

    fn from_env() -> Result<Self, ConfigError> {
        Self::read(&Env::process())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(&Env::new(lookup))
    }
}

/// Variables looked up by name: the process environment, or a test's map
/// (tests need not mutate the process environment).
pub struct Env<F: Fn(&str) -> Option<String>> {
    lookup: F,
}

impl Env<fn(&str) -> Option<String>> {
    pub fn process() -> Self {
        Env {
            lookup: |name| std::env::var(name).ok(),
        }
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn new(lookup: F) -> Self {
        Env { lookup }
    }

    /// A variable that must be set and not blank.
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        (self.lookup)(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::Missing(name))
    }

    /// A positive number of seconds, or `default` when unset.
    pub fn seconds(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        match (self.lookup)(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .ok_or_else(|| ConfigError::Invalid {
                    name,
                    reason: format!("expected a positive number of seconds, got `{raw}`"),
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> Env<impl Fn(&str) -> Option<String>> {
        Env::new(move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn required_values_must_be_present_and_not_blank() {
        let env = env(&[("A", "x"), ("B", "  ")]);
        assert_eq!(env.required("A").unwrap(), "x");
        assert_eq!(env.required("B"), Err(ConfigError::Missing("B")));
        assert_eq!(
            env.required("C").unwrap_err().to_string(),
            "environment variable C is not set"
        );
    }

    #[test]
    fn seconds_default_when_unset_and_reject_nonsense() {
        let env = env(&[("L", "30"), ("Z", "0"), ("W", "soon")]);
        let default = Duration::from_secs(120);
        assert_eq!(env.seconds("L", default).unwrap(), Duration::from_secs(30));
        assert_eq!(env.seconds("U", default).unwrap(), default);
        assert!(env.seconds("Z", default).is_err());
        let err = env.seconds("W", default).unwrap_err().to_string();
        assert!(err.contains("W") && err.contains("soon"), "{err}");
    }
}
