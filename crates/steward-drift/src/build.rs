//! Making a baseline from training data (CSV with a header, or JSON lines of
//! objects), as `steward baseline` does.
//!
//! Unlike the monitor, the builder keeps each numerical column's values in
//! memory: quantile edges need them all, and training data is what the
//! training step already held. A column is numerical when every non-empty value
//! parses as a number, categorical otherwise (or when named in
//! [`BuildOptions::categorical`]).

use std::collections::HashMap;
use std::io::BufRead;

use serde_json::Value;

use crate::baseline::{
    Baseline, BaselineFeature, Binning, Category, Distribution, BASELINE_FORMAT,
};
use crate::error::BaselineError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Csv,
    JsonLines,
}

impl InputFormat {
    /// By file name: `.jsonl`/`.ndjson`/`.json` are JSON lines, anything else CSV.
    pub fn from_path(path: &str) -> InputFormat {
        let lower = path.to_ascii_lowercase();
        if [".jsonl", ".ndjson", ".json"]
            .iter()
            .any(|s| lower.ends_with(s))
        {
            InputFormat::JsonLines
        } else {
            InputFormat::Csv
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BuildOptions {
    pub format: InputFormat,
    /// The model's input columns, in the order requests send them. Empty: every
    /// column except `exclude`, in file order.
    pub features: Vec<String>,
    /// Columns that are not model inputs (the label, ids).
    pub exclude: Vec<String>,
    /// Columns to treat as categorical even if they look numeric.
    pub categorical: Vec<String>,
    pub binning: Binning,
    /// Number of bins for numerical features (before equal edges merge).
    pub bins: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            format: InputFormat::Csv,
            features: Vec::new(),
            exclude: Vec::new(),
            categorical: Vec::new(),
            binning: Binning::Quantile,
            bins: 10,
        }
    }
}

/// Collects training rows, then [`BaselineBuilder::finish`]es a baseline.
pub struct BaselineBuilder {
    options: BuildOptions,
    columns: Vec<Column>,
    rows: u64,
}

struct Column {
    name: String,
    numbers: Vec<f64>,
    texts: Vec<(String, u64)>,
    text_index: HashMap<String, usize>,
    missing: u64,
    /// A value that is not a number was seen.
    not_numeric: bool,
}

impl Column {
    fn new(name: String) -> Self {
        Column {
            name,
            numbers: Vec::new(),
            texts: Vec::new(),
            text_index: HashMap::new(),
            missing: 0,
            not_numeric: false,
        }
    }

    fn observe(&mut self, text: &str) {
        let text = text.trim();
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        if text.is_empty() {
            self.missing += 1;
            return;
        }
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => self.numbers.push(x),
            _ => self.not_numeric = true,
        }
        match self.text_index.get(text) {
            Some(&i) => self.texts[i].1 += 1,
            None => {
                self.text_index.insert(text.to_string(), self.texts.len());
                self.texts.push((text.to_string(), 1));
            }
        }
    }
}

impl BaselineBuilder {
    pub fn new(options: BuildOptions) -> Self {
        BaselineBuilder {
            options,
            columns: Vec::new(),
            rows: 0,
        }
    }

    /// Read the whole training file.
    pub fn read<R: BufRead>(&mut self, reader: R) -> Result<(), BaselineError> {
        match self.options.format {
            InputFormat::Csv => self.read_csv(reader),
            InputFormat::JsonLines => self.read_jsonl(reader),
        }
    }

    fn select(&mut self, names: &[String]) -> Result<Vec<Option<usize>>, BaselineError> {
        let wanted: Vec<String> = if self.options.features.is_empty() {
            names
                .iter()
                .filter(|n| !self.options.exclude.contains(n))
                .cloned()
                .collect()
        } else {
            for f in &self.options.features {
                if !names.contains(f) {
                    return Err(BaselineError::Training {
                        line: 1,
                        reason: format!("no column `{f}` (columns: {})", names.join(", ")),
                    });
                }
            }
            self.options.features.clone()
        };
        self.columns = wanted.iter().cloned().map(Column::new).collect();
        Ok(names
            .iter()
            .map(|n| wanted.iter().position(|w| w == n))
            .collect())
    }

    fn read_csv<R: BufRead>(&mut self, reader: R) -> Result<(), BaselineError> {
        let mut lines = reader.lines();
        let header = match lines.next() {
            Some(line) => line?,
            None => {
                return Err(BaselineError::Training {
                    line: 1,
                    reason: "the file is empty (a CSV header is needed)".into(),
                })
            }
        };
        let names: Vec<String> = header
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(|n| n.trim().trim_matches('"').to_string())
            .collect();
        let slots = self.select(&names)?;
        for (i, line) in lines.enumerate() {
            let line = line?;
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != names.len() {
                return Err(BaselineError::Training {
                    line: i as u64 + 2,
                    reason: format!("{} fields, the header has {}", fields.len(), names.len()),
                });
            }
            for (field, slot) in fields.iter().zip(&slots) {
                if let Some(c) = slot {
                    self.columns[*c].observe(field);
                }
            }
            self.rows += 1;
        }
        Ok(())
    }

    fn read_jsonl<R: BufRead>(&mut self, reader: R) -> Result<(), BaselineError> {
        let mut selected = false;
        for (i, line) in reader.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let invalid = |reason: String| BaselineError::Training {
                line: i as u64 + 1,
                reason,
            };
            let Value::Object(row) =
                serde_json::from_str::<Value>(&line).map_err(|e| invalid(e.to_string()))?
            else {
                return Err(invalid("each line must be a JSON object".into()));
            };
            // The first row names the columns (sorted by name: give --features
            // for the order CSV requests use).
            if !selected {
                let names: Vec<String> = row.keys().cloned().collect();
                self.select(&names)?;
                selected = true;
            }
            for column in &mut self.columns {
                match row.get(&column.name) {
                    None | Some(Value::Null) => column.missing += 1,
                    Some(Value::String(s)) => column.observe(s),
                    Some(other) => column.observe(&other.to_string()),
                }
            }
            self.rows += 1;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Baseline, BaselineError> {
        let bins = self.options.bins.max(1);
        let features = self
            .columns
            .into_iter()
            .map(|mut col| {
                let categorical = col.not_numeric
                    || self.options.categorical.contains(&col.name)
                    || col.numbers.is_empty() && !col.texts.is_empty();
                let distribution = if categorical {
                    Distribution::Categorical {
                        categories: col
                            .texts
                            .into_iter()
                            .map(|(value, count)| Category { value, count })
                            .collect(),
                    }
                } else {
                    col.numbers.sort_by(f64::total_cmp);
                    let edges = match self.options.binning {
                        Binning::Fixed => fixed_edges(&col.numbers, bins),
                        Binning::Quantile | Binning::Imported => quantile_edges(&col.numbers, bins),
                    };
                    let mut counts = vec![0u64; edges.len() + 1];
                    for &x in &col.numbers {
                        counts[edges.partition_point(|&e| e <= x)] += 1;
                    }
                    Distribution::Numerical { edges, counts }
                };
                BaselineFeature {
                    name: col.name,
                    missing: col.missing,
                    distribution,
                }
            })
            .collect();
        let baseline = Baseline {
            format: BASELINE_FORMAT.into(),
            rows: self.rows,
            binning: self.options.binning,
            features,
        };
        baseline.validate()?;
        Ok(baseline)
    }
}

/// Interior k-quantile edges of sorted values (numpy's linear interpolation),
/// equal ones merged.
fn quantile_edges(sorted: &[f64], bins: usize) -> Vec<f64> {
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    let mut edges: Vec<f64> = Vec::with_capacity(bins);
    for i in 1..bins {
        let position = (i as f64 / bins as f64) * (n - 1) as f64;
        let low = position.floor() as usize;
        let high = (low + 1).min(n - 1);
        let edge = sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64);
        push_increasing(&mut edges, edge);
    }
    // An edge at the minimum would leave the first bin always empty.
    edges.retain(|&e| e > sorted[0]);
    edges
}

/// Interior edges of equal-width bins between the minimum and the maximum.
fn fixed_edges(sorted: &[f64], bins: usize) -> Vec<f64> {
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
        return Vec::new();
    };
    let mut edges = Vec::with_capacity(bins);
    if max > min {
        let width = (max - min) / bins as f64;
        for i in 1..bins {
            push_increasing(&mut edges, min + width * i as f64);
        }
    }
    edges
}

fn push_increasing(edges: &mut Vec<f64>, edge: f64) {
    if edges.last().is_none_or(|&last| edge > last) {
        edges.push(edge);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(text: &str, options: BuildOptions) -> Result<Baseline, BaselineError> {
        let mut builder = BaselineBuilder::new(options);
        builder.read(text.as_bytes())?;
        builder.finish()
    }

    #[test]
    fn csv_columns_become_quantile_bins_and_categories() {
        let csv = "id,amount,country,label\n\
                   a,1,DE,0\nb,2,DE,1\nc,3,FR,0\nd,4,,0\ne,5,DE,1\n";
        let options = BuildOptions {
            exclude: vec!["id".into(), "label".into()],
            bins: 4,
            ..BuildOptions::default()
        };
        let baseline = build(csv, options).unwrap();
        assert_eq!(baseline.rows, 5);
        let names: Vec<&str> = baseline.features.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["amount", "country"]);
        // Quartiles of 1..5 (numpy): 2, 3, 4. Values equal to an edge go up.
        assert_eq!(
            baseline.features[0].distribution,
            Distribution::Numerical {
                edges: vec![2.0, 3.0, 4.0],
                counts: vec![1, 1, 1, 2]
            }
        );
        let country = &baseline.features[1];
        assert_eq!(country.missing, 1);
        assert_eq!(
            country.distribution,
            Distribution::Categorical {
                categories: vec![
                    Category {
                        value: "DE".into(),
                        count: 3
                    },
                    Category {
                        value: "FR".into(),
                        count: 1
                    }
                ]
            }
        );
    }

    #[test]
    fn interpolated_quantiles_and_merged_edges() {
        // numpy.quantile([0, 10], [.5]) = 5; binary column: edges merge to [1].
        let csv = "x,flag\n0,0\n10,0\n";
        let b = build(
            csv,
            BuildOptions {
                bins: 2,
                ..BuildOptions::default()
            },
        )
        .unwrap();
        assert_eq!(
            b.features[0].distribution,
            Distribution::Numerical {
                edges: vec![5.0],
                counts: vec![1, 1]
            }
        );
        let flags = "flag\n0\n0\n0\n1\n";
        let b = build(flags, BuildOptions::default()).unwrap();
        // Deciles of [0, 0, 0, 1]: edges at 0 are dropped (they would leave the
        // first bin empty); the rest are strictly increasing.
        match &b.features[0].distribution {
            Distribution::Numerical { edges, counts } => {
                assert!(edges.windows(2).all(|w| w[0] < w[1]));
                assert_eq!(counts.iter().sum::<u64>(), 4);
                assert_eq!(counts[0], 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fixed_bins_are_equal_width() {
        let csv = "x\n0\n1\n2\n10\n";
        let b = build(
            csv,
            BuildOptions {
                binning: Binning::Fixed,
                bins: 5,
                ..BuildOptions::default()
            },
        )
        .unwrap();
        assert_eq!(
            b.features[0].distribution,
            Distribution::Numerical {
                edges: vec![2.0, 4.0, 6.0, 8.0],
                counts: vec![2, 1, 0, 0, 1]
            }
        );
    }

    #[test]
    fn jsonl_rows_and_forced_categoricals() {
        let jsonl = r#"{"amount": 1.5, "zip": 10115, "country": "DE"}
{"amount": null, "zip": 10117, "country": "FR"}
{"amount": 3, "zip": 10115}
"#;
        let options = BuildOptions {
            format: InputFormat::JsonLines,
            features: vec!["zip".into(), "amount".into(), "country".into()],
            categorical: vec!["zip".into()],
            bins: 2,
            ..BuildOptions::default()
        };
        let b = build(jsonl, options).unwrap();
        let names: Vec<&str> = b.features.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["zip", "amount", "country"]);
        assert_eq!(b.features[0].distribution.kind(), "categorical");
        assert_eq!(b.features[1].missing, 1);
        assert_eq!(b.features[2].missing, 1);
        assert_eq!(
            b.features[1].distribution,
            Distribution::Numerical {
                edges: vec![2.25],
                counts: vec![1, 1]
            }
        );
    }

    #[test]
    fn bad_training_data_is_a_typed_error() {
        let short = build("a,b\n1\n", BuildOptions::default()).unwrap_err();
        assert_eq!(short.error_type(), "training_data_invalid");
        assert!(short.to_string().contains("line 2"), "{short}");
        let unknown = build(
            "a,b\n1,2\n",
            BuildOptions {
                features: vec!["c".into()],
                ..BuildOptions::default()
            },
        )
        .unwrap_err();
        assert!(unknown.to_string().contains("no column `c`"), "{unknown}");
        assert_eq!(
            build("", BuildOptions::default()).unwrap_err().error_type(),
            "training_data_invalid"
        );
        let jsonl = BuildOptions {
            format: InputFormat::JsonLines,
            ..BuildOptions::default()
        };
        assert_eq!(
            build("[1,2]\n", jsonl).unwrap_err().error_type(),
            "training_data_invalid"
        );
    }

    #[test]
    fn format_follows_the_file_name() {
        assert_eq!(
            InputFormat::from_path("train.jsonl"),
            InputFormat::JsonLines
        );
        assert_eq!(InputFormat::from_path("x.NDJSON"), InputFormat::JsonLines);
        assert_eq!(InputFormat::from_path("data/train.csv"), InputFormat::Csv);
    }
}
