//! Evaluate a candidate's report against its group's gate.

use chrono::{DateTime, Utc};

use super::metrics::{MetricsError, MetricsReport};
use super::report::{Candidate, Champion, Check, CheckKind, GateReport, Lineage};
use crate::policy::{Better, Gate};

/// The candidate as the registry describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateModel {
    pub model_package_arn: String,
    pub group: String,
    pub version: Option<u32>,
    /// `None` when the package names no model-quality report.
    pub metrics_uri: Option<String>,
}

/// The model the candidate is compared with, and its report (an error when
/// it could not be read).
#[derive(Debug, Clone, PartialEq)]
pub struct ChampionModel {
    pub model_package_arn: String,
    pub version: Option<u32>,
    /// `serving:<environment>` or `latest-approved`.
    pub source: String,
    pub metrics: Result<MetricsReport, MetricsError>,
}

/// Everything the gate weighs.
#[derive(Debug, Clone)]
pub struct Evaluation<'a> {
    pub gate: &'a Gate,
    pub candidate: CandidateModel,
    /// The candidate's report, or why there is none. Never a pass when absent.
    pub metrics: Result<MetricsReport, MetricsError>,
    pub champion: Option<ChampionModel>,
    pub lineage: Lineage,
    pub policy_version: Option<String>,
    pub now: DateTime<Utc>,
}

/// Run every check. The report passes only if every check does; a missing or
/// unreadable metrics file is one failed check and nothing else is weighed.
pub fn evaluate(input: Evaluation<'_>) -> GateReport {
    let Evaluation {
        gate,
        candidate,
        metrics,
        champion,
        lineage,
        policy_version,
        now,
    } = input;
    let champion_report = champion.as_ref().map(|c| Champion {
        model_package_arn: c.model_package_arn.clone(),
        version: c.version,
        source: c.source.clone(),
        metrics: c
            .metrics
            .as_ref()
            .map(MetricsReport::values)
            .unwrap_or_default(),
    });
    let (checks, values) = match &metrics {
        Err(e) => (
            vec![Check {
                metric: candidate.metrics_uri.clone().unwrap_or_else(|| "-".into()),
                kind: CheckKind::MetricsReadable,
                value: None,
                bound: None,
                champion_value: None,
                tolerance: None,
                better: None,
                passed: false,
                reason: e.to_string(),
            }],
            Default::default(),
        ),
        Ok(report) => (checks(gate, report, champion.as_ref()), report.values()),
    };
    let passed = checks.iter().all(|c| c.passed);
    GateReport {
        candidate: Candidate {
            model_package_arn: candidate.model_package_arn,
            group: candidate.group,
            version: candidate.version,
            metrics_uri: candidate.metrics_uri,
            metrics: values,
        },
        checks,
        champion: champion_report,
        lineage,
        policy_version,
        evaluated_at: now,
        passed,
    }
}

fn checks(gate: &Gate, report: &MetricsReport, champion: Option<&ChampionModel>) -> Vec<Check> {
    let mut checks = Vec::new();
    for metric in &gate.required_metrics {
        let value = report.get(metric);
        checks.push(Check {
            metric: metric.to_string(),
            kind: CheckKind::Required,
            value,
            bound: None,
            champion_value: None,
            tolerance: None,
            better: None,
            passed: value.is_some(),
            reason: match value {
                Some(v) => format!("{metric} = {} (required, present)", fmt(v)),
                None => format!("{metric} is missing from the report (required)"),
            },
        });
    }
    for threshold in &gate.thresholds {
        let metric = &threshold.metric;
        let value = report.get(metric);
        let bounds = [
            (CheckKind::ThresholdMin, threshold.min, ">=", "<"),
            (CheckKind::ThresholdMax, threshold.max, "<=", ">"),
        ];
        for (kind, bound, ok, not_ok) in bounds {
            let Some(bound) = bound else { continue };
            let word = if kind == CheckKind::ThresholdMin {
                "min"
            } else {
                "max"
            };
            let (passed, reason) = match value {
                None => (
                    false,
                    format!(
                        "{metric} is missing from the report ({word} {})",
                        fmt(bound)
                    ),
                ),
                Some(v) if v.is_nan() => {
                    (false, format!("{metric} is NaN ({word} {})", fmt(bound)))
                }
                Some(v) => {
                    let passed = match kind {
                        CheckKind::ThresholdMin => v >= bound,
                        _ => v <= bound,
                    };
                    let op = if passed { ok } else { not_ok };
                    (
                        passed,
                        format!("{metric} {} {op} {word} {}", fmt(v), fmt(bound)),
                    )
                }
            };
            checks.push(Check {
                metric: metric.clone(),
                kind,
                value,
                bound: Some(bound),
                champion_value: None,
                tolerance: None,
                better: None,
                passed,
                reason,
            });
        }
    }
    for rule in &gate.no_regression {
        let metric = &rule.metric;
        let value = report.get(metric);
        let better = match rule.better {
            Better::Higher => "higher",
            Better::Lower => "lower",
        };
        let champion_value = champion.and_then(|c| c.metrics.as_ref().ok()?.get(metric));
        let (passed, reason) = match (champion, value, champion_value) {
            (_, Some(v), _) if v.is_nan() => (false, format!("{metric} is NaN (no regression)")),
            (None, Some(v), _) => (
                true,
                format!("{metric} {}: no champion yet, nothing to regress from", fmt(v)),
            ),
            (_, None, _) => (false, format!("{metric} is missing from the report (no regression)")),
            (Some(c), Some(_), None) => (
                false,
                format!(
                    "{metric}: the champion's value is unknown ({}), so no regression cannot be shown",
                    match &c.metrics {
                        Err(e) => e.to_string(),
                        Ok(_) => "its report lacks the metric".to_string(),
                    }
                ),
            ),
            (Some(c), Some(v), Some(cv)) => {
                let passed = rule.admits(v, cv);
                let champion_name = c
                    .version
                    .map(|n| format!("champion v{n}"))
                    .unwrap_or_else(|| "champion".into());
                let verdict = if passed { "within" } else { "worse than" };
                (
                    passed,
                    format!(
                        "{metric} {} vs {champion_name} {}: {verdict} tolerance {} ({better} is better)",
                        fmt(v),
                        fmt(cv),
                        fmt(rule.tolerance)
                    ),
                )
            }
        };
        checks.push(Check {
            metric: metric.clone(),
            kind: CheckKind::NoRegression,
            value,
            bound: None,
            champion_value,
            tolerance: Some(rule.tolerance),
            better: Some(better.to_string()),
            passed,
            reason,
        });
    }
    checks
}

/// Four decimals: enough to see a tolerance of 0.001 at work, short enough to read.
pub fn fmt(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v:.4}")
    }
}
