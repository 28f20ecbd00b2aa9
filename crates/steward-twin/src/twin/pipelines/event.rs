//! `SageMaker Model Building Pipeline Execution Status Change` events.
//!
//! Shape: the "Pipeline execution state change" example in the SageMaker
//! guide ("Events that Amazon SageMaker AI sends to Amazon EventBridge"), as
//! recorded in `events/pipeline-execution-succeeded.json`: camelCase detail,
//! RFC 3339 times, resources = [pipeline ARN, execution ARN]. Built from the
//! domain type, so what the twin emits is what Steward decodes.

use steward::events::sagemaker::{PipelineExecutionStatus, PipelineExecutionStatusChange};
use steward::events::{AwsDetail, Timestamp};

use super::super::Ctx;
use super::state::Execution;

pub(super) async fn emit(
    ctx: &Ctx,
    execution_arn: &str,
    execution: &Execution,
    previous: Option<PipelineExecutionStatus>,
) {
    let detail = PipelineExecutionStatusChange {
        pipeline_arn: execution.pipeline_arn.clone(),
        pipeline_execution_arn: execution_arn.to_string(),
        pipeline_execution_display_name: execution.display_name.clone(),
        current_pipeline_execution_status: execution.status.clone(),
        previous_pipeline_execution_status: previous,
        execution_start_time: Some(Timestamp(execution.start_time)),
        execution_end_time: execution.end_time.map(Timestamp),
        pipeline_execution_description: execution.description.clone(),
    };
    let detail = match serde_json::to_value(&detail) {
        Ok(detail) => detail,
        Err(e) => {
            tracing::warn!(error = %e, execution_arn, "pipeline event does not serialise");
            return;
        }
    };
    let resources = vec![execution.pipeline_arn.clone(), execution_arn.to_string()];
    if let Err(e) = ctx
        .events
        .emit(
            PipelineExecutionStatusChange::SOURCE,
            PipelineExecutionStatusChange::DETAIL_TYPE,
            resources,
            detail,
        )
        .await
    {
        // On AWS the API call never fails because an event could not be sent.
        tracing::warn!(error = %e, execution_arn, "could not emit the pipeline event");
    }
}
