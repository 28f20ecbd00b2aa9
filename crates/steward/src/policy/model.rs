//! A model package group's policy: what to build, when, and from which data.
//! The gate and the environments have files of their own.

use std::time::Duration;

use super::environment::Environment;
use super::gate::Gate;

/// Default retrain cooldown: at most one data- or drift-triggered build per hour,
/// so a burst of uploads or a flapping drift check cannot queue a pile of runs.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(60 * 60);
/// Default cap on triggered builds per day (UTC): a runaway trigger costs at most
/// six training runs before someone notices.
pub const DEFAULT_MAX_PER_DAY: u32 = 6;
/// Default lifetime of an approval request (and its link): 72 hours, which covers
/// a weekend.
pub const DEFAULT_APPROVAL_LIFETIME: Duration = Duration::from_secs(72 * 60 * 60);
/// Shortest approval lifetime: a human needs a few minutes to read the email.
pub const MIN_APPROVAL_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// Longest approval lifetime: a week; after that the evidence is stale and the
/// model should be rebuilt or asked for again.
pub const MAX_APPROVAL_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Default debounce marker: the object Spark and Hadoop write when a job's output
/// is complete.
pub const DEFAULT_MARKER: &str = "_SUCCESS";

/// Everything Steward does for one SageMaker model package group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The model package group name (the `[groups.<name>]` key).
    pub name: String,
    pub pipeline: Pipeline,
    /// The data whose arrival starts a build; `None` when builds start only from
    /// git pushes, the schedule or drift.
    pub data: Option<DataWatch>,
    pub retrain: RetrainGuard,
    /// An EventBridge schedule expression (`cron(...)` with six fields or
    /// `rate(N unit)`) for periodic retraining; `None` for no schedule.
    pub schedule: Option<String>,
    /// The repository, branches and paths whose pushes rebuild this group;
    /// `None` when pushes do not start builds.
    pub git: Option<super::git::GitWatch>,
    pub gate: Gate,
    /// Told about outcomes (builds, gate rejections, deployments, rollbacks).
    pub stewards: Vec<String>,
    /// Who may approve a model for an environment whose approval is `required`.
    pub approvers: Vec<String>,
    /// How long an approval request stays open. Default 72h; 5m to 7d.
    pub approval_lifetime: Duration,
    /// In promotion order: a model reaches environment `n + 1` only after
    /// environment `n` succeeded and baked.
    pub environments: Vec<Environment>,
    /// Drift monitoring of this group's endpoints; `None` when not monitored.
    pub monitor: Option<super::monitor::Monitor>,
}

impl Group {
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// Where a model goes first once its package is approved.
    pub fn first_environment(&self) -> Option<&Environment> {
        self.environments.first()
    }

    /// The environment promoted to after `name`; `None` after the last one (or for
    /// an unknown name).
    pub fn next_environment(&self, name: &str) -> Option<&Environment> {
        let at = self.environments.iter().position(|e| e.name == name)?;
        self.environments.get(at + 1)
    }
}

/// The SageMaker pipeline that trains and registers this group's models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub name: String,
    pub parameters: PipelineParameters,
}

/// The names of the pipeline parameters Steward fills in when it starts a run;
/// rename them to match a pipeline you already have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineParameters {
    /// The S3 URI of the data to train on. Default `InputDataUrl`.
    pub input_data: String,
    /// The data version (object version id, else etag) that started the run.
    /// Default `DataVersion`.
    pub data_version: String,
    /// Why the run started: `data`, `git`, `schedule` or `drift`. Default `Trigger`.
    pub trigger: String,
    /// The git commit of the ML repository. Default `GitCommit`.
    pub commit: String,
}

impl Default for PipelineParameters {
    fn default() -> Self {
        Self {
            input_data: "InputDataUrl".to_string(),
            data_version: "DataVersion".to_string(),
            trigger: "Trigger".to_string(),
            commit: "GitCommit".to_string(),
        }
    }
}

/// The S3 location whose new data starts a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataWatch {
    pub bucket: String,
    /// Key prefix (S3 semantics: a plain string prefix, `""` for the whole bucket).
    /// No two groups may watch overlapping prefixes of one bucket.
    pub prefix: String,
    pub debounce: Debounce,
}

impl DataWatch {
    /// Whether an object lands in this watch.
    pub fn covers(&self, bucket: &str, key: &str) -> bool {
        self.bucket == bucket && key.starts_with(&self.prefix)
    }

    /// For marker debouncing: if `key` is a marker object, the folder it closes
    /// (the key without the marker, ending in `/`, or `""` at the bucket root).
    /// `None` for data objects and for quiet-window debouncing.
    pub fn marker_closes<'k>(&self, key: &'k str) -> Option<&'k str> {
        let Debounce::Marker { marker } = &self.debounce else {
            return None;
        };
        let folder = key.strip_suffix(marker.as_str())?;
        (folder.is_empty() || folder.ends_with('/')).then_some(folder)
    }
}

/// How Steward waits for a data drop to be complete before starting a build: data
/// lands as many objects, and one build per object would be wrong and expensive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Debounce {
    /// Build when an object with this exact file name (no `/`) lands under the
    /// prefix; the other objects are ignored. The default, with `_SUCCESS`.
    Marker { marker: String },
    /// Build once no new object has landed under the prefix for this long (> 0).
    QuietWindow { window: Duration },
}

impl Default for Debounce {
    fn default() -> Self {
        Debounce::Marker {
            marker: DEFAULT_MARKER.to_string(),
        }
    }
}

/// Limits on builds that start on their own (new data, the schedule, drift), so a
/// misbehaving trigger cannot run up a training bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrainGuard {
    /// Minimum time between two triggered builds. Default 1h.
    pub cooldown: Duration,
    /// Maximum triggered builds per UTC day, at least 1. Default 6.
    pub max_per_day: u32,
}

impl Default for RetrainGuard {
    fn default() -> Self {
        Self {
            cooldown: DEFAULT_COOLDOWN,
            max_per_day: DEFAULT_MAX_PER_DAY,
        }
    }
}
