//! CloudWatch over Smithy RPC v2 CBOR, translated to and from moto's JSON.
//!
//! aws-sdk-cloudwatch (1.140) speaks `rpcv2Cbor` (`POST
//! /service/GraniteServiceVersion20100801/operation/{Op}`, `smithy-protocol:
//! rpc-v2-cbor`, a CBOR body); moto 5.2 only parses CloudWatch's `json` and
//! `query` protocols (botocore's model lists all three). So the twin rewrites
//! the request as awsJson1.0 (`X-Amz-Target: GraniteServiceVersion20100801.Op`)
//! and the reply back to CBOR. JSON has no timestamp or double type, so the
//! reply's timestamps (CBOR tag 1) and doubles are recognised by member name:
//! the tables below list every CloudWatch member of those types (from the
//! botocore service model; `Value` is a double wherever it is a number).

use bytes::Bytes;
use ciborium::Value as Cbor;
use http::{HeaderValue, StatusCode};
use serde_json::{Map, Number, Value};

use super::super::{AwsRequest, Reply};

pub const TARGET_PREFIX: &str = "GraniteServiceVersion20100801";

const TIMESTAMPS: &[&str] = &[
    "StateTransitionedTimestamp",
    "Timestamp",
    "ExpireDate",
    "LastUpdatedTimestamp",
    "AlarmConfigurationUpdatedTimestamp",
    "StateUpdatedTimestamp",
    "LastModified",
    "StartDate",
    "EndDate",
    "StartTime",
    "EndTime",
    "CreatedAt",
    "UpdatedAt",
    "CreationDate",
    "LastUpdateDate",
];
const TIMESTAMP_LISTS: &[&str] = &["Timestamps"];
const DOUBLES: &[&str] = &[
    "SampleCount",
    "Average",
    "Sum",
    "Minimum",
    "Maximum",
    "Value",
    "AggregateValue",
    "ApproximateAggregateValue",
    "ApproximateValue",
    "UniqueContributors",
    "MaxContributorValue",
    "Threshold",
];
const DOUBLE_LISTS: &[&str] = &["Values", "Counts"];

/// The operation of an rpcv2Cbor CloudWatch request, if it is one.
pub fn operation(req: &AwsRequest) -> Option<String> {
    let protocol = req.headers.get("smithy-protocol")?.to_str().ok()?;
    if protocol != "rpc-v2-cbor" {
        return None;
    }
    let rest = req
        .uri
        .path()
        .strip_prefix(&format!("/service/{TARGET_PREFIX}/operation/"))?;
    Some(rest.trim_end_matches('/').to_string())
}

/// The same call as awsJson1.0, which moto understands.
pub fn to_json_request(req: &AwsRequest, operation: &str) -> Result<AwsRequest, Box<Reply>> {
    let body = if req.body.is_empty() {
        Value::Object(Map::new())
    } else {
        let value: Cbor = ciborium::de::from_reader(&req.body[..]).map_err(|e| {
            Box::new(cbor_error(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                &format!("the request body is not CBOR: {e}"),
            ))
        })?;
        to_json(value)
    };
    let mut json = req.with_json(&body);
    json.uri = http::Uri::from_static("/");
    json.headers.remove("smithy-protocol");
    json.headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    if let Ok(target) = HeaderValue::from_str(&format!("{TARGET_PREFIX}.{operation}")) {
        json.headers.insert("x-amz-target", target);
    }
    Ok(json)
}

/// moto's JSON reply (success or error) as rpcv2Cbor.
pub fn to_cbor_reply(reply: &Reply) -> Reply {
    let value = if reply.body.is_empty() {
        Value::Object(Map::new())
    } else {
        match reply.body_json() {
            Some(v) => v,
            // Not JSON (e.g. the twin's own gateway error): pass it through.
            None => return reply.clone(),
        }
    };
    let mut body = Vec::new();
    if let Err(e) = ciborium::ser::into_writer(&to_cbor(None, value), &mut body) {
        return Reply::aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            &format!("the twin could not encode CBOR: {e}"),
        );
    }
    let mut headers = reply.headers.clone();
    headers.insert("content-type", HeaderValue::from_static("application/cbor"));
    headers.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    Reply {
        status: reply.status,
        headers,
        body: Bytes::from(body),
    }
}

fn cbor_error(status: StatusCode, code: &str, message: &str) -> Reply {
    let mut reply = Reply::aws_error(status, code, message);
    reply = to_cbor_reply(&reply);
    reply
}

fn to_json(value: Cbor) -> Value {
    match value {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Integer(i) => {
            let i = i128::from(i);
            if let Ok(i) = i64::try_from(i) {
                Value::from(i)
            } else if let Ok(u) = u64::try_from(i) {
                Value::from(u)
            } else {
                Value::from(i as f64)
            }
        }
        Cbor::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        Cbor::Text(s) => Value::String(s),
        Cbor::Bytes(b) => Value::String(base64(&b)),
        // Tag 1 (epoch seconds) is a number in JSON too.
        Cbor::Tag(_, inner) => to_json(*inner),
        Cbor::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Cbor::Map(entries) => Value::Object(
            entries
                .into_iter()
                .filter_map(|(k, v)| match k {
                    Cbor::Text(k) => Some((k, to_json(v))),
                    _ => None,
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// `key` is the member name the value sits under, which decides its type.
fn to_cbor(key: Option<&str>, value: Value) -> Cbor {
    let is = |names: &[&str]| key.is_some_and(|k| names.contains(&k));
    match value {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(b),
        Value::Number(n) if is(TIMESTAMPS) => timestamp(&n),
        Value::Number(n) if is(DOUBLES) => Cbor::Float(n.as_f64().unwrap_or_default()),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Cbor::Integer(i.into()),
            (None, Some(u)) => Cbor::Integer(u.into()),
            _ => Cbor::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Cbor::Text(s),
        Value::Array(items) if is(TIMESTAMP_LISTS) => Cbor::Array(
            items
                .into_iter()
                .map(|v| match v {
                    Value::Number(n) => timestamp(&n),
                    other => to_cbor(None, other),
                })
                .collect(),
        ),
        Value::Array(items) if is(DOUBLE_LISTS) => Cbor::Array(
            items
                .into_iter()
                .map(|v| match v {
                    Value::Number(n) => Cbor::Float(n.as_f64().unwrap_or_default()),
                    other => to_cbor(None, other),
                })
                .collect(),
        ),
        // Lists of structures: their members carry their own names.
        Value::Array(items) => Cbor::Array(items.into_iter().map(|v| to_cbor(None, v)).collect()),
        Value::Object(map) => Cbor::Map(
            map.into_iter()
                .map(|(k, v)| {
                    let v = to_cbor(Some(&k), v);
                    (Cbor::Text(k), v)
                })
                .collect(),
        ),
    }
}

fn timestamp(n: &Number) -> Cbor {
    Cbor::Tag(1, Box::new(Cbor::Float(n.as_f64().unwrap_or_default())))
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_and_doubles_get_their_cbor_types_by_member_name() {
        let reply = json!({"MetricAlarms": [{
            "StateUpdatedTimestamp": 1795499904.339,
            "Threshold": 5,
            "Period": 60,
            "Dimensions": [{"Name": "EndpointName", "Value": "e"}]
        }], "Timestamps": [1, 2], "Values": [3]});
        let Cbor::Map(top) = to_cbor(None, reply) else {
            panic!("map")
        };
        let alarms = &top[0].1;
        let Cbor::Array(alarms) = alarms else {
            panic!("array")
        };
        let Cbor::Map(alarm) = &alarms[0] else {
            panic!("map")
        };
        let get = |name: &str| {
            alarm
                .iter()
                .find(|(k, _)| k == &Cbor::Text(name.into()))
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(
            get("StateUpdatedTimestamp"),
            Cbor::Tag(1, Box::new(Cbor::Float(1795499904.339)))
        );
        assert_eq!(get("Threshold"), Cbor::Float(5.0));
        assert_eq!(get("Period"), Cbor::Integer(60.into()));
        assert_eq!(
            top[1].1,
            Cbor::Array(vec![
                Cbor::Tag(1, Box::new(Cbor::Float(1.0))),
                Cbor::Tag(1, Box::new(Cbor::Float(2.0)))
            ])
        );
        assert_eq!(top[2].1, Cbor::Array(vec![Cbor::Float(3.0)]));
    }

    #[test]
    fn cbor_requests_become_json() {
        let value = Cbor::Map(vec![
            (Cbor::Text("AlarmName".into()), Cbor::Text("a".into())),
            (Cbor::Text("Period".into()), Cbor::Integer(60.into())),
            (
                Cbor::Text("StartTime".into()),
                Cbor::Tag(1, Box::new(Cbor::Float(10.5))),
            ),
            (Cbor::Text("Blob".into()), Cbor::Bytes(b"hi!?".to_vec())),
        ]);
        assert_eq!(
            to_json(value),
            json!({"AlarmName": "a", "Period": 60, "StartTime": 10.5, "Blob": "aGkhPw=="})
        );
    }
}
