//! What the twin knows of CodeDeploy beyond moto: deployment progress, hook
//! executions, deployment-group settings moto drops (alarmConfiguration), and
//! custom deployment configurations (moto has no CreateDeploymentConfig).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

#[derive(Default)]
pub struct Store {
    inner: Mutex<Inner>,
}

#[derive(Default)]
pub struct Inner {
    pub deployments: HashMap<String, Deployment>,
    /// CreateDeploymentGroup requests by (application, group).
    pub groups: HashMap<(String, String), Value>,
    /// Custom deployment configurations by name: the CreateDeploymentConfig request.
    pub configs: HashMap<String, Value>,
    /// Every hook execution, oldest first.
    pub hooks: Vec<HookExecution>,
}

impl Store {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One lifecycle hook call: the function, and what it reported.
#[derive(Debug, Clone, PartialEq)]
pub struct HookExecution {
    pub deployment_id: String,
    /// `BeforeAllowTraffic` or `AfterAllowTraffic`.
    pub event: String,
    pub function: String,
    pub execution_id: String,
    /// `Succeeded` / `Failed` once reported (PutLifecycleEventHookExecutionStatus).
    pub status: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Deployment {
    pub config_name: String,
    pub status: &'static str,
    pub start_time: Option<DateTime<Utc>>,
    pub complete_time: Option<DateTime<Utc>>,
    /// `(code, message)` of AWS's ErrorInformation.
    pub error: Option<(String, String)>,
    pub rollback_message: Option<String>,
    /// A StopDeployment request: `Some(autoRollbackEnabled)`.
    pub stop: Option<bool>,
}

impl Deployment {
    pub fn new(config_name: &str) -> Self {
        Self {
            config_name: config_name.into(),
            status: "Created",
            start_time: None,
            complete_time: None,
            error: None,
            rollback_message: None,
            stop: None,
        }
    }

    pub fn is_complete(&self) -> bool {
        matches!(self.status, "Succeeded" | "Failed" | "Stopped")
    }

    /// Lay the twin's view over moto's `deploymentInfo` (GetDeployment shape:
    /// <https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_DeploymentInfo.html>).
    pub fn overlay(&self, info: &mut Value) {
        let Some(info) = info.as_object_mut() else {
            return;
        };
        let epoch = |t: &DateTime<Utc>| json!(t.timestamp_millis() as f64 / 1000.0);
        info.insert("status".into(), json!(self.status));
        info.insert("deploymentConfigName".into(), json!(self.config_name));
        info.insert("computePlatform".into(), json!("Lambda"));
        // A Lambda deployment has one target: the function's alias.
        let one = |s: &str| if self.status == s { 1 } else { 0 };
        info.insert(
            "deploymentOverview".into(),
            json!({
                "Pending": one("Created"),
                "InProgress": one("InProgress"),
                "Succeeded": one("Succeeded"),
                "Failed": one("Failed"),
                "Skipped": one("Stopped"),
                "Ready": 0,
            }),
        );
        match &self.start_time {
            Some(t) => info.insert("startTime".into(), epoch(t)),
            None => info.remove("startTime"),
        };
        match &self.complete_time {
            Some(t) => info.insert("completeTime".into(), epoch(t)),
            None => info.remove("completeTime"),
        };
        match &self.error {
            Some((code, message)) => {
                info.insert(
                    "errorInformation".into(),
                    json!({"code": code, "message": message}),
                );
            }
            None => {
                info.remove("errorInformation");
            }
        }
        match &self.rollback_message {
            Some(message) => {
                info.insert("rollbackInfo".into(), json!({"rollbackMessage": message}));
            }
            None => {
                info.remove("rollbackInfo");
            }
        }
    }
}
