//! Which subjects an event belongs to, read from well-known fields wherever
//! they appear, so a detail-type added later (or by another team) is filed
//! under its model, group, environment and endpoint without a change here.

use std::collections::BTreeSet;

use serde_json::Value;

use super::record::field;
use super::AuditSubject;

/// Fields that name a model package ARN: Steward's header, SageMaker's
/// PascalCase detail, the gate report's candidate.
const MODEL_ARN: &[&str] = &[
    "modelPackageArn",
    "ModelPackageArn",
    "candidate.modelPackageArn",
];
const GROUP: &[&str] = &[
    "modelPackageGroup",
    "ModelPackageGroupName",
    "candidate.group",
];
const EXECUTION_ARN: &[&str] = &[
    "pipelineExecutionArn",
    "PipelineExecutionArn",
    "lineage.pipelineExecutionArn",
    "MetadataProperties.GeneratedBy",
];
const ENDPOINT: &[&str] = &["endpointName", "EndpointName", "endpoint"];

/// The subjects of an event's detail, sorted and without repeats.
pub fn subjects_of(detail_type: &str, detail: &Value) -> Vec<AuditSubject> {
    let mut subjects = BTreeSet::new();
    let first = |paths: &[&str]| {
        paths
            .iter()
            .find_map(|p| field(detail, p).and_then(Value::as_str))
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    let model = first(MODEL_ARN);
    let group = first(GROUP).or_else(|| model.as_deref().and_then(group_of_arn));
    if let Some(arn) = &model {
        subjects.insert(AuditSubject::model(arn));
    }
    if let Some(group) = &group {
        subjects.insert(AuditSubject::group(group));
        if let Some(env) = field(detail, "environment").and_then(Value::as_str) {
            subjects.insert(AuditSubject::environment(group, env));
        }
    }
    // `GeneratedBy` is usually, not always, an execution ARN.
    if let Some(arn) = first(EXECUTION_ARN).filter(|a| a.contains("/execution/")) {
        subjects.insert(AuditSubject::execution(arn));
    }
    if let Some(name) = first(ENDPOINT) {
        subjects.insert(AuditSubject::endpoint(name));
    }
    // Deployment Started names its target `endpoint <name>` (or `lambda …`).
    if let Some(name) = field(detail, "target")
        .and_then(Value::as_str)
        .and_then(|t| t.strip_prefix("endpoint "))
    {
        subjects.insert(AuditSubject::endpoint(name.trim()));
    }
    if detail_type == "CloudWatch Alarm State Change" {
        // The endpoint an alarm watches, from its metrics' dimensions.
        let metrics = field(detail, "configuration.metrics").and_then(Value::as_array);
        for metric in metrics.into_iter().flatten() {
            if let Some(name) =
                field(metric, "metricStat.metric.dimensions.EndpointName").and_then(Value::as_str)
            {
                subjects.insert(AuditSubject::endpoint(name));
            }
        }
    }
    if let (Some(app), Some(dg)) = (
        field(detail, "application").and_then(Value::as_str),
        field(detail, "deploymentGroup").and_then(Value::as_str),
    ) {
        subjects.insert(AuditSubject::DeploymentGroup {
            name: format!("{app}/{dg}"),
        });
    }
    if subjects.is_empty() {
        subjects.insert(AuditSubject::Unfiled {
            detail_type: detail_type.to_string(),
        });
    }
    subjects.into_iter().collect()
}

/// `arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>` → group.
pub fn group_of_arn(arn: &str) -> Option<String> {
    let (_, resource) = arn.split_once(":model-package/")?;
    let (group, version) = resource.rsplit_once('/')?;
    (!group.is_empty() && version.parse::<u32>().is_ok()).then(|| group.to_string())
}

/// The version of a versioned model package ARN.
pub fn version_of_arn(arn: &str) -> Option<u32> {
    arn.rsplit_once('/')?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:sagemaker:us-east-1:1:model-package/payroll-fraud/3";
    const EXEC: &str = "arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/x";

    #[test]
    fn steward_header_names_model_group_and_environment() {
        let subjects = subjects_of(
            "Deployment Started",
            &json!({
                "modelPackageGroup": "payroll-fraud",
                "modelPackageArn": ARN,
                "environment": "prod",
                "target": "endpoint payroll-fraud-prod"
            }),
        );
        assert_eq!(
            subjects,
            [
                AuditSubject::model(ARN),
                AuditSubject::group("payroll-fraud"),
                AuditSubject::environment("payroll-fraud", "prod"),
                AuditSubject::endpoint("payroll-fraud-prod"),
            ]
        );
    }

    #[test]
    fn model_package_event_names_its_build() {
        let subjects = subjects_of(
            "SageMaker Model Package State Change",
            &json!({
                "ModelPackageGroupName": "payroll-fraud",
                "ModelPackageArn": ARN,
                "MetadataProperties": {"GeneratedBy": EXEC}
            }),
        );
        assert!(subjects.contains(&AuditSubject::execution(EXEC)));
        assert!(subjects.contains(&AuditSubject::model(ARN)));
    }

    #[test]
    fn alarm_is_filed_under_the_endpoint_it_watches() {
        let event: Value =
            serde_json::from_str(include_str!("../../../../events/alarm-state-change.json"))
                .unwrap();
        assert_eq!(
            subjects_of("CloudWatch Alarm State Change", &event["detail"]),
            [AuditSubject::endpoint("payroll-fraud-prod")]
        );
    }

    #[test]
    fn unknown_detail_types_are_filed_by_their_well_known_fields() {
        let subjects = subjects_of("Something New", &json!({"modelPackageArn": ARN}));
        assert_eq!(
            subjects,
            [
                AuditSubject::model(ARN),
                AuditSubject::group("payroll-fraud")
            ]
        );
        assert_eq!(
            subjects_of("Something New", &json!({"x": 1})),
            [AuditSubject::Unfiled {
                detail_type: "Something New".into()
            }]
        );
    }

    #[test]
    fn arns_give_group_and_version() {
        assert_eq!(group_of_arn(ARN).as_deref(), Some("payroll-fraud"));
        assert_eq!(version_of_arn(ARN), Some(3));
        assert_eq!(
            group_of_arn("arn:aws:sagemaker:r:1:model-package/unversioned"),
            None
        );
    }
}
