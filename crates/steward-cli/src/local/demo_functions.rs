//! Every function the template routes events to, run in the demo's process:
//! the router delivers each matched event to one of these by its template
//! `Binary` name, as `cargo lambda watch` would to the built function. Each is
//! configured from the same environment `steward local up` writes for the
//! functions it runs.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::Arc;
use steward::config::FromEnv;

use serde::Serialize;
use serde_json::Value;
use steward_twin::router::{Delivery, InProcessFn, InvokeError};
use steward_twin::LocalRun;
use tokio::sync::OnceCell;

/// The functions' contexts, made once the stack they talk to is up.
#[derive(Default)]
pub struct Functions {
    pub start_build: OnceCell<start_build::Context>,
    pub request_approval: OnceCell<request_approval::Context>,
    pub deploy: OnceCell<deploy::Context>,
    pub rollback: OnceCell<rollback::Context>,
    pub audit: OnceCell<audit::Context>,
    pub monitor_drift: OnceCell<monitor_drift::Context>,
}

impl Functions {
    /// Connect each function as its main.rs does, from `steward local up`'s
    /// environment (`approval_url`: where approval-link is served).
    pub async fn connect(&self, run: &LocalRun, approval_url: &str) -> Result<(), String> {
        let env: HashMap<String, String> = super::up::local_env(run, approval_url)
            .into_iter()
            .collect();
        let lookup = |name: &str| env.get(name).cloned();
        let failed = |function: &str, e: &dyn Display| format!("{function} could not start: {e}");
        let sdk = &run.sdk;

        let config =
            start_build::Config::from_lookup(lookup).map_err(|e| failed("start-build", &e))?;
        let ctx = start_build::Context::connect(sdk, &config)
            .await
            .map_err(|e| failed("start-build", &e))?;
        let _ = self.start_build.set(ctx);

        let config = request_approval::Config::from_lookup(lookup)
            .map_err(|e| failed("request-approval", &e))?;
        let ctx = request_approval::Context::connect(sdk, &config)
            .await
            .map_err(|e| failed("request-approval", &e))?;
        let _ = self.request_approval.set(ctx);

        let config = deploy::Config::from_lookup(lookup).map_err(|e| failed("deploy", &e))?;
        let ctx = deploy::Context::connect(sdk, &config)
            .await
            .map_err(|e| failed("deploy", &e))?;
        let _ = self.deploy.set(ctx);

        let config = rollback::Config::from_lookup(lookup).map_err(|e| failed("rollback", &e))?;
        let ctx = rollback::Context::connect(sdk, &config)
            .await
            .map_err(|e| failed("rollback", &e))?;
        let _ = self.rollback.set(ctx);

        let config = audit::Config::from_lookup(lookup).map_err(|e| failed("audit", &e))?;
        let _ = self.audit.set(audit::Context::connect(sdk, &config));

        let config =
            monitor_drift::Config::from_lookup(lookup).map_err(|e| failed("monitor-drift", &e))?;
        let ctx = monitor_drift::Context::connect(sdk, steward_twin::s3_client(sdk), &config)
            .await
            .map_err(|e| failed("monitor-drift", &e))?;
        let _ = self.monitor_drift.set(ctx);
        Ok(())
    }

    pub fn start_build(&self) -> Result<&start_build::Context, String> {
        self.start_build
            .get()
            .ok_or_else(|| "start-build is not set up".to_string())
    }

    pub fn deploy(&self) -> Result<&deploy::Context, String> {
        self.deploy
            .get()
            .ok_or_else(|| "deploy is not set up".to_string())
    }

    /// The router's way in: run `function` on `event`.
    pub fn invoker(self: Arc<Self>) -> InProcessFn {
        Arc::new(move |function: String, event: Value| {
            let functions = self.clone();
            Box::pin(async move { functions.invoke(&function, event).await })
        })
    }

    async fn invoke(&self, function: &str, event: Value) -> Result<Value, InvokeError> {
        match function {
            "start-build" => {
                let ctx = ready(&self.start_build, function)?;
                answer(start_build::handler::run(ctx, event).await, |e| {
                    e.error_type()
                })
            }
            "request-approval" => {
                let ctx = ready(&self.request_approval, function)?;
                answer(request_approval::handler::run(ctx, event).await, |e| {
                    e.error_type()
                })
            }
            "deploy" => {
                let ctx = ready(&self.deploy, function)?;
                answer(deploy::handler::run(ctx, event).await, |e| e.error_type())
            }
            "rollback" => {
                let ctx = ready(&self.rollback, function)?;
                answer(rollback::handler::run(ctx, event).await, |e| e.error_type())
            }
            "audit" => {
                let ctx = ready(&self.audit, function)?;
                answer(audit::handler::run(ctx, event).await, |e| e.error_type())
            }
            "monitor-drift" => {
                let ctx = ready(&self.monitor_drift, function)?;
                answer(monitor_drift::handler::run(ctx, event).await, |e| {
                    e.error_type()
                })
            }
            other => Err(InvokeError::Transport {
                url: format!("in-process://{other}"),
                message: "the demo does not run this function".into(),
            }),
        }
    }
}

fn ready<'a, T>(cell: &'a OnceCell<T>, function: &str) -> Result<&'a T, InvokeError> {
    cell.get().ok_or_else(|| InvokeError::Function {
        error_type: "not_ready".into(),
        message: format!("{function} is still starting"),
    })
}

fn answer<T: Serialize, E: Display>(
    result: Result<T, E>,
    error_type: impl Fn(&E) -> &str,
) -> Result<Value, InvokeError> {
    match result {
        Ok(outcome) => serde_json::to_value(outcome).map_err(|e| InvokeError::Function {
            error_type: "unserializable".into(),
            message: e.to_string(),
        }),
        Err(e) => Err(InvokeError::Function {
            error_type: error_type(&e).to_string(),
            message: e.to_string(),
        }),
    }
}

/// One line for a delivery: which rule, which function, what it did.
pub fn delivery_line(delivery: &Delivery) -> String {
    let retried = if delivery.attempts > 1 {
        format!(" (after {} attempts)", delivery.attempts)
    } else {
        String::new()
    };
    format!(
        "{} → {}{retried}: {}",
        delivery.rule,
        delivery.function,
        summary(&delivery.response)
    )
}

/// A function's answer in a few words: its `outcome` and the short fields.
pub fn summary(response: &Value) -> String {
    if let Some(outcomes) = response["outcomes"].as_array() {
        return outcomes.iter().map(summary).collect::<Vec<_>>().join("; ");
    }
    // monitor-drift: one check per monitored endpoint.
    if let Some(checks) = response["checks"].as_array() {
        return checks
            .iter()
            .map(|c| {
                format!(
                    "{} for {} over {} ({} rows in {} objects{}): {}",
                    c["status"].as_str().unwrap_or("?"),
                    c["endpoint"].as_str().unwrap_or("?"),
                    c["window"].as_str().unwrap_or("?"),
                    c["rows"],
                    c["objects"],
                    if c["repeated"] == true {
                        ", repeated"
                    } else {
                        ""
                    },
                    c["reason"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    let Some(fields) = response.as_object() else {
        return response.to_string();
    };
    let tag = fields
        .get("outcome")
        .or_else(|| fields.get("kind"))
        .and_then(Value::as_str)
        .unwrap_or("done");
    // Sorted by name: serde_json keeps insertion order when another crate in the
    // build turns on `preserve_order`, and the demo's lines should not depend on that.
    let mut sorted: Vec<(&String, &Value)> = fields.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let details: Vec<String> = sorted
        .into_iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "outcome" | "kind" | "group" | "eventId" | "cause" | "correlationId" | "key"
            )
        })
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some(format!("{k} {}", short(s))),
            Value::Number(n) => Some(format!("{k} {n}")),
            Value::Array(a) if a.iter().all(Value::is_string) && !a.is_empty() => Some(format!(
                "{k} {}",
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Value::Object(o) if o.contains_key("outcome") => Some(format!("{k}: {}", summary(v))),
            _ => None,
        })
        .collect();
    let text = format!("{tag} ({})", details.join(", "));
    if text.chars().count() > 220 {
        format!("{}…", text.chars().take(220).collect::<String>())
    } else {
        text
    }
}

/// ARNs by their last part: the model package `payroll-fraud/1`, the run id.
fn short(text: &str) -> &str {
    if text.starts_with("arn:") {
        let mut parts = text.rsplitn(3, '/');
        let last = parts.next().unwrap_or(text);
        if text.contains(":model-package/") {
            let start = text.find(":model-package/").map(|i| i + 15).unwrap_or(0);
            return &text[start..];
        }
        return last;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_summary_names_the_outcome_and_its_short_fields() {
        let started = json!({"outcome": "started", "group": "g", "environment": "staging",
            "version": 1, "modelPackageArn": "arn:aws:sagemaker:us-east-1:1:model-package/g/1"});
        assert_eq!(
            summary(&started),
            "started (environment staging, modelPackageArn g/1, version 1)"
        );
        let several =
            json!({"outcome": "several", "outcomes": [{"outcome": "ignored", "reason": "x"}]});
        assert_eq!(summary(&several), "ignored (reason x)");
    }
}
