//! The timing of a blue/green rollout, as pure functions of its
//! `DeploymentConfig`.
//!
//! Semantics: SageMaker Developer Guide, "Blue/Green Deployments" (all at
//! once, canary, linear traffic shifting), and the API reference types
//! `BlueGreenUpdatePolicy`, `TrafficRoutingConfig`, `CapacitySize`: the green
//! fleet is provisioned; traffic shifts to it in steps (canary: `CanarySize`,
//! then the rest after `WaitIntervalInSeconds`; linear: `LinearStepSize` every
//! `WaitIntervalInSeconds`; all at once: one step); after the last shift the
//! endpoint bakes for `TerminationWaitInSeconds`; alarms are watched
//! throughout, and `MaximumExecutionTimeoutInSeconds` bounds the whole.

use std::time::Duration;

use serde_json::Value;

/// How long (simulated) provisioning the green fleet takes.
pub const PROVISION: Duration = Duration::from_secs(60);
/// How long (simulated) creating an endpoint takes.
pub const CREATE: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq)]
pub enum Routing {
    AllAtOnce,
    /// Percent of the green fleet's capacity in the canary.
    Canary(f64),
    /// Percent of capacity per step.
    Linear(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub routing: Routing,
    pub wait_interval: Duration,
    pub termination_wait: Duration,
    pub max_execution: Option<Duration>,
    /// `AutoRollbackConfiguration.Alarms[].AlarmName`.
    pub alarms: Vec<String>,
}

/// One traffic shift and the wait after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Share of traffic (percent of capacity) on the green fleet.
    pub green_percent: f64,
    pub wait: Duration,
    /// The wait is the final bake (`TerminationWaitInSeconds`), not an interval.
    pub bake: bool,
}

impl Policy {
    /// From a `DeploymentConfig` (absent: all at once, no wait, no alarms);
    /// `instances` is the green fleet's instance count, for `INSTANCE_COUNT` sizes.
    pub fn from_config(config: Option<&Value>, instances: u32) -> Policy {
        let null = Value::Null;
        let config = config.unwrap_or(&null);
        let blue_green = &config["BlueGreenUpdatePolicy"];
        let routing = &blue_green["TrafficRoutingConfiguration"];
        let seconds = |v: &Value| Duration::from_secs(v.as_u64().unwrap_or(0));
        let size = |v: &Value| capacity_percent(v, instances);
        Policy {
            routing: match routing["Type"].as_str() {
                Some("CANARY") => Routing::Canary(size(&routing["CanarySize"])),
                Some("LINEAR") => Routing::Linear(size(&routing["LinearStepSize"])),
                _ => Routing::AllAtOnce,
            },
            wait_interval: seconds(&routing["WaitIntervalInSeconds"]),
            termination_wait: seconds(&blue_green["TerminationWaitInSeconds"]),
            max_execution: blue_green["MaximumExecutionTimeoutInSeconds"]
                .as_u64()
                .map(Duration::from_secs),
            alarms: config["AutoRollbackConfiguration"]["Alarms"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a["AlarmName"].as_str().map(str::to_string))
                .collect(),
        }
    }

    /// The traffic shifts, in order; the last one is followed by the bake.
    pub fn steps(&self) -> Vec<Step> {
        let step = |green_percent: f64, last: bool| Step {
            green_percent,
            wait: if last {
                self.termination_wait
            } else {
                self.wait_interval
            },
            bake: last,
        };
        match self.routing {
            Routing::AllAtOnce => vec![step(100.0, true)],
            Routing::Canary(size) => vec![step(size.clamp(0.0, 100.0), false), step(100.0, true)],
            Routing::Linear(size) => {
                let size = size.clamp(1.0, 100.0);
                let shifts = (100.0 / size).ceil() as u32;
                (1..=shifts)
                    .map(|i| step((size * f64::from(i)).min(100.0), i == shifts))
                    .collect()
            }
        }
    }

    /// Simulated time from the update to InService, if nothing fails.
    #[cfg(test)]
    pub fn total(&self) -> Duration {
        PROVISION + self.steps().iter().map(|s| s.wait).sum::<Duration>()
    }
}

/// A `CapacitySize` (`{"Type": "INSTANCE_COUNT" | "CAPACITY_PERCENT", "Value": n}`)
/// as a percentage of the fleet.
fn capacity_percent(size: &Value, instances: u32) -> f64 {
    let value = size["Value"].as_f64().unwrap_or(100.0);
    match size["Type"].as_str() {
        Some("INSTANCE_COUNT") => (value / f64::from(instances.max(1)) * 100.0).min(100.0),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(routing: Value, instances: u32) -> Policy {
        Policy::from_config(
            Some(&json!({
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": routing,
                    "TerminationWaitInSeconds": 600,
                    "MaximumExecutionTimeoutInSeconds": 1800
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a-5xx"}]}
            })),
            instances,
        )
    }

    #[test]
    fn canary_shifts_twice_then_bakes() {
        let p = policy(
            json!({"Type": "CANARY", "WaitIntervalInSeconds": 300,
                   "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}),
            4,
        );
        assert_eq!(p.alarms, ["a-5xx"]);
        assert_eq!(p.max_execution, Some(Duration::from_secs(1800)));
        let steps = p.steps();
        assert_eq!(
            steps,
            [
                Step {
                    green_percent: 25.0,
                    wait: Duration::from_secs(300),
                    bake: false
                },
                Step {
                    green_percent: 100.0,
                    wait: Duration::from_secs(600),
                    bake: true
                },
            ]
        );
        assert_eq!(p.total(), Duration::from_secs(60 + 300 + 600));
    }

    #[test]
    fn linear_shifts_ceil_of_100_over_step_times() {
        let p = policy(
            json!({"Type": "LINEAR", "WaitIntervalInSeconds": 60,
                   "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 30}}),
            2,
        );
        let steps = p.steps();
        assert_eq!(steps.len(), 4);
        let percents: Vec<f64> = steps.iter().map(|s| s.green_percent).collect();
        assert_eq!(percents, [30.0, 60.0, 90.0, 100.0]);
        let waits: Vec<u64> = steps.iter().map(|s| s.wait.as_secs()).collect();
        assert_eq!(waits, [60, 60, 60, 600]);
        assert!(steps[3].bake && !steps[2].bake);
    }

    #[test]
    fn all_at_once_and_no_config() {
        let p = policy(json!({"Type": "ALL_AT_ONCE"}), 1);
        assert_eq!(p.steps().len(), 1);
        assert_eq!(p.steps()[0].wait, Duration::from_secs(600));
        let none = Policy::from_config(None, 1);
        assert_eq!(none.routing, Routing::AllAtOnce);
        assert!(none.alarms.is_empty());
        assert_eq!(none.total(), PROVISION);
    }
}
