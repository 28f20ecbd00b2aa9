//! `steward status`: per group and environment, what serves, what is rolling
//! out, what waits for approval, and the last build and its trigger.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::timeline::{rollout_at, served_timeline, Rollout, Served};
use super::{ordered, pending_approvals, Entry, PendingApproval};
use crate::audit::AuditRecord;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupStatus {
    pub group: String,
    pub environments: Vec<EnvironmentStatus>,
    pub pending_approvals: Vec<PendingApproval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_build: Option<LastBuild>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentStatus {
    pub environment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving: Option<Served>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_out: Option<Rollout>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event: Option<Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastBuild {
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    pub pipeline_execution_arn: String,
    /// The execution's latest status, when its records were read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl GroupStatus {
    /// The status of `group` at `now` from its records (`GROUP#<group>`).
    pub fn of(group: &str, records: &[AuditRecord], now: DateTime<Utc>) -> GroupStatus {
        // As of `now`: what was known then, not what happened later.
        let known: Vec<AuditRecord> = records.iter().filter(|r| r.at <= now).cloned().collect();
        let records = known.as_slice();
        let all = ordered(records);
        let mut names: Vec<String> = Vec::new();
        for r in &all {
            if let Some(env) = r.environment().filter(|_| r.is_steward()) {
                if !names.iter().any(|n| n == env) {
                    names.push(env.to_string());
                }
            }
        }
        let environments = names
            .into_iter()
            .map(|env| EnvironmentStatus {
                serving: served_timeline(&env, records)
                    .into_iter()
                    .rfind(|s| s.from <= now && s.until.is_none_or(|u| now < u)),
                rolling_out: rollout_at(&env, records, now),
                last_event: all
                    .iter()
                    .rfind(|r| r.environment() == Some(env.as_str()))
                    .map(|r| Entry::from(*r)),
                environment: env,
            })
            .collect();
        let last_build = all
            .iter()
            .rfind(|r| r.detail_type == "Build Started")
            .and_then(|r| {
                Some(LastBuild {
                    at: r.at,
                    trigger: r.text("trigger").map(String::from),
                    pipeline_execution_arn: r.text("pipelineExecutionArn")?.to_string(),
                    status: None,
                })
            });
        GroupStatus {
            group: group.to_string(),
            environments,
            pending_approvals: pending_approvals(records, now),
            last_build,
        }
    }

    /// Adds the last build's status from its execution's records.
    pub fn with_build_status(mut self, execution_records: &[AuditRecord]) -> Self {
        if let Some(build) = &mut self.last_build {
            build.status = ordered(execution_records)
                .into_iter()
                .rfind(|r| {
                    r.text("pipelineExecutionArn") == Some(build.pipeline_execution_arn.as_str())
                        && r.text("currentPipelineExecutionStatus").is_some()
                })
                .and_then(|r| r.text("currentPipelineExecutionStatus"))
                .map(String::from);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{at, shuffled_twice, story, EXEC, V2, V3};
    use super::*;
    use crate::audit::AuditSubject;

    fn group_records(records: Vec<AuditRecord>) -> Vec<AuditRecord> {
        records
            .into_iter()
            .filter(|r| r.subjects.contains(&AuditSubject::group("payroll-fraud")))
            .collect()
    }

    #[test]
    fn status_during_the_rollout_and_after_the_rollback() {
        let records = group_records(shuffled_twice());
        let during = GroupStatus::of("payroll-fraud", &records, at("2026-11-23T09:11:00Z"));
        assert_eq!(during.environments.len(), 1);
        let prod = &during.environments[0];
        assert_eq!(prod.serving.as_ref().unwrap().model_package_arn, V2);
        assert_eq!(prod.rolling_out.as_ref().unwrap().model_package_arn, V3);
        let build = during.last_build.as_ref().unwrap();
        assert_eq!(build.pipeline_execution_arn, EXEC);
        assert_eq!(build.trigger.as_deref(), Some("data"));

        let waiting = GroupStatus::of("payroll-fraud", &records, at("2026-11-23T07:00:00Z"));
        assert_eq!(waiting.pending_approvals.len(), 1);
        assert_eq!(waiting.pending_approvals[0].model_package_arn, V3);
        // Known then: v2 served, with no end yet.
        assert_eq!(
            waiting.environments[0].serving.as_ref().unwrap().until,
            None
        );

        let later = GroupStatus::of("payroll-fraud", &records, at("2026-11-24T00:00:00Z"))
            .with_build_status(&story());
        assert_eq!(
            later.environments[0]
                .serving
                .as_ref()
                .unwrap()
                .model_package_arn,
            V2
        );
        assert_eq!(later.environments[0].rolling_out, None);
        assert_eq!(
            later.last_build.unwrap().status.as_deref(),
            Some("Succeeded")
        );
        assert!(later.pending_approvals.is_empty());
    }
}
