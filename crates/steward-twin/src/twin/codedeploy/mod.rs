//! Twin module `codedeploy`: Lambda deployments (compute platform Lambda) that
//! actually run. moto stores applications, groups and deployments but leaves
//! every deployment `Created`, drops `alarmConfiguration`, and answers 500 to
//! StopDeployment and PutLifecycleEventHookExecutionStatus. The twin forwards
//! what moto keeps, runs each deployment's lifecycle on the twin's clock
//! ([`lifecycle`]), lays its progress over GetDeployment / BatchGetDeployments,
//! and emits `CodeDeploy Deployment State-change Notification` events.
//! Request and reply shapes: <https://docs.aws.amazon.com/codedeploy/latest/APIReference/>.

mod appspec;
mod config;
mod hooks;
mod lifecycle;
mod moto;
mod state;

use std::sync::{Arc, Mutex, Weak};

use http::StatusCode;
use serde_json::{json, Value};

use super::{AwsRequest, Ctx, Reply};
use appspec::AppSpecError;
pub use state::HookExecution;
use state::{Deployment, Store};

pub const SOURCE: &str = "aws.codedeploy";
pub const DETAIL_TYPE: &str = "CodeDeploy Deployment State-change Notification";

/// Each running twin's context (weak: a dropped twin is not kept alive) and
/// its hook invoker. Outside the per-module state, which `/_twin/reset` drops.
#[allow(clippy::type_complexity)]
static CONTEXTS: Mutex<Vec<(Weak<Ctx>, Option<String>)>> = Mutex::new(Vec::new());

/// Called by `Twin::start`: lets deployments run as tasks of this twin, and
/// sets where hook functions are invoked (`cargo lambda watch`'s base URL).
pub fn configure(ctx: &Arc<Ctx>, lambda_invoke_endpoint: Option<String>) {
    let mut contexts = CONTEXTS.lock().unwrap_or_else(|p| p.into_inner());
    contexts.retain(|(weak, _)| weak.strong_count() > 0);
    contexts.push((Arc::downgrade(ctx), lambda_invoke_endpoint));
}

fn registered(ctx: &Ctx) -> Option<(Arc<Ctx>, Option<String>)> {
    let contexts = CONTEXTS.lock().unwrap_or_else(|p| p.into_inner());
    contexts
        .iter()
        .find(|(weak, _)| std::ptr::eq(weak.as_ptr(), ctx))
        .and_then(|(weak, invoker)| Some((weak.upgrade()?, invoker.clone())))
}

/// Every lifecycle hook execution so far, oldest first: whoever reports hook
/// status without an invoker (tests, `steward local`) finds the ids here.
pub fn hook_executions(ctx: &Ctx) -> Vec<HookExecution> {
    ctx.state::<Store>().lock().hooks.clone()
}

pub async fn route(ctx: &Ctx, req: &AwsRequest) -> Option<Reply> {
    if req.service() != Some("codedeploy") {
        return None;
    }
    let operation = req.operation()?;
    let handled = match operation.as_str() {
        "CreateDeploymentGroup" => create_group(ctx, req).await,
        "CreateDeploymentConfig" => create_config(ctx, req),
        "GetDeploymentConfig" => get_config(ctx, req)?,
        "CreateDeployment" => create_deployment(ctx, req).await?,
        "GetDeployment" | "BatchGetDeployments" => describe(ctx, req).await,
        "StopDeployment" => stop(ctx, req),
        "PutLifecycleEventHookExecutionStatus" => put_hook_status(ctx, req),
        _ => return None,
    };
    Some(handled.unwrap_or_else(|reply| *reply))
}

type Handled = Result<Reply, Box<Reply>>;

fn client_error(code: &str, message: &str) -> Box<Reply> {
    Box::new(Reply::aws_error(StatusCode::BAD_REQUEST, code, message))
}

/// moto keeps the group but reports `alarmConfiguration: {}`: remember the request.
async fn create_group(ctx: &Ctx, req: &AwsRequest) -> Handled {
    let body = req.json()?;
    let reply = ctx.forward(req).await;
    if let (true, Some(out)) = (reply.is_success(), reply.body_json()) {
        let mut settings = body.clone();
        settings["deploymentGroupId"] = out["deploymentGroupId"].clone();
        let key = (
            str_of(&body, "applicationName"),
            str_of(&body, "deploymentGroupName"),
        );
        ctx.state::<Store>().lock().groups.insert(key, settings);
    }
    Ok(reply)
}

fn create_config(ctx: &Ctx, req: &AwsRequest) -> Handled {
    let body = req.json()?;
    let name = str_of(&body, "deploymentConfigName");
    if name.is_empty() {
        return Err(client_error(
            "DeploymentConfigNameRequiredException",
            "deploymentConfigName is required",
        ));
    }
    let store = ctx.state::<Store>();
    let mut inner = store.lock();
    if config::predefined(&name).is_some() || inner.configs.contains_key(&name) {
        return Err(client_error(
            "DeploymentConfigAlreadyExistsException",
            &format!("A deployment configuration named {name} already exists"),
        ));
    }
    if let Err(e) = config::shifts(&body["trafficRoutingConfig"]) {
        return Err(client_error(
            "InvalidTrafficRoutingConfigurationException",
            &e,
        ));
    }
    let id = format!("twin-config-{}", inner.configs.len() + 1);
    let mut info = body.clone();
    info["deploymentConfigId"] = json!(id);
    info["createTime"] = json!(ctx.clock.now().timestamp());
    inner.configs.insert(name, info);
    Ok(Reply::json(&json!({"deploymentConfigId": id})))
}

/// Lambda configurations (predefined or the twin's custom ones); others go to moto.
fn get_config(ctx: &Ctx, req: &AwsRequest) -> Option<Handled> {
    let body = match req.json() {
        Ok(b) => b,
        Err(reply) => return Some(Err(reply)),
    };
    let name = str_of(&body, "deploymentConfigName");
    let info = match config::predefined(&name) {
        Some(routing) => json!({
            "deploymentConfigId": name,
            "deploymentConfigName": name,
            "computePlatform": "Lambda",
            "trafficRoutingConfig": routing,
        }),
        None => ctx.state::<Store>().lock().configs.get(&name)?.clone(),
    };
    Some(Ok(Reply::json(&json!({"deploymentConfigInfo": info}))))
}

/// A deployment whose AppSpec targets a Lambda function runs in the twin;
/// any other is moto's alone.
async fn create_deployment(ctx: &Ctx, req: &AwsRequest) -> Option<Handled> {
    let body = match req.json() {
        Ok(b) => b,
        Err(reply) => return Some(Err(reply)),
    };
    let spec = match appspec::from_revision(&body["revision"]) {
        Ok(spec) => spec,
        Err(AppSpecError::Missing | AppSpecError::NotLambda) => return None,
        Err(e) => {
            return Some(Err(client_error(
                "InvalidRevisionException",
                &e.to_string(),
            )))
        }
    };
    Some(start_deployment(ctx, req, &body, spec).await)
}

async fn start_deployment(
    ctx: &Ctx,
    req: &AwsRequest,
    body: &Value,
    spec: appspec::AppSpec,
) -> Handled {
    let Some((arc, invoker)) = registered(ctx) else {
        return Err(Box::new(Reply::aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "the twin's codedeploy module was not configured (codedeploy::configure)",
        )));
    };
    let application = str_of(body, "applicationName");
    let group = str_of(body, "deploymentGroupName");
    let store = ctx.state::<Store>();
    let settings = store
        .lock()
        .groups
        .get(&(application.clone(), group.clone()))
        .cloned()
        .unwrap_or(Value::Null);
    let config_name = body["deploymentConfigName"]
        .as_str()
        .or_else(|| settings["deploymentConfigName"].as_str())
        .unwrap_or(config::DEFAULT)
        .to_string();
    let routing = match config::predefined(&config_name) {
        Some(r) => r,
        None => match store.lock().configs.get(&config_name) {
            Some(info) => info["trafficRoutingConfig"].clone(),
            None => {
                return Err(client_error(
                    "DeploymentConfigDoesNotExistException",
                    &format!("No Lambda deployment configuration named {config_name}"),
                ))
            }
        },
    };
    let shifts = config::shifts(&routing)
        .map_err(|e| client_error("InvalidDeploymentConfigNameException", &e))?;
    let reply = ctx.forward(req).await;
    if !reply.is_success() {
        return Ok(reply);
    }
    let Some(id) = reply
        .body_json()
        .and_then(|out| out["deploymentId"].as_str().map(str::to_string))
    else {
        return Ok(reply);
    };
    // A deployment's own alarm and rollback settings replace the group's
    // (CreateDeployment overrideAlarmConfiguration / autoRollbackConfiguration).
    let alarm_config = match body.get("overrideAlarmConfiguration") {
        Some(own) if own.is_object() => own,
        _ => &settings["alarmConfiguration"],
    };
    let rollback_config = match body.get("autoRollbackConfiguration") {
        Some(own) if own.is_object() => own,
        _ => &settings["autoRollbackConfiguration"],
    };
    let auto_rollback = rollback_config["enabled"] == true;
    let alarms = if alarm_config["enabled"] == true {
        alarm_config["alarms"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["name"].as_str().map(str::to_string))
            .collect()
    } else {
        Vec::new()
    };
    let plan = lifecycle::Plan {
        deployment_id: id.clone(),
        application: application.clone(),
        group: group.clone(),
        group_id: str_of(&settings, "deploymentGroupId"),
        spec,
        shifts,
        alarms,
        auto_rollback,
        invoker,
    };
    store
        .lock()
        .deployments
        .insert(id.clone(), Deployment::new(&config_name));
    tokio::spawn(lifecycle::run(arc, plan));
    Ok(reply)
}

/// GetDeployment / BatchGetDeployments: moto's record with the twin's progress.
async fn describe(ctx: &Ctx, req: &AwsRequest) -> Handled {
    let reply = ctx.forward(req).await;
    let Some(mut out) = reply.body_json().filter(|_| reply.is_success()) else {
        return Ok(reply);
    };
    let store = ctx.state::<Store>();
    let inner = store.lock();
    let overlay = |info: &mut Value| {
        if let Some(d) = info["deploymentId"]
            .as_str()
            .and_then(|id| inner.deployments.get(id))
        {
            d.overlay(info);
        }
    };
    if out.get("deploymentInfo").is_some() {
        overlay(&mut out["deploymentInfo"]);
    }
    if let Some(infos) = out["deploymentsInfo"].as_array_mut() {
        infos.iter_mut().for_each(overlay);
    }
    Ok(Reply::json(&out))
}

/// StopDeployment: the lifecycle task stops at its next checkpoint.
fn stop(ctx: &Ctx, req: &AwsRequest) -> Handled {
    let body = req.json()?;
    let id = str_of(&body, "deploymentId");
    let store = ctx.state::<Store>();
    let mut inner = store.lock();
    let deployment = inner.deployments.get_mut(&id).ok_or_else(|| {
        client_error(
            "DeploymentDoesNotExistException",
            &format!("The deployment {id} could not be found"),
        )
    })?;
    if deployment.is_complete() {
        return Err(client_error(
            "DeploymentAlreadyCompletedException",
            &format!("The deployment {id} is already {}", deployment.status),
        ));
    }
    deployment.stop = Some(body["autoRollbackEnabled"] == true);
    Ok(Reply::json(&json!({
        "status": "Pending",
        "statusMessage": "Stopping Pending. Stopping to deploy the revision will be tried.",
    })))
}

/// PutLifecycleEventHookExecutionStatus: a hook function's verdict.
fn put_hook_status(ctx: &Ctx, req: &AwsRequest) -> Handled {
    let body = req.json()?;
    let id = str_of(&body, "deploymentId");
    let execution_id = str_of(&body, "lifecycleEventHookExecutionId");
    let status = str_of(&body, "status");
    if status != "Succeeded" && status != "Failed" {
        return Err(client_error(
            "InvalidLifecycleEventHookExecutionStatusException",
            "A hook reports Succeeded or Failed",
        ));
    }
    let store = ctx.state::<Store>();
    let mut inner = store.lock();
    if !inner.deployments.contains_key(&id) {
        return Err(client_error(
            "DeploymentDoesNotExistException",
            &format!("The deployment {id} could not be found"),
        ));
    }
    let hook = inner
        .hooks
        .iter_mut()
        .find(|h| h.execution_id == execution_id && h.deployment_id == id)
        .ok_or_else(|| {
            client_error(
                "InvalidLifecycleEventHookExecutionIdException",
                &format!("No hook execution {execution_id} in deployment {id}"),
            )
        })?;
    if hook.status.is_some() {
        return Err(client_error(
            "LifecycleEventAlreadyCompletedException",
            &format!("The hook execution {execution_id} already reported its status"),
        ));
    }
    hook.status = Some(status);
    Ok(Reply::json(
        &json!({"lifecycleEventHookExecutionId": execution_id}),
    ))
}

fn str_of(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_default().to_string()
}
