//! What an alarm on an environment calls for, from its state alone.

use chrono::{DateTime, Utc};

use super::state::{EnvironmentState, Release, RolloutKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlarmResponse {
    /// A new model is (or was just) rolling out with the alarm as a rollback
    /// alarm: SageMaker rolls it back itself; Steward verifies and records it.
    VerifyAutomatic { bad: Release },
    /// The model serving (baking or baked) misbehaves: roll back to `target`.
    Explicit { bad: Release, target: Release },
    /// The model serving misbehaves and nothing known good is left to return to.
    NoKnownGood { bad: Release },
    /// Nothing to do, and why.
    Nothing { reason: String },
}

pub fn respond_to_alarm(state: &EnvironmentState) -> AlarmResponse {
    respond_to_alarm_at(state, None)
}

/// [`respond_to_alarm`] for an alarm that entered ALARM at `alarm_at`: an
/// alarm from before the last failed rollout ended belongs to that rollout
/// (a late or repeated delivery), never to the model serving since.
pub fn respond_to_alarm_at(
    state: &EnvironmentState,
    alarm_at: Option<DateTime<Utc>>,
) -> AlarmResponse {
    let nothing = |reason: &str| AlarmResponse::Nothing {
        reason: reason.into(),
    };
    if let Some(rollout) = &state.rollout {
        return match rollout.kind {
            RolloutKind::Deploy => AlarmResponse::VerifyAutomatic {
                bad: rollout.release.clone(),
            },
            RolloutKind::Rollback { .. } => nothing("a rollback is already under way"),
        };
    }
    if let Some(failure) = state.last_failure.as_ref().filter(|f| !f.rollback_recorded) {
        // The deploy function saw SageMaker's rollback first.
        return AlarmResponse::VerifyAutomatic {
            bad: failure.release.clone(),
        };
    }
    if let Some(failure) = &state.last_failure {
        if let (Some(alarm_at), Some(failed_at)) = (alarm_at, failure.failed_at) {
            if alarm_at <= failed_at {
                return nothing(&format!(
                    "the alarm belongs to the failed rollout of v{}, already recorded",
                    failure.release.version
                ));
            }
        }
    }
    let Some(current) = &state.current else {
        return nothing("nothing is deployed in this environment");
    };
    if state.restored {
        return nothing("the serving model was restored by a rollback; Steward does not roll back further on its own");
    }
    if state.rolled_back.contains(&current.model_package_arn) {
        return nothing("the serving model was already rolled back");
    }
    match state.rollback_target() {
        Some(target) => AlarmResponse::Explicit {
            bad: current.clone(),
            target: target.clone(),
        },
        None => AlarmResponse::NoKnownGood {
            bad: current.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::state::tests::{release, rollout};
    use super::*;

    fn deployed(versions: &[u32]) -> EnvironmentState {
        let mut state = EnvironmentState::new("pf", "prod");
        for v in versions {
            state.begin(rollout(*v, RolloutKind::Deploy));
            state.succeed(DateTime::UNIX_EPOCH);
            state.baked();
        }
        state
    }

    #[test]
    fn during_a_rollout_sagemaker_rolls_back() {
        let mut state = deployed(&[1]);
        state.begin(rollout(2, RolloutKind::Deploy));
        assert_eq!(
            respond_to_alarm(&state),
            AlarmResponse::VerifyAutomatic { bad: release(2) }
        );
        // Also when the deploy function recorded the failure first.
        state.fail("alarm");
        assert_eq!(
            respond_to_alarm(&state),
            AlarmResponse::VerifyAutomatic { bad: release(2) }
        );
        state.last_failure.as_mut().unwrap().rollback_recorded = true;
        state.last_failure.as_mut().unwrap().failed_at = DateTime::from_timestamp(100, 0);
        // The same alarm delivered late: about the failed rollout, not v1.
        assert!(matches!(
            respond_to_alarm_at(&state, DateTime::from_timestamp(90, 0)),
            AlarmResponse::Nothing { .. }
        ));
        // v1 serves and is known good, but it is the only one: nothing to return to.
        assert_eq!(
            respond_to_alarm(&state),
            AlarmResponse::NoKnownGood { bad: release(1) }
        );
    }

    #[test]
    fn after_the_rollout_steward_rolls_back_to_the_last_known_good() {
        let mut state = deployed(&[1, 2]);
        assert_eq!(
            respond_to_alarm(&state),
            AlarmResponse::Explicit {
                bad: release(2),
                target: release(1)
            }
        );
        // Baking (not yet known good) is the same.
        state.begin(rollout(3, RolloutKind::Deploy));
        state.succeed(DateTime::UNIX_EPOCH);
        assert_eq!(
            respond_to_alarm(&state),
            AlarmResponse::Explicit {
                bad: release(3),
                target: release(2)
            }
        );
    }

    #[test]
    fn a_flapping_alarm_rolls_back_once() {
        let mut state = deployed(&[1, 2]);
        state.begin(rollout(
            1,
            RolloutKind::Rollback {
                from: release(2),
                reason: "a".into(),
            },
        ));
        assert!(matches!(
            respond_to_alarm(&state),
            AlarmResponse::Nothing { .. }
        ));
        state.succeed(DateTime::UNIX_EPOCH);
        assert!(matches!(
            respond_to_alarm(&state),
            AlarmResponse::Nothing { .. }
        ));
        assert!(matches!(
            respond_to_alarm(&EnvironmentState::new("pf", "prod")),
            AlarmResponse::Nothing { .. }
        ));
    }
}
