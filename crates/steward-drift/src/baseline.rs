//! The baseline: what each feature looked like in the training data.
//!
//! Steward's own format (written by `steward baseline`, read by the monitor):
//!
//! ```json
//! { "format": "steward-baseline/1", "rows": 600, "binning": "quantile",
//!   "features": [
//!     { "name": "amount", "type": "numerical", "missing": 0,
//!       "edges": [120.5, 480.0], "counts": [200, 200, 200] },
//!     { "name": "country", "type": "categorical", "missing": 3,
//!       "categories": [ { "value": "DE", "count": 400 }, { "value": "FR", "count": 197 } ] } ] }
//! ```
//!
//! Features are listed in the order of the model's input columns: a CSV request
//! is matched to them by position, a JSON object by name. `edges` are the
//! interior bin edges (strictly increasing), so `counts` has one more entry.

use serde::{Deserialize, Serialize};

use crate::error::BaselineError;

/// The value of `format` in Steward's baseline JSON.
pub const BASELINE_FORMAT: &str = "steward-baseline/1";

/// How the numerical bin edges were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Binning {
    /// Edges at the training data's quantiles (k-quantiles, numpy's default
    /// linear interpolation), equal edges merged: every bin holds about the same
    /// share of the training data, so PSI has no near-empty baseline bins.
    #[default]
    Quantile,
    /// Equal-width bins between the training minimum and maximum.
    Fixed,
    /// Taken from another tool's baseline (Model Monitor's KLL buckets).
    Imported,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub format: String,
    /// Training rows the baseline was made from.
    pub rows: u64,
    #[serde(default)]
    pub binning: Binning,
    pub features: Vec<BaselineFeature>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineFeature {
    pub name: String,
    /// Training rows where the feature was empty or null.
    #[serde(default)]
    pub missing: u64,
    #[serde(flatten)]
    pub distribution: Distribution,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Distribution {
    Numerical { edges: Vec<f64>, counts: Vec<u64> },
    Categorical { categories: Vec<Category> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub value: String,
    pub count: u64,
}

impl Distribution {
    pub fn kind(&self) -> &'static str {
        match self {
            Distribution::Numerical { .. } => "numerical",
            Distribution::Categorical { .. } => "categorical",
        }
    }
}

impl Baseline {
    /// Read a Steward baseline (`format` = [`BASELINE_FORMAT`]).
    pub fn from_json(text: &[u8]) -> Result<Baseline, BaselineError> {
        let baseline: Baseline =
            serde_json::from_slice(text).map_err(|e| BaselineError::Unreadable(e.to_string()))?;
        if baseline.format != BASELINE_FORMAT {
            return Err(BaselineError::Unreadable(format!(
                "format is `{}`, expected `{BASELINE_FORMAT}`",
                baseline.format
            )));
        }
        baseline.validate()?;
        Ok(baseline)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a baseline always serializes")
    }

    pub fn feature(&self, name: &str) -> Option<&BaselineFeature> {
        self.features.iter().find(|f| f.name == name)
    }

    /// Edges strictly increasing and finite, one count more than edges, names
    /// unique: everything the statistics rely on.
    pub fn validate(&self) -> Result<(), BaselineError> {
        if self.features.is_empty() {
            return Err(BaselineError::NoFeatures);
        }
        let invalid = |f: &BaselineFeature, reason: String| BaselineError::Invalid {
            feature: f.name.clone(),
            reason,
        };
        for (i, f) in self.features.iter().enumerate() {
            if f.name.is_empty() {
                return Err(invalid(f, "the name is empty".into()));
            }
            if self.features[..i].iter().any(|g| g.name == f.name) {
                return Err(invalid(f, "the name appears twice".into()));
            }
            match &f.distribution {
                Distribution::Numerical { edges, counts } => {
                    if edges.iter().any(|e| !e.is_finite()) {
                        return Err(invalid(f, "an edge is not a finite number".into()));
                    }
                    if edges.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(invalid(f, "edges must be strictly increasing".into()));
                    }
                    if counts.len() != edges.len() + 1 {
                        return Err(invalid(
                            f,
                            format!(
                                "{} edges need {} counts, found {}",
                                edges.len(),
                                edges.len() + 1,
                                counts.len()
                            ),
                        ));
                    }
                }
                Distribution::Categorical { categories } => {
                    for (j, c) in categories.iter().enumerate() {
                        if categories[..j].iter().any(|d| d.value == c.value) {
                            return Err(invalid(
                                f,
                                format!("category `{}` appears twice", c.value),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numerical(name: &str, edges: Vec<f64>, counts: Vec<u64>) -> BaselineFeature {
        BaselineFeature {
            name: name.into(),
            missing: 0,
            distribution: Distribution::Numerical { edges, counts },
        }
    }

    fn baseline(features: Vec<BaselineFeature>) -> Baseline {
        Baseline {
            format: BASELINE_FORMAT.into(),
            rows: 10,
            binning: Binning::Quantile,
            features,
        }
    }

    #[test]
    fn round_trips_through_its_json() {
        let b = baseline(vec![
            numerical("amount", vec![1.0, 2.0], vec![3, 4, 3]),
            BaselineFeature {
                name: "country".into(),
                missing: 2,
                distribution: Distribution::Categorical {
                    categories: vec![Category {
                        value: "DE".into(),
                        count: 8,
                    }],
                },
            },
        ]);
        let json = b.to_json();
        assert!(json.contains("\"type\": \"numerical\""), "{json}");
        assert!(
            json.contains("\"format\": \"steward-baseline/1\""),
            "{json}"
        );
        assert_eq!(Baseline::from_json(json.as_bytes()).unwrap(), b);
    }

    #[test]
    fn rejects_what_the_statistics_cannot_use() {
        let cases = [
            (baseline(vec![]), "baseline_empty"),
            (
                baseline(vec![numerical("a", vec![2.0, 1.0], vec![1, 1, 1])]),
                "baseline_invalid",
            ),
            (
                baseline(vec![numerical("a", vec![1.0], vec![1, 1, 1])]),
                "baseline_invalid",
            ),
            (
                baseline(vec![
                    numerical("a", vec![1.0], vec![1, 1]),
                    numerical("a", vec![1.0], vec![1, 1]),
                ]),
                "baseline_invalid",
            ),
        ];
        for (b, expected) in cases {
            assert_eq!(b.validate().unwrap_err().error_type(), expected, "{b:?}");
        }
    }

    #[test]
    fn unknown_formats_and_garbage_are_unreadable() {
        let other = br#"{"format":"other/2","rows":1,"features":[]}"#;
        assert_eq!(
            Baseline::from_json(other).unwrap_err().error_type(),
            "baseline_unreadable"
        );
        assert_eq!(
            Baseline::from_json(b"not json").unwrap_err().error_type(),
            "baseline_unreadable"
        );
    }
}
