//! What every store in the ledger table does the same way: attribute values,
//! DynamoDB failures as [`LedgerError`]s, and consistent single-item reads.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use super::LedgerError;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A failed DynamoDB call: an error to retry, never a verdict.
pub(crate) fn store<E>(operation: &'static str, e: E) -> LedgerError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error,
{
    LedgerError::Store {
        operation,
        message: crate::aws_error::describe(&e),
    }
}

/// One item, read consistently (every decision reads what the last write
/// left, never a stale replica); `None` when there is none.
pub(crate) async fn read_item(
    client: &Client,
    table: &str,
    pk: impl Into<String>,
    sk: impl Into<String>,
) -> Result<Option<HashMap<String, AttributeValue>>, LedgerError> {
    let out = client
        .get_item()
        .table_name(table)
        .key("PK", s(pk))
        .key("SK", s(sk))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| store("GetItem", e))?;
    Ok(out.item)
}
