//! The audit handler: any event in, one record filed under its subjects.
//!
//! No idempotency claim is needed: every item is written with a conditional
//! put keyed by the event's content, so a redelivery, a replay or a retry
//! after a partial failure writes exactly what is missing and nothing else.

use aws_config::SdkConfig;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward::audit::{AuditRecord, AuditStore, DynamoAuditStore};
use tracing::{error, info};

use crate::{AuditFunctionError, Config};

/// What audit needs, made once per cold start.
pub struct Context<S = DynamoAuditStore> {
    pub store: S,
}

impl Context<DynamoAuditStore> {
    pub fn connect(aws: &SdkConfig, config: &Config) -> Self {
        Self {
            store: DynamoAuditStore::new(aws_sdk_dynamodb::Client::new(aws), &config.ledger_table),
        }
    }
}

/// The function's response: what this delivery wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub event_id: String,
    pub detail_type: String,
    /// The record's key (same for every delivery and replay of the event).
    pub key: String,
    pub subjects: Vec<String>,
    /// Items written by this delivery (0 for a redelivery or replay).
    pub written: usize,
    pub already_recorded: usize,
}

/// The Lambda entry point: handle, and log the outcome or the typed error as
/// JSON. Errors are returned so Lambda retries, then dead-letters.
pub async fn run<S: AuditStore>(
    ctx: &Context<S>,
    payload: Value,
) -> Result<Outcome, AuditFunctionError> {
    let result = handle(ctx, payload).await;
    match &result {
        Ok(o) if o.written == 0 => info!(
            event_id = %o.event_id,
            detail_type = %o.detail_type,
            key = %o.key,
            "already recorded: nothing written"
        ),
        Ok(o) => info!(
            event_id = %o.event_id,
            detail_type = %o.detail_type,
            key = %o.key,
            written = o.written,
            subjects = ?o.subjects,
            "recorded"
        ),
        Err(e) => error!(error_type = e.error_type(), error = %e, "audit failed"),
    }
    result
}

/// Record one event.
pub async fn handle<S: AuditStore>(
    ctx: &Context<S>,
    payload: Value,
) -> Result<Outcome, AuditFunctionError> {
    let record = AuditRecord::from_event(&payload)?;
    let appended = ctx.store.append(&record).await?;
    Ok(Outcome {
        event_id: record.event_id,
        detail_type: record.detail_type,
        key: record.key,
        subjects: record.subjects.iter().map(ToString::to_string).collect(),
        written: appended.written,
        already_recorded: appended.already_recorded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use steward::audit::{all_records, AuditSubject, MemoryAuditStore, Query};

    fn sample(name: &str) -> Value {
        let text = std::fs::read_to_string(format!(
            "{}/../../events/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[tokio::test]
    async fn an_event_is_filed_under_each_subject_once() {
        let ctx = Context {
            store: MemoryAuditStore::new(),
        };
        let event = sample("model-package-pending.json");
        let first = handle(&ctx, event.clone()).await.unwrap();
        assert_eq!(first.written, 3, "{first:?}"); // model, group, execution
        let again = handle(&ctx, event.clone()).await.unwrap();
        assert_eq!((again.written, again.already_recorded), (0, 3));
        assert_eq!(again.key, first.key);
        let mut replayed = event;
        replayed["id"] = json!("a-new-id-from-the-replay");
        replayed["replay-name"] = json!("steward-replay-1");
        assert_eq!(handle(&ctx, replayed).await.unwrap().written, 0);
        assert_eq!(ctx.store.item_count(), 3);
        let model = AuditSubject::model(
            "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/3",
        );
        let records = all_records(&ctx.store, &model, &Query::default())
            .await
            .unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].event_id, "a2e8c4f6-1b3d-4a5e-9c7f-0d2b4e6a8c1f");
    }

    #[tokio::test]
    async fn every_sample_lifecycle_event_is_recorded() {
        let ctx = Context {
            store: MemoryAuditStore::new(),
        };
        for name in [
            "pipeline-execution-succeeded.json",
            "model-package-approved.json",
            "endpoint-deployment-state-change.json",
            "endpoint-state-change.json",
            "codedeploy-deployment-state-change.json",
            "alarm-state-change.json",
            "drift-detected.json",
            "build-requested.json",
        ] {
            let outcome = handle(&ctx, sample(name)).await.unwrap();
            assert!(outcome.written > 0, "{name}: {outcome:?}");
        }
    }

    #[tokio::test]
    async fn a_malformed_event_is_a_typed_error_with_no_side_effect() {
        let ctx = Context {
            store: MemoryAuditStore::new(),
        };
        let mut event = sample("alarm-state-change.json");
        event.as_object_mut().unwrap().remove("time");
        let err = run(&ctx, event).await.unwrap_err();
        assert_eq!(err.error_type(), "malformed_event");
        let err = run(&ctx, json!("not an event")).await.unwrap_err();
        assert_eq!(err.error_type(), "malformed_event");
        assert_eq!(ctx.store.item_count(), 0);
    }
}
