//! The DynamoDB ledger against the emulator: claims and lineage records.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::json;
use steward::ledger::{Claim, DynamoLedger, Ledger, LedgerError, LineageRecord, Subject};
use steward::naming::IdempotencyKey;
use steward_tests::{Local, EXAMPLE_POLICY};

async fn ledger() -> (Local, DynamoLedger) {
    let local = Local::start(EXAMPLE_POLICY).await;
    let ledger = DynamoLedger::new(
        aws_sdk_dynamodb::Client::new(&local.sdk),
        &local.stack.spec.ledger_table,
    );
    (local, ledger)
}

fn key(n: &str) -> IdempotencyKey {
    IdempotencyKey::data_build("acme-ml-data", "p/", n)
}

#[tokio::test]
async fn a_claim_is_acquired_once_then_in_progress_then_done_with_its_result() {
    let (_local, ledger) = ledger().await;
    let lease = Duration::from_secs(60);
    let Claim::Acquired(token) = ledger.claim(&key("a"), lease).await.unwrap() else {
        panic!("the first claim is acquired");
    };
    assert!(matches!(
        ledger.claim(&key("a"), lease).await.unwrap(),
        Claim::InProgress { .. }
    ));
    // Another cause is independent.
    assert!(matches!(
        ledger.claim(&key("b"), lease).await.unwrap(),
        Claim::Acquired(_)
    ));
    ledger
        .complete(&token, &json!({"pipelineExecutionArn": "arn:x"}))
        .await
        .unwrap();
    assert_eq!(
        ledger.claim(&key("a"), lease).await.unwrap(),
        Claim::Done(json!({"pipelineExecutionArn": "arn:x"}))
    );
}

#[tokio::test]
async fn an_expired_claim_is_taken_over_and_the_stale_owner_cannot_complete_it() {
    let (_local, ledger) = ledger().await;
    let Claim::Acquired(stale) = ledger.claim(&key("a"), Duration::ZERO).await.unwrap() else {
        panic!("the first claim is acquired");
    };
    // The lease is in whole seconds: wait until it is in the past.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let Claim::Acquired(fresh) = ledger
        .claim(&key("a"), Duration::from_secs(60))
        .await
        .unwrap()
    else {
        panic!("an expired claim is taken over");
    };
    assert!(matches!(
        ledger.complete(&stale, &json!(1)).await,
        Err(LedgerError::ClaimLost { .. })
    ));
    // The stale owner's release does not free the new owner's claim.
    ledger.release(&stale).await.unwrap();
    assert!(matches!(
        ledger
            .claim(&key("a"), Duration::from_secs(60))
            .await
            .unwrap(),
        Claim::InProgress { .. }
    ));
    ledger.complete(&fresh, &json!(2)).await.unwrap();
    assert_eq!(
        ledger
            .claim(&key("a"), Duration::from_secs(60))
            .await
            .unwrap(),
        Claim::Done(json!(2))
    );
}

#[tokio::test]
async fn a_released_claim_can_be_acquired_again() {
    let (local, ledger) = ledger().await;
    let Claim::Acquired(token) = ledger
        .claim(&key("a"), Duration::from_secs(60))
        .await
        .unwrap()
    else {
        panic!("the first claim is acquired");
    };
    ledger.release(&token).await.unwrap();
    assert_eq!(local.ledger_items().await, 0);
    assert!(matches!(
        ledger
            .claim(&key("a"), Duration::from_secs(60))
            .await
            .unwrap(),
        Claim::Acquired(_)
    ));
}

#[tokio::test]
async fn records_are_append_only_and_read_back_in_their_own_time_order() {
    let (_local, ledger) = ledger().await;
    let subject = Subject::Model("arn:aws:sagemaker:us-east-1:1:model-package/g/1".into());
    let record = |minute: u32, kind: &str, note: &str| LineageRecord {
        subject: subject.clone(),
        at: Utc.with_ymd_and_hms(2026, 11, 24, 6, minute, 0).unwrap(),
        kind: kind.into(),
        id: format!("{kind}-{minute}"),
        source: "steward".into(),
        detail: json!({ "note": note }),
    };
    // Arrive out of order; one is delivered twice with different content.
    ledger
        .append(&record(30, "deployed", "second"))
        .await
        .unwrap();
    ledger
        .append(&record(10, "registered", "first"))
        .await
        .unwrap();
    ledger
        .append(&record(30, "deployed", "a retry must not overwrite"))
        .await
        .unwrap();
    ledger
        .append(&record(45, "rolled_back", "third"))
        .await
        .unwrap();
    let records = ledger.records(&subject).await.unwrap();
    let seen: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r.kind.as_str(), r.detail["note"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("registered", "first"),
            ("deployed", "second"),
            ("rolled_back", "third")
        ]
    );
    assert!(ledger
        .records(&Subject::Model("arn:other".into()))
        .await
        .unwrap()
        .is_empty());
}
