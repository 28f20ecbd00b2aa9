//! Quiet-window data mode: data that lands as many objects and no marker builds
//! once its prefix has been quiet for the group's window. Pure decisions here;
//! the state lives in the ledger table ([`super::quiet_store`]).
//!
//! Every `Object Created` under the prefix records or extends the group's open
//! quiet period; the schedule tick closes a period that has been quiet for the
//! window and builds it once. Times are the events' own times (the S3 event's
//! `time`, the tick's `time`), never the clock, so a late or repeated delivery
//! decides the same way.
//!
//! Objects are ordered by (event time, key, identity): the latest object of a
//! period only moves forward, whatever order the events arrive in, and ties
//! within one second (S3 event times have second resolution) still order the
//! same way on every delivery.

use std::time::Duration;

use chrono::{DateTime, Duration as TimeDelta, SecondsFormat, Utc};

use super::{plan, BuildPlan};
use crate::events::steward::{DataVersion, Trigger};
use crate::naming::IdempotencyKey;
use crate::policy::Group;

/// One object that landed under a quiet-window prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietObject {
    /// The event's time.
    pub at: DateTime<Utc>,
    pub key: String,
    /// What names this write of the object: its version id, else the sequencer,
    /// else the etag.
    pub identity: String,
    pub version_id: Option<String>,
    pub etag: Option<String>,
}

impl QuietObject {
    /// The total order of objects: time, then key, then identity. A string, so
    /// DynamoDB's conditional writes compare it (`last < :order`).
    pub fn order(&self) -> String {
        format!(
            "{}|{}|{}",
            self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            self.key,
            self.identity
        )
    }
}

/// What an object created under a quiet-window prefix concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietArrival {
    pub group: String,
    pub bucket: String,
    pub object: QuietObject,
}

/// A group's quiet periods as the ledger keeps them: the current (or last)
/// period, and a closed one whose build is not yet confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietState {
    /// Whether the current period still takes objects.
    pub open: bool,
    /// The period's id: the order of the first object recorded in it. Fixed for
    /// the period's life, so it names the period's build.
    pub from: String,
    /// The latest object of the period.
    pub last: QuietObject,
    /// A closed period whose build has not been confirmed (a crash between the
    /// close and the build leaves one; the next tick builds it).
    pub unbuilt: Option<ClosedPeriod>,
}

/// A period that was closed, and the object that ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedPeriod {
    pub from: String,
    pub last: QuietObject,
}

/// What the tick does for a quiet-window group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TickAction {
    /// No period is open.
    Idle,
    /// The open period has not been quiet long enough.
    Wait { until: DateTime<Utc> },
    /// Close the open period (a conditional write: only if no object extended
    /// it meanwhile), then build it.
    Close(ClosedPeriod),
    /// Build a period that was closed but whose build was not confirmed.
    Build(ClosedPeriod),
}

/// When the period ending with `last` has been quiet for `window`.
pub fn quiet_from(last: &QuietObject, window: Duration) -> DateTime<Utc> {
    let window = TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX);
    last.at
        .checked_add_signed(window)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Decide the tick at `now` (the tick event's time). A closed period that is
/// not confirmed built comes first, so a new period is never closed over it.
pub fn on_tick(state: Option<&QuietState>, window: Duration, now: DateTime<Utc>) -> TickAction {
    let Some(state) = state else {
        return TickAction::Idle;
    };
    if let Some(unbuilt) = &state.unbuilt {
        return TickAction::Build(unbuilt.clone());
    }
    if !state.open {
        return TickAction::Idle;
    }
    let until = quiet_from(&state.last, window);
    if now < until {
        return TickAction::Wait { until };
    }
    TickAction::Close(ClosedPeriod {
        from: state.from.clone(),
        last: state.last.clone(),
    })
}

/// The build of a closed period: the watched prefix as input, the period's
/// last object as its data version, one key per period.
pub fn period_plan(group: &Group, bucket: &str, period: &ClosedPeriod) -> BuildPlan {
    let prefix = group
        .data
        .as_ref()
        .map(|d| d.prefix.clone())
        .unwrap_or_default();
    let uri = format!("s3://{bucket}/{prefix}");
    let last = &period.last;
    let version = format!("{}@{}", last.key, last.identity);
    let key = IdempotencyKey::new(format!("build/quiet/{}/{}", group.name, period.from));
    let data = DataVersion {
        uri: uri.clone(),
        bucket: bucket.into(),
        prefix,
        marker_key: last.key.clone(),
        version: version.clone(),
        version_id: last.version_id.clone(),
        etag: last.etag.clone(),
    };
    plan(
        group,
        Trigger::Data,
        key,
        Some(data),
        None,
        format!(
            "Steward: new data {uri}, quiet since {} (last object {version})",
            last.at.to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    const WINDOW: Duration = Duration::from_secs(30 * 60);

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn object(time: &str, key: &str) -> QuietObject {
        QuietObject {
            at: at(time),
            key: key.into(),
            identity: format!("v-{key}"),
            version_id: Some(format!("v-{key}")),
            etag: None,
        }
    }

    fn open(from: &QuietObject, last: &QuietObject) -> QuietState {
        QuietState {
            open: true,
            from: from.order(),
            last: last.clone(),
            unbuilt: None,
        }
    }

    #[test]
    fn objects_order_by_time_then_key_then_identity() {
        let a = object("2026-11-24T08:00:00Z", "attrition/snapshots/b.csv");
        let b = object("2026-11-24T08:00:00Z", "attrition/snapshots/c.csv");
        let c = object("2026-11-24T08:00:01Z", "attrition/snapshots/a.csv");
        assert!(a.order() < b.order());
        assert!(b.order() < c.order());
        let mut again = a.clone();
        again.identity = "v-2".into();
        assert_ne!(a.order(), again.order());
    }

    #[test]
    fn an_open_period_waits_for_its_window_then_closes() {
        let first = object("2026-11-24T08:00:00Z", "attrition/snapshots/0.csv");
        let last = object("2026-11-24T08:10:00Z", "attrition/snapshots/9.csv");
        let state = open(&first, &last);
        assert_eq!(
            on_tick(Some(&state), WINDOW, at("2026-11-24T08:39:59Z")),
            TickAction::Wait {
                until: at("2026-11-24T08:40:00Z")
            }
        );
        assert_eq!(
            on_tick(Some(&state), WINDOW, at("2026-11-24T08:40:00Z")),
            TickAction::Close(ClosedPeriod {
                from: first.order(),
                last: last.clone()
            })
        );
    }

    #[test]
    fn nothing_open_is_idle_and_an_unbuilt_closure_is_built_first() {
        assert_eq!(
            on_tick(None, WINDOW, at("2026-11-24T09:00:00Z")),
            TickAction::Idle
        );
        let first = object("2026-11-24T08:00:00Z", "attrition/snapshots/0.csv");
        let mut state = open(&first, &first);
        state.open = false;
        assert_eq!(
            on_tick(Some(&state), WINDOW, at("2026-11-24T09:00:00Z")),
            TickAction::Idle
        );
        let closed = ClosedPeriod {
            from: first.order(),
            last: first.clone(),
        };
        state.unbuilt = Some(closed.clone());
        state.open = true;
        assert_eq!(
            on_tick(Some(&state), WINDOW, at("2026-11-24T09:00:00Z")),
            TickAction::Build(closed)
        );
    }

    #[test]
    fn a_period_builds_its_prefix_under_one_key_per_period() {
        let policy = Policy::parse(include_str!("../../../../examples/steward.toml")).unwrap();
        let group = policy.group("attrition").unwrap();
        let first = object("2026-11-24T08:00:00Z", "attrition/snapshots/0.csv");
        let last = object("2026-11-24T08:10:00Z", "attrition/snapshots/9.csv");
        let period = ClosedPeriod {
            from: first.order(),
            last,
        };
        let plan = period_plan(group, "acme-ml-data", &period);
        assert_eq!(plan.group, "attrition");
        assert_eq!(plan.trigger, Trigger::Data);
        assert_eq!(
            plan.key.as_str(),
            "build/quiet/attrition/2026-11-24T08:00:00.000Z|attrition/snapshots/0.csv|v-attrition/snapshots/0.csv"
        );
        let data = plan.data.as_ref().unwrap();
        assert_eq!(data.uri, "s3://acme-ml-data/attrition/snapshots/");
        assert_eq!(
            data.version,
            "attrition/snapshots/9.csv@v-attrition/snapshots/9.csv"
        );
        assert!(plan
            .parameters
            .contains(&("InputDataUrl".into(), data.uri.clone())));
        assert_eq!(period_plan(group, "acme-ml-data", &period), plan);
    }
}
