//! `Drift Detected` as monitor-drift publishes it: the fields start-build reads
//! (`endpointName`, `modelPackageGroup`, `window`; see
//! `steward::build::DriftDetected`) plus what a person wants to see: which
//! features drifted, their scores, and the window's size.

use serde::{Deserialize, Serialize};
use steward::events::steward::{Header, StewardDetail};
use steward_drift::FeatureDrift;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftFound {
    #[serde(flatten)]
    pub header: Header,
    pub endpoint_name: String,
    /// `start/end`, RFC 3339 (names the finding: one retrain per window).
    pub window: String,
    pub drifted_features: Vec<String>,
    /// Every feature's scores, drifted or not.
    pub features: Vec<FeatureDrift>,
    pub rows: u64,
    pub corrupt_lines: u64,
    /// The baseline the window was compared with.
    pub baseline: String,
}

impl StewardDetail for DriftFound {
    const DETAIL_TYPE: &'static str = steward::build::DRIFT_DETECTED;
    fn header(&self) -> &Header {
        &self.header
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward::naming::IdempotencyKey;

    #[test]
    fn start_build_reads_what_we_publish() {
        let found = DriftFound {
            header: Header {
                model_package_group: "payroll-fraud".into(),
                model_package_arn: None,
                environment: Some("prod".into()),
                correlation_id: "stw-1".into(),
                cause: IdempotencyKey::new("drift/payroll-fraud-prod@w"),
                policy_version: Some("ssm:/steward/policy:1".into()),
            },
            endpoint_name: "payroll-fraud-prod".into(),
            window: "2026-11-24T03:00:00Z/2026-11-24T04:00:00Z".into(),
            drifted_features: vec!["amount".into()],
            features: vec![],
            rows: 1000,
            corrupt_lines: 0,
            baseline: "s3://acme-ml-artifacts/payroll-fraud/baseline.json".into(),
        };
        let json = serde_json::to_value(&found).unwrap();
        let read: steward::build::DriftDetected = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(read.endpoint_name, "payroll-fraud-prod");
        assert_eq!(read.model_package_group.as_deref(), Some("payroll-fraud"));
        assert_eq!(read.window.as_deref(), Some(found.window.as_str()));
        assert_eq!(json["driftedFeatures"][0], "amount");
        assert_eq!(DriftFound::DETAIL_TYPE, "Drift Detected");
        assert!(found.resources().is_empty());
    }
}
