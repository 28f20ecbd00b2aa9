//! The `DeploymentConfig` of an endpoint update, decided from the environment's
//! strategy and alarms (SDK-free; the deploy function builds the request).
//!
//! Ranges: SageMaker API reference, `BlueGreenUpdatePolicy`
//! (`TerminationWaitInSeconds` 0..=3600, `MaximumExecutionTimeoutInSeconds`
//! 600..=28800, larger than the waits) and `TrafficRoutingConfig`
//! (`WaitIntervalInSeconds` 0..=3600).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::policy::{Environment, Strategy};

/// Kept after the last traffic shift while the environment's alarms are
/// watched by SageMaker itself: during it, a rollback is instant because the
/// old fleet still runs. Steward's own bake (the policy's `bake`) starts after.
pub const TERMINATION_WAIT_WITH_ALARMS: Duration = Duration::from_secs(300);
/// Allowance for provisioning the new fleet, on top of the waits, in the
/// maximum execution time; SageMaker rolls back an update that takes longer.
pub const PROVISIONING_ALLOWANCE: Duration = Duration::from_secs(1800);
const MIN_EXECUTION_TIMEOUT: u64 = 600;
const MAX_EXECUTION_TIMEOUT: u64 = 28_800;
const MAX_WAIT: u64 = 3600;

/// `TrafficRoutingConfig`: sizes are `CAPACITY_PERCENT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Routing {
    AllAtOnce,
    Canary { percent: u8, wait_seconds: u32 },
    Linear { percent: u8, wait_seconds: u32 },
}

impl Routing {
    /// SageMaker's `TrafficRoutingConfigType`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Routing::AllAtOnce => "ALL_AT_ONCE",
            Routing::Canary { .. } => "CANARY",
            Routing::Linear { .. } => "LINEAR",
        }
    }

    pub fn wait_seconds(&self) -> u32 {
        match *self {
            Routing::AllAtOnce => 0,
            Routing::Canary { wait_seconds, .. } | Routing::Linear { wait_seconds, .. } => {
                wait_seconds
            }
        }
    }

    /// How many waits between shifts the rollout has.
    fn waits(&self) -> u64 {
        match *self {
            Routing::AllAtOnce => 0,
            Routing::Canary { .. } => 1,
            Routing::Linear { percent, .. } => (100u64).div_ceil(u64::from(percent.max(1))) - 1,
        }
    }
}

/// Everything a blue/green `DeploymentConfig` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentPlan {
    pub routing: Routing,
    pub termination_wait_seconds: u32,
    pub maximum_execution_timeout_seconds: u32,
    /// `AutoRollbackConfiguration.Alarms`: SageMaker rolls back when one fires.
    pub rollback_alarms: Vec<String>,
}

impl DeploymentPlan {
    /// The rollout of a new model into `environment`.
    pub fn for_environment(environment: &Environment) -> Self {
        let wait = |d: Duration| d.as_secs().min(MAX_WAIT) as u32;
        let routing = match environment.strategy {
            Strategy::AllAtOnce => Routing::AllAtOnce,
            Strategy::Canary {
                size_percent,
                wait: w,
            } => Routing::Canary {
                percent: size_percent,
                wait_seconds: wait(w),
            },
            Strategy::Linear {
                step_percent,
                wait: w,
            } => Routing::Linear {
                percent: step_percent,
                wait_seconds: wait(w),
            },
        };
        let termination_wait = if environment.alarms.is_empty() {
            0
        } else {
            TERMINATION_WAIT_WITH_ALARMS.as_secs() as u32
        };
        Self::new(routing, termination_wait, environment.alarms.clone())
    }

    /// An explicit rollback to a known good config: everything at once, and no
    /// rollback alarms (they are firing: they would roll the rollback back).
    pub fn rollback() -> Self {
        Self::new(Routing::AllAtOnce, 0, Vec::new())
    }

    fn new(routing: Routing, termination_wait_seconds: u32, rollback_alarms: Vec<String>) -> Self {
        let waits = routing.waits() * u64::from(routing.wait_seconds())
            + u64::from(termination_wait_seconds);
        let timeout = (PROVISIONING_ALLOWANCE.as_secs() + waits)
            .clamp(MIN_EXECUTION_TIMEOUT, MAX_EXECUTION_TIMEOUT);
        DeploymentPlan {
            routing,
            termination_wait_seconds,
            maximum_execution_timeout_seconds: timeout as u32,
            rollback_alarms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Approval, Target};

    fn env(strategy: Strategy, alarms: &[&str]) -> Environment {
        Environment {
            name: "prod".into(),
            target: Target::SageMakerEndpoint {
                endpoint: "e".into(),
                instance_type: "ml.m5.large".into(),
                instance_count: 4,
            },
            strategy,
            alarms: alarms.iter().map(|a| a.to_string()).collect(),
            bake: Duration::from_secs(600),
            smoke_test: None,
            approval: Approval::Required,
            data_capture: None,
        }
    }

    #[test]
    fn all_at_once_without_alarms_has_no_waits() {
        let plan = DeploymentPlan::for_environment(&env(Strategy::AllAtOnce, &[]));
        assert_eq!(plan.routing, Routing::AllAtOnce);
        assert_eq!(plan.routing.type_name(), "ALL_AT_ONCE");
        assert_eq!(plan.termination_wait_seconds, 0);
        assert_eq!(plan.maximum_execution_timeout_seconds, 1800);
        assert!(plan.rollback_alarms.is_empty());
    }

    #[test]
    fn canary_waits_once_and_watches_the_alarms() {
        let strategy = Strategy::Canary {
            size_percent: 10,
            wait: Duration::from_secs(600),
        };
        let plan = DeploymentPlan::for_environment(&env(strategy, &["p-5xx", "p-p99"]));
        assert_eq!(
            plan.routing,
            Routing::Canary {
                percent: 10,
                wait_seconds: 600
            }
        );
        assert_eq!(plan.termination_wait_seconds, 300);
        assert_eq!(plan.maximum_execution_timeout_seconds, 1800 + 600 + 300);
        assert_eq!(plan.rollback_alarms, ["p-5xx", "p-p99"]);
    }

    #[test]
    fn linear_waits_between_every_step_and_the_timeout_is_bounded() {
        let strategy = Strategy::Linear {
            step_percent: 20,
            wait: Duration::from_secs(300),
        };
        let plan = DeploymentPlan::for_environment(&env(strategy, &["a"]));
        assert_eq!(plan.routing.type_name(), "LINEAR");
        // Five steps, four waits between them, then the termination wait.
        assert_eq!(plan.maximum_execution_timeout_seconds, 1800 + 4 * 300 + 300);
        let slow = Strategy::Linear {
            step_percent: 10,
            wait: Duration::from_secs(3600),
        };
        let plan = DeploymentPlan::for_environment(&env(slow, &["a"]));
        assert_eq!(plan.maximum_execution_timeout_seconds, 28_800);
    }

    #[test]
    fn a_rollback_is_all_at_once_without_alarms() {
        let plan = DeploymentPlan::rollback();
        assert_eq!(plan.routing, Routing::AllAtOnce);
        assert!(plan.rollback_alarms.is_empty());
        assert_eq!(plan.termination_wait_seconds, 0);
    }
}
