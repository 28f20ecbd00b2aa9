//! Publishing the policy from git: which pushes concern it, the label of the
//! version a commit publishes, and what the stewards are told when a pushed
//! policy is invalid. Pure; `functions/publish-policy` does the I/O.

use std::collections::BTreeSet;

use crate::naming::IdempotencyKey;
use crate::notify::Mail;
use crate::policy::{Policy, PolicyErrors};

/// Where a repository is hosted, which decides how the file is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitHost {
    CodeCommit,
    GitHub,
    GitLab,
}

impl GitHost {
    pub fn as_str(self) -> &'static str {
        match self {
            GitHost::CodeCommit => "codecommit",
            GitHost::GitHub => "github",
            GitHost::GitLab => "gitlab",
        }
    }

    /// The `provider` of a `Git Push` event (git-webhook writes `github` or `gitlab`).
    pub fn from_provider(provider: &str) -> Option<GitHost> {
        match provider {
            "github" => Some(GitHost::GitHub),
            "gitlab" => Some(GitHost::GitLab),
            "codecommit" => Some(GitHost::CodeCommit),
            _ => None,
        }
    }
}

/// Where the policy lives: a file on a branch of one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    pub repository: String,
    pub branch: String,
    /// Path in the repository, e.g. `steward.toml`.
    pub path: String,
}

/// A push, from any host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyPush {
    pub host: GitHost,
    pub repository: String,
    pub branch: String,
    pub commit: String,
    /// The paths the push changed; `None` when the host does not say
    /// (CodeCommit's event), and the file is then fetched and compared.
    pub changed_paths: Option<Vec<String>>,
}

/// Whether a push may change the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushDecision {
    /// Fetch the policy file at the pushed commit.
    Fetch,
    /// Not the policy's repository or branch, or the file did not change.
    Ignore(String),
}

pub fn decide(source: &PolicySource, push: &PolicyPush) -> PushDecision {
    if push.repository != source.repository || push.branch != source.branch {
        return PushDecision::Ignore(format!(
            "{}@{} is not the policy's branch ({}@{})",
            push.repository, push.branch, source.repository, source.branch
        ));
    }
    match &push.changed_paths {
        Some(paths) if !paths.iter().any(|p| p == &source.path) => PushDecision::Ignore(format!(
            "commit {} did not change {}",
            push.commit, source.path
        )),
        _ => PushDecision::Fetch,
    }
}

/// One publication per commit, whatever host or delivery announced it.
pub fn publish_key(push: &PolicyPush) -> IdempotencyKey {
    IdempotencyKey::new(format!(
        "policy/publish/{}@{}",
        push.repository, push.commit
    ))
}

/// The SSM description of the version a push published: names the commit, so
/// a retry after a crash between publishing and recording finds its version.
pub fn version_description(push: &PolicyPush) -> String {
    format!(
        "steward.toml from {} {}@{} ({})",
        push.host.as_str(),
        push.repository,
        push.commit,
        push.branch
    )
}

/// The SSM label of the version a commit published. Labels may not start with
/// a digit (nor `aws`/`ssm`) and hold at most 100 characters.
pub fn version_label(commit: &str) -> String {
    let commit: String = commit
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(93)
        .collect();
    format!("commit-{commit}")
}

/// Everyone told about a rejected policy: the stewards of the policy in force.
pub fn stewards(policy: &Policy) -> BTreeSet<String> {
    policy
        .groups
        .values()
        .flat_map(|g| g.stewards.iter())
        .map(|s| s.trim().to_string())
        .collect()
}

/// The mail to the stewards when a pushed policy is invalid.
pub fn rejection_mail(
    source: &PolicySource,
    push: &PolicyPush,
    errors: &PolicyErrors,
    in_force: &str,
) -> Mail {
    let mut body = format!(
        "The policy pushed to {repo}@{branch} in commit {commit} is invalid and was not published.\n\
         The policy in force stays {in_force}.\n\n\
         {count} problem(s) in {path}:\n",
        repo = push.repository,
        branch = push.branch,
        commit = push.commit,
        count = errors.len(),
        path = source.path,
    );
    for error in errors {
        body.push_str(&format!("  - {error}\n"));
    }
    body.push_str(&format!(
        "\nCheck a fix locally with `steward policy check {}` and push it.\n",
        source.path
    ));
    let short: String = push.commit.chars().take(12).collect();
    Mail {
        subject: format!(
            "Steward: policy at {short} rejected ({} problems)",
            errors.len()
        ),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> PolicySource {
        PolicySource {
            repository: "acme/ml-models".into(),
            branch: "main".into(),
            path: "steward.toml".into(),
        }
    }

    fn push(paths: Option<&[&str]>) -> PolicyPush {
        PolicyPush {
            host: GitHost::GitHub,
            repository: "acme/ml-models".into(),
            branch: "main".into(),
            commit: "9f2c1e0b8d4a".into(),
            changed_paths: paths.map(|p| p.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn only_pushes_changing_the_policy_file_on_its_branch_are_fetched() {
        assert_eq!(
            decide(&source(), &push(Some(&["steward.toml", "README.md"]))),
            PushDecision::Fetch
        );
        assert!(matches!(
            decide(&source(), &push(Some(&["README.md", "models/steward.toml"]))),
            PushDecision::Ignore(why) if why.contains("did not change steward.toml")
        ));
        // CodeCommit does not list paths: fetch and compare.
        assert_eq!(decide(&source(), &push(None)), PushDecision::Fetch);
        let mut other = push(Some(&["steward.toml"]));
        other.branch = "feature/x".into();
        assert!(matches!(decide(&source(), &other), PushDecision::Ignore(_)));
        other.branch = "main".into();
        other.repository = "acme/other".into();
        assert!(matches!(decide(&source(), &other), PushDecision::Ignore(_)));
    }

    #[test]
    fn labels_never_start_with_a_digit_and_fit_ssm() {
        assert_eq!(version_label("9f2c1e0b8d4a"), "commit-9f2c1e0b8d4a");
        assert!(version_label(&"a".repeat(200)).len() <= 100);
        let github = push(Some(&[]));
        let mut codecommit = github.clone();
        codecommit.host = GitHost::CodeCommit;
        assert_eq!(publish_key(&github), publish_key(&codecommit));
        assert_eq!(GitHost::from_provider("gitlab"), Some(GitHost::GitLab));
        assert_eq!(GitHost::from_provider("svn"), None);
    }

    #[test]
    fn the_rejection_mail_lists_every_problem_and_the_policy_in_force() {
        let errors = Policy::parse("[groups.x]\nunknown = 1\n").unwrap_err();
        let mail = rejection_mail(
            &source(),
            &push(Some(&["steward.toml"])),
            &errors,
            "ssm:/steward/policy:3",
        );
        assert!(mail.subject.contains("9f2c1e0b8d4a"));
        assert!(mail.body.contains("ssm:/steward/policy:3"));
        for error in &errors {
            assert!(mail.body.contains(&error.to_string()), "{}", mail.body);
        }
        let policy = Policy::parse(include_str!("../../../../examples/steward.toml")).unwrap();
        let to = stewards(&policy);
        assert!(to.contains("ml-fraud@acme.com"));
        assert!(to.contains("people-analytics@acme.com"));
        assert!(
            !to.contains("hr-ml-lead@acme.com"),
            "approvers are not stewards"
        );
    }
}
