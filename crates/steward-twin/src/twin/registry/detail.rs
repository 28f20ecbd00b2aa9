//! The detail of `SageMaker Model Package State Change`, made from what
//! DescribeModelPackage returns.
//!
//! Shape: the SageMaker guide's "Model package state change" example and a
//! captured event (aws-samples/amazon-sagemaker-drift-detection), as recorded
//! in `events/model-package-pending.json`: the DescribeModelPackage fields,
//! PascalCase, with `ModelPackageName` = `group/version`, `CreationTime` and
//! `LastModifiedTime` as epoch milliseconds, and no `CreatedBy`/`LastModifiedBy`.

use serde_json::{Map, Value};

/// Fields of DescribeModelPackage the event does not carry.
const NOT_IN_EVENT: [&str; 2] = ["CreatedBy", "LastModifiedBy"];

/// The event detail for a package as DescribeModelPackage (awsJson: times in
/// epoch seconds) describes it.
pub fn state_change_detail(described: &Value) -> Value {
    let mut detail: Map<String, Value> = described
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| !v.is_null() && !NOT_IN_EVENT.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for field in ["CreationTime", "LastModifiedTime"] {
        if let Some(millis) = detail.get(field).and_then(epoch_millis) {
            detail.insert(field.into(), millis.into());
        }
    }
    // A package never updated has no LastModifiedTime in the API; the event
    // has one, equal to the creation time.
    if !detail.contains_key("LastModifiedTime") {
        if let Some(created) = detail.get("CreationTime").cloned() {
            detail.insert("LastModifiedTime".into(), created);
        }
    }
    clear_unrun_checks(&mut detail);
    if !detail.contains_key("ModelPackageName") {
        let group = detail.get("ModelPackageGroupName").and_then(Value::as_str);
        let version = detail.get("ModelPackageVersion").and_then(Value::as_u64);
        if let (Some(group), Some(version)) = (group, version) {
            detail.insert(
                "ModelPackageName".into(),
                format!("{group}/{version}").into(),
            );
        }
    }
    Value::Object(detail)
}

/// moto reports a `Completed` validation and image scan for every package;
/// SageMaker validates only a package with a `ValidationSpecification` and
/// scans images only for AWS Marketplace (`CertifyForMarketplace`), so a
/// package registered by a pipeline has both lists empty, as in the guide's
/// example (API reference: DescribeModelPackage, `ModelPackageStatusDetails`).
fn clear_unrun_checks(detail: &mut Map<String, Value>) {
    let validated = detail.contains_key("ValidationSpecification");
    let scanned = detail.get("CertifyForMarketplace") == Some(&Value::Bool(true));
    if let Some(Value::Object(status)) = detail.get_mut("ModelPackageStatusDetails") {
        for (list, ran) in [
            ("ValidationStatuses", validated),
            ("ImageScanStatuses", scanned),
        ] {
            if !ran {
                status.insert(list.into(), Value::Array(Vec::new()));
            }
        }
    }
}

/// awsJson timestamps are epoch seconds (moto writes `1795499852.152`);
/// SageMaker events carry epoch milliseconds.
fn epoch_millis(time: &Value) -> Option<i64> {
    match time {
        Value::Number(n) => n.as_f64().map(|secs| (secs * 1000.0).round() as i64),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp_millis()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use steward::events::sagemaker::{ApprovalStatus, ModelPackageStateChange};

    /// DescribeModelPackage as moto 5.2 answers it (captured).
    fn described() -> Value {
        json!({
            "ModelPackageGroupName": "g1",
            "ModelPackageVersion": 1,
            "ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/g1/1",
            "CreationTime": 1795499852.152,
            "InferenceSpecification": {"Containers": [{"Image": "img", "ModelDataUrl": "s3://b/model.json"}],
                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["application/json"]},
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
            "CertifyForMarketplace": false,
            "ModelApprovalStatus": "PendingManualApproval",
            "CreatedBy": {"UserProfileName": "fake-user-profile-name"},
            "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/eval.json"}}},
            "CustomerMetadataProperties": null
        })
    }

    #[test]
    fn detail_decodes_as_the_domain_type_with_times_in_millis() {
        let detail = state_change_detail(&described());
        assert_eq!(detail["CreationTime"], 1795499852152_i64);
        assert_eq!(detail["LastModifiedTime"], 1795499852152_i64);
        assert_eq!(detail["ModelPackageName"], "g1/1");
        assert!(detail.get("CreatedBy").is_none());
        assert!(detail.get("CustomerMetadataProperties").is_none());
        let event: ModelPackageStateChange = serde_json::from_value(detail).unwrap();
        assert_eq!(event.model_package_version, Some(1));
        assert_eq!(
            event.model_approval_status,
            Some(ApprovalStatus::PendingManualApproval)
        );
        assert_eq!(event.quality_report().unwrap().s3_uri, "s3://b/eval.json");
        assert_eq!(event.model_data_url(), Some("s3://b/model.json"));
    }
}
