//! Per-environment deployment state: what serves, what is rolling out, what is
//! known good, and what was rolled back. Stored in the ledger under
//! `ENV#<group>#<env>` as one small current-state item written with
//! conditional writes (its `revision`), beside append-only records of every
//! step.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many known good releases are remembered (rollback targets).
const KNOWN_GOOD_KEPT: usize = 10;

/// A model version as it serves in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    pub model_package_arn: String,
    pub version: u32,
    pub model_name: String,
    pub endpoint_config: String,
}

/// Why a rollout runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RolloutKind {
    /// A new model.
    Deploy,
    /// Back to a known good model, away from `from`.
    Rollback { from: Release, reason: String },
}

/// A rollout in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    /// Where the rollout goes.
    pub release: Release,
    #[serde(flatten)]
    pub kind: RolloutKind,
    /// The idempotency key of the cause that started it.
    pub cause: String,
    pub correlation_id: String,
    pub started_at: DateTime<Utc>,
}

/// A deployment that did not take: SageMaker (or the endpoint) rolled it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub release: Release,
    pub reason: String,
    pub correlation_id: String,
    /// Set once the rollback function has verified and recorded the rollback
    /// (package rejected, stewards told).
    pub rollback_recorded: bool,
    /// When the failure was seen (the reporting event's time): an alarm from
    /// before it belongs to this rollout, not to what serves now.
    #[serde(default)]
    pub failed_at: Option<DateTime<Utc>>,
}

/// The state of one environment of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentState {
    pub group: String,
    pub environment: String,
    /// Bumped by every write; a write succeeds only if the stored revision is
    /// the one it read.
    pub revision: u64,
    /// What serves now.
    #[serde(default)]
    pub current: Option<Release>,
    /// Set while `current` bakes: when the bake ends (no alarm by then → known good).
    #[serde(default)]
    pub bake_until: Option<DateTime<Utc>>,
    /// `current` was restored by a rollback: an alarm now is not rolled back
    /// further by Steward on its own (a flapping alarm causes one rollback).
    #[serde(default)]
    pub restored: bool,
    /// Releases that baked without an alarm, oldest first.
    #[serde(default)]
    pub known_good: Vec<Release>,
    /// Model packages rolled back here: never a rollback target again.
    #[serde(default)]
    pub rolled_back: Vec<String>,
    #[serde(default)]
    pub rollout: Option<Rollout>,
    #[serde(default)]
    pub last_failure: Option<Failure>,
}

impl EnvironmentState {
    pub fn new(group: &str, environment: &str) -> Self {
        EnvironmentState {
            group: group.into(),
            environment: environment.into(),
            revision: 0,
            current: None,
            bake_until: None,
            restored: false,
            known_good: Vec::new(),
            rolled_back: Vec::new(),
            rollout: None,
            last_failure: None,
        }
    }

    /// The newest release that baked without an alarm.
    pub fn last_known_good(&self) -> Option<&Release> {
        self.known_good.last()
    }

    /// Where an explicit rollback goes: the newest known good release that is
    /// not the one serving and was never rolled back.
    pub fn rollback_target(&self) -> Option<&Release> {
        let current = self.current.as_ref().map(|c| c.model_package_arn.as_str());
        self.known_good.iter().rev().find(|r| {
            Some(r.model_package_arn.as_str()) != current
                && !self.rolled_back.contains(&r.model_package_arn)
        })
    }

    /// A rollout starts.
    pub fn begin(&mut self, rollout: Rollout) {
        self.rollout = Some(rollout);
    }

    /// The rollout is live. A new model starts baking until `bake_until`; a
    /// rollback target is known good already.
    pub fn succeed(&mut self, bake_until: DateTime<Utc>) {
        let Some(rollout) = self.rollout.take() else {
            return;
        };
        match rollout.kind {
            RolloutKind::Deploy => {
                self.bake_until = Some(bake_until);
                self.restored = false;
                // A newer model serves: an older failure is history (records keep it).
                self.last_failure = None;
            }
            RolloutKind::Rollback { from, .. } => {
                self.bake_until = None;
                self.restored = true;
                self.reject(&from.model_package_arn);
            }
        }
        self.current = Some(rollout.release);
    }

    /// The rollout did not take; what served before still serves.
    pub fn fail(&mut self, reason: &str) {
        self.fail_at(reason, None);
    }

    /// [`Self::fail`], seen at `at`.
    pub fn fail_at(&mut self, reason: &str, at: Option<DateTime<Utc>>) {
        let Some(rollout) = self.rollout.take() else {
            return;
        };
        let deploying = rollout.kind == RolloutKind::Deploy;
        // The rollback function may have verified and recorded it first.
        let recorded = self
            .rolled_back
            .contains(&rollout.release.model_package_arn);
        if deploying {
            self.reject(&rollout.release.model_package_arn);
        }
        self.last_failure = Some(Failure {
            release: rollout.release,
            reason: reason.into(),
            correlation_id: rollout.correlation_id,
            // A failed rollback has no bad model to record: its target is the
            // known good one, and people must act.
            rollback_recorded: !deploying || recorded,
            failed_at: at,
        });
    }

    /// The rollout went live but failed its smoke test: it turns into a
    /// rollback to `target` (what served before), the new model never a
    /// target again. `cause` names the rollback rollout.
    pub fn roll_back_rollout(&mut self, target: Release, reason: &str, cause: String) {
        let Some(rollout) = self.rollout.take() else {
            return;
        };
        self.reject(&rollout.release.model_package_arn);
        self.last_failure = Some(Failure {
            release: rollout.release.clone(),
            reason: reason.into(),
            correlation_id: rollout.correlation_id.clone(),
            rollback_recorded: true,
            failed_at: None,
        });
        self.rollout = Some(Rollout {
            release: target,
            kind: RolloutKind::Rollback {
                from: rollout.release,
                reason: reason.into(),
            },
            cause,
            correlation_id: rollout.correlation_id,
            started_at: rollout.started_at,
        });
    }

    /// The rollout went live, failed its smoke test, and nothing served
    /// before: it serves, but never bakes or is promoted.
    pub fn hold(&mut self, reason: &str) {
        let Some(rollout) = self.rollout.take() else {
            return;
        };
        self.reject(&rollout.release.model_package_arn);
        self.last_failure = Some(Failure {
            release: rollout.release.clone(),
            reason: reason.into(),
            correlation_id: rollout.correlation_id.clone(),
            rollback_recorded: true,
            failed_at: None,
        });
        self.current = Some(rollout.release);
        self.bake_until = None;
        self.restored = false;
    }

    /// Whether the bake of `current` is over at `now`.
    pub fn bake_due(&self, now: DateTime<Utc>) -> bool {
        self.rollout.is_none() && self.bake_until.is_some_and(|until| now >= until)
    }

    /// `current` baked without an alarm: it is known good.
    pub fn baked(&mut self) {
        self.bake_until = None;
        if let Some(current) = self.current.clone() {
            self.known_good
                .retain(|r| r.model_package_arn != current.model_package_arn);
            self.known_good.push(current);
            let excess = self.known_good.len().saturating_sub(KNOWN_GOOD_KEPT);
            self.known_good.drain(..excess);
        }
    }

    /// A model package is rolled back here: never served again by a rollback.
    pub fn reject(&mut self, model_package_arn: &str) {
        if !self.rolled_back.iter().any(|a| a == model_package_arn) {
            self.rolled_back.push(model_package_arn.to_string());
        }
        self.known_good
            .retain(|r| r.model_package_arn != model_package_arn);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn release(version: u32) -> Release {
        Release {
            model_package_arn: format!("arn:aws:sagemaker:us-east-1:1:model-package/pf/{version}"),
            version,
            model_name: format!("pf-v{version}"),
            endpoint_config: format!("pf-staging-v{version}-abcd1234"),
        }
    }

    pub fn rollout(version: u32, kind: RolloutKind) -> Rollout {
        Rollout {
            release: release(version),
            kind,
            cause: format!("deploy/{version}"),
            correlation_id: "stw-1".into(),
            started_at: DateTime::UNIX_EPOCH,
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn a_deployment_bakes_then_becomes_known_good() {
        let mut state = EnvironmentState::new("pf", "staging");
        state.begin(rollout(1, RolloutKind::Deploy));
        assert!(!state.bake_due(at(1000)));
        state.succeed(at(600));
        assert_eq!(state.current, Some(release(1)));
        assert!(!state.bake_due(at(599)));
        assert!(state.bake_due(at(600)));
        state.baked();
        assert_eq!(state.last_known_good(), Some(&release(1)));
        assert!(!state.bake_due(at(10_000)));
        // Nothing to roll back to while the only known good model serves.
        assert_eq!(state.rollback_target(), None);
    }

    #[test]
    fn a_failed_rollout_keeps_what_served_and_is_never_a_target() {
        let mut state = EnvironmentState::new("pf", "staging");
        state.begin(rollout(1, RolloutKind::Deploy));
        state.succeed(at(0));
        state.baked();
        state.begin(rollout(2, RolloutKind::Deploy));
        state.fail("alarm");
        assert_eq!(state.current, Some(release(1)));
        assert_eq!(state.rolled_back, [release(2).model_package_arn]);
        assert_eq!(state.last_failure.as_ref().unwrap().reason, "alarm");
        assert!(!state.last_failure.as_ref().unwrap().rollback_recorded);
        // A rollback that fails leaves nothing for the rollback function to verify.
        state.begin(rollout(
            1,
            RolloutKind::Rollback {
                from: release(3),
                reason: "alarm".into(),
            },
        ));
        state.fail("endpoint failed");
        assert!(state.last_failure.as_ref().unwrap().rollback_recorded);
        assert!(!state.rolled_back.contains(&release(1).model_package_arn));
        // Recorded by the rollback function before the deploy function saw it.
        state.begin(rollout(5, RolloutKind::Deploy));
        state.reject(&release(5).model_package_arn);
        state.fail("alarm");
        assert!(state.last_failure.as_ref().unwrap().rollback_recorded);
        // A newer model going live clears the failure.
        state.begin(rollout(6, RolloutKind::Deploy));
        state.succeed(DateTime::UNIX_EPOCH);
        assert_eq!(state.last_failure, None);
    }

    #[test]
    fn a_rollback_restores_the_last_known_good_and_rejects_the_bad_one() {
        let mut state = EnvironmentState::new("pf", "staging");
        for v in [1, 2] {
            state.begin(rollout(v, RolloutKind::Deploy));
            state.succeed(at(0));
            state.baked();
        }
        assert_eq!(state.rollback_target(), Some(&release(1)));
        state.begin(rollout(
            1,
            RolloutKind::Rollback {
                from: release(2),
                reason: "alarm".into(),
            },
        ));
        state.succeed(at(0));
        assert_eq!(state.current, Some(release(1)));
        assert!(state.restored);
        assert_eq!(state.bake_until, None);
        assert_eq!(state.known_good, [release(1)]);
        assert!(state.rolled_back.contains(&release(2).model_package_arn));
        assert_eq!(state.rollback_target(), None);
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut state = EnvironmentState::new("pf", "prod");
        state.begin(rollout(
            3,
            RolloutKind::Rollback {
                from: release(4),
                reason: "r".into(),
            },
        ));
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(json["rollout"]["kind"], "rollback");
        assert_eq!(
            serde_json::from_value::<EnvironmentState>(json).unwrap(),
            state
        );
    }
}
