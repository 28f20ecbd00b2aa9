//! The git side of a group: which repository and branches rebuild it, and which
//! changed paths matter (a README-only push rebuilds nothing).

use serde::Deserialize;

use super::error::{field, index, Errors};

/// Builds start from pushes to these branches of this repository, when a
/// changed path matches one of `paths`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitWatch {
    /// A CodeCommit repository name (`ml-models`) or a hosted `owner/name`
    /// (`acme/ml-models`), compared without regard to ASCII case as GitHub does.
    pub repository: String,
    /// Default `["main"]`.
    pub branches: Vec<String>,
    /// Glob patterns over repository paths: `*` and `?` stay within one path
    /// segment, `**` spans any number of segments. Empty: every path matters.
    pub paths: Vec<String>,
}

impl GitWatch {
    /// Whether a push to `branch` of `repository` concerns this group at all.
    pub fn watches(&self, repository: &str, branch: &str) -> bool {
        self.repository.eq_ignore_ascii_case(repository)
            && self.branches.iter().any(|b| b == branch)
    }

    /// The first changed path a pattern matches; `None` when the push changed
    /// nothing this group is built from. Without patterns every path matters,
    /// though a push that lists no paths at all (CodeCommit does not say) does too.
    pub fn first_relevant<'p>(&self, changed: &'p [String]) -> Option<&'p str> {
        if self.paths.is_empty() {
            return Some(changed.first().map(String::as_str).unwrap_or(""));
        }
        changed
            .iter()
            .find(|path| self.paths.iter().any(|p| glob_match(p, path)))
            .map(String::as_str)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGit {
    pub repository: Option<String>,
    pub branches: Option<Vec<String>>,
    pub paths: Option<Vec<String>>,
}

pub(super) fn git(path: &str, raw: RawGit, errors: &mut Errors) -> GitWatch {
    let repository = raw.repository.unwrap_or_else(|| {
        errors.add(
            field(path, "repository"),
            "missing; the CodeCommit repository name or the owner/name of the hosted repository",
        );
        String::new()
    });
    if !repository.is_empty() && !is_repository(&repository) {
        errors.add(
            field(path, "repository"),
            format!(
                "\"{repository}\" is not a repository: a CodeCommit name (letters, digits, '.', '_', '-') \
                 or owner/name, like \"acme/ml-models\""
            ),
        );
    }
    let branches = raw.branches.unwrap_or_else(|| vec!["main".to_string()]);
    let branches_path = field(path, "branches");
    if branches.is_empty() {
        errors.add(
            &branches_path,
            "empty; list the branches whose pushes rebuild this group, like [\"main\"]",
        );
    }
    for (i, branch) in branches.iter().enumerate() {
        let at = index(&branches_path, i);
        if branch.is_empty() || branch.starts_with("refs/") || branch.contains(char::is_whitespace)
        {
            errors.add(
                &at,
                format!("\"{branch}\" is not a branch name; write it without refs/heads/, like \"main\""),
            );
        } else if branches[..i].contains(branch) {
            errors.add(&at, format!("\"{branch}\" is listed twice"));
        }
    }
    let paths = raw.paths.unwrap_or_default();
    let paths_path = field(path, "paths");
    for (i, pattern) in paths.iter().enumerate() {
        let at = index(&paths_path, i);
        if pattern.is_empty() {
            errors.add(&at, "empty; write a path pattern like \"models/fraud/**\"");
        } else if pattern.starts_with('/') {
            errors.add(
                &at,
                format!(
                    "\"{pattern}\" starts with '/', but repository paths do not, so nothing would match; write \"{}\"",
                    pattern.trim_start_matches('/')
                ),
            );
        } else if paths[..i].contains(pattern) {
            errors.add(&at, format!("\"{pattern}\" is listed twice"));
        }
    }
    GitWatch {
        repository,
        branches,
        paths,
    }
}

fn is_repository(name: &str) -> bool {
    let part = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    match name.split_once('/') {
        None => part(name),
        Some((owner, repo)) => part(owner) && part(repo),
    }
}

/// Glob matching over `/`-separated paths: `**` (a whole segment) matches zero or
/// more segments, `*` any characters within a segment, `?` one character.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    segments(&pattern, &path)
}

fn segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| segments(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((segment, path_rest)) => {
                segment_match(first.as_bytes(), segment.as_bytes()) && segments(rest, path_rest)
            }
            None => false,
        },
    }
}

fn segment_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| segment_match(rest, &text[skip..])),
        Some((b'?', rest)) => !text.is_empty() && segment_match(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && segment_match(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_segments_as_git_tools_do() {
        for (pattern, path, matches) in [
            (
                "models/payroll-fraud/**",
                "models/payroll-fraud/train.py",
                true,
            ),
            (
                "models/payroll-fraud/**",
                "models/payroll-fraud/a/b/c.py",
                true,
            ),
            (
                "models/payroll-fraud/**",
                "models/attrition/train.py",
                false,
            ),
            ("features/**", "features/x.sql", true),
            ("**/*.py", "train.py", true),
            ("**/*.py", "a/b/train.py", true),
            ("*.py", "a/train.py", false),
            ("src/*.rs", "src/lib.rs", true),
            ("src/?.rs", "src/a.rs", true),
            ("src/?.rs", "src/ab.rs", false),
            ("README.md", "README.md", true),
            ("models/**", "README.md", false),
        ] {
            assert_eq!(glob_match(pattern, path), matches, "{pattern} vs {path}");
        }
    }

    #[test]
    fn a_watch_names_the_relevant_path() {
        let watch = GitWatch {
            repository: "acme/ml-models".into(),
            branches: vec!["main".into()],
            paths: vec!["models/payroll-fraud/**".into(), "features/**".into()],
        };
        assert!(watch.watches("ACME/ml-models", "main"));
        assert!(!watch.watches("acme/ml-models", "dev"));
        assert!(!watch.watches("acme/other", "main"));
        let readme = vec!["README.md".to_string()];
        assert_eq!(watch.first_relevant(&readme), None);
        let both = vec!["README.md".to_string(), "features/spend.sql".to_string()];
        assert_eq!(watch.first_relevant(&both), Some("features/spend.sql"));
        let everything = GitWatch {
            paths: vec![],
            ..watch
        };
        assert_eq!(everything.first_relevant(&readme), Some("README.md"));
    }
}
