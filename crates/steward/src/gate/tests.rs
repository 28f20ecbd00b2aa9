use chrono::{TimeZone, Utc};

use super::report::CheckKind;
use super::*;
use crate::policy::{Better, Gate, NoRegression, Threshold};

const URI: &str = "s3://artifacts/payroll-fraud/run/evaluation.json";

fn binary(auc: f64, precision: f64, recall: f64) -> MetricsReport {
    let json = serde_json::json!({
        "version": 0.0,
        "binary_classification_metrics": {
            "confusion_matrix": {"0": {"0": 90, "1": 5}, "1": {"0": 2, "1": 3}},
            "auc": {"value": auc, "standard_deviation": 0.01},
            "precision": {"value": precision, "standard_deviation": "NaN"},
            "recall": {"value": recall},
            "f1": {"value": 0.7, "standard_deviation": 0.02},
        }
    });
    MetricsReport::parse(URI, json.to_string().as_bytes()).unwrap()
}

fn gate() -> Gate {
    Gate {
        thresholds: vec![
            Threshold {
                metric: "binary_classification_metrics.auc.value".into(),
                min: Some(0.9),
                max: None,
            },
            Threshold {
                metric: "binary_classification_metrics.precision.value".into(),
                min: Some(0.6),
                max: Some(0.999),
            },
        ],
        no_regression: vec![NoRegression {
            metric: "binary_classification_metrics.auc.value".into(),
            tolerance: 0.01,
            better: Better::Higher,
        }],
        required_metrics: vec!["binary_classification_metrics.f1.value".into()],
    }
}

fn candidate() -> CandidateModel {
    CandidateModel {
        model_package_arn: "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/2"
            .into(),
        group: "payroll-fraud".into(),
        version: Some(2),
        metrics_uri: Some(URI.into()),
    }
}

fn champion(report: Result<MetricsReport, MetricsError>) -> ChampionModel {
    ChampionModel {
        model_package_arn: "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/1"
            .into(),
        version: Some(1),
        source: "latest-approved".into(),
        metrics: report,
    }
}

fn run(
    gate: &Gate,
    metrics: Result<MetricsReport, MetricsError>,
    champion: Option<ChampionModel>,
) -> GateReport {
    evaluate(Evaluation {
        gate,
        candidate: candidate(),
        metrics,
        champion,
        lineage: Default::default(),
        policy_version: Some("ssm:/steward/policy:3".into()),
        now: Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap(),
    })
}

fn failed(report: &GateReport) -> Vec<(CheckKind, String)> {
    report
        .failures()
        .map(|c| (c.kind, c.metric.clone()))
        .collect()
}

#[test]
fn a_model_within_every_bound_passes_and_lists_every_check() {
    let report = run(&gate(), Ok(binary(0.95, 0.7, 0.8)), None);
    assert!(report.passed, "{:?}", report.checks);
    let kinds: Vec<CheckKind> = report.checks.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            CheckKind::Required,
            CheckKind::ThresholdMin,
            CheckKind::ThresholdMin,
            CheckKind::ThresholdMax,
            CheckKind::NoRegression
        ]
    );
    assert_eq!(
        report.candidate.metrics["binary_classification_metrics.auc.value"],
        0.95
    );
    // The confusion matrix is not a {value} metric.
    assert_eq!(report.candidate.metrics.len(), 4);
    assert_eq!(report.outcome(), "passed");
}

#[test]
fn a_value_below_min_fails_with_the_numbers_in_the_reason() {
    let report = run(&gate(), Ok(binary(0.87, 0.7, 0.8)), None);
    assert!(!report.passed);
    assert_eq!(
        failed(&report),
        [(
            CheckKind::ThresholdMin,
            "binary_classification_metrics.auc.value".to_string()
        )]
    );
    assert_eq!(
        report.failure_summary(),
        "binary_classification_metrics.auc.value 0.8700 < min 0.9000"
    );
}

#[test]
fn a_value_above_max_fails_and_bounds_are_inclusive() {
    let report = run(&gate(), Ok(binary(0.95, 1.0, 0.8)), None);
    assert_eq!(
        failed(&report),
        [(
            CheckKind::ThresholdMax,
            "binary_classification_metrics.precision.value".to_string()
        )]
    );
    let at_bounds = run(&gate(), Ok(binary(0.9, 0.999, 0.8)), None);
    assert!(at_bounds.passed, "{}", at_bounds.failure_summary());
    let at_min = run(&gate(), Ok(binary(0.95, 0.6, 0.8)), None);
    assert!(at_min.passed);
}

#[test]
fn a_missing_required_metric_fails() {
    let mut gate = gate();
    gate.required_metrics
        .push("binary_classification_metrics.f2.value".into());
    let report = run(&gate, Ok(binary(0.95, 0.7, 0.8)), None);
    assert_eq!(
        failed(&report),
        [(
            CheckKind::Required,
            "binary_classification_metrics.f2.value".to_string()
        )]
    );
    assert!(report.failure_summary().contains("missing"));
}

#[test]
fn a_threshold_on_a_metric_the_report_lacks_fails() {
    let mut gate = gate();
    gate.thresholds.push(Threshold {
        metric: "binary_classification_metrics.false_positive_rate.value".into(),
        min: None,
        max: Some(0.1),
    });
    let report = run(&gate, Ok(binary(0.95, 0.7, 0.8)), None);
    assert_eq!(
        failed(&report),
        [(
            CheckKind::ThresholdMax,
            "binary_classification_metrics.false_positive_rate.value".to_string()
        )]
    );
}

#[test]
fn a_nan_value_never_passes_a_threshold() {
    let json = r#"{"binary_classification_metrics": {"auc": {"value": "NaN"}, "precision": {"value": 0.7}, "f1": {"value": 0.7}}}"#;
    let report = run(
        &gate(),
        Ok(MetricsReport::parse(URI, json.as_bytes()).unwrap()),
        None,
    );
    let kinds: Vec<CheckKind> = report.failures().map(|c| c.kind).collect();
    assert_eq!(kinds, [CheckKind::ThresholdMin, CheckKind::NoRegression]);
    // No champion, but NaN: "missing" is not claimed, NaN fails the regression rule too.
    assert!(report.failure_summary().contains("NaN"));
}

#[test]
fn no_regression_compares_with_the_champion_within_tolerance() {
    let within = run(
        &gate(),
        Ok(binary(0.95, 0.7, 0.8)),
        Some(champion(Ok(binary(0.955, 0.7, 0.8)))),
    );
    assert!(within.passed, "{}", within.failure_summary());
    let check = within
        .checks
        .iter()
        .find(|c| c.kind == CheckKind::NoRegression)
        .unwrap();
    assert_eq!(check.champion_value, Some(0.955));
    assert_eq!(check.tolerance, Some(0.01));
    assert_eq!(within.champion.as_ref().unwrap().version, Some(1));

    let worse = run(
        &gate(),
        Ok(binary(0.93, 0.7, 0.8)),
        Some(champion(Ok(binary(0.95, 0.7, 0.8)))),
    );
    assert_eq!(
        failed(&worse),
        [(
            CheckKind::NoRegression,
            "binary_classification_metrics.auc.value".to_string()
        )]
    );
    assert!(worse.failure_summary().contains("champion v1 0.9500"));
}

#[test]
fn lower_is_better_metrics_regress_upwards() {
    let gate = Gate {
        thresholds: vec![],
        no_regression: vec![NoRegression {
            metric: "regression_metrics.rmse.value".into(),
            tolerance: 0.0,
            better: Better::Lower,
        }],
        required_metrics: vec![],
    };
    let regression = |rmse: f64| {
        let json = serde_json::json!({"regression_metrics": {
            "mae": {"value": 0.37, "standard_deviation": 0.003},
            "rmse": {"value": rmse, "standard_deviation": 0.003},
            "r2": {"value": -1.37}
        }});
        MetricsReport::parse(URI, json.to_string().as_bytes()).unwrap()
    };
    assert!(
        run(
            &gate,
            Ok(regression(0.6)),
            Some(champion(Ok(regression(0.61))))
        )
        .passed
    );
    assert!(
        !run(
            &gate,
            Ok(regression(0.62)),
            Some(champion(Ok(regression(0.61))))
        )
        .passed
    );
}

#[test]
fn a_champion_whose_report_cannot_be_read_fails_the_comparison() {
    let report = run(
        &gate(),
        Ok(binary(0.95, 0.7, 0.8)),
        Some(champion(Err(MetricsError::Missing {
            uri: "s3://old/evaluation.json".into(),
        }))),
    );
    assert_eq!(
        failed(&report),
        [(
            CheckKind::NoRegression,
            "binary_classification_metrics.auc.value".to_string()
        )]
    );
    assert!(report.failure_summary().contains("does not exist"));
}

#[test]
fn a_missing_metrics_file_fails_the_gate_with_that_reason() {
    let report = run(
        &gate(),
        Err(MetricsError::Missing { uri: URI.into() }),
        None,
    );
    assert!(!report.passed);
    assert_eq!(
        failed(&report),
        [(CheckKind::MetricsReadable, URI.to_string())]
    );
    assert_eq!(
        report.failure_summary(),
        format!("the metrics file {URI} does not exist")
    );
    // Even an empty gate does not pass a model without a report.
    let empty = run(&Gate::default(), Err(MetricsError::NotRegistered), None);
    assert!(!empty.passed);
}

#[test]
fn unreadable_json_is_a_typed_error_that_fails_the_gate() {
    for bad in [
        &b"{not json"[..],
        b"[1, 2]",
        b"{\"foo_metrics\": {}}",
        b"{\"binary_classification_metrics\": 3}",
        b"",
    ] {
        let err = MetricsReport::parse(URI, bad).unwrap_err();
        assert!(
            matches!(err, MetricsError::Unreadable { .. }),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
        let report = run(&Gate::default(), Err(err), None);
        assert!(!report.passed);
        assert!(report.failure_summary().contains("unreadable"));
    }
}

#[test]
fn multiclass_reports_are_read_by_path() {
    let json = serde_json::json!({"multiclass_classification_metrics": {
        "confusion_matrix": {"a": {"a": 3, "b": 1}, "b": {"a": 0, "b": 4}},
        "accuracy": {"value": 0.875, "standard_deviation": 0.01},
        "weighted_f1": {"value": 0.86, "standard_deviation": 0.02},
        "weighted_precision": {"value": 0.9}
    }});
    let report = MetricsReport::parse(URI, json.to_string().as_bytes()).unwrap();
    assert_eq!(
        report.get("multiclass_classification_metrics.weighted_f1.value"),
        Some(0.86)
    );
    assert_eq!(
        report.get("multiclass_classification_metrics.weighted_f1.standard_deviation"),
        Some(0.02)
    );
    assert_eq!(
        report.get("multiclass_classification_metrics.confusion_matrix.a.b"),
        Some(1.0)
    );
    let gate = Gate {
        thresholds: vec![Threshold {
            metric: "multiclass_classification_metrics.weighted_f1.value".into(),
            min: Some(0.9),
            max: None,
        }],
        no_regression: vec![],
        required_metrics: vec!["multiclass_classification_metrics.accuracy.value".into()],
    };
    let result = run(&gate, Ok(report), None);
    assert_eq!(
        failed(&result),
        [(
            CheckKind::ThresholdMin,
            "multiclass_classification_metrics.weighted_f1.value".to_string()
        )]
    );
}

#[test]
fn a_report_round_trips_through_json() {
    let report = run(
        &gate(),
        Ok(binary(0.95, 0.7, 0.8)),
        Some(champion(Ok(binary(0.94, 0.7, 0.8)))),
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["checks"][1]["kind"], "threshold-min");
    assert_eq!(json["champion"]["source"], "latest-approved");
    let back: GateReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
}
