//! Window against baseline: scores per feature, thresholds, one verdict.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::baseline::{Baseline, Distribution};
use crate::metrics::{chi_squared, jensen_shannon, ks_binned, psi};
use crate::stats::{FeatureStats, WindowStats, OTHER_CATEGORY};

/// PSI above 0.2 is the usual "significant shift" line.
pub const DEFAULT_PSI: f64 = 0.2;
/// Binned KS statistic above which a numerical feature counts as drifted.
pub const DEFAULT_KS: f64 = 0.1;
/// Jensen–Shannon distance (base 2) above which a categorical feature drifted
/// (Evidently's default for large samples).
pub const DEFAULT_JS: f64 = 0.1;

/// Limits per metric; `None` leaves the metric out of the verdict (it is
/// still computed and reported).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub psi: Option<f64>,
    pub ks: Option<f64>,
    pub js: Option<f64>,
    /// Drifted when the chi-squared p-value is below this. Off by default: on a
    /// window of thousands of rows every tiny change is "significant".
    pub chi_squared_p: Option<f64>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            psi: Some(DEFAULT_PSI),
            ks: Some(DEFAULT_KS),
            js: Some(DEFAULT_JS),
            chi_squared_p: None,
        }
    }
}

/// What the verdict needs besides the data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DriftConfig {
    pub thresholds: Thresholds,
    /// Per feature, replacing the defaults for that feature.
    pub features: BTreeMap<String, Thresholds>,
    /// Fewer rows than this give [`Status::TooFewRows`], not a verdict.
    pub min_rows: u64,
}

impl DriftConfig {
    pub fn thresholds_for(&self, feature: &str) -> Thresholds {
        self.features
            .get(feature)
            .copied()
            .unwrap_or(self.thresholds)
    }
}

/// The verdict on a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// At least one feature crossed a threshold.
    Drift,
    /// Every feature within its thresholds.
    NoDrift,
    /// No capture in the window: nothing to judge.
    EmptyWindow,
    /// Some rows, fewer than `min_rows`: too few to judge.
    TooFewRows,
    /// Requests came, but none fit the baseline's features.
    SchemaMismatch,
    /// No baseline to compare with.
    NoBaseline,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Drift => "drift",
            Status::NoDrift => "no-drift",
            Status::EmptyWindow => "empty-window",
            Status::TooFewRows => "too-few-rows",
            Status::SchemaMismatch => "schema-mismatch",
            Status::NoBaseline => "no-baseline",
        }
    }
}

/// Scores of one feature; the ones that do not apply to its kind are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scores {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psi: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ks: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub js: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chi_squared: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chi_squared_p: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureDrift {
    pub name: String,
    /// `numerical` or `categorical`.
    pub kind: String,
    /// Values counted in the window's distribution.
    pub present: u64,
    pub missing: u64,
    pub type_violations: u64,
    pub scores: Scores,
    pub drifted: bool,
    /// The metrics that crossed their threshold (`psi`, `ks`, `js`, `chi-squared`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crossed: Vec<String>,
}

/// The result of one drift check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftReport {
    pub status: Status,
    /// Human-readable reason for the status.
    pub reason: String,
    pub objects: u64,
    pub records: u64,
    pub rows: u64,
    pub corrupt_lines: u64,
    pub schema_mismatches: u64,
    pub features: Vec<FeatureDrift>,
}

impl DriftReport {
    /// The names of the drifted features.
    pub fn drifted(&self) -> Vec<&str> {
        self.features
            .iter()
            .filter(|f| f.drifted)
            .map(|f| f.name.as_str())
            .collect()
    }

    /// A report without a baseline: the window's counts, no scores.
    pub fn no_baseline(reason: impl Into<String>, window: Option<&WindowStats>) -> Self {
        DriftReport {
            status: Status::NoBaseline,
            reason: reason.into(),
            objects: window.map_or(0, |w| w.objects),
            records: window.map_or(0, |w| w.records),
            rows: window.map_or(0, |w| w.rows),
            corrupt_lines: window.map_or(0, |w| w.corrupt_lines),
            schema_mismatches: window.map_or(0, |w| w.schema_mismatches),
            features: Vec::new(),
        }
    }
}

/// Score every feature and decide.
pub fn compare(baseline: &Baseline, window: &WindowStats, config: &DriftConfig) -> DriftReport {
    let features: Vec<FeatureDrift> = baseline
        .features
        .iter()
        .zip(&window.features)
        .map(|(base, stats)| {
            let thresholds = config.thresholds_for(&base.name);
            let scores = score(&base.distribution, stats);
            let crossed = crossed(&scores, &thresholds);
            FeatureDrift {
                name: base.name.clone(),
                kind: base.distribution.kind().to_string(),
                present: stats.present(),
                missing: stats.missing(),
                type_violations: stats.type_violations(),
                scores,
                drifted: !crossed.is_empty(),
                crossed,
            }
        })
        .collect();
    let (status, reason) = verdict(window, config, &features);
    DriftReport {
        status,
        reason,
        objects: window.objects,
        records: window.records,
        rows: window.rows,
        corrupt_lines: window.corrupt_lines,
        schema_mismatches: window.schema_mismatches,
        features,
    }
}

fn verdict(
    window: &WindowStats,
    config: &DriftConfig,
    features: &[FeatureDrift],
) -> (Status, String) {
    if window.rows == 0 {
        return if window.schema_mismatches > 0 {
            (
                Status::SchemaMismatch,
                format!(
                    "{} rows did not fit the baseline's {} features",
                    window.schema_mismatches,
                    features.len()
                ),
            )
        } else if window.corrupt_lines > 0 {
            (
                Status::EmptyWindow,
                format!(
                    "no readable capture in the window ({} corrupt lines)",
                    window.corrupt_lines
                ),
            )
        } else {
            (Status::EmptyWindow, "no capture in the window".to_string())
        };
    }
    if window.rows < config.min_rows {
        return (
            Status::TooFewRows,
            format!(
                "{} rows, fewer than the {} needed",
                window.rows, config.min_rows
            ),
        );
    }
    let drifted: Vec<&str> = features
        .iter()
        .filter(|f| f.drifted)
        .map(|f| f.name.as_str())
        .collect();
    if drifted.is_empty() {
        (
            Status::NoDrift,
            format!("{} features within their thresholds", features.len()),
        )
    } else {
        (Status::Drift, format!("drift in {}", drifted.join(", ")))
    }
}

fn score(base: &Distribution, stats: &FeatureStats) -> Scores {
    match (base, stats) {
        (Distribution::Numerical { counts, .. }, FeatureStats::Numerical(window)) => Scores {
            psi: psi(counts, &window.counts),
            ks: ks_binned(counts, &window.counts),
            ..Scores::default()
        },
        (Distribution::Categorical { categories }, FeatureStats::Categorical(window)) => {
            let (base_counts, window_counts) = align(categories, window);
            let chi = chi_squared(&base_counts, &window_counts);
            Scores {
                js: jensen_shannon(&base_counts, &window_counts),
                chi_squared: chi.map(|c| c.0),
                chi_squared_p: chi.map(|c| c.1),
                ..Scores::default()
            }
        }
        _ => Scores::default(),
    }
}

/// Baseline categories in baseline order, then unseen ones by name, then the
/// overflow bucket: the order the Python peer uses too.
fn align(
    categories: &[crate::baseline::Category],
    window: &crate::stats::CategoricalStats,
) -> (Vec<u64>, Vec<u64>) {
    let known = window.baseline_categories;
    let mut base: Vec<u64> = categories.iter().map(|c| c.count).collect();
    let mut counts: Vec<u64> = window.counts[..known].to_vec();
    let mut unseen: Vec<(&str, u64)> = window.values[known..]
        .iter()
        .map(|v| &**v)
        .zip(window.counts[known..].iter().copied())
        .collect();
    unseen.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (_, count) in unseen {
        base.push(0);
        counts.push(count);
    }
    if window.other > 0 {
        debug_assert!(!window.values.iter().any(|v| &**v == OTHER_CATEGORY));
        base.push(0);
        counts.push(window.other);
    }
    (base, counts)
}

fn crossed(scores: &Scores, limits: &Thresholds) -> Vec<String> {
    let above = |score: Option<f64>, limit: Option<f64>| matches!((score, limit), (Some(s), Some(l)) if s > l);
    let mut crossed = Vec::new();
    if above(scores.psi, limits.psi) {
        crossed.push("psi".to_string());
    }
    if above(scores.ks, limits.ks) {
        crossed.push("ks".to_string());
    }
    if above(scores.js, limits.js) {
        crossed.push("js".to_string());
    }
    if matches!((scores.chi_squared_p, limits.chi_squared_p), (Some(p), Some(alpha)) if p < alpha) {
        crossed.push("chi-squared".to_string());
    }
    crossed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{BaselineFeature, Binning, Category, BASELINE_FORMAT};
    use crate::stats::read_all;

    fn baseline() -> Baseline {
        Baseline {
            format: BASELINE_FORMAT.into(),
            rows: 100,
            binning: Binning::Quantile,
            features: vec![
                BaselineFeature {
                    name: "amount".into(),
                    missing: 0,
                    distribution: Distribution::Numerical {
                        edges: vec![10.0],
                        counts: vec![50, 50],
                    },
                },
                BaselineFeature {
                    name: "country".into(),
                    missing: 0,
                    distribution: Distribution::Categorical {
                        categories: vec![
                            Category {
                                value: "DE".into(),
                                count: 50,
                            },
                            Category {
                                value: "FR".into(),
                                count: 50,
                            },
                        ],
                    },
                },
            ],
        }
    }

    fn window(rows: &[(&str, &str)]) -> WindowStats {
        let mut stats = WindowStats::new(&baseline());
        let body: Vec<String> = rows
            .iter()
            .map(|(a, c)| {
                serde_json::json!({"captureData": {"endpointInput": {
                    "observedContentType": "text/csv", "mode": "INPUT",
                    "data": format!("{a},{c}"), "encoding": "CSV"}}})
                .to_string()
            })
            .collect();
        read_all(&mut stats, body.join("\n").as_bytes());
        stats
    }

    fn repeat(n: usize, row: (&'static str, &'static str)) -> Vec<(&'static str, &'static str)> {
        vec![row; n]
    }

    #[test]
    fn same_shares_no_drift() {
        let rows = [repeat(2, ("5", "DE")), repeat(2, ("15", "FR"))].concat();
        let report = compare(&baseline(), &window(&rows), &DriftConfig::default());
        assert_eq!(report.status, Status::NoDrift, "{report:?}");
        assert_eq!(report.rows, 4);
        let amount = &report.features[0];
        assert_eq!(amount.scores.ks, Some(0.0));
        assert!(amount.scores.psi.unwrap().abs() < 1e-12);
        assert_eq!(amount.scores.js, None);
        assert!(report.drifted().is_empty());
    }

    #[test]
    fn a_shift_is_drift_with_hand_computed_scores() {
        // amount: window [25, 75] against [50, 50]; country: 25 DE, 75 FR.
        let rows = [repeat(25, ("5", "DE")), repeat(75, ("15", "FR"))].concat();
        let report = compare(&baseline(), &window(&rows), &DriftConfig::default());
        assert_eq!(report.status, Status::Drift);
        assert_eq!(report.drifted(), ["amount", "country"]);
        let amount = &report.features[0];
        assert!((amount.scores.psi.unwrap() - 0.274_653_072_167_027).abs() < 1e-9);
        assert!((amount.scores.ks.unwrap() - 0.25).abs() < 1e-12);
        assert_eq!(amount.crossed, ["psi", "ks"]);
        let country = &report.features[1];
        assert!((country.scores.js.unwrap() - 0.220_895_768_849_017).abs() < 1e-9);
        assert!((country.scores.chi_squared.unwrap() - 25.0).abs() < 1e-9);
        assert_eq!(country.crossed, ["js"]);
        assert_eq!(report.reason, "drift in amount, country");
    }

    #[test]
    fn per_feature_thresholds_replace_the_defaults() {
        let rows = [repeat(25, ("5", "DE")), repeat(75, ("15", "FR"))].concat();
        let config = DriftConfig {
            features: BTreeMap::from([
                (
                    "amount".to_string(),
                    Thresholds {
                        psi: Some(0.5),
                        ks: Some(0.3),
                        js: None,
                        chi_squared_p: None,
                    },
                ),
                (
                    "country".to_string(),
                    Thresholds {
                        psi: None,
                        ks: None,
                        js: Some(0.5),
                        chi_squared_p: Some(0.01),
                    },
                ),
            ]),
            ..DriftConfig::default()
        };
        let report = compare(&baseline(), &window(&rows), &config);
        assert_eq!(report.drifted(), ["country"]);
        assert_eq!(report.features[1].crossed, ["chi-squared"]);
        assert!(!report.features[0].drifted);
    }

    #[test]
    fn unseen_categories_count_against_the_baseline() {
        // DE 50, ES 50 vs DE 50, FR 50: p = [.5, .5, 0], q = [.5, 0, .5]
        // JS: m = [.5, .25, .25]; KL(p‖m) = .5·log2(2) = .5 = KL(q‖m) → √.5
        let rows = [repeat(50, ("5", "DE")), repeat(50, ("5", "ES"))].concat();
        let report = compare(&baseline(), &window(&rows), &DriftConfig::default());
        let js = report.features[1].scores.js.unwrap();
        assert!((js - 0.5f64.sqrt()).abs() < 1e-12, "{js}");
    }

    #[test]
    fn empty_window_too_few_rows_and_schema_mismatch_are_clear() {
        let empty = compare(&baseline(), &window(&[]), &DriftConfig::default());
        assert_eq!(empty.status, Status::EmptyWindow);
        assert_eq!(empty.reason, "no capture in the window");
        assert!(empty.features.iter().all(|f| f.scores == Scores::default()));

        let config = DriftConfig {
            min_rows: 10,
            ..DriftConfig::default()
        };
        let few = compare(&baseline(), &window(&[("5", "DE")]), &config);
        assert_eq!(few.status, Status::TooFewRows);

        let mut stats = WindowStats::new(&baseline());
        let line = r#"{"captureData":{"endpointInput":{"data":"1,2,3","encoding":"CSV"}}}"#;
        read_all(&mut stats, line.as_bytes());
        let mismatch = compare(&baseline(), &stats, &DriftConfig::default());
        assert_eq!(mismatch.status, Status::SchemaMismatch);
        assert_eq!(mismatch.schema_mismatches, 1);

        let no_baseline = DriftReport::no_baseline("s3://b/baseline.json not found", None);
        assert_eq!(no_baseline.status, Status::NoBaseline);
        let json = serde_json::to_value(&no_baseline).unwrap();
        assert_eq!(json["status"], "no-baseline");
    }
}
