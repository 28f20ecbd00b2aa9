//! Typed EventBridge events: the AWS events Steward reacts to, and its own.
//!
//! Every detail struct reads only the fields Steward uses, cased exactly as AWS
//! sends them; unknown fields are ignored so AWS can add fields without breaking us.
//! Fields AWS may omit are `Option`; a function that cannot work without one asks
//! for it through a `require_*` method, which names the missing field in its error.
//!
//! A handler receives the raw JSON (`serde_json::Value`) and calls [`decode_as`]:
//! the event's `source` and `detail-type` are checked first, so a rule wired to the
//! wrong function fails with [`EventError::UnexpectedType`] rather than a confusing
//! parse error, and a malformed event names the JSON path that broke
//! ([`EventError::Malformed`]), e.g. `detail.object.key`.

/// Declares a string enum that keeps values it does not know.
///
/// AWS adds status values over time; an exhaustive enum would turn a new value
/// into a failed event, which for an approval or an alarm is the worst moment to
/// fail. Unknown values land in `Other` verbatim and serialize back unchanged.
/// The first wire string of a variant is how it serializes; further `|` strings
/// are accepted spellings (SageMaker writes `IN_SERVICE` in events and
/// `InService` in its API).
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of Steward does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The value as AWS spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(value) => value,
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $wire $(| $alias)* => Self::$variant, )+
                    _ => Self::Other(value),
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::from(value.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                match value {
                    $name::Other(value) => value,
                    known => known.as_str().to_owned(),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod cloudwatch;
pub mod codecommit;
pub mod codedeploy;
mod de;
pub mod s3;
pub mod sagemaker;
pub mod schedule;
pub mod steward;
pub mod time;

pub use time::Timestamp;

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

/// The EventBridge envelope (`version`, `id`, `detail-type`, `source`, `account`,
/// `time`, `region`, `resources`, `detail`) around a typed detail.
///
/// The community type is used as is so handlers and tests share one shape with
/// the Lambda runtime ecosystem; it ignores unknown envelope fields.
pub type Envelope<D> = aws_lambda_events::eventbridge::EventBridgeEvent<D>;

/// A typed AWS event detail, bound to the `source` and `detail-type` that carry it.
pub trait AwsDetail: Serialize + DeserializeOwned {
    /// The envelope `source`, e.g. `aws.s3`.
    const SOURCE: &'static str;
    /// The envelope `detail-type`, e.g. `Object Created`.
    const DETAIL_TYPE: &'static str;
}

/// Why an event could not be turned into what a handler needs.
///
/// Every variant names the field or path at fault, because the event that failed
/// is usually gone by the time someone reads the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The JSON does not fit the expected shape at `path` (dotted, as in
    /// `detail.object.key`; `.` is the whole event).
    #[error("malformed event at `{path}`: {reason}")]
    Malformed { path: String, reason: String },
    /// The event is of another kind than the handler expects: each side is
    /// `source` and `detail-type` joined by `/`, e.g. `aws.s3/Object Created`.
    #[error("unexpected event type: expected `{expected}`, got `{got}`")]
    UnexpectedType { expected: String, got: String },
    /// A field AWS may omit is absent, but Steward's logic needs it; `field` is
    /// its path in the event, e.g. `detail.ModelPackageGroupName`.
    #[error("event is missing `{field}`, which Steward needs here")]
    MissingField { field: &'static str },
}

impl EventError {
    /// A stable snake_case name for the variant, for logs, metrics and the ledger.
    pub fn error_type(&self) -> &'static str {
        match self {
            EventError::Malformed { .. } => "malformed_event",
            EventError::UnexpectedType { .. } => "unexpected_event_type",
            EventError::MissingField { .. } => "missing_field",
        }
    }

    fn malformed(path: impl Into<String>, reason: impl Into<String>) -> Self {
        EventError::Malformed {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Decodes an EventBridge event whose detail is `D`, whatever its type.
///
/// Use [`decode_as`] when the handler expects one kind of event.
pub fn decode<D>(value: Value) -> Result<Envelope<D>, EventError>
where
    D: Serialize + DeserializeOwned,
{
    serde_path_to_error::deserialize(value).map_err(path_error)
}

/// Decodes an EventBridge event from JSON text or bytes, whatever its type.
pub fn decode_str<D>(input: impl AsRef<[u8]>) -> Result<Envelope<D>, EventError>
where
    D: Serialize + DeserializeOwned,
{
    let mut deserializer = serde_json::Deserializer::from_slice(input.as_ref());
    let envelope = serde_path_to_error::deserialize(&mut deserializer).map_err(path_error)?;
    deserializer
        .end()
        .map_err(|err| EventError::malformed(".", json_reason(&err)))?;
    Ok(envelope)
}

/// Decodes an event that must be of kind `D`: checks `source` and `detail-type`
/// before reading the detail.
pub fn decode_as<D: AwsDetail>(value: Value) -> Result<Envelope<D>, EventError> {
    expect_type::<D>(&value)?;
    decode(value)
}

/// [`decode_as`] from JSON text or bytes.
pub fn decode_str_as<D: AwsDetail>(input: impl AsRef<[u8]>) -> Result<Envelope<D>, EventError> {
    let value: Value = serde_json::from_slice(input.as_ref())
        .map_err(|err| EventError::malformed(".", json_reason(&err)))?;
    decode_as(value)
}

/// The `source` and `detail-type` of a raw event, for handlers that accept
/// several kinds and dispatch on them.
pub fn event_type(value: &Value) -> Result<(&str, &str), EventError> {
    let field = |name: &'static str| -> Result<&str, EventError> {
        match value.get(name) {
            Some(Value::String(text)) => Ok(text),
            Some(other) => Err(EventError::malformed(
                name,
                format!("expected a string, found {}", json_kind(other)),
            )),
            None => Err(EventError::malformed(
                name,
                format!("missing field `{name}`"),
            )),
        }
    };
    Ok((field("source")?, field("detail-type")?))
}

/// Whether a raw event is of kind `D`.
pub fn is<D: AwsDetail>(value: &Value) -> bool {
    matches!(event_type(value), Ok((source, detail_type))
        if source == D::SOURCE && detail_type == D::DETAIL_TYPE)
}

/// Fails with [`EventError::UnexpectedType`] unless the raw event is of kind `D`.
pub fn expect_type<D: AwsDetail>(value: &Value) -> Result<(), EventError> {
    let (source, detail_type) = event_type(value)?;
    if source == D::SOURCE && detail_type == D::DETAIL_TYPE {
        Ok(())
    } else {
        Err(EventError::UnexpectedType {
            expected: format!("{}/{}", D::SOURCE, D::DETAIL_TYPE),
            got: format!("{source}/{detail_type}"),
        })
    }
}

/// Turns a serde error into [`EventError::Malformed`] naming the failing path.
///
/// serde reports a missing field at its parent (`detail.object`); the field
/// itself is appended so the path points at what is missing (`detail.object.key`).
fn path_error(err: serde_path_to_error::Error<serde_json::Error>) -> EventError {
    let path = err.path().to_string();
    let reason = json_reason(err.inner());
    let missing = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'));
    let path = match missing {
        Some(field) if path == "." => field.to_owned(),
        Some(field) => format!("{path}.{field}"),
        None => path,
    };
    EventError::malformed(path, reason)
}

/// The message of a serde_json error without its line and column suffix: the
/// path already says where, and positions in a one-line event are noise.
fn json_reason(err: &serde_json::Error) -> String {
    let message = err.to_string();
    if err.line() == 0 {
        return message;
    }
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    match message.strip_suffix(&suffix) {
        Some(stripped) => stripped.to_owned(),
        None => message,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::s3::ObjectCreated;
    use super::schedule::Scheduled;
    use super::*;
    use serde_json::json;

    const S3_SAMPLE: &str = include_str!("../../../../events/s3-object-created.json");
    const SCHEDULED_SAMPLE: &str = include_str!("../../../../events/scheduled.json");

    fn sample(text: &str) -> Value {
        serde_json::from_str(text).expect("sample is JSON")
    }

    #[test]
    fn decode_str_accepts_text_and_bytes() {
        let from_text: Envelope<ObjectCreated> = decode_str(S3_SAMPLE).expect("text decodes");
        let from_bytes: Envelope<ObjectCreated> =
            decode_str(S3_SAMPLE.as_bytes()).expect("bytes decode");
        assert_eq!(from_text, from_bytes);
        assert_eq!(from_text.source, "aws.s3");
        assert_eq!(from_text.detail_type, "Object Created");
    }

    #[test]
    fn decode_as_checks_source_and_detail_type_before_the_detail() {
        let err = decode_as::<ObjectCreated>(sample(SCHEDULED_SAMPLE)).expect_err("wrong type");
        assert_eq!(
            err,
            EventError::UnexpectedType {
                expected: "aws.s3/Object Created".into(),
                got: "aws.events/Scheduled Event".into(),
            }
        );
        assert_eq!(err.error_type(), "unexpected_event_type");
    }

    #[test]
    fn decode_str_as_checks_type_too() {
        let err = decode_str_as::<Scheduled>(S3_SAMPLE).expect_err("wrong type");
        assert!(matches!(err, EventError::UnexpectedType { .. }), "{err:?}");
        assert!(decode_str_as::<ObjectCreated>(S3_SAMPLE).is_ok());
    }

    #[test]
    fn same_source_other_detail_type_is_unexpected() {
        let mut value = sample(S3_SAMPLE);
        value["detail-type"] = json!("Object Deleted");
        let err = decode_as::<ObjectCreated>(value).expect_err("wrong detail-type");
        assert_eq!(
            err,
            EventError::UnexpectedType {
                expected: "aws.s3/Object Created".into(),
                got: "aws.s3/Object Deleted".into(),
            }
        );
    }

    #[test]
    fn missing_nested_field_names_its_full_path() {
        let mut value = sample(S3_SAMPLE);
        value["detail"]["object"]
            .as_object_mut()
            .expect("object")
            .remove("key");
        let err = decode_as::<ObjectCreated>(value).expect_err("key is required");
        assert_eq!(
            err,
            EventError::Malformed {
                path: "detail.object.key".into(),
                reason: "missing field `key`".into(),
            }
        );
        assert_eq!(err.error_type(), "malformed_event");
    }

    #[test]
    fn wrong_type_names_its_path() {
        let mut value = sample(S3_SAMPLE);
        value["detail"]["object"]["size"] = json!("big");
        let err = decode_as::<ObjectCreated>(value).expect_err("size is a number");
        match err {
            EventError::Malformed { path, reason } => {
                assert_eq!(path, "detail.object.size");
                assert!(reason.contains("invalid type"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn missing_envelope_field_names_it() {
        let mut value = sample(SCHEDULED_SAMPLE);
        value.as_object_mut().expect("object").remove("detail");
        let err = decode::<Scheduled>(value).expect_err("detail is required");
        assert_eq!(
            err,
            EventError::Malformed {
                path: "detail".into(),
                reason: "missing field `detail`".into(),
            }
        );
    }

    #[test]
    fn event_without_source_is_malformed_not_unexpected() {
        let mut value = sample(S3_SAMPLE);
        value.as_object_mut().expect("object").remove("source");
        let err = decode_as::<ObjectCreated>(value).expect_err("source is required");
        assert!(
            matches!(&err, EventError::Malformed { path, .. } if path == "source"),
            "{err:?}"
        );
    }

    #[test]
    fn syntax_errors_are_malformed_without_positions() {
        let err = decode_str::<Scheduled>("{\"version\": ").expect_err("truncated");
        match err {
            EventError::Malformed { reason, .. } => {
                assert!(!reason.contains(" at line "), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let err = decode_str_as::<Scheduled>("not json").expect_err("not JSON");
        assert_eq!(err.error_type(), "malformed_event");
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let text = format!("{SCHEDULED_SAMPLE} trailing");
        assert!(decode_str::<Scheduled>(text).is_err());
    }

    #[test]
    fn unknown_envelope_fields_are_ignored() {
        let mut value = sample(SCHEDULED_SAMPLE);
        value["replay-name"] = json!("steward-replay-1");
        value["ingestion-time"] = json!("2026-11-24T03:00:01Z");
        let event = decode_as::<Scheduled>(value).expect("extra envelope fields are fine");
        assert_eq!(
            event.id.as_deref(),
            Some("0c7e5b2a-9d4f-4e1b-a8c3-6f2d0b9e7a41")
        );
    }

    #[test]
    fn dispatch_helpers_read_the_type() {
        let value = sample(S3_SAMPLE);
        assert_eq!(
            event_type(&value).expect("typed"),
            ("aws.s3", "Object Created")
        );
        assert!(is::<ObjectCreated>(&value));
        assert!(!is::<Scheduled>(&value));
        assert!(!is::<Scheduled>(&json!({"source": 3})));
    }

    #[test]
    fn error_types_are_stable_and_distinct() {
        let errors = [
            EventError::malformed("a", "b"),
            EventError::UnexpectedType {
                expected: "x".into(),
                got: "y".into(),
            },
            EventError::MissingField { field: "detail.x" },
        ];
        let names: Vec<_> = errors.iter().map(EventError::error_type).collect();
        assert_eq!(
            names,
            ["malformed_event", "unexpected_event_type", "missing_field"]
        );
        assert_eq!(
            errors[2].to_string(),
            "event is missing `detail.x`, which Steward needs here"
        );
    }

    open_enum! {
        /// Test-only enum exercising the macro.
        pub enum Colour {
            Red = "RED" | "Red",
            Blue = "BLUE",
        }
    }

    #[test]
    fn open_enums_accept_aliases_and_keep_unknown_values() {
        let parsed: Vec<Colour> =
            serde_json::from_value(json!(["RED", "Red", "BLUE", "GREEN"])).expect("strings");
        assert_eq!(
            parsed,
            [
                Colour::Red,
                Colour::Red,
                Colour::Blue,
                Colour::Other("GREEN".into())
            ]
        );
        assert_eq!(
            serde_json::to_value(&parsed).expect("serializes"),
            json!(["RED", "RED", "BLUE", "GREEN"])
        );
        assert_eq!(Colour::Other("GREEN".into()).to_string(), "GREEN");
    }
}
