//! The audit store on the ledger table: conditional puts (append only) and
//! paged queries.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use chrono::Utc;

use super::{
    stamp, Appended, AuditError, AuditRecord, AuditStore, AuditSubject, Cursor, Page, Query,
    PARTITION_PREFIX,
};

/// The partition listing every group seen.
const GROUPS_PK: &str = "AUDIT#GROUPS";

#[derive(Debug, Clone)]
pub struct DynamoAuditStore {
    client: Client,
    table: String,
}

impl DynamoAuditStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Put an item unless one with its key exists; `true` if it was written.
    async fn put_new(&self, item: HashMap<String, AttributeValue>) -> Result<bool, AuditError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store("PutItem", e)),
        }
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn store<E>(operation: &'static str, e: E) -> AuditError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error,
{
    AuditError::Store {
        operation,
        message: crate::aws_error::describe(&e),
    }
}

/// The item that files `record` under `subject` (public so bulk loaders and
/// tests can write with BatchWriteItem in the same format).
pub fn item_for(record: &AuditRecord, subject: &AuditSubject) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("PK".to_string(), s(subject.partition_key())),
        ("SK".to_string(), s(record.sort_key())),
        ("key".to_string(), s(&record.key)),
        ("eventId".to_string(), s(&record.event_id)),
        ("source".to_string(), s(&record.source)),
        ("detailType".to_string(), s(&record.detail_type)),
        ("at".to_string(), s(stamp(record.at))),
        ("subjects".to_string(), s(json(&record.subjects))),
        ("summary".to_string(), s(&record.summary)),
        ("detail".to_string(), s(record.detail.to_string())),
        ("recordedAt".to_string(), s(stamp(Utc::now()))),
    ]);
    if !record.resources.is_empty() {
        item.insert("resources".into(), s(json(&record.resources)));
    }
    if let Some(replay) = &record.replay_name {
        item.insert("replayName".into(), s(replay));
    }
    item
}

/// JSON text of a list of strings or subjects, which always serializes.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

fn record_from_item(item: &HashMap<String, AttributeValue>) -> Result<AuditRecord, AuditError> {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
    };
    let corrupt = |reason: String| AuditError::Corrupt {
        pk: text("PK").unwrap_or_default().to_string(),
        sk: text("SK").unwrap_or_default().to_string(),
        reason,
    };
    let required = |name: &str| {
        text(name).ok_or_else(|| corrupt(format!("attribute `{name}` missing or not a string")))
    };
    let parse_json = |name: &str, raw: &str| -> Result<serde_json::Value, AuditError> {
        serde_json::from_str(raw).map_err(|e| corrupt(format!("`{name}` is not JSON: {e}")))
    };
    let at = chrono::DateTime::parse_from_rfc3339(required("at")?)
        .map_err(|e| corrupt(format!("`at` is not RFC 3339: {e}")))?
        .with_timezone(&Utc);
    let subjects = serde_json::from_value(parse_json("subjects", required("subjects")?)?)
        .map_err(|e| corrupt(format!("`subjects` unreadable: {e}")))?;
    let resources = match text("resources") {
        Some(raw) => serde_json::from_value(parse_json("resources", raw)?)
            .map_err(|e| corrupt(format!("`resources` unreadable: {e}")))?,
        None => vec![],
    };
    Ok(AuditRecord {
        key: required("key")?.to_string(),
        event_id: required("eventId")?.to_string(),
        source: required("source")?.to_string(),
        detail_type: required("detailType")?.to_string(),
        at,
        subjects,
        summary: required("summary")?.to_string(),
        resources,
        replay_name: text("replayName").map(String::from),
        detail: parse_json("detail", required("detail")?)?,
    })
}

impl AuditStore for DynamoAuditStore {
    async fn append(&self, record: &AuditRecord) -> Result<Appended, AuditError> {
        let mut appended = Appended::default();
        // Each put is conditional on its own, so a retry after a partial
        // failure writes only what is missing.
        for subject in &record.subjects {
            if self.put_new(item_for(record, subject)).await? {
                appended.written += 1;
            } else {
                appended.already_recorded += 1;
            }
            if let AuditSubject::Group { name } = subject {
                self.put_new(HashMap::from([
                    ("PK".to_string(), s(GROUPS_PK)),
                    ("SK".to_string(), s(name)),
                    ("firstSeenAt".to_string(), s(stamp(record.at))),
                ]))
                .await?;
            }
        }
        Ok(appended)
    }

    async fn page(&self, subject: &AuditSubject, query: &Query) -> Result<Page, AuditError> {
        let pk = subject.partition_key();
        debug_assert!(pk.starts_with(PARTITION_PREFIX));
        let (from, to) = query.sk_bounds();
        let condition = match (&from, &to) {
            (None, None) => "PK = :pk",
            (Some(_), None) => "PK = :pk AND SK >= :from",
            (None, Some(_)) => "PK = :pk AND SK <= :to",
            (Some(_), Some(_)) => "PK = :pk AND SK BETWEEN :from AND :to",
        };
        let size = query.page_size();
        let start = query.cursor.as_ref().map(|c| {
            HashMap::from([
                ("PK".to_string(), s(&pk)),
                ("SK".to_string(), s(c.last_sort_key())),
            ])
        });
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .set_expression_attribute_values(Some(
                [(":pk", Some(pk.clone())), (":from", from), (":to", to)]
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k.to_string(), s(v))))
                    .collect(),
            ))
            .scan_index_forward(!query.newest_first)
            .set_exclusive_start_key(start)
            // One more than a page tells whether another page exists, so the
            // last page never hands out a cursor to an empty one.
            .limit(size as i32 + 1)
            .send()
            .await
            .map_err(|e| store("Query", e))?;
        let items = out.items();
        let more = items.len() > size || {
            // DynamoDB may stop early (1 MB); then its own key says where.
            items.len() <= size
                && out
                    .last_evaluated_key
                    .as_ref()
                    .is_some_and(|k| !k.is_empty())
        };
        let records = items
            .iter()
            .take(size)
            .map(record_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if more {
            items[..items.len().min(size)]
                .last()
                .and_then(|item| item.get("SK"))
                .and_then(|v| v.as_s().ok())
                .map(|sk| Cursor::after(sk.as_str()))
        } else {
            None
        };
        Ok(Page { records, next })
    }

    async fn groups(&self) -> Result<Vec<String>, AuditError> {
        let mut groups = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(GROUPS_PK))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store("Query", e))?;
            groups.extend(
                out.items()
                    .iter()
                    .filter_map(|i| i.get("SK").and_then(|v| v.as_s().ok()).cloned()),
            );
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(groups),
            }
        }
    }
}
