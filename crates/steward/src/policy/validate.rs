//! From raw groups to the policy: every rule checked, every failure collected.
//!
//! Each check returns a usable value even when it reports an error (a default or a
//! placeholder), so that checking carries on and the user sees all problems at
//! once; [`super::Policy::parse`] discards the result whenever anything was reported.

use std::collections::BTreeMap;
use std::time::Duration;

use super::duration::{format_duration, parse_duration};
use super::environment::{Approval, Environment, Strategy, Target, DEFAULT_BAKE};
use super::error::{field, index, Errors};
use super::gate::{Gate, NoRegression, Threshold};
use super::model::{
    DataWatch, Debounce, Group, Pipeline, PipelineParameters, RetrainGuard,
    DEFAULT_APPROVAL_LIFETIME, MAX_APPROVAL_LIFETIME, MIN_APPROVAL_LIFETIME,
};
use super::names;
use super::raw::{
    LoadedGroup, RawDataWatch, RawDuration, RawEnvironment, RawGate, RawPipeline, RawRetrain,
};
use super::schedule::check_schedule;
use super::validate_environment::environment;

pub(super) fn group(name: &str, loaded: LoadedGroup, errors: &mut Errors) -> Group {
    let LoadedGroup {
        raw,
        environments,
        failed,
    } = loaded;
    let path = field("groups", name);
    if !names::is_group_name(name) {
        errors.add(
            &path,
            format!(
                "\"{name}\" is not a valid model package group name: letters, digits and hyphens, \
                 starting and ending with a letter or digit, at most 63 characters"
            ),
        );
    }
    let pipeline = match raw.pipeline {
        None if failed.contains("pipeline") => placeholder_pipeline(),
        raw => pipeline(&field(&path, "pipeline"), raw, errors),
    };
    let data = raw
        .data
        .map(|data| data_watch(&field(&path, "data"), data, errors));
    let retrain = retrain(
        &field(&path, "retrain"),
        raw.retrain.unwrap_or_default(),
        errors,
    );
    if let Some(schedule) = &raw.schedule {
        if let Err(message) = check_schedule(schedule) {
            errors.add(field(&path, "schedule"), message);
        }
    }
    let git = raw
        .git
        .map(|git| super::git::git(&field(&path, "git"), git, errors));
    let gate = gate(&field(&path, "gate"), raw.gate.unwrap_or_default(), errors);
    let stewards = emails(&field(&path, "stewards"), raw.stewards, errors);
    let approvers = emails(&field(&path, "approvers"), raw.approvers, errors);
    let lifetime_path = field(&path, "approval_lifetime");
    let approval_lifetime = duration_or(
        &lifetime_path,
        raw.approval_lifetime,
        DEFAULT_APPROVAL_LIFETIME,
        errors,
    );
    if !(MIN_APPROVAL_LIFETIME..=MAX_APPROVAL_LIFETIME).contains(&approval_lifetime) {
        errors.add(
            &lifetime_path,
            format!(
                "{} is out of range: an approval request lives between {} and {}",
                format_duration(approval_lifetime),
                format_duration(MIN_APPROVAL_LIFETIME),
                format_duration(MAX_APPROVAL_LIFETIME)
            ),
        );
    }

    let environments =
        self::environments(&path, environments, failed.contains("environments"), errors);
    if approvers.is_empty() && !failed.contains("approvers") {
        if let Some(i) = environments
            .iter()
            .position(|e| e.approval.needs_a_person())
        {
            let needing = match environments[i].name.as_str() {
                "" => format!("environments[{i}]"),
                name => format!("environment \"{name}\""),
            };
            errors.add(
                field(&path, "approvers"),
                format!(
                    "no approvers, but {needing} needs approval by a person; list who may approve \
                     (approval = \"required\" is the default after the first environment)"
                ),
            );
        }
    }

    let monitor = raw.monitor.map(|raw| {
        super::validate_monitor::monitor(&field(&path, "monitor"), raw, &environments, errors)
    });

    Group {
        name: name.to_string(),
        pipeline,
        data,
        retrain,
        schedule: raw.schedule,
        git,
        gate,
        stewards,
        approvers,
        approval_lifetime,
        environments,
        monitor,
    }
}

/// Environments keep their positions: one that could not be read becomes an inert
/// placeholder (no name, no target, no approval) that later checks skip, so paths
/// and default approvals stay right.
fn environments(
    group_path: &str,
    raw: Vec<Option<RawEnvironment>>,
    failed: bool,
    errors: &mut Errors,
) -> Vec<Environment> {
    let path = field(group_path, "environments");
    if raw.is_empty() && !failed {
        errors.add(
            &path,
            "no environments; list at least one [[groups.<name>.environments]], in promotion order",
        );
    }
    let count = raw.len();
    let environments: Vec<Environment> = raw
        .into_iter()
        .enumerate()
        .map(|(i, env)| match env {
            Some(env) => environment(&index(&path, i), i, count, env, errors),
            None => placeholder_environment(),
        })
        .collect();
    for (i, env) in environments.iter().enumerate() {
        if env.name.is_empty() {
            continue;
        }
        if let Some(first) = environments[..i].iter().position(|e| e.name == env.name) {
            errors.add(
                field(&index(&path, i), "name"),
                format!(
                    "\"{}\" is already the name of environments[{first}]; environment names must be unique",
                    env.name
                ),
            );
        }
    }
    environments
}

fn placeholder_pipeline() -> Pipeline {
    Pipeline {
        name: String::new(),
        parameters: PipelineParameters::default(),
    }
}

fn placeholder_environment() -> Environment {
    Environment {
        name: String::new(),
        target: Target::SageMakerEndpoint {
            endpoint: String::new(),
            instance_type: String::new(),
            instance_count: 1,
        },
        strategy: Strategy::AllAtOnce,
        alarms: Vec::new(),
        bake: DEFAULT_BAKE,
        smoke_test: None,
        approval: Approval::None,
        data_capture: None,
    }
}

fn pipeline(path: &str, raw: Option<RawPipeline>, errors: &mut Errors) -> Pipeline {
    let Some(raw) = raw else {
        errors.add(
            path,
            "missing; name the SageMaker pipeline that trains this group's models, like pipeline = { name = \"my-model-train\" }",
        );
        return placeholder_pipeline();
    };
    let name = match raw.name {
        None => {
            errors.add(
                field(path, "name"),
                "missing; the SageMaker pipeline to start",
            );
            String::new()
        }
        Some(name) => {
            if !names::is_pipeline_name(&name) {
                errors.add(
                    field(path, "name"),
                    format!(
                        "\"{name}\" is not a valid SageMaker pipeline name: letters, digits and hyphens, \
                         starting and ending with a letter or digit, at most 256 characters"
                    ),
                );
            }
            name
        }
    };
    let raw_parameters = raw.parameters.unwrap_or_default();
    let defaults = PipelineParameters::default();
    let parameters_path = field(path, "parameters");
    let mut seen: Vec<(&str, String)> = Vec::new();
    let mut parameter = |key: &'static str, value: Option<String>, default: String| {
        let value = value.unwrap_or(default);
        let at = field(&parameters_path, key);
        if !names::is_pipeline_parameter_name(&value) {
            errors.add(
                &at,
                format!("\"{value}\" is not a valid pipeline parameter name: 1 to 256 letters, digits, '-' or '_'"),
            );
        } else if let Some((other, _)) = seen.iter().find(|(_, v)| *v == value) {
            errors.add(
                &at,
                format!("\"{value}\" is also the name given to `{other}`; each parameter needs its own name"),
            );
        }
        seen.push((key, value.clone()));
        value
    };
    let parameters = PipelineParameters {
        input_data: parameter("input_data", raw_parameters.input_data, defaults.input_data),
        data_version: parameter(
            "data_version",
            raw_parameters.data_version,
            defaults.data_version,
        ),
        trigger: parameter("trigger", raw_parameters.trigger, defaults.trigger),
        commit: parameter("commit", raw_parameters.commit, defaults.commit),
    };
    Pipeline { name, parameters }
}

fn data_watch(path: &str, raw: RawDataWatch, errors: &mut Errors) -> DataWatch {
    let bucket = match raw.bucket {
        None => {
            errors.add(
                field(path, "bucket"),
                "missing; the S3 bucket the data lands in",
            );
            String::new()
        }
        Some(bucket) => {
            if !names::is_bucket_name(&bucket) {
                errors.add(
                    field(path, "bucket"),
                    format!(
                        "\"{bucket}\" is not a valid S3 bucket name: 3 to 63 lowercase letters, digits, \
                         '.' and '-', starting and ending with a letter or digit"
                    ),
                );
            }
            bucket
        }
    };
    let prefix = raw.prefix.unwrap_or_default();
    if prefix.starts_with('/') {
        errors.add(
            field(path, "prefix"),
            format!(
                "\"{prefix}\" starts with '/', but S3 keys do not, so nothing would match; write \"{}\"",
                prefix.trim_start_matches('/')
            ),
        );
    }
    let debounce_path = field(path, "debounce");
    let debounce = match raw.debounce {
        None => Debounce::default(),
        Some(raw) => match (raw.marker, raw.quiet_window) {
            (Some(marker), None) => {
                if marker.is_empty() {
                    errors.add(
                        field(&debounce_path, "marker"),
                        "empty; name the object that says a drop is complete, like \"_SUCCESS\"",
                    );
                } else if marker.contains('/') {
                    errors.add(
                        field(&debounce_path, "marker"),
                        format!("\"{marker}\" contains '/'; the marker is a file name, not a path"),
                    );
                }
                Debounce::Marker { marker }
            }
            (None, Some(window)) => {
                let at = field(&debounce_path, "quiet_window");
                let window = duration_or(&at, Some(window), Duration::from_secs(1), errors);
                if window.is_zero() {
                    errors.add(
                        &at,
                        "must be longer than 0s: it is how long no new data must arrive",
                    );
                }
                Debounce::QuietWindow { window }
            }
            (Some(_), Some(_)) => {
                errors.add(
                    &debounce_path,
                    "set either `marker` or `quiet_window`, not both",
                );
                Debounce::default()
            }
            (None, None) => {
                errors.add(
                    &debounce_path,
                    "empty; set `marker` (like \"_SUCCESS\") or `quiet_window` (like \"30m\"), or leave \
                     debounce out for the default marker \"_SUCCESS\"",
                );
                Debounce::default()
            }
        },
    };
    DataWatch {
        bucket,
        prefix,
        debounce,
    }
}

fn retrain(path: &str, raw: RawRetrain, errors: &mut Errors) -> RetrainGuard {
    let defaults = RetrainGuard::default();
    let cooldown = duration_or(
        &field(path, "cooldown"),
        raw.cooldown,
        defaults.cooldown,
        errors,
    );
    let max_per_day = match raw.max_per_day {
        None => defaults.max_per_day,
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| *n >= 1)
            .unwrap_or_else(|| {
                errors.add(
                    field(path, "max_per_day"),
                    format!("{n} is out of range: at least 1 build per day"),
                );
                defaults.max_per_day
            }),
    };
    RetrainGuard {
        cooldown,
        max_per_day,
    }
}

fn gate(path: &str, raw: RawGate, errors: &mut Errors) -> Gate {
    let thresholds_path = field(path, "thresholds");
    let thresholds = raw
        .thresholds
        .into_iter()
        .map(|(metric, bounds)| {
            let at = field(&thresholds_path, &metric);
            check_metric(&at, &metric, errors);
            if bounds.min.is_none() && bounds.max.is_none() {
                errors.add(&at, "no bounds; set `min`, `max` or both");
            }
            let min = finite(&field(&at, "min"), bounds.min, errors);
            let max = finite(&field(&at, "max"), bounds.max, errors);
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    errors.add(&at, format!("min {min} is greater than max {max}"));
                }
            }
            Threshold { metric, min, max }
        })
        .collect();
    let no_regression_path = field(path, "no_regression");
    let no_regression = raw
        .no_regression
        .into_iter()
        .map(|(metric, raw)| {
            let at = field(&no_regression_path, &metric);
            check_metric(&at, &metric, errors);
            let tolerance_path = field(&at, "tolerance");
            let tolerance = finite(&tolerance_path, raw.tolerance, errors).unwrap_or(0.0);
            if tolerance < 0.0 {
                errors.add(
                    &tolerance_path,
                    format!("{tolerance} is negative; the tolerance is how much worse than the champion is still fine (0 or more)"),
                );
            }
            NoRegression {
                metric,
                tolerance,
                better: raw.better.unwrap_or_default(),
            }
        })
        .collect();
    let required_path = field(path, "required_metrics");
    for (i, metric) in raw.required_metrics.iter().enumerate() {
        let at = index(&required_path, i);
        check_metric(&at, metric, errors);
        if raw.required_metrics[..i].contains(metric) {
            errors.add(&at, format!("\"{metric}\" is listed twice"));
        }
    }
    Gate {
        thresholds,
        no_regression,
        required_metrics: raw.required_metrics,
    }
}

fn check_metric(path: &str, metric: &str, errors: &mut Errors) {
    if !names::is_metric_path(metric) {
        errors.add(
            path,
            format!(
                "\"{metric}\" is not a metric path; name a metric in the evaluation report, \
                 like \"binary_classification_metrics.auc.value\", or in the bias report, \
                 like \"bias.post_training.<facet>.<value>.DPPL\""
            ),
        );
    }
}

fn finite(path: &str, value: Option<f64>, errors: &mut Errors) -> Option<f64> {
    match value {
        Some(v) if !v.is_finite() => {
            errors.add(path, format!("{v} is not a finite number"));
            None
        }
        other => other,
    }
}

fn emails(path: &str, addresses: Vec<String>, errors: &mut Errors) -> Vec<String> {
    for (i, address) in addresses.iter().enumerate() {
        let at = index(path, i);
        if !names::is_email(address) {
            errors.add(
                &at,
                format!("\"{address}\" does not look like an email address"),
            );
        } else if addresses[..i].contains(address) {
            errors.add(&at, format!("\"{address}\" is listed twice"));
        }
    }
    addresses
}

/// The parsed duration, or `default` when absent; a bad one is reported and
/// replaced by `default` so checking can go on.
pub(super) fn duration_or(
    path: &str,
    raw: Option<RawDuration>,
    default: Duration,
    errors: &mut Errors,
) -> Duration {
    match raw {
        None => default,
        Some(RawDuration(text)) => parse_duration(&text).unwrap_or_else(|error| {
            errors.add(path, error.to_string());
            default
        }),
    }
}

/// Rules that span groups: who watches what, and who deploys where.
pub(super) fn across_groups(groups: &BTreeMap<String, Group>, errors: &mut Errors) {
    overlapping_watches(groups, errors);
    shared_targets(groups, errors);
}

/// S3 prefixes are plain string prefixes: two watches overlap when one prefix
/// starts with the other, and an object under both would start two builds.
fn overlapping_watches(groups: &BTreeMap<String, Group>, errors: &mut Errors) {
    let watches: Vec<(&str, &DataWatch)> = groups
        .values()
        .filter_map(|g| g.data.as_ref().map(|d| (g.name.as_str(), d)))
        .filter(|(_, d)| !d.bucket.is_empty())
        .collect();
    for (i, (name, watch)) in watches.iter().enumerate() {
        for (other_name, other) in &watches[..i] {
            let overlap = watch.bucket == other.bucket
                && (watch.prefix.starts_with(&other.prefix)
                    || other.prefix.starts_with(&watch.prefix));
            if overlap {
                errors.add(
                    field(&field(&field("groups", name), "data"), "prefix"),
                    format!(
                        "\"{}\" overlaps \"{}\" watched by groups.{other_name} in bucket {}: groups {other_name} \
                         and {name} would both claim the same objects; make the prefixes disjoint",
                        watch.prefix, other.prefix, watch.bucket
                    ),
                );
            }
        }
    }
}

/// Two environments deploying to one endpoint (or one Lambda alias) would undo
/// each other's rollouts and share one "last known good".
fn shared_targets(groups: &BTreeMap<String, Group>, errors: &mut Errors) {
    let mut seen: Vec<(&Target, String)> = Vec::new();
    for group in groups.values() {
        for (i, env) in group.environments.iter().enumerate() {
            let env_path = index(&field(&field("groups", &group.name), "environments"), i);
            let (key_path, empty) = match &env.target {
                Target::SageMakerEndpoint { endpoint, .. } => (
                    field(&field(&env_path, "target"), "endpoint"),
                    endpoint.is_empty(),
                ),
                Target::LambdaAlias { function, alias } => (
                    field(&env_path, "target"),
                    function.is_empty() || alias.is_empty(),
                ),
            };
            if empty {
                continue;
            }
            let same = |other: &Target| match (&env.target, other) {
                (
                    Target::SageMakerEndpoint { endpoint: a, .. },
                    Target::SageMakerEndpoint { endpoint: b, .. },
                ) => a == b,
                (
                    Target::LambdaAlias {
                        function: fa,
                        alias: aa,
                    },
                    Target::LambdaAlias {
                        function: fb,
                        alias: ab,
                    },
                ) => fa == fb && aa == ab,
                _ => false,
            };
            if let Some((_, first)) = seen.iter().find(|(target, _)| same(target)) {
                errors.add(
                    key_path,
                    format!(
                        "{} is also the target of {first}; each environment needs its own",
                        env.target.describe()
                    ),
                );
            } else {
                seen.push((&env.target, env_path));
            }
        }
    }
}
