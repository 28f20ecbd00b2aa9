//! The twin's own API under `/_twin/`: health, reset, emitted events, faults,
//! captured mail.

use http::{Method, StatusCode};
use serde_json::json;

use super::faults::FaultPlan;
use super::{mail, AwsRequest, Ctx, Reply};

pub const PREFIX: &str = "/_twin/";

pub async fn handle(ctx: &Ctx, req: &AwsRequest) -> Reply {
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
        _ => Reply::aws_error(
            StatusCode::NOT_FOUND,
            "UnknownTwinRoute",
            "twin routes: GET health, events, mail, faults; POST faults, reset",
        ),
    }
}

/// Forget everything: moto's state and every module's.
async fn reset(ctx: &Ctx) -> Reply {
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
    ctx.events.clear();
    ctx.faults.set(FaultPlan::default());
    Reply::json(&json!({"reset": true}))
}
