//! The demo's narrator: it prints each delivery the router makes as it
//! happens (audit's records are counted, not printed) and waits, with a
//! bound, for the one the story needs next.

use std::cell::Cell;
use std::time::{Duration, Instant};

use serde_json::Value;
use steward_twin::router::{Delivery, RouterHandle};

use super::demo_functions::delivery_line;

/// How long one step of the story may take before the demo gives up.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Story<'r> {
    router: &'r RouterHandle,
    printed: Cell<usize>,
}

impl<'r> Story<'r> {
    pub fn new(router: &'r RouterHandle) -> Self {
        Self {
            router,
            printed: Cell::new(0),
        }
    }

    /// Print the deliveries not printed yet.
    pub fn show(&self) {
        let delivered = self.router.delivered();
        for delivery in delivered.iter().skip(self.printed.get()) {
            if delivery.function != "audit" {
                println!("  {}", delivery_line(delivery));
            }
        }
        self.printed.set(delivered.len());
    }

    /// Wait for a delivery that `matches` (one made earlier counts too),
    /// printing the others as they come.
    pub async fn until(
        &self,
        what: &str,
        matches: impl Fn(&Delivery) -> bool,
    ) -> Result<Delivery, String> {
        self.until_after(0, what, matches).await
    }

    /// How many deliveries the router made so far.
    pub fn count(&self) -> usize {
        self.router.delivered().len()
    }

    /// As [`Story::until`], among the deliveries after the first `from`.
    pub async fn until_after(
        &self,
        from: usize,
        what: &str,
        matches: impl Fn(&Delivery) -> bool,
    ) -> Result<Delivery, String> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            self.show();
            if let Some(found) = self
                .router
                .delivered()
                .into_iter()
                .skip(from)
                .find(&matches)
            {
                return Ok(found);
            }
            if Instant::now() > deadline {
                let dead: Vec<String> = self
                    .router
                    .dead_letters()
                    .iter()
                    .map(|d| format!("{d:?}"))
                    .collect();
                return Err(format!(
                    "waited {}s for {what}; dead letters: [{}]",
                    STEP_TIMEOUT.as_secs(),
                    dead.join("; ")
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until audit recorded a Steward event of `detail_type`.
    pub async fn recorded(&self, detail_type: &str) -> Result<Delivery, String> {
        self.until(&format!("the ledger's record of `{detail_type}`"), |d| {
            d.function == "audit" && d.response["detailType"] == detail_type
        })
        .await
    }

    /// How many events audit recorded so far.
    pub fn audited(&self) -> usize {
        self.router
            .delivered()
            .iter()
            .filter(|d| d.function == "audit")
            .count()
    }
}

/// The delivery is `function`'s and its answer's `outcome` is `outcome`.
pub fn answered(d: &Delivery, function: &str, outcome: &str) -> bool {
    d.function == function && d.response["outcome"] == outcome
}

/// A field of a delivery's answer, as text.
pub fn field<'a>(d: &'a Delivery, name: &str) -> &'a str {
    d.response.get(name).and_then(Value::as_str).unwrap_or("")
}
