//! Invoking one version of the serving function with a smoke-test case. A
//! port so tests can stand in for the model function (moto's Lambda needs
//! Docker to run code); everything else runs against the real services.

use aws_sdk_lambda::primitives::Blob;
use serde_json::{json, Value};

pub trait InvokeVersion {
    /// The function's answer to `payload` at `version`; an invocation error
    /// becomes `{"error": …}` (a mismatch, not a retry).
    fn invoke(
        &self,
        function: &str,
        version: &str,
        payload: &Value,
    ) -> impl std::future::Future<Output = Value> + Send;
}

/// Lambda `Invoke` with `Qualifier` = the version.
#[derive(Clone)]
pub struct LambdaVersions(pub aws_sdk_lambda::Client);

impl InvokeVersion for LambdaVersions {
    async fn invoke(&self, function: &str, version: &str, payload: &Value) -> Value {
        match self
            .0
            .invoke()
            .function_name(function)
            .qualifier(version)
            .payload(Blob::new(payload.to_string().into_bytes()))
            .send()
            .await
        {
            Ok(out) if out.function_error().is_some() => json!({
                "error": out.function_error(),
                "payload": out.payload().map(|p| String::from_utf8_lossy(p.as_ref()).into_owned()),
            }),
            Ok(out) => {
                let bytes = out
                    .payload()
                    .map(|p| p.as_ref().to_vec())
                    .unwrap_or_default();
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
            }
            Err(e) => json!({"error": steward::aws_error::describe(&e)}),
        }
    }
}
