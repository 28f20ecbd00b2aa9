//! Publishing Steward's own events to the `steward` bus.
//!
//! PutEvents can succeed as a call and still fail an entry (throttled, too large,
//! bus missing): such a failure is an error here, never a log line, so the caller
//! returns an error and Lambda retries.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;

use crate::events::steward::{StewardDetail, SOURCE};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("could not serialize the {detail_type} event: {reason}")]
    Serialize {
        detail_type: &'static str,
        reason: String,
    },
    #[error("PutEvents to bus {bus} failed: {message}")]
    Call { bus: String, message: String },
    #[error("EventBridge rejected the {detail_type} event on bus {bus}: {code}: {message}")]
    Rejected {
        bus: String,
        detail_type: &'static str,
        code: String,
        message: String,
    },
}

impl PublishError {
    pub fn error_type(&self) -> &'static str {
        match self {
            PublishError::Serialize { .. } => "event_unserializable",
            PublishError::Call { .. } => "event_bus_unavailable",
            PublishError::Rejected { .. } => "event_rejected",
        }
    }
}

/// Puts Steward events on its bus.
#[derive(Debug, Clone)]
pub struct Publisher {
    client: Client,
    bus: String,
}

impl Publisher {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }

    pub fn bus(&self) -> &str {
        &self.bus
    }

    /// Publish one event; returns its EventBridge event id.
    pub async fn publish<D: StewardDetail>(&self, detail: &D) -> Result<String, PublishError> {
        self.put(detail, None).await
    }

    /// As [`Publisher::publish`], the event's `time` set to `at` (when what it
    /// reports was found, e.g. the schedule tick of a check) rather than the
    /// moment of the call: a consumer deciding by event time (the retrain
    /// guard) then judges the finding by when it was made.
    pub async fn publish_at<D: StewardDetail>(
        &self,
        detail: &D,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, PublishError> {
        let at = aws_sdk_eventbridge::primitives::DateTime::from_millis(at.timestamp_millis());
        self.put(detail, Some(at)).await
    }

    async fn put<D: StewardDetail>(
        &self,
        detail: &D,
        at: Option<aws_sdk_eventbridge::primitives::DateTime>,
    ) -> Result<String, PublishError> {
        let body = serde_json::to_string(detail).map_err(|e| PublishError::Serialize {
            detail_type: D::DETAIL_TYPE,
            reason: e.to_string(),
        })?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(SOURCE)
            .detail_type(D::DETAIL_TYPE)
            .detail(body)
            .set_resources(Some(detail.resources()))
            .set_time(at)
            .build();
        let out = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| PublishError::Call {
                bus: self.bus.clone(),
                message: crate::aws_error::describe(&e),
            })?;
        let rejected = |code: &str, message: &str| PublishError::Rejected {
            bus: self.bus.clone(),
            detail_type: D::DETAIL_TYPE,
            code: code.to_string(),
            message: message.to_string(),
        };
        match out.entries().first() {
            Some(entry) if entry.error_code().is_some() || out.failed_entry_count() > 0 => {
                Err(rejected(
                    entry.error_code().unwrap_or("Unknown"),
                    entry.error_message().unwrap_or("no message"),
                ))
            }
            Some(entry) => entry
                .event_id()
                .map(str::to_string)
                .ok_or_else(|| rejected("NoEventId", "the entry came back without an event id")),
            None => Err(rejected("NoEntry", "the response listed no entry")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::steward::{BuildStarted, Header, Trigger};
    use crate::naming::IdempotencyKey;
    use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
    use aws_sdk_eventbridge::types::PutEventsResultEntry;
    use aws_smithy_mocks::{mock, mock_client};

    fn event() -> BuildStarted {
        BuildStarted {
            header: Header {
                model_package_group: "payroll-fraud".into(),
                model_package_arn: None,
                environment: None,
                correlation_id: "stw-1".into(),
                cause: IdempotencyKey::data_build("b", "p/", "v"),
                policy_version: None,
            },
            trigger: Trigger::Data,
            pipeline_name: "p".into(),
            pipeline_execution_arn: "arn:exec".into(),
            data: None,
            commit: None,
        }
    }

    #[tokio::test]
    async fn a_failed_entry_is_an_error_not_a_success() {
        let rule = mock!(Client::put_events).then_output(|| {
            PutEventsOutput::builder()
                .failed_entry_count(1)
                .entries(
                    PutEventsResultEntry::builder()
                        .error_code("ThrottlingException")
                        .error_message("Rate exceeded")
                        .build(),
                )
                .build()
        });
        let client = mock_client!(aws_sdk_eventbridge, [&rule]);
        let err = Publisher::new(client, "steward")
            .publish(&event())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "event_rejected");
        assert!(err.to_string().contains("ThrottlingException"), "{err}");
    }

    #[tokio::test]
    async fn publish_at_dates_the_event_and_publish_leaves_it_to_eventbridge() {
        let at: chrono::DateTime<chrono::Utc> = "2026-11-24T16:10:00Z".parse().unwrap();
        let dated = mock!(Client::put_events)
            .match_requests(move |req| {
                req.entries()[0].time().map(|t| t.secs()) == Some(at.timestamp())
            })
            .then_output(|| {
                PutEventsOutput::builder()
                    .failed_entry_count(0)
                    .entries(PutEventsResultEntry::builder().event_id("evt-2").build())
                    .build()
            });
        let undated = mock!(Client::put_events)
            .match_requests(|req| req.entries()[0].time().is_none())
            .then_output(|| {
                PutEventsOutput::builder()
                    .failed_entry_count(0)
                    .entries(PutEventsResultEntry::builder().event_id("evt-3").build())
                    .build()
            });
        let client = mock_client!(aws_sdk_eventbridge, [&dated, &undated]);
        let publisher = Publisher::new(client, "steward");
        assert_eq!(publisher.publish_at(&event(), at).await.unwrap(), "evt-2");
        assert_eq!(publisher.publish(&event()).await.unwrap(), "evt-3");
        assert_eq!((dated.num_calls(), undated.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn entry_carries_source_detail_type_bus_and_detail() {
        let rule = mock!(Client::put_events)
            .match_requests(|req| {
                let entry = &req.entries()[0];
                entry.source() == Some("steward")
                    && entry.detail_type() == Some("Build Started")
                    && entry.event_bus_name() == Some("steward")
                    && entry.resources() == ["arn:exec"]
                    && entry
                        .detail()
                        .is_some_and(|d| d.contains("\"correlationId\":\"stw-1\""))
            })
            .then_output(|| {
                PutEventsOutput::builder()
                    .failed_entry_count(0)
                    .entries(PutEventsResultEntry::builder().event_id("evt-1").build())
                    .build()
            });
        let client = mock_client!(aws_sdk_eventbridge, [&rule]);
        let id = Publisher::new(client, "steward")
            .publish(&event())
            .await
            .unwrap();
        assert_eq!(id, "evt-1");
        assert_eq!(rule.num_calls(), 1);
    }
}
