//! SageMaker data capture: what an endpoint whose live config has an enabled
//! `DataCaptureConfig` writes to S3 for each sampled invocation.
//!
//! SageMaker puts JSON lines under
//! `{DestinationS3Uri}/{endpoint}/{variant}/yyyy/mm/dd/hh/{mm-ss-fff}-{uuid}.jsonl`
//! (the hour of the request, UTC), one record per captured request:
//!
//! ```json
//! {"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",
//!   "data":"9400.0,3,1,1","encoding":"CSV"},"endpointOutput":{...,"mode":"OUTPUT",...}},
//!  "eventMetadata":{"eventId":"…","inferenceTime":"2026-11-24T13:05:12Z"},"eventVersion":"0"}
//! ```
//!
//! `encoding` is `CSV` or `JSON` when the observed content type is listed in
//! `CaptureContentTypeHeader`'s `CsvContentTypes`/`JsonContentTypes`, else
//! `BASE64` (SageMaker's default). `CaptureOptions` choose input, output or
//! both. Real SageMaker buffers a few minutes of records per object; the twin
//! writes one object per captured request before it answers, so a reader sees
//! it at once. Sampling keeps exactly `InitialSamplingPercentage` of each
//! variant's requests (every request at 100), spread evenly rather than at
//! random, so a run is reproducible. A capture that cannot be written is
//! logged and dropped: like SageMaker's, it never fails the invocation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::super::super::Ctx;

/// One invocation as the capture sees it.
pub struct Invocation<'a> {
    pub endpoint: &'a str,
    pub variant: &'a str,
    pub input_type: &'a str,
    pub input: &'a [u8],
    pub output_type: &'a str,
    pub output: &'a [u8],
    pub at: DateTime<Utc>,
}

/// How many requests each endpoint variant has answered: the sampler's count.
#[derive(Default)]
pub struct Counters(std::sync::Mutex<HashMap<String, u64>>);

impl Counters {
    fn next(&self, endpoint: &str, variant: &str) -> u64 {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(format!("{endpoint}/{variant}")).or_default();
        *n += 1;
        *n
    }
}

/// Whether the `n`th request (from 1) is captured at `percent`: the running
/// count of captured requests is floor(n × percent / 100).
pub fn sampled(n: u64, percent: u64) -> bool {
    let percent = percent.min(100);
    n * percent / 100 > (n - 1) * percent / 100
}

/// Write the capture record of `call` if the config asks for it.
pub async fn record(ctx: &Ctx, config: &Value, call: Invocation<'_>) {
    let Some(capture) = config.get("DataCaptureConfig").filter(|c| c.is_object()) else {
        return;
    };
    if capture["EnableCapture"].as_bool() == Some(false) {
        return;
    }
    let percent = capture["InitialSamplingPercentage"].as_u64().unwrap_or(0);
    let n = ctx
        .state::<Counters>()
        .as_ref()
        .next(call.endpoint, call.variant);
    if !sampled(n, percent) {
        return;
    }
    let Some((bucket, key)) = capture["DestinationS3Uri"]
        .as_str()
        .and_then(|uri| object_key(uri, &call))
    else {
        tracing::warn!(
            endpoint = call.endpoint,
            "data capture has no usable DestinationS3Uri"
        );
        return;
    };
    let line = format!("{}\n", capture_line(capture, &call));
    if let Err(e) = crate::s3_client(&ctx.moto)
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .content_type("application/jsonlines")
        .body(line.into_bytes().into())
        .send()
        .await
    {
        tracing::warn!(
            endpoint = call.endpoint,
            bucket,
            key,
            error = %steward::aws_error::describe(&e),
            "data capture could not be written"
        );
    }
}

/// The capture record of one request, as SageMaker writes it.
pub fn capture_line(capture: &Value, call: &Invocation<'_>) -> Value {
    let modes: Vec<&str> = capture["CaptureOptions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["CaptureMode"].as_str())
        .collect();
    let wants = |mode: &str| modes.iter().any(|m| *m == mode || *m == "InputAndOutput");
    let mut data = serde_json::Map::new();
    if wants("Input") {
        data.insert(
            "endpointInput".into(),
            payload(capture, call.input_type, call.input, "INPUT"),
        );
    }
    if wants("Output") {
        data.insert(
            "endpointOutput".into(),
            payload(capture, call.output_type, call.output, "OUTPUT"),
        );
    }
    json!({
        "captureData": data,
        "eventMetadata": {
            "eventId": event_id(call.at),
            "inferenceTime": call.at.to_rfc3339_opts(SecondsFormat::Secs, true),
        },
        "eventVersion": "0",
    })
}

fn payload(capture: &Value, content_type: &str, body: &[u8], mode: &str) -> Value {
    let listed = |list: &str| {
        capture["CaptureContentTypeHeader"][list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|t| t.eq_ignore_ascii_case(content_type.split(';').next().unwrap_or("").trim()))
    };
    let text = std::str::from_utf8(body).ok();
    let (encoding, data) = match text {
        Some(text) if listed("CsvContentTypes") => ("CSV", text.to_string()),
        Some(text) if listed("JsonContentTypes") => ("JSON", text.to_string()),
        _ => (
            "BASE64",
            base64::engine::general_purpose::STANDARD.encode(body),
        ),
    };
    json!({
        "observedContentType": content_type,
        "mode": mode,
        "data": data,
        "encoding": encoding,
    })
}

/// `s3://bucket/prefix` → (bucket, `prefix/{endpoint}/{variant}/yyyy/mm/dd/hh/mm-ss-fff-{id}.jsonl`).
fn object_key(destination: &str, call: &Invocation<'_>) -> Option<(String, String)> {
    let rest = destination.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return None;
    }
    let prefix = match prefix.trim_matches('/') {
        "" => String::new(),
        p => format!("{p}/"),
    };
    Some((
        bucket.to_string(),
        format!(
            "{prefix}{}/{}/{}/{}-{}.jsonl",
            call.endpoint,
            call.variant,
            call.at.format("%Y/%m/%d/%H"),
            call.at.format("%M-%S-%3f"),
            event_id(call.at)
        ),
    ))
}

/// A UUID-shaped id, unique within the process (time and a counter).
fn event_id(at: DateTime<Utc>) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = at.timestamp_nanos_opt().unwrap_or_default() as u64;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (t >> 32) as u32,
        (t >> 16) as u16,
        (t & 0xfff) as u16,
        (n >> 48) as u16 & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_keeps_exactly_the_percentage() {
        let kept = |percent| (1..=100).filter(|&n| sampled(n, percent)).count();
        assert_eq!(kept(100), 100);
        assert_eq!(kept(20), 20);
        assert_eq!(kept(0), 0);
        assert!(sampled(5, 20) && !sampled(4, 20));
    }

    #[test]
    fn records_and_keys_follow_sagemakers_layout() {
        let capture = json!({
            "EnableCapture": true, "InitialSamplingPercentage": 100,
            "DestinationS3Uri": "s3://capture/fraud/prod/",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}
        });
        let at: DateTime<Utc> = "2026-11-24T13:05:12.345Z".parse().unwrap();
        let call = Invocation {
            endpoint: "fraud-prod",
            variant: "AllTraffic",
            input_type: "text/csv",
            input: b"9400.0,3,1,1",
            output_type: "application/json",
            output: br#"{"predictions":[]}"#,
            at,
        };
        let line = capture_line(&capture, &call);
        let input = &line["captureData"]["endpointInput"];
        assert_eq!(input["encoding"], "CSV");
        assert_eq!(input["data"], "9400.0,3,1,1");
        assert_eq!(input["mode"], "INPUT");
        // JSON is not listed: the output is base64, SageMaker's default.
        let output = &line["captureData"]["endpointOutput"];
        assert_eq!(output["encoding"], "BASE64");
        assert_eq!(output["data"], "eyJwcmVkaWN0aW9ucyI6W119");
        assert_eq!(
            line["eventMetadata"]["inferenceTime"],
            "2026-11-24T13:05:12Z"
        );
        assert_eq!(line["eventVersion"], "0");
        let (bucket, key) = object_key("s3://capture/fraud/prod/", &call).unwrap();
        assert_eq!(bucket, "capture");
        assert!(
            key.starts_with("fraud/prod/fraud-prod/AllTraffic/2026/11/24/13/05-12-345-")
                && key.ends_with(".jsonl"),
            "{key}"
        );
        let input_only = json!({"CaptureOptions": [{"CaptureMode": "Input"}]});
        let line = capture_line(&input_only, &call);
        assert!(line["captureData"]["endpointOutput"].is_null());
        assert_eq!(line["captureData"]["endpointInput"]["encoding"], "BASE64");
    }
}
