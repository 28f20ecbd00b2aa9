//! Asking people: one signed link per approver, mailed once, remembered as an
//! [`ApprovalRequest`]; and, on the schedule tick, the one reminder and the
//! notice that a request lapsed.
//!
//! Every mail is claimed in the ledger per (cause, recipient) before it is
//! sent, so a redelivered event, a retried Lambda or two ticks at once never
//! mail anyone twice. The token id is derived from (cause, approver, purpose),
//! so a retry mints the same link, and the request is stored before its mail
//! goes out, so the review page always finds the evidence a link was sent with.
//!
//! request-approval asks for the first environment when the gate passes;
//! `steward approval resend` asks again with a new cause (new links); the
//! promotion to a later environment that needs a person asks the same way.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::{info, warn};

use super::decision::{ModelRegistry, RegistryError};
use super::mail;
use super::request::{ApprovalRequest, RequestStatus};
use super::store::ApprovalStore;
use super::token::{token_id, Claims, SigningKeys};
use crate::events::sagemaker::ApprovalStatus;
use crate::events::steward::{ApprovalRequested, Header, SOURCE};
use crate::gate::report::GateReport;
use crate::ledger::{Claim, Ledger, LedgerError, LineageRecord, Subject};
use crate::naming::IdempotencyKey;
use crate::notify::{Mail, Notifier, NotifyError};
use crate::policy::Policy;
use crate::publish::{PublishError, Publisher};

/// The lineage record kind of a request (one per approver, id = token id).
pub const REQUESTED_RECORD_KIND: &str = "approval_requested";

#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("the policy names no approver for {environment} of {group}")]
    NoApprovers { group: String, environment: String },
    #[error("another attempt is sending {key}; retry after its lease ends (epoch {lease_until})")]
    InProgress { key: String, lease_until: i64 },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl AskError {
    pub fn error_type(&self) -> &'static str {
        match self {
            AskError::NoApprovers { .. } => "no_approvers",
            AskError::InProgress { .. } => "mail_in_progress",
            AskError::Ledger(e) => e.error_type(),
            AskError::Notify(e) => e.error_type(),
            AskError::Publish(e) => e.error_type(),
            AskError::Registry(e) => e.error_type(),
        }
    }
}

/// What asking needs: the ledger (claims, records), the request store, mail,
/// the bus, the signing keys and where the review page lives.
pub struct Asker<'a, L, A> {
    pub ledger: &'a L,
    pub approvals: &'a A,
    pub notifier: &'a Notifier,
    pub publisher: &'a Publisher,
    pub keys: &'a SigningKeys,
    /// The approval-link function's URL; links are `{url}?token=…`.
    pub approval_url: &'a str,
    /// How long a mail being sent holds its claim.
    pub lease: Duration,
}

/// One round of asking: everyone who may approve `environment`, on `report`.
#[derive(Debug, Clone)]
pub struct Ask<'r> {
    pub report: &'r GateReport,
    pub environment: &'r str,
    pub approvers: &'r [String],
    /// What caused this round (the registry event's gate, a resend).
    pub cause: &'r IdempotencyKey,
    pub correlation_id: &'r str,
    pub lifetime: Duration,
    pub now: DateTime<Utc>,
}

/// What a round did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asked {
    pub environment: String,
    pub approvers: Vec<String>,
    pub token_ids: Vec<String>,
    /// How many mails this attempt sent (0 on a retry that found them sent).
    pub mailed: usize,
    pub expires_at: DateTime<Utc>,
    pub event_id: String,
}

/// What a tick did.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticked {
    pub reminded: Vec<String>,
    pub lapsed: Vec<String>,
    /// Requests closed because their package was decided meanwhile.
    pub closed: Vec<String>,
}

impl<L: Ledger, A: ApprovalStore> Asker<'_, L, A> {
    /// Mail each approver their own link, once; store each request; announce
    /// `Approval Requested`.
    pub async fn ask(&self, ask: &Ask<'_>) -> Result<Asked, AskError> {
        let report = ask.report;
        if ask.approvers.is_empty() {
            return Err(AskError::NoApprovers {
                group: report.candidate.group.clone(),
                environment: ask.environment.to_string(),
            });
        }
        let purpose = format!("{}:{}", super::decision::DECIDE_PURPOSE, ask.environment);
        let lifetime =
            chrono::Duration::from_std(ask.lifetime).unwrap_or(chrono::Duration::hours(72));
        let mut token_ids = Vec::new();
        let mut mailed = 0;
        let mut expires_at = ask.now + lifetime;
        for approver in ask.approvers {
            let approver = approver.trim();
            let request = ApprovalRequest {
                token_id: token_id(ask.cause.as_str(), approver, &purpose),
                model_package_arn: report.candidate.model_package_arn.clone(),
                group: report.candidate.group.clone(),
                version: report.candidate.version,
                environment: ask.environment.to_string(),
                approver: approver.to_string(),
                purpose: purpose.clone(),
                cause: ask.cause.to_string(),
                correlation_id: ask.correlation_id.to_string(),
                requested_at: ask.now,
                expires_at: ask.now + lifetime,
                reminded_at: None,
                status: RequestStatus::Pending,
                gate: report.clone(),
            };
            // A retry finds the stored request and signs the same claims.
            let stored = self.approvals.put(&request).await?;
            expires_at = stored.expires_at;
            let link = mail::link(self.approval_url, &self.sign(&stored));
            let key = IdempotencyKey::new(format!("approval/mail/{}", stored.token_id));
            if self
                .send_once(&key, approver, &mail::approval_request(&stored, &link))
                .await?
            {
                mailed += 1;
            }
            self.ledger
                .append(&LineageRecord {
                    subject: Subject::Model(stored.model_package_arn.clone()),
                    at: stored.requested_at,
                    kind: REQUESTED_RECORD_KIND.into(),
                    id: stored.token_id.clone(),
                    source: SOURCE.into(),
                    detail: json!({
                        "tokenId": stored.token_id,
                        "approver": stored.approver,
                        "environment": stored.environment,
                        "purpose": stored.purpose,
                        "cause": stored.cause,
                        "requestedAt": rfc3339(stored.requested_at),
                        "expiresAt": rfc3339(stored.expires_at),
                    }),
                })
                .await?;
            token_ids.push(stored.token_id);
        }
        let event = ApprovalRequested {
            header: Header {
                model_package_group: report.candidate.group.clone(),
                model_package_arn: Some(report.candidate.model_package_arn.clone()),
                environment: Some(ask.environment.to_string()),
                correlation_id: ask.correlation_id.to_string(),
                cause: ask.cause.clone(),
                policy_version: report.policy_version.clone(),
            },
            version: report.candidate.version,
            approvers: ask.approvers.to_vec(),
            token_ids: token_ids.clone(),
            expires_at: rfc3339(expires_at),
        };
        let event_id = self.publisher.publish(&event).await?;
        info!(
            model_package_arn = %report.candidate.model_package_arn,
            environment = ask.environment,
            approvers = ask.approvers.len(),
            mailed,
            "approval requested"
        );
        Ok(Asked {
            environment: ask.environment.to_string(),
            approvers: ask.approvers.to_vec(),
            token_ids,
            mailed,
            expires_at,
            event_id,
        })
    }

    /// Remind each open request once after half its lifetime; at expiry tell
    /// the stewards it lapsed (the package stays pending); close requests
    /// whose package was decided meanwhile.
    pub async fn tick<R: ModelRegistry>(
        &self,
        registry: &R,
        policy: &Policy,
        now: DateTime<Utc>,
    ) -> Result<Ticked, AskError> {
        let mut ticked = Ticked::default();
        let open = self.approvals.open().await?;
        for request in &open {
            let status = match registry.package(&request.model_package_arn).await {
                Ok(package) => package.status,
                Err(RegistryError::NotFound(_)) => ApprovalStatus::from("Deleted"),
                Err(e) => return Err(e.into()),
            };
            if !still_decidable(policy, request, &status) {
                self.approvals
                    .close(&request.token_id, RequestStatus::Decided)
                    .await?;
                ticked.closed.push(request.token_id.clone());
                continue;
            }
            if request.is_expired(now) {
                self.lapse(request, &open, policy).await?;
                ticked.lapsed.push(request.token_id.clone());
            } else if request.due_for_reminder(now) {
                let link = mail::link(self.approval_url, &self.sign(request));
                let key = IdempotencyKey::new(format!("approval/remind/{}", request.token_id));
                self.send_once(&key, &request.approver, &mail::reminder(request, &link))
                    .await?;
                self.approvals.mark_reminded(&request.token_id, now).await?;
                ticked.reminded.push(request.token_id.clone());
            }
        }
        Ok(ticked)
    }

    /// Tell the group's stewards once per round (cause and environment), then
    /// close the request: mail first, so a crash cannot lose the notice.
    async fn lapse(
        &self,
        request: &ApprovalRequest,
        open: &[ApprovalRequest],
        policy: &Policy,
    ) -> Result<(), AskError> {
        let round: Vec<String> = open
            .iter()
            .filter(|r| r.cause == request.cause && r.environment == request.environment)
            .map(|r| r.approver.clone())
            .collect();
        let stewards = policy
            .group(&request.group)
            .map(|g| g.stewards.clone())
            .unwrap_or_default();
        if stewards.is_empty() {
            warn!(group = %request.group, "an approval lapsed and the policy names no steward to tell");
        }
        let notice = mail::lapsed(request, &round);
        for steward in &stewards {
            let key = IdempotencyKey::new(format!(
                "approval/lapsed/{}/{}/{}",
                request.cause,
                request.environment,
                steward.trim()
            ));
            self.send_once(&key, steward.trim(), &notice).await?;
        }
        self.approvals
            .close(&request.token_id, RequestStatus::Lapsed)
            .await?;
        Ok(())
    }

    /// The link's token for a stored request (deterministic: the same claims
    /// and key sign to the same token).
    pub fn sign(&self, request: &ApprovalRequest) -> String {
        self.keys.sign(&Claims {
            token_id: request.token_id.clone(),
            model_package_arn: request.model_package_arn.clone(),
            approver: request.approver.clone(),
            purpose: request.purpose.clone(),
            expires_at: request.expires_at.timestamp(),
        })
    }

    /// Send a mail unless this key's mail went out already. `true` if sent now.
    pub async fn send_once(
        &self,
        key: &IdempotencyKey,
        to: &str,
        mail: &Mail,
    ) -> Result<bool, AskError> {
        send_once(self.ledger, self.notifier, self.lease, key, to, mail).await
    }
}

/// Whether a request can still be decided, judged from its package's status.
/// A request for the group's first environment asks for the package itself
/// (made at the gate, while it is pending): any decision closes it. A request
/// for a later environment (a promotion) is made while the package is already
/// Approved; only a rejection closes it (Steward's own decisions close their
/// requests as they are made).
pub fn still_decidable(
    policy: &Policy,
    request: &ApprovalRequest,
    status: &ApprovalStatus,
) -> bool {
    decidable_for(policy, &request.group, &request.environment, status)
}

/// Whether approving `group`'s package for `environment` can still happen
/// when the package is `status` (see [`still_decidable`]).
pub fn decidable_for(
    policy: &Policy,
    group: &str,
    environment: &str,
    status: &ApprovalStatus,
) -> bool {
    let first = policy
        .group(group)
        .and_then(|g| g.first_environment())
        .map(|e| e.name.as_str());
    match status {
        ApprovalStatus::PendingManualApproval => true,
        ApprovalStatus::Approved => first.is_some_and(|first| first != environment),
        _ => false,
    }
}

/// Claim `key`, send, complete; a failed send releases the claim so the retry
/// sends it.
pub async fn send_once<L: Ledger>(
    ledger: &L,
    notifier: &Notifier,
    lease: Duration,
    key: &IdempotencyKey,
    to: &str,
    mail: &Mail,
) -> Result<bool, AskError> {
    let token = match ledger.claim(key, lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(_) => return Ok(false),
        Claim::InProgress { lease_until } => {
            return Err(AskError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    match notifier.send(to, mail).await {
        Ok(message_id) => {
            ledger
                .complete(&token, &json!({ "messageId": message_id, "to": to }))
                .await?;
            Ok(true)
        }
        Err(e) => {
            if let Err(release) = ledger.release(&token).await {
                warn!(error = %release, cause = %key, "could not release the mail claim");
            }
            Err(e.into())
        }
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_promotion_request_stays_open_on_an_approved_package_a_gate_request_does_not() {
        let policy = Policy::parse(include_str!("../../../../examples/steward.toml")).unwrap();
        let approved = ApprovalStatus::Approved;
        let pending = ApprovalStatus::PendingManualApproval;
        let rejected = ApprovalStatus::Rejected;
        // payroll-fraud: staging first, then prod.
        assert!(decidable_for(&policy, "payroll-fraud", "staging", &pending));
        assert!(!decidable_for(
            &policy,
            "payroll-fraud",
            "staging",
            &approved
        ));
        assert!(decidable_for(&policy, "payroll-fraud", "prod", &approved));
        assert!(!decidable_for(&policy, "payroll-fraud", "prod", &rejected));
        assert!(!decidable_for(&policy, "no-such-group", "prod", &approved));
    }
}
