//! Idempotency claims: the first delivery of a cause does the work, the others
//! get its result.

use serde_json::Value;

use crate::naming::IdempotencyKey;

/// Proof that this attempt owns a claim; needed to complete or release it, so an
/// attempt whose lease ran out cannot overwrite the one that took over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimToken {
    pub key: IdempotencyKey,
    pub owner: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This attempt owns the cause: do the work, then complete or release.
    Acquired(ClaimToken),
    /// The cause was handled before; here is what it produced.
    Done(Value),
    /// Another attempt is working on it; retry after the lease (epoch seconds).
    InProgress { lease_until: i64 },
}

/// A unique owner id for one attempt. No randomness crate needed: the clock,
/// the process and a counter are unique enough within one table.
pub(crate) fn new_owner() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub(crate) fn epoch_seconds_now() -> i64 {
    chrono::Utc::now().timestamp()
}
