//! A push, as both forges describe it once their payload shapes are read.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Where a webhook came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Github,
    Gitlab,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
        }
    }
}

/// One push, provider-neutral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub provider: Provider,
    /// `owner/name` (GitHub) or `group/subgroup/name` (GitLab).
    pub repository: String,
    /// The full ref, e.g. `refs/heads/main` or `refs/tags/v1`.
    pub git_ref: String,
    /// The commit the ref pointed to before the push, if it existed.
    pub before: Option<String>,
    /// The commit the ref points to now (all zeros for a deletion).
    pub commit: String,
    /// Every path added, modified or removed by the pushed commits, sorted, once.
    pub changed_paths: Vec<String>,
    /// False when the forge trimmed the commit list or listed no commit (a new
    /// branch at an existing commit, a force push backwards): then the paths are
    /// a hint, and path filters should treat everything as possibly changed.
    pub changed_paths_complete: bool,
    pub pusher: Option<String>,
    pub deleted: bool,
}

impl Push {
    /// The branch pushed to, if the ref is a branch.
    pub fn branch(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/heads/")
    }

    /// Why this push starts nothing, if it does not: a deleted ref has no
    /// commit to build, and tags or notes are not branches a policy names.
    pub fn ignore_reason(&self) -> Option<String> {
        if self.deleted {
            return Some(format!("{} was deleted; nothing to build", self.git_ref));
        }
        match self.branch() {
            Some(branch) if !branch.is_empty() => None,
            _ => Some(format!(
                "{} is not a branch; nothing to build",
                self.git_ref
            )),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PushError {
    #[error("the {provider} push payload is not valid: {reason}")]
    Malformed {
        provider: &'static str,
        reason: String,
    },
}

impl PushError {
    pub fn error_type(&self) -> &'static str {
        "malformed_push"
    }
}

/// The paths a commit touched, as both forges list them.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CommitPaths {
    #[serde(default)]
    added: Vec<String>,
    #[serde(default)]
    modified: Vec<String>,
    #[serde(default)]
    removed: Vec<String>,
}

/// The union of the paths the commits touched, sorted and without repeats, so
/// the same push always yields the same event.
pub(super) fn changed_paths<'a>(commits: impl IntoIterator<Item = &'a CommitPaths>) -> Vec<String> {
    let mut paths = BTreeSet::new();
    for commit in commits {
        for path in commit
            .added
            .iter()
            .chain(&commit.modified)
            .chain(&commit.removed)
        {
            paths.insert(path.clone());
        }
    }
    paths.into_iter().collect()
}

/// Git's "no commit": a ref created (as `before`) or deleted (as `after`).
pub(super) fn is_zero_sha(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

/// Read a payload, naming the JSON path that broke.
pub(super) fn decode<T: serde::de::DeserializeOwned>(
    provider: Provider,
    body: &[u8],
) -> Result<T, PushError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| PushError::Malformed {
        provider: provider.as_str(),
        reason: format!("at `{}`: {}", e.path(), e.inner()),
    })
}
