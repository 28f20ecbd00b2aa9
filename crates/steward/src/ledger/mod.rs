//! The ledger: one DynamoDB table that remembers every step.
//!
//! The [`Ledger`] port is what the domain needs: claim a cause once, remember its
//! result, and append lineage records that are never updated in place. The
//! DynamoDB adapter ([`DynamoLedger`]) is the real one; [`MemoryLedger`] is a fake
//! for unit tests of handlers.
//!
//! Key design (one table, `PK`/`SK` strings, TTL attribute `expires_at`):
//! - `IDEMP#<key>` / `CLAIM`: an idempotency claim (state, owner, lease, result).
//! - `EXEC#<pipeline execution arn>` / `<time>#<kind>#<id>`: a build's lineage.
//! - `MODEL#<model package arn>` / `<time>#<kind>#<id>`: a model's lineage.
//! - `GROUP#<group>` / `<time>#<kind>#<id>`: group-wide records.
//! - `ENV#<group>#<env>` / `STATE` and `<time>#<kind>#<id>`: an environment's
//!   deployment state and history ([`environment`]).

mod claim;
mod dynamo;
pub mod environment;
pub(crate) mod item;
mod memory;
mod record;

pub use claim::{Claim, ClaimToken};
pub use dynamo::DynamoLedger;
pub use environment::{
    update_state, DynamoEnvironments, EnvironmentLedger, EnvironmentRecord, MemoryEnvironments,
    Saved,
};
pub use memory::MemoryLedger;
pub use record::{LineageRecord, Subject};

use std::future::Future;
use std::time::Duration;

use crate::naming::IdempotencyKey;

/// How long a completed claim is remembered: longer than EventBridge's 24-hour
/// retry window and any replay an operator is likely to run by accident.
pub const CLAIM_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger {operation} failed: {message}")]
    Store {
        operation: &'static str,
        message: String,
    },
    #[error("ledger item {pk}/{sk} is malformed: {reason}")]
    Corrupt {
        pk: String,
        sk: String,
        reason: String,
    },
    /// Our claim expired and someone else took it over: our result is not recorded.
    #[error("the claim on {key} was lost (lease expired and taken over)")]
    ClaimLost { key: String },
}

impl LedgerError {
    pub fn error_type(&self) -> &'static str {
        match self {
            LedgerError::Store { .. } => "ledger_unavailable",
            LedgerError::Corrupt { .. } => "ledger_corrupt",
            LedgerError::ClaimLost { .. } => "claim_lost",
        }
    }
}

/// What the domain needs from the ledger.
pub trait Ledger: Send + Sync {
    /// Claim a cause. The first caller gets [`Claim::Acquired`]; later callers get
    /// the stored result ([`Claim::Done`]) or learn that an attempt is under way
    /// ([`Claim::InProgress`]). An in-progress claim whose lease has run out can
    /// be taken over, so a crashed attempt is retried rather than lost.
    fn claim(
        &self,
        key: &IdempotencyKey,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, LedgerError>> + Send;

    /// Record the result of a claimed cause; later claims return it.
    fn complete(
        &self,
        token: &ClaimToken,
        result: &serde_json::Value,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Give up a claim after a failure, so a retry can start at once.
    fn release(&self, token: &ClaimToken) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Append a lineage record. Appending the same record again is a no-op, so a
    /// retried handler never writes a second copy.
    fn append(
        &self,
        record: &LineageRecord,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// A subject's records, oldest first.
    fn records(
        &self,
        subject: &Subject,
    ) -> impl Future<Output = Result<Vec<LineageRecord>, LedgerError>> + Send;
}
