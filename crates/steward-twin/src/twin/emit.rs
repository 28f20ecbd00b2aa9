//! Events the twin emits on AWS's behalf (SageMaker, CloudWatch, CodeDeploy…),
//! put on moto's bus so rules see them, and remembered for inspection.

use std::sync::Mutex;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// One event as the twin emitted it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmittedEvent {
    pub time: DateTime<Utc>,
    pub bus: String,
    pub source: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub resources: Vec<String>,
    pub detail: Value,
}

pub struct EventSink {
    client: aws_sdk_eventbridge::Client,
    emitted: Mutex<Vec<EmittedEvent>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the twin could not emit {detail_type}: {message}")]
pub struct EmitError {
    pub detail_type: String,
    pub message: String,
}

impl EventSink {
    pub fn new(client: aws_sdk_eventbridge::Client) -> Self {
        Self {
            client,
            emitted: Mutex::new(Vec::new()),
        }
    }

    /// Put an AWS service event on the default bus.
    pub async fn emit(
        &self,
        source: &str,
        detail_type: &str,
        resources: Vec<String>,
        detail: Value,
    ) -> Result<(), EmitError> {
        self.emit_on("default", source, detail_type, resources, detail)
            .await
    }

    pub async fn emit_on(
        &self,
        bus: &str,
        source: &str,
        detail_type: &str,
        resources: Vec<String>,
        detail: Value,
    ) -> Result<(), EmitError> {
        let err = |message: String| EmitError {
            detail_type: detail_type.into(),
            message,
        };
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(bus)
            .source(source)
            .detail_type(detail_type)
            .detail(detail.to_string())
            .set_resources(Some(resources.clone()))
            .build();
        let out = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| err(steward::aws_error::describe(&e)))?;
        if out.failed_entry_count() > 0 {
            return Err(err(format!("{:?}", out.entries())));
        }
        self.emitted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(EmittedEvent {
                time: Utc::now(),
                bus: bus.into(),
                source: source.into(),
                detail_type: detail_type.into(),
                resources,
                detail,
            });
        Ok(())
    }

    /// Everything emitted since the last reset, oldest first.
    pub fn emitted(&self) -> Vec<EmittedEvent> {
        self.emitted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn clear(&self) {
        self.emitted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}
