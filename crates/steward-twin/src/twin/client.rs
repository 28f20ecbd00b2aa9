//! A client for the twin's admin API (`/_twin/…`), for the CLI and tests.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("twin admin call {method} {path} failed: {message}")]
pub struct AdminError {
    pub method: &'static str,
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct TwinClient {
    endpoint: String,
}

impl TwinClient {
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
        }
    }

    pub async fn get(&self, path: &str) -> Result<Value, AdminError> {
        self.call("GET", path, Bytes::new()).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, AdminError> {
        self.call("POST", path, Bytes::from(body.to_string())).await
    }

    async fn call(
        &self,
        method: &'static str,
        path: &str,
        body: Bytes,
    ) -> Result<Value, AdminError> {
        let err = |message: String| AdminError {
            method,
            path: path.into(),
            message,
        };
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let request = http::Request::builder()
            .method(method)
            .uri(format!(
                "{}/_twin/{}",
                self.endpoint,
                path.trim_start_matches('/')
            ))
            .header("content-type", "application/json")
            .body(Full::new(body))
            .map_err(|e| err(e.to_string()))?;
        let response = client
            .request(request)
            .await
            .map_err(|e| err(e.to_string()))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| err(e.to_string()))?
            .to_bytes();
        if !status.is_success() {
            return Err(err(format!("{status}: {}", String::from_utf8_lossy(&body))));
        }
        serde_json::from_slice(&body).map_err(|e| err(format!("reply is not JSON: {e}")))
    }
}
