//! An in-memory ledger with the same semantics as the DynamoDB one, for unit
//! tests of handlers (the DynamoDB adapter itself is tested against the emulator).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use super::claim::{epoch_seconds_now, new_owner};
use super::{Claim, ClaimToken, Ledger, LedgerError, LineageRecord, Subject};
use crate::naming::IdempotencyKey;

#[derive(Debug, Clone)]
enum ClaimState {
    InProgress { owner: String, lease_until: i64 },
    Done(Value),
}

#[derive(Debug, Default)]
pub struct MemoryLedger {
    claims: Mutex<BTreeMap<String, ClaimState>>,
    records: Mutex<BTreeMap<(String, String), LineageRecord>>,
}

impl MemoryLedger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record, in key order: what a test inspects.
    pub fn all_records(&self) -> Vec<LineageRecord> {
        self.lock_records().values().cloned().collect()
    }

    /// Whether a claim exists for the key (in progress or done).
    pub fn has_claim(&self, key: &IdempotencyKey) -> bool {
        self.lock_claims().contains_key(key.as_str())
    }

    fn lock_claims(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ClaimState>> {
        self.claims.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_records(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), LineageRecord>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Ledger for MemoryLedger {
    async fn claim(&self, key: &IdempotencyKey, lease: Duration) -> Result<Claim, LedgerError> {
        let now = epoch_seconds_now();
        let mut claims = self.lock_claims();
        match claims.get(key.as_str()) {
            Some(ClaimState::Done(result)) => return Ok(Claim::Done(result.clone())),
            Some(ClaimState::InProgress { lease_until, .. }) if *lease_until >= now => {
                return Ok(Claim::InProgress {
                    lease_until: *lease_until,
                })
            }
            _ => {}
        }
        let owner = new_owner();
        claims.insert(
            key.as_str().to_string(),
            ClaimState::InProgress {
                owner: owner.clone(),
                lease_until: now + lease.as_secs() as i64,
            },
        );
        Ok(Claim::Acquired(ClaimToken {
            key: key.clone(),
            owner,
        }))
    }

    async fn complete(&self, token: &ClaimToken, result: &Value) -> Result<(), LedgerError> {
        let mut claims = self.lock_claims();
        match claims.get(token.key.as_str()) {
            Some(ClaimState::InProgress { owner, .. }) if *owner == token.owner => {
                claims.insert(
                    token.key.as_str().to_string(),
                    ClaimState::Done(result.clone()),
                );
                Ok(())
            }
            _ => Err(LedgerError::ClaimLost {
                key: token.key.to_string(),
            }),
        }
    }

    async fn release(&self, token: &ClaimToken) -> Result<(), LedgerError> {
        let mut claims = self.lock_claims();
        if let Some(ClaimState::InProgress { owner, .. }) = claims.get(token.key.as_str()) {
            if *owner == token.owner {
                claims.remove(token.key.as_str());
            }
        }
        Ok(())
    }

    async fn append(&self, record: &LineageRecord) -> Result<(), LedgerError> {
        self.lock_records()
            .entry((record.subject.partition_key(), record.sort_key()))
            .or_insert_with(|| record.clone());
        Ok(())
    }

    async fn records(&self, subject: &Subject) -> Result<Vec<LineageRecord>, LedgerError> {
        let pk = subject.partition_key();
        Ok(self
            .lock_records()
            .iter()
            .filter(|((p, _), _)| *p == pk)
            .map(|(_, r)| r.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn second_claim_sees_in_progress_then_done_result() {
        let ledger = MemoryLedger::new();
        let key = IdempotencyKey::data_build("b", "p/", "v1");
        let Claim::Acquired(token) = ledger.claim(&key, Duration::from_secs(60)).await.unwrap()
        else {
            panic!("first claim must be acquired");
        };
        assert!(matches!(
            ledger.claim(&key, Duration::from_secs(60)).await.unwrap(),
            Claim::InProgress { .. }
        ));
        ledger
            .complete(&token, &serde_json::json!({"arn": "x"}))
            .await
            .unwrap();
        assert_eq!(
            ledger.claim(&key, Duration::from_secs(60)).await.unwrap(),
            Claim::Done(serde_json::json!({"arn": "x"}))
        );
    }

    #[tokio::test]
    async fn expired_lease_is_taken_over_and_old_owner_cannot_complete() {
        let ledger = MemoryLedger::new();
        let key = IdempotencyKey::data_build("b", "p/", "v1");
        let Claim::Acquired(stale) = ledger.claim(&key, Duration::ZERO).await.unwrap() else {
            panic!("first claim must be acquired");
        };
        // A zero lease ends within the second; wait past it.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let Claim::Acquired(fresh) = ledger.claim(&key, Duration::from_secs(60)).await.unwrap()
        else {
            panic!("expired claim must be taken over");
        };
        assert!(matches!(
            ledger.complete(&stale, &Value::Null).await,
            Err(LedgerError::ClaimLost { .. })
        ));
        ledger.complete(&fresh, &Value::Null).await.unwrap();
    }

    #[tokio::test]
    async fn release_lets_the_next_attempt_claim() {
        let ledger = MemoryLedger::new();
        let key = IdempotencyKey::data_build("b", "p/", "v1");
        let Claim::Acquired(token) = ledger.claim(&key, Duration::from_secs(60)).await.unwrap()
        else {
            panic!("first claim must be acquired");
        };
        ledger.release(&token).await.unwrap();
        assert!(!ledger.has_claim(&key));
        assert!(matches!(
            ledger.claim(&key, Duration::from_secs(60)).await.unwrap(),
            Claim::Acquired(_)
        ));
    }
}
