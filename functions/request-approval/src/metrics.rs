//! Fetching a model's evidence from S3: its model-quality report and, when
//! the gate reads bias metrics, its Clarify bias reports. A missing file is the
//! gate's business (it fails with that reason); any other S3 failure is an
//! error to retry, never a verdict on the model.

use steward::aws_error;
use steward::gate::{BiasReport, MetricsError, MetricsReport};
use steward::policy::Gate;

use crate::registry::Package;
use crate::RequestApprovalError;

/// Reports larger than this are not model-quality or bias JSON (a few KB):
/// refused unread rather than loaded into a small Lambda's memory.
const MAX_REPORT_BYTES: i64 = 5 * 1024 * 1024;

/// The report the gate weighs for `package`: its model-quality metrics, with
/// its bias metrics beside them when `gate` reads any.
pub async fn fetch_evidence(
    s3: &aws_sdk_s3::Client,
    package: &Package,
    gate: &Gate,
) -> Result<Result<MetricsReport, MetricsError>, RequestApprovalError> {
    let report = match fetch(s3, package.metrics_uri.as_deref()).await? {
        Ok(report) => report,
        Err(e) => return Ok(Err(e)),
    };
    if !gate.reads_bias() {
        return Ok(Ok(report));
    }
    if package.bias_uris.is_empty() {
        return Ok(Err(MetricsError::BiasNotRegistered));
    }
    let mut bias = BiasReport::default();
    for uri in &package.bias_uris {
        let parsed = match read(s3, uri).await? {
            Ok(bytes) => BiasReport::parse(uri, &bytes),
            Err(e) => Err(e),
        };
        match parsed {
            Ok(one) => bias = bias.merge(one),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(report.with_bias(bias)))
}

/// The model-quality report at `uri`.
pub async fn fetch(
    s3: &aws_sdk_s3::Client,
    uri: Option<&str>,
) -> Result<Result<MetricsReport, MetricsError>, RequestApprovalError> {
    let Some(uri) = uri else {
        return Ok(Err(MetricsError::NotRegistered));
    };
    Ok(read(s3, uri)
        .await?
        .and_then(|bytes| MetricsReport::parse(uri, &bytes)))
}

/// The bytes of a report, or why the gate cannot read it.
async fn read(
    s3: &aws_sdk_s3::Client,
    uri: &str,
) -> Result<Result<Vec<u8>, MetricsError>, RequestApprovalError> {
    let Some((bucket, key)) = uri
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(b, k)| !b.is_empty() && !k.is_empty())
    else {
        return Ok(Err(MetricsError::Unreadable {
            uri: uri.to_string(),
            reason: "not an s3://bucket/key URI".into(),
        }));
    };
    let out = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => out,
        Err(e) => {
            let missing = e.as_service_error().is_some_and(|se| se.is_no_such_key())
                || aws_error::describe(&e).contains("NoSuchBucket");
            if missing {
                return Ok(Err(MetricsError::Missing {
                    uri: uri.to_string(),
                }));
            }
            return Err(RequestApprovalError::MetricsUnavailable {
                uri: uri.to_string(),
                message: aws_error::describe(&e),
            });
        }
    };
    if out.content_length().is_some_and(|n| n > MAX_REPORT_BYTES) {
        return Ok(Err(MetricsError::Unreadable {
            uri: uri.to_string(),
            reason: format!("larger than {MAX_REPORT_BYTES} bytes"),
        }));
    }
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| RequestApprovalError::MetricsUnavailable {
            uri: uri.to_string(),
            message: e.to_string(),
        })?
        .into_bytes();
    Ok(Ok(bytes.to_vec()))
}
