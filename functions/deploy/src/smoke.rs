//! Running an environment's smoke test: the case file from S3, each case
//! invoked on the endpoint (what is live there: the new model), compared with
//! the policy's tolerance.

use serde_json::{json, Value};
use steward::deploy::smoke::{compare, parse_cases, Mismatch, SmokeReport};
use steward::ledger::{EnvironmentLedger, Ledger};
use steward::policy::SmokeTest;

use crate::handler::Context;

/// A case file that cannot be read or parsed fails the test (a typo in the
/// policy must not let an unchecked model through); so does an invocation
/// error, recorded as the case's actual output.
pub async fn run<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    endpoint: &str,
    test: &SmokeTest,
) -> SmokeReport {
    let text = match read(ctx, &test.cases).await {
        Ok(text) => text,
        Err(problem) => return SmokeReport::unrunnable(problem),
    };
    let cases = match parse_cases(&text) {
        Ok(cases) => cases,
        Err(e) => return SmokeReport::unrunnable(format!("{}: {e}", test.cases)),
    };
    let mut mismatches = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let (content_type, body) = case.request();
        let actual = match ctx
            .runtime
            .invoke_endpoint()
            .endpoint_name(endpoint)
            .content_type(content_type)
            .accept("application/json")
            .body(body.into())
            .send()
            .await
        {
            Ok(out) => {
                let bytes = out.body().map(|b| b.as_ref().to_vec()).unwrap_or_default();
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
            }
            Err(e) => json!({"error": steward::aws_error::describe(&e)}),
        };
        if let Some((path, expected, actual)) = compare(&case.expected, &actual, test.tolerance) {
            mismatches.push(Mismatch {
                case: index + 1,
                path,
                expected,
                actual,
            });
        }
    }
    SmokeReport {
        cases: cases.len(),
        mismatches,
        problem: None,
    }
}

async fn read<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    uri: &str,
) -> Result<String, String> {
    let (bucket, key) = uri
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .ok_or_else(|| format!("{uri} is not an s3://bucket/key URI"))?;
    let out = ctx
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| format!("{uri}: {}", steward::aws_error::describe(&e)))?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| format!("{uri}: {e}"))?
        .into_bytes();
    String::from_utf8(bytes.to_vec()).map_err(|_| format!("{uri} is not UTF-8"))
}
