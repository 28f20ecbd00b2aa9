//! A model's lineage: where it came from, who let it through, where it ran
//! and why it was pulled, from the records of the model, of the build that
//! made it, and of the environments and endpoints it was deployed to.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::timeline::served_timeline;
use super::{ordered, Entry};
use crate::audit::{group_of_arn, version_of_arn, AuditRecord, AuditSubject};
use crate::ledger::LineageRecord;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lineage {
    pub model_package_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
    pub gates: Vec<GateResult>,
    pub approvals: Vec<Approval>,
    pub deployments: Vec<Deployment>,
    pub rollbacks: Vec<Rollback>,
    pub drift: Vec<DriftFinding>,
    /// Every event of the story, in event-time order.
    pub timeline: Vec<Entry>,
}

/// The build (pipeline execution) that produced the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Build {
    pub pipeline_execution_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// The pipeline execution's latest status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// What the model registry said about the package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub registered_at: DateTime<Utc>,
    /// The latest approval status the registry reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_data_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_version: Option<String>,
}

/// One gate verdict: the `Gate Evaluated` event, completed with the full
/// report the gate keeps in the ledger (`MODEL#<arn>`, kind `gate_evaluated`)
/// when it was read ([`Lineage::with_gate_reports`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateResult {
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_at: Option<DateTime<Utc>>,
    /// How many checks ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks_run: Option<usize>,
    /// The reason of each failed check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// The model it was compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub champion: Option<String>,
    /// The candidate's metrics, as the gate read them (from the report).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub metrics: Value,
    /// Each check as the gate reported it (metric, kind, value, bound,
    /// champion value, passed, reason), from the report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Value>,
}

impl GateResult {
    /// From a `Gate Evaluated` event, or from a gate report (same names:
    /// `passed`/`outcome`, `checks` as a count or a list, `policyVersion`).
    fn read(at: DateTime<Utc>, detail: &Value) -> GateResult {
        let text = |k: &str| detail.get(k).and_then(Value::as_str).map(String::from);
        let checks = detail
            .get("checks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let failures = match detail.get("failures").and_then(Value::as_array) {
            Some(f) => f
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
            None => checks
                .iter()
                .filter(|c| c.get("passed").and_then(Value::as_bool) == Some(false))
                .filter_map(|c| c.get("reason").and_then(Value::as_str).map(String::from))
                .collect(),
        };
        GateResult {
            at,
            passed: detail
                .get("passed")
                .and_then(Value::as_bool)
                .or_else(|| text("outcome").map(|o| o == "passed")),
            policy_version: text("policyVersion"),
            evaluated_at: text("evaluatedAt")
                .and_then(|t| t.parse::<crate::events::Timestamp>().ok())
                .map(|t| t.datetime()),
            checks_run: detail
                .get("checks")
                .and_then(Value::as_u64)
                .map(|n| n as usize)
                .or((!checks.is_empty()).then_some(checks.len())),
            failures,
            champion: text("championArn").or_else(|| {
                crate::audit::field(detail, "champion.modelPackageArn")
                    .and_then(Value::as_str)
                    .map(String::from)
            }),
            metrics: crate::audit::field(detail, "candidate.metrics")
                .or_else(|| detail.get("metrics"))
                .cloned()
                .unwrap_or(Value::Null),
            checks,
        }
    }

    /// Fill in what the event leaves out from the full report.
    fn complete_from(&mut self, report: GateResult) {
        if self.metrics.is_null() {
            self.metrics = report.metrics;
        }
        if self.checks.is_empty() {
            self.checks = report.checks;
        }
        if self.failures.is_empty() {
            self.failures = report.failures;
        }
        self.champion = self.champion.take().or(report.champion);
        self.checks_run = self.checks_run.or(report.checks_run);
        self.passed = self.passed.or(report.passed);
        self.evaluated_at = self.evaluated_at.or(report.evaluated_at);
        self.policy_version = self.policy_version.take().or(report.policy_version);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    pub at: DateTime<Utc>,
    /// `requested` or `decided`.
    pub step: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// `Approved` or `Rejected` (decisions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// `link`, `cli` or `auto` (decisions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub environment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// `in-progress`, `succeeded` or `failed`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_config: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollback {
    pub environment: String,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic: Option<bool>,
    /// The alarm that was in ALARM on the environment's endpoint when the
    /// rollback started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_model_package_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftFinding {
    pub at: DateTime<Utc>,
    pub endpoint: String,
    pub summary: String,
}

impl Lineage {
    /// The records a lineage reads, beyond the model's own: its build's
    /// execution, and the environments and endpoints it was deployed to.
    pub fn related_subjects(model_records: &[AuditRecord]) -> Vec<AuditSubject> {
        let mut subjects = BTreeSet::new();
        for r in model_records {
            if let Some(exec) = execution_of(r) {
                subjects.insert(AuditSubject::execution(exec));
            }
            for s in &r.subjects {
                if matches!(
                    s,
                    AuditSubject::Environment { .. } | AuditSubject::Endpoint { .. }
                ) {
                    subjects.insert(s.clone());
                }
            }
        }
        subjects.into_iter().collect()
    }

    /// The lineage of `arn` from any superset of its records, in any order.
    pub fn of(arn: &str, records: &[AuditRecord]) -> Lineage {
        let all = ordered(records);
        let own: Vec<&AuditRecord> = all
            .iter()
            .copied()
            .filter(|r| r.model_package_arn() == Some(arn))
            .collect();
        let execution = own.iter().find_map(|r| execution_of(r));
        let build_records: Vec<&AuditRecord> = all
            .iter()
            .copied()
            .filter(|r| {
                r.model_package_arn().is_none()
                    && execution
                        .as_deref()
                        .is_some_and(|x| r.subjects.contains(&AuditSubject::execution(x)))
            })
            .collect();
        let mut lineage = Lineage {
            model_package_arn: arn.to_string(),
            group: group_of_arn(arn).or_else(|| {
                own.iter()
                    .find_map(|r| r.text("modelPackageGroup").map(String::from))
            }),
            version: version_of_arn(arn),
            build: execution.map(|x| build(&x, &build_records)),
            registration: registration(&own),
            gates: vec![],
            approvals: vec![],
            deployments: vec![],
            rollbacks: vec![],
            drift: vec![],
            timeline: vec![],
        };
        // Endpoint of each environment, from the deployments' targets.
        let mut endpoints: BTreeMap<String, String> = BTreeMap::new();
        let mut open_deploy: BTreeMap<String, usize> = BTreeMap::new();
        let mut open_rollback: BTreeMap<String, usize> = BTreeMap::new();
        let mut story: Vec<&AuditRecord> = build_records.clone();
        for &r in &own {
            story.push(r);
            let env = r.environment().map(String::from);
            match r.detail_type.as_str() {
                "Gate Evaluated" => lineage.gates.push(GateResult::read(r.at, &r.detail)),
                "Approval Requested" | "Approval Decided" => lineage.approvals.push(Approval {
                    at: r.at,
                    step: if r.detail_type == "Approval Requested" {
                        "requested"
                    } else {
                        "decided"
                    }
                    .into(),
                    environment: env,
                    approver: crate::audit::summary::approvers(&r.detail),
                    decision: r.text("decision").map(String::from),
                    channel: r.text("channel").map(String::from),
                    comment: r.text("comment").map(String::from),
                }),
                "Deployment Started" => {
                    let env = env.unwrap_or_default();
                    let target = r.text("target").map(String::from);
                    if let Some(endpoint) =
                        target.as_deref().and_then(|t| t.strip_prefix("endpoint "))
                    {
                        endpoints.insert(env.clone(), endpoint.trim().to_string());
                    }
                    open_deploy.insert(env.clone(), lineage.deployments.len());
                    lineage.deployments.push(Deployment {
                        environment: env,
                        target,
                        strategy: r.text("trafficRouting").map(String::from),
                        started_at: Some(r.at),
                        outcome: "in-progress".into(),
                        finished_at: None,
                        endpoint_config: r.text("endpointConfig").map(String::from),
                        reason: None,
                    });
                }
                "Deployment Succeeded" | "Deployment Failed" => {
                    let env = env.unwrap_or_default();
                    let index = match open_deploy.remove(&env) {
                        Some(i) => i,
                        None => {
                            // The start was never recorded: still show the outcome.
                            lineage.deployments.push(Deployment {
                                environment: env.clone(),
                                target: None,
                                strategy: None,
                                started_at: None,
                                outcome: String::new(),
                                finished_at: None,
                                endpoint_config: None,
                                reason: None,
                            });
                            lineage.deployments.len() - 1
                        }
                    };
                    let d = &mut lineage.deployments[index];
                    d.outcome = if r.detail_type == "Deployment Succeeded" {
                        "succeeded"
                    } else {
                        "failed"
                    }
                    .into();
                    d.finished_at = Some(r.at);
                    d.reason = r.text("reason").map(String::from);
                    if let Some(config) = r.text("endpointConfig") {
                        d.endpoint_config = Some(config.to_string());
                    }
                }
                "Rollback Started" => {
                    let env = env.unwrap_or_default();
                    open_rollback.insert(env.clone(), lineage.rollbacks.len());
                    lineage.rollbacks.push(rollback(r, env, None));
                }
                "Rollback Completed" => {
                    let env = env.unwrap_or_default();
                    match open_rollback.remove(&env) {
                        Some(i) => lineage.rollbacks[i].completed_at = Some(r.at),
                        None => lineage.rollbacks.push(rollback(r, env, Some(r.at))),
                    }
                }
                "Drift Detected" => lineage.drift.push(DriftFinding {
                    at: r.at,
                    endpoint: r.text("endpointName").unwrap_or("?").to_string(),
                    summary: r.summary.clone(),
                }),
                _ => {}
            }
        }
        // Alarms and drift come from the endpoints the model ran on.
        let owned: Vec<AuditRecord> = all.iter().map(|r| (*r).clone()).collect();
        for rb in &mut lineage.rollbacks {
            let Some(endpoint) = endpoints.get(&rb.environment) else {
                continue;
            };
            let alarm = all.iter().rfind(|r| {
                is_alarm_on(r, endpoint)
                    && r.at <= rb.started_at
                    && r.text("state.value") == Some("ALARM")
            });
            if let Some(alarm) = alarm {
                rb.alarm = alarm.text("alarmName").map(String::from);
                story.push(alarm);
            }
        }
        for (env, endpoint) in &endpoints {
            let served = served_timeline(env, &owned);
            let spans: Vec<_> = served
                .iter()
                .filter(|s| s.model_package_arn == arn)
                .collect();
            for r in all.iter().filter(|r| {
                r.detail_type == "Drift Detected"
                    && r.model_package_arn().is_none()
                    && r.text("endpointName") == Some(endpoint.as_str())
            }) {
                let serving = spans
                    .iter()
                    .any(|s| s.from <= r.at && s.until.is_none_or(|u| r.at < u));
                if serving {
                    lineage.drift.push(DriftFinding {
                        at: r.at,
                        endpoint: endpoint.clone(),
                        summary: r.summary.clone(),
                    });
                    story.push(r);
                }
            }
        }
        lineage.drift.sort_by_key(|d| d.at);
        lineage.timeline = ordered(story).into_iter().map(Entry::from).collect();
        lineage
    }
}

impl Lineage {
    /// Completes the gate verdicts with the full reports the gate keeps in the
    /// ledger (`MODEL#<arn>`, kind `gate_evaluated`): metrics and every check.
    /// A report whose event never reached the audit ledger is added.
    pub fn with_gate_reports(mut self, records: &[LineageRecord]) -> Self {
        for r in records.iter().filter(|r| r.kind == GATE_REPORT_KIND) {
            let report = GateResult::read(r.at, &r.detail);
            let same = |g: &&mut GateResult| match (g.evaluated_at, report.evaluated_at) {
                (Some(a), Some(b)) => a == b,
                _ => g.at == report.at,
            };
            match self.gates.iter_mut().find(same) {
                Some(gate) => gate.complete_from(report),
                None => self.gates.push(report),
            }
        }
        self.gates.sort_by_key(|g| g.at);
        self
    }
}

/// The ledger kind of the gate's full report.
pub const GATE_REPORT_KIND: &str = "gate_evaluated";

fn rollback(r: &AuditRecord, environment: String, completed_at: Option<DateTime<Utc>>) -> Rollback {
    Rollback {
        environment,
        started_at: r.at,
        completed_at,
        reason: r.text("reason").unwrap_or("?").to_string(),
        automatic: r.detail.get("automatic").and_then(Value::as_bool),
        alarm: None,
        to_model_package_arn: r.text("toModelPackageArn").map(String::from),
    }
}

fn is_alarm_on(r: &AuditRecord, endpoint: &str) -> bool {
    r.detail_type == "CloudWatch Alarm State Change"
        && r.subjects.contains(&AuditSubject::endpoint(endpoint))
}

/// The pipeline execution a record names as the model's build.
fn execution_of(r: &AuditRecord) -> Option<String> {
    [
        "MetadataProperties.GeneratedBy",
        "lineage.pipelineExecutionArn",
        "pipelineExecutionArn",
    ]
    .iter()
    .find_map(|p| r.text(p))
    .filter(|a| a.contains("/execution/"))
    .map(String::from)
}

fn build(execution: &str, records: &[&AuditRecord]) -> Build {
    let mut build = Build {
        pipeline_execution_arn: execution.to_string(),
        ..Build::default()
    };
    for r in records {
        match r.detail_type.as_str() {
            "Build Started" => {
                build.pipeline_name = r.text("pipelineName").map(String::from);
                build.trigger = r.text("trigger").map(String::from);
                build.started_at = Some(r.at);
                build.data_uri = r.text("data.uri").map(String::from);
                build.data_version = r.text("data.version").map(String::from);
                build.commit = r.text("commit").map(String::from);
                build.policy_version = r.text("policyVersion").map(String::from);
                build.cause = r.text("cause").map(String::from);
                build.correlation_id = r.text("correlationId").map(String::from);
            }
            "SageMaker Model Building Pipeline Execution Status Change" => {
                build.status = r.text("currentPipelineExecutionStatus").map(String::from);
                build.ended_at = r
                    .text("executionEndTime")
                    .and_then(|t| t.parse::<crate::events::Timestamp>().ok())
                    .map(|t| t.datetime())
                    .or(build.ended_at);
            }
            _ => {}
        }
    }
    build
}

fn registration(own: &[&AuditRecord]) -> Option<Registration> {
    let events: Vec<&&AuditRecord> = own
        .iter()
        .filter(|r| r.detail_type == "SageMaker Model Package State Change")
        .collect();
    let first = events.first()?;
    let latest = events.last()?;
    let meta = |key: &str| {
        latest
            .detail
            .get("CustomerMetadataProperties")
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .map(String::from)
    };
    Some(Registration {
        registered_at: first.at,
        approval_status: latest.text("ModelApprovalStatus").map(String::from),
        approval_description: latest.text("ApprovalDescription").map(String::from),
        metrics_uri: latest
            .text("ModelMetrics.ModelQuality.Statistics.S3Uri")
            .map(String::from),
        model_data_url: latest
            .detail
            .pointer("/InferenceSpecification/Containers/0/ModelDataUrl")
            .and_then(Value::as_str)
            .map(String::from),
        commit: latest.text("MetadataProperties.CommitId").map(String::from),
        data_uri: meta("steward:data-uri"),
        data_version: meta("steward:data-version"),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{gate_report, shuffled_twice, story, EXEC, V2, V3};
    use super::*;

    #[test]
    fn the_whole_story_of_a_model_in_order_without_repeats() {
        let lineage = Lineage::of(V3, &shuffled_twice());
        assert_eq!(lineage, Lineage::of(V3, &story()));
        assert_eq!(lineage.group.as_deref(), Some("payroll-fraud"));
        assert_eq!(lineage.version, Some(3));

        let build = lineage.build.as_ref().unwrap();
        assert_eq!(build.pipeline_execution_arn, EXEC);
        assert_eq!(build.trigger.as_deref(), Some("data"));
        assert_eq!(build.status.as_deref(), Some("Succeeded"));
        assert_eq!(
            build.data_uri.as_deref(),
            Some("s3://acme-ml-data/payroll-fraud/transactions/2026-11-23/")
        );
        assert_eq!(
            build.policy_version.as_deref(),
            Some("ssm:/steward/policy:7")
        );
        assert!(build.commit.as_deref().unwrap().starts_with("8e1f3c5a"));

        let registration = lineage.registration.as_ref().unwrap();
        assert_eq!(registration.approval_status.as_deref(), Some("Rejected"));
        assert!(registration
            .metrics_uri
            .as_deref()
            .unwrap()
            .ends_with("evaluation.json"));

        assert_eq!(lineage.gates.len(), 1);
        assert_eq!(lineage.gates[0].passed, Some(true));
        assert_eq!(lineage.gates[0].checks_run, Some(2));
        assert_eq!(lineage.gates[0].champion.as_deref(), Some(V2));

        let steps: Vec<(&str, Option<&str>)> = lineage
            .approvals
            .iter()
            .map(|a| (a.step.as_str(), a.decision.as_deref()))
            .collect();
        assert_eq!(steps, [("requested", None), ("decided", Some("Approved"))]);
        assert_eq!(
            lineage.approvals[1].approver.as_deref(),
            Some("ana@example.com")
        );
        assert_eq!(lineage.approvals[1].channel.as_deref(), Some("link"));
        assert_eq!(
            lineage.approvals[1].comment.as_deref(),
            Some("AUC up, bias report clean")
        );

        assert_eq!(lineage.deployments.len(), 1);
        let d = &lineage.deployments[0];
        assert_eq!(
            (
                d.environment.as_str(),
                d.strategy.as_deref(),
                d.outcome.as_str()
            ),
            ("prod", Some("CANARY"), "succeeded")
        );

        assert_eq!(lineage.rollbacks.len(), 1);
        let rb = &lineage.rollbacks[0];
        assert_eq!(rb.alarm.as_deref(), Some("payroll-fraud-prod-5xx"));
        assert_eq!(rb.to_model_package_arn.as_deref(), Some(V2));
        assert!(rb.completed_at.is_some());

        // Only the drift found while v3 served is v3's.
        assert_eq!(lineage.drift.len(), 1);
        assert_eq!(
            crate::audit::stamp(lineage.drift[0].at),
            "2026-11-23T09:14:00.000Z"
        );

        let types: Vec<&str> = lineage
            .timeline
            .iter()
            .map(|e| e.detail_type.as_str())
            .collect();
        assert_eq!(
            types,
            [
                "Build Started",
                "SageMaker Model Building Pipeline Execution Status Change",
                "SageMaker Model Package State Change",
                "SageMaker Model Building Pipeline Execution Status Change",
                "Gate Evaluated",
                "Approval Requested",
                "Approval Decided",
                "SageMaker Model Package State Change",
                "Deployment Started",
                "Deployment Succeeded",
                "Drift Detected",
                "CloudWatch Alarm State Change",
                "Rollback Started",
                "Rollback Completed",
                "SageMaker Model Package State Change",
            ]
        );
        assert!(lineage.timeline.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn related_subjects_point_at_build_environment_and_endpoint() {
        let own: Vec<AuditRecord> = story()
            .into_iter()
            .filter(|r| r.model_package_arn() == Some(V3))
            .collect();
        let related = Lineage::related_subjects(&own);
        assert!(related.contains(&AuditSubject::execution(EXEC)));
        assert!(related.contains(&AuditSubject::environment("payroll-fraud", "prod")));
        assert!(related.contains(&AuditSubject::endpoint("payroll-fraud-prod")));
    }

    #[test]
    fn an_unknown_model_has_an_empty_lineage() {
        let lineage = Lineage::of("arn:aws:sagemaker:r:1:model-package/x/9", &story());
        assert!(lineage.timeline.is_empty());
        assert_eq!(lineage.build, None);
    }

    #[test]
    fn gate_reports_from_the_ledger_complete_the_verdict() {
        let report = LineageRecord {
            subject: crate::ledger::Subject::Model(V3.into()),
            at: "2026-11-23T06:48:40Z".parse().unwrap(),
            kind: GATE_REPORT_KIND.into(),
            id: "g".into(),
            source: "steward".into(),
            detail: gate_report(),
        };
        let lineage = Lineage::of(V3, &story()).with_gate_reports(std::slice::from_ref(&report));
        assert_eq!(
            lineage.gates.len(),
            1,
            "the event and its report are one verdict"
        );
        let gate = &lineage.gates[0];
        assert_eq!(gate.metrics["auc"], 0.93);
        assert_eq!(gate.checks.len(), 2);
        assert_eq!(gate.checks_run, Some(2));
        // Without the event, the report alone still shows.
        let records: Vec<AuditRecord> = story()
            .into_iter()
            .filter(|r| r.detail_type != "Gate Evaluated")
            .collect();
        let lineage = Lineage::of(V3, &records).with_gate_reports(&[report]);
        assert_eq!(lineage.gates.len(), 1);
        assert_eq!(lineage.gates[0].passed, Some(true));
        assert_eq!(
            lineage.gates[0].policy_version.as_deref(),
            Some("ssm:/steward/policy:7")
        );
    }
}
