//! An approval request: what one approver was asked to decide, with which
//! link (token id, never the token), until when, and on which evidence.
//!
//! One request per (model package, environment, approver). It is stored in the
//! ledger table by [`super::store`] under its token id, so the approval-link
//! page can show the gate report a link was sent with, and the schedule tick
//! can remind and lapse the ones still open.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::gate::report::GateReport;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestStatus {
    /// Waiting for the approver.
    Pending,
    /// The package was decided (by this link or any other way).
    Decided,
    /// Expired undecided; the package stays pending and the stewards were told.
    Lapsed,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Decided => "decided",
            RequestStatus::Lapsed => "lapsed",
        }
    }
}

/// One approver's request to decide one model package for one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequest {
    /// The id the link's token carries; the request's key.
    pub token_id: String,
    pub model_package_arn: String,
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The environment approving lets the model into.
    pub environment: String,
    pub approver: String,
    /// The token's purpose: `approve:<environment>`.
    pub purpose: String,
    /// The idempotency key of what caused the request (the registry event, or
    /// a resend), so a retry finds the same request.
    pub cause: String,
    pub correlation_id: String,
    pub requested_at: DateTime<Utc>,
    /// The link stops working at this instant.
    pub expires_at: DateTime<Utc>,
    /// When the one reminder went out; `None` until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<DateTime<Utc>>,
    pub status: RequestStatus,
    /// The evidence the approver was sent.
    pub gate: GateReport,
}

impl ApprovalRequest {
    /// Halfway through its lifetime: when the approver is reminded.
    pub fn remind_at(&self) -> DateTime<Utc> {
        self.requested_at + (self.expires_at - self.requested_at) / 2
    }

    /// Pending, not yet reminded, and past half its lifetime (but not expired:
    /// an expired request lapses instead).
    pub fn due_for_reminder(&self, now: DateTime<Utc>) -> bool {
        self.status == RequestStatus::Pending
            && self.reminded_at.is_none()
            && now >= self.remind_at()
            && !self.is_expired(now)
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// Time left, never negative.
    pub fn remaining(&self, now: DateTime<Utc>) -> Duration {
        (self.expires_at - now).max(Duration::zero())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::gate::report::{Candidate, Lineage};

    fn request() -> ApprovalRequest {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
        ApprovalRequest {
            token_id: "t".into(),
            model_package_arn: "arn".into(),
            group: "g".into(),
            version: Some(1),
            environment: "staging".into(),
            approver: "ana@acme.com".into(),
            purpose: "approve:staging".into(),
            cause: "gate/arn".into(),
            correlation_id: "c".into(),
            requested_at: at,
            expires_at: at + Duration::hours(48),
            reminded_at: None,
            status: RequestStatus::Pending,
            gate: GateReport {
                candidate: Candidate {
                    model_package_arn: "arn".into(),
                    group: "g".into(),
                    version: Some(1),
                    metrics_uri: None,
                    metrics: Default::default(),
                },
                checks: vec![],
                champion: None,
                lineage: Lineage::default(),
                policy_version: None,
                evaluated_at: at,
                passed: true,
            },
        }
    }

    #[test]
    fn a_request_is_due_for_its_one_reminder_from_half_its_lifetime_until_expiry() {
        let r = request();
        let at = r.requested_at;
        assert!(!r.due_for_reminder(at + Duration::hours(23)));
        assert!(r.due_for_reminder(at + Duration::hours(24)));
        assert!(r.due_for_reminder(at + Duration::hours(47)));
        assert!(
            !r.due_for_reminder(at + Duration::hours(48)),
            "expired: it lapses instead"
        );
        assert!(r.is_expired(at + Duration::hours(48)));
        let reminded = ApprovalRequest {
            reminded_at: Some(at + Duration::hours(24)),
            ..request()
        };
        assert!(!reminded.due_for_reminder(at + Duration::hours(30)));
        let decided = ApprovalRequest {
            status: RequestStatus::Decided,
            ..request()
        };
        assert!(!decided.due_for_reminder(at + Duration::hours(30)));
        assert_eq!(r.remaining(at + Duration::hours(50)), Duration::zero());
    }

    #[test]
    fn a_request_round_trips_through_json_with_its_status_spelt_for_people() {
        let r = request();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["status"], "pending");
        assert_eq!(json["tokenId"], "t");
        assert_eq!(serde_json::from_value::<ApprovalRequest>(json).unwrap(), r);
    }
}
