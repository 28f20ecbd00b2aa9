//! What every twin module shares: moto, the event sink, the clock, faults, and
//! a type map in which each module keeps its own state.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use chrono::{DateTime, Utc};

use super::emit::EventSink;
use super::faults::Faults;
use super::forward::Forwarder;
use super::{AwsRequest, Reply};

/// Simulated time: rollouts that take minutes on AWS take seconds locally.
#[derive(Debug, Clone)]
pub struct Clock {
    /// Simulated seconds per real second (e.g. 60: one minute per second).
    pub scale: f64,
    started: Instant,
    started_at: DateTime<Utc>,
    /// Simulated milliseconds skipped by [`Clock::advance`].
    skipped_ms: Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    pub fn new(scale: f64) -> Self {
        Self {
            scale: if scale > 0.0 { scale } else { 1.0 },
            started: Instant::now(),
            started_at: Utc::now(),
            skipped_ms: Arc::default(),
        }
    }

    /// The real duration of a simulated one.
    pub fn real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.scale)
    }

    /// Sleep for a simulated duration.
    pub async fn sleep(&self, simulated: Duration) {
        tokio::time::sleep(self.real(simulated)).await;
    }

    /// Simulated wall-clock time now.
    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = self.started.elapsed().mul_f64(self.scale);
        let skipped = self.skipped_ms.load(std::sync::atomic::Ordering::Relaxed);
        self.started_at
            + chrono::Duration::from_std(elapsed).unwrap_or_default()
            + chrono::Duration::milliseconds(skipped)
    }

    /// Skip simulated time forward (a story's "two hours later"): what the twin
    /// stamps from now on (capture, events, endpoint times) is that much later.
    pub fn advance(&self, by: chrono::Duration) {
        self.skipped_ms.fetch_add(
            by.num_milliseconds().max(0),
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

/// Shared by every request and background task of one twin.
pub struct Ctx {
    pub(super) forwarder: Forwarder,
    /// An SDK config pointing at moto directly, for calls the twin makes itself.
    pub moto: SdkConfig,
    pub events: EventSink,
    pub clock: Clock,
    pub faults: Faults,
    pub account: String,
    pub region: String,
    states: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    /// How the twin was started, and its own endpoint: kept across resets.
    pub(super) config: std::sync::OnceLock<(super::TwinConfig, String)>,
}

impl Ctx {
    pub(super) fn new(
        forwarder: Forwarder,
        moto: SdkConfig,
        events: EventSink,
        clock: Clock,
    ) -> Self {
        Self {
            forwarder,
            moto,
            events,
            clock,
            faults: Faults::default(),
            account: "123456789012".into(),
            region: crate::REGION.into(),
            states: Mutex::new(HashMap::new()),
            config: std::sync::OnceLock::new(),
        }
    }

    /// Send the request to moto as it is.
    pub async fn forward(&self, req: &AwsRequest) -> Reply {
        self.forwarder.forward(req).await
    }

    /// A module's state, created on first use. `reset` drops them all.
    pub fn state<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let entry = states
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()) as Arc<dyn Any + Send + Sync>);
        match entry.clone().downcast::<T>() {
            Ok(state) => state,
            // Unreachable: entries are keyed by their own TypeId.
            Err(_) => Arc::new(T::default()),
        }
    }

    /// Forget every module's state (moto is reset separately).
    pub fn reset_states(&self) {
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// `arn:aws:<service>:<region>:<account>:<resource>`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.region, self.account
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_the_clock_moves_now_and_every_clone() {
        let clock = Clock::new(1.0);
        let copy = clock.clone();
        let before = clock.now();
        clock.advance(chrono::Duration::hours(2));
        let after = copy.now();
        assert!(after - before >= chrono::Duration::hours(2));
        assert!(after - before < chrono::Duration::hours(2) + chrono::Duration::seconds(5));
        // Time never runs backwards.
        clock.advance(chrono::Duration::hours(-1));
        assert!(clock.now() >= after);
    }
}
