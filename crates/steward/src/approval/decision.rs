//! The one path by which a model package is approved or rejected: by an
//! emailed link, by `steward approve|reject`, or by the policy (`auto`).
//!
//! A decision happens once. The token id (links) is claimed in the ledger, so
//! a link works once; one decision per (model package, environment) is
//! claimed, so approve and reject sent at the same moment cannot both win;
//! and the package must still be `PendingManualApproval` (or, for a promotion
//! to a later environment that needs a person, `Approved` into the chain), so
//! a decision made elsewhere (the console, another approver) is not
//! overwritten. Only then is
//! the registry updated (status, description and metadata together), the
//! `Approval Decided` event published and the ledger record written.
//!
//! A retry after a crash resumes: the package already carries this decision's
//! id in its metadata, so the update is not repeated but the event and the
//! record are completed.

mod registry;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

pub use registry::{
    ApprovalUpdate, ModelRegistry, PackageApproval, RegistryError, SageMakerRegistry,
};

use super::request::RequestStatus;
use super::store::ApprovalStore;
use super::token::Claims;
use crate::events::sagemaker::ApprovalStatus;
use crate::events::steward::{ApprovalDecided, Header, StewardDetail};
use crate::ledger::{Claim, ClaimToken, Ledger, LedgerError, LineageRecord, Subject};
use crate::naming::IdempotencyKey;
use crate::publish::{PublishError, Publisher};

/// The longest comment kept; the registry's ApprovalDescription holds 1024
/// characters, and it also names approver, channel and time.
pub const MAX_COMMENT_CHARS: usize = 500;
/// What a token's purpose starts with when it lets its holder decide.
pub const DECIDE_PURPOSE: &str = "approve";
/// The lineage record kind of a decision.
pub const RECORD_KIND: &str = "approval_decided";
/// The registry's `CustomerMetadataProperties` values hold 256 characters.
const MAX_METADATA_VALUE: usize = 256;
/// The registry's `ApprovalDescription` holds 1024 characters.
const MAX_DESCRIPTION: usize = 1024;

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
}

impl Verdict {
    /// The registry status the verdict sets.
    pub fn status(self) -> ApprovalStatus {
        match self {
            Verdict::Approve => ApprovalStatus::Approved,
            Verdict::Reject => ApprovalStatus::Rejected,
        }
    }

    /// `approved` / `rejected`, for people and the ledger.
    pub fn past_tense(self) -> &'static str {
        match self {
            Verdict::Approve => "approved",
            Verdict::Reject => "rejected",
        }
    }

    /// From a form's or command's word.
    pub fn parse(word: &str) -> Option<Verdict> {
        match word.trim().to_ascii_lowercase().as_str() {
            "approve" => Some(Verdict::Approve),
            "reject" => Some(Verdict::Reject),
            _ => None,
        }
    }
}

/// How the decision reached Steward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The emailed link's review page.
    Link,
    /// `steward approve|reject`, with the caller's AWS identity.
    Cli,
    /// The policy approved (`approval = "auto"`), the gate as evidence.
    Auto,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Link => "link",
            Channel::Cli => "cli",
            Channel::Auto => "auto",
        }
    }
}

/// One decision to make.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRequest {
    pub model_package_arn: String,
    /// The environment the approval is for (a link's purpose names it); `None`
    /// decides the package as a whole.
    pub environment: Option<String>,
    pub verdict: Verdict,
    /// An approver's address (link), an IAM ARN (CLI), `steward` (auto).
    pub approver: String,
    pub channel: Channel,
    pub comment: Option<String>,
    /// The link's token id, claimed once; `None` for CLI and auto.
    pub token_id: Option<String>,
    pub at: DateTime<Utc>,
}

impl DecisionRequest {
    /// A decision by the holder of a verified link: package, approver and
    /// environment come from the signed claims, never from the form.
    pub fn from_claims(
        claims: &Claims,
        verdict: Verdict,
        comment: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Self, DecisionError> {
        let environment = environment_of_purpose(&claims.purpose)?;
        Ok(Self {
            model_package_arn: claims.model_package_arn.clone(),
            environment,
            verdict,
            approver: claims.approver.clone(),
            channel: Channel::Link,
            comment: comment.map(str::to_string),
            token_id: Some(claims.token_id.clone()),
            at,
        })
    }

    /// The claim that lets one decision per package and environment through.
    pub fn decision_key(&self) -> IdempotencyKey {
        decision_key(&self.model_package_arn, self.environment.as_deref())
    }

    /// Identifies this decision (not its time or comment), so a retry of the
    /// same decision recognises its own earlier update.
    pub fn decision_id(&self) -> String {
        let key = IdempotencyKey::new(format!(
            "{}/{}/{}/{}/{}",
            self.decision_key(),
            self.verdict.past_tense(),
            self.channel.as_str(),
            self.approver,
            self.token_id.as_deref().unwrap_or("-")
        ));
        key.digest()[..32].to_string()
    }
}

/// The ledger key of the one decision on a package (for an environment).
pub fn decision_key(model_package_arn: &str, environment: Option<&str>) -> IdempotencyKey {
    IdempotencyKey::new(format!(
        "approval/decision/{model_package_arn}/{}",
        environment.unwrap_or("package")
    ))
}

/// Whether a package in `status` can still be decided for `environment`:
/// pending approval; or, for a named environment after the first, already
/// approved into the chain (a promotion that needs a person: approving lets
/// it into that environment, rejecting stops it). A rejected package is never
/// decided again, and the per-environment claim makes each environment's
/// decision once.
pub fn is_decidable(status: &ApprovalStatus, environment: Option<&str>) -> bool {
    match status {
        ApprovalStatus::PendingManualApproval => true,
        ApprovalStatus::Approved => environment.is_some(),
        _ => false,
    }
}

/// The ledger key that makes a token single-use.
pub fn token_key(token_id: &str) -> IdempotencyKey {
    IdempotencyKey::new(format!("approval/token/{token_id}"))
}

/// `approve` or `approve:<environment>`; anything else is not a token that decides.
pub fn environment_of_purpose(purpose: &str) -> Result<Option<String>, DecisionError> {
    match purpose.split_once(':') {
        None if purpose == DECIDE_PURPOSE => Ok(None),
        Some((DECIDE_PURPOSE, env)) if !env.is_empty() => Ok(Some(env.to_string())),
        _ => Err(DecisionError::WrongPurpose),
    }
}

/// What was decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub model_package_arn: String,
    pub group: String,
    pub version: Option<u32>,
    pub environment: Option<String>,
    pub verdict: Verdict,
    pub approver: String,
    pub channel: Channel,
    pub decided_at: DateTime<Utc>,
    pub event_id: String,
    /// This attempt completed a decision an earlier attempt had applied.
    pub resumed: bool,
}

/// Why no decision was made. Refusals (see [`DecisionError::is_refusal`])
/// changed nothing and are answered to the person; the others are
/// infrastructure failures to retry.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("the token does not grant a decision")]
    WrongPurpose,
    #[error("the comment is longer than {MAX_COMMENT_CHARS} characters")]
    CommentTooLong,
    #[error("the approval token was already used")]
    TokenUsed,
    #[error("a decision on this model is being made right now")]
    InProgress,
    #[error("the model was already decided{}", .decision.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    AlreadyDecided { decision: Option<String> },
    #[error("the model package is {status}, no longer pending approval")]
    NotPending { status: String },
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl DecisionError {
    pub fn error_type(&self) -> &'static str {
        match self {
            DecisionError::WrongPurpose => "token_wrong_purpose",
            DecisionError::CommentTooLong => "comment_too_long",
            DecisionError::TokenUsed => "token_used",
            DecisionError::InProgress => "decision_in_progress",
            DecisionError::AlreadyDecided { .. } => "already_decided",
            DecisionError::NotPending { .. } => "not_pending",
            DecisionError::Registry(e) => e.error_type(),
            DecisionError::Ledger(e) => e.error_type(),
            DecisionError::Publish(e) => e.error_type(),
        }
    }

    /// Refused for a reason the person can read; nothing changed, and
    /// retrying the same request will not help.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            DecisionError::WrongPurpose
                | DecisionError::CommentTooLong
                | DecisionError::TokenUsed
                | DecisionError::InProgress
                | DecisionError::AlreadyDecided { .. }
                | DecisionError::NotPending { .. }
                | DecisionError::Registry(RegistryError::NotFound(_))
        )
    }
}

/// Where `Approval Decided` goes: the `steward` bus, or a test's list.
pub trait DecisionEvents: Send + Sync {
    fn publish(
        &self,
        event: &ApprovalDecided,
    ) -> impl Future<Output = Result<String, PublishError>> + Send;
}

impl DecisionEvents for Publisher {
    async fn publish(&self, event: &ApprovalDecided) -> Result<String, PublishError> {
        Publisher::publish(self, event).await
    }
}

/// What a decision needs: the ledger, the registry, the bus, and the
/// approval requests (closed once the package is decided).
pub struct Decider<L, R, E, A> {
    pub ledger: L,
    pub registry: R,
    pub events: E,
    pub approvals: A,
    /// How long a decision under way holds its claims; longer than any
    /// function's timeout, so a live attempt is never overtaken.
    pub lease: Duration,
}

impl<L: Ledger, R: ModelRegistry, E: DecisionEvents, A: ApprovalStore> Decider<L, R, E, A> {
    /// Decide once; see the module documentation for the order of checks.
    pub async fn decide(&self, request: &DecisionRequest) -> Result<Decided, DecisionError> {
        let comment = clean_comment(request.comment.as_deref())?;
        let token = match &request.token_id {
            Some(id) => match self.ledger.claim(&token_key(id), self.lease).await? {
                Claim::Acquired(token) => Some(token),
                Claim::Done(_) => return Err(DecisionError::TokenUsed),
                Claim::InProgress { .. } => return Err(DecisionError::InProgress),
            },
            None => None,
        };
        let claimed = match self.ledger.claim(&request.decision_key(), self.lease).await {
            Ok(Claim::Acquired(claim)) => claim,
            Ok(Claim::Done(result)) => {
                self.release(token.as_ref()).await;
                return Err(DecisionError::AlreadyDecided {
                    decision: result["decision"].as_str().map(str::to_string),
                });
            }
            Ok(Claim::InProgress { .. }) => {
                self.release(token.as_ref()).await;
                return Err(DecisionError::AlreadyDecided { decision: None });
            }
            Err(e) => {
                self.release(token.as_ref()).await;
                return Err(e.into());
            }
        };
        match self.apply(request, comment.as_deref()).await {
            Ok(decided) => {
                let result = json!({
                    "decision": decided.verdict.past_tense(),
                    "approver": decided.approver,
                    "channel": decided.channel.as_str(),
                    "decidedAt": rfc3339(decided.decided_at),
                    "tokenId": request.token_id,
                    "eventId": decided.event_id,
                });
                self.ledger.complete(&claimed, &result).await?;
                if let Some(token) = &token {
                    self.ledger.complete(token, &result).await?;
                }
                Ok(decided)
            }
            Err(e) => {
                self.release(Some(&claimed)).await;
                self.release(token.as_ref()).await;
                Err(e)
            }
        }
    }

    /// Give up a claim; a failure to do so only delays a retry until the lease ends.
    async fn release(&self, token: Option<&ClaimToken>) {
        if let Some(token) = token {
            if let Err(e) = self.ledger.release(token).await {
                tracing::warn!(error = %e, cause = %token.key, "could not release the claim");
            }
        }
    }

    /// Holding both claims: check the package, set its approval, announce and record.
    async fn apply(
        &self,
        request: &DecisionRequest,
        comment: Option<&str>,
    ) -> Result<Decided, DecisionError> {
        let arn = &request.model_package_arn;
        let package = self.registry.package(arn).await?;
        let decision_id = request.decision_id();
        let target = request.verdict.status();
        let resumed =
            package.status == target && package.metadata.get(DECISION_ID_KEY) == Some(&decision_id);
        if !resumed && !is_decidable(&package.status, request.environment.as_deref()) {
            return Err(DecisionError::NotPending {
                status: package.status.as_str().to_string(),
            });
        }
        if !resumed {
            let update = ApprovalUpdate {
                status: target,
                description: description(request, comment),
                metadata: metadata(&package.metadata, request, &decision_id),
            };
            self.registry.set_approval(arn, &update).await?;
        }
        let key = request.decision_key();
        let event = ApprovalDecided {
            header: Header {
                model_package_group: package.group.clone(),
                model_package_arn: Some(arn.clone()),
                environment: request.environment.clone(),
                correlation_id: package
                    .metadata
                    .get(CORRELATION_ID_KEY)
                    .cloned()
                    .unwrap_or_else(|| key.correlation_id()),
                cause: key,
                policy_version: None,
            },
            decision: request.verdict.status().as_str().to_string(),
            approver: request.approver.clone(),
            channel: request.channel.as_str().to_string(),
            comment: comment.map(str::to_string),
            token_id: request.token_id.clone(),
            decided_at: rfc3339(request.at),
        };
        let event_id = self.events.publish(&event).await?;
        self.ledger
            .append(&LineageRecord {
                subject: Subject::Model(arn.clone()),
                at: request.at,
                kind: RECORD_KIND.to_string(),
                id: decision_id,
                source: crate::events::steward::SOURCE.to_string(),
                detail: record_detail(&event, &event_id),
            })
            .await?;
        self.close_requests(request).await?;
        Ok(Decided {
            model_package_arn: arn.clone(),
            group: package.group,
            version: package.version,
            environment: request.environment.clone(),
            verdict: request.verdict,
            approver: request.approver.clone(),
            channel: request.channel,
            decided_at: request.at,
            event_id,
            resumed,
        })
    }
}

impl<L: Ledger, R: ModelRegistry, E: DecisionEvents, A: ApprovalStore> Decider<L, R, E, A> {
    /// Every open request for the decided package (and environment) is
    /// closed: the other approvers' links then say "already decided" and are
    /// neither reminded nor lapsed.
    async fn close_requests(&self, request: &DecisionRequest) -> Result<(), LedgerError> {
        for open in self.approvals.open().await? {
            let same_environment = request
                .environment
                .as_deref()
                .is_none_or(|env| env == open.environment);
            if open.model_package_arn == request.model_package_arn && same_environment {
                self.approvals
                    .close(&open.token_id, RequestStatus::Decided)
                    .await?;
            }
        }
        Ok(())
    }
}

/// Metadata keys a decision writes on the package.
pub const DECISION_ID_KEY: &str = "steward:decision-id";
pub const DECIDED_BY_KEY: &str = "steward:decided-by";
pub const DECISION_CHANNEL_KEY: &str = "steward:decision-channel";
pub const DECIDED_AT_KEY: &str = "steward:decided-at";
const CORRELATION_ID_KEY: &str = "steward:correlation-id";

/// A comment trimmed, empty as none, control characters (but line breaks)
/// dropped; too long is refused rather than silently cut.
fn clean_comment(comment: Option<&str>) -> Result<Option<String>, DecisionError> {
    let Some(comment) = comment.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(DecisionError::CommentTooLong);
    }
    let clean: String = comment
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    Ok(Some(clean.replace("\r\n", "\n")))
}

/// `Approved by ana@acme.com via link at 2026-11-24T08:00:00Z for prod: looks good`.
fn description(request: &DecisionRequest, comment: Option<&str>) -> String {
    let verdict = match request.verdict {
        Verdict::Approve => "Approved",
        Verdict::Reject => "Rejected",
    };
    let mut text = format!(
        "{verdict} by {} via {} at {}",
        request.approver,
        request.channel.as_str(),
        rfc3339(request.at)
    );
    if let Some(env) = &request.environment {
        text.push_str(&format!(" for {env}"));
    }
    if let Some(comment) = comment {
        text.push_str(": ");
        text.push_str(comment);
    }
    truncate(&text, MAX_DESCRIPTION)
}

/// The package's metadata with this decision's keys added.
fn metadata(
    existing: &BTreeMap<String, String>,
    request: &DecisionRequest,
    decision_id: &str,
) -> BTreeMap<String, String> {
    let mut metadata = existing.clone();
    metadata.insert(DECISION_ID_KEY.into(), decision_id.to_string());
    metadata.insert(
        DECIDED_BY_KEY.into(),
        truncate(&request.approver, MAX_METADATA_VALUE),
    );
    metadata.insert(
        DECISION_CHANNEL_KEY.into(),
        request.channel.as_str().to_string(),
    );
    metadata.insert(DECIDED_AT_KEY.into(), rfc3339(request.at));
    metadata
}

fn record_detail(event: &ApprovalDecided, event_id: &str) -> Value {
    json!({
        "decision": event.decision,
        "approver": event.approver,
        "channel": event.channel,
        "comment": event.comment,
        "tokenId": event.token_id,
        "environment": event.header.environment,
        "decidedAt": event.decided_at,
        "eventId": event_id,
        "detailType": ApprovalDecided::DETAIL_TYPE,
    })
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    cut
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests;
