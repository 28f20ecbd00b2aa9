//! The policy kept in git (`steward.toml`): for each SageMaker model package group,
//! what to build and when, what a model must show to pass the gate, who approves
//! it, and the environments it is promoted through.
//!
//! The policy lives in the user's ML repository so that every change to it is
//! reviewed like code; `steward policy check` runs [`Policy::parse`] on it, and the
//! functions parse the published copy at cold start. Parsing validates everything
//! and reports every problem with the path of the field it concerns, so a broken
//! policy fails the pull request, not a deployment. `examples/steward.toml` is the
//! annotated reference.
//!
//! Files: `model` (group, pipeline, data watch, retrain guard), `gate`,
//! `environment`, `monitor` (drift monitoring), `duration`, `schedule`, `names`
//! (AWS name shapes), `raw` (the
//! TOML as written), `document` (TOML to raw groups, errors to paths),
//! `validate`, `validate_environment` and `validate_monitor` (the rules), `error`.

mod document;
mod duration;
mod environment;
mod error;
mod gate;
mod git;
mod model;
mod monitor;
mod names;
mod raw;
mod schedule;
mod validate;
mod validate_environment;
mod validate_monitor;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use duration::{format_duration, parse_duration, DurationError};
pub use environment::{
    default_approval, Approval, DataCapture, Environment, SmokeTest, Strategy, Target,
    DEFAULT_BAKE, DEFAULT_INSTANCE_COUNT, DEFAULT_SMOKE_TOLERANCE,
};
pub use error::{PolicyError, PolicyErrors, DOCUMENT};
pub use gate::{Better, Gate, NoRegression, Threshold};
pub use git::{glob_match, GitWatch};
pub use model::{
    DataWatch, Debounce, Group, Pipeline, PipelineParameters, RetrainGuard,
    DEFAULT_APPROVAL_LIFETIME, DEFAULT_COOLDOWN, DEFAULT_MARKER, DEFAULT_MAX_PER_DAY,
    MAX_APPROVAL_LIFETIME, MIN_APPROVAL_LIFETIME,
};
pub use monitor::{
    DriftThresholds, Monitor, Monitored, DEFAULT_MIN_ROWS, DEFAULT_MONITOR_WINDOW, DEFAULT_VARIANT,
    MAX_MONITOR_WINDOW,
};

/// A validated policy: one [`Group`] per model package group, by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub groups: BTreeMap<String, Group>,
}

impl Policy {
    /// Parse and validate; every problem is reported, not just the first.
    ///
    /// Unknown keys are errors (a typo must not silently fall back to a default).
    /// Each key of a group and each environment is read on its own: an unknown key
    /// or a wrongly typed value stops only the checks of the table it is in (say
    /// `environments[1]` or `data`); everything else is still checked.
    pub fn parse(toml_text: &str) -> Result<Policy, PolicyErrors> {
        let mut errors = error::Errors::default();
        let raw_groups = document::load(toml_text, &mut errors);
        if raw_groups.is_empty() && errors.is_empty() {
            errors.add(
                "groups",
                "no groups; define at least one [groups.<model package group name>]",
            );
        }
        let groups: BTreeMap<String, Group> = raw_groups
            .into_iter()
            .map(|(name, raw)| {
                let group = validate::group(&name, raw, &mut errors);
                (name, group)
            })
            .collect();
        validate::across_groups(&groups, &mut errors);
        errors.into_result(Policy { groups })
    }

    /// The group whose data watch covers this S3 object (longest prefix wins).
    ///
    /// A parsed policy never has two watches covering one object (overlapping
    /// prefixes are rejected); the longest-prefix rule makes the answer well
    /// defined for policies built in code too.
    pub fn watching(&self, bucket: &str, key: &str) -> Option<&Group> {
        self.groups
            .values()
            .filter_map(|group| {
                let watch = group.data.as_ref()?;
                watch
                    .covers(bucket, key)
                    .then_some((watch.prefix.len(), group))
            })
            .max_by_key(|(prefix_len, _)| *prefix_len)
            .map(|(_, group)| group)
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    /// The groups whose git watch covers a push to `branch` of `repository`.
    pub fn pushed(&self, repository: &str, branch: &str) -> Vec<&Group> {
        self.groups
            .values()
            .filter(|g| {
                g.git
                    .as_ref()
                    .is_some_and(|w| w.watches(repository, branch))
            })
            .collect()
    }

    /// The group one of whose environments serves on this SageMaker endpoint
    /// (or Lambda function); endpoints belong to one environment only.
    pub fn serving(&self, endpoint: &str) -> Option<&Group> {
        self.groups.values().find(|g| {
            g.environments.iter().any(|e| match &e.target {
                Target::SageMakerEndpoint { endpoint: name, .. } => name == endpoint,
                Target::LambdaAlias { function, .. } => function == endpoint,
            })
        })
    }
}

impl std::str::FromStr for Policy {
    type Err = PolicyErrors;

    fn from_str(toml_text: &str) -> Result<Self, Self::Err> {
        Policy::parse(toml_text)
    }
}
