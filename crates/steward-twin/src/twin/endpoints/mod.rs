//! Twin module `endpoints`: SageMaker endpoints with blue/green rollouts.
//!
//! moto creates endpoints InService at once and answers UpdateEndpoint with a
//! 500, so the twin keeps each endpoint's state itself and runs creation and
//! rollouts as time-compressed tasks on `ctx.clock` ([`rollout`]), with
//! auto-rollback when a rollback alarm is in ALARM. CreateEndpoint and
//! DeleteEndpoint still reach moto (it validates the config and keeps
//! ListEndpoints); DescribeEndpoint of a twin-run endpoint is answered here.

mod invoke;
mod model;
mod plan;
mod rollout;

use std::sync::{Arc, Mutex, Weak};

use http::{HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

use super::{AwsRequest, Ctx, Reply};
use model::{Endpoint, Endpoints, Pending};

/// Every running twin's context: rollout tasks outlive the request that
/// started them, and the registry (unlike module state) survives
/// `/_twin/reset`. Weak, so a dropped twin is not kept alive.
static CONTEXTS: Mutex<Vec<Weak<Ctx>>> = Mutex::new(Vec::new());

/// Called once by `Twin::start`.
pub fn register(ctx: &Arc<Ctx>) {
    let mut all = CONTEXTS.lock().unwrap_or_else(|p| p.into_inner());
    all.retain(|w| w.strong_count() > 0);
    all.push(Arc::downgrade(ctx));
}

fn owned(ctx: &Ctx) -> Option<Arc<Ctx>> {
    let all = CONTEXTS.lock().unwrap_or_else(|p| p.into_inner());
    all.iter()
        .find(|w| std::ptr::eq(w.as_ptr(), ctx))
        .and_then(Weak::upgrade)
}

pub async fn route(ctx: &Ctx, req: &AwsRequest) -> Option<Reply> {
    if req.service() != Some("sagemaker") {
        return None;
    }
    if !req.headers.contains_key("x-amz-target") {
        // The runtime API (restJson1) shares the signing name.
        return invoke::route(ctx, req).await;
    }
    let operation = req.operation()?;
    if !matches!(
        operation.as_str(),
        "CreateEndpoint" | "UpdateEndpoint" | "DescribeEndpoint" | "DeleteEndpoint"
    ) {
        return None;
    }
    let body = match req.json() {
        Ok(body) => body,
        Err(reply) => return Some(*reply),
    };
    let name = body["EndpointName"].as_str()?.to_string();
    match operation.as_str() {
        "CreateEndpoint" => Some(create(ctx, req, &name, &body).await),
        "UpdateEndpoint" => Some(update(ctx, &name, &body).await),
        "DescribeEndpoint" => describe(ctx, &name),
        _ => {
            ctx.state::<Endpoints>().lock().remove(&name);
            None
        }
    }
}

/// The config an endpoint serves now (the old one during a rollout), if the
/// endpoint can take invocations.
pub fn live_config(ctx: &Ctx, name: &str) -> Option<String> {
    let endpoint = ctx.state::<Endpoints>().get(name)?;
    matches!(endpoint.status.as_str(), "InService" | "Updating").then_some(endpoint.config_name)
}

fn validation(message: &str) -> Reply {
    Reply::aws_error(StatusCode::BAD_REQUEST, "ValidationException", message)
}

async fn create(ctx: &Ctx, req: &AwsRequest, name: &str, body: &Value) -> Reply {
    let Some(ctx_arc) = owned(ctx) else {
        return ctx.forward(req).await;
    };
    let reply = ctx.forward(req).await;
    if !reply.is_success() {
        return reply;
    }
    let config_name = body["EndpointConfigName"].as_str().unwrap_or_default();
    let variants = match config_variants(ctx, config_name).await {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let arn = reply
        .body_json()
        .and_then(|b| b["EndpointArn"].as_str().map(str::to_string))
        .unwrap_or_else(|| ctx.arn("sagemaker", &format!("endpoint/{name}")));
    let now = ctx.clock.now();
    let endpoint = Endpoint {
        name: name.into(),
        arn: arn.clone(),
        config_name: config_name.into(),
        variants,
        status: "Creating".into(),
        failure_reason: None,
        created: now,
        modified: now,
        last_deployment_config: body.get("DeploymentConfig").cloned(),
        pending: None,
        generation: 1,
    };
    ctx.state::<Endpoints>()
        .lock()
        .insert(name.into(), endpoint.clone());
    rollout::emit_state(ctx, &endpoint).await;
    tokio::spawn(rollout::create(ctx_arc, name.to_string(), 1));
    Reply::json(&json!({"EndpointArn": arn}))
}

async fn update(ctx: &Ctx, name: &str, body: &Value) -> Reply {
    let Some(ctx_arc) = owned(ctx) else {
        return Reply::aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "the twin's endpoint module is not registered",
        );
    };
    let Some(current) = ctx.state::<Endpoints>().get(name) else {
        let arn = ctx.arn("sagemaker", &format!("endpoint/{name}"));
        return validation(&format!("Could not find endpoint \"{arn}\"."));
    };
    if current.status != "InService" {
        return validation(&format!(
            "Cannot update in-progress endpoint \"{}\".",
            current.arn
        ));
    }
    let config_name = body["EndpointConfigName"].as_str().unwrap_or_default();
    let variants = match config_variants(ctx, config_name).await {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let deployment = if body["RetainDeploymentConfig"].as_bool() == Some(true) {
        current.last_deployment_config.clone()
    } else {
        body.get("DeploymentConfig").cloned()
    };
    let policy = plan::Policy::from_config(deployment.as_ref(), model::instances(&variants));
    let now = ctx.clock.now();
    let updated = {
        let state = ctx.state::<Endpoints>();
        let mut map = state.lock();
        let Some(endpoint) = map.get_mut(name) else {
            return validation(&format!("Could not find endpoint \"{}\".", current.arn));
        };
        if endpoint.status != "InService" {
            return validation(&format!(
                "Cannot update in-progress endpoint \"{}\".",
                endpoint.arn
            ));
        }
        endpoint.status = "Updating".into();
        endpoint.failure_reason = None;
        endpoint.modified = now;
        endpoint.last_deployment_config = deployment;
        endpoint.generation += 1;
        endpoint.pending = Some(Pending {
            config_name: config_name.into(),
            variants,
            started: now,
            green_percent: 0.0,
            phase: "Creating".into(),
            phase_message: "Provisioning the new fleet.".into(),
            phase_started: now,
        });
        endpoint.clone()
    };
    rollout::emit_state(ctx, &updated).await;
    rollout::emit_deployment(ctx, &updated).await;
    tokio::spawn(rollout::update(
        ctx_arc,
        name.to_string(),
        updated.generation,
        policy,
    ));
    Reply::json(&json!({"EndpointArn": updated.arn}))
}

fn describe(ctx: &Ctx, name: &str) -> Option<Reply> {
    let endpoint = ctx.state::<Endpoints>().get(name)?;
    Some(Reply::json(&endpoint.render(model::Style::Api)))
}

/// The config's `ProductionVariants` from moto, or moto's error (a
/// ValidationException "Could not find endpoint configuration …").
async fn config_variants(ctx: &Ctx, config_name: &str) -> Result<Vec<Value>, Reply> {
    let reply = sagemaker(
        ctx,
        "DescribeEndpointConfig",
        &json!({"EndpointConfigName": config_name}),
    )
    .await;
    if !reply.is_success() {
        return Err(reply);
    }
    Ok(reply
        .body_json()
        .and_then(|b| b["ProductionVariants"].as_array().cloned())
        .unwrap_or_default())
}

/// A SageMaker call the twin makes to moto itself (awsJson1.1); moto routes it
/// by the credential scope and checks no signature.
pub(super) async fn sagemaker(ctx: &Ctx, operation: &str, body: &Value) -> Reply {
    let mut req = AwsRequest {
        method: Method::POST,
        uri: http::Uri::from_static("/"),
        headers: Default::default(),
        body: Default::default(),
    };
    req.headers.insert(
        "authorization",
        HeaderValue::from_static(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=twin",
        ),
    );
    req.headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    if let Ok(target) = HeaderValue::from_str(&format!("SageMaker.{operation}")) {
        req.headers.insert("x-amz-target", target);
    }
    ctx.forward(&req.with_json(body)).await
}
