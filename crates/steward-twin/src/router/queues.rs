//! The router's side of the emulator: per bus, a queue and a catch-all rule
//! that targets it (SQS targets are what moto delivers to).

use aws_config::SdkConfig;
use serde_json::Value;

use super::delivery::RouterError;

/// Names of what the router creates, so it can be told from the stack's own.
const RULE: &str = "steward-local-router";
/// Matches every event: every event has a source, and every string starts with "".
const CATCH_ALL: &str = r#"{"source":[{"prefix":""}]}"#;
/// Longer than a function may run (15 min), so a message in flight is not
/// handed out twice; if the router dies, it comes back after that (at least once).
const VISIBILITY_SECONDS: &str = "900";

fn aws<E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error>(
    step: &'static str,
) -> impl FnOnce(E) -> RouterError {
    move |e| RouterError::Aws {
        step,
        message: steward::aws_error::describe(&e),
    }
}

/// Create (or reuse) the bus's queue and catch-all rule; the queue's URL.
pub async fn subscribe(sdk: &SdkConfig, bus: &str) -> Result<String, RouterError> {
    let events = aws_sdk_eventbridge::Client::new(sdk);
    if bus != "default" {
        match events.create_event_bus().name(bus).send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_already_exists_exception()) => {}
            Err(e) => return Err(aws("CreateEventBus")(e)),
        }
    }
    let queue = format!("{RULE}-{bus}");
    crate::capture::queue_rule(
        sdk,
        crate::capture::QueueRule {
            queue: &queue,
            rule: RULE,
            bus,
            pattern: CATCH_ALL,
            visibility_seconds: Some(VISIBILITY_SECONDS),
        },
    )
    .await
    .map_err(|e| RouterError::Aws {
        step: e.step,
        message: e.message,
    })
}

/// A message taken from a bus's queue: the event and how to acknowledge it.
pub struct Received {
    pub event: Value,
    pub receipt: String,
}

/// Long-poll the queue once (up to `wait_seconds`).
pub async fn receive(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    wait_seconds: i32,
) -> Result<Vec<Received>, RouterError> {
    let out = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait_seconds)
        .send()
        .await
        .map_err(aws("ReceiveMessage"))?;
    let mut received = Vec::new();
    for message in out.messages.unwrap_or_default() {
        let receipt = message.receipt_handle.unwrap_or_default();
        // EventBridge puts the event JSON as the message body of an SQS target.
        match message.body.as_deref().map(serde_json::from_str::<Value>) {
            Some(Ok(event)) => received.push(Received { event, receipt }),
            _ => {
                tracing::warn!(queue = url, "dropping a message that is not an event");
                acknowledge(sqs, url, &receipt).await?;
            }
        }
    }
    Ok(received)
}

/// Delete a handled message.
pub async fn acknowledge(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    receipt: &str,
) -> Result<(), RouterError> {
    sqs.delete_message()
        .queue_url(url)
        .receipt_handle(receipt)
        .send()
        .await
        .map_err(aws("DeleteMessage"))?;
    Ok(())
}
