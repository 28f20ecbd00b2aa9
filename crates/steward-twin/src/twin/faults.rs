//! Injected faults: per operation, a seeded chance of throttling, a 500, or
//! added latency, switchable at run time; the basis of reliability tests.

use std::sync::Mutex;
use std::time::Duration;

use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{AwsRequest, Reply};

/// One rule: which operations it hits and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// `service:Operation` (e.g. `sagemaker:StartPipelineExecution`),
    /// `service:*`, or `*`.
    pub operation: String,
    /// Probability (0..=1) of a `ThrottlingException` (HTTP 400).
    #[serde(default)]
    pub throttle: f64,
    /// Probability (0..=1) of an `InternalFailure` (HTTP 500).
    #[serde(default)]
    pub error: f64,
    /// Latency added to every matching call.
    #[serde(default)]
    pub latency_ms: u64,
}

impl FaultRule {
    fn matches(&self, service: &str, operation: &str) -> bool {
        match self.operation.split_once(':') {
            None => self.operation == "*",
            Some((s, op)) => s == service && (op == "*" || op == operation),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

#[derive(Debug, Default)]
pub struct Faults {
    plan: Mutex<(FaultPlan, u64)>,
}

impl Faults {
    /// Replace the plan; the seed makes a run's faults repeatable.
    pub fn set(&self, plan: FaultPlan) {
        let state = plan.seed.max(1);
        *self.plan.lock().unwrap_or_else(|p| p.into_inner()) = (plan, state);
    }

    pub fn plan(&self) -> FaultPlan {
        self.plan
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone()
    }

    /// The fault to answer with instead of the real reply, after any latency.
    pub async fn inject(&self, req: &AwsRequest) -> Option<Reply> {
        let service = req.service().unwrap_or("").to_string();
        let operation = req.operation().unwrap_or_default();
        let (latency, outcome) = {
            let mut guard = self.plan.lock().unwrap_or_else(|p| p.into_inner());
            let (plan, rng) = &mut *guard;
            let rules: Vec<FaultRule> = plan
                .rules
                .iter()
                .filter(|r| r.matches(&service, &operation))
                .cloned()
                .collect();
            let mut latency = 0;
            let mut outcome = None;
            for rule in rules {
                latency += rule.latency_ms;
                let roll = next(rng);
                if outcome.is_none() && roll < rule.throttle {
                    outcome = Some(Reply::error_for(
                        req,
                        StatusCode::BAD_REQUEST,
                        "ThrottlingException",
                        "Rate exceeded (injected by the twin)",
                    ));
                } else if outcome.is_none() && roll < rule.throttle + rule.error {
                    outcome = Some(Reply::error_for(
                        req,
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalFailure",
                        "injected by the twin",
                    ));
                }
            }
            (latency, outcome)
        };
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        outcome
    }
}

/// xorshift64*: a uniform number in [0, 1); no randomness crate needed.
fn next(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_by_service_and_operation() {
        let rule = |op: &str| FaultRule {
            operation: op.into(),
            throttle: 0.0,
            error: 0.0,
            latency_ms: 0,
        };
        assert!(rule("*").matches("sagemaker", "X"));
        assert!(rule("sagemaker:*").matches("sagemaker", "X"));
        assert!(rule("sagemaker:X").matches("sagemaker", "X"));
        assert!(!rule("sagemaker:X").matches("sagemaker", "Y"));
        assert!(!rule("events:X").matches("sagemaker", "X"));
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence_and_it_is_uniformish() {
        let (mut a, mut b) = (42, 42);
        let xs: Vec<f64> = (0..1000).map(|_| next(&mut a)).collect();
        let ys: Vec<f64> = (0..1000).map(|_| next(&mut b)).collect();
        assert_eq!(xs, ys);
        let below_half = xs.iter().filter(|x| **x < 0.5).count();
        assert!((400..600).contains(&below_half), "{below_half}");
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
    }
}
