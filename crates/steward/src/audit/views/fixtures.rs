//! The audit story (events/audit-story.json) as records, for view tests.

use serde_json::Value;

use crate::audit::AuditRecord;

pub const V2: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/2";
pub const V3: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/3";
pub const EXEC: &str =
    "arn:aws:sagemaker:us-east-1:123456789012:pipeline/payroll-fraud-train/execution/k3v9x2q7mz1a";

pub fn story() -> Vec<AuditRecord> {
    let events: Vec<Value> =
        serde_json::from_str(include_str!("../../../../../events/audit-story.json")).unwrap();
    events
        .iter()
        .map(|e| AuditRecord::from_event(e).unwrap())
        .collect()
}

/// The story delivered out of order and twice: reversed, then interleaved.
pub fn shuffled_twice() -> Vec<AuditRecord> {
    let records = story();
    let mut out: Vec<AuditRecord> = records.iter().rev().cloned().collect();
    for (i, r) in records.iter().enumerate() {
        out.insert((i * 7) % (out.len() + 1), r.clone());
    }
    out
}

pub fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().unwrap()
}

/// A gate report as request-approval writes it (`steward::gate::GateReport`).
pub fn gate_report() -> Value {
    serde_json::json!({
        "candidate": {
            "modelPackageArn": V3,
            "group": "payroll-fraud",
            "version": 3,
            "metricsUri": "s3://acme-ml-artifacts/payroll-fraud/k3v9x2q7mz1a/evaluation/evaluation.json",
            "metrics": {"auc": 0.93, "f1": 0.81}
        },
        "checks": [
            {"metric": "auc", "kind": "threshold", "value": 0.93, "bound": 0.85, "passed": true, "reason": "auc 0.93 >= 0.85"},
            {"metric": "auc", "kind": "no-regression", "value": 0.93, "championValue": 0.91, "tolerance": 0.01, "passed": true, "reason": "auc 0.93 vs champion 0.91 (tolerance 0.01)"}
        ],
        "champion": {"modelPackageArn": V2, "version": 2, "source": "prod", "metrics": {"auc": 0.91}},
        "lineage": {"pipelineExecutionArn": EXEC},
        "policyVersion": "ssm:/steward/policy:7",
        "evaluatedAt": "2026-11-23T06:48:40Z",
        "passed": true
    })
}
