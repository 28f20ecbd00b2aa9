//! Twin module `registry`: the model registry events moto does not emit, and
//! UpdateModelPackage merged with the stored package as AWS does.
//!
//! - `CreateModelPackage` goes to moto; the twin then reads the package back
//!   (DescribeModelPackage) and emits `SageMaker Model Package State Change`.
//! - `UpdateModelPackage`: moto sets every omitted field to null (approval
//!   status, ApprovalDescription, CustomerMetadataProperties…), AWS keeps
//!   them. The twin reads the stored package, sends moto the merged request,
//!   and emits the event when `ModelApprovalStatus` changed.
//!
//! The event detail mirrors DescribeModelPackage ([`detail`]).

mod detail;
mod merge;

use http::HeaderValue;
use serde_json::{json, Value};
use steward::events::sagemaker::ModelPackageStateChange;
use steward::events::AwsDetail;

use super::{AwsRequest, Ctx, Reply};

pub use detail::state_change_detail;
pub use merge::merged_update;

/// Serialises read-merge-write of UpdateModelPackage so two concurrent
/// updates cannot each restore a field the other just changed.
#[derive(Default)]
struct Registry {
    updating: tokio::sync::Mutex<()>,
}

pub async fn route(ctx: &Ctx, req: &AwsRequest) -> Option<Reply> {
    if req.service() != Some("sagemaker") {
        return None;
    }
    match req.operation()?.as_str() {
        "CreateModelPackage" => Some(create(ctx, req).await),
        "UpdateModelPackage" => Some(update(ctx, req).await),
        _ => None,
    }
}

async fn create(ctx: &Ctx, req: &AwsRequest) -> Reply {
    let reply = ctx.forward(req).await;
    if !reply.is_success() {
        return reply;
    }
    let arn = reply
        .body_json()
        .and_then(|v| v["ModelPackageArn"].as_str().map(str::to_string));
    if let Some(arn) = arn {
        emit_state_change(ctx, req, &arn).await;
    }
    reply
}

async fn update(ctx: &Ctx, req: &AwsRequest) -> Reply {
    let body = match req.json() {
        Ok(body) => body,
        Err(reply) => return *reply,
    };
    let Some(arn) = body["ModelPackageArn"].as_str().map(str::to_string) else {
        // moto answers the missing parameter as AWS would (validation error).
        return ctx.forward(req).await;
    };
    let registry = ctx.state::<Registry>();
    let _one_at_a_time = registry.updating.lock().await;
    let Some(stored) = describe(ctx, req, &arn).await else {
        // Unknown package: moto's own error is the answer.
        return ctx.forward(req).await;
    };
    let merged = merged_update(&body, &stored);
    let reply = ctx.forward(&req.with_json(&merged)).await;
    if reply.is_success() && merged["ModelApprovalStatus"] != stored["ModelApprovalStatus"] {
        emit_state_change(ctx, req, &arn).await;
    }
    reply
}

/// DescribeModelPackage from moto, made from the caller's request so it carries
/// the same credentials scope (moto keys state by account and region).
async fn describe(ctx: &Ctx, template: &AwsRequest, arn: &str) -> Option<Value> {
    let mut req = template.with_json(&json!({ "ModelPackageName": arn }));
    req.headers.insert(
        "x-amz-target",
        HeaderValue::from_static("SageMaker.DescribeModelPackage"),
    );
    let reply = ctx.forward(&req).await;
    if !reply.is_success() {
        return None;
    }
    reply.body_json()
}

/// Emit the event for the package as stored now. A failure to emit does not
/// fail the API call (on AWS, event delivery is independent of the call).
async fn emit_state_change(ctx: &Ctx, template: &AwsRequest, arn: &str) {
    let Some(described) = describe(ctx, template, arn).await else {
        tracing::warn!(arn, "model package vanished before its event was emitted");
        return;
    };
    let detail = state_change_detail(&described);
    if let Err(e) = ctx
        .events
        .emit(
            ModelPackageStateChange::SOURCE,
            ModelPackageStateChange::DETAIL_TYPE,
            vec![arn.to_string()],
            detail,
        )
        .await
    {
        tracing::warn!(error = %e, arn, "could not emit the model package event");
    }
}
