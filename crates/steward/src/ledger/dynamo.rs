//! The ledger on DynamoDB: conditional writes make claims and appends safe under
//! concurrent, repeated deliveries.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde_json::Value;

use super::claim::{epoch_seconds_now, new_owner};
use super::item::{n, read_item, s, store};
use super::{Claim, ClaimToken, Ledger, LedgerError, LineageRecord, Subject, CLAIM_RETENTION};
use crate::naming::IdempotencyKey;

const CLAIM_SK: &str = "CLAIM";
const IN_PROGRESS: &str = "IN_PROGRESS";
const DONE: &str = "DONE";

/// How many times a claim is re-tried when the item changes between the failed
/// conditional put and the read that explains it (e.g. a release in between).
const CLAIM_ATTEMPTS: usize = 3;

#[derive(Debug, Clone)]
pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn read_claim(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<HashMap<String, AttributeValue>>, LedgerError> {
        read_item(&self.client, &self.table, claim_pk(key), CLAIM_SK).await
    }
}

fn claim_pk(key: &IdempotencyKey) -> String {
    format!("IDEMP#{key}")
}

fn string_attr<'a>(
    item: &'a HashMap<String, AttributeValue>,
    name: &str,
) -> Result<&'a str, String> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| format!("attribute `{name}` missing or not a string"))
}

fn number_attr(item: &HashMap<String, AttributeValue>, name: &str) -> Result<i64, String> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("attribute `{name}` missing or not a number"))
}

impl Ledger for DynamoLedger {
    async fn claim(&self, key: &IdempotencyKey, lease: Duration) -> Result<Claim, LedgerError> {
        for _ in 0..CLAIM_ATTEMPTS {
            let now = epoch_seconds_now();
            let lease_until = now + lease.as_secs() as i64;
            let owner = new_owner();
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("PK", s(claim_pk(key)))
                .item("SK", s(CLAIM_SK))
                .item("key", s(key.as_str()))
                .item("state", s(IN_PROGRESS))
                .item("owner", s(&owner))
                .item("lease_until", n(lease_until))
                .item("claimed_at", n(now))
                // An abandoned claim still disappears eventually.
                .item("expires_at", n(now + CLAIM_RETENTION.as_secs() as i64))
                .condition_expression(
                    "attribute_not_exists(PK) OR (#state = :in_progress AND lease_until < :now)",
                )
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":in_progress", s(IN_PROGRESS))
                .expression_attribute_values(":now", n(now))
                .send()
                .await;
            match put {
                Ok(_) => {
                    return Ok(Claim::Acquired(ClaimToken {
                        key: key.clone(),
                        owner,
                    }))
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(store("PutItem", e)),
            }
            // Someone holds or finished the claim: read which.
            let Some(item) = self.read_claim(key).await? else {
                continue; // released in between: try again
            };
            let corrupt = |reason: String| LedgerError::Corrupt {
                pk: claim_pk(key),
                sk: CLAIM_SK.into(),
                reason,
            };
            match string_attr(&item, "state").map_err(corrupt)? {
                DONE => {
                    let raw = string_attr(&item, "result").map_err(corrupt)?;
                    let result = serde_json::from_str(raw)
                        .map_err(|e| corrupt(format!("result is not JSON: {e}")))?;
                    return Ok(Claim::Done(result));
                }
                _ => {
                    let lease_until = number_attr(&item, "lease_until").map_err(corrupt)?;
                    if lease_until >= epoch_seconds_now() {
                        return Ok(Claim::InProgress { lease_until });
                    }
                    // Lease ran out between our put and our read: try to take it over.
                }
            }
        }
        Err(LedgerError::Store {
            operation: "PutItem",
            message: format!("claim on {key} kept changing under us; retry later"),
        })
    }

    async fn complete(&self, token: &ClaimToken, result: &Value) -> Result<(), LedgerError> {
        let now = epoch_seconds_now();
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(claim_pk(&token.key)))
            .key("SK", s(CLAIM_SK))
            .update_expression(
                "SET #state = :done, #result = :result, completed_at = :now, expires_at = :expires",
            )
            .condition_expression("#owner = :owner AND #state = :in_progress")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#result", "result")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":done", s(DONE))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":result", s(result.to_string()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":expires", n(now + CLAIM_RETENTION.as_secs() as i64))
            .expression_attribute_values(":owner", s(&token.owner))
            .send()
            .await;
        match update {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(LedgerError::ClaimLost {
                    key: token.key.to_string(),
                })
            }
            Err(e) => Err(store("UpdateItem", e)),
        }
    }

    async fn release(&self, token: &ClaimToken) -> Result<(), LedgerError> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(claim_pk(&token.key)))
            .key("SK", s(CLAIM_SK))
            .condition_expression("#owner = :owner AND #state = :in_progress")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":owner", s(&token.owner))
            .send()
            .await;
        match delete {
            Ok(_) => Ok(()),
            // Already taken over by another attempt: nothing of ours to release.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(store("DeleteItem", e)),
        }
    }

    async fn append(&self, record: &LineageRecord) -> Result<(), LedgerError> {
        let subject = serde_json::to_string(&record.subject).map_err(|e| LedgerError::Corrupt {
            pk: record.subject.partition_key(),
            sk: record.sort_key(),
            reason: e.to_string(),
        })?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(record.subject.partition_key()))
            .item("SK", s(record.sort_key()))
            .item("subject", s(subject))
            .item("at", s(record.at.to_rfc3339()))
            .item("kind", s(&record.kind))
            .item("id", s(&record.id))
            .item("source", s(&record.source))
            .item("detail", s(record.detail.to_string()))
            // Append only: a record is never overwritten, a retry is a no-op.
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(store("PutItem", e)),
        }
    }

    async fn records(&self, subject: &Subject) -> Result<Vec<LineageRecord>, LedgerError> {
        let mut records = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(subject.partition_key()))
                .set_exclusive_start_key(start.take())
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| store("Query", e))?;
            for item in out.items() {
                records.push(record_from_item(subject, item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(records)
    }
}

fn record_from_item(
    subject: &Subject,
    item: &HashMap<String, AttributeValue>,
) -> Result<LineageRecord, LedgerError> {
    let sk = string_attr(item, "SK").unwrap_or_default().to_string();
    let corrupt = |reason: String| LedgerError::Corrupt {
        pk: subject.partition_key(),
        sk: sk.clone(),
        reason,
    };
    let at = string_attr(item, "at").map_err(corrupt)?;
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .map_err(|e| corrupt(format!("`at` is not RFC 3339: {e}")))?
        .with_timezone(&chrono::Utc);
    let detail = serde_json::from_str(string_attr(item, "detail").map_err(corrupt)?)
        .map_err(|e| corrupt(format!("`detail` is not JSON: {e}")))?;
    Ok(LineageRecord {
        subject: subject.clone(),
        at,
        kind: string_attr(item, "kind").map_err(corrupt)?.to_string(),
        id: string_attr(item, "id").map_err(corrupt)?.to_string(),
        source: string_attr(item, "source").map_err(corrupt)?.to_string(),
        detail,
    })
}
