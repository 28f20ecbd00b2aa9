//! Builds that start from git, drift, the schedule or an operator: which groups,
//! with which parameters, under which key. Pure, like the data path.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::{plan, BuildPlan, Ignored};
use crate::events::codecommit::RepositoryStateChange;
use crate::events::steward::Trigger;
use crate::events::EventError;
use crate::naming::IdempotencyKey;
use crate::policy::{Group, Policy};

/// detail-type of a verified push from a hosted git provider (source `steward`).
pub const GIT_PUSH: &str = "Git Push";
/// detail-type of a drift finding (source `steward`).
pub const DRIFT_DETECTED: &str = "Drift Detected";
/// detail-type of an operator's request to build (source `steward`).
pub const BUILD_REQUESTED: &str = "Build Requested";

/// `Git Push` as the git-webhook function emits it; only what a build needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitPush {
    pub repository: String,
    pub branch: String,
    pub commit: String,
    #[serde(default)]
    pub changed_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<String>,
}

/// `Drift Detected`: an endpoint's traffic drifted from its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftDetected {
    pub endpoint_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_package_group: Option<String>,
    /// The monitoring window the finding covers (its end, or an id of it); with
    /// the endpoint it names the finding, so a re-run of the same check is the
    /// same cause. Without it, the event id does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
}

/// `Build Requested`: `steward build <group> [--force]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildRequested {
    pub model_package_group: String,
    #[serde(default)]
    pub force: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
}

impl BuildRequested {
    /// The whole EventBridge event for this request, as `steward build` hands it
    /// to start-build. `id` names the request: a redelivery with the same id
    /// builds nothing new.
    pub fn event(&self, id: &str, at: DateTime<Utc>) -> serde_json::Value {
        serde_json::json!({
            "version": "0",
            "id": id,
            "detail-type": BUILD_REQUESTED,
            "source": crate::events::steward::SOURCE,
            "account": "000000000000",
            "time": at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "region": "us-east-1",
            "resources": [],
            "detail": self,
        })
    }
}

/// What a trigger builds: one plan per group, or why nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Plans {
    Build(Vec<BuildPlan>),
    Ignore(Ignored),
}

fn key(text: String) -> Result<IdempotencyKey, EventError> {
    Ok(IdempotencyKey::new(text))
}

fn git_plan(
    group: &Group,
    repository: &str,
    branch: &str,
    commit: &str,
    why: &str,
) -> Result<BuildPlan, EventError> {
    // One key per group and commit: every delivery of the push (CodeCommit's
    // event, a webhook redelivery) builds each group once.
    let key = key(format!(
        "build/git/{repository}/{branch}@{commit}/{}",
        group.name
    ))?;
    Ok(plan(
        group,
        Trigger::GitPush,
        key,
        None,
        Some(commit.to_string()),
        format!("Steward: {why} {repository}@{branch} {commit}"),
    ))
}

/// A CodeCommit push: every group whose `git.repository` is this repository
/// and whose branches include the pushed one. CodeCommit does not list the
/// changed paths, so path filters do not apply.
pub fn on_codecommit(policy: &Policy, change: &RepositoryStateChange) -> Result<Plans, EventError> {
    let repository = change.repository_name.as_str();
    let Some(branch) = change.branch().filter(|_| change.is_branch_push()) else {
        return Ok(Plans::Ignore(Ignored::NotABranchPush {
            repository: repository.into(),
            what: format!(
                "{} of {}",
                change.event,
                change
                    .reference_full_name
                    .as_deref()
                    .unwrap_or("a reference")
            ),
        }));
    };
    let commit = change.require_commit_id()?;
    let groups = policy.pushed(repository, branch);
    if groups.is_empty() {
        return Ok(Plans::Ignore(Ignored::NoGroupForPush {
            repository: repository.into(),
            branch: branch.into(),
        }));
    }
    let plans = groups
        .into_iter()
        .map(|g| git_plan(g, repository, branch, commit, "push to"))
        .collect::<Result<_, _>>()?;
    Ok(Plans::Build(plans))
}

/// A verified push from GitHub or GitLab: the groups it concerns whose paths
/// it changed.
pub fn on_git_push(policy: &Policy, push: &GitPush) -> Result<Plans, EventError> {
    let groups = policy.pushed(&push.repository, &push.branch);
    if groups.is_empty() {
        return Ok(Plans::Ignore(Ignored::NoGroupForPush {
            repository: push.repository.clone(),
            branch: push.branch.clone(),
        }));
    }
    let mut plans = Vec::new();
    for group in groups {
        let Some(git) = &group.git else { continue };
        if let Some(path) = git.first_relevant(&push.changed_paths) {
            let why = format!("push changing {path} to");
            plans.push(git_plan(
                group,
                &push.repository,
                &push.branch,
                &push.commit,
                &why,
            )?);
        }
    }
    if plans.is_empty() {
        return Ok(Plans::Ignore(Ignored::NoRelevantChange {
            repository: push.repository.clone(),
            branch: push.branch.clone(),
            commit: push.commit.clone(),
        }));
    }
    Ok(Plans::Build(plans))
}

/// Drift on an endpoint retrains the group that serves there.
pub fn on_drift(
    policy: &Policy,
    drift: &DriftDetected,
    event_id: &str,
) -> Result<Plans, EventError> {
    let endpoint = drift.endpoint_name.as_str();
    let group = match policy.serving(endpoint) {
        Some(group)
            if drift
                .model_package_group
                .as_deref()
                .is_none_or(|named| named == group.name) =>
        {
            group
        }
        _ => {
            return Ok(Plans::Ignore(Ignored::NoGroupForEndpoint {
                endpoint: endpoint.into(),
            }))
        }
    };
    let finding = drift.window.as_deref().unwrap_or(event_id);
    let key = key(format!("build/drift/{}/{endpoint}@{finding}", group.name))?;
    Ok(Plans::Build(vec![plan(
        group,
        Trigger::Drift,
        key,
        None,
        None,
        format!("Steward: drift detected on {endpoint} ({finding})"),
    )]))
}

/// An operator's request: one build of the named group, under the request's
/// own key (its event id), so a redelivery starts nothing new.
pub fn on_build_requested(
    policy: &Policy,
    request: &BuildRequested,
    request_id: &str,
) -> Result<Plans, EventError> {
    let Some(group) = policy.group(&request.model_package_group) else {
        return Ok(Plans::Ignore(Ignored::UnknownGroup {
            group: request.model_package_group.clone(),
        }));
    };
    let key = key(format!("build/manual/{}/{request_id}", group.name))?;
    let by = request.requested_by.as_deref().unwrap_or("an operator");
    let mut plan = plan(
        group,
        Trigger::Manual,
        key,
        None,
        None,
        format!("Steward: build requested by {by}"),
    );
    plan.force = request.force;
    Ok(Plans::Build(vec![plan]))
}

/// The scheduled build of `group` for the fire time `due`: one key per due
/// time, so every tick that sees it (and every redelivery) builds it once.
pub fn on_schedule(group: &Group, due: DateTime<Utc>) -> Result<BuildPlan, EventError> {
    let due = due.to_rfc3339_opts(SecondsFormat::Secs, true);
    let key = key(format!("build/schedule/{}/{due}", group.name))?;
    let schedule = group.schedule.as_deref().unwrap_or("its schedule");
    Ok(plan(
        group,
        Trigger::Schedule,
        key,
        None,
        None,
        format!("Steward: scheduled retrain {schedule}, due {due}"),
    ))
}

/// The due time a scheduled build's cause names (`build/schedule/<group>/<due>`),
/// so the ledger's records tell the tick which due times were already handled.
pub fn schedule_due_of(group: &str, cause: &str) -> Option<DateTime<Utc>> {
    let prefix = format!("build/schedule/{group}/");
    cause.strip_prefix(&prefix)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::decode_str_as;

    const POLICY: &str = include_str!("../../../../examples/steward.toml");

    fn policy() -> Policy {
        Policy::parse(POLICY).unwrap()
    }

    fn builds(plans: Plans) -> Vec<BuildPlan> {
        match plans {
            Plans::Build(plans) => plans,
            Plans::Ignore(why) => panic!("expected builds, got: {why}"),
        }
    }

    fn push(paths: &[&str]) -> GitPush {
        GitPush {
            repository: "acme/ml-models".into(),
            branch: "main".into(),
            commit: "8e1f3c5".into(),
            changed_paths: paths.iter().map(|p| p.to_string()).collect(),
            provider: Some("github".into()),
            delivery_id: Some("d-1".into()),
        }
    }

    #[test]
    fn a_push_rebuilds_the_groups_whose_paths_changed() {
        let plans =
            builds(on_git_push(&policy(), &push(&["models/payroll-fraud/train.py"])).unwrap());
        assert_eq!(plans.len(), 1);
        let plan = &plans[0];
        assert_eq!(plan.group, "payroll-fraud");
        assert_eq!(plan.trigger, Trigger::GitPush);
        assert_eq!(plan.commit.as_deref(), Some("8e1f3c5"));
        assert_eq!(
            plan.parameters,
            vec![
                ("Trigger".to_string(), "git-push".to_string()),
                ("GitCommit".to_string(), "8e1f3c5".to_string())
            ]
        );
        assert_eq!(
            plan.key.as_str(),
            "build/git/acme/ml-models/main@8e1f3c5/payroll-fraud"
        );
        let both = builds(
            on_git_push(
                &policy(),
                &push(&["features/people/tenure.sql", "features/spend.sql"]),
            )
            .unwrap(),
        );
        assert_eq!(
            both.len(),
            2,
            "features/** and features/people/** both match"
        );
    }

    #[test]
    fn the_webhook_samples_rebuild_the_example_policys_group() {
        use crate::webhook::GitPush as Emitted;
        let samples = [
            include_str!("../../../../events/github-push.json"),
            include_str!("../../../../events/gitlab-push.json"),
        ];
        for (sample, parse) in samples.iter().zip([
            crate::webhook::github::parse_push as fn(&[u8]) -> _,
            crate::webhook::gitlab::parse_push,
        ]) {
            let push = parse(sample.as_bytes()).unwrap();
            let emitted = Emitted::from_push(&push, "d-1").unwrap();
            // The event as start-build decodes it from the bus.
            let detail: GitPush =
                serde_json::from_value(serde_json::to_value(&emitted).unwrap()).unwrap();
            let plans = builds(on_git_push(&policy(), &detail).unwrap());
            assert_eq!(plans.len(), 1, "{plans:?}");
            assert_eq!(plans[0].group, "payroll-fraud");
        }
    }

    #[test]
    fn a_readme_only_push_rebuilds_nothing() {
        assert!(matches!(
            on_git_push(&policy(), &push(&["README.md"])).unwrap(),
            Plans::Ignore(Ignored::NoRelevantChange { .. })
        ));
        let mut other = push(&["models/payroll-fraud/x.py"]);
        other.branch = "feature/x".into();
        assert!(matches!(
            on_git_push(&policy(), &other).unwrap(),
            Plans::Ignore(Ignored::NoGroupForPush { .. })
        ));
    }

    #[test]
    fn a_codecommit_push_builds_the_groups_of_that_repository() {
        let mut text = include_str!("../../../../events/codecommit-push.json").to_string();
        let event = decode_str_as::<RepositoryStateChange>(&text).unwrap();
        assert!(matches!(
            on_codecommit(&policy(), &event.detail).unwrap(),
            Plans::Ignore(Ignored::NoGroupForPush { .. })
        ));
        text = text.replace("payroll-fraud-model", "ml-models");
        let policy = Policy::parse(&POLICY.replace("\"acme/ml-models\"", "\"ml-models\"")).unwrap();
        let mut event = decode_str_as::<RepositoryStateChange>(&text).unwrap();
        let plans = builds(on_codecommit(&policy, &event.detail).unwrap());
        assert_eq!(plans.len(), 2);
        assert!(plans
            .iter()
            .all(|p| p.commit.as_deref() == Some("8e1f3c5a7b9d2e4f6a8c0b1d3e5f7a9c2b4d6e8f")));
        event.detail.reference_type = Some("tag".into());
        assert!(matches!(
            on_codecommit(&policy, &event.detail).unwrap(),
            Plans::Ignore(Ignored::NotABranchPush { .. })
        ));
    }

    #[test]
    fn drift_retrains_the_group_serving_on_the_endpoint() {
        let drift = DriftDetected {
            endpoint_name: "payroll-fraud-prod".into(),
            model_package_group: None,
            window: Some("2026-11-23T10:00Z".into()),
        };
        let plans = builds(on_drift(&policy(), &drift, "evt-1").unwrap());
        assert_eq!(plans[0].group, "payroll-fraud");
        assert_eq!(plans[0].trigger, Trigger::Drift);
        assert_eq!(
            plans[0].key.as_str(),
            "build/drift/payroll-fraud/payroll-fraud-prod@2026-11-23T10:00Z"
        );
        let wrong = DriftDetected {
            model_package_group: Some("attrition".into()),
            ..drift
        };
        assert!(matches!(
            on_drift(&policy(), &wrong, "evt-1").unwrap(),
            Plans::Ignore(Ignored::NoGroupForEndpoint { .. })
        ));
    }

    #[test]
    fn requests_and_schedules_have_their_own_keys() {
        let request = BuildRequested {
            model_package_group: "attrition".into(),
            force: true,
            requested_by: Some("dana".into()),
        };
        let plans = builds(on_build_requested(&policy(), &request, "r-1").unwrap());
        assert!(plans[0].force);
        assert_eq!(plans[0].key.as_str(), "build/manual/attrition/r-1");
        let unknown = BuildRequested {
            model_package_group: "nope".into(),
            ..request
        };
        assert!(matches!(
            on_build_requested(&policy(), &unknown, "r-2").unwrap(),
            Plans::Ignore(Ignored::UnknownGroup { .. })
        ));
        let policy = policy();
        let due: DateTime<Utc> = "2026-11-23T06:00:00Z".parse().unwrap();
        let plan = on_schedule(policy.group("attrition").unwrap(), due).unwrap();
        assert_eq!(
            plan.key.as_str(),
            "build/schedule/attrition/2026-11-23T06:00:00Z"
        );
        assert_eq!(schedule_due_of("attrition", plan.key.as_str()), Some(due));
        assert_eq!(schedule_due_of("payroll-fraud", plan.key.as_str()), None);
    }
}
