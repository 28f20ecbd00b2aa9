//! UpdateModelPackage as AWS applies it: omitted fields keep their stored
//! values. moto 5.2 instead sets the approval status, ApprovalDescription and
//! CustomerMetadataProperties to null when omitted, and replaces the
//! additional inference specifications with null, so the twin sends moto a
//! request that states every one of them.
//!
//! Semantics (SageMaker API reference, UpdateModelPackage):
//! `CustomerMetadataProperties` adds or updates keys,
//! `CustomerMetadataPropertiesToRemove` removes keys,
//! `AdditionalInferenceSpecificationsToAdd` appends.

use serde_json::{Map, Value};

/// The request moto must receive for `request` to leave `stored` (a
/// DescribeModelPackage answer) as AWS would.
pub fn merged_update(request: &Value, stored: &Value) -> Value {
    let mut merged = request.clone();
    let Some(fields) = merged.as_object_mut() else {
        return merged;
    };
    for kept in ["ModelApprovalStatus", "ApprovalDescription"] {
        if fields.get(kept).is_none_or(Value::is_null) {
            if let Some(value) = stored.get(kept).filter(|v| !v.is_null()) {
                fields.insert(kept.into(), value.clone());
            }
        }
    }

    let mut metadata: Map<String, Value> = stored
        .get("CustomerMetadataProperties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(added) = fields
        .get("CustomerMetadataProperties")
        .and_then(Value::as_object)
    {
        metadata.extend(added.clone());
    }
    if let Some(removed) = fields
        .remove("CustomerMetadataPropertiesToRemove")
        .as_ref()
        .and_then(Value::as_array)
    {
        for key in removed.iter().filter_map(Value::as_str) {
            metadata.remove(key);
        }
    }
    // moto pops removed keys from whatever it was sent, so it needs a map
    // (possibly empty), never null.
    fields.insert("CustomerMetadataProperties".into(), Value::Object(metadata));

    // moto replaces the stored list when nothing is added; an empty addition
    // makes it append nothing instead.
    let has_additional = stored
        .get("AdditionalInferenceSpecifications")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if has_additional
        && fields
            .get("AdditionalInferenceSpecificationsToAdd")
            .is_none()
    {
        fields.insert(
            "AdditionalInferenceSpecificationsToAdd".into(),
            Value::Array(vec![]),
        );
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored() -> Value {
        json!({
            "ModelPackageArn": "arn:p/1",
            "ModelApprovalStatus": "PendingManualApproval",
            "ApprovalDescription": "gate passed",
            "CustomerMetadataProperties": {"steward:data-version": "v1", "old": "x"}
        })
    }

    #[test]
    fn omitted_fields_keep_their_stored_values() {
        let merged = merged_update(
            &json!({"ModelPackageArn": "arn:p/1", "ModelApprovalStatus": "Approved"}),
            &stored(),
        );
        assert_eq!(merged["ModelApprovalStatus"], "Approved");
        assert_eq!(merged["ApprovalDescription"], "gate passed");
        assert_eq!(
            merged["CustomerMetadataProperties"],
            json!({"steward:data-version": "v1", "old": "x"})
        );
        assert!(merged
            .get("AdditionalInferenceSpecificationsToAdd")
            .is_none());
    }

    #[test]
    fn metadata_is_added_to_and_removed_from_the_stored_map() {
        let merged = merged_update(
            &json!({
                "ModelPackageArn": "arn:p/1",
                "ApprovalDescription": "new",
                "CustomerMetadataProperties": {"new": "y"},
                "CustomerMetadataPropertiesToRemove": ["old"]
            }),
            &stored(),
        );
        assert_eq!(merged["ModelApprovalStatus"], "PendingManualApproval");
        assert_eq!(merged["ApprovalDescription"], "new");
        assert_eq!(
            merged["CustomerMetadataProperties"],
            json!({"steward:data-version": "v1", "new": "y"})
        );
        assert!(merged.get("CustomerMetadataPropertiesToRemove").is_none());
    }

    #[test]
    fn stored_additional_specifications_are_not_dropped() {
        let mut stored = stored();
        stored["AdditionalInferenceSpecifications"] = json!([{"Name": "a"}]);
        let merged = merged_update(&json!({"ModelPackageArn": "arn:p/1"}), &stored);
        assert_eq!(merged["AdditionalInferenceSpecificationsToAdd"], json!([]));
    }
}
