//! A Lambda deployment's lifecycle, run as a time-compressed task:
//! BeforeAllowTraffic hooks → AllowTraffic (alias weights shifted per the
//! deployment configuration, watching alarms and StopDeployment) →
//! AfterAllowTraffic hooks → Succeeded; or a rollback to the current version
//! and Failed / Stopped with `errorInformation`.
//! (<https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-steps-lambda.html>)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::appspec::AppSpec;
use super::config::Shift;
use super::moto::{alarms_firing, shift_alias};
use super::state::{HookExecution, Store};
use super::{hooks, DETAIL_TYPE, SOURCE};
use crate::twin::Ctx;

/// AWS fails a hook that reports nothing within an hour.
const HOOK_TIMEOUT: Duration = Duration::from_secs(3600);
/// How often (real time) the task looks at hook status, stops and alarms.
const POLL: Duration = Duration::from_millis(25);

/// Everything a deployment's run needs, resolved when it was created.
#[derive(Debug, Clone)]
pub struct Plan {
    pub deployment_id: String,
    pub application: String,
    pub group: String,
    pub group_id: String,
    pub spec: AppSpec,
    pub shifts: Vec<Shift>,
    /// Alarm names of the enabled `alarmConfiguration` (the deployment's
    /// override, else the group's).
    pub alarms: Vec<String>,
    /// `autoRollbackConfiguration.enabled` (the deployment's, else the
    /// group's): a failure or an alarm shifts traffic back. A StopDeployment
    /// follows its own `autoRollbackEnabled`.
    pub auto_rollback: bool,
    /// Base URL of `cargo lambda watch`; `None`: hooks count as invoked.
    pub invoker: Option<String>,
}

/// Why a deployment ended early.
#[derive(Debug, Clone)]
struct Abort {
    status: &'static str,
    code: &'static str,
    message: String,
    /// Shift traffic back to the current version (if the configuration
    /// rolls back automatically).
    rollback: bool,
    /// Asked for by StopDeployment: `rollback` is the request's own.
    manual: bool,
}

impl Abort {
    fn failed(code: &'static str, message: String) -> Self {
        Self {
            status: "Failed",
            code,
            message,
            rollback: true,
            manual: false,
        }
    }
}

pub async fn run(ctx: Arc<Ctx>, plan: Plan) {
    let store = ctx.state::<Store>();
    set(&store, &plan.deployment_id, |d| {
        d.status = "InProgress";
        d.start_time = Some(ctx.clock.now());
    });
    emit(&ctx, &plan, "START").await;
    let outcome = steps(&ctx, &store, &plan).await;
    let (status, state, error, rolled_back) = match outcome {
        Ok(()) => ("Succeeded", "SUCCESS", None, None),
        Err(abort) => {
            let rolled_back = if abort.rollback && (abort.manual || plan.auto_rollback) {
                let spec = &plan.spec;
                match shift_alias(
                    &ctx,
                    &spec.function,
                    &spec.alias,
                    &spec.current_version,
                    &spec.target_version,
                    0.0,
                )
                .await
                {
                    Ok(()) => Some(format!(
                        "Traffic on {}:{} was shifted back to version {}",
                        spec.function, spec.alias, spec.current_version
                    )),
                    Err(e) => Some(format!("The rollback failed: {e}")),
                }
            } else {
                None
            };
            let state = if abort.status == "Stopped" {
                "STOP"
            } else {
                "FAILURE"
            };
            let error = Some((abort.code.to_string(), abort.message.clone()));
            (abort.status, state, error, rolled_back)
        }
    };
    tracing::info!(deployment = %plan.deployment_id, status, "codedeploy: deployment ended");
    // The event goes out before the final status shows, so whoever sees the
    // deployment ended also finds its state change event (locally deterministic).
    emit(&ctx, &plan, state).await;
    set(&store, &plan.deployment_id, |d| {
        d.status = status;
        if error.is_some() {
            d.error = error;
        }
        if rolled_back.is_some() {
            d.rollback_message = rolled_back;
        }
        d.complete_time = Some(ctx.clock.now());
    });
}

async fn steps(ctx: &Ctx, store: &Store, plan: &Plan) -> Result<(), Abort> {
    run_hooks(
        ctx,
        store,
        plan,
        "BeforeAllowTraffic",
        &plan.spec.before_allow_traffic,
    )
    .await?;
    let spec = &plan.spec;
    for shift in &plan.shifts {
        checkpoint(ctx, store, plan).await?;
        shift_alias(
            ctx,
            &spec.function,
            &spec.alias,
            &spec.current_version,
            &spec.target_version,
            shift.weight,
        )
        .await
        .map_err(|e| Abort::failed("INVALID_LAMBDA_CONFIGURATION", e))?;
        watch(ctx, store, plan, shift.then_wait).await?;
    }
    run_hooks(
        ctx,
        store,
        plan,
        "AfterAllowTraffic",
        &plan.spec.after_allow_traffic,
    )
    .await
}

/// Call each hook function of `event` and wait for its reported status.
async fn run_hooks(
    ctx: &Ctx,
    store: &Store,
    plan: &Plan,
    event: &str,
    functions: &[String],
) -> Result<(), Abort> {
    for function in functions {
        checkpoint(ctx, store, plan).await?;
        let execution_id = new_execution_id();
        store.lock().hooks.push(HookExecution {
            deployment_id: plan.deployment_id.clone(),
            event: event.into(),
            function: function.clone(),
            execution_id: execution_id.clone(),
            status: None,
        });
        if let Some(endpoint) = &plan.invoker {
            hooks::invoke(endpoint, function, &plan.deployment_id, &execution_id)
                .await
                .map_err(|e| {
                    Abort::failed(
                        "HOOK_EXECUTION_FAILURE",
                        format!("The {event} hook {function} could not be invoked: {e}"),
                    )
                })?;
        }
        let deadline = Instant::now() + ctx.clock.real(HOOK_TIMEOUT);
        loop {
            checkpoint(ctx, store, plan).await?;
            let status = store
                .lock()
                .hooks
                .iter()
                .find(|h| h.execution_id == execution_id)
                .and_then(|h| h.status.clone());
            match status.as_deref() {
                Some("Succeeded") => break,
                Some(other) => {
                    return Err(Abort::failed(
                        "HOOK_EXECUTION_FAILURE",
                        format!("The {event} hook {function} reported {other}"),
                    ))
                }
                None if Instant::now() >= deadline => {
                    return Err(Abort::failed(
                        "HOOK_EXECUTION_FAILURE",
                        format!("The {event} hook {function} reported no status within an hour"),
                    ))
                }
                None => tokio::time::sleep(POLL).await,
            }
        }
    }
    Ok(())
}

/// Bake for a simulated duration, still answering stops and alarms.
async fn watch(ctx: &Ctx, store: &Store, plan: &Plan, simulated: Duration) -> Result<(), Abort> {
    let deadline = Instant::now() + ctx.clock.real(simulated);
    loop {
        checkpoint(ctx, store, plan).await?;
        let now = Instant::now();
        if now >= deadline {
            return Ok(());
        }
        tokio::time::sleep(POLL.min(deadline - now)).await;
    }
}

/// A StopDeployment request or an alarm in ALARM ends the deployment.
async fn checkpoint(ctx: &Ctx, store: &Store, plan: &Plan) -> Result<(), Abort> {
    let stop = store
        .lock()
        .deployments
        .get(&plan.deployment_id)
        .and_then(|d| d.stop);
    if let Some(auto_rollback) = stop {
        return Err(Abort {
            status: "Stopped",
            code: "MANUAL_STOP",
            message: "The deployment was stopped by a StopDeployment request".into(),
            rollback: auto_rollback,
            manual: true,
        });
    }
    match alarms_firing(ctx, &plan.alarms).await {
        Ok(firing) if !firing.is_empty() => Err(Abort {
            status: "Stopped",
            code: "ALARM_ACTIVE",
            message: format!(
                "The deployment was stopped because alarms are in ALARM: {}",
                firing.join(", ")
            ),
            rollback: true,
            manual: false,
        }),
        Ok(_) => Ok(()),
        // An unreadable alarm is not a firing one (ignorePollAlarmFailure-like).
        Err(e) => {
            tracing::warn!("codedeploy: cannot read alarms: {e}");
            Ok(())
        }
    }
}

fn set(store: &Store, id: &str, change: impl FnOnce(&mut super::state::Deployment)) {
    if let Some(d) = store.lock().deployments.get_mut(id) {
        change(d);
    }
}

/// `CodeDeploy Deployment State-change Notification`, shaped as AWS sends it
/// (sample: aws_lambda_events' example-codedeploy-deployment-event.json).
async fn emit(ctx: &Ctx, plan: &Plan, state: &str) {
    let resources = vec![
        ctx.arn("codedeploy", &format!("application:{}", plan.application)),
        ctx.arn(
            "codedeploy",
            &format!("deploymentgroup:{}/{}", plan.application, plan.group),
        ),
    ];
    let detail = json!({
        "instanceGroupId": plan.group_id,
        "region": ctx.region,
        "application": plan.application,
        "deploymentId": plan.deployment_id,
        "state": state,
        "deploymentGroup": plan.group,
    });
    if let Err(e) = ctx
        .events
        .emit(SOURCE, DETAIL_TYPE, resources, detail)
        .await
    {
        tracing::warn!("codedeploy: {e}");
    }
}

/// Unique enough for a local run: time-seeded counter, UUID-shaped.
fn new_execution_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let hex = format!("{:016x}{:016x}", t, n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
