//! The twin's own API under `/_twin/`: health, reset, emitted events, faults,
//! captured mail.

use std::sync::Arc;

use http::{Method, StatusCode};
use serde_json::json;

use super::faults::FaultPlan;
use super::{mail, AwsRequest, Ctx, Reply};

pub const PREFIX: &str = "/_twin/";

pub async fn handle(ctx: &Arc<Ctx>, req: &AwsRequest) -> Reply {
    let path = &req.uri.path()[PREFIX.len()..];
    match (&req.method, path) {
        (&Method::GET, "health") => Reply::json(&json!({"ok": true})),
        (&Method::GET, "events") => Reply::json(&json!({"events": ctx.events.emitted()})),
        (&Method::GET, "mail") => Reply::json(&json!({"messages": mail::messages(ctx)})),
        (&Method::GET, "faults") => Reply::json(&json!(ctx.faults.plan())),
        (&Method::POST, "faults") => match serde_json::from_slice::<FaultPlan>(&req.body) {
            Ok(plan) => {
                ctx.faults.set(plan.clone());
                Reply::json(&json!(plan))
            }
            Err(e) => Reply::aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidFaultPlan",
                &format!("expected {{\"seed\": n, \"rules\": [...]}}: {e}"),
            ),
        },
        (&Method::POST, "reset") => reset(ctx).await,
        (&Method::POST, "alarm") => set_alarm(ctx, req).await,
        (&Method::POST, "git/files") => super::git::register(ctx, req),
        _ => Reply::aws_error(
            StatusCode::NOT_FOUND,
            "UnknownTwinRoute",
            "twin routes: GET health, events, mail, faults; POST faults, reset, alarm, git/files",
        ),
    }
}

/// `{"name": …, "state": "ALARM"|"OK"|"INSUFFICIENT_DATA", "reason": …}`:
/// what `steward local alarm` sends; the state change event follows.
async fn set_alarm(ctx: &Ctx, req: &AwsRequest) -> Reply {
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
    let (Some(name), Some(state)) = (body["name"].as_str(), body["state"].as_str()) else {
        return Reply::aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidAlarmRequest",
            "expected {\"name\": alarm, \"state\": \"ALARM\"|\"OK\"|\"INSUFFICIENT_DATA\"}",
        );
    };
    if !matches!(state, "ALARM" | "OK" | "INSUFFICIENT_DATA") {
        return Reply::aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidAlarmRequest",
            &format!("state must be ALARM, OK or INSUFFICIENT_DATA, not {state}"),
        );
    }
    let reason = body["reason"]
        .as_str()
        .unwrap_or("set by steward local alarm");
    match super::alarms::set_alarm_state(ctx, name, state, reason).await {
        Ok(changed) => Reply::json(&json!({"alarm": name, "state": state, "changed": changed})),
        Err(e) => Reply::aws_error(StatusCode::BAD_REQUEST, "AlarmNotSet", &e.to_string()),
    }
}

/// Forget everything: moto's state and every module's.
async fn reset(ctx: &Arc<Ctx>) -> Reply {
    let mut req = AwsRequest {
        method: Method::POST,
        uri: "/moto-api/reset".parse().unwrap_or_default(),
        headers: Default::default(),
        body: Default::default(),
    };
    req.headers.remove("authorization");
    let reply = ctx.forward(&req).await;
    if !reply.is_success() {
        return reply;
    }
    ctx.reset_states();
    super::server::configure_modules(ctx);
    ctx.events.clear();
    ctx.faults.set(FaultPlan::default());
    Reply::json(&json!({"reset": true}))
}
