//! Approval requests in the ledger table.
//!
//! Keys (same table as the ledger, `PK`/`SK` strings):
//! - `APPROVAL#<token id>` / `REQUEST`: the request (JSON in `request`, with
//!   `status` beside it for conditional updates). Kept: it is part of the
//!   audit trail (who was asked, when, on which evidence).
//! - `APPROVALS#OPEN` / `<token id>`: one item per pending request, so the
//!   schedule tick lists what to remind or lapse with one query instead of a
//!   scan of the whole ledger. Deleted when the request closes; the TTL
//!   attribute removes any left behind by a crash well after expiry.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Mutex;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};

use super::request::{ApprovalRequest, RequestStatus};
use crate::ledger::item::{read_item, s, store};
use crate::ledger::LedgerError;

const REQUEST_SK: &str = "REQUEST";
/// The partition that lists open requests.
pub const OPEN_PK: &str = "APPROVALS#OPEN";
/// Open-list items outlive their request by this much before TTL removes them.
const OPEN_ITEM_GRACE_SECONDS: i64 = 30 * 24 * 3600;

/// The partition key of a request.
pub fn request_pk(token_id: &str) -> String {
    format!("APPROVAL#{token_id}")
}

/// What the approval flow needs to remember about requests.
pub trait ApprovalStore: Send + Sync {
    /// Store a new request. A request with this token id already stored is
    /// kept as it is (a retry), and returned.
    fn put(
        &self,
        request: &ApprovalRequest,
    ) -> impl Future<Output = Result<ApprovalRequest, LedgerError>> + Send;

    /// The request a token id names.
    fn get(
        &self,
        token_id: &str,
    ) -> impl Future<Output = Result<Option<ApprovalRequest>, LedgerError>> + Send;

    /// Every pending request.
    fn open(&self) -> impl Future<Output = Result<Vec<ApprovalRequest>, LedgerError>> + Send;

    /// Record the reminder, once: `false` if it was already recorded or the
    /// request is no longer pending.
    fn mark_reminded(
        &self,
        token_id: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, LedgerError>> + Send;

    /// Close a pending request as decided or lapsed: `false` if it was not
    /// pending. Either way it leaves the open list.
    fn close(
        &self,
        token_id: &str,
        status: RequestStatus,
    ) -> impl Future<Output = Result<bool, LedgerError>> + Send;
}

/// Requests on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoApprovals {
    client: Client,
    table: String,
}

impl DynamoApprovals {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn update_request(
        &self,
        token_id: &str,
        set: &str,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<bool, LedgerError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(request_pk(token_id)))
            .key("SK", s(REQUEST_SK))
            .update_expression(set)
            .condition_expression(condition)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#request", "request")
            .expression_attribute_values(":pending", s(RequestStatus::Pending.as_str()));
        for (name, value) in values {
            update = update.expression_attribute_values(*name, value.clone());
        }
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store("UpdateItem", e)),
        }
    }

    async fn list_open(
        &self,
        token_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(OPEN_PK))
            .item("SK", s(token_id))
            .item("token_id", s(token_id))
            .item(
                "expires_at",
                AttributeValue::N((expires_at.timestamp() + OPEN_ITEM_GRACE_SECONDS).to_string()),
            )
            .send()
            .await
            .map_err(|e| store("PutItem", e))?;
        Ok(())
    }

    async fn unlist(&self, token_id: &str) -> Result<(), LedgerError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(OPEN_PK))
            .key("SK", s(token_id))
            .send()
            .await
            .map_err(|e| store("DeleteItem", e))?;
        Ok(())
    }
}

impl ApprovalStore for DynamoApprovals {
    async fn put(&self, request: &ApprovalRequest) -> Result<ApprovalRequest, LedgerError> {
        let json = serde_json::to_string(request).map_err(|e| LedgerError::Corrupt {
            pk: request_pk(&request.token_id),
            sk: REQUEST_SK.into(),
            reason: e.to_string(),
        })?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(request_pk(&request.token_id)))
            .item("SK", s(REQUEST_SK))
            .item("status", s(request.status.as_str()))
            .item("model_package_arn", s(&request.model_package_arn))
            .item("request", s(json))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        let stored = match put {
            Ok(_) => request.clone(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                self.get(&request.token_id)
                    .await?
                    .ok_or_else(|| LedgerError::Store {
                        operation: "GetItem",
                        message: format!("request {} vanished", request.token_id),
                    })?
            }
            Err(e) => return Err(store("PutItem", e)),
        };
        if stored.status == RequestStatus::Pending {
            self.list_open(&stored.token_id, stored.expires_at).await?;
        }
        Ok(stored)
    }

    async fn get(&self, token_id: &str) -> Result<Option<ApprovalRequest>, LedgerError> {
        read_item(&self.client, &self.table, request_pk(token_id), REQUEST_SK)
            .await?
            .as_ref()
            .map(request_from_item)
            .transpose()
    }

    async fn open(&self) -> Result<Vec<ApprovalRequest>, LedgerError> {
        let mut token_ids = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(OPEN_PK))
                .set_exclusive_start_key(start.take())
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| store("Query", e))?;
            for item in out.items() {
                if let Some(id) = item.get("SK").and_then(|v| v.as_s().ok()) {
                    token_ids.push(id.clone());
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        let mut open = Vec::new();
        for id in token_ids {
            match self.get(&id).await? {
                Some(request) if request.status == RequestStatus::Pending => open.push(request),
                // Closed, but a crash kept it listed: finish the job.
                _ => self.unlist(&id).await?,
            }
        }
        Ok(open)
    }

    async fn mark_reminded(&self, token_id: &str, at: DateTime<Utc>) -> Result<bool, LedgerError> {
        let Some(mut request) = self.get(token_id).await? else {
            return Ok(false);
        };
        if request.reminded_at.is_some() {
            return Ok(false);
        }
        request.reminded_at = Some(at);
        let json = serde_json::to_string(&request).map_err(|e| corrupt(token_id, e))?;
        self.update_request(
            token_id,
            // Reminded once: a second tick racing this one finds it set.
            "SET #request = :request, reminded_at = :at",
            "#status = :pending AND attribute_not_exists(reminded_at)",
            &[(":request", s(json)), (":at", s(at.to_rfc3339()))],
        )
        .await
    }

    async fn close(&self, token_id: &str, status: RequestStatus) -> Result<bool, LedgerError> {
        let Some(mut request) = self.get(token_id).await? else {
            self.unlist(token_id).await?;
            return Ok(false);
        };
        request.status = status;
        let json = serde_json::to_string(&request).map_err(|e| corrupt(token_id, e))?;
        let closed = self
            .update_request(
                token_id,
                "SET #request = :request, #status = :status",
                "#status = :pending",
                &[(":request", s(json)), (":status", s(status.as_str()))],
            )
            .await?;
        self.unlist(token_id).await?;
        Ok(closed)
    }
}

fn request_from_item(
    item: &HashMap<String, AttributeValue>,
) -> Result<ApprovalRequest, LedgerError> {
    let pk = item
        .get("PK")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    let raw = item
        .get("request")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| LedgerError::Corrupt {
            pk: pk.clone(),
            sk: REQUEST_SK.into(),
            reason: "attribute `request` missing or not a string".into(),
        })?;
    serde_json::from_str(raw).map_err(|e| LedgerError::Corrupt {
        pk,
        sk: REQUEST_SK.into(),
        reason: format!("`request` is not an approval request: {e}"),
    })
}

fn corrupt(token_id: &str, e: serde_json::Error) -> LedgerError {
    LedgerError::Corrupt {
        pk: request_pk(token_id),
        sk: REQUEST_SK.into(),
        reason: e.to_string(),
    }
}

/// Requests in memory, for unit tests of handlers.
#[derive(Debug, Default)]
pub struct MemoryApprovals {
    requests: Mutex<BTreeMap<String, ApprovalRequest>>,
}

impl MemoryApprovals {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn all(&self) -> Vec<ApprovalRequest> {
        self.requests.lock().unwrap().values().cloned().collect()
    }
}

impl ApprovalStore for MemoryApprovals {
    async fn put(&self, request: &ApprovalRequest) -> Result<ApprovalRequest, LedgerError> {
        let mut requests = self.requests.lock().unwrap();
        Ok(requests
            .entry(request.token_id.clone())
            .or_insert_with(|| request.clone())
            .clone())
    }

    async fn get(&self, token_id: &str) -> Result<Option<ApprovalRequest>, LedgerError> {
        Ok(self.requests.lock().unwrap().get(token_id).cloned())
    }

    async fn open(&self) -> Result<Vec<ApprovalRequest>, LedgerError> {
        Ok(self
            .requests
            .lock()
            .unwrap()
            .values()
            .filter(|r| r.status == RequestStatus::Pending)
            .cloned()
            .collect())
    }

    async fn mark_reminded(&self, token_id: &str, at: DateTime<Utc>) -> Result<bool, LedgerError> {
        let mut requests = self.requests.lock().unwrap();
        match requests.get_mut(token_id) {
            Some(r) if r.status == RequestStatus::Pending && r.reminded_at.is_none() => {
                r.reminded_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn close(&self, token_id: &str, status: RequestStatus) -> Result<bool, LedgerError> {
        let mut requests = self.requests.lock().unwrap();
        match requests.get_mut(token_id) {
            Some(r) if r.status == RequestStatus::Pending => {
                r.status = status;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
