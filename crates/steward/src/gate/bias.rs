//! A model's bias report: the `analysis.json` a SageMaker Clarify job writes
//! and the registry names in `ModelMetrics.Bias` (`Report`, `PreTrainingReport`,
//! `PostTrainingReport`).
//!
//! Shape (SageMaker Developer Guide, "Analysis results"): one section per kind,
//! `pre_training_bias_metrics` and `post_training_bias_metrics`, each with
//! `facets`: facet name → a list of `{ value_or_threshold, metrics: [{ name,
//! description, value }] }`. A metric Clarify could not compute has a `null`
//! value, which reads as NaN: it never satisfies a bound.
//!
//! The gate names a bias metric by
//! `bias.<pre_training|post_training>.<facet>.<value_or_threshold>.<metric>`,
//! e.g. `bias.post_training.gender.F.DPPL`. The facet value is everything
//! between the facet and the last dot, so a value such as `0.5` or
//! `(100.0, 2278.0]` is named as Clarify writes it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::metrics::MetricsError;

/// The prefix of every bias metric path.
pub const PREFIX: &str = "bias.";

/// The report sections and the path segment that names each.
const SECTIONS: [(&str, &str); 2] = [
    ("pre_training_bias_metrics", "pre_training"),
    ("post_training_bias_metrics", "post_training"),
];

/// A bias metric path, taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BiasPath<'a> {
    pub section: &'a str,
    pub facet: &'a str,
    pub value: &'a str,
    pub metric: &'a str,
}

impl<'a> BiasPath<'a> {
    /// `None` unless `path` is `bias.<section>.<facet>.<value>.<metric>` with a
    /// known section, plain facet and metric names and a non-empty value.
    pub fn parse(path: &'a str) -> Option<Self> {
        let rest = path.strip_prefix(PREFIX)?;
        let (section, rest) = rest.split_once('.')?;
        let (facet, rest) = rest.split_once('.')?;
        let (value, metric) = rest.rsplit_once('.')?;
        let plain = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        let known = SECTIONS.iter().any(|(_, name)| *name == section);
        (known && plain(facet) && plain(metric) && !value.is_empty())
            .then_some(Self {
                section,
                facet,
                value,
                metric,
            })
            .filter(|p| !p.value.chars().any(char::is_control))
    }
}

/// Every bias metric of one or more Clarify reports, path → value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BiasReport {
    values: BTreeMap<String, f64>,
}

impl BiasReport {
    /// Parse one `analysis.json`; `uri` only names it in errors. A report
    /// with neither bias section is not a bias report.
    pub fn parse(uri: &str, bytes: &[u8]) -> Result<Self, MetricsError> {
        let unreadable = |reason: String| MetricsError::Unreadable {
            uri: uri.to_string(),
            reason,
        };
        let raw: Value =
            serde_json::from_slice(bytes).map_err(|e| unreadable(format!("not JSON ({e})")))?;
        let mut values = BTreeMap::new();
        let mut sections = 0;
        for (key, name) in SECTIONS {
            let Some(facets) = raw.get(key).and_then(|s| s.get("facets")) else {
                continue;
            };
            let Some(facets) = facets.as_object() else {
                return Err(unreadable(format!("{key}.facets is not an object")));
            };
            sections += 1;
            for (facet, groups) in facets {
                for group in groups.as_array().into_iter().flatten() {
                    let value = match group.get("value_or_threshold") {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) if !other.is_null() => other.to_string(),
                        _ => continue,
                    };
                    for metric in group
                        .get("metrics")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let Some(metric_name) = metric.get("name").and_then(Value::as_str) else {
                            continue;
                        };
                        let number = metric
                            .get("value")
                            .and_then(Value::as_f64)
                            .unwrap_or(f64::NAN);
                        values.insert(
                            format!("{PREFIX}{name}.{facet}.{value}.{metric_name}"),
                            number,
                        );
                    }
                }
            }
        }
        if sections == 0 {
            return Err(unreadable(
                "neither pre_training_bias_metrics nor post_training_bias_metrics in it".into(),
            ));
        }
        Ok(Self { values })
    }

    /// Another report's metrics added (a later one wins on the same path):
    /// the registry may name a pre-training and a post-training report apart.
    pub fn merge(mut self, other: BiasReport) -> Self {
        self.values.extend(other.values);
        self
    }

    pub fn get(&self, path: &str) -> Option<f64> {
        self.values.get(path).copied()
    }

    pub fn values(&self) -> &BTreeMap<String, f64> {
        &self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{
      "version": "1.0",
      "pre_training_bias_metrics": {
        "label": "fraud",
        "facets": {"region": [{"value_or_threshold": "north",
          "metrics": [{"name": "CI", "description": "Class Imbalance (CI)", "value": -0.2}]}]},
        "label_value_or_threshold": "1"
      },
      "post_training_bias_metrics": {
        "label": "fraud",
        "facets": {
          "region": [{"value_or_threshold": "north", "metrics": [
            {"name": "DPPL", "description": "Difference in Positive Proportions in Predicted Labels (DPPL)", "value": 0.04},
            {"name": "DI", "description": "Disparate Impact (DI)", "value": null}]}],
          "amount": [{"value_or_threshold": "(100.0, 2278.0]", "metrics": [
            {"name": "AD", "description": "Accuracy Difference (AD)", "value": 0.0087}]}]
        },
        "label_value_or_threshold": "1"
      }
    }"#;

    #[test]
    fn every_section_facet_and_metric_is_named_by_its_path() {
        let report = BiasReport::parse("s3://b/analysis.json", REPORT.as_bytes()).unwrap();
        assert_eq!(report.get("bias.pre_training.region.north.CI"), Some(-0.2));
        assert_eq!(
            report.get("bias.post_training.region.north.DPPL"),
            Some(0.04)
        );
        assert_eq!(
            report.get("bias.post_training.amount.(100.0, 2278.0].AD"),
            Some(0.0087)
        );
        assert!(report
            .get("bias.post_training.region.north.DI")
            .unwrap()
            .is_nan());
        assert_eq!(report.get("bias.post_training.region.south.DPPL"), None);
        assert_eq!(report.values().len(), 4);
    }

    #[test]
    fn a_file_without_bias_sections_is_unreadable_with_the_reason() {
        for (body, says) in [
            ("not json", "not JSON"),
            (r#"{"binary_classification_metrics": {}}"#, "neither"),
            (
                r#"{"post_training_bias_metrics": {"facets": []}}"#,
                "not an object",
            ),
        ] {
            let err = BiasReport::parse("s3://b/k", body.as_bytes()).unwrap_err();
            assert!(err.to_string().contains(says), "{err}");
        }
    }

    #[test]
    fn a_bias_path_names_section_facet_value_and_metric() {
        let path = BiasPath::parse("bias.post_training.amount.(100.0, 2278.0].AD").unwrap();
        assert_eq!(
            path,
            BiasPath {
                section: "post_training",
                facet: "amount",
                value: "(100.0, 2278.0]",
                metric: "AD"
            }
        );
        assert_eq!(
            BiasPath::parse("bias.post_training.gender.0.5.DPPL").map(|p| p.value),
            Some("0.5")
        );
        for bad in [
            "bias.in_training.gender.F.DPPL",
            "bias.post_training.gender.DPPL",
            "bias.post_training..F.DPPL",
            "bias.post_training.gender.F.",
            "binary_classification_metrics.auc.value",
        ] {
            assert_eq!(BiasPath::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn merged_reports_keep_both_and_the_later_wins() {
        let pre = BiasReport::parse(
            "a",
            br#"{"pre_training_bias_metrics": {"facets": {"f": [{"value_or_threshold": "x", "metrics": [{"name": "CI", "value": 0.1}]}]}}}"#,
        )
        .unwrap();
        let post = BiasReport::parse(
            "b",
            br#"{"post_training_bias_metrics": {"facets": {"f": [{"value_or_threshold": "x", "metrics": [{"name": "DPPL", "value": 0.2}]}]}}}"#,
        )
        .unwrap();
        let merged = pre.merge(post);
        assert_eq!(merged.get("bias.pre_training.f.x.CI"), Some(0.1));
        assert_eq!(merged.get("bias.post_training.f.x.DPPL"), Some(0.2));
    }
}
