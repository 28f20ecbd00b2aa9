//! The policy file at a commit, from the host the push came from: CodeCommit
//! `GetFile`; GitHub's repository contents API (raw media type); GitLab's
//! repository files API (raw). API base URLs are configurable (GitHub
//! Enterprise, self-managed GitLab, the local twin).

use steward::policy_store::publish::{GitHost, PolicyPush};

use crate::http::Http;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{path} does not exist at {commit} in {repository}")]
    NotFound {
        repository: String,
        commit: String,
        path: String,
    },
    #[error("fetching {path} from {host} failed: {message}")]
    Failed {
        host: &'static str,
        path: String,
        message: String,
    },
    #[error("{host} needs a token: set STEWARD_GIT_TOKEN_SECRET")]
    NoToken { host: &'static str },
}

impl FetchError {
    pub fn error_type(&self) -> &'static str {
        match self {
            FetchError::NotFound { .. } => "policy_file_not_found",
            FetchError::Failed { .. } => "policy_fetch_failed",
            FetchError::NoToken { .. } => "git_token_missing",
        }
    }
}

pub struct Fetcher {
    pub codecommit: aws_sdk_codecommit::Client,
    pub http: Http,
    pub github_api: String,
    pub gitlab_api: String,
    /// The GitHub/GitLab token, read once at cold start.
    pub token: Option<String>,
}

impl Fetcher {
    pub async fn fetch(&self, push: &PolicyPush, path: &str) -> Result<String, FetchError> {
        match push.host {
            GitHost::CodeCommit => self.codecommit(push, path).await,
            GitHost::GitHub => {
                let url = format!(
                    "{}/repos/{}/contents/{}?ref={}",
                    self.github_api.trim_end_matches('/'),
                    push.repository,
                    encode_path(path),
                    encode(&push.commit)
                );
                let token = self.token("github")?;
                let bearer = format!("Bearer {token}");
                let headers = [
                    ("authorization", bearer.as_str()),
                    ("accept", "application/vnd.github.raw+json"),
                    ("x-github-api-version", "2022-11-28"),
                    // GitHub refuses requests without a User-Agent.
                    ("user-agent", "steward-publish-policy"),
                ];
                self.http_get("github", push, path, &url, &headers).await
            }
            GitHost::GitLab => {
                let url = format!(
                    "{}/projects/{}/repository/files/{}/raw?ref={}",
                    self.gitlab_api.trim_end_matches('/'),
                    encode(&push.repository),
                    encode(path),
                    encode(&push.commit)
                );
                let token = self.token("gitlab")?;
                let headers = [
                    ("private-token", token),
                    ("user-agent", "steward-publish-policy"),
                ];
                self.http_get("gitlab", push, path, &url, &headers).await
            }
        }
    }

    fn token(&self, host: &'static str) -> Result<&str, FetchError> {
        self.token.as_deref().ok_or(FetchError::NoToken { host })
    }

    async fn codecommit(&self, push: &PolicyPush, path: &str) -> Result<String, FetchError> {
        let out = self
            .codecommit
            .get_file()
            .repository_name(&push.repository)
            .commit_specifier(&push.commit)
            .file_path(path)
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_file_does_not_exist_exception()) =>
            {
                return Err(not_found(push, path))
            }
            Err(e) => {
                return Err(FetchError::Failed {
                    host: "codecommit",
                    path: path.into(),
                    message: steward::aws_error::describe(&e),
                })
            }
        };
        String::from_utf8(out.file_content.into_inner()).map_err(|_| FetchError::Failed {
            host: "codecommit",
            path: path.into(),
            message: "the file is not UTF-8".into(),
        })
    }

    async fn http_get(
        &self,
        host: &'static str,
        push: &PolicyPush,
        path: &str,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<String, FetchError> {
        let failed = |message: String| FetchError::Failed {
            host,
            path: path.into(),
            message,
        };
        let (status, body) = self.http.get(url, headers).await.map_err(failed)?;
        match status {
            200 => Ok(body),
            404 => Err(not_found(push, path)),
            _ => Err(failed(format!(
                "HTTP {status}: {}",
                body.chars().take(200).collect::<String>()
            ))),
        }
    }
}

fn not_found(push: &PolicyPush, path: &str) -> FetchError {
    FetchError::NotFound {
        repository: push.repository.clone(),
        commit: push.commit.clone(),
        path: path.into(),
    }
}

/// Percent-encode everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A path in a URL path: each segment encoded, the slashes kept.
fn encode_path(path: &str) -> String {
    path.trim_start_matches('/')
        .split('/')
        .map(encode)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_for_each_api() {
        assert_eq!(encode("acme/ml-models"), "acme%2Fml-models");
        assert_eq!(encode("config/steward.toml"), "config%2Fsteward.toml");
        assert_eq!(
            encode_path("/config/my policy.toml"),
            "config/my%20policy.toml"
        );
    }
}
