//! Quiet-window data: each object extends its group's quiet period; the
//! schedule tick closes the periods that have been quiet for their window and
//! builds each exactly once (see `steward::build::quiet`).

use chrono::{DateTime, SecondsFormat, Utc};
use steward::build::quiet::{self, ClosedPeriod, QuietArrival, TickAction};
use steward::build::quiet_store::Recorded;
use steward::ledger::Ledger;
use steward::policy::{Debounce, Group};
use tracing::info;

use crate::handler::{Context, Outcome};
use crate::start::start_guarded;
use crate::StartBuildError;

/// The group's quiet window, if it debounces by one.
fn window(group: &Group) -> Option<(&str, std::time::Duration)> {
    let data = group.data.as_ref()?;
    match data.debounce {
        Debounce::QuietWindow { window } => Some((data.bucket.as_str(), window)),
        Debounce::Marker { .. } => None,
    }
}

/// An object under a quiet-window prefix: record it in the group's period.
pub async fn on_arrival<L: Ledger>(
    ctx: &Context<L>,
    arrival: QuietArrival,
) -> Result<Outcome, StartBuildError> {
    let recorded = ctx.quiet.record(&arrival.group, &arrival.object).await?;
    let state = ctx.quiet.read(&arrival.group).await?;
    let window = ctx
        .policy
        .policy
        .group(&arrival.group)
        .and_then(window)
        .map(|(_, w)| w)
        .unwrap_or_default();
    let (period, quiet_until) = match &state {
        Some(state) => (
            state.from.clone(),
            stamp(quiet::quiet_from(&state.last, window)),
        ),
        None => (String::new(), String::new()),
    };
    Ok(Outcome::Debounced {
        group: arrival.group,
        key: arrival.object.key,
        recorded: match recorded {
            Recorded::Opened => "opened",
            Recorded::Extended => "extended",
            Recorded::Covered => "covered",
        }
        .into(),
        period,
        quiet_until,
    })
}

/// The tick at `now`: close and build every period quiet for its window.
pub async fn on_tick<L: Ledger>(
    ctx: &Context<L>,
    now: DateTime<Utc>,
) -> Result<Vec<Outcome>, StartBuildError> {
    let mut outcomes = Vec::new();
    for group in ctx.policy.policy.groups.values() {
        let Some((bucket, window)) = window(group) else {
            continue;
        };
        let state = ctx.quiet.read(&group.name).await?;
        let period = match quiet::on_tick(state.as_ref(), window, now) {
            TickAction::Idle => continue,
            TickAction::Wait { until } => {
                info!(group = %group.name, quiet_until = %stamp(until), "quiet period still open");
                continue;
            }
            TickAction::Close(period) => {
                if !ctx.quiet.close(&group.name, &period).await? {
                    // Another tick closed it, or an object just extended it.
                    info!(group = %group.name, period = %period.from, "quiet period changed meanwhile");
                    continue;
                }
                period
            }
            TickAction::Build(period) => period,
        };
        if let Some(outcome) = build(ctx, group, bucket, &period, now).await? {
            outcomes.push(outcome);
        }
    }
    Ok(outcomes)
}

/// Build a closed period once (its own key), then mark it built. Another tick
/// building the same period right now is not an error: it finishes the job.
async fn build<L: Ledger>(
    ctx: &Context<L>,
    group: &Group,
    bucket: &str,
    period: &ClosedPeriod,
    now: DateTime<Utc>,
) -> Result<Option<Outcome>, StartBuildError> {
    let plan = quiet::period_plan(group, bucket, period);
    match start_guarded(ctx, &plan, now).await {
        Ok(outcome) => {
            ctx.quiet.mark_built(&group.name, &period.from).await?;
            Ok(Some(outcome))
        }
        Err(StartBuildError::InProgress { key, .. }) => {
            info!(group = %group.name, cause = %key, "another tick is building this quiet period");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}
