//! DescribePipelineExecution and ListPipelineExecutions with the twin's
//! statuses: moto marks every execution Succeeded the moment it starts.
//!
//! Shapes: SageMaker API reference, DescribePipelineExecution (`FailureReason`
//! only when failed) and ListPipelineExecutions (`PipelineExecutionSummary`,
//! newest first by default: `SortBy` CreationTime, `SortOrder` Descending).

use serde_json::{json, Value};

use super::super::{AwsRequest, Ctx, Reply};
use super::state::{Execution, Pipelines};

pub(super) async fn describe(ctx: &Ctx, req: &AwsRequest) -> Reply {
    let reply = ctx.forward(req).await;
    let Some(mut body) = success_json(&reply) else {
        return reply;
    };
    let arn = body["PipelineExecutionArn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(execution) = ctx.state::<Pipelines>().get(&arn) else {
        return reply;
    };
    body["PipelineExecutionStatus"] = json!(execution.status.as_str());
    set_reason(&mut body, "FailureReason", &execution);
    body["LastModifiedTime"] = json!(epoch_seconds(last_change(&execution)));
    Reply::json(&body)
}

pub(super) async fn list(ctx: &Ctx, req: &AwsRequest) -> Reply {
    let reply = ctx.forward(req).await;
    let Some(mut body) = success_json(&reply) else {
        return reply;
    };
    let state = ctx.state::<Pipelines>();
    if let Some(summaries) = body["PipelineExecutionSummaries"].as_array_mut() {
        for summary in summaries.iter_mut() {
            let arn = summary["PipelineExecutionArn"].as_str().unwrap_or_default();
            if let Some(execution) = state.get(arn) {
                summary["PipelineExecutionStatus"] = json!(execution.status.as_str());
                set_reason(summary, "PipelineExecutionFailureReason", &execution);
            } else if summary["PipelineExecutionFailureReason"] == "None" {
                // moto writes Python's None as a string.
                remove(summary, "PipelineExecutionFailureReason");
            }
        }
        let ascending = req
            .json()
            .ok()
            .is_some_and(|r| r["SortOrder"] == "Ascending");
        summaries.sort_by(|a, b| {
            let (a, b) = (start_time(a), start_time(b));
            let order = a.total_cmp(&b);
            if ascending {
                order
            } else {
                order.reverse()
            }
        });
    }
    Reply::json(&body)
}

fn success_json(reply: &Reply) -> Option<Value> {
    reply.is_success().then(|| reply.body_json()).flatten()
}

fn set_reason(body: &mut Value, field: &str, execution: &Execution) {
    match &execution.failure_reason {
        Some(reason) => body[field] = json!(reason),
        None => remove(body, field),
    }
}

fn remove(body: &mut Value, field: &str) {
    if let Some(fields) = body.as_object_mut() {
        fields.remove(field);
    }
}

fn start_time(summary: &Value) -> f64 {
    summary["StartTime"].as_f64().unwrap_or_default()
}

fn last_change(execution: &Execution) -> chrono::DateTime<chrono::Utc> {
    execution.end_time.unwrap_or(execution.start_time)
}

/// awsJson timestamps are epoch seconds.
fn epoch_seconds(time: chrono::DateTime<chrono::Utc>) -> f64 {
    time.timestamp_millis() as f64 / 1000.0
}
