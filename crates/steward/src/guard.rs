//! The retrain guard: whether a trigger may start a build of a group now, given
//! the group's recent builds. Pure; the handler gathers the history (the
//! ledger's `build_started` records) and asks SageMaker whether the latest is
//! still executing.
//!
//! Every trigger passes through it, data markers included, so that no trigger
//! (a flapping drift check, a burst of pushes, a runaway upload job) can run up
//! a training bill. A forced build (`steward build --force`) skips it.

use chrono::{DateTime, Duration as TimeDelta, SecondsFormat, Utc};

use crate::events::steward::Trigger;
use crate::policy::{format_duration, RetrainGuard};

/// One earlier build of the group, as the ledger remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastBuild {
    pub at: DateTime<Utc>,
    pub pipeline_execution_arn: String,
}

/// What the guard knows when it decides.
#[derive(Debug, Clone)]
pub struct GuardInput<'a> {
    pub guard: &'a RetrainGuard,
    /// The group's builds, in any order.
    pub history: &'a [PastBuild],
    /// The execution of the group that is still running, if any (the handler
    /// asks SageMaker about the latest build).
    pub executing: Option<&'a str>,
    pub trigger: Trigger,
    /// When the trigger happened (its event's time).
    pub now: DateTime<Utc>,
    pub force: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Suppress { reason: String },
}

/// Decides. Order: a run in flight first (the most useful thing to know), then
/// the cooldown, then the daily cap.
pub fn decide(input: &GuardInput<'_>) -> Verdict {
    if input.force {
        return Verdict::Allow;
    }
    let trigger = input.trigger.as_str();
    if let Some(execution) = input.executing {
        return Verdict::Suppress {
            reason: format!(
                "a build is still executing ({execution}); the {trigger} trigger does not start a second one \
                 (steward build --force does)"
            ),
        };
    }
    // Builds after the trigger's own time count too: a late delivery must not
    // slip a second build into a cooldown that a newer trigger already opened.
    let past = input.history.iter();
    if let Some(latest) = past.clone().max_by_key(|b| b.at) {
        let cooldown = TimeDelta::from_std(input.guard.cooldown).unwrap_or(TimeDelta::MAX);
        let next = latest
            .at
            .checked_add_signed(cooldown)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if input.now < next {
            return Verdict::Suppress {
                reason: format!(
                    "cooldown: the last build started at {} and the cooldown is {}; the next build is allowed from {}",
                    stamp(latest.at),
                    format_duration(input.guard.cooldown),
                    stamp(next)
                ),
            };
        }
    }
    let day = input.now.date_naive();
    let today = past.filter(|b| b.at.date_naive() == day).count();
    if today >= input.guard.max_per_day as usize {
        return Verdict::Suppress {
            reason: format!(
                "daily cap: {today} builds already started on {day} (UTC), and the cap is {} per day",
                input.guard.max_per_day
            ),
        };
    }
    Verdict::Allow
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn build(text: &str) -> PastBuild {
        PastBuild {
            at: at(text),
            pipeline_execution_arn: format!("arn:exec/{text}"),
        }
    }

    fn guard(cooldown_secs: u64, max_per_day: u32) -> RetrainGuard {
        RetrainGuard {
            cooldown: Duration::from_secs(cooldown_secs),
            max_per_day,
        }
    }

    fn decide_at(
        guard: &RetrainGuard,
        history: &[PastBuild],
        executing: Option<&str>,
        now: &str,
        force: bool,
    ) -> Verdict {
        decide(&GuardInput {
            guard,
            history,
            executing,
            trigger: Trigger::Data,
            now: at(now),
            force,
        })
    }

    fn reason(verdict: Verdict) -> String {
        match verdict {
            Verdict::Suppress { reason } => reason,
            Verdict::Allow => panic!("expected a suppression"),
        }
    }

    #[test]
    fn a_first_build_is_allowed() {
        assert_eq!(
            decide_at(&guard(3600, 1), &[], None, "2026-11-23T10:00:00Z", false),
            Verdict::Allow
        );
    }

    #[test]
    fn the_cooldown_names_when_the_next_build_is_allowed() {
        let history = [build("2026-11-23T10:00:00Z")];
        let why = reason(decide_at(
            &guard(7200, 6),
            &history,
            None,
            "2026-11-23T11:00:00Z",
            false,
        ));
        assert!(why.contains("cooldown"), "{why}");
        assert!(why.contains("2h"), "{why}");
        assert!(why.contains("2026-11-23T12:00:00Z"), "{why}");
        assert_eq!(
            decide_at(
                &guard(7200, 6),
                &history,
                None,
                "2026-11-23T12:00:00Z",
                false
            ),
            Verdict::Allow
        );
    }

    #[test]
    fn the_daily_cap_counts_builds_of_the_utc_day() {
        let history = [
            build("2026-11-22T23:30:00Z"),
            build("2026-11-23T01:00:00Z"),
            build("2026-11-23T02:00:00Z"),
        ];
        let why = reason(decide_at(
            &guard(0, 2),
            &history,
            None,
            "2026-11-23T09:00:00Z",
            false,
        ));
        assert!(why.contains("daily cap"), "{why}");
        assert!(why.contains("2026-11-23"), "{why}");
        assert!(why.contains("2 per day"), "{why}");
        // Yesterday's build does not count against tomorrow.
        assert_eq!(
            decide_at(&guard(0, 2), &history, None, "2026-11-24T00:00:00Z", false),
            Verdict::Allow
        );
    }

    #[test]
    fn a_run_in_flight_is_named_and_force_passes_every_check() {
        let history = [build("2026-11-23T10:00:00Z")];
        let why = reason(decide_at(
            &guard(0, 6),
            &history,
            Some("arn:exec/running"),
            "2026-11-23T10:01:00Z",
            false,
        ));
        assert!(why.contains("arn:exec/running"), "{why}");
        assert!(why.contains("still executing"), "{why}");
        assert_eq!(
            decide_at(
                &guard(7200, 1),
                &history,
                Some("arn:exec/running"),
                "2026-11-23T10:01:00Z",
                true
            ),
            Verdict::Allow
        );
    }

    #[test]
    fn a_late_delivery_does_not_slip_in_after_a_newer_build() {
        let history = [build("2026-11-23T12:00:00Z")];
        let why = reason(decide_at(
            &guard(3600, 6),
            &history,
            None,
            "2026-11-23T11:30:00Z",
            false,
        ));
        assert!(why.contains("cooldown"), "{why}");
    }
}
