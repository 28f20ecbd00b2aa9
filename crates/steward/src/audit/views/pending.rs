//! Approvals still waiting for a person: requested, not decided, not expired.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ordered;
use crate::audit::{version_of_arn, AuditRecord};
use crate::events::Timestamp;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingApproval {
    pub model_package_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    pub environment: String,
    pub requested_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Requests with no decision for the same model and environment, and whose
/// package the registry has not rejected, still valid at `now`.
pub fn pending_approvals(records: &[AuditRecord], now: DateTime<Utc>) -> Vec<PendingApproval> {
    let mut open: BTreeMap<(String, String), PendingApproval> = BTreeMap::new();
    for r in ordered(records) {
        let Some(model) = r.model_package_arn() else {
            continue;
        };
        let env = r.environment().unwrap_or_default().to_string();
        match r.detail_type.as_str() {
            "Approval Requested" => {
                open.insert(
                    (model.to_string(), env.clone()),
                    PendingApproval {
                        model_package_arn: model.to_string(),
                        version: version_of_arn(model),
                        environment: env,
                        requested_at: r.at,
                        approver: crate::audit::summary::approvers(&r.detail),
                        expires_at: r
                            .text("expiresAt")
                            .and_then(|t| t.parse::<Timestamp>().ok())
                            .map(|t| t.datetime()),
                    },
                );
            }
            "Approval Decided" => {
                open.remove(&(model.to_string(), env));
            }
            "SageMaker Model Package State Change"
                if r.text("ModelApprovalStatus") == Some("Rejected") =>
            {
                open.retain(|(m, _), _| m != model);
            }
            _ => {}
        }
    }
    open.into_values()
        .filter(|p| p.expires_at.is_none_or(|e| now < e))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{at, story, V3};
    use super::*;

    #[test]
    fn a_request_is_pending_until_decided_or_expired() {
        let records = story();
        let before_decision: Vec<AuditRecord> = records
            .iter()
            .filter(|r| r.at < at("2026-11-23T08:00:00Z"))
            .cloned()
            .collect();
        let pending = pending_approvals(&before_decision, at("2026-11-23T08:00:00Z"));
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].model_package_arn, V3);
        assert_eq!(pending[0].environment, "prod");
        assert_eq!(pending[0].approver.as_deref(), Some("ana@example.com"));
        // Expired requests are not pending.
        assert!(pending_approvals(&before_decision, at("2026-11-27T00:00:00Z")).is_empty());
        // Decided.
        assert!(pending_approvals(&records, at("2026-11-23T09:00:00Z")).is_empty());
    }
}
