//! The gate's verdict on one candidate model: every check with the values it
//! compared, the champion it was compared with, and where the model came from.
//!
//! This is the evidence an approver reads on the review page and in the email,
//! that the ledger keeps with the approval request, and that an `auto`
//! approval cites. It is plain data (serde, camelCase), so a report written
//! today still reads after the gate's code has changed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The outcome of evaluating a candidate against its group's gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateReport {
    pub candidate: Candidate,
    /// One per threshold bound, no-regression comparison and required metric,
    /// plus one for the metrics file itself when it could not be read.
    pub checks: Vec<Check>,
    /// The model the candidate was compared with; `None` for the first model
    /// of a group (no-regression checks then pass).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub champion: Option<Champion>,
    pub lineage: Lineage,
    /// The policy version that defined the gate (e.g. `ssm:/steward/policy:7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    pub evaluated_at: DateTime<Utc>,
    /// Every check passed (and there was a readable metrics file).
    pub passed: bool,
}

impl GateReport {
    /// The checks that failed, in report order.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    /// `passed` or `failed`, as events and the ledger spell it.
    pub fn outcome(&self) -> &'static str {
        if self.passed {
            "passed"
        } else {
            "failed"
        }
    }

    /// One line per failed check, for the registry's ApprovalDescription and
    /// the stewards' mail.
    pub fn failure_summary(&self) -> String {
        self.failures()
            .map(|c| c.reason.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The model package under evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub model_package_arn: String,
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// `s3://…` of the model-quality report the metrics came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_uri: Option<String>,
    /// Every metric the report holds, path → value (`…auc.value` → 0.93), so
    /// the review page can show metrics no check reads.
    #[serde(default)]
    pub metrics: std::collections::BTreeMap<String, f64>,
}

/// What a check compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// `value >= bound`.
    ThresholdMin,
    /// `value <= bound`.
    ThresholdMax,
    /// No worse than the champion beyond the tolerance.
    NoRegression,
    /// The report contains the metric.
    Required,
    /// The metrics file exists and is a model-quality report.
    MetricsReadable,
}

/// One check and the numbers it compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// Metric path, e.g. `binary_classification_metrics.auc.value`; for
    /// [`CheckKind::MetricsReadable`] the metrics file's URI (or `-`).
    pub metric: String,
    pub kind: CheckKind,
    /// The candidate's value; `None` when the report lacks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The threshold (min/max checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound: Option<f64>,
    /// The champion's value (no-regression checks with a champion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub champion_value: Option<f64>,
    /// Allowed worsening (no-regression checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// `higher` or `lower` (no-regression checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub better: Option<String>,
    pub passed: bool,
    /// For people: `binary_classification_metrics.auc.value 0.87 < min 0.90`.
    pub reason: String,
}

/// The model the candidate is compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Champion {
    pub model_package_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// Where it was found: `serving:<environment>` (the ledger) or
    /// `latest-approved` (the registry).
    pub source: String,
    /// Its metrics, path → value; empty when its report could not be read
    /// (its no-regression checks then fail: nothing proves the candidate is
    /// no worse).
    #[serde(default)]
    pub metrics: std::collections::BTreeMap<String, f64>,
}

/// Where the candidate came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lineage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_execution_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Why the build ran: `data`, `git-push`, `schedule`, `drift`, `manual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
}
