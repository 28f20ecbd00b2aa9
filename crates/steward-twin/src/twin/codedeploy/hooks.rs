//! Invoking lifecycle hook functions. AWS calls the hook Lambda
//! asynchronously with `{"DeploymentId", "LifecycleEventHookExecutionId"}` and
//! waits for it to call PutLifecycleEventHookExecutionStatus
//! (<https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html#reference-appspec-file-structure-hooks-section-structure-lambda-sample-function>).
//! moto's Lambda Invoke needs Docker, so the twin invokes through
//! `cargo lambda watch` when configured; otherwise the hook counts as invoked
//! and whoever drives the run reports its status.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

/// Invoke `function` at `endpoint` (the base URL of `cargo lambda watch`).
/// `Err` is the invocation's failure, reported as the hook's error.
pub async fn invoke(
    endpoint: &str,
    function: &str,
    deployment_id: &str,
    execution_id: &str,
) -> Result<(), String> {
    let payload = json!({
        "DeploymentId": deployment_id,
        "LifecycleEventHookExecutionId": execution_id,
    });
    let uri = format!(
        "{}/2015-03-31/functions/{function}/invocations",
        endpoint.trim_end_matches('/')
    );
    let request = http::Request::builder()
        .method("POST")
        .uri(&uri)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(payload.to_string())))
        .map_err(|e| format!("cannot build the invocation of {function}: {e}"))?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("invoking {function} at {uri} failed: {e}"))?;
    let status = response.status();
    let function_error = response.headers().contains_key("x-amz-function-error");
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    if !status.is_success() || function_error {
        return Err(format!(
            "{function} failed ({status}): {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(())
}
