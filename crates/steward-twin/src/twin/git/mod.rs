//! Twin module `git`: the file APIs of the git hosts a policy can live on,
//! which moto lacks (its CodeCommit has repositories, not files).
//!
//! Tests register files per repository and commit (`POST /_twin/git/files`,
//! `{"repository", "commit", "path", "content"}`); the twin then answers:
//! - CodeCommit `GetFile` (JSON protocol; `repositoryName`, `commitSpecifier`,
//!   `filePath` → `commitId`, `blobId`, `filePath`, `fileMode`, `fileSize`,
//!   base64 `fileContent`; `FileDoesNotExistException` otherwise);
//! - GitHub's "Get repository content" with the raw media type:
//!   `GET /github/repos/{owner}/{repo}/contents/{path}?ref={sha}` (API base
//!   `<twin>/github`; `Authorization: Bearer <token>` required, else 401);
//! - GitLab's "Get raw file from repository":
//!   `GET /gitlab/api/v4/projects/{url-encoded path}/repository/files/{url-encoded file}/raw?ref={sha}`
//!   (API base `<twin>/gitlab/api/v4`; `PRIVATE-TOKEN` required, else 401).

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

use super::request::percent_decode;
use super::{AwsRequest, Ctx, Reply};

/// Files by (repository, commit), then path.
#[derive(Default)]
pub struct GitFiles {
    files: Mutex<HashMap<(String, String), HashMap<String, String>>>,
}

impl GitFiles {
    fn get(&self, repository: &str, commit: &str, path: &str) -> Option<String> {
        let files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        files
            .get(&(repository.to_string(), commit.to_string()))?
            .get(path.trim_start_matches('/'))
            .cloned()
    }

    fn put(&self, repository: &str, commit: &str, path: &str, content: &str) {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        files
            .entry((repository.to_string(), commit.to_string()))
            .or_default()
            .insert(
                path.trim_start_matches('/').to_string(),
                content.to_string(),
            );
    }
}

/// `POST /_twin/git/files`.
pub fn register(ctx: &Ctx, req: &AwsRequest) -> Reply {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
    let field = |name: &str| body[name].as_str();
    let (Some(repository), Some(commit), Some(path), Some(content)) = (
        field("repository"),
        field("commit"),
        field("path"),
        field("content"),
    ) else {
        return Reply::aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidGitFile",
            "expected {\"repository\", \"commit\", \"path\", \"content\"} (strings)",
        );
    };
    ctx.state::<GitFiles>()
        .put(repository, commit, path, content);
    Reply::json(&json!({"repository": repository, "commit": commit, "path": path}))
}

pub async fn route(ctx: &Ctx, req: &AwsRequest) -> Option<Reply> {
    if req.is("codecommit", "GetFile") {
        return Some(get_file(ctx, req));
    }
    let path = req.uri.path();
    if req.method != Method::GET {
        return None;
    }
    if let Some(rest) = path.strip_prefix("/github/repos/") {
        return Some(github(ctx, req, rest));
    }
    if let Some(rest) = path.strip_prefix("/gitlab/api/v4/projects/") {
        return Some(gitlab(ctx, req, rest));
    }
    None
}

fn get_file(ctx: &Ctx, req: &AwsRequest) -> Reply {
    let body = match req.json() {
        Ok(body) => body,
        Err(reply) => return *reply,
    };
    let repository = body["repositoryName"].as_str().unwrap_or_default();
    let commit = body["commitSpecifier"].as_str().unwrap_or_default();
    let path = body["filePath"].as_str().unwrap_or_default();
    let Some(content) = ctx.state::<GitFiles>().get(repository, commit, path) else {
        return Reply::aws_error(
            StatusCode::BAD_REQUEST,
            "FileDoesNotExistException",
            &format!("The specified file {path} does not exist at {commit} in {repository}."),
        );
    };
    Reply::json(&json!({
        "commitId": commit,
        "blobId": blob_id(&content),
        "filePath": path,
        "fileMode": "NORMAL",
        "fileSize": content.len(),
        "fileContent": base64::engine::general_purpose::STANDARD.encode(content.as_bytes()),
    }))
}

/// `{owner}/{repo}/contents/{path}` with `?ref=`.
fn github(ctx: &Ctx, req: &AwsRequest, rest: &str) -> Reply {
    if !has_header(&req.headers, "authorization") {
        return text(
            StatusCode::UNAUTHORIZED,
            r#"{"message":"Requires authentication"}"#,
        );
    }
    let mut parts = rest.splitn(4, '/');
    let (Some(owner), Some(repo), Some("contents"), Some(path)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return text(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#);
    };
    file_reply(ctx, req, &format!("{owner}/{repo}"), &percent_decode(path))
}

/// `{id}/repository/files/{file}/raw` with `?ref=`.
fn gitlab(ctx: &Ctx, req: &AwsRequest, rest: &str) -> Reply {
    if !has_header(&req.headers, "private-token") {
        return text(
            StatusCode::UNAUTHORIZED,
            r#"{"message":"401 Unauthorized"}"#,
        );
    }
    let Some((project, file)) = rest
        .split_once("/repository/files/")
        .and_then(|(p, f)| Some((p, f.strip_suffix("/raw")?)))
    else {
        return text(StatusCode::NOT_FOUND, r#"{"message":"404 Not Found"}"#);
    };
    file_reply(ctx, req, &percent_decode(project), &percent_decode(file))
}

fn file_reply(ctx: &Ctx, req: &AwsRequest, repository: &str, path: &str) -> Reply {
    let commit = req
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("ref="))
        .map(percent_decode)
        .unwrap_or_default();
    match ctx.state::<GitFiles>().get(repository, &commit, path) {
        Some(content) => text(StatusCode::OK, &content),
        None => text(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#),
    }
}

/// A stable id for the content (git's blob ids are SHA-1 hex; this is as long).
fn blob_id(content: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut id = String::new();
    for salt in 0u8..3 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (salt, content).hash(&mut hasher);
        id.push_str(&format!("{:016x}", hasher.finish()));
    }
    id.truncate(40);
    id
}

fn has_header(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().is_empty())
}

fn text(status: StatusCode, body: &str) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Reply {
        status,
        headers,
        body: Bytes::from(body.to_string()),
    }
}
