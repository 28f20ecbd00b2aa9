//! SageMaker Model Monitor baselines (Deequ): `statistics.json`, optionally
//! with `constraints.json`, as a [`Baseline`].
//!
//! Shapes: "Schema for Statistics" and "Schema for Constraints" in the
//! SageMaker Developer Guide. Numerical features carry a KLL distribution
//! materialized in 10 buckets (`lower_bound`, `upper_bound`, `count`); their
//! interior boundaries become the bin edges. String features carry
//! `distribution.categorical.buckets` (`value`, `count`). The constraints'
//! `inferred_type` overrides the statistics' (a feature the constraints call
//! `String` is categorical); features the constraints do not list are kept.

use serde::Deserialize;

use crate::baseline::{
    Baseline, BaselineFeature, Binning, Category, Distribution, BASELINE_FORMAT,
};
use crate::error::BaselineError;

#[derive(Deserialize)]
struct Statistics {
    #[serde(default)]
    dataset: Option<Dataset>,
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Dataset {
    item_count: f64,
}

#[derive(Deserialize)]
struct Feature {
    name: String,
    #[serde(default)]
    inferred_type: Option<String>,
    #[serde(default)]
    numerical_statistics: Option<NumericalStatistics>,
    #[serde(default)]
    string_statistics: Option<StringStatistics>,
}

#[derive(Deserialize)]
struct Common {
    #[serde(default)]
    num_missing: f64,
}

#[derive(Deserialize)]
struct NumericalStatistics {
    common: Common,
    distribution: NumericalDistribution,
}

#[derive(Deserialize)]
struct NumericalDistribution {
    kll: Kll,
}

#[derive(Deserialize)]
struct Kll {
    buckets: Vec<KllBucket>,
}

#[derive(Deserialize)]
struct KllBucket {
    lower_bound: f64,
    upper_bound: f64,
    count: f64,
}

#[derive(Deserialize)]
struct StringStatistics {
    common: Common,
    distribution: StringDistribution,
}

#[derive(Deserialize)]
struct StringDistribution {
    categorical: Categorical,
}

#[derive(Deserialize)]
struct Categorical {
    buckets: Vec<CategoricalBucket>,
}

#[derive(Deserialize)]
struct CategoricalBucket {
    value: String,
    count: f64,
}

#[derive(Deserialize)]
struct Constraints {
    features: Vec<ConstraintFeature>,
}

#[derive(Deserialize)]
struct ConstraintFeature {
    name: String,
    #[serde(default)]
    inferred_type: Option<String>,
}

/// Read Model Monitor's baseline files.
pub fn from_deequ(
    statistics: &[u8],
    constraints: Option<&[u8]>,
) -> Result<Baseline, BaselineError> {
    let stats: Statistics = serde_json::from_slice(statistics)
        .map_err(|e| BaselineError::Unreadable(format!("statistics.json: {e}")))?;
    let constraints: Option<Constraints> = constraints
        .map(|c| {
            serde_json::from_slice(c)
                .map_err(|e| BaselineError::Unreadable(format!("constraints.json: {e}")))
        })
        .transpose()?;
    let declared = |name: &str| -> Option<String> {
        constraints
            .as_ref()?
            .features
            .iter()
            .find(|f| f.name == name)?
            .inferred_type
            .clone()
    };
    let mut features = Vec::with_capacity(stats.features.len());
    for feature in stats.features {
        let kind = declared(&feature.name).or(feature.inferred_type.clone());
        let invalid = |reason: &str| BaselineError::Invalid {
            feature: feature.name.clone(),
            reason: reason.to_string(),
        };
        let (distribution, missing) = if kind.as_deref() == Some("String") {
            let s = feature
                .string_statistics
                .as_ref()
                .ok_or_else(|| invalid("a String feature without string_statistics"))?;
            let categories = s
                .distribution
                .categorical
                .buckets
                .iter()
                .map(|b| Category {
                    value: b.value.clone(),
                    count: count(b.count),
                })
                .collect();
            (
                Distribution::Categorical { categories },
                s.common.num_missing,
            )
        } else {
            let n = feature
                .numerical_statistics
                .as_ref()
                .ok_or_else(|| invalid("a numerical feature without numerical_statistics"))?;
            let buckets = &n.distribution.kll.buckets;
            if buckets.is_empty() {
                return Err(invalid("no KLL buckets"));
            }
            if buckets.iter().any(|b| b.lower_bound > b.upper_bound) {
                return Err(invalid(
                    "a KLL bucket's lower bound is above its upper bound",
                ));
            }
            // Interior boundaries; a constant feature has buckets of width 0,
            // whose equal boundaries are merged with their counts.
            let mut edges: Vec<f64> = Vec::new();
            let mut counts: Vec<u64> = vec![count(buckets[0].count)];
            for bucket in &buckets[1..] {
                let edge = bucket.lower_bound;
                if edges.last().is_none_or(|&last| edge > last) && edge > buckets[0].lower_bound {
                    edges.push(edge);
                    counts.push(count(bucket.count));
                } else {
                    *counts.last_mut().expect("never empty") += count(bucket.count);
                }
            }
            (
                Distribution::Numerical { edges, counts },
                n.common.num_missing,
            )
        };
        features.push(BaselineFeature {
            name: feature.name,
            missing: count(missing),
            distribution,
        });
    }
    let baseline = Baseline {
        format: BASELINE_FORMAT.into(),
        rows: stats.dataset.map_or(0, |d| count(d.item_count)),
        binning: Binning::Imported,
        features,
    };
    baseline.validate()?;
    Ok(baseline)
}

fn count(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.round() as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATISTICS: &str = r#"{
      "version": 0,
      "dataset": { "item_count": 100 },
      "features": [
        { "name": "amount", "inferred_type": "Fractional",
          "numerical_statistics": {
            "common": { "num_present": 98, "num_missing": 2 },
            "mean": 5.0, "sum": 490.0, "std_dev": 2.0, "min": 0.0, "max": 30.0,
            "distribution": { "kll": {
              "buckets": [
                { "lower_bound": 0.0, "upper_bound": 10.0, "count": 50.0 },
                { "lower_bound": 10.0, "upper_bound": 20.0, "count": 40.0 },
                { "lower_bound": 20.0, "upper_bound": 30.0, "count": 8.0 } ],
              "sketch": { "parameters": { "c": 0.64, "k": 2048.0 }, "data": [[1.0, 2.0]] } } } } },
        { "name": "code", "inferred_type": "Integral",
          "numerical_statistics": {
            "common": { "num_present": 100, "num_missing": 0 },
            "distribution": { "kll": { "buckets": [
                { "lower_bound": 7.0, "upper_bound": 7.0, "count": 60.0 },
                { "lower_bound": 7.0, "upper_bound": 7.0, "count": 40.0 } ] } } },
          "string_statistics": {
            "common": { "num_present": 100, "num_missing": 0 },
            "distinct_count": 1,
            "distribution": { "categorical": { "buckets": [ { "value": "7", "count": 100 } ] } } } },
        { "name": "country", "inferred_type": "String",
          "string_statistics": {
            "common": { "num_present": 100, "num_missing": 0 },
            "distinct_count": 2.0,
            "distribution": { "categorical": { "buckets": [
                { "value": "DE", "count": 70 }, { "value": "FR", "count": 30 } ] } } } }
      ]
    }"#;

    #[test]
    fn kll_buckets_become_bins_and_categorical_buckets_categories() {
        let baseline = from_deequ(STATISTICS.as_bytes(), None).unwrap();
        assert_eq!(baseline.rows, 100);
        assert_eq!(baseline.binning, Binning::Imported);
        let amount = baseline.feature("amount").unwrap();
        assert_eq!(amount.missing, 2);
        assert_eq!(
            amount.distribution,
            Distribution::Numerical {
                edges: vec![10.0, 20.0],
                counts: vec![50, 40, 8]
            }
        );
        // A constant feature: one bin holding everything.
        assert_eq!(
            baseline.feature("code").unwrap().distribution,
            Distribution::Numerical {
                edges: vec![],
                counts: vec![100]
            }
        );
        let country = baseline.feature("country").unwrap();
        assert_eq!(country.distribution.kind(), "categorical");
    }

    #[test]
    fn constraints_decide_the_type() {
        let constraints = r#"{ "version": 0, "features": [
            { "name": "code", "inferred_type": "String", "completeness": 1.0,
              "string_constraints": { "domains": ["7"] } } ],
          "monitoring_config": { "evaluate_constraints": "Enabled", "emit_metrics": "Enabled",
            "distribution_constraints": { "perform_comparison": "Enabled",
              "comparison_threshold": 0.1, "comparison_method": "Robust" } } }"#;
        let baseline = from_deequ(STATISTICS.as_bytes(), Some(constraints.as_bytes())).unwrap();
        assert_eq!(
            baseline.feature("code").unwrap().distribution,
            Distribution::Categorical {
                categories: vec![Category {
                    value: "7".into(),
                    count: 100
                }]
            }
        );
    }

    #[test]
    fn broken_files_are_typed_errors() {
        assert_eq!(
            from_deequ(b"{}", None).unwrap_err().error_type(),
            "baseline_unreadable"
        );
        let no_stats = r#"{"features":[{"name":"x","inferred_type":"Fractional"}]}"#;
        assert_eq!(
            from_deequ(no_stats.as_bytes(), None)
                .unwrap_err()
                .error_type(),
            "baseline_invalid"
        );
        assert_eq!(
            from_deequ(STATISTICS.as_bytes(), Some(b"["))
                .unwrap_err()
                .error_type(),
            "baseline_unreadable"
        );
    }
}
