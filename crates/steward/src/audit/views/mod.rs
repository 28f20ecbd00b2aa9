//! What an auditor asks, answered from records alone. Pure functions: they
//! take records in any order (and with repeats) and give the same answer.

pub mod lineage;
pub mod pending;
pub mod status;
pub mod suppressed;
pub mod timeline;

pub use lineage::Lineage;
pub use pending::{pending_approvals, PendingApproval};
pub use status::{EnvironmentStatus, GroupStatus, LastBuild};
pub use suppressed::{suppressed_triggers, SuppressedTrigger};
pub use timeline::{served_at, served_timeline, Rollout, Served, ServedAt};

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AuditRecord;

/// Records in event-time (then lifecycle) order, each once.
pub fn ordered<'a>(records: impl IntoIterator<Item = &'a AuditRecord>) -> Vec<&'a AuditRecord> {
    let unique: BTreeMap<String, &AuditRecord> =
        records.into_iter().map(|r| (r.sort_key(), r)).collect();
    unique.into_values().collect()
}

/// One line of a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub detail_type: String,
    pub source: String,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub event_id: String,
}

impl From<&AuditRecord> for Entry {
    fn from(r: &AuditRecord) -> Self {
        Entry {
            at: r.at,
            detail_type: r.detail_type.clone(),
            source: r.source.clone(),
            summary: r.summary.clone(),
            environment: r.environment().map(String::from),
            event_id: r.event_id.clone(),
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
