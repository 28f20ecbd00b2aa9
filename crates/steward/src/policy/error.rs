//! Policy errors: every problem in `steward.toml`, each named by the path of the
//! field it concerns, so `steward policy check` can list them all in one go.

use std::fmt;

/// Where document-level problems (TOML syntax, no groups) are reported.
pub const DOCUMENT: &str = "steward.toml";

/// One problem in the policy: the field it concerns and what is wrong with it.
///
/// `path` uses TOML's dotted-key syntax with array indexes, e.g.
/// `groups.payroll-fraud.environments[1].strategy.size_percent`; keys that are not
/// bare TOML keys are quoted (`gate.thresholds."binary_classification_metrics.auc.value"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PolicyError {
    pub path: String,
    pub message: String,
}

/// Every problem found in a policy (never empty when returned by [`super::Policy::parse`]).
///
/// Displayed as one `path: message` per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl PolicyErrors {
    /// The problems reported for exactly this path.
    pub fn at<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a PolicyError> + 'a {
        self.0.iter().filter(move |e| e.path == path)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, PolicyError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

impl<'a> IntoIterator for &'a PolicyErrors {
    type Item = &'a PolicyError;
    type IntoIter = std::slice::Iter<'a, PolicyError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Collects problems while the whole policy is checked, instead of stopping at the
/// first: a user fixing a file wants the full list.
#[derive(Debug, Default)]
pub(super) struct Errors(Vec<PolicyError>);

impl Errors {
    pub(super) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(PolicyError {
            path: path.into(),
            message: message.into(),
        });
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn into_result<T>(self, value: T) -> Result<T, PolicyErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(PolicyErrors(self.0))
        }
    }
}

/// The path of `key` inside `parent`, quoting the key when TOML would need quotes.
pub(super) fn field(parent: &str, key: &str) -> String {
    let key = if is_bare_key(key) {
        key.to_string()
    } else {
        format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// The path of the `index`th element of the array at `parent`.
pub(super) fn index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_keys_that_are_not_bare() {
        assert_eq!(field("", "groups"), "groups");
        assert_eq!(field("groups", "payroll-fraud"), "groups.payroll-fraud");
        assert_eq!(
            field("gate.thresholds", "a.b.value"),
            "gate.thresholds.\"a.b.value\""
        );
        assert_eq!(index("environments", 2), "environments[2]");
    }

    #[test]
    fn display_is_one_path_and_message_per_line() {
        let errors = PolicyErrors(vec![
            PolicyError {
                path: "a.b".into(),
                message: "bad".into(),
            },
            PolicyError {
                path: "c".into(),
                message: "worse".into(),
            },
        ]);
        assert_eq!(errors.to_string(), "a.b: bad\nc: worse");
    }
}
