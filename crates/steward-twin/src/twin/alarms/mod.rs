//! Twin module `alarms`: CloudWatch alarms. moto keeps the alarms but emits no
//! `CloudWatch Alarm State Change` event; the twin forwards `SetAlarmState`
//! and, when the state value changed, emits the event AWS would. It also
//! bridges aws-sdk-cloudwatch's CBOR protocol to moto's JSON ([`cbor`]).

mod cbor;
mod event;

use http::{HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

use super::{AwsRequest, Ctx, Reply};

#[derive(Debug, thiserror::Error)]
pub enum AlarmError {
    #[error("alarm {0} does not exist")]
    NotFound(String),
    #[error("CloudWatch {operation} failed ({status}): {body}")]
    Moto {
        operation: &'static str,
        status: StatusCode,
        body: String,
    },
    #[error("the twin could not emit the alarm event: {0}")]
    Emit(#[from] super::emit::EmitError),
}

pub async fn route(ctx: &Ctx, req: &AwsRequest) -> Option<Reply> {
    if req.service() != Some("monitoring") {
        return None;
    }
    if let Some(operation) = cbor::operation(req) {
        let json = match cbor::to_json_request(req, &operation) {
            Ok(json) => json,
            Err(reply) => return Some(*reply),
        };
        let reply = match handle(ctx, &json, &operation).await {
            Some(reply) => reply,
            None => ctx.forward(&json).await,
        };
        return Some(cbor::to_cbor_reply(&reply));
    }
    let operation = req.operation()?;
    handle(ctx, req, &operation).await
}

/// JSON or query-protocol requests; `None` forwards them as they are.
async fn handle(ctx: &Ctx, req: &AwsRequest, operation: &str) -> Option<Reply> {
    if operation != "SetAlarmState" {
        return None;
    }
    let name = match req.json() {
        Ok(body) => body["AlarmName"].as_str().map(str::to_string),
        Err(_) => req.form("AlarmName"),
    }?;
    Some(set_and_emit(ctx, req, &name).await)
}

/// Forward a SetAlarmState call and emit the event if the value changed.
async fn set_and_emit(ctx: &Ctx, req: &AwsRequest, name: &str) -> Reply {
    let before = describe(ctx, name).await.ok().flatten();
    let reply = ctx.forward(req).await;
    if !reply.is_success() {
        return reply;
    }
    if let Err(e) = emit_if_changed(ctx, name, before).await {
        tracing::warn!(alarm = name, error = %e, "no alarm state change event");
    }
    reply
}

async fn emit_if_changed(ctx: &Ctx, name: &str, before: Option<Value>) -> Result<bool, AlarmError> {
    let Some(before) = before else {
        return Ok(false);
    };
    let after = describe(ctx, name)
        .await?
        .ok_or_else(|| AlarmError::NotFound(name.into()))?;
    if before["StateValue"] == after["StateValue"] {
        return Ok(false);
    }
    let arn = after["AlarmArn"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| ctx.arn("cloudwatch", &format!("alarm:{name}")));
    ctx.events
        .emit(
            "aws.cloudwatch",
            "CloudWatch Alarm State Change",
            vec![arn],
            event::detail(&before, &after),
        )
        .await?;
    Ok(true)
}

/// Set an alarm's state as `SetAlarmState` does (for `steward local alarm`),
/// emitting the state change event; returns whether the value changed.
pub async fn set_alarm_state(
    ctx: &Ctx,
    name: &str,
    value: &str,
    reason: &str,
) -> Result<bool, AlarmError> {
    let before = describe(ctx, name)
        .await?
        .ok_or_else(|| AlarmError::NotFound(name.into()))?;
    let body = json!({"AlarmName": name, "StateValue": value, "StateReason": reason});
    let reply = ctx.forward(&moto_request("SetAlarmState", &body)).await;
    if !reply.is_success() {
        return Err(moto_error("SetAlarmState", &reply));
    }
    emit_if_changed(ctx, name, Some(before)).await
}

/// An alarm's current state value (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
pub async fn alarm_state(ctx: &Ctx, name: &str) -> Option<String> {
    let alarm = describe(ctx, name).await.ok()??;
    alarm["StateValue"].as_str().map(str::to_string)
}

/// moto's DescribeAlarms entry for one alarm (metric or composite).
async fn describe(ctx: &Ctx, name: &str) -> Result<Option<Value>, AlarmError> {
    let body = json!({"AlarmNames": [name]});
    let reply = ctx.forward(&moto_request("DescribeAlarms", &body)).await;
    if !reply.is_success() {
        return Err(moto_error("DescribeAlarms", &reply));
    }
    let out = reply.body_json().unwrap_or_default();
    Ok(["MetricAlarms", "CompositeAlarms"]
        .iter()
        .filter_map(|key| out[key].as_array())
        .flatten()
        .find(|a| a["AlarmName"] == name)
        .cloned())
}

fn moto_error(operation: &'static str, reply: &Reply) -> AlarmError {
    AlarmError::Moto {
        operation,
        status: reply.status,
        body: String::from_utf8_lossy(&reply.body).into_owned(),
    }
}

/// A CloudWatch awsJson1.0 call the twin makes itself; moto routes it by the
/// credential scope, and checks no signature.
fn moto_request(operation: &str, body: &Value) -> AwsRequest {
    let mut req = AwsRequest {
        method: Method::POST,
        uri: http::Uri::from_static("/"),
        headers: Default::default(),
        body: Default::default(),
    };
    req.headers.insert(
        "authorization",
        HeaderValue::from_static(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=twin",
        ),
    );
    req.headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    if let Ok(target) = HeaderValue::from_str(&format!("{}.{operation}", cbor::TARGET_PREFIX)) {
        req.headers.insert("x-amz-target", target);
    }
    req.with_json(body)
}
