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
use crate::capture::{decode_request, Decoded, Encoding, Request};
use crate::numbers::{parse_f64, trim};
use crate::scan::scan_record;

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
    /// Comma positions of the CSV row being read (reused: no allocation per row).
    commas: Vec<usize>,
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
    /// Few edges, in order: counting them beats a binary search's branches.
    linear: bool,
}

#[derive(Debug, Clone)]
pub struct CategoricalStats {
    pub name: String,
    /// Values in first-seen order: the baseline's categories, then new ones.
    pub values: Vec<Box<str>>,
    pub counts: Vec<u64>,
    index: HashMap<Box<str>, usize, Fnv>,
    /// [`short_key`] of each of `values`.
    short_keys: Vec<ShortKey>,
    /// [`slot`] → 1 + index of the one short category there (0: none; or
    /// [`SHARED_SLOT`]), while there are at most [`LINEAR_CATEGORIES`].
    slots: [u8; SLOTS],
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
        let text = unquote(trim(raw));
        if text.is_empty() {
            return self.observe_missing();
        }
        match self {
            FeatureStats::Numerical(s) => match parse_f64(text) {
                Some(x) if !x.is_nan() => s.count(x),
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
        // On sorted edges that is how many edges are <= x; counting all of a
        // few has no branch to mispredict.
        let bin = if self.linear {
            self.edges.iter().filter(|&&e| e <= x).count()
        } else {
            self.edges.partition_point(|&e| e <= x)
        };
        self.counts[bin] += 1;
    }
}

impl CategoricalStats {
    fn count(&mut self, value: &str) {
        if let Some(i) = self.position(value) {
            self.counts[i] += 1;
        } else if self.values.len() - self.baseline_categories < MAX_NEW_CATEGORIES {
            let key: Box<str> = value.into();
            self.index.insert(key.clone(), self.values.len());
            let short = short_key(&key).unwrap_or(LONG);
            add_slot(&mut self.slots, &short, self.values.len());
            self.short_keys.push(short);
            self.values.push(key);
            self.counts.push(1);
        } else {
            self.other += 1;
        }
    }

    /// A handful of categories are found faster through a small table of
    /// their short keys than by hashing the text.
    fn position(&self, value: &str) -> Option<usize> {
        if self.values.len() > LINEAR_CATEGORIES {
            return self.index.get(value).copied();
        }
        let key = short_key(value);
        if let Some(key) = &key {
            match self.slots[slot(key)] {
                // No category has this key's slot: none equals the value.
                0 => return None,
                SHARED_SLOT => {}
                i => {
                    let i = usize::from(i) - 1;
                    return (self.short_keys[i] == *key).then_some(i);
                }
            }
        }
        match key {
            // Compare with all of them: a loop that stops at the match
            // mispredicts its exit on every mixed value.
            Some(key) => {
                let found = self
                    .short_keys
                    .iter()
                    .enumerate()
                    .fold(0u32, |found, (i, &k)| found | (u32::from(k == key) << i));
                (found != 0).then(|| found.trailing_zeros() as usize)
            }
            None => self.values.iter().position(|v| **v == *value),
        }
    }
}

/// Up to this many categories a lookup compares instead of hashing.
const LINEAR_CATEGORIES: usize = 16;

/// Slots of the table from short key to category.
const SLOTS: usize = 64;
/// A slot two categories hash to: compare with all.
const SHARED_SLOT: u8 = u8::MAX;

fn slot(key: &ShortKey) -> usize {
    let mixed = key.head ^ key.tail.rotate_left(29) ^ key.len.rotate_left(53);
    (mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize
}

/// Enter category `i` (its short key) in the table while there are few.
fn add_slot(slots: &mut [u8; SLOTS], key: &ShortKey, i: usize) {
    if i >= LINEAR_CATEGORIES || *key == LONG {
        return;
    }
    let s = &mut slots[slot(key)];
    *s = if *s == 0 { i as u8 + 1 } else { SHARED_SLOT };
}

/// A value of at most 16 bytes as integers: equal keys, equal values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShortKey {
    len: u64,
    head: u64,
    tail: u64,
}

/// The short key of a value longer than 16 bytes: no short value's length.
const LONG: ShortKey = ShortKey {
    len: u64::MAX,
    head: 0,
    tail: 0,
};

/// [`ShortKey`] of a value, `None` when longer than 16 bytes. Overlapping
/// loads of its first and last bytes cover all of it (which bytes overlap
/// follows from the length), without copying byte by byte.
fn short_key(value: &str) -> Option<ShortKey> {
    let b = value.as_bytes();
    let n = b.len();
    let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    let half = |at: usize| {
        u64::from(u32::from_le_bytes(
            b[at..at + 4].try_into().expect("4 bytes"),
        ))
    };
    let (head, tail) = match n {
        17.. => return None,
        8.. => (word(0), word(n - 8)),
        4.. => (half(0), half(n - 4)),
        1.. => (
            u64::from(b[0]) | u64::from(b[n / 2]) << 8,
            u64::from(b[n - 1]),
        ),
        0 => (0, 0),
    };
    Some(ShortKey {
        len: n as u64,
        head,
        tail,
    })
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
                    linear: edges.len() <= 32 && edges.windows(2).all(|w| w[0] <= w[1]),
                }),
                Distribution::Categorical { categories } => {
                    let values: Vec<Box<str>> =
                        categories.iter().map(|c| c.value.as_str().into()).collect();
                    let index = values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (v.clone(), i))
                        .collect();
                    let short_keys: Vec<ShortKey> = values
                        .iter()
                        .map(|v| short_key(v).unwrap_or(LONG))
                        .collect();
                    let mut slots = [0; SLOTS];
                    for (i, key) in short_keys.iter().enumerate() {
                        add_slot(&mut slots, key, i);
                    }
                    FeatureStats::Categorical(CategoricalStats {
                        name: f.name.clone(),
                        short_keys,
                        slots,
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
            commas: Vec::with_capacity(64),
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

    /// Lines are read where they lie in the reader's buffer: the scanner
    /// finds where a record ends, so the usual line is neither searched for
    /// its newline first nor copied. A line split between two reads, or one
    /// the scanner leaves to serde_json, is cut at its newline, as
    /// `read_until` would.
    fn read_lines<R: BufRead>(&mut self, mut reader: R) -> io::Result<()> {
        // The start of a line the buffer ended in.
        let mut partial = Vec::new();
        loop {
            let buf = match reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                self.trimmed_line(&partial);
                return Ok(());
            }
            let len = buf.len();
            let mut rest = buf;
            if !partial.is_empty() {
                let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                    partial.extend_from_slice(rest);
                    reader.consume(len);
                    continue;
                };
                partial.extend_from_slice(&rest[..end]);
                self.trimmed_line(&partial);
                partial.clear();
                rest = &rest[end + 1..];
            }
            while !rest.is_empty() {
                if let Some((scanned, end)) = scan_record(rest) {
                    if rest.get(end) == Some(&b'\n') {
                        self.record(scanned.into());
                        rest = &rest[end + 1..];
                        continue;
                    }
                }
                match rest.iter().position(|&b| b == b'\n') {
                    Some(end) => {
                        self.trimmed_line(&rest[..end]);
                        rest = &rest[end + 1..];
                    }
                    None => {
                        partial.extend_from_slice(rest);
                        break;
                    }
                }
            }
            reader.consume(len);
        }
    }

    fn trimmed_line(&mut self, line: &[u8]) {
        let trimmed = line.trim_ascii();
        if !trimmed.is_empty() {
            self.line(trimmed);
        }
    }

    /// One capture line.
    pub fn line(&mut self, line: &[u8]) {
        self.record(decode_request(line));
    }

    fn record(&mut self, decoded: Decoded<'_>) {
        match decoded {
            Decoded::Corrupt => self.corrupt_lines += 1,
            Decoded::NoInput => self.without_input += 1,
            Decoded::Request(input) => {
                if self.payload(&input) {
                    self.records += 1;
                } else {
                    self.corrupt_lines += 1;
                }
            }
        }
    }

    /// Count a request body's rows; false when the body cannot be decoded.
    fn payload(&mut self, input: &Request<'_>) -> bool {
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
        // One pass per row finds its end and its commas.
        let mut commas = std::mem::take(&mut self.commas);
        let mut rest = body;
        loop {
            commas.clear();
            let bytes = rest.as_bytes();
            let end = row_commas(bytes, &mut commas);
            self.csv_row(rest[..end].trim_end_matches('\r'), &commas);
            if end == bytes.len() {
                break;
            }
            rest = &rest[end + 1..];
        }
        self.commas = commas;
    }

    /// One CSV row, its commas at `commas` (a trimmed `\r` has none).
    fn csv_row(&mut self, row: &str, commas: &[usize]) {
        if trim(row).is_empty() {
            return;
        }
        if commas.len() + 1 != self.features.len() {
            self.schema_mismatches += 1;
            return;
        }
        let ends = commas.iter().copied().chain(std::iter::once(row.len()));
        let mut start = 0;
        for (feature, end) in self.features.iter_mut().zip(ends) {
            feature.observe_text(&row[start..end]);
            start = end + 1;
        }
        self.rows += 1;
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

/// Note the commas of the row at the start of `bytes` and return where it
/// ends (its `\n`, or the end). Eight bytes at a time: a comma or newline
/// shows as a set high bit of its byte.
fn row_commas(bytes: &[u8], commas: &mut Vec<usize>) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Exact per byte (no borrow between bytes): the low 7 bits of a byte
    // equal to `b` become 0x7f once 0x01 is added, so 0x80 is set only there.
    let equal = |word: u64, b: u8| {
        let x = word ^ (ONES * u64::from(b));
        !(((x & !HIGHS) + !HIGHS) | x) & HIGHS
    };
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let word = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let newline = equal(word, b'\n');
        let mut comma = equal(word, b',');
        if newline != 0 {
            let first = newline.trailing_zeros();
            // Commas before the newline only.
            comma &= (1u64 << first) - 1;
            push_bits(comma, at, commas);
            return at + first as usize / 8;
        }
        push_bits(comma, at, commas);
        at += 8;
    }
    for (i, &b) in bytes.iter().enumerate().skip(at) {
        if b == b',' {
            commas.push(i);
        } else if b == b'\n' {
            return i;
        }
    }
    bytes.len()
}

fn push_bits(mut bits: u64, base: usize, out: &mut Vec<usize>) {
    while bits != 0 {
        out.push(base + bits.trailing_zeros() as usize / 8);
        bits &= bits - 1;
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

    /// Everything the comparison reads from the statistics.
    fn summary(stats: &WindowStats) -> String {
        let features: Vec<String> = stats
            .features
            .iter()
            .map(|f| match f {
                FeatureStats::Numerical(s) => {
                    format!("{:?} {} {}", s.counts, s.missing, s.type_violations)
                }
                FeatureStats::Categorical(s) => format!(
                    "{:?} {:?} {} {} {}",
                    s.values, s.counts, s.other, s.missing, s.type_violations
                ),
            })
            .collect();
        format!(
            "{} {} {} {} {} {features:?}",
            stats.records,
            stats.rows,
            stats.corrupt_lines,
            stats.without_input,
            stats.schema_mismatches
        )
    }

    #[test]
    fn reading_in_place_counts_what_line_by_line_decoding_counts() {
        let lines = [
            capture("CSV", "text/csv", "5,DE"),
            String::new(),
            format!("  {}\r", capture("CSV", "text/csv", "10,FR")),
            "{truncated".into(),
            capture("CSV", "text/csv", "1,2,3"),
            "\u{0c}".to_string() + &capture("CSV", "text/csv", "7,ES"),
            r#"{"captureData":{"endpointInput":{"data":"12,\"DE\"","encoding":"CSV"}}}"#.into(),
            r#"{"captureData":{"endpointOutput":{"data":"1","encoding":"CSV"}}}"#.into(),
            r#"{"captureData":{"endpointInput":{"data":"3,FR","encoding":"CSV"}}} x"#.into(),
            capture(
                "JSON",
                "application/json",
                r#"{"amount": 15, "country": "FR"}"#,
            ),
            capture("CSV", "text/csv", "25.5,DE"),
        ];
        for ending in ["\n", ""] {
            let text = lines.join("\n") + ending;
            let mut expected = WindowStats::new(&baseline());
            for line in text.split('\n') {
                let line = line.as_bytes().trim_ascii();
                if !line.is_empty() {
                    expected.line(line);
                }
            }
            assert_eq!(expected.records, 7);
            for capacity in [1, 2, 7, 64, 100, 1 << 16] {
                let mut stats = WindowStats::new(&baseline());
                stats
                    .read(io::BufReader::with_capacity(capacity, text.as_bytes()))
                    .unwrap();
                assert_eq!(summary(&stats), summary(&expected), "capacity {capacity}");
            }
        }
    }

    #[test]
    fn row_commas_finds_the_commas_before_the_newline() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut commas = Vec::new();
        for len in 0..300 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut row: Vec<u8> = (0..len)
                .map(|i| b"a,b.,x\xff\x00,,,\x2c"[((state >> (i % 60)) as usize + i) % 12])
                .collect();
            if len > 0 && state & 1 == 0 {
                row[(state >> 8) as usize % len] = b'\n';
            }
            let end = row.iter().position(|&b| b == b'\n').unwrap_or(row.len());
            let expected: Vec<usize> = (0..end).filter(|&i| row[i] == b',').collect();
            commas.clear();
            assert_eq!(row_commas(&row, &mut commas), end);
            assert_eq!(commas, expected);
        }
    }

    #[test]
    fn categories_are_found_by_value_long_or_short() {
        let long = "a-category-longer-than-fifteen-bytes";
        let mut stats = WindowStats::new(&baseline());
        for value in ["DE", "FR", long, "D", "DE\u{0}", long, "FR"] {
            stats.line(capture("CSV", "text/csv", &format!("1,{value}")).as_bytes());
        }
        let country = categorical(&stats);
        assert_eq!(
            &*country.values,
            [
                "DE".into(),
                "FR".into(),
                long.into(),
                "D".into(),
                "DE\u{0}".into()
            ]
        );
        assert_eq!(country.counts, [1, 2, 2, 1, 1]);
    }

    #[test]
    fn short_keys_are_equal_only_for_equal_values() {
        let mut values: Vec<String> = Vec::new();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for n in 0..=16 {
            for _ in 0..60 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                values.push(
                    (0..n)
                        .map(|i| ['a', 'b'][(state >> i) as usize & 1])
                        .collect(),
                );
            }
        }
        for a in &values {
            for b in &values {
                assert_eq!(short_key(a) == short_key(b), a == b, "{a:?} {b:?}");
            }
        }
        assert_eq!(short_key(&"x".repeat(17)), None);
    }

    #[test]
    fn many_categories_sharing_slots_are_counted_apart() {
        let mut stats = WindowStats::new(&baseline());
        let names: Vec<String> = (0..40).map(|i| format!("c{}", i * 7919 % 1000)).collect();
        let mut expected = std::collections::HashMap::new();
        for round in 0..5 {
            for (i, name) in names.iter().enumerate() {
                if (i + round) % 3 != 0 {
                    stats.line(capture("CSV", "text/csv", &format!("1,{name}")).as_bytes());
                    *expected.entry(name.clone()).or_insert(0u64) += 1;
                }
            }
        }
        let country = categorical(&stats);
        for (value, count) in country.values.iter().zip(&country.counts) {
            assert_eq!(
                expected.get(&**value).copied().unwrap_or(0),
                *count,
                "{value}"
            );
        }
        assert_eq!(country.values.len(), 2 + names.len());
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
