//! One line of SageMaker endpoint data capture.
//!
//! SageMaker writes one JSON object per captured request, in JSON-lines files
//! under `{destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/`:
//!
//! ```json
//! {"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",
//!   "data":"6,148,72","encoding":"CSV"},"endpointOutput":{"observedContentType":
//!   "text/csv","mode":"OUTPUT","data":"0.85","encoding":"CSV"}},
//!  "eventMetadata":{"eventId":"8f45e35c-…","inferenceTime":"2020-07-30T13:36:30Z"},
//!  "eventVersion":"0"}
//! ```
//!
//! `encoding` is `CSV` or `JSON` for content types listed in the endpoint's
//! `CaptureContentTypeHeader`, otherwise `BASE64` (SageMaker's default). Strings
//! are borrowed from the line where JSON escaping allows, so decoding a CSV
//! capture allocates nothing.

use std::borrow::Cow;

use serde::Deserialize;

use crate::scan::Scanned;

/// A decoded capture line. Only the input is decoded: drift is measured on
/// what the model was asked, and the output is skipped unread.
#[derive(Debug, Deserialize)]
pub struct CaptureLine<'a> {
    #[serde(rename = "captureData", borrow)]
    pub capture_data: CaptureData<'a>,
    #[serde(rename = "eventMetadata", default, borrow)]
    pub event_metadata: Option<EventMetadata<'a>>,
    #[serde(rename = "eventVersion", default, borrow)]
    pub event_version: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub struct CaptureData<'a> {
    #[serde(rename = "endpointInput", default, borrow)]
    pub endpoint_input: Option<Payload<'a>>,
    #[serde(rename = "endpointOutput", default)]
    pub endpoint_output: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
pub struct EventMetadata<'a> {
    #[serde(rename = "eventId", default, borrow)]
    pub event_id: Option<Cow<'a, str>>,
    #[serde(rename = "inferenceTime", default, borrow)]
    pub inference_time: Option<Cow<'a, str>>,
}

/// The captured request (or response) body.
#[derive(Debug, Deserialize)]
pub struct Payload<'a> {
    #[serde(rename = "observedContentType", default, borrow)]
    pub observed_content_type: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub mode: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub data: Cow<'a, str>,
    pub encoding: Encoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Encoding {
    #[serde(rename = "CSV")]
    Csv,
    #[serde(rename = "JSON")]
    Json,
    #[serde(rename = "BASE64")]
    Base64,
    #[serde(other)]
    Unknown,
}

/// Decode one line; `None` when it is not a capture record (corrupt).
pub fn decode_line(line: &[u8]) -> Option<CaptureLine<'_>> {
    serde_json::from_slice(line).ok()
}

/// What the statistics read from a capture line: the request body and how
/// it is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub data: Cow<'a, str>,
    pub encoding: Encoding,
    pub observed_content_type: Option<Cow<'a, str>>,
}

/// One capture line as the statistics see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<'a> {
    Request(Request<'a>),
    /// A capture record without `endpointInput` (output-only capture).
    NoInput,
    /// Not a capture record.
    Corrupt,
}

/// Decode one line's request. Lines of the usual shape go through a scanner
/// that builds nothing and checks the JSON as strictly as serde_json; any
/// line it is unsure of (escapes, duplicate keys, errors) is decoded by
/// [`decode_line`]. The answer is the same either way, the scanner's about
/// twice as fast.
pub fn decode_request(line: &[u8]) -> Decoded<'_> {
    match crate::scan::scan_line(line) {
        Some(scanned) => scanned.into(),
        None => match decode_line(line) {
            None => Decoded::Corrupt,
            Some(capture) => match capture.capture_data.endpoint_input {
                None => Decoded::NoInput,
                Some(input) => Decoded::Request(Request {
                    data: input.data,
                    encoding: input.encoding,
                    observed_content_type: input.observed_content_type,
                }),
            },
        },
    }
}

impl<'a> From<Scanned<'a>> for Decoded<'a> {
    fn from(scanned: Scanned<'a>) -> Self {
        match scanned {
            Scanned::Input(input) => Decoded::Request(Request {
                data: Cow::Borrowed(input.data),
                encoding: input.encoding,
                observed_content_type: input.observed_content_type.map(Cow::Borrowed),
            }),
            Scanned::NoInput => Decoded::NoInput,
        }
    }
}

/// Whether a body (after base64 decoding) is JSON rather than CSV: the
/// encoding says so, or for base64 the observed content type does.
fn body_is_json(encoding: Encoding, observed_content_type: Option<&str>) -> bool {
    match encoding {
        Encoding::Json => true,
        Encoding::Csv => false,
        Encoding::Base64 | Encoding::Unknown => {
            observed_content_type.is_some_and(|t| t.contains("json"))
        }
    }
}

impl Payload<'_> {
    /// Whether the body (after base64 decoding) is JSON rather than CSV: the
    /// encoding says so, or for base64 the observed content type does.
    pub fn is_json(&self) -> bool {
        body_is_json(self.encoding, self.observed_content_type.as_deref())
    }
}

impl Request<'_> {
    /// As [`Payload::is_json`].
    pub fn is_json(&self) -> bool {
        body_is_json(self.encoding, self.observed_content_type.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV_LINE: &str = r#"{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"0.00632,18.00,2.310","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"30.4133586884","encoding":"CSV"}},"eventMetadata":{"eventId":"8f45e35c-fa44-40d2-8ed3-1bcab3a596f3","inferenceTime":"2020-07-30T13:36:30Z"},"eventVersion":"0"}"#;

    #[test]
    fn decodes_the_documented_csv_capture_without_copying() {
        let line = decode_line(CSV_LINE.as_bytes()).expect("decodes");
        let input = line.capture_data.endpoint_input.expect("has input");
        assert_eq!(input.encoding, Encoding::Csv);
        assert_eq!(input.data, "0.00632,18.00,2.310");
        assert!(matches!(input.data, Cow::Borrowed(_)));
        assert_eq!(input.mode.as_deref(), Some("INPUT"));
        assert!(!input.is_json());
        let meta = line.event_metadata.expect("metadata");
        assert_eq!(
            meta.event_id.as_deref(),
            Some("8f45e35c-fa44-40d2-8ed3-1bcab3a596f3")
        );
        assert_eq!(meta.inference_time.as_deref(), Some("2020-07-30T13:36:30Z"));
        assert_eq!(line.event_version.as_deref(), Some("0"));
    }

    #[test]
    fn json_and_base64_bodies_know_their_kind() {
        let json = r#"{"captureData":{"endpointInput":{"observedContentType":"application/json","mode":"INPUT","data":"{\"a\":1}","encoding":"JSON"}}}"#;
        let line = decode_line(json.as_bytes()).unwrap();
        let input = line.capture_data.endpoint_input.unwrap();
        assert!(input.is_json());
        assert_eq!(input.data, r#"{"a":1}"#);

        let b64 = r#"{"captureData":{"endpointInput":{"observedContentType":"application/json","mode":"INPUT","data":"eyJhIjoxfQ==","encoding":"BASE64"}}}"#;
        let input = decode_line(b64.as_bytes())
            .unwrap()
            .capture_data
            .endpoint_input
            .unwrap();
        assert_eq!(input.encoding, Encoding::Base64);
        assert!(input.is_json());
    }

    #[test]
    fn garbage_and_foreign_json_are_not_captures() {
        assert!(decode_line(b"{not json").is_none());
        assert!(decode_line(br#"{"hello":"world"}"#).is_none());
        assert!(decode_line(b"").is_none());
        let odd = r#"{"captureData":{"endpointInput":{"data":"x","encoding":"ZSTD"}}}"#;
        let input = decode_line(odd.as_bytes())
            .unwrap()
            .capture_data
            .endpoint_input
            .unwrap();
        assert_eq!(input.encoding, Encoding::Unknown);
    }
}
