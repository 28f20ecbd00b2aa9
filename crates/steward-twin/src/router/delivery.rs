//! The router: pollers per bus queue, each event matched against the
//! template's rules and delivered to every matched function, at least once,
//! with Lambda's asynchronous retries; what still fails is kept as a dead
//! letter with the function's error.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio::task::{JoinHandle, JoinSet};

use super::invoker::Invoker;
use super::queues::{self, Received};
use super::template::{ScheduleRule, TemplateRule};

/// Long-poll wait: long enough to be cheap, short enough to stop promptly.
const POLL_WAIT_SECONDS: i32 = 2;
/// Pause after a failed poll (e.g. the emulator restarting).
const POLL_ERROR_PAUSE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouterError {
    #[error("{step} failed: {message}")]
    Aws { step: &'static str, message: String },
}

/// An event a function handled.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub event_id: String,
    pub bus: String,
    pub rule: String,
    pub function: String,
    /// 1 when the first invocation succeeded.
    pub attempts: u32,
    pub response: Value,
}

/// An event a function still failed on after every retry.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub event: Value,
    pub bus: String,
    pub rule: String,
    pub function: String,
    pub attempts: u32,
    /// The function's error (or why it could not be reached).
    pub error: String,
}

#[derive(Default)]
struct Records {
    delivered: Mutex<Vec<Delivery>>,
    dead_letters: Mutex<Vec<DeadLetter>>,
}

pub struct Router;

impl Router {
    /// Subscribe to the `default` and `steward` buses and every bus a rule is
    /// on, and deliver what arrives until the handle is dropped.
    pub async fn start(
        sdk: &SdkConfig,
        rules: Vec<TemplateRule>,
        invoker: Invoker,
    ) -> Result<RouterHandle, RouterError> {
        let buses: BTreeSet<String> = ["default", "steward"]
            .into_iter()
            .map(str::to_string)
            .chain(rules.iter().map(|r| r.bus.clone()))
            .collect();
        let rules = Arc::new(rules);
        let records = Arc::new(Records::default());
        let scheduler = invoker.clone();
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let mut pollers = Vec::new();
        for bus in buses {
            let url = queues::subscribe(sdk, &bus).await?;
            let poller = Poller {
                sqs: sqs.clone(),
                url,
                bus,
                rules: rules.clone(),
                invoker: invoker.clone(),
                records: records.clone(),
            };
            pollers.push(tokio::spawn(poller.run()));
        }
        Ok(RouterHandle {
            records,
            pollers,
            invoker: scheduler,
            schedules: Vec::new(),
        })
    }
}

/// The running router; stops delivering when dropped.
pub struct RouterHandle {
    records: Arc<Records>,
    pollers: Vec<JoinHandle<()>>,
    invoker: Invoker,
    schedules: Vec<ScheduleRule>,
}

impl RouterHandle {
    /// Every successful delivery so far, in order of completion.
    pub fn delivered(&self) -> Vec<Delivery> {
        self.records
            .delivered
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    /// The template's scheduled rules, for [`RouterHandle::tick`].
    pub fn with_schedules(mut self, schedules: Vec<ScheduleRule>) -> Self {
        self.schedules = schedules;
        self
    }

    /// What EventBridge does when a schedule fires at `at`: every scheduled
    /// rule targeting `function` sends it a `Scheduled Event` (the rule's ARN in
    /// `resources`), with Lambda's asynchronous retries. Time does not pass by
    /// itself locally, so the caller says when the schedule fires. The
    /// deliveries (recorded like the others); none when no rule schedules it.
    pub async fn tick(&self, function: &str, at: DateTime<Utc>) -> Vec<Delivery> {
        let mut out = Vec::new();
        for rule in &self.schedules {
            for target in rule.targets.iter().filter(|t| t.binary == function) {
                let event = scheduled_event(&rule.name, at);
                let delivered = match self.invoker.invoke_with_retries(function, &event).await {
                    Ok((response, attempts)) => Delivery {
                        event_id: event["id"].as_str().unwrap_or_default().to_string(),
                        bus: SCHEDULE_BUS.into(),
                        rule: rule.name.clone(),
                        function: target.binary.clone(),
                        attempts,
                        response,
                    },
                    Err((error, attempts)) => {
                        if let Ok(mut dead) = self.records.dead_letters.lock() {
                            dead.push(DeadLetter {
                                event,
                                bus: SCHEDULE_BUS.into(),
                                rule: rule.name.clone(),
                                function: target.binary.clone(),
                                attempts,
                                error: error.to_string(),
                            });
                        }
                        continue;
                    }
                };
                if let Ok(mut all) = self.records.delivered.lock() {
                    all.push(delivered.clone());
                }
                out.push(delivered);
            }
        }
        out
    }

    /// Every event a function failed on after its retries.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.records
            .dead_letters
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }
}

/// moto's (and the twin's) account.
const LOCAL_ACCOUNT: &str = "123456789012";

/// What a scheduled delivery's `bus` says: it came from no bus.
pub const SCHEDULE_BUS: &str = "(schedule)";

/// EventBridge's `Scheduled Event` from rule `rule` at `at`.
fn scheduled_event(rule: &str, at: DateTime<Utc>) -> Value {
    serde_json::json!({
        "version": "0",
        "id": format!("schedule-{rule}-{}", at.timestamp()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": crate::REGION,
        "resources": [format!("arn:aws:events:{}:{}:rule/{rule}", crate::REGION, LOCAL_ACCOUNT)],
        "detail": {}
    })
}

impl Drop for RouterHandle {
    fn drop(&mut self) {
        for poller in &self.pollers {
            poller.abort();
        }
    }
}

struct Poller {
    sqs: aws_sdk_sqs::Client,
    url: String,
    bus: String,
    rules: Arc<Vec<TemplateRule>>,
    invoker: Invoker,
    records: Arc<Records>,
}

impl Poller {
    async fn run(self) {
        let this = Arc::new(self);
        // Owned here, so aborting the poller aborts deliveries in flight.
        let mut in_flight = JoinSet::new();
        loop {
            while in_flight.try_join_next().is_some() {}
            match queues::receive(&this.sqs, &this.url, POLL_WAIT_SECONDS).await {
                Ok(messages) => {
                    for message in messages {
                        in_flight.spawn(this.clone().handle(message));
                    }
                }
                Err(e) => {
                    tracing::warn!(bus = %this.bus, error = %e, "router poll failed");
                    tokio::time::sleep(POLL_ERROR_PAUSE).await;
                }
            }
        }
    }

    /// Deliver one event to every matched function, then acknowledge it:
    /// a crash before that leaves the message to come back (at least once).
    async fn handle(self: Arc<Self>, message: Received) {
        let event = Arc::new(message.event);
        let mut deliveries = JoinSet::new();
        for rule in super::route(&self.rules, &event, Some(&self.bus)) {
            for target in &rule.targets {
                let (this, event) = (self.clone(), event.clone());
                let (rule, function) = (rule.name.clone(), target.binary.clone());
                deliveries.spawn(async move { this.deliver(&event, rule, function).await });
            }
        }
        while deliveries.join_next().await.is_some() {}
        if let Err(e) = queues::acknowledge(&self.sqs, &self.url, &message.receipt).await {
            tracing::warn!(bus = %self.bus, error = %e, "could not acknowledge an event; it will be delivered again");
        }
    }

    async fn deliver(&self, event: &Value, rule: String, function: String) {
        let event_id = event["id"].as_str().unwrap_or_default().to_string();
        match self.invoker.invoke_with_retries(&function, event).await {
            Ok((response, attempts)) => {
                tracing::info!(event_id, rule, function, attempts, "event delivered");
                if let Ok(mut delivered) = self.records.delivered.lock() {
                    delivered.push(Delivery {
                        event_id,
                        bus: self.bus.clone(),
                        rule,
                        function,
                        attempts,
                        response,
                    });
                }
            }
            Err((error, attempts)) => {
                tracing::warn!(event_id, rule, function, attempts, %error, "event dead-lettered");
                if let Ok(mut dead) = self.records.dead_letters.lock() {
                    dead.push(DeadLetter {
                        event: event.clone(),
                        bus: self.bus.clone(),
                        rule,
                        function,
                        attempts,
                        error: error.to_string(),
                    });
                }
            }
        }
    }
}
