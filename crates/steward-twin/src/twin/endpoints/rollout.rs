//! The background tasks: an endpoint's creation and a blue/green rollout, on
//! the twin's simulated clock.
//!
//! `FailureReason` after an auto-rollback (DescribeEndpoint only: neither
//! endpoint event example in the SageMaker guide carries one): AWS's exact
//! wording is not in the API reference; the twin names the alarms that fired,
//! which is what people read it for.

use std::sync::Arc;
use std::time::Duration;

use super::super::{alarms, Ctx};
use super::model::{Endpoint, Endpoints, Style};
use super::plan::{self, Policy};

/// How often (real time) the alarms are checked during a wait.
const POLL: Duration = Duration::from_millis(25);

pub async fn emit_state(ctx: &Ctx, endpoint: &Endpoint) {
    emit(
        ctx,
        "SageMaker Endpoint State Change",
        endpoint,
        Style::StateEvent,
    )
    .await;
}

pub async fn emit_deployment(ctx: &Ctx, endpoint: &Endpoint) {
    emit(
        ctx,
        "SageMaker Endpoint Deployment State Change",
        endpoint,
        Style::DeploymentEvent,
    )
    .await;
}

async fn emit(ctx: &Ctx, detail_type: &str, endpoint: &Endpoint, style: Style) {
    let detail = endpoint.render(style);
    if let Err(e) = ctx
        .events
        .emit(
            "aws.sagemaker",
            detail_type,
            vec![endpoint.arn.clone()],
            detail,
        )
        .await
    {
        tracing::warn!(endpoint = %endpoint.name, error = %e, "endpoint event not emitted");
    }
}

/// Apply `change` if the endpoint is still on this task's generation.
fn modify(
    ctx: &Ctx,
    name: &str,
    generation: u64,
    change: impl FnOnce(&mut Endpoint),
) -> Option<Endpoint> {
    let state = ctx.state::<Endpoints>();
    let mut map = state.lock();
    let endpoint = map.get_mut(name).filter(|e| e.generation == generation)?;
    change(endpoint);
    endpoint.modified = ctx.clock.now();
    Some(endpoint.clone())
}

/// Creating → InService.
pub async fn create(ctx: Arc<Ctx>, name: String, generation: u64) {
    ctx.clock.sleep(plan::CREATE).await;
    if let Some(endpoint) = modify(&ctx, &name, generation, |e| e.status = "InService".into()) {
        emit_state(&ctx, &endpoint).await;
    }
}

enum Outcome {
    Done,
    RolledBack(String),
    /// Deleted or superseded: stop quietly.
    Gone,
}

/// Updating → provision green → shift traffic step by step → bake → InService
/// on the new config; or back to the old one when an alarm fires or the
/// deadline passes.
pub async fn update(ctx: Arc<Ctx>, name: String, generation: u64, policy: Policy) {
    let outcome = run(&ctx, &name, generation, &policy).await;
    let finished = match outcome {
        Outcome::Gone => return,
        Outcome::Done => modify(&ctx, &name, generation, |e| {
            if let Some(pending) = e.pending.take() {
                e.config_name = pending.config_name;
                e.variants = pending.variants;
            }
            e.status = "InService".into();
        }),
        Outcome::RolledBack(reason) => modify(&ctx, &name, generation, |e| {
            e.pending = None;
            e.status = "InService".into();
            e.failure_reason = Some(reason);
        }),
    };
    if let Some(endpoint) = finished {
        emit_deployment(&ctx, &endpoint).await;
        emit_state(&ctx, &endpoint).await;
    }
}

async fn run(ctx: &Ctx, name: &str, generation: u64, policy: &Policy) -> Outcome {
    let mut elapsed = Duration::ZERO;
    if let Some(outcome) = wait(ctx, name, generation, policy, plan::PROVISION, &mut elapsed).await
    {
        return outcome;
    }
    for step in policy.steps() {
        let (label, source) = if step.bake {
            ("Baking", "TerminationWaitInSeconds")
        } else {
            ("Baking", "WaitIntervalInSeconds")
        };
        let message = format!(
            "{label} for {} seconds ({source}) with traffic enabled on {}% of the new fleet's capacity.",
            step.wait.as_secs(),
            step.green_percent
        );
        let now = ctx.clock.now();
        let Some(endpoint) = modify(ctx, name, generation, |e| {
            if let Some(p) = e.pending.as_mut() {
                p.green_percent = step.green_percent;
                p.phase = label.into();
                p.phase_message = message;
                p.phase_started = now;
            }
        }) else {
            return Outcome::Gone;
        };
        emit_deployment(ctx, &endpoint).await;
        if let Some(outcome) = wait(ctx, name, generation, policy, step.wait, &mut elapsed).await {
            return outcome;
        }
    }
    Outcome::Done
}

/// Wait `duration` (simulated) while watching the alarms, the deadline and
/// the endpoint itself; `Some` ends the rollout.
async fn wait(
    ctx: &Ctx,
    name: &str,
    generation: u64,
    policy: &Policy,
    duration: Duration,
    elapsed: &mut Duration,
) -> Option<Outcome> {
    let poll = POLL.mul_f64(ctx.clock.scale);
    let mut waited = Duration::ZERO;
    loop {
        let current = ctx.state::<Endpoints>().get(name);
        if current.is_none_or(|e| e.generation != generation) {
            return Some(Outcome::Gone);
        }
        let mut firing = Vec::new();
        for alarm in &policy.alarms {
            if alarms::alarm_state(ctx, alarm).await.as_deref() == Some("ALARM") {
                firing.push(alarm.clone());
            }
        }
        if !firing.is_empty() {
            return Some(Outcome::RolledBack(format!(
                "Deployment failed and was rolled back: CloudWatch alarm(s) [{}] in ALARM state during the deployment (AutoRollbackConfiguration).",
                firing.join(", ")
            )));
        }
        if policy.max_execution.is_some_and(|max| *elapsed >= max) {
            return Some(Outcome::RolledBack(
                "Deployment failed and was rolled back: it exceeded MaximumExecutionTimeoutInSeconds.".into(),
            ));
        }
        if waited >= duration {
            return None;
        }
        let step = poll.min(duration - waited);
        ctx.clock.sleep(step).await;
        waited += step;
        *elapsed += step;
    }
}
