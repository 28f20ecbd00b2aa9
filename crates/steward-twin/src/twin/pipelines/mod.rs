//! Twin module `pipelines`: pipeline executions that really run.
//!
//! moto records an execution as Succeeded the moment it starts and ignores
//! `ClientRequestToken`. The twin instead:
//! - returns the same execution for the same token on the same pipeline, and
//!   starts nothing new (SageMaker API reference, StartPipelineExecution:
//!   "an idempotent request … only one pipeline execution is started");
//! - runs the pipeline's local step (`TwinConfig::pipeline_steps`, argv) as a
//!   child process whose SDK clients use the twin, so what it registers emits
//!   the registry's events; exit 0 → Succeeded, else Failed with the last
//!   stderr line as `FailureReason`. Without a step, the execution succeeds
//!   after a short simulated delay;
//! - reports that status in DescribePipelineExecution and
//!   ListPipelineExecutions, and emits `SageMaker Model Building Pipeline
//!   Execution Status Change` for Executing and for the final status.

mod event;
mod state;
mod step;
mod views;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use steward::events::sagemaker::PipelineExecutionStatus;

use super::{AwsRequest, Ctx, Reply};
use state::{Config, Execution, Pipelines};
use step::StepEnv;

/// How long (simulated) a pipeline without a local step takes.
const SIMULATED_RUN: Duration = Duration::from_secs(30);

/// Called once by `Twin::start`: the steps to run and the twin's endpoint.
pub fn configure(ctx: &Arc<Ctx>, steps: HashMap<String, Vec<String>>, endpoint: String) {
    ctx.state::<Pipelines>().set_config(Config {
        steps,
        endpoint,
        ctx: Arc::downgrade(ctx),
    });
}

pub async fn route(ctx: &Ctx, req: &AwsRequest) -> Option<Reply> {
    if req.service() != Some("sagemaker") {
        return None;
    }
    match req.operation()?.as_str() {
        "StartPipelineExecution" => start(ctx, req).await,
        "DescribePipelineExecution" => Some(views::describe(ctx, req).await),
        "ListPipelineExecutions" => Some(views::list(ctx, req).await),
        _ => None,
    }
}

/// `None` (moto as is) only when the twin was not configured, which
/// `/_twin/reset` also causes: it forgets every module's state.
async fn start(ctx: &Ctx, req: &AwsRequest) -> Option<Reply> {
    let state = ctx.state::<Pipelines>();
    let config = state.config()?;
    let mut body = match req.json() {
        Ok(body) => body,
        Err(reply) => return Some(*reply),
    };
    let Some(pipeline) = body["PipelineName"].as_str().map(pipeline_name) else {
        return Some(ctx.forward(req).await);
    };
    // AWS accepts the pipeline's name or ARN; moto only the name.
    body["PipelineName"] = json!(pipeline);
    let token = body["ClientRequestToken"].as_str().map(str::to_string);

    let starting = state.starting.lock().await;
    if let Some(arn) = token
        .as_deref()
        .and_then(|t| state.execution_for_token(&pipeline, t))
    {
        return Some(Reply::json(&json!({ "PipelineExecutionArn": arn })));
    }
    let reply = ctx.forward(&req.with_json(&body)).await;
    let arn = reply
        .body_json()
        .and_then(|v| v["PipelineExecutionArn"].as_str().map(str::to_string));
    let (true, Some(arn)) = (reply.is_success(), arn) else {
        return Some(reply);
    };
    if let Some(token) = &token {
        state.remember_token(&pipeline, token, &arn);
    }
    let execution = Execution {
        pipeline_arn: pipeline_arn(&arn),
        display_name: body["PipelineExecutionDisplayName"]
            .as_str()
            .map(str::to_string),
        description: body["PipelineExecutionDescription"]
            .as_str()
            .map(str::to_string),
        status: PipelineExecutionStatus::Executing,
        failure_reason: None,
        start_time: Utc::now(),
        end_time: None,
    };
    state.insert(&arn, execution.clone());
    drop(starting);

    event::emit(ctx, &arn, &execution, None).await;
    let env = StepEnv {
        endpoint: config.endpoint.clone(),
        region: ctx.region.clone(),
        execution_arn: arn.clone(),
        pipeline_name: pipeline.clone(),
        parameters: with_defaults(ctx, &pipeline, parameters(&body)).await,
    };
    match config.ctx.upgrade() {
        Some(ctx) => {
            let step = config.steps.get(&pipeline).cloned();
            tokio::spawn(run(ctx, state, step, env));
        }
        None => tracing::warn!(arn, "the twin is stopping; the execution stays Executing"),
    }
    Some(reply)
}

/// Run the execution to its end and report it.
async fn run(ctx: Arc<Ctx>, state: Arc<Pipelines>, step: Option<Vec<String>>, env: StepEnv) {
    let outcome = match step {
        Some(argv) => step::run(&argv, &env).await,
        None => {
            ctx.clock.sleep(SIMULATED_RUN).await;
            Ok(())
        }
    };
    let (status, reason) = match outcome {
        Ok(()) => (PipelineExecutionStatus::Succeeded, None),
        Err(reason) => (PipelineExecutionStatus::Failed, Some(reason)),
    };
    let Some(before) = state.get(&env.execution_arn) else {
        return; // the twin was reset meanwhile
    };
    let mut after = before.clone();
    after.status = status.clone();
    after.failure_reason = reason.clone();
    after.end_time = Some(Utc::now());
    // The event goes out before the final status shows, so whoever sees the
    // run ended also finds its status change event (locally deterministic).
    event::emit(&ctx, &env.execution_arn, &after, Some(before.status)).await;
    state.finish(
        &env.execution_arn,
        status,
        reason,
        after.end_time.unwrap_or_else(Utc::now),
    );
}

/// `PipelineName` may be a name or `arn:…:pipeline/<name>`.
fn pipeline_name(name_or_arn: &str) -> String {
    match name_or_arn.split_once(":pipeline/") {
        Some((_, name)) if name_or_arn.starts_with("arn:") => name.to_string(),
        _ => name_or_arn.to_string(),
    }
}

/// `arn:…:pipeline/<name>/execution/<id>` → `arn:…:pipeline/<name>`.
fn pipeline_arn(execution_arn: &str) -> String {
    execution_arn
        .split_once("/execution/")
        .map_or(execution_arn, |(pipeline, _)| pipeline)
        .to_string()
}

/// As SageMaker does, each parameter of the pipeline definition the start did
/// not give takes its `DefaultValue`.
async fn with_defaults(
    ctx: &Ctx,
    pipeline: &str,
    mut given: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let reply = super::endpoints::sagemaker(
        ctx,
        "DescribePipeline",
        &json!({ "PipelineName": pipeline }),
    )
    .await;
    let definition: Value = reply
        .body_json()
        .and_then(|b| serde_json::from_str(b["PipelineDefinition"].as_str()?).ok())
        .unwrap_or_default();
    for p in definition["Parameters"].as_array().into_iter().flatten() {
        let Some(name) = p["Name"].as_str() else {
            continue;
        };
        let default = match &p["DefaultValue"] {
            Value::String(s) => s.clone(),
            Value::Null => continue,
            other => other.to_string(),
        };
        if !given.iter().any(|(n, _)| n == name) {
            given.push((name.to_string(), default));
        }
    }
    given
}

/// `PipelineParameters: [{"Name": …, "Value": …}]`.
fn parameters(body: &Value) -> Vec<(String, String)> {
    body["PipelineParameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["Name"].as_str()?.into(), p["Value"].as_str()?.into())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns() {
        assert_eq!(pipeline_name("p1"), "p1");
        assert_eq!(
            pipeline_name("arn:aws:sagemaker:us-east-1:123456789012:pipeline/p1"),
            "p1"
        );
        assert_eq!(
            pipeline_arn("arn:aws:sagemaker:us-east-1:123456789012:pipeline/p1/execution/abc"),
            "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p1"
        );
    }

    #[test]
    fn parameters_are_read_by_name() {
        let body = json!({"PipelineParameters": [{"Name": "InputDataUrl", "Value": "s3://b/k/"}]});
        assert_eq!(
            parameters(&body),
            vec![("InputDataUrl".to_string(), "s3://b/k/".to_string())]
        );
    }
}
