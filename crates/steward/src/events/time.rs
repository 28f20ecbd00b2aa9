//! Timestamps as AWS writes them in events, which is not one way.
//!
//! - RFC 3339 strings: the envelope `time`, pipeline `executionStartTime`, and
//!   the model package example in the SageMaker guide (`"2021-02-24T17:00:14Z"`).
//! - ISO 8601 with a colon-less offset: CloudWatch alarm `state.timestamp`
//!   (`"2019-10-02T17:04:40.989+0000"`), which strict RFC 3339 parsers reject.
//! - Epoch milliseconds as a JSON number: model package `CreationTime` as
//!   SageMaker really sends it (`1622695255225`, captured in
//!   aws-samples/amazon-sagemaker-drift-detection), endpoint events
//!   (`1635195148181`, sometimes `1592411992203.0`).
//! - Epoch milliseconds as a numeric string: training and tuning job events in
//!   the SageMaker guide (`"CreationTime": "1583831889050"`).
//!
//! Numbers are always read as milliseconds: every numeric time SageMaker puts in
//! an event is in milliseconds, and seconds would land in 1970.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time read from any of the forms AWS uses, written as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

/// A string that is none of the timestamp forms AWS uses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 time or epoch milliseconds: `{0}`")]
pub struct InvalidTimestamp(pub String);

impl Timestamp {
    /// The time `millis` milliseconds after the Unix epoch, if representable.
    pub fn from_millis(millis: i64) -> Option<Self> {
        DateTime::from_timestamp_millis(millis).map(Timestamp)
    }

    /// The time as a `chrono` value, for arithmetic and comparisons.
    pub fn datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// Milliseconds since the Unix epoch.
    pub fn timestamp_millis(&self) -> i64 {
        self.0.timestamp_millis()
    }

    /// RFC 3339 in UTC with `Z`, with as many fractional digits as needed.
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    fn from_millis_f64(millis: f64) -> Option<Self> {
        // i64 milliseconds cover ±292 million years; anything outside is garbage.
        const LIMIT: f64 = 9.0e15;
        if millis.is_finite() && millis.abs() < LIMIT {
            // Bounded above, so the cast cannot saturate.
            Self::from_millis(millis.round() as i64)
        } else {
            None
        }
    }
}

impl FromStr for Timestamp {
    type Err = InvalidTimestamp;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidTimestamp(text.to_owned());
        let trimmed = text.trim();
        let numeric = !trimmed.is_empty()
            && trimmed.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && trimmed.bytes().filter(|&b| b == b'.').count() <= 1;
        if numeric {
            return match trimmed.parse::<i64>() {
                Ok(millis) => Self::from_millis(millis),
                Err(_) => trimmed.parse::<f64>().ok().and_then(Self::from_millis_f64),
            }
            .ok_or_else(invalid);
        }
        DateTime::parse_from_rfc3339(trimmed)
            .or_else(|_| DateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f%z"))
            .map(|time| Timestamp(time.with_timezone(&Utc)))
            .map_err(|_| invalid())
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(time: DateTime<Utc>) -> Self {
        Timestamp(time)
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(time: Timestamp) -> Self {
        time.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl TimestampVisitor {
    fn out_of_range<E: de::Error>(value: impl fmt::Display) -> E {
        E::custom(format!("epoch milliseconds out of range: {value}"))
    }
}

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 time, or epoch milliseconds as a number or numeric string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Timestamp, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, millis: i64) -> Result<Timestamp, E> {
        Timestamp::from_millis(millis).ok_or_else(|| Self::out_of_range(millis))
    }

    fn visit_u64<E: de::Error>(self, millis: u64) -> Result<Timestamp, E> {
        i64::try_from(millis)
            .ok()
            .and_then(Timestamp::from_millis)
            .ok_or_else(|| Self::out_of_range(millis))
    }

    fn visit_f64<E: de::Error>(self, millis: f64) -> Result<Timestamp, E> {
        Timestamp::from_millis_f64(millis).ok_or_else(|| Self::out_of_range(millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn read(value: serde_json::Value) -> Timestamp {
        serde_json::from_value(value).expect("a timestamp")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("valid date")
            + chrono::Duration::milliseconds(i64::from(ms))
    }

    #[test]
    fn reads_rfc3339_with_z_and_without_fraction() {
        assert_eq!(
            read(json!("2021-03-15T16:03:13Z")).0,
            utc(2021, 3, 15, 16, 3, 13, 0)
        );
    }

    #[test]
    fn reads_rfc3339_with_fraction() {
        assert_eq!(
            read(json!("2026-11-23T06:48:31.512Z")).0,
            utc(2026, 11, 23, 6, 48, 31, 512)
        );
    }

    #[test]
    fn reads_rfc3339_with_offset() {
        assert_eq!(
            read(json!("2026-11-23T08:48:31+02:00")).0,
            utc(2026, 11, 23, 6, 48, 31, 0)
        );
    }

    #[test]
    fn reads_cloudwatch_offset_without_colon() {
        assert_eq!(
            read(json!("2019-10-02T17:04:40.989+0000")).0,
            utc(2019, 10, 2, 17, 4, 40, 989)
        );
    }

    #[test]
    fn reads_epoch_millis_number() {
        assert_eq!(
            read(json!(1622695255225_u64)).0,
            utc(2021, 6, 3, 4, 40, 55, 225)
        );
    }

    #[test]
    fn reads_epoch_millis_float() {
        assert_eq!(
            read(json!(1592411992203.0)).0,
            utc(2020, 6, 17, 16, 39, 52, 203)
        );
    }

    #[test]
    fn reads_epoch_millis_numeric_string() {
        assert_eq!(
            read(json!("1583831889050")).0,
            utc(2020, 3, 10, 9, 18, 9, 50)
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            json!("yesterday"),
            json!(""),
            json!("1.2.3"),
            json!(true),
            json!(f64::MAX),
            json!(u64::MAX),
        ] {
            assert!(
                serde_json::from_value::<Timestamp>(bad.clone()).is_err(),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn writes_rfc3339_utc() {
        let whole = Timestamp(utc(2026, 11, 23, 6, 15, 2, 0));
        assert_eq!(
            serde_json::to_value(whole).expect("json"),
            json!("2026-11-23T06:15:02Z")
        );
        let millis = Timestamp(utc(2026, 11, 23, 6, 48, 31, 512));
        assert_eq!(millis.to_string(), "2026-11-23T06:48:31.512Z");
    }

    #[test]
    fn round_trips_through_json() {
        let original = read(json!(1795416511512_u64));
        let text = serde_json::to_string(&original).expect("json");
        assert_eq!(
            serde_json::from_str::<Timestamp>(&text).expect("back"),
            original
        );
        assert_eq!(original.timestamp_millis(), 1795416511512);
    }
}
