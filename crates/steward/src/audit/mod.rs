//! The audit ledger: every Steward event and every AWS lifecycle event, kept
//! whole, append only, and the views an auditor asks for, derived from them.
//!
//! Key design (the ledger table, `PK`/`SK` strings):
//! - `AUDIT#<subject>` / `<event time, RFC 3339 ms UTC>#<lifecycle rank>#<record key>`:
//!   one item per (subject, event). An event is filed under every subject it
//!   names ([`AuditSubject`]: `MODEL#<arn>`, `GROUP#<group>`,
//!   `ENV#<group>#<env>`, `ENDPOINT#<name>`, `EXEC#<execution arn>`,
//!   `CODEDEPLOY#<app>/<group>`), so each view is one query, and a query
//!   returns the subject's history in event-time order whatever order the
//!   events arrived in.
//! - `AUDIT#GROUPS` / `<group>`: the groups seen, for `steward status`.
//!
//! The record key is a digest of the event's content, not its id: a
//! redelivery and an archive replay (which gets a new id) are the same
//! record. Every write is conditional on the item's absence, so the ledger is
//! append only: nothing is ever updated in place, and a correction is a new
//! event. Items carry the event id and source, so each traces back to its
//! EventBridge event.

mod cursor;
mod derive;
mod dynamo;
mod memory;
pub mod queries;
mod record;
mod subject;
mod summary;
pub mod views;

pub use cursor::Cursor;
pub use derive::{group_of_arn, subjects_of, version_of_arn};
pub use dynamo::{item_for, DynamoAuditStore};
pub use memory::MemoryAuditStore;
pub use record::{field, lifecycle_rank, stamp, AuditRecord};
pub use subject::{AuditSubject, PARTITION_PREFIX};
pub use summary::summarize;

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::events::EventError;

/// Largest page a query asks DynamoDB for.
pub const MAX_PAGE: usize = 1000;
/// Page size when the caller names none.
pub const DEFAULT_PAGE: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("audit ledger {operation} failed: {message}")]
    Store {
        operation: &'static str,
        message: String,
    },
    #[error("audit item {pk}/{sk} is malformed: {reason}")]
    Corrupt {
        pk: String,
        sk: String,
        reason: String,
    },
    #[error("the page cursor is not one this ledger handed out")]
    InvalidCursor,
}

impl AuditError {
    pub fn error_type(&self) -> &'static str {
        match self {
            AuditError::Event(e) => e.error_type(),
            AuditError::Store { .. } => "ledger_unavailable",
            AuditError::Corrupt { .. } => "ledger_corrupt",
            AuditError::InvalidCursor => "invalid_cursor",
        }
    }
}

/// What one append did: items written, and items that were already there
/// (a redelivery or replay writes none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Appended {
    pub written: usize,
    pub already_recorded: usize,
}

/// Which records of a subject, and how many at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Events at or before this time.
    pub until: Option<DateTime<Utc>>,
    pub newest_first: bool,
    /// Page size (at most [`MAX_PAGE`]; 0 means [`DEFAULT_PAGE`]).
    pub limit: usize,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
}

impl Query {
    pub fn page_size(&self) -> usize {
        match self.limit {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        }
    }

    /// The sort-key range the time bounds give (inclusive).
    fn sk_bounds(&self) -> (Option<String>, Option<String>) {
        (
            self.since.map(stamp),
            // `~` sorts after every character a sort key holds after the time.
            self.until.map(|u| format!("{}#~", stamp(u))),
        )
    }
}

/// One page of a subject's records, and where the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub records: Vec<AuditRecord>,
    pub next: Option<Cursor>,
}

/// Where audit records are kept.
pub trait AuditStore: Send + Sync {
    /// File a record under each of its subjects (and its groups in the
    /// catalog). Writing it again writes nothing.
    fn append(
        &self,
        record: &AuditRecord,
    ) -> impl Future<Output = Result<Appended, AuditError>> + Send;

    /// One page of a subject's records, in event-time order.
    fn page(
        &self,
        subject: &AuditSubject,
        query: &Query,
    ) -> impl Future<Output = Result<Page, AuditError>> + Send;

    /// The groups that have records, by name.
    fn groups(&self) -> impl Future<Output = Result<Vec<String>, AuditError>> + Send;
}

/// Every record of a subject matching `query`'s time bounds, following pages.
pub async fn all_records<S: AuditStore>(
    store: &S,
    subject: &AuditSubject,
    query: &Query,
) -> Result<Vec<AuditRecord>, AuditError> {
    let mut query = Query {
        limit: MAX_PAGE,
        ..query.clone()
    };
    let mut records = Vec::new();
    loop {
        let page = store.page(subject, &query).await?;
        records.extend(page.records);
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => return Ok(records),
        }
    }
}
