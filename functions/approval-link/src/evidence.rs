//! The gate's evidence for the review page: the approval request that
//! request-approval stored under the link's token id carries the gate report
//! the approver was emailed; the page shows the same.

use steward::approval::request::ApprovalRequest;
use steward::approval::store::ApprovalStore;
use steward::approval::token::Claims;
use steward::gate::report::{Check, CheckKind, GateReport};

use crate::page::{metric_label, verdict, CheckRow, LineageRow, MetricRow};
use crate::review::Evidence;
use crate::LinkError;

/// The request the link's token was minted for; `None` when it is not
/// stored (a link minted by hand, a ledger restored without it), which shows
/// an empty evidence section rather than an error.
pub async fn load_request<A: ApprovalStore>(
    approvals: &A,
    claims: &Claims,
) -> Result<Option<ApprovalRequest>, LinkError> {
    let request = approvals
        .get(&claims.token_id)
        .await
        .map_err(|e| LinkError::Evidence(e.to_string()))?;
    // Only the request this token was minted for, never another package's.
    Ok(request.filter(|r| r.model_package_arn == claims.model_package_arn))
}

pub fn evidence(report: &GateReport) -> Evidence {
    Evidence {
        summary: Some(summary(report)),
        metrics: metrics(report),
        checks: report
            .checks
            .iter()
            .map(|c| CheckRow::new(c.passed, c.reason.clone()))
            .collect(),
        lineage: lineage(report),
    }
}

fn summary(report: &GateReport) -> String {
    let total = report.checks.len();
    let failed = report.failures().count();
    let verdict = if report.passed {
        format!("The gate passed: {total} of {total} checks.")
    } else {
        format!("The gate failed {failed} of {total} checks.")
    };
    let against = match &report.champion {
        Some(champion) => format!(
            " Compared with the champion{} ({}).",
            champion
                .version
                .map(|v| format!(" v{v}"))
                .unwrap_or_default(),
            champion.source
        ),
        None => " There is no champion yet: this is the group's first model.".to_string(),
    };
    verdict + &against
}

/// One row per metric the report holds, plus any a check names that the
/// report lacks (shown as missing).
fn metrics(report: &GateReport) -> Vec<MetricRow> {
    let mut names: Vec<&str> = report
        .candidate
        .metrics
        .keys()
        .map(String::as_str)
        .collect();
    for check in &report.checks {
        if check.kind != CheckKind::MetricsReadable && !names.contains(&check.metric.as_str()) {
            names.push(&check.metric);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let checks: Vec<&Check> = report
                .checks
                .iter()
                .filter(|c| c.metric == name && c.kind != CheckKind::MetricsReadable)
                .collect();
            let thresholds: Vec<String> = checks
                .iter()
                .filter_map(|c| match (c.kind, c.bound) {
                    (CheckKind::ThresholdMin, Some(b)) => Some(format!("≥ {}", number(b))),
                    (CheckKind::ThresholdMax, Some(b)) => Some(format!("≤ {}", number(b))),
                    _ => None,
                })
                .collect();
            let champion = report
                .champion
                .as_ref()
                .and_then(|c| c.metrics.get(name).copied())
                .or_else(|| checks.iter().find_map(|c| c.champion_value));
            let passed = (!checks.is_empty()).then(|| checks.iter().all(|c| c.passed));
            // A symbol beside the value: the table must fit a phone.
            let (result, class) = match verdict(passed) {
                (_, "pass") => ("✓", "pass"),
                (_, "fail") => ("✗", "fail"),
                other => other,
            };
            MetricRow {
                label: metric_label(name),
                name: name.to_string(),
                value: report
                    .candidate
                    .metrics
                    .get(name)
                    .map(|v| number(*v))
                    .unwrap_or_else(|| "missing".into()),
                threshold: if thresholds.is_empty() {
                    "—".into()
                } else {
                    thresholds.join(", ")
                },
                champion: champion.map(number).unwrap_or_else(|| "—".into()),
                result,
                class,
            }
        })
        .collect()
}

fn lineage(report: &GateReport) -> Vec<LineageRow> {
    let l = &report.lineage;
    let champion = report.champion.as_ref().map(|c| {
        format!(
            "{}{} ({})",
            c.model_package_arn,
            c.version.map(|v| format!(" v{v}")).unwrap_or_default(),
            c.source
        )
    });
    [
        ("Pipeline run", l.pipeline_execution_arn.clone()),
        ("Data", l.data_uri.clone()),
        ("Data version", l.data_version.clone()),
        ("Commit", l.commit.clone()),
        ("Trigger", l.trigger.clone()),
        ("Metrics report", report.candidate.metrics_uri.clone()),
        ("Champion", champion),
        ("Policy", report.policy_version.clone()),
    ]
    .into_iter()
    .filter_map(|(label, value)| value.map(|value| LineageRow { label, value }))
    .collect()
}

/// Four decimals: enough for AUCs and rates, short enough for a phone.
fn number(v: f64) -> String {
    format!("{v:.4}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use steward::gate::report::{Candidate, Champion, Lineage};

    fn check(
        metric: &str,
        kind: CheckKind,
        value: Option<f64>,
        bound: Option<f64>,
        passed: bool,
    ) -> Check {
        Check {
            metric: metric.into(),
            kind,
            value,
            bound,
            champion_value: None,
            tolerance: None,
            better: None,
            passed,
            reason: format!("{metric} check"),
        }
    }

    #[test]
    fn each_metric_shows_its_thresholds_champion_and_result() {
        let auc = "binary_classification_metrics.auc.value";
        let fpr = "binary_classification_metrics.false_positive_rate.value";
        let report = GateReport {
            candidate: Candidate {
                model_package_arn: "arn:pkg/3".into(),
                group: "payroll-fraud".into(),
                version: Some(3),
                metrics_uri: Some("s3://a/eval.json".into()),
                metrics: BTreeMap::from([(auc.to_string(), 0.97), ("accuracy".to_string(), 0.9)]),
            },
            checks: vec![
                check(auc, CheckKind::ThresholdMin, Some(0.97), Some(0.9), true),
                check(auc, CheckKind::NoRegression, Some(0.97), None, true),
                check(fpr, CheckKind::Required, None, None, false),
            ],
            champion: Some(Champion {
                model_package_arn: "arn:pkg/2".into(),
                version: Some(2),
                source: "serving:prod".into(),
                metrics: BTreeMap::from([(auc.to_string(), 0.95)]),
            }),
            lineage: Lineage {
                commit: Some("8e1f3c5".into()),
                ..Lineage::default()
            },
            policy_version: None,
            evaluated_at: chrono::Utc::now(),
            passed: false,
        };
        let e = evidence(&report);
        assert_eq!(
            e.summary.as_deref(),
            Some("The gate failed 1 of 3 checks. Compared with the champion v2 (serving:prod).")
        );
        let rows: Vec<(&str, &str, &str, &str, &str)> = e
            .metrics
            .iter()
            .map(|m| {
                (
                    m.name.as_str(),
                    m.value.as_str(),
                    m.threshold.as_str(),
                    m.champion.as_str(),
                    m.class,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("accuracy", "0.9000", "—", "—", ""),
                (auc, "0.9700", "≥ 0.9000", "0.9500", "pass"),
                (fpr, "missing", "—", "—", "fail"),
            ]
        );
        assert_eq!(e.checks.len(), 3);
        let labels: Vec<_> = e.lineage.iter().map(|r| r.label).collect();
        assert_eq!(labels, ["Commit", "Metrics report", "Champion"]);
    }
}
