//! Lineage records: append-only facts about a build, a model or a group.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a record is about; it decides the partition the record lands in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "kebab-case")]
pub enum Subject {
    /// A SageMaker pipeline execution (a build), by ARN.
    Execution(String),
    /// A model package, by ARN.
    Model(String),
    /// A model package group, by name.
    Group(String),
}

impl Subject {
    pub fn partition_key(&self) -> String {
        match self {
            Subject::Execution(arn) => format!("EXEC#{arn}"),
            Subject::Model(arn) => format!("MODEL#{arn}"),
            Subject::Group(name) => format!("GROUP#{name}"),
        }
    }
}

/// One fact in a subject's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageRecord {
    pub subject: Subject,
    /// When it happened: the time of the event that caused it, not of the write,
    /// so records sort by their own time whatever order they arrive in.
    pub at: DateTime<Utc>,
    /// What happened, e.g. `build_started`.
    pub kind: String,
    /// Unique within the subject and kind: the event id or the cause's digest.
    pub id: String,
    /// Where the fact came from (`steward`, `aws.sagemaker`, …).
    pub source: String,
    pub detail: Value,
}

impl LineageRecord {
    /// The sort key: time first, so a query returns the history in order.
    pub fn sort_key(&self) -> String {
        format!(
            "{}#{}#{}",
            self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            self.kind,
            self.id
        )
    }
}
