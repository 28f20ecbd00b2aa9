//! Watching a bus on the emulator: a queue and a rule that targets it (moto
//! delivers to SQS targets, not to Lambda or SNS ones). The stack's capture
//! queues and the router's per-bus queues are both made here.

use aws_config::SdkConfig;
use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs::types::QueueAttributeName;

/// A step of the setup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{step} failed: {message}")]
pub struct CaptureError {
    pub step: &'static str,
    pub message: String,
}

fn aws<E>(step: &'static str) -> impl FnOnce(E) -> CaptureError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error,
{
    move |e| CaptureError {
        step,
        message: steward::aws_error::describe(&e),
    }
}

/// What to create: the queue, and the rule on `bus` matching `pattern`.
pub struct QueueRule<'a> {
    pub queue: &'a str,
    pub rule: &'a str,
    pub bus: &'a str,
    pub pattern: &'a str,
    /// The queue's visibility timeout in seconds, if not SQS's default.
    pub visibility_seconds: Option<&'a str>,
}

/// Create (or reuse) the queue and the rule targeting it; the queue's URL.
pub async fn queue_rule(sdk: &SdkConfig, spec: QueueRule<'_>) -> Result<String, CaptureError> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut create = sqs.create_queue().queue_name(spec.queue);
    if let Some(seconds) = spec.visibility_seconds {
        create = create.attributes(QueueAttributeName::VisibilityTimeout, seconds);
    }
    let url = create
        .send()
        .await
        .map_err(aws("CreateQueue"))?
        .queue_url
        .unwrap_or_default();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(aws("GetQueueAttributes"))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .unwrap_or_default();
    let events = aws_sdk_eventbridge::Client::new(sdk);
    events
        .put_rule()
        .name(spec.rule)
        .event_bus_name(spec.bus)
        .event_pattern(spec.pattern)
        .send()
        .await
        .map_err(aws("PutRule"))?;
    let target = Target::builder()
        .id("queue")
        .arn(arn)
        .build()
        .map_err(|e| CaptureError {
            step: "Target",
            message: e.to_string(),
        })?;
    events
        .put_targets()
        .rule(spec.rule)
        .event_bus_name(spec.bus)
        .targets(target)
        .send()
        .await
        .map_err(aws("PutTargets"))?;
    Ok(url)
}
