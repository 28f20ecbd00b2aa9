//! The gate: what a newly registered model's evaluation report must show before
//! anyone is asked to approve it. A model that fails is rejected with the reasons.
//!
//! Metrics are named by their path in the model's evaluation report (the SageMaker
//! model quality JSON), e.g. `binary_classification_metrics.auc.value` or
//! `regression_metrics.rmse.value`.

use std::collections::BTreeSet;

/// The checks a candidate model must pass. The default gate is empty: every model
/// passes, and approval (if any) is the only check.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Gate {
    /// Absolute bounds, one per metric, sorted by metric path.
    pub thresholds: Vec<Threshold>,
    /// Comparisons with the current champion (the model serving in the last
    /// environment), one per metric, sorted by metric path. With no champion yet
    /// (the first model) they pass.
    pub no_regression: Vec<NoRegression>,
    /// Metrics the report must contain even if no check reads them.
    pub required_metrics: Vec<String>,
}

impl Gate {
    /// Every metric the report must contain: the required ones and every metric a
    /// threshold or a no-regression check reads. A missing one fails the gate,
    /// because a check that cannot be made must not pass silently.
    pub fn metrics(&self) -> BTreeSet<&str> {
        self.required_metrics
            .iter()
            .map(String::as_str)
            .chain(self.thresholds.iter().map(|t| t.metric.as_str()))
            .chain(self.no_regression.iter().map(|n| n.metric.as_str()))
            .collect()
    }

    /// Whether any check reads a bias metric (`bias.…`): then the model's
    /// Clarify report is part of the evidence, and its absence fails the gate.
    pub fn reads_bias(&self) -> bool {
        self.metrics()
            .iter()
            .any(|m| m.starts_with(crate::gate::bias::PREFIX))
    }
}

/// `min <= value <= max` (either bound may be absent, not both; `min <= max`).
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub metric: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Threshold {
    /// Whether `value` lies within the bounds (inclusive). NaN never does.
    pub fn admits(&self, value: f64) -> bool {
        !value.is_nan()
            && self.min.is_none_or(|min| value >= min)
            && self.max.is_none_or(|max| value <= max)
    }
}

/// The candidate may be worse than the champion by at most `tolerance` (an
/// absolute amount in the metric's own unit, `>= 0`; default 0: no worse at all).
#[derive(Debug, Clone, PartialEq)]
pub struct NoRegression {
    pub metric: String,
    pub tolerance: f64,
    pub better: Better,
}

impl NoRegression {
    /// Whether `candidate` is no worse than `champion` beyond the tolerance.
    pub fn admits(&self, candidate: f64, champion: f64) -> bool {
        if candidate.is_nan() || champion.is_nan() {
            return false;
        }
        match self.better {
            Better::Higher => candidate >= champion - self.tolerance,
            Better::Lower => candidate <= champion + self.tolerance,
        }
    }
}

/// Which way a metric improves: `higher` (AUC, recall; the default) or `lower`
/// (RMSE, log loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    #[default]
    Higher,
    Lower,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive_and_refuse_nan() {
        let t = Threshold {
            metric: "m".into(),
            min: Some(0.8),
            max: Some(0.9),
        };
        assert!(t.admits(0.8) && t.admits(0.9) && t.admits(0.85));
        assert!(!t.admits(0.79) && !t.admits(0.91) && !t.admits(f64::NAN));
        let only_max = Threshold {
            metric: "m".into(),
            min: None,
            max: Some(1.0),
        };
        assert!(only_max.admits(-5.0));
    }

    #[test]
    fn no_regression_honours_direction_and_tolerance() {
        let auc = NoRegression {
            metric: "auc".into(),
            tolerance: 0.01,
            better: Better::Higher,
        };
        assert!(auc.admits(0.90, 0.905));
        assert!(!auc.admits(0.89, 0.905));
        let rmse = NoRegression {
            metric: "rmse".into(),
            tolerance: 0.0,
            better: Better::Lower,
        };
        assert!(rmse.admits(1.0, 1.0) && rmse.admits(0.9, 1.0));
        assert!(!rmse.admits(1.01, 1.0) && !rmse.admits(f64::NAN, 1.0));
    }

    #[test]
    fn metrics_lists_every_metric_the_gate_reads() {
        let gate = Gate {
            thresholds: vec![Threshold {
                metric: "a".into(),
                min: Some(0.0),
                max: None,
            }],
            no_regression: vec![NoRegression {
                metric: "b".into(),
                tolerance: 0.0,
                better: Better::Higher,
            }],
            required_metrics: vec!["a".into(), "c".into()],
        };
        assert_eq!(
            gate.metrics().into_iter().collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }
}
