//! Checks for `[groups.<name>.monitor]`: the environments it watches capture
//! data, the baseline is an S3 object, the window fits SageMaker's hourly capture
//! folders, and every threshold is a usable number.

use std::collections::BTreeMap;
use std::time::Duration;

use super::duration::format_duration;
use super::environment::{Environment, Target};
use super::error::{field, index, Errors};
use super::monitor::{
    DriftThresholds, Monitor, DEFAULT_MIN_ROWS, DEFAULT_MONITOR_WINDOW, DEFAULT_VARIANT,
    MAX_MONITOR_WINDOW,
};
use super::names;
use super::raw::{RawDriftThresholds, RawMonitor};
use super::validate::duration_or;

const HOUR: Duration = Duration::from_secs(3_600);

pub(super) fn monitor(
    path: &str,
    raw: RawMonitor,
    environments: &[Environment],
    errors: &mut Errors,
) -> Monitor {
    let capturing = |e: &Environment| {
        matches!(e.target, Target::SageMakerEndpoint { .. }) && e.data_capture.is_some()
    };
    let monitored = match raw.environments {
        None => {
            let names: Vec<String> = environments
                .iter()
                .filter(|e| capturing(e))
                .map(|e| e.name.clone())
                .collect();
            if names.is_empty() {
                errors.add(
                    path,
                    "no environment captures data; add data_capture to the environments to monitor",
                );
            }
            names
        }
        Some(names) => {
            let list = field(path, "environments");
            if names.is_empty() {
                errors.add(&list, "empty; name the environments to monitor, or leave it out to monitor every one with data_capture");
            }
            for (i, name) in names.iter().enumerate() {
                let at = index(&list, i);
                match environments.iter().find(|e| &e.name == name) {
                    None => errors.add(&at, format!("no environment named \"{name}\"")),
                    Some(e) if !capturing(e) => errors.add(
                        &at,
                        format!("environment \"{name}\" has no data_capture on a SageMaker endpoint; drift is measured on captured requests"),
                    ),
                    Some(_) if names[..i].contains(name) => {
                        errors.add(&at, format!("\"{name}\" is listed twice"))
                    }
                    Some(_) => {}
                }
            }
            names
        }
    };
    let baseline = match raw.baseline {
        None => {
            errors.add(
                field(path, "baseline"),
                "missing; the s3:// object of the baseline (`steward baseline`, or Model Monitor's statistics.json)",
            );
            String::new()
        }
        Some(uri) => {
            if let Err(message) = names::check_s3_uri(&uri, true) {
                errors.add(field(path, "baseline"), message);
            }
            uri
        }
    };
    if let Some(uri) = &raw.constraints {
        if let Err(message) = names::check_s3_uri(uri, true) {
            errors.add(field(path, "constraints"), message);
        }
    }
    let variant = raw.variant.unwrap_or_else(|| DEFAULT_VARIANT.to_string());
    if !names::is_group_name(&variant) {
        errors.add(
            field(path, "variant"),
            format!("\"{variant}\" is not a valid production variant name"),
        );
    }
    let window_path = field(path, "window");
    let window = duration_or(&window_path, raw.window, DEFAULT_MONITOR_WINDOW, errors);
    let whole_hours = Duration::from_secs(window.as_secs() / HOUR.as_secs() * HOUR.as_secs());
    if whole_hours != window || !(HOUR..=MAX_MONITOR_WINDOW).contains(&window) {
        errors.add(
            &window_path,
            format!(
                "{} is not a whole number of hours from 1h to {}: capture is written in hourly folders",
                format_duration(window),
                format_duration(MAX_MONITOR_WINDOW)
            ),
        );
    }
    let min_rows = match raw.min_rows {
        None => DEFAULT_MIN_ROWS,
        Some(n) if n >= 1 => n as u64,
        Some(n) => {
            errors.add(
                field(path, "min_rows"),
                format!("{n} is out of range: at least 1"),
            );
            DEFAULT_MIN_ROWS
        }
    };
    let thresholds = thresholds(
        &field(path, "thresholds"),
        raw.thresholds.unwrap_or_default(),
        DriftThresholds::default(),
        errors,
    );
    let features_path = field(path, "features");
    let features: BTreeMap<String, DriftThresholds> = raw
        .features
        .into_iter()
        .map(|(name, raw)| {
            let t = self::thresholds(&field(&features_path, &name), raw, thresholds, errors);
            (name, t)
        })
        .collect();
    Monitor {
        environments: monitored,
        baseline,
        constraints: raw.constraints,
        variant,
        window,
        min_rows,
        thresholds,
        features,
    }
}

/// Each given limit checked and put over `base`.
fn thresholds(
    path: &str,
    raw: RawDriftThresholds,
    base: DriftThresholds,
    errors: &mut Errors,
) -> DriftThresholds {
    let mut check = |key: &str, value: Option<f64>, ok: fn(f64) -> bool, range: &str| {
        if let Some(v) = value {
            if !ok(v) {
                errors.add(field(path, key), format!("{v} is out of range: {range}"));
            }
        }
        value
    };
    let psi = check("psi", raw.psi, |v| v.is_finite() && v > 0.0, "above 0");
    let ks = check("ks", raw.ks, |v| v > 0.0 && v <= 1.0, "above 0, at most 1");
    let js = check("js", raw.js, |v| v > 0.0 && v <= 1.0, "above 0, at most 1");
    let chi_squared_p = check(
        "chi_squared_p",
        raw.chi_squared_p,
        |v| v > 0.0 && v < 1.0,
        "a p-value between 0 and 1",
    );
    DriftThresholds {
        psi: psi.or(base.psi),
        ks: ks.or(base.ks),
        js: js.or(base.js),
        chi_squared_p: chi_squared_p.or(base.chi_squared_p),
    }
}
