//! Per environment, what served from when to when, and what was rolling out.
//!
//! Read from Steward's own verdicts, which are checked against what
//! `DescribeEndpoint` shows live: `Deployment Succeeded` starts a model's
//! time in service, `Rollback Completed` of the serving model ends it and
//! starts the known-good model's again. `Deployment Failed` (or an
//! automatic rollback during the rollout) leaves what serves unchanged.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ordered;
use crate::audit::{version_of_arn, AuditRecord};

/// One model's time in service in an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Served {
    pub model_package_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    pub from: DateTime<Utc>,
    /// Absent while it still serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// `deployed` or `rolled-back-to`.
    pub how: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_config: Option<String>,
    /// What ended it: the summary of the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
}

impl Served {
    fn covers(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && self.until.is_none_or(|until| at < until)
    }
}

/// A rollout in progress at some instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    pub model_package_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    pub since: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
}

/// What served, and what was rolling out, at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServedAt {
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving: Option<Served>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_out: Option<Rollout>,
}

/// The timeline of one environment from its records (an `ENV#<group>#<env>`
/// partition, or any superset: records of other environments are skipped).
pub fn served_timeline(environment: &str, records: &[AuditRecord]) -> Vec<Served> {
    let mut timeline: Vec<Served> = Vec::new();
    // Rollback target named by `Rollback Started`, by the bad model's ARN.
    let mut targets: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    for r in ordered(records.iter().filter(|r| on(r, environment))) {
        let Some(model) = r.model_package_arn() else {
            continue;
        };
        match r.detail_type.as_str() {
            "Deployment Succeeded" => {
                if current(&timeline) == Some(model) {
                    continue; // the same model confirmed again
                }
                close(&mut timeline, r);
                timeline.push(Served {
                    model_package_arn: model.to_string(),
                    version: version_of_arn(model),
                    from: r.at,
                    until: None,
                    how: "deployed".into(),
                    endpoint_config: r.text("endpointConfig").map(String::from),
                    ended_by: None,
                });
            }
            "Rollback Started" => {
                if let Some(to) = r.text("toModelPackageArn") {
                    targets.insert(
                        model.to_string(),
                        (to.to_string(), r.text("toEndpointConfig").map(String::from)),
                    );
                }
            }
            "Rollback Completed" => {
                if current(&timeline) != Some(model) {
                    continue; // rolled back before it ever served
                }
                let (to, config) = match targets.remove(model) {
                    Some(target) => target,
                    None => match last_other(&timeline, model) {
                        Some(previous) => (
                            previous.model_package_arn.clone(),
                            previous.endpoint_config.clone(),
                        ),
                        None => {
                            close(&mut timeline, r);
                            continue; // nothing known to go back to
                        }
                    },
                };
                close(&mut timeline, r);
                timeline.push(Served {
                    version: version_of_arn(&to),
                    model_package_arn: to,
                    from: r.at,
                    until: None,
                    how: "rolled-back-to".into(),
                    endpoint_config: r.text("liveConfig").map(String::from).or(config),
                    ended_by: None,
                });
            }
            _ => {}
        }
    }
    timeline
}

/// What served in `environment` at `at`, and what was rolling out then.
pub fn served_at(environment: &str, records: &[AuditRecord], at: DateTime<Utc>) -> ServedAt {
    let serving = served_timeline(environment, records)
        .into_iter()
        .find(|s| s.covers(at));
    ServedAt {
        at,
        serving,
        rolling_out: rollout_at(environment, records, at),
    }
}

/// The rollout started at or before `at` that had not ended by then.
pub fn rollout_at(
    environment: &str,
    records: &[AuditRecord],
    at: DateTime<Utc>,
) -> Option<Rollout> {
    let mut open: Option<Rollout> = None;
    for r in ordered(records.iter().filter(|r| on(r, environment) && r.at <= at)) {
        let Some(model) = r.model_package_arn() else {
            continue;
        };
        match r.detail_type.as_str() {
            "Deployment Started" => {
                open = Some(Rollout {
                    model_package_arn: model.to_string(),
                    version: version_of_arn(model),
                    since: r.at,
                    strategy: r.text("trafficRouting").map(String::from),
                })
            }
            "Deployment Succeeded" | "Deployment Failed" | "Rollback Completed"
                if open.as_ref().is_some_and(|o| o.model_package_arn == model) =>
            {
                open = None
            }
            _ => {}
        }
    }
    open
}

fn on(r: &AuditRecord, environment: &str) -> bool {
    r.is_steward() && r.environment() == Some(environment)
}

fn current(timeline: &[Served]) -> Option<&str> {
    timeline
        .last()
        .filter(|s| s.until.is_none())
        .map(|s| s.model_package_arn.as_str())
}

fn close(timeline: &mut [Served], by: &AuditRecord) {
    if let Some(last) = timeline.last_mut().filter(|s| s.until.is_none()) {
        last.until = Some(by.at);
        last.ended_by = Some(by.summary.clone());
    }
}

fn last_other<'a>(timeline: &'a [Served], model: &str) -> Option<&'a Served> {
    timeline.iter().rev().find(|s| s.model_package_arn != model)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{at, shuffled_twice, story, V2, V3};
    use super::*;

    #[test]
    fn the_timeline_shows_the_rollout_and_the_rollback() {
        let timeline = served_timeline("prod", &shuffled_twice());
        let spans: Vec<(&str, &str, Option<String>)> = timeline
            .iter()
            .map(|s| {
                (
                    s.model_package_arn.as_str(),
                    s.how.as_str(),
                    s.until.map(crate::audit::stamp),
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                (V2, "deployed", Some("2026-11-23T09:12:40.000Z".into())),
                (V3, "deployed", Some("2026-11-23T09:18:00.000Z".into())),
                (V2, "rolled-back-to", None),
            ]
        );
        assert_eq!(timeline, served_timeline("prod", &story()));
        assert!(served_timeline("staging", &story()).is_empty());
    }

    #[test]
    fn served_at_before_during_after_the_rollout_and_after_the_rollback() {
        let records = shuffled_twice();
        let ask = |t: &str| served_at("prod", &records, at(t));
        let before = ask("2026-11-23T09:00:00Z");
        assert_eq!(before.serving.unwrap().model_package_arn, V2);
        assert_eq!(before.rolling_out, None);

        let during = ask("2026-11-23T09:11:00Z");
        assert_eq!(during.serving.unwrap().model_package_arn, V2);
        let rollout = during.rolling_out.unwrap();
        assert_eq!(rollout.model_package_arn, V3);
        assert_eq!(rollout.strategy.as_deref(), Some("CANARY"));

        let after = ask("2026-11-23T09:12:40Z");
        let serving = after.serving.unwrap();
        assert_eq!(
            (serving.model_package_arn.as_str(), serving.version),
            (V3, Some(3))
        );
        assert_eq!(after.rolling_out, None);

        let rolled_back = ask("2026-11-23T09:20:00Z").serving.unwrap();
        assert_eq!(rolled_back.model_package_arn, V2);
        assert_eq!(rolled_back.how, "rolled-back-to");

        assert_eq!(ask("2026-11-01T00:00:00Z").serving, None);
    }

    #[test]
    fn a_rollout_rolled_back_before_it_served_changes_nothing() {
        let records: Vec<AuditRecord> = story()
            .into_iter()
            .filter(|r| {
                !(r.detail_type == "Deployment Succeeded" && r.model_package_arn() == Some(V3))
            })
            .collect();
        let timeline = served_timeline("prod", &records);
        assert_eq!(timeline.len(), 1);
        assert_eq!(timeline[0].model_package_arn, V2);
        assert_eq!(timeline[0].until, None);
        // Rollback Completed ends the rollout.
        assert_eq!(
            rollout_at("prod", &records, at("2026-11-23T09:30:00Z")),
            None
        );
    }
}
