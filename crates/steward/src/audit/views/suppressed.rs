//! Triggers the retrain guard held back, from start-build's own records
//! (`GROUP#<group>`, kind `build_suppressed`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ledger::LineageRecord;

/// The ledger kind start-build writes for a suppressed trigger.
pub const SUPPRESSED_KIND: &str = "build_suppressed";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuppressedTrigger {
    pub at: DateTime<Utc>,
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
}

/// The suppressions among a group's ledger records, oldest first.
pub fn suppressed_triggers(records: &[LineageRecord]) -> Vec<SuppressedTrigger> {
    let text =
        |r: &LineageRecord, k: &str| r.detail.get(k).and_then(Value::as_str).map(String::from);
    let mut out: Vec<SuppressedTrigger> = records
        .iter()
        .filter(|r| r.kind == SUPPRESSED_KIND)
        .map(|r| SuppressedTrigger {
            at: r.at,
            group: text(r, "modelPackageGroup").unwrap_or_default(),
            trigger: text(r, "trigger"),
            cause: text(r, "cause"),
            reason: text(r, "reason").unwrap_or_default(),
            policy_version: text(r, "policyVersion"),
        })
        .collect();
    out.sort_by_key(|s| s.at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Subject;
    use serde_json::json;

    #[test]
    fn only_suppressions_in_time_order() {
        let record = |at: &str, kind: &str, reason: &str| LineageRecord {
            subject: Subject::Group("g".into()),
            at: at.parse().unwrap(),
            kind: kind.into(),
            id: at.into(),
            source: "steward".into(),
            detail: json!({"modelPackageGroup": "g", "trigger": "drift", "cause": "c", "reason": reason}),
        };
        let out = suppressed_triggers(&[
            record("2026-11-23T10:00:00Z", SUPPRESSED_KIND, "daily cap"),
            record("2026-11-23T09:00:00Z", "build_started", "-"),
            record("2026-11-23T08:00:00Z", SUPPRESSED_KIND, "cooldown"),
        ]);
        let reasons: Vec<&str> = out.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(reasons, ["cooldown", "daily cap"]);
        assert_eq!(out[0].trigger.as_deref(), Some("drift"));
    }
}
