//! Per-feature statistics of a window of captured traffic, streamed: memory is
//! one histogram per numerical feature (the baseline's bins), at most
//! [`MAX_NEW_CATEGORIES`] unseen values per categorical feature, and one line
//! buffer, however many records pass through.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufRead, BufReader};

use base64::Engine;
use serde_json::Value;

use crate::baseline::{Baseline, Distribution};
use crate::capture::{decode_line, Encoding, Payload};

/// Unseen categorical values kept apart per feature; later ones share
/// [`OTHER_CATEGORY`], so a feature full of ids cannot exhaust memory.
pub const MAX_NEW_CATEGORIES: usize = 1_000;
/// The category that collects unseen values beyond [`MAX_NEW_CATEGORIES`].
pub const OTHER_CATEGORY: &str = "__other__";

/// The statistics of one window, one accumulator per baseline feature.
#[derive(Debug, Clone)]
pub struct WindowStats {
    pub features: Vec<FeatureStats>,
    by_name: HashMap<String, usize, Fnv>,
    /// Capture lines decoded (each a request; a request may carry several rows).
    pub records: u64,
    /// Rows counted into the statistics.
    pub rows: u64,
    /// Lines that are not capture records, or whose body cannot be decoded.
    pub corrupt_lines: u64,
    /// Capture lines without an `endpointInput` (output-only capture).
    pub without_input: u64,
    /// Rows whose shape does not fit the baseline (wrong number of columns).
    pub schema_mismatches: u64,
    /// Capture objects read.
    pub objects: u64,
}

#[derive(Debug, Clone)]
pub enum FeatureStats {
    Numerical(NumericalStats),
    Categorical(CategoricalStats),
}

#[derive(Debug, Clone)]
pub struct NumericalStats {
    pub name: String,
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
    pub missing: u64,
    /// Values that are not numbers (or NaN).
    pub type_violations: u64,
}

#[derive(Debug, Clone)]
pub struct CategoricalStats {
    pub name: String,
    /// Values in first-seen order: the baseline's categories, then new ones.
    pub values: Vec<Box<str>>,
    pub counts: Vec<u64>,
    index: HashMap<Box<str>, usize, Fnv>,
    /// How many of `values` come from the baseline.
    pub baseline_categories: usize,
    /// Unseen values beyond the cap.
    pub other: u64,
    pub missing: u64,
    /// Values that are neither strings, numbers nor booleans.
    pub type_violations: u64,
}

impl FeatureStats {
    pub fn name(&self) -> &str {
        match self {
            FeatureStats::Numerical(s) => &s.name,
            FeatureStats::Categorical(s) => &s.name,
        }
    }

    pub fn missing(&self) -> u64 {
        match self {
            FeatureStats::Numerical(s) => s.missing,
            FeatureStats::Categorical(s) => s.missing,
        }
    }

    pub fn type_violations(&self) -> u64 {
        match self {
            FeatureStats::Numerical(s) => s.type_violations,
            FeatureStats::Categorical(s) => s.type_violations,
        }
    }

    /// Values counted in the distribution.
    pub fn present(&self) -> u64 {
        match self {
            FeatureStats::Numerical(s) => s.counts.iter().sum(),
            FeatureStats::Categorical(s) => s.counts.iter().sum::<u64>() + s.other,
        }
    }

    fn observe_text(&mut self, raw: &str) {
        let text = unquote(raw.trim());
        if text.is_empty() {
            return self.observe_missing();
        }
        match self {
            FeatureStats::Numerical(s) => match text.parse::<f64>() {
                Ok(x) if !x.is_nan() => s.count(x),
                _ => s.type_violations += 1,
            },
            FeatureStats::Categorical(s) => s.count(text),
        }
    }

    fn observe_json(&mut self, value: &Value) {
        match value {
            Value::Null => self.observe_missing(),
            Value::String(text) => self.observe_text(text),
            Value::Number(n) => match self {
                FeatureStats::Numerical(s) => match n.as_f64() {
                    Some(x) => s.count(x),
                    None => s.type_violations += 1,
                },
                FeatureStats::Categorical(s) => s.count(&n.to_string()),
            },
            Value::Bool(b) => match self {
                FeatureStats::Numerical(s) => s.type_violations += 1,
                FeatureStats::Categorical(s) => s.count(if *b { "true" } else { "false" }),
            },
            Value::Array(_) | Value::Object(_) => match self {
                FeatureStats::Numerical(s) => s.type_violations += 1,
                FeatureStats::Categorical(s) => s.type_violations += 1,
            },
        }
    }

    fn observe_missing(&mut self) {
        match self {
            FeatureStats::Numerical(s) => s.missing += 1,
            FeatureStats::Categorical(s) => s.missing += 1,
        }
    }
}

impl NumericalStats {
    fn count(&mut self, x: f64) {
        // numpy searchsorted(edges, x, side="right"): edges <= x come before.
        let bin = self.edges.partition_point(|&e| e <= x);
        self.counts[bin] += 1;
    }
}

impl CategoricalStats {
    fn count(&mut self, value: &str) {
        if let Some(&i) = self.index.get(value) {
            self.counts[i] += 1;
        } else if self.values.len() - self.baseline_categories < MAX_NEW_CATEGORIES {
            let key: Box<str> = value.into();
            self.index.insert(key.clone(), self.values.len());
            self.values.push(key);
            self.counts.push(1);
        } else {
            self.other += 1;
        }
    }
}

/// `"x"` → `x`: CSV fields may be quoted (embedded commas are not supported).
fn unquote(text: &str) -> &str {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

impl WindowStats {
    /// Empty statistics on the baseline's features and bins.
    pub fn new(baseline: &Baseline) -> Self {
        let features: Vec<FeatureStats> = baseline
            .features
            .iter()
            .map(|f| match &f.distribution {
                Distribution::Numerical { edges, .. } => FeatureStats::Numerical(NumericalStats {
                    name: f.name.clone(),
                    edges: edges.clone(),
                    counts: vec![0; edges.len() + 1],
                    missing: 0,
                    type_violations: 0,
                }),
                Distribution::Categorical { categories } => {
                    let values: Vec<Box<str>> =
                        categories.iter().map(|c| c.value.as_str().into()).collect();
                    let index = values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (v.clone(), i))
                        .collect();
                    FeatureStats::Categorical(CategoricalStats {
                        name: f.name.clone(),
                        counts: vec![0; values.len()],
                        baseline_categories: values.len(),
                        values,
                        index,
                        other: 0,
                        missing: 0,
                        type_violations: 0,
                    })
                }
            })
            .collect();
        let by_name = features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name().to_string(), i))
            .collect();
        WindowStats {
            features,
            by_name,
            records: 0,
            rows: 0,
            corrupt_lines: 0,
            without_input: 0,
            schema_mismatches: 0,
            objects: 0,
        }
    }

    /// Stream one capture object (JSON lines, plain or gzip: told apart by the
    /// gzip magic bytes) into the statistics. Undecodable lines are counted;
    /// only a failure to read is an error.
    pub fn read<R: BufRead>(&mut self, mut reader: R) -> io::Result<()> {
        self.objects += 1;
        let head = reader.fill_buf()?;
        if head.starts_with(&[0x1f, 0x8b]) {
            let gunzip = flate2::bufread::MultiGzDecoder::new(reader);
            self.read_lines(BufReader::with_capacity(64 * 1024, gunzip))
        } else {
            self.read_lines(reader)
        }
    }

    fn read_lines<R: BufRead>(&mut self, mut reader: R) -> io::Result<()> {
        let mut line = Vec::with_capacity(4096);
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            let trimmed = line.trim_ascii();
            if !trimmed.is_empty() {
                self.line(trimmed);
            }
        }
    }

    /// One capture line.
    pub fn line(&mut self, line: &[u8]) {
        let Some(capture) = decode_line(line) else {
            self.corrupt_lines += 1;
            return;
        };
        let Some(input) = capture.capture_data.endpoint_input else {
            self.without_input += 1;
            return;
        };
        if self.payload(&input) {
            self.records += 1;
        } else {
            self.corrupt_lines += 1;
        }
    }

    /// Count a request body's rows; false when the body cannot be decoded.
    fn payload(&mut self, input: &Payload<'_>) -> bool {
        match input.encoding {
            Encoding::Csv => {
                self.csv_body(&input.data);
                true
            }
            Encoding::Json => self.json_body(&input.data),
            Encoding::Base64 => {
                let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&*input.data)
                else {
                    return false;
                };
                let Ok(text) = std::str::from_utf8(&bytes) else {
                    return false;
                };
                if input.is_json() {
                    self.json_body(text)
                } else {
                    self.csv_body(text);
                    true
                }
            }
            Encoding::Unknown => false,
        }
    }

    /// CSV without a header: one row per line, columns in baseline order.
    fn csv_body(&mut self, body: &str) {
        for row in body.split('\n') {
            let row = row.trim_end_matches('\r');
            if row.trim().is_empty() {
                continue;
            }
            let columns = row.bytes().filter(|&b| b == b',').count() + 1;
            if columns != self.features.len() {
                self.schema_mismatches += 1;
                continue;
            }
            for (feature, field) in self.features.iter_mut().zip(row.split(',')) {
                feature.observe_text(field);
            }
            self.rows += 1;
        }
    }

    /// JSON or JSON lines: each value a row (object by name, array by
    /// position), or `{"instances": [rows]}`, or `{"features": [values]}`.
    fn json_body(&mut self, body: &str) -> bool {
        for value in serde_json::Deserializer::from_str(body).into_iter::<Value>() {
            let Ok(value) = value else { return false };
            match value {
                Value::Object(mut map) if map.contains_key("instances") => {
                    match map.remove("instances") {
                        Some(Value::Array(rows)) => rows.iter().for_each(|r| self.json_row(r)),
                        _ => self.schema_mismatches += 1,
                    }
                }
                other => self.json_row(&other),
            }
        }
        true
    }

    fn json_row(&mut self, row: &Value) {
        match row {
            Value::Object(map) => {
                if let Some(values @ Value::Array(_)) = map.get("features") {
                    if !self.by_name.contains_key("features") {
                        return self.json_row(values);
                    }
                }
                let mut seen = 0;
                for (key, value) in map {
                    if let Some(&i) = self.by_name.get(key.as_str()) {
                        self.features[i].observe_json(value);
                        seen += 1;
                    }
                }
                if seen == 0 {
                    self.schema_mismatches += 1;
                    return;
                }
                // Features the request left out are missing, not a mismatch.
                if seen < self.features.len() {
                    for feature in &mut self.features {
                        if !map.contains_key(feature.name()) {
                            feature.observe_missing();
                        }
                    }
                }
                self.rows += 1;
            }
            Value::Array(values) => {
                if values.len() != self.features.len() {
                    self.schema_mismatches += 1;
                    return;
                }
                for (feature, value) in self.features.iter_mut().zip(values) {
                    feature.observe_json(value);
                }
                self.rows += 1;
            }
            _ => self.schema_mismatches += 1,
        }
    }
}

/// FNV-1a: category lookups hash short strings millions of times; SipHash's
/// protection against crafted collisions buys nothing for our own counters.
#[derive(Default, Clone, Copy)]
struct FnvHasher(u64);

impl Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Fnv = BuildHasherDefault<FnvHasher>;

/// Read a whole (small) object for tests.
#[cfg(test)]
pub(crate) fn read_all(stats: &mut WindowStats, bytes: &[u8]) {
    stats.read(io::BufReader::new(bytes)).expect("in memory");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{BaselineFeature, Binning, Category, BASELINE_FORMAT};
    use std::io::{Read, Write};

    fn baseline() -> Baseline {
        Baseline {
            format: BASELINE_FORMAT.into(),
            rows: 4,
            binning: Binning::Quantile,
            features: vec![
                BaselineFeature {
                    name: "amount".into(),
                    missing: 0,
                    distribution: Distribution::Numerical {
                        edges: vec![10.0, 20.0],
                        counts: vec![1, 2, 1],
                    },
                },
                BaselineFeature {
                    name: "country".into(),
                    missing: 0,
                    distribution: Distribution::Categorical {
                        categories: vec![
                            Category {
                                value: "DE".into(),
                                count: 3,
                            },
                            Category {
                                value: "FR".into(),
                                count: 1,
                            },
                        ],
                    },
                },
            ],
        }
    }

    fn capture(encoding: &str, content_type: &str, data: &str) -> String {
        serde_json::json!({
            "captureData": {
                "endpointInput": {
                    "observedContentType": content_type, "mode": "INPUT",
                    "data": data, "encoding": encoding
                },
                "endpointOutput": {
                    "observedContentType": "text/csv", "mode": "OUTPUT",
                    "data": "0.5", "encoding": "CSV"
                }
            },
            "eventMetadata": { "eventId": "e", "inferenceTime": "2026-11-24T03:00:00Z" },
            "eventVersion": "0"
        })
        .to_string()
    }

    fn numerical(stats: &WindowStats) -> &NumericalStats {
        match &stats.features[0] {
            FeatureStats::Numerical(s) => s,
            _ => unreachable!(),
        }
    }

    fn categorical(stats: &WindowStats) -> &CategoricalStats {
        match &stats.features[1] {
            FeatureStats::Categorical(s) => s,
            _ => unreachable!(),
        }
    }

    #[test]
    fn csv_rows_fall_into_the_baseline_bins_edges_going_up() {
        let mut stats = WindowStats::new(&baseline());
        let lines = [
            capture("CSV", "text/csv", "5,DE"),
            capture("CSV", "text/csv", "10,FR\n20,DE\n"),
            capture("CSV", "text/csv", "25.5,\"ES\""),
            capture("CSV", "text/csv", ",DE"),
            capture("CSV", "text/csv", "abc,"),
        ]
        .join("\n");
        read_all(&mut stats, lines.as_bytes());
        assert_eq!(stats.records, 5);
        assert_eq!(stats.rows, 6);
        let amount = numerical(&stats);
        // 5 → bin 0; 10 → bin 1 (edge goes up); 20, 25.5 → bin 2
        assert_eq!(amount.counts, [1, 1, 2]);
        assert_eq!(amount.missing, 1);
        assert_eq!(amount.type_violations, 1);
        let country = categorical(&stats);
        assert_eq!(&*country.values, ["DE".into(), "FR".into(), "ES".into()]);
        assert_eq!(country.counts, [3, 1, 1]);
        assert_eq!(country.missing, 1);
    }

    #[test]
    fn json_bodies_by_name_position_and_instances() {
        let mut stats = WindowStats::new(&baseline());
        let lines = [
            capture("JSON", "application/json", r#"{"amount": 15, "country": "FR"}"#),
            capture("JSON", "application/json", r#"[30, "DE"]"#),
            capture(
                "JSON",
                "application/json",
                r#"{"instances": [[1, "DE"], {"amount": null, "country": "DE"}, {"features": [12, "FR"]}]}"#,
            ),
            capture("JSON", "application/jsonlines", "{\"amount\": 11}\n{\"country\": true}"),
        ]
        .join("\n");
        read_all(&mut stats, lines.as_bytes());
        assert_eq!(stats.records, 4);
        assert_eq!(stats.rows, 7);
        assert_eq!(numerical(&stats).counts, [1, 3, 1]);
        assert_eq!(numerical(&stats).missing, 2);
        let country = categorical(&stats);
        assert_eq!(country.counts, [3, 2, 1]);
        assert_eq!(&*country.values[2], "true");
        assert_eq!(country.missing, 1);
    }

    #[test]
    fn base64_bodies_are_decoded_by_content_type() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let mut stats = WindowStats::new(&baseline());
        let lines = [
            capture("BASE64", "text/csv", &b64("12,DE")),
            capture(
                "BASE64",
                "application/json",
                &b64(r#"{"amount":1,"country":"FR"}"#),
            ),
            capture("BASE64", "text/csv", "***not base64***"),
        ]
        .join("\n");
        read_all(&mut stats, lines.as_bytes());
        assert_eq!(stats.records, 2);
        assert_eq!(stats.corrupt_lines, 1);
        assert_eq!(numerical(&stats).counts, [1, 1, 0]);
        assert_eq!(categorical(&stats).counts, [1, 1]);
    }

    #[test]
    fn corrupt_lines_and_wrong_shapes_are_counted_not_fatal() {
        let mut stats = WindowStats::new(&baseline());
        let lines = [
            "{truncated".to_string(),
            r#"{"something":"else"}"#.to_string(),
            r#"{"captureData":{"endpointOutput":{"data":"1","encoding":"CSV"}}}"#.to_string(),
            capture("CSV", "text/csv", "1,2,3"),
            capture("JSON", "application/json", "{broken"),
            capture("JSON", "application/json", r#"{"unrelated": 1}"#),
            capture("ZSTD", "text/csv", "x"),
            capture("CSV", "text/csv", "15,DE"),
        ]
        .join("\r\n");
        read_all(&mut stats, lines.as_bytes());
        assert_eq!(stats.corrupt_lines, 4);
        assert_eq!(stats.without_input, 1);
        assert_eq!(stats.schema_mismatches, 2);
        assert_eq!(stats.rows, 1);
        assert_eq!(numerical(&stats).counts, [0, 1, 0]);
    }

    #[test]
    fn gzip_objects_are_read_like_plain_ones() {
        let body = [
            capture("CSV", "text/csv", "5,DE"),
            capture("CSV", "text/csv", "50,FR"),
        ]
        .join("\n");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(body.as_bytes()).unwrap();
        let compressed = gz.finish().unwrap();
        let mut stats = WindowStats::new(&baseline());
        read_all(&mut stats, &compressed);
        read_all(&mut stats, body.as_bytes());
        assert_eq!(stats.objects, 2);
        assert_eq!(stats.rows, 4);
        assert_eq!(numerical(&stats).counts, [2, 0, 2]);
    }

    #[test]
    fn unseen_categories_are_capped() {
        let mut stats = WindowStats::new(&baseline());
        let lines: Vec<String> = (0..MAX_NEW_CATEGORIES + 5)
            .map(|i| capture("CSV", "text/csv", &format!("1,id{i}")))
            .collect();
        read_all(&mut stats, lines.join("\n").as_bytes());
        let country = categorical(&stats);
        assert_eq!(country.values.len(), 2 + MAX_NEW_CATEGORIES);
        assert_eq!(country.other, 5);
        assert_eq!(stats.features[1].present(), (MAX_NEW_CATEGORIES + 5) as u64);
    }

    #[test]
    fn a_read_failure_is_an_error() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("connection reset"))
            }
        }
        let mut stats = WindowStats::new(&baseline());
        assert!(stats.read(BufReader::new(Failing)).is_err());
    }
}
