//! Invokes a function the way `cargo lambda watch` serves it: an HTTP POST of
//! the event to the Lambda Invoke API path
//! `/2015-03-31/functions/<binary>/invocations` on its port (9000 unless
//! `--invoke-port`). A handler error comes back as status 500 with the
//! runtime's `{"errorType", "errorMessage"}` body from cargo lambda, and as
//! status 200 with an `X-Amz-Function-Error` header from the real Invoke API
//! (Lambda API reference, "Invoke"); both count as a failed invocation.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// How a failed asynchronous invocation is retried: Lambda retries twice,
/// one minute then two minutes later ("Error handling and automatic retries
/// in Lambda"); locally the waits are shortened, by default by the twin's
/// 60× clock (1 s, then 2 s).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// The wait before each retry; its length is the number of retries.
    pub backoff: Vec<Duration>,
}

impl RetryPolicy {
    /// Lambda's two retries at one and two simulated minutes, at 60×.
    pub fn lambda_async() -> Self {
        Self::scaled(60.0)
    }

    /// Lambda's two retries, waits divided by `scale`.
    pub fn scaled(scale: f64) -> Self {
        let minute = Duration::from_secs_f64(60.0 / scale.max(1e-3));
        Self {
            backoff: vec![minute, minute * 2],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The function ran and failed.
    #[error("{error_type}: {message}")]
    Function { error_type: String, message: String },
    /// The function could not be reached or answered something unexpected.
    #[error("could not invoke {url}: {message}")]
    Transport { url: String, message: String },
}

/// A function run in this process: its name and event in, its response out.
pub type InProcessFn = Arc<
    dyn Fn(String, Value) -> Pin<Box<dyn Future<Output = Result<Value, InvokeError>> + Send>>
        + Send
        + Sync,
>;

/// Invokes functions over HTTP, or in this process (the demo runs every
/// function's handler in-process, so it needs no `cargo lambda watch`);
/// cheap to clone.
#[derive(Clone)]
pub struct Invoker {
    endpoint: String,
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    retry: RetryPolicy,
    in_process: Option<InProcessFn>,
}

impl std::fmt::Debug for Invoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invoker")
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

impl Invoker {
    /// Invoke functions at `endpoint`, e.g. `http://127.0.0.1:9000`.
    pub fn http(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into().trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            // cargo lambda watch builds a function on its first invocation.
            timeout: Duration::from_secs(900),
            retry: RetryPolicy::lambda_async(),
            in_process: None,
        }
    }

    /// Invoke functions by calling `run` in this process.
    pub fn in_process(run: InProcessFn) -> Self {
        Self {
            in_process: Some(run),
            ..Self::http("in-process://")
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    pub fn url(&self, function: &str) -> String {
        format!(
            "{}/2015-03-31/functions/{function}/invocations",
            self.endpoint
        )
    }

    /// One synchronous invocation; the function's response on success.
    pub async fn invoke(&self, function: &str, event: &Value) -> Result<Value, InvokeError> {
        if let Some(run) = &self.in_process {
            return run(function.to_string(), event.clone()).await;
        }
        let url = self.url(function);
        let transport = |message: String| InvokeError::Transport {
            url: url.clone(),
            message,
        };
        let request = http::Request::post(&url)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(event.to_string())))
            .map_err(|e| transport(e.to_string()))?;
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| transport(format!("no answer within {:?}", self.timeout)))?
            .map_err(|e| transport(e.to_string()))?;
        let status = response.status();
        let function_error = response.headers().contains_key("x-amz-function-error");
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(e.to_string()))?
            .to_bytes();
        let body: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
        };
        if status.is_success() && !function_error {
            return Ok(body);
        }
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
        match (text("errorType"), text("errorMessage")) {
            (error_type, Some(message)) => Err(InvokeError::Function {
                error_type: error_type.unwrap_or_else(|| "Unhandled".into()),
                message,
            }),
            _ if status.is_success() || status.as_u16() == 500 => Err(InvokeError::Function {
                error_type: "Unhandled".into(),
                message: body.to_string(),
            }),
            _ => Err(transport(format!("status {status}: {body}"))),
        }
    }

    /// Invoke with retries as Lambda does for asynchronous invocations: the
    /// response and the number of attempts, or the last error and attempts.
    pub async fn invoke_with_retries(
        &self,
        function: &str,
        event: &Value,
    ) -> Result<(Value, u32), (InvokeError, u32)> {
        let mut attempts = 0;
        let mut waits = self.retry.backoff.iter();
        loop {
            attempts += 1;
            match self.invoke(function, event).await {
                Ok(response) => return Ok((response, attempts)),
                Err(e) => match waits.next() {
                    Some(wait) => {
                        tracing::warn!(function, attempts, error = %e, "invocation failed; retrying");
                        tokio::time::sleep(*wait).await;
                    }
                    None => return Err((e, attempts)),
                },
            }
        }
    }
}
