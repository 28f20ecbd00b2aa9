//! The drift benchmark's Rust side (driven by `bash bench/run`; not a test).
//!
//! ```text
//! bench generate <dir> <rows>          train.csv + capture.jsonl with a known shift
//! bench baseline <train.csv> <out>     Steward's baseline (quantile, 10 bins)
//! bench check <baseline> <capture|-> <out>  stream + compare → report JSON
//! bench parse scan|typed|value <capture>  decode every line only: the check's
//!                                      own decoding (`decode_request`: scanner,
//!                                      serde_json fallback), serde_json into the
//!                                      typed envelope, into `Value`
//! ```
//!
//! Timings of the phase itself go to stderr as one JSON line, so the driver
//! can subtract process start-up and file opening.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use steward_drift::{
    compare, decode_line, decode_request, Baseline, BaselineBuilder, BuildOptions, Decoded,
    DriftConfig, WindowStats,
};

const NUMERICAL: usize = 14;
const CATEGORICAL: usize = 6;
const CATEGORIES: [&str; 8] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .unwrap_or_else(|| panic!("missing argument {i}; see the file's doc comment"))
    };
    match arg(0).as_str() {
        "generate" => generate(&arg(1), arg(2).parse().expect("rows")),
        "baseline" => baseline(&arg(1), &arg(2)),
        "check" => check(&arg(1), &arg(2), &arg(3)),
        "parse" => parse(&arg(1), &arg(2)),
        other => panic!("unknown command {other}"),
    }
}

/// xorshift64*: deterministic data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Box–Muller (one of the pair).
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    fn pick(&mut self, weights: &[f64]) -> usize {
        let mut x = self.uniform() * weights.iter().sum::<f64>();
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

fn names() -> Vec<String> {
    (0..NUMERICAL)
        .map(|i| format!("num_{i:02}"))
        .chain((0..CATEGORICAL).map(|i| format!("cat_{i}")))
        .collect()
}

/// One row; `shifted` moves num_00..num_04 by half a standard deviation,
/// widens num_05 by 1.5× and changes the mix of cat_0 and cat_1 (the known
/// drift: 8 of 20 features).
fn row(rng: &mut Rng, shifted: bool, out: &mut String) {
    use std::fmt::Write as _;
    for i in 0..NUMERICAL {
        let (mean, sd) = (10.0 * i as f64, 1.0 + i as f64);
        let mut z = rng.normal();
        if shifted && i < 5 {
            z += 0.5;
        }
        if shifted && i == 5 {
            z *= 1.5;
        }
        let _ = write!(out, "{:.3},", mean + sd * z);
    }
    for i in 0..CATEGORICAL {
        let mut weights: Vec<f64> = (0..CATEGORIES.len())
            .map(|k| 1.0 / (k + 1) as f64)
            .collect();
        if shifted && i < 2 {
            weights.reverse();
        }
        let _ = write!(out, "{}", CATEGORIES[rng.pick(&weights)]);
        out.push(if i + 1 < CATEGORICAL { ',' } else { '\n' });
    }
}

fn generate(dir: &str, rows: usize) {
    std::fs::create_dir_all(dir).expect("create dir");
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut train = BufWriter::new(File::create(format!("{dir}/train.csv")).expect("train.csv"));
    writeln!(train, "{}", names().join(",")).unwrap();
    let mut line = String::new();
    for _ in 0..rows {
        line.clear();
        row(&mut rng, false, &mut line);
        train.write_all(line.as_bytes()).unwrap();
    }
    train.flush().unwrap();
    let mut capture =
        BufWriter::new(File::create(format!("{dir}/capture.jsonl")).expect("capture.jsonl"));
    for n in 0..rows {
        line.clear();
        row(&mut rng, true, &mut line);
        let data = line.trim_end();
        let minute = n * 60 / rows.max(1);
        writeln!(
            capture,
            "{{\"captureData\":{{\"endpointInput\":{{\"observedContentType\":\"text/csv\",\"mode\":\"INPUT\",\"data\":\"{data}\",\"encoding\":\"CSV\"}},\"endpointOutput\":{{\"observedContentType\":\"text/csv; charset=utf-8\",\"mode\":\"OUTPUT\",\"data\":\"{:.4}\",\"encoding\":\"CSV\"}}}},\"eventMetadata\":{{\"eventId\":\"{:016x}-{n:08}\",\"inferenceTime\":\"2026-11-24T03:{minute:02}:00Z\"}},\"eventVersion\":\"0\"}}",
            rng.uniform(),
            rng.next()
        )
        .unwrap();
    }
    capture.flush().unwrap();
}

fn timed<T>(phase: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    eprintln!(
        "{{\"phase\":\"{phase}\",\"seconds\":{}}}",
        start.elapsed().as_secs_f64()
    );
    value
}

fn baseline(train: &str, out: &str) {
    let baseline = timed("baseline", || {
        let mut builder = BaselineBuilder::new(BuildOptions::default());
        builder
            .read(BufReader::with_capacity(
                1 << 20,
                File::open(train).expect("train"),
            ))
            .expect("training data");
        builder.finish().expect("baseline")
    });
    std::fs::write(out, baseline.to_json()).expect("write baseline");
}

fn check(baseline: &str, capture: &str, out: &str) {
    let baseline = Baseline::from_json(&std::fs::read(baseline).expect("baseline")).expect("valid");
    let report = timed("check", || {
        let mut stats = WindowStats::new(&baseline);
        // `-`: stdin, to stream windows larger than any file on disk.
        if capture == "-" {
            stats
                .read(BufReader::with_capacity(1 << 20, std::io::stdin().lock()))
                .expect("read");
        } else {
            stats
                .read(BufReader::with_capacity(
                    1 << 20,
                    File::open(capture).expect("capture"),
                ))
                .expect("read");
        }
        compare(&baseline, &stats, &DriftConfig::default())
    });
    std::fs::write(out, serde_json::to_string_pretty(&report).unwrap()).expect("write report");
}

fn parse(mode: &str, capture: &str) {
    let (lines, bytes) = timed(&format!("parse-{mode}"), || {
        let mut reader = BufReader::with_capacity(1 << 20, File::open(capture).expect("capture"));
        let mut line = Vec::new();
        let (mut lines, mut bytes) = (0u64, 0usize);
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).expect("read") == 0 {
                break;
            }
            let ok = match mode {
                "scan" => matches!(decode_request(line.trim_ascii()), Decoded::Request(_)),
                "typed" => {
                    decode_line(&line).is_some_and(|l| l.capture_data.endpoint_input.is_some())
                }
                _ => serde_json::from_slice::<serde_json::Value>(&line).is_ok(),
            };
            lines += u64::from(ok);
            bytes += line.len();
        }
        (lines, bytes)
    });
    println!("{{\"lines\":{lines},\"bytes\":{bytes}}}");
}
