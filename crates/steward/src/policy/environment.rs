//! Environments: where a model is deployed, in promotion order, and how.

use std::time::Duration;

/// Default bake time: how long a deployment must stay healthy (no alarm) before it
/// counts as succeeded, becomes the last known good model and may be promoted.
pub const DEFAULT_BAKE: Duration = Duration::from_secs(10 * 60);
/// Default instance count of a SageMaker endpoint.
pub const DEFAULT_INSTANCE_COUNT: u32 = 1;
/// Default smoke test tolerance: outputs must match the expected ones exactly.
pub const DEFAULT_SMOKE_TOLERANCE: f64 = 0.0;

/// The approval an environment gets when the policy does not say: `none` for the
/// first of several environments (the proving ground, after the gate), `required`
/// for every later one and for a lone environment, so that no model reaches what
/// is presumably production without a person agreeing.
pub fn default_approval(position: usize, environments: usize) -> Approval {
    if position == 0 && environments > 1 {
        Approval::None
    } else {
        Approval::Required
    }
}

/// One stage of the promotion chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// Unique within the group; same shape as a group name (it ends up in ledger
    /// keys and resource names).
    pub name: String,
    pub target: Target,
    /// Default all-at-once.
    pub strategy: Strategy,
    /// CloudWatch alarm names. During the rollout they drive SageMaker's or
    /// CodeDeploy's automatic rollback; during the bake Steward rolls back itself.
    pub alarms: Vec<String>,
    /// Default 10m; `0s` promotes as soon as the rollout completes.
    pub bake: Duration,
    /// Known cases replayed against the new model before it takes traffic.
    pub smoke_test: Option<SmokeTest>,
    /// Default: see [`default_approval`].
    pub approval: Approval,
    /// Endpoint data capture (SageMaker targets only), for drift monitoring.
    pub data_capture: Option<DataCapture>,
}

/// What serves the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A SageMaker real-time endpoint, updated blue/green with traffic routing.
    SageMakerEndpoint {
        /// Unique across every environment of every group.
        endpoint: String,
        /// `ml.<family>.<size>`, e.g. `ml.m5.large`.
        instance_type: String,
        /// At least 1; default 1.
        instance_count: u32,
    },
    /// A Lambda function serving the model behind an alias, shifted by CodeDeploy
    /// (the smoke test runs as its BeforeAllowTraffic hook).
    LambdaAlias {
        /// The function name (not an ARN).
        function: String,
        alias: String,
    },
}

impl Target {
    /// A short description for messages: `endpoint payroll-fraud-prod` or
    /// `lambda attrition-model:live`.
    pub fn describe(&self) -> String {
        match self {
            Target::SageMakerEndpoint { endpoint, .. } => format!("endpoint {endpoint}"),
            Target::LambdaAlias { function, alias } => format!("lambda {function}:{alias}"),
        }
    }
}

/// How traffic moves from the old model to the new one. Percentages are of
/// capacity on a SageMaker endpoint (rounded to whole instances by SageMaker, so
/// canaries want several instances) and of invocations on a Lambda alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Everything at once. The default.
    #[default]
    AllAtOnce,
    /// `size_percent` first, then the rest after `wait` without an alarm.
    /// Size 1..=99 (at most 50 on a SageMaker endpoint, SageMaker's limit).
    Canary { size_percent: u8, wait: Duration },
    /// `step_percent` more after each `wait`. Step 1..=50 and a divisor of 100, so
    /// every step moves the same share and the last one lands exactly on 100%
    /// (10, 20, 25 or 50 on a SageMaker endpoint, which wants 10 to 50).
    Linear { step_percent: u8, wait: Duration },
}

impl Strategy {
    /// The share of traffic on the new model after each step, ending at 100.
    pub fn shifts(&self) -> Vec<u8> {
        match *self {
            Strategy::AllAtOnce => vec![100],
            Strategy::Canary { size_percent, .. } => vec![size_percent, 100],
            Strategy::Linear { step_percent, .. } => {
                let step = step_percent.max(1);
                let mut shifts: Vec<u8> = (1..=100 / step).map(|n| n * step).collect();
                if shifts.last() != Some(&100) {
                    shifts.push(100);
                }
                shifts
            }
        }
    }

    /// The wait between steps (zero for all-at-once).
    pub fn wait(&self) -> Duration {
        match *self {
            Strategy::AllAtOnce => Duration::ZERO,
            Strategy::Canary { wait, .. } | Strategy::Linear { wait, .. } => wait,
        }
    }
}

/// Whether a person must agree before a model enters the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    /// An approver decides through the emailed link; nothing moves until then (or
    /// until the request expires).
    Required,
    /// No person is asked: Steward approves by policy once the gate passed and the
    /// previous environment baked, records that approval (naming the policy
    /// version) in the ledger and tells the stewards.
    Auto,
    /// No approval step at all: the deploy follows the previous stage directly.
    None,
}

impl Approval {
    pub fn needs_a_person(self) -> bool {
        self == Approval::Required
    }
}

/// Known cases replayed against the new model before it takes traffic; any
/// mismatch stops the rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct SmokeTest {
    /// `s3://bucket/key` of a JSON-lines file, one case per line.
    pub cases: String,
    /// Largest absolute difference allowed between a numeric output and the
    /// expected one (`>= 0`; default 0). Non-numeric outputs must match exactly.
    pub tolerance: f64,
}

/// SageMaker endpoint data capture, the input of drift monitoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCapture {
    /// Share of requests captured, 1..=100.
    pub percent: u8,
    /// `s3://bucket/prefix` the captures are written under.
    pub destination: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_end_at_one_hundred() {
        let wait = Duration::from_secs(60);
        assert_eq!(Strategy::AllAtOnce.shifts(), [100]);
        assert_eq!(
            Strategy::Canary {
                size_percent: 10,
                wait
            }
            .shifts(),
            [10, 100]
        );
        assert_eq!(
            Strategy::Linear {
                step_percent: 20,
                wait
            }
            .shifts(),
            [20, 40, 60, 80, 100]
        );
        assert_eq!(
            Strategy::Linear {
                step_percent: 30,
                wait
            }
            .shifts(),
            [30, 60, 90, 100]
        );
    }
}
