//! The schedule tick: one EventBridge schedule for every group; each group's own
//! schedule (in the policy, so changing it is a git change) is evaluated on it.
//!
//! The ledger remembers which due times were handled: every scheduled build or
//! suppression names its due time in its cause. A tick builds only the latest
//! due time after the last handled one, so missed ticks or a long outage start
//! at most one build per group, never a burst.
//!
//! The same tick closes quiet-window data periods (`crate::quiet`).

use chrono::{DateTime, Duration as TimeDelta, Utc};
use steward::build::{self, cron, Plans};
use steward::ledger::{Ledger, Subject};
use tracing::warn;

use crate::handler::{start_all, Context, Outcome};
use crate::StartBuildError;

/// How far back the first tick for a group looks (no scheduled build yet): a
/// few ticks, so a deploy does not fire a schedule that came due long ago.
pub const FIRST_LOOKBACK: TimeDelta = TimeDelta::hours(1);

pub async fn on_tick<L: Ledger>(
    ctx: &Context<L>,
    now: DateTime<Utc>,
) -> Result<Outcome, StartBuildError> {
    let mut plans = Vec::new();
    for group in ctx.policy.policy.groups.values() {
        let Some(schedule) = group.schedule.as_deref() else {
            continue;
        };
        let handled = ctx
            .ledger
            .records(&Subject::Group(group.name.clone()))
            .await?
            .into_iter()
            .filter_map(|r| build::schedule_due_of(&group.name, r.detail["cause"].as_str()?))
            .max();
        let after = handled.unwrap_or(now - FIRST_LOOKBACK);
        match cron::latest_fire(schedule, after, now) {
            Ok(Some(due)) => plans.push(build::on_schedule(group, due)?),
            Ok(None) => {}
            // The policy check accepted it; a form this evaluator lacks must not
            // stop the other groups' schedules.
            Err(reason) => warn!(group = %group.name, %reason, "schedule cannot be evaluated"),
        }
    }
    // Quiet periods first: a period's data is a more specific reason to build
    // than the calendar, and the guard then holds a same-tick schedule back.
    let mut outcomes = crate::quiet::on_tick(ctx, now).await?;
    if !plans.is_empty() {
        match start_all(ctx, Plans::Build(plans), now).await? {
            Outcome::Several { outcomes: more } => outcomes.extend(more),
            one => outcomes.push(one),
        }
    }
    Ok(match outcomes.len() {
        0 => Outcome::Ignored {
            reason: build::Ignored::NothingDue.to_string(),
        },
        1 => outcomes.remove(0),
        _ => Outcome::Several { outcomes },
    })
}
