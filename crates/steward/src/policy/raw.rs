//! The policy as written, before validation. Almost every field is optional here so
//! that a missing one becomes a policy error naming it, checked alongside the rest,
//! instead of a deserialization error that hides every later problem. Numbers are
//! `i64` for the same reason: range checks say what range, not "expected u8".
//! `deny_unknown_fields` everywhere: a misspelt key is an error, never a silent
//! default.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;

use super::environment::Approval;
use super::gate::Better;

/// A group as loaded: its keys, its environments in their positions (`None` where
/// one could not be read: it was reported, and later checks skip it), and the keys
/// that could not be read, so that they are not also reported as missing.
#[derive(Debug, Default)]
pub(super) struct LoadedGroup {
    pub raw: RawGroup,
    pub environments: Vec<Option<RawEnvironment>>,
    pub failed: BTreeSet<String>,
}

/// The keys of a `[groups.<name>]` table. The loader deserializes one key at a
/// time (each field is optional) and merges the parts with [`RawGroup::absorb`],
/// so a bad key does not hide problems in the others.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub pipeline: Option<RawPipeline>,
    pub data: Option<RawDataWatch>,
    pub retrain: Option<RawRetrain>,
    pub schedule: Option<String>,
    pub git: Option<super::git::RawGit>,
    pub gate: Option<RawGate>,
    #[serde(default)]
    pub stewards: Vec<String>,
    #[serde(default)]
    pub approvers: Vec<String>,
    pub approval_lifetime: Option<RawDuration>,
    pub monitor: Option<RawMonitor>,
    /// Read one environment at a time by the loader (into
    /// [`LoadedGroup::environments`]); declared here so that unknown-key messages
    /// list it among the expected keys.
    #[serde(rename = "environments")]
    _environments: Option<IgnoredAny>,
}

impl RawGroup {
    /// Takes every key `part` has; the loader gives each part one key.
    pub(super) fn absorb(&mut self, part: RawGroup) {
        self.pipeline = part.pipeline.or(self.pipeline.take());
        self.data = part.data.or(self.data.take());
        self.retrain = part.retrain.or(self.retrain.take());
        self.schedule = part.schedule.or(self.schedule.take());
        self.git = part.git.or(self.git.take());
        self.gate = part.gate.or(self.gate.take());
        self.approval_lifetime = part.approval_lifetime.or(self.approval_lifetime.take());
        self.monitor = part.monitor.or(self.monitor.take());
        self.stewards.extend(part.stewards);
        self.approvers.extend(part.approvers);
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPipeline {
    pub name: Option<String>,
    pub parameters: Option<RawParameters>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawParameters {
    pub input_data: Option<String>,
    pub data_version: Option<String>,
    pub trigger: Option<String>,
    pub commit: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDataWatch {
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub debounce: Option<RawDebounce>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDebounce {
    pub marker: Option<String>,
    pub quiet_window: Option<RawDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetrain {
    pub cooldown: Option<RawDuration>,
    pub max_per_day: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGate {
    #[serde(default)]
    pub thresholds: BTreeMap<String, RawBounds>,
    #[serde(default)]
    pub no_regression: BTreeMap<String, RawNoRegression>,
    #[serde(default)]
    pub required_metrics: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNoRegression {
    pub tolerance: Option<f64>,
    pub better: Option<Better>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnvironment {
    pub name: Option<String>,
    pub target: Option<RawTarget>,
    pub strategy: Option<RawStrategy>,
    #[serde(default)]
    pub alarms: Vec<String>,
    pub bake: Option<RawDuration>,
    pub smoke_test: Option<RawSmokeTest>,
    pub approval: Option<Approval>,
    pub data_capture: Option<RawDataCapture>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum TargetKind {
    SagemakerEndpoint,
    LambdaAlias,
}

/// One flat table for both kinds, so that a field given to the wrong kind gets a
/// message saying so rather than "unknown field".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub kind: Option<TargetKind>,
    pub endpoint: Option<String>,
    pub instance_type: Option<String>,
    pub instance_count: Option<i64>,
    pub function: Option<String>,
    pub alias: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum StrategyKind {
    AllAtOnce,
    Canary,
    Linear,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStrategy {
    pub kind: Option<StrategyKind>,
    pub size_percent: Option<i64>,
    pub step_percent: Option<i64>,
    pub wait: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmokeTest {
    pub cases: Option<String>,
    pub tolerance: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDataCapture {
    pub percent: Option<i64>,
    pub destination: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMonitor {
    pub environments: Option<Vec<String>>,
    pub baseline: Option<String>,
    pub constraints: Option<String>,
    pub variant: Option<String>,
    pub window: Option<RawDuration>,
    pub min_rows: Option<i64>,
    pub thresholds: Option<RawDriftThresholds>,
    #[serde(default)]
    pub features: BTreeMap<String, RawDriftThresholds>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDriftThresholds {
    pub psi: Option<f64>,
    pub ks: Option<f64>,
    pub js: Option<f64>,
    pub chi_squared_p: Option<f64>,
}

/// A duration as written (`"15m"`), parsed during validation so that a bad one is
/// reported with the others. Its own type so that `bake = 600` is answered with
/// "expected a duration such as ..." rather than "expected a string".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawDuration(pub String);

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationText;

        impl Visitor<'_> for DurationText {
            type Value = RawDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"90s\", \"15m\", \"6h\" or \"2d\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawDuration, E> {
                Ok(RawDuration(text.to_string()))
            }
        }

        deserializer.deserialize_str(DurationText)
    }
}
