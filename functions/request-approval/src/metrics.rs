//! Fetching a model-quality report from S3. A missing file is the gate's
//! business (it fails with that reason); any other S3 failure is an error to
//! retry, never a verdict on the model.

use steward::aws_error;
use steward::gate::{MetricsError, MetricsReport};

use crate::RequestApprovalError;

/// Reports larger than this are not model-quality JSON (a few KB): refused
/// unread rather than loaded into a small Lambda's memory.
const MAX_REPORT_BYTES: i64 = 5 * 1024 * 1024;

pub async fn fetch(
    s3: &aws_sdk_s3::Client,
    uri: Option<&str>,
) -> Result<Result<MetricsReport, MetricsError>, RequestApprovalError> {
    let Some(uri) = uri else {
        return Ok(Err(MetricsError::NotRegistered));
    };
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
    Ok(MetricsReport::parse(uri, &bytes))
}
