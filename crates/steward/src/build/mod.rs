//! Deciding what a trigger builds: which group, which pipeline, with which
//! parameters, and under which idempotency key. Pure: no AWS calls here.
//!
//! Data markers are decided here; git pushes, drift, schedules and manual
//! requests in `triggers`; when a schedule is due in `cron`.

pub mod cron;
pub mod outcome;
pub mod quiet;
pub mod quiet_store;
mod triggers;

pub use triggers::{
    on_build_requested, on_codecommit, on_drift, on_git_push, on_schedule, schedule_due_of,
    BuildRequested, DriftDetected, GitPush, Plans, BUILD_REQUESTED, DRIFT_DETECTED, GIT_PUSH,
};

use chrono::{DateTime, Utc};

use crate::events::s3::ObjectCreated;
use crate::events::steward::{DataVersion, Trigger};
use crate::events::EventError;
use crate::naming::{pipeline_execution_display_name, IdempotencyKey};
use crate::policy::{Debounce, Group, Policy};
use quiet::{QuietArrival, QuietObject};

/// One pipeline execution to start, fully decided.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildPlan {
    pub group: String,
    pub pipeline_name: String,
    pub trigger: Trigger,
    pub key: IdempotencyKey,
    pub data: Option<DataVersion>,
    pub commit: Option<String>,
    /// Pipeline parameters by the names the group's pipeline declares.
    pub parameters: Vec<(String, String)>,
    pub display_name: String,
    pub description: String,
    /// Skip the retrain guard (`steward build --force`).
    pub force: bool,
}

/// Why an event starts nothing. Not an error: most objects in a watched bucket
/// are data files, not markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// No group watches this bucket and prefix.
    NotWatched { bucket: String, key: String },
    /// The group waits for its marker; this object is data, not the marker.
    NotMarker {
        group: String,
        key: String,
        marker: String,
    },
    /// A reference change that brings no new commits to a branch (a tag, a
    /// deletion, an unreferenced merge commit).
    NotABranchPush { repository: String, what: String },
    /// No group builds from this repository and branch.
    NoGroupForPush { repository: String, branch: String },
    /// Groups build from this branch, but the push changed none of their paths.
    NoRelevantChange {
        repository: String,
        branch: String,
        commit: String,
    },
    /// No group serves on the endpoint that drifted (or the one named does not).
    NoGroupForEndpoint { endpoint: String },
    /// A request names a group the policy does not have.
    UnknownGroup { group: String },
    /// The tick found no group whose schedule is due.
    NothingDue,
    /// A pipeline status change of a pipeline no group of the policy runs.
    NotManagedPipeline { pipeline_arn: String },
}

impl std::fmt::Display for Ignored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ignored::NotWatched { bucket, key } => {
                write!(f, "s3://{bucket}/{key} is outside every watched prefix")
            }
            Ignored::NotMarker { group, key, marker } => write!(
                f,
                "{key} is data for group {group}, which builds when its marker `{marker}` lands"
            ),
            Ignored::NotABranchPush { repository, what } => {
                write!(
                    f,
                    "{what} in {repository} brings no new commits to a branch"
                )
            }
            Ignored::NoGroupForPush { repository, branch } => {
                write!(f, "no group builds from branch {branch} of {repository}")
            }
            Ignored::NoRelevantChange {
                repository,
                branch,
                commit,
            } => write!(
                f,
                "commit {commit} on {repository}@{branch} changed no path any group builds from"
            ),
            Ignored::NoGroupForEndpoint { endpoint } => {
                write!(f, "no group serves on endpoint {endpoint}")
            }
            Ignored::UnknownGroup { group } => {
                write!(f, "the policy has no group named {group}")
            }
            Ignored::NothingDue => write!(f, "no group's retrain schedule is due"),
            Ignored::NotManagedPipeline { pipeline_arn } => {
                write!(f, "no group of the policy runs the pipeline {pipeline_arn}")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Build(Box<BuildPlan>),
    /// Data for a quiet-window group: record it in the group's quiet period;
    /// the schedule tick builds once the prefix has been quiet for the window.
    Quiet(QuietArrival),
    Ignore(Ignored),
}

/// New data in S3 (`at`: the event's time): a marker object closes a data set
/// and starts one build of the group watching its prefix, with the marker's
/// prefix as the input; any object of a quiet-window group extends its quiet
/// period.
pub fn on_object_created(
    policy: &Policy,
    object: &ObjectCreated,
    at: DateTime<Utc>,
) -> Result<Decision, EventError> {
    let bucket = object.bucket.name.as_str();
    let key = object.object.key.as_str();
    let Some(group) = policy.watching(bucket, key) else {
        return Ok(Decision::Ignore(Ignored::NotWatched {
            bucket: bucket.into(),
            key: key.into(),
        }));
    };
    let Some(watch) = group.data.as_ref() else {
        // `watching` only returns groups with a data watch.
        return Ok(Decision::Ignore(Ignored::NotWatched {
            bucket: bucket.into(),
            key: key.into(),
        }));
    };
    let marker = match &watch.debounce {
        Debounce::Marker { marker } => marker,
        Debounce::QuietWindow { .. } => {
            return Ok(Decision::Quiet(QuietArrival {
                group: group.name.clone(),
                bucket: bucket.into(),
                object: QuietObject {
                    at,
                    key: key.into(),
                    identity: identity(object)?,
                    version_id: object.object.version_id.clone(),
                    etag: object.object.etag.clone(),
                },
            }))
        }
    };
    let (prefix, name) = match key.rsplit_once('/') {
        Some((dir, name)) => (format!("{dir}/"), name),
        None => (String::new(), key),
    };
    if name != marker {
        return Ok(Decision::Ignore(Ignored::NotMarker {
            group: group.name.clone(),
            key: key.into(),
            marker: marker.clone(),
        }));
    }
    let version_id = object.object.version_id.clone();
    let etag = object.object.etag.clone();
    let identity = identity(object)?;
    let version = version_id
        .clone()
        .or_else(|| etag.clone())
        .unwrap_or_else(|| identity.clone());
    let uri = format!("s3://{bucket}/{prefix}");
    let key_id = IdempotencyKey::data_build(bucket, &prefix, &identity);
    let data = DataVersion {
        uri: uri.clone(),
        bucket: bucket.into(),
        prefix: prefix.clone(),
        marker_key: key.into(),
        version: version.clone(),
        version_id,
        etag,
    };
    Ok(Decision::Build(Box::new(plan(
        group,
        Trigger::Data,
        key_id,
        Some(data),
        None,
        format!("Steward: new data {uri} (version {version})"),
    ))))
}

/// What names this write of an object: a versioned bucket's version id, else
/// the sequencer (an empty marker's etag is the same every day, so it cannot).
fn identity(object: &ObjectCreated) -> Result<String, EventError> {
    object
        .object
        .version_id
        .clone()
        .or_else(|| object.object.sequencer.clone())
        .or_else(|| object.object.etag.clone())
        .ok_or(EventError::MissingField {
            field: "detail.object.version-id (or sequencer, or etag)",
        })
}

pub(crate) fn plan(
    group: &Group,
    trigger: Trigger,
    key: IdempotencyKey,
    data: Option<DataVersion>,
    commit: Option<String>,
    description: String,
) -> BuildPlan {
    let names = &group.pipeline.parameters;
    let mut parameters = vec![(names.trigger.clone(), trigger.as_str().to_string())];
    if let Some(data) = &data {
        parameters.push((names.input_data.clone(), data.uri.clone()));
        parameters.push((names.data_version.clone(), data.version.clone()));
    }
    if let Some(commit) = &commit {
        parameters.push((names.commit.clone(), commit.clone()));
    }
    BuildPlan {
        group: group.name.clone(),
        pipeline_name: group.pipeline.name.clone(),
        trigger,
        display_name: pipeline_execution_display_name(trigger.as_str(), &key),
        key,
        data,
        commit,
        parameters,
        // SageMaker caps the description at 3072 characters.
        description: description.chars().take(3072).collect(),
        force: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::s3::{Bucket, Object};

    const POLICY: &str = include_str!("../../../../examples/steward.toml");

    fn object(bucket: &str, key: &str) -> ObjectCreated {
        serde_json::from_value(serde_json::json!({
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 0, "etag": "d41d8cd98f00b204e9800998ecf8427e",
                       "version-id": "v-123", "sequencer": "00617F0829"},
            "reason": "PutObject"
        }))
        .unwrap()
    }

    fn policy() -> Policy {
        Policy::parse(POLICY).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn build(decision: Decision) -> BuildPlan {
        match decision {
            Decision::Build(plan) => *plan,
            Decision::Ignore(why) => panic!("expected a build, got: {why}"),
            Decision::Quiet(arrival) => panic!("expected a build, got: {arrival:?}"),
        }
    }

    #[test]
    fn a_marker_builds_its_prefix_with_the_data_version() {
        let plan = build(
            on_object_created(
                &policy(),
                &object(
                    "acme-ml-data",
                    "payroll-fraud/transactions/2026-11-23/_SUCCESS",
                ),
                now(),
            )
            .unwrap(),
        );
        assert_eq!(plan.group, "payroll-fraud");
        assert_eq!(plan.pipeline_name, "payroll-fraud-train");
        assert_eq!(plan.trigger, Trigger::Data);
        let uri = "s3://acme-ml-data/payroll-fraud/transactions/2026-11-23/";
        assert_eq!(
            plan.parameters,
            vec![
                ("Trigger".to_string(), "data".to_string()),
                ("InputDataUrl".to_string(), uri.to_string()),
                ("DataVersion".to_string(), "v-123".to_string()),
            ]
        );
        assert_eq!(
            plan.key.as_str(),
            "build/s3/acme-ml-data/payroll-fraud/transactions/2026-11-23/@v-123"
        );
        let data = plan.data.unwrap();
        assert_eq!(data.uri, uri);
        assert_eq!(
            data.marker_key,
            "payroll-fraud/transactions/2026-11-23/_SUCCESS"
        );
        assert!(plan.description.contains(uri));
    }

    #[test]
    fn data_files_wait_for_their_marker() {
        let decision = on_object_created(
            &policy(),
            &object(
                "acme-ml-data",
                "payroll-fraud/transactions/2026-11-23/part-0.csv",
            ),
            now(),
        )
        .unwrap();
        assert!(matches!(
            decision,
            Decision::Ignore(Ignored::NotMarker { ref group, ref marker, .. })
                if group == "payroll-fraud" && marker == "_SUCCESS"
        ));
    }

    #[test]
    fn objects_outside_every_watch_are_ignored() {
        for (bucket, key) in [
            (
                "other-bucket",
                "payroll-fraud/transactions/2026-11-23/_SUCCESS",
            ),
            ("acme-ml-data", "scratch/_SUCCESS"),
            ("acme-ml-data", "_SUCCESS"),
        ] {
            let decision = on_object_created(&policy(), &object(bucket, key), now()).unwrap();
            assert!(
                matches!(decision, Decision::Ignore(Ignored::NotWatched { .. })),
                "{bucket}/{key}: {decision:?}"
            );
        }
    }

    #[test]
    fn quiet_window_objects_extend_the_groups_quiet_period_and_build_nothing_yet() {
        let decision = on_object_created(
            &policy(),
            &object("acme-ml-data", "attrition/snapshots/2026-11/_SUCCESS"),
            now(),
        )
        .unwrap();
        let Decision::Quiet(arrival) = decision else {
            panic!("expected a quiet-period arrival, got {decision:?}");
        };
        assert_eq!(arrival.group, "attrition");
        assert_eq!(arrival.bucket, "acme-ml-data");
        assert_eq!(arrival.object.at, now());
        assert_eq!(arrival.object.key, "attrition/snapshots/2026-11/_SUCCESS");
        assert_eq!(arrival.object.identity, "v-123");
    }

    #[test]
    fn unversioned_buckets_use_the_sequencer_for_identity_and_the_etag_as_version() {
        let mut event = object("acme-ml-data", "payroll-fraud/transactions/d1/_SUCCESS");
        event.object.version_id = None;
        let plan = build(on_object_created(&policy(), &event, now()).unwrap());
        assert!(plan.key.as_str().ends_with("@00617F0829"), "{}", plan.key);
        assert_eq!(
            plan.data.unwrap().version,
            "d41d8cd98f00b204e9800998ecf8427e"
        );
    }

    #[test]
    fn a_marker_without_any_identity_is_a_named_error() {
        let event = ObjectCreated {
            bucket: Bucket {
                name: "acme-ml-data".into(),
            },
            object: Object {
                key: "payroll-fraud/transactions/d1/_SUCCESS".into(),
                etag: None,
                version_id: None,
                sequencer: None,
                ..object("b", "k").object
            },
            ..object("b", "k")
        };
        let err = on_object_created(&policy(), &event, now()).unwrap_err();
        assert_eq!(err.error_type(), "missing_field");
        assert!(err.to_string().contains("version-id"), "{err}");
    }
}
