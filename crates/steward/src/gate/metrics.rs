//! A model's evaluation report: SageMaker's model-quality JSON.
//!
//! Shape (SageMaker Developer Guide, "Model quality metrics and Amazon
//! CloudWatch monitoring"): one object per problem type,
//! `binary_classification_metrics`, `multiclass_classification_metrics` or
//! `regression_metrics`, each mapping a metric name to
//! `{"value": …, "standard_deviation": …}`; the standard deviation is `"NaN"`
//! (a string) when there were too few samples, and some entries are not
//! metrics of that shape (`confusion_matrix`, curves). Model Monitor's
//! statistics file wraps the same objects with `version` and `dataset`.
//! Metrics are named by their path, e.g. `binary_classification_metrics.auc.value`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::bias::{self, BiasReport};

/// The top-level keys of a model-quality report, one per problem type.
pub const PROBLEM_TYPES: [&str; 3] = [
    "binary_classification_metrics",
    "multiclass_classification_metrics",
    "regression_metrics",
];

/// Why a report is not usable. Each fails the gate with its reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// The package names no model-quality statistics.
    #[error("the model package has no model-quality report (ModelMetrics.ModelQuality.Statistics.S3Uri)")]
    NotRegistered,
    /// The gate reads bias metrics but the package names no bias report.
    #[error(
        "the gate reads bias metrics but the model package has no bias report (ModelMetrics.Bias)"
    )]
    BiasNotRegistered,
    /// The package names a file that is not there.
    #[error("the metrics file {uri} does not exist")]
    Missing { uri: String },
    /// The file is there but is not a model-quality report.
    #[error("the metrics file {uri} is unreadable: {reason}")]
    Unreadable { uri: String, reason: String },
}

/// A parsed model-quality report.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsReport {
    raw: Value,
    /// Clarify's bias metrics, when the gate reads any (`bias.…` paths).
    bias: BiasReport,
}

impl MetricsReport {
    /// Parse a report; `uri` only names it in errors.
    pub fn parse(uri: &str, bytes: &[u8]) -> Result<Self, MetricsError> {
        let unreadable = |reason: String| MetricsError::Unreadable {
            uri: uri.to_string(),
            reason,
        };
        let raw: Value =
            serde_json::from_slice(bytes).map_err(|e| unreadable(format!("not JSON ({e})")))?;
        let Some(object) = raw.as_object() else {
            return Err(unreadable("not a JSON object".into()));
        };
        if !PROBLEM_TYPES
            .iter()
            .any(|t| object.get(*t).is_some_and(Value::is_object))
        {
            return Err(unreadable(format!(
                "none of {} in it",
                PROBLEM_TYPES.join(", ")
            )));
        }
        Ok(Self {
            raw,
            bias: BiasReport::default(),
        })
    }

    /// The same report with the model's bias metrics beside it.
    pub fn with_bias(mut self, bias: BiasReport) -> Self {
        self.bias = bias;
        self
    }

    /// The number at a dotted path, e.g. `regression_metrics.rmse.value`.
    /// `"NaN"`, `"Infinity"` and `"-Infinity"` strings read as those numbers
    /// (SageMaker writes NaN that way); anything else that is not a number is
    /// absent.
    /// Bias metrics are named `bias.…` (see [`bias`]).
    pub fn get(&self, path: &str) -> Option<f64> {
        if path.starts_with(bias::PREFIX) {
            return self.bias.get(path);
        }
        let mut at = &self.raw;
        for part in path.split('.') {
            at = at.as_object()?.get(part)?;
        }
        number(at)
    }

    /// Every `{value}` metric, path → value (`…auc.value` → 0.93), and every
    /// bias metric, sorted.
    pub fn values(&self) -> BTreeMap<String, f64> {
        let mut values = BTreeMap::new();
        for problem in PROBLEM_TYPES {
            let Some(metrics) = self.raw.get(problem).and_then(Value::as_object) else {
                continue;
            };
            for (name, metric) in metrics {
                if let Some(v) = metric.get("value").and_then(number) {
                    values.insert(format!("{problem}.{name}.value"), v);
                }
            }
        }
        values.extend(self.bias.values().iter().map(|(k, v)| (k.clone(), *v)));
        values
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}
