//! Human output for the ledger commands: aligned tables and short times.
//! Machines use `--json`, whose shape is fixed by the schema test.

use chrono::{DateTime, SecondsFormat, Utc};

/// An aligned text table; the last column is never padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = vec![line(header.to_vec())];
    for row in rows {
        out.push(line(row.iter().map(String::as_str).collect()));
    }
    out.join("\n")
}

pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn opt_time(at: Option<DateTime<Utc>>) -> String {
    at.map(time).unwrap_or_else(|| "-".into())
}

pub fn or_dash(value: Option<&str>) -> String {
    value.unwrap_or("-").to_string()
}

/// `group/version` of a model package ARN, else the ARN.
pub fn model(arn: &str) -> String {
    arn.split_once(":model-package/")
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|| arn.to_string())
}

/// Parse an RFC 3339 time from the command line.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 time (e.g. 2026-11-23T09:15:00Z): {e}"))
}

pub fn print_json(value: &impl serde::Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let out = table(
            &["A", "BB", "C"],
            &[vec!["xxx".into(), "y".into(), "z z".into()]],
        );
        assert_eq!(out, "A    BB  C\nxxx  y   z z");
    }

    #[test]
    fn times_parse_or_explain() {
        assert_eq!(
            time(parse_time("2026-11-23T10:15:00+01:00").unwrap()),
            "2026-11-23T09:15:00Z"
        );
        assert!(parse_time("yesterday").unwrap_err().contains("RFC 3339"));
        assert_eq!(
            model("arn:aws:sagemaker:us-east-1:1:model-package/g/3"),
            "g/3"
        );
    }
}

/// Test helpers for the ledger commands: the audit story in a memory store,
/// and the shape of JSON output (every path with its type).
#[cfg(test)]
pub mod testing {
    use std::collections::BTreeSet;

    use serde_json::Value;
    use steward::audit::{AuditRecord, AuditStore, MemoryAuditStore};
    use steward::ledger::{Ledger, LineageRecord, MemoryLedger, Subject};

    /// A ledger holding the gate's full report on model 3, as request-approval writes it.
    pub async fn gate_ledger() -> MemoryLedger {
        let ledger = MemoryLedger::new();
        let report: Value = serde_json::json!({
            "candidate": {
                "modelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/3",
                "group": "payroll-fraud",
                "version": 3,
                "metrics": {"auc": 0.93, "f1": 0.81}
            },
            "checks": [
                {"metric": "auc", "kind": "threshold", "value": 0.93, "bound": 0.85, "passed": true, "reason": "auc 0.93 >= 0.85"},
                {"metric": "auc", "kind": "no-regression", "value": 0.93, "championValue": 0.91, "passed": true, "reason": "auc 0.93 vs champion 0.91"}
            ],
            "lineage": {},
            "policyVersion": "ssm:/steward/policy:7",
            "evaluatedAt": "2026-11-23T06:48:40Z",
            "passed": true
        });
        ledger
            .append(&LineageRecord {
                subject: Subject::Model(
                    "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/3".into(),
                ),
                at: "2026-11-23T06:48:40Z".parse().unwrap(),
                kind: "gate_evaluated".into(),
                id: "gate".into(),
                source: "steward".into(),
                detail: report,
            })
            .await
            .unwrap();
        ledger
    }

    pub async fn story_store() -> MemoryAuditStore {
        let events: Vec<Value> =
            serde_json::from_str(include_str!("../../../events/audit-story.json")).unwrap();
        let store = MemoryAuditStore::new();
        for e in events {
            store
                .append(&AuditRecord::from_event(&e).unwrap())
                .await
                .unwrap();
        }
        store
    }

    /// `path: type` for every value in `value`; array items share `[]`.
    /// Free-form payloads (an event's `detail`, a gate's metrics and checks)
    /// are one opaque `object`/`array` entry: their shape is the emitter's.
    pub fn schema(value: &Value) -> Vec<String> {
        let mut out = BTreeSet::new();
        walk(value, "", &mut out);
        out.into_iter().collect()
    }

    const OPAQUE: &[&str] = &["detail", "metrics", "checks"];

    fn walk(value: &Value, path: &str, out: &mut BTreeSet<String>) {
        let name = path.rsplit(['.', '[']).next().unwrap_or("");
        let kind = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !path.is_empty() {
            out.insert(format!("{path}: {kind}"));
        }
        if OPAQUE.contains(&name) {
            return;
        }
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, &p, out);
                }
            }
            Value::Array(items) => {
                for v in items {
                    walk(v, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }
}
