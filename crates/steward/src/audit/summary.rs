//! One line per event, for tables and timelines. Reads fields leniently: a
//! missing field shows as `?`, never fails the record.

use serde_json::Value;

use super::record::field;

/// Longest summary kept; the detail holds the rest.
const MAX_CHARS: usize = 240;

pub fn summarize(source: &str, detail_type: &str, detail: &Value) -> String {
    let s = |path: &str| -> String {
        match field(detail, path) {
            Some(Value::String(v)) => v.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => "?".into(),
        }
    };
    let opt = |path: &str| field(detail, path).and_then(Value::as_str);
    let model = || {
        opt("modelPackageArn")
            .and_then(|a| a.split_once(":model-package/").map(|(_, r)| r.to_string()))
            .unwrap_or_else(|| s("modelPackageGroup"))
    };
    let line = match detail_type {
        "Build Started" => format!(
            "build of {} started ({}): {}{}",
            s("modelPackageGroup"),
            s("trigger"),
            last_segment(&s("pipelineExecutionArn")),
            opt("data.uri")
                .map(|u| format!(" on {u}"))
                .unwrap_or_default()
        ),
        "SageMaker Model Building Pipeline Execution Status Change" => format!(
            "pipeline execution {} {}{}",
            last_segment(&s("pipelineExecutionArn")),
            opt("previousPipelineExecutionStatus")
                .map(|p| format!("{p} -> "))
                .unwrap_or_default(),
            s("currentPipelineExecutionStatus")
        ),
        "SageMaker Model Package State Change" => format!(
            "model package {} {}{}",
            opt("ModelPackageName")
                .map(String::from)
                .unwrap_or_else(|| s("ModelPackageArn")),
            s("ModelApprovalStatus"),
            opt("ApprovalDescription")
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        ),
        "Gate Evaluated" => {
            let passed = field(detail, "passed")
                .and_then(Value::as_bool)
                .or_else(|| {
                    field(detail, "outcome")
                        .and_then(Value::as_str)
                        .map(|o| o == "passed")
                });
            let checks = match field(detail, "checks") {
                Some(Value::Array(list)) => list.len() as u64,
                Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
                _ => 0,
            };
            format!(
                "gate {} for {} ({checks} checks)",
                match passed {
                    Some(true) => "passed",
                    Some(false) => "failed",
                    None => "evaluated",
                },
                model()
            )
        }
        "Approval Requested" => format!(
            "approval of {} for {} requested{}",
            model(),
            s("environment"),
            approvers(detail)
                .map(|a| format!(" of {a}"))
                .unwrap_or_default()
        ),
        "Approval Decided" => format!(
            "{} {} for {} by {} via {}{}",
            model(),
            s("decision"),
            s("environment"),
            s("approver"),
            s("channel"),
            opt("comment").map(|c| format!(": {c}")).unwrap_or_default()
        ),
        "Deployment Started" => format!(
            "deploying {} to {} ({}, {})",
            model(),
            s("environment"),
            s("trafficRouting"),
            s("target")
        ),
        "Deployment Succeeded" => format!(
            "{} live in {} ({})",
            model(),
            s("environment"),
            s("endpointConfig")
        ),
        "Deployment Failed" => format!(
            "deployment of {} to {} failed: {}",
            model(),
            s("environment"),
            s("reason")
        ),
        "Promotion Requested" => format!(
            "promotion of {} from {} to {} requested",
            model(),
            s("fromEnvironment"),
            s("environment")
        ),
        "Rollback Started" | "Rollback Completed" => format!(
            "{} {} in {} ({}): {}",
            if detail_type == "Rollback Started" {
                "rolling back"
            } else {
                "rolled back"
            },
            model(),
            s("environment"),
            match field(detail, "automatic").and_then(Value::as_bool) {
                Some(true) => "automatic",
                Some(false) => "by steward",
                None => "?",
            },
            s("reason")
        ),
        "Drift Detected" => format!(
            "drift on {} ({}){}",
            s("endpointName"),
            s("modelPackageGroup"),
            opt("window")
                .map(|w| format!(" in {w}"))
                .unwrap_or_default()
        ),
        "CloudWatch Alarm State Change" => format!(
            "alarm {} {} -> {}: {}",
            s("alarmName"),
            s("previousState.value"),
            s("state.value"),
            s("state.reason")
        ),
        "SageMaker Endpoint Deployment State Change" | "SageMaker Endpoint State Change" => {
            format!(
                "endpoint {} {} (live {}{})",
                s("EndpointName"),
                s("EndpointStatus"),
                s("EndpointConfigName"),
                opt("PendingDeploymentSummary.EndpointConfigName")
                    .map(|c| format!(", rolling out {c}"))
                    .unwrap_or_default()
            )
        }
        "CodeDeploy Deployment State-change Notification" => format!(
            "CodeDeploy {}/{} deployment {} {}",
            s("application"),
            s("deploymentGroup"),
            s("deploymentId"),
            s("state")
        ),
        other => format!("{other} ({source})"),
    };
    truncate(line)
}

/// `approver`, or the `approvers` list joined.
pub(crate) fn approvers(detail: &Value) -> Option<String> {
    if let Some(one) = field(detail, "approver").and_then(Value::as_str) {
        return Some(one.to_string());
    }
    let list: Vec<&str> = field(detail, "approvers")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (!list.is_empty()).then(|| list.join(", "))
}

fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn truncate(line: String) -> String {
    if line.chars().count() <= MAX_CHARS {
        return line;
    }
    let mut cut: String = line.chars().take(MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(name: &str) -> Value {
        let text = std::fs::read_to_string(format!(
            "{}/../../events/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn of(event: &Value) -> String {
        summarize(
            event["source"].as_str().unwrap(),
            event["detail-type"].as_str().unwrap(),
            &event["detail"],
        )
    }

    #[test]
    fn aws_lifecycle_events_read_as_one_line() {
        assert_eq!(
            of(&sample("pipeline-execution-succeeded.json")),
            "pipeline execution k3v9x2q7mz1a Executing -> Succeeded"
        );
        assert_eq!(
            of(&sample("model-package-pending.json")),
            "model package payroll-fraud/3 PendingManualApproval"
        );
        assert!(of(&sample("alarm-state-change.json"))
            .starts_with("alarm payroll-fraud-prod-5xx OK -> ALARM: Threshold Crossed"));
        assert_eq!(
            of(&sample("endpoint-deployment-state-change.json")),
            "endpoint payroll-fraud-prod UPDATING (live payroll-fraud-prod-v2-5c1e9a7d, rolling out payroll-fraud-prod-v3-8b2f4d6e)"
        );
        assert_eq!(
            of(&sample("codedeploy-deployment-state-change.json")),
            "CodeDeploy myApplication/myDeploymentGroup deployment d-123456789 SUCCESS"
        );
    }

    #[test]
    fn steward_events_name_the_model_and_environment() {
        let detail = json!({
            "modelPackageGroup": "payroll-fraud",
            "modelPackageArn": "arn:aws:sagemaker:us-east-1:1:model-package/payroll-fraud/3",
            "environment": "prod",
            "decision": "Approved",
            "approver": "ana@example.com",
            "channel": "link",
            "comment": "metrics fine"
        });
        assert_eq!(
            summarize("steward", "Approval Decided", &detail),
            "payroll-fraud/3 Approved for prod by ana@example.com via link: metrics fine"
        );
        assert_eq!(
            summarize("acme", "Brand New", &json!({})),
            "Brand New (acme)"
        );
    }

    #[test]
    fn long_lines_are_cut() {
        let detail = json!({"reason": "x".repeat(1000)});
        assert_eq!(
            summarize("steward", "Deployment Failed", &detail)
                .chars()
                .count(),
            MAX_CHARS
        );
    }
}
