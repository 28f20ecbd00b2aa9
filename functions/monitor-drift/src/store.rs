//! S3: the baseline, and the window's capture objects streamed into the
//! statistics one at a time (never a whole object in memory).

use aws_sdk_s3::Client;
use steward::aws_error;
use steward_drift::{from_deequ, Baseline, WindowStats};

use crate::body;
use crate::window::split_s3_uri;
use crate::MonitorDriftError;

fn s3_error<E>(operation: &'static str, bucket: &str, key: &str, e: &E) -> MonitorDriftError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error,
{
    MonitorDriftError::S3 {
        operation,
        bucket: bucket.to_string(),
        key: key.to_string(),
        message: aws_error::describe(e),
    }
}

/// A small object (baseline, constraints) whole; `None` when it does not exist.
async fn small_object(s3: &Client, uri: &str) -> Result<Option<Vec<u8>>, MonitorDriftError> {
    let Some((bucket, key)) = split_s3_uri(uri) else {
        return Ok(None);
    };
    let object = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(object) => object,
        Err(e) => {
            return match aws_error::code(&e) {
                Some("NoSuchKey" | "NoSuchBucket" | "NotFound") => Ok(None),
                _ => Err(s3_error("GetObject", bucket, key, &e)),
            }
        }
    };
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| MonitorDriftError::S3 {
            operation: "GetObject",
            bucket: bucket.to_string(),
            key: key.to_string(),
            message: e.to_string(),
        })?;
    Ok(Some(bytes.to_vec()))
}

/// The baseline, or why there is none to compare with (missing, unreadable):
/// a result, not an error, so the check reports it instead of retrying forever.
pub async fn baseline(
    s3: &Client,
    uri: &str,
    constraints: Option<&str>,
) -> Result<Result<Baseline, String>, MonitorDriftError> {
    let Some(bytes) = small_object(s3, uri).await? else {
        return Ok(Err(format!("no baseline at {uri}")));
    };
    // Steward's baseline names its format; anything else is taken for Model
    // Monitor's statistics.json.
    let steward = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .is_some_and(|v| v.get("format").is_some());
    let parsed = if steward {
        Baseline::from_json(&bytes)
    } else {
        let constraints = match constraints {
            Some(uri) => match small_object(s3, uri).await? {
                Some(bytes) => Some(bytes),
                None => return Ok(Err(format!("no constraints at {uri}"))),
            },
            None => None,
        };
        from_deequ(&bytes, constraints.as_deref())
    };
    Ok(parsed.map_err(|e| format!("the baseline at {uri} is unusable: {e}")))
}

/// Every object key under the prefixes, in order.
pub async fn list(
    s3: &Client,
    bucket: &str,
    prefixes: &[String],
) -> Result<Vec<String>, MonitorDriftError> {
    let mut keys = Vec::new();
    for prefix in prefixes {
        let mut pages = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| s3_error("ListObjectsV2", bucket, prefix, &e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .filter(|k| !k.ends_with('/'))
                    .map(str::to_string),
            );
        }
    }
    Ok(keys)
}

/// Stream one object into the statistics: the download feeds a bounded channel
/// that the parser drains on a blocking thread.
pub async fn read_into(
    s3: &Client,
    bucket: &str,
    key: &str,
    stats: WindowStats,
) -> Result<WindowStats, MonitorDriftError> {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| s3_error("GetObject", bucket, key, &e))?;
    let (tx, reader) = body::channel();
    let parser = tokio::task::spawn_blocking(move || {
        let mut stats = stats;
        stats
            .read(std::io::BufReader::with_capacity(256 * 1024, reader))
            .map(|()| stats)
    });
    let mut stream = object.body;
    let mut download_error = None;
    loop {
        match stream.next().await {
            Some(Ok(chunk)) => {
                if tx.send(Ok(chunk)).await.is_err() {
                    break; // the parser stopped; its error is reported below
                }
            }
            Some(Err(e)) => {
                download_error = Some(e.to_string());
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                break;
            }
            None => break,
        }
    }
    drop(tx);
    let parsed = parser.await.map_err(|e| MonitorDriftError::Check {
        endpoint: key.to_string(),
        message: format!("the parser thread failed: {e}"),
    })?;
    parsed.map_err(|e| MonitorDriftError::S3 {
        operation: "GetObject",
        bucket: bucket.to_string(),
        key: key.to_string(),
        message: download_error.unwrap_or_else(|| e.to_string()),
    })
}
