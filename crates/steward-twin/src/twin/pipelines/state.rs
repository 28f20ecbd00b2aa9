//! What the twin remembers about pipelines: its configuration, idempotency
//! tokens, and each execution's real status (moto says Succeeded at once).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, Weak};

use chrono::{DateTime, Utc};
use steward::events::sagemaker::PipelineExecutionStatus;

use super::super::Ctx;

/// Set once by [`super::configure`] when the twin starts.
#[derive(Clone)]
pub(super) struct Config {
    /// argv of the local step, by pipeline name.
    pub steps: HashMap<String, Vec<String>>,
    /// The twin's own endpoint, which the step's SDK clients use.
    pub endpoint: String,
    /// Background runs need the context after the request that started them
    /// is answered; a weak reference so the twin can still be dropped.
    pub ctx: Weak<Ctx>,
}

/// One execution as the twin runs it.
#[derive(Debug, Clone)]
pub(super) struct Execution {
    pub pipeline_arn: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub status: PipelineExecutionStatus,
    pub failure_reason: Option<String>,
    pub start_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub(super) struct Pipelines {
    config: Mutex<Option<Config>>,
    /// (pipeline name, ClientRequestToken) → execution ARN. AWS scopes the
    /// token to the pipeline: the same token on another pipeline starts a run.
    tokens: Mutex<HashMap<(String, String), String>>,
    executions: Mutex<HashMap<String, Execution>>,
    /// Held from the token check until the new execution is recorded, so two
    /// concurrent retries with one token cannot both start a run.
    pub starting: tokio::sync::Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pipelines {
    pub fn set_config(&self, config: Config) {
        *lock(&self.config) = Some(config);
    }

    pub fn config(&self) -> Option<Config> {
        lock(&self.config).clone()
    }

    pub fn execution_for_token(&self, pipeline: &str, token: &str) -> Option<String> {
        lock(&self.tokens)
            .get(&(pipeline.to_string(), token.to_string()))
            .cloned()
    }

    pub fn remember_token(&self, pipeline: &str, token: &str, arn: &str) {
        lock(&self.tokens).insert((pipeline.to_string(), token.to_string()), arn.to_string());
    }

    pub fn insert(&self, arn: &str, execution: Execution) {
        lock(&self.executions).insert(arn.to_string(), execution);
    }

    pub fn get(&self, arn: &str) -> Option<Execution> {
        lock(&self.executions).get(arn).cloned()
    }

    /// Record the final status; returns the execution as it was before.
    pub fn finish(
        &self,
        arn: &str,
        status: PipelineExecutionStatus,
        failure_reason: Option<String>,
        end_time: DateTime<Utc>,
    ) -> Option<(Execution, Execution)> {
        let mut executions = lock(&self.executions);
        let execution = executions.get_mut(arn)?;
        let before = execution.clone();
        execution.status = status;
        execution.failure_reason = failure_reason;
        execution.end_time = Some(end_time);
        Some((before, execution.clone()))
    }
}
