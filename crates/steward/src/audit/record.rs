//! An audit record: one EventBridge event, kept whole, with what it is about.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::derive::subjects_of;
use super::summary::summarize;
use super::AuditSubject;
use crate::events::{self as ev, EventError, Timestamp};

/// One event in the ledger, as the audit function received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// The record's identity: a digest of what the event says (source,
    /// detail-type, time, resources, detail), not of its id. A redelivery
    /// has the same id, but a replay from the archive gets a new one (moto
    /// gives each replayed event a fresh id), and both must stay one record.
    pub key: String,
    /// The EventBridge event id of the delivery that wrote the record first.
    pub event_id: String,
    pub source: String,
    pub detail_type: String,
    /// The event's own `time`: records sort by it, whatever order they arrive in.
    pub at: DateTime<Utc>,
    pub subjects: Vec<AuditSubject>,
    /// One line for tables and timelines.
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Set when the record was written from an archive replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_name: Option<String>,
    pub detail: Value,
}

impl AuditRecord {
    /// Reads any EventBridge event (a Steward event, an AWS lifecycle event,
    /// or one this version of Steward has never heard of).
    pub fn from_event(event: &Value) -> Result<Self, EventError> {
        let (source, detail_type) = ev::event_type(event)?;
        let string = |name: &'static str| -> Result<&str, EventError> {
            event
                .get(name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| EventError::Malformed {
                    path: name.into(),
                    reason: format!("missing or not a non-empty string: `{name}`"),
                })
        };
        let event_id = string("id")?;
        let time = string("time")?;
        let at = time
            .parse::<Timestamp>()
            .map_err(|e| EventError::Malformed {
                path: "time".into(),
                reason: e.to_string(),
            })?
            .datetime();
        let detail = match event.get("detail") {
            Some(detail @ Value::Object(_)) => detail.clone(),
            _ => {
                return Err(EventError::Malformed {
                    path: "detail".into(),
                    reason: "missing or not an object".into(),
                })
            }
        };
        let resources: Vec<String> = event
            .get("resources")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let key = content_key(source, detail_type, &at, &resources, &detail);
        Ok(AuditRecord {
            key,
            event_id: event_id.to_string(),
            source: source.to_string(),
            detail_type: detail_type.to_string(),
            at,
            subjects: subjects_of(detail_type, &detail),
            summary: summarize(source, detail_type, &detail),
            resources,
            replay_name: event
                .get("replay-name")
                .and_then(Value::as_str)
                .map(String::from),
            detail,
        })
    }

    /// The sort key: event time (RFC 3339, milliseconds, UTC), the detail-type's
    /// place in the lifecycle (so events of the same second still read in
    /// causal order), and the record key. Queries return history in this order.
    pub fn sort_key(&self) -> String {
        format!(
            "{}#{:02}#{}",
            stamp(self.at),
            lifecycle_rank(&self.detail_type, &self.detail),
            self.key
        )
    }

    /// A detail field as a string, at a dotted path (`lineage.commit`).
    pub fn text(&self, path: &str) -> Option<&str> {
        field(&self.detail, path).and_then(Value::as_str)
    }

    /// The Steward header's model package ARN, or SageMaker's.
    pub fn model_package_arn(&self) -> Option<&str> {
        self.text("modelPackageArn")
            .or_else(|| self.text("ModelPackageArn"))
    }

    pub fn environment(&self) -> Option<&str> {
        self.text("environment")
    }

    pub fn is_steward(&self) -> bool {
        self.source == crate::events::steward::SOURCE
    }
}

/// A field at a dotted path of a JSON value.
pub fn field<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, name| v.get(name))
}

/// RFC 3339 with milliseconds in UTC: sorts as text in time order.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Where an event falls in a model's life, for events of the same instant.
/// Unknown detail-types sit in the middle: they still sort by time first.
pub fn lifecycle_rank(detail_type: &str, detail: &Value) -> u8 {
    match detail_type {
        "Git Push" | "Build Requested" | "CodeCommit Repository State Change" => 5,
        "Build Started" => 10,
        // A pipeline registers its model before it ends.
        "SageMaker Model Building Pipeline Execution Status Change" => {
            match detail
                .get("currentPipelineExecutionStatus")
                .and_then(Value::as_str)
            {
                Some("Executing") | None => 15,
                Some(_) => 22,
            }
        }
        "SageMaker Model Package State Change" => {
            match detail.get("ModelApprovalStatus").and_then(Value::as_str) {
                Some("PendingManualApproval") | None => 20,
                // A decision on the package follows the decision event.
                Some(_) => 40,
            }
        }
        "Gate Evaluated" => 25,
        "Approval Requested" => 30,
        "Approval Decided" => 35,
        "Deployment Started" => 45,
        "SageMaker Endpoint Deployment State Change"
        | "SageMaker Endpoint State Change"
        | "CodeDeploy Deployment State-change Notification" => 50,
        "Deployment Succeeded" | "Deployment Failed" => 60,
        "Promotion Requested" => 65,
        "CloudWatch Alarm State Change" => 70,
        "Rollback Started" => 75,
        "Rollback Completed" => 80,
        "Drift Detected" => 90,
        _ => 55,
    }
}

/// SHA-256 (first 128 bits, hex) of the event's content in canonical JSON
/// (object keys sorted), so the same event gives the same key however its
/// JSON was laid out.
fn content_key(
    source: &str,
    detail_type: &str,
    at: &DateTime<Utc>,
    resources: &[String],
    detail: &Value,
) -> String {
    let mut text = String::new();
    canonical(
        &serde_json::json!({
            "source": source,
            "detail-type": detail_type,
            "time": stamp(*at),
            "resources": resources,
            "detail": detail,
        }),
        &mut text,
    );
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..16])
}

fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:", Value::String(k.clone()));
                canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "version": "0",
            "id": "e-1",
            "detail-type": "Approval Decided",
            "source": "steward",
            "account": "123456789012",
            "time": "2026-11-23T09:00:00Z",
            "region": "us-east-1",
            "resources": ["arn:aws:sagemaker:us-east-1:1:model-package/payroll-fraud/3"],
            "detail": {
                "modelPackageGroup": "payroll-fraud",
                "modelPackageArn": "arn:aws:sagemaker:us-east-1:1:model-package/payroll-fraud/3",
                "environment": "prod",
                "correlationId": "c",
                "cause": "k",
                "decision": "Approved",
                "approver": "ana@example.com",
                "channel": "link",
                "decidedAt": "2026-11-23T09:00:00Z"
            }
        })
    }

    #[test]
    fn a_replay_with_a_new_id_and_reordered_fields_is_the_same_record() {
        let first = AuditRecord::from_event(&event()).unwrap();
        let text = r#"{"detail":{"decidedAt":"2026-11-23T09:00:00Z","channel":"link","approver":"ana@example.com","decision":"Approved","cause":"k","correlationId":"c","environment":"prod","modelPackageArn":"arn:aws:sagemaker:us-east-1:1:model-package/payroll-fraud/3","modelPackageGroup":"payroll-fraud"},"resources":["arn:aws:sagemaker:us-east-1:1:model-package/payroll-fraud/3"],"time":"2026-11-23T09:00:00Z","source":"steward","detail-type":"Approval Decided","id":"e-2","replay-name":"r1"}"#;
        let replayed = AuditRecord::from_event(&serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(first.key, replayed.key);
        assert_eq!(first.sort_key(), replayed.sort_key());
        assert_eq!(replayed.event_id, "e-2");
        assert_eq!(replayed.replay_name.as_deref(), Some("r1"));
    }

    #[test]
    fn different_content_is_a_different_record() {
        let mut other = event();
        other["detail"]["decision"] = json!("Rejected");
        assert_ne!(
            AuditRecord::from_event(&event()).unwrap().key,
            AuditRecord::from_event(&other).unwrap().key
        );
    }

    #[test]
    fn sort_key_is_event_time_then_lifecycle_then_key() {
        let record = AuditRecord::from_event(&event()).unwrap();
        let sk = record.sort_key();
        assert!(sk.starts_with("2026-11-23T09:00:00.000Z#35#"), "{sk}");
        assert!(sk.ends_with(&record.key));
    }

    #[test]
    fn epoch_millisecond_times_are_read() {
        let mut e = event();
        e["time"] = json!("1583831889050");
        let record = AuditRecord::from_event(&e).unwrap();
        assert_eq!(stamp(record.at), "2020-03-10T09:18:09.050Z");
    }

    #[test]
    fn malformed_events_name_the_field() {
        for (field, value) in [
            ("id", Value::Null),
            ("time", json!("yesterday")),
            ("detail", json!("x")),
        ] {
            let mut e = event();
            e[field] = value;
            match AuditRecord::from_event(&e) {
                Err(EventError::Malformed { path, .. }) => assert_eq!(path, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let mut e = event();
        e.as_object_mut().unwrap().remove("source");
        assert_eq!(
            AuditRecord::from_event(&e).unwrap_err().error_type(),
            "malformed_event"
        );
    }
}
