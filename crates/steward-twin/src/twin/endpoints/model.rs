//! What the twin remembers about each endpoint (moto answers UpdateEndpoint
//! with a 500 and says InService at once), and how it is reported: the
//! `DescribeEndpoint` output and the endpoint event details.
//!
//! Shapes: SageMaker API reference `DescribeEndpoint` (response elements),
//! `ProductionVariantSummary`, `PendingDeploymentSummary`,
//! `PendingProductionVariantSummary`, `ProductionVariantStatus`; the event
//! shapes of the SageMaker guide ("Endpoint state change", "Endpoint
//! deployment state change"), typed in `steward::events::sagemaker`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

#[derive(Default)]
pub struct Endpoints {
    map: Mutex<HashMap<String, Endpoint>>,
}

impl Endpoints {
    pub fn lock(&self) -> MutexGuard<'_, HashMap<String, Endpoint>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, name: &str) -> Option<Endpoint> {
        self.lock().get(name).cloned()
    }
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub name: String,
    pub arn: String,
    pub config_name: String,
    /// The live config's `ProductionVariants`, as DescribeEndpointConfig gives them.
    pub variants: Vec<Value>,
    /// API spelling: `Creating`, `InService`, `Updating`, …
    pub status: String,
    pub failure_reason: Option<String>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub last_deployment_config: Option<Value>,
    pub pending: Option<Pending>,
    /// Bumped by every create/update/delete: a rollout task whose generation
    /// is no longer current stops.
    pub generation: u64,
}

/// The rollout in progress.
#[derive(Debug, Clone)]
pub struct Pending {
    pub config_name: String,
    pub variants: Vec<Value>,
    pub started: DateTime<Utc>,
    /// Traffic share on the green fleet, in percent.
    pub green_percent: f64,
    /// `Creating`, `ActivatingTraffic` or `Baking`.
    pub phase: String,
    pub phase_message: String,
    pub phase_started: DateTime<Utc>,
}

/// API output (timestamps in epoch seconds) or an event detail (epoch
/// milliseconds, upper-case status, exactly the fields of the guide's example
/// of that event: `tests/tests/twin_event_shapes.rs` holds the twin to them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    Api,
    /// `SageMaker Endpoint State Change`: variants carry only their desired
    /// weight and count, and there is no pending deployment.
    StateEvent,
    /// `SageMaker Endpoint Deployment State Change`.
    DeploymentEvent,
}

impl Style {
    fn time(self, at: DateTime<Utc>) -> Value {
        match self {
            Style::Api => json!(at.timestamp_millis() as f64 / 1000.0),
            Style::StateEvent | Style::DeploymentEvent => json!(at.timestamp_millis()),
        }
    }

    fn is_event(self) -> bool {
        self != Style::Api
    }
}

/// `InService` → `IN_SERVICE`, as events write it.
pub fn event_status(status: &str) -> String {
    let mut out = String::new();
    for (i, c) in status.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn count(variant: &Value) -> u64 {
    variant["InitialInstanceCount"].as_u64().unwrap_or(1)
}

fn weight(variant: &Value) -> f64 {
    variant["InitialVariantWeight"].as_f64().unwrap_or(1.0)
}

/// Instances of the green fleet (for `INSTANCE_COUNT` capacity sizes).
pub fn instances(variants: &[Value]) -> u32 {
    variants.iter().map(count).sum::<u64>().max(1) as u32
}

/// The guide's "Endpoint state change" example lists only these two.
fn desired_variant(variant: &Value) -> Value {
    json!({
        "DesiredWeight": weight(variant),
        "DesiredInstanceCount": count(variant),
    })
}

fn serving_variant(variant: &Value) -> Value {
    json!({
        "VariantName": variant["VariantName"],
        "CurrentWeight": weight(variant),
        "DesiredWeight": weight(variant),
        "CurrentInstanceCount": count(variant),
        "DesiredInstanceCount": count(variant),
    })
}

fn pending_variant(variant: &Value, pending: &Pending, style: Style) -> Value {
    let desired = count(variant);
    let current = if pending.phase == "Creating" {
        0
    } else {
        ((desired as f64) * pending.green_percent / 100.0)
            .ceil()
            .max(1.0) as u64
    };
    let mut out = json!({
        "VariantName": variant["VariantName"],
        "CurrentWeight": weight(variant),
        "DesiredWeight": weight(variant),
        "CurrentInstanceCount": current.min(desired),
        "DesiredInstanceCount": desired,
        "VariantStatus": [{
            "Status": pending.phase,
            "StatusMessage": pending.phase_message,
            "StartTime": style.time(pending.phase_started),
        }],
    });
    // DescribeEndpoint's PendingProductionVariantSummary has it; the
    // deployment event's example does not.
    if let (Some(t), Style::Api) = (variant["InstanceType"].as_str(), style) {
        out["InstanceType"] = json!(t);
    }
    out
}

impl Endpoint {
    /// DescribeEndpoint's output, or an endpoint event's detail.
    pub fn render(&self, style: Style) -> Value {
        let mut out = Map::new();
        out.insert("EndpointName".into(), json!(self.name));
        out.insert("EndpointArn".into(), json!(self.arn));
        out.insert("EndpointConfigName".into(), json!(self.config_name));
        let variant = match style {
            Style::StateEvent => desired_variant,
            Style::Api | Style::DeploymentEvent => serving_variant,
        };
        out.insert(
            "ProductionVariants".into(),
            Value::Array(self.variants.iter().map(variant).collect()),
        );
        let status = if style.is_event() {
            event_status(&self.status)
        } else {
            self.status.clone()
        };
        out.insert("EndpointStatus".into(), json!(status));
        // DescribeEndpoint's FailureReason; neither event example has one.
        if let (Some(reason), Style::Api) = (&self.failure_reason, style) {
            out.insert("FailureReason".into(), json!(reason));
        }
        out.insert("CreationTime".into(), style.time(self.created));
        out.insert("LastModifiedTime".into(), style.time(self.modified));
        if style == Style::Api {
            if let Some(config) = &self.last_deployment_config {
                out.insert("LastDeploymentConfig".into(), config.clone());
            }
        } else {
            out.insert("Tags".into(), json!({}));
        }
        if let (Some(pending), false) = (&self.pending, style == Style::StateEvent) {
            out.insert(
                "PendingDeploymentSummary".into(),
                json!({
                    "EndpointConfigName": pending.config_name,
                    "StartTime": style.time(pending.started),
                    "ProductionVariants": pending
                        .variants
                        .iter()
                        .map(|v| pending_variant(v, pending, style))
                        .collect::<Vec<_>>(),
                }),
            );
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward::events::sagemaker::{
        EndpointDeploymentStateChange, EndpointStateChange, EndpointStatus,
    };

    fn endpoint() -> Endpoint {
        let at = DateTime::from_timestamp_millis(1_790_929_812_400).unwrap();
        let variant = json!({"VariantName": "AllTraffic", "InitialInstanceCount": 2,
                             "InitialVariantWeight": 1.0, "InstanceType": "ml.m5.large"});
        Endpoint {
            name: "e".into(),
            arn: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e".into(),
            config_name: "c1".into(),
            variants: vec![variant.clone()],
            status: "Updating".into(),
            failure_reason: None,
            created: at,
            modified: at,
            last_deployment_config: None,
            pending: Some(Pending {
                config_name: "c2".into(),
                variants: vec![variant],
                started: at,
                green_percent: 50.0,
                phase: "Baking".into(),
                phase_message: "Baking".into(),
                phase_started: at,
            }),
            generation: 1,
        }
    }

    #[test]
    fn events_have_aws_shape() {
        let e = endpoint();
        let detail: EndpointDeploymentStateChange =
            serde_json::from_value(e.render(Style::DeploymentEvent)).expect("shape");
        assert_eq!(detail.endpoint_status, EndpointStatus::Updating);
        assert_eq!(detail.pending_endpoint_config(), Some("c2"));
        let pending = detail.pending_deployment_summary.expect("pending");
        assert_eq!(
            pending.production_variants[0].current_instance_count,
            Some(1)
        );
        let state: EndpointStateChange =
            serde_json::from_value(e.render(Style::StateEvent)).expect("shape");
        assert_eq!(state.endpoint_config_name.as_deref(), Some("c1"));
        assert_eq!(event_status("InService"), "IN_SERVICE");
    }
}
