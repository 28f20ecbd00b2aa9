//! Per-environment deployment state in the ledger: `ENV#<group>#<env>`.
//!
//! - `STATE`: the current state ([`EnvironmentState`] as JSON), replaced only by
//!   a conditional write on its `revision`, so two deliveries racing on one
//!   environment cannot both win.
//! - `<time>#<kind>#<id>`: append-only records of every step (deployment
//!   started, succeeded, failed, baked, rolled back), the environment's history.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Mutex;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::item::{read_item, s, store};
use super::LedgerError;
use crate::deploy::EnvironmentState;

const STATE_SK: &str = "STATE";

/// The partition of an environment.
pub fn environment_pk(group: &str, environment: &str) -> String {
    format!("ENV#{group}#{environment}")
}

/// One step in an environment's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentRecord {
    pub group: String,
    pub environment: String,
    /// When it happened (the causing event's time where there is one).
    pub at: DateTime<Utc>,
    /// e.g. `deployment_started`, `deployment_succeeded`, `rollback_completed`.
    pub kind: String,
    /// Unique within the kind: the cause's digest.
    pub id: String,
    pub detail: Value,
}

impl EnvironmentRecord {
    pub fn sort_key(&self) -> String {
        format!(
            "{}#{}#{}",
            self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            self.kind,
            self.id
        )
    }
}

/// How a conditional state write went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Written,
    /// Someone else wrote first: reload and decide again.
    Conflict,
}

/// What deploy and rollback need from the ledger.
pub trait EnvironmentLedger: Send + Sync {
    fn load_state(
        &self,
        group: &str,
        environment: &str,
    ) -> impl Future<Output = Result<Option<EnvironmentState>, LedgerError>> + Send;

    /// Write `state` if the stored revision is `state.revision - 1` (or absent
    /// for revision 1). Callers bump the revision before saving.
    fn save_state(
        &self,
        state: &EnvironmentState,
    ) -> impl Future<Output = Result<Saved, LedgerError>> + Send;

    /// Append a record; the same record again is a no-op.
    fn append_step(
        &self,
        record: &EnvironmentRecord,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// The environment's records, oldest first.
    fn steps(
        &self,
        group: &str,
        environment: &str,
    ) -> impl Future<Output = Result<Vec<EnvironmentRecord>, LedgerError>> + Send;
}

/// How often [`update_state`] reloads after losing a race.
const UPDATE_ATTEMPTS: usize = 5;

/// Load an environment's state (a fresh one if none), let `change` decide, and
/// save it with the next revision; on a conflict, reload and decide again.
/// `change` returns `None` to leave the state as it is (nothing is written).
/// Returns what `change` returned and the state as saved.
pub async fn update_state<L, T, F>(
    ledger: &L,
    group: &str,
    environment: &str,
    mut change: F,
) -> Result<Option<(T, EnvironmentState)>, LedgerError>
where
    L: EnvironmentLedger,
    F: FnMut(&mut EnvironmentState) -> Option<T>,
{
    for _ in 0..UPDATE_ATTEMPTS {
        let mut state = ledger
            .load_state(group, environment)
            .await?
            .unwrap_or_else(|| EnvironmentState::new(group, environment));
        let Some(result) = change(&mut state) else {
            return Ok(None);
        };
        state.revision += 1;
        if ledger.save_state(&state).await? == Saved::Written {
            return Ok(Some((result, state)));
        }
    }
    Err(LedgerError::Store {
        operation: "PutItem",
        message: format!(
            "the state of {} kept changing under us; retry later",
            environment_pk(group, environment)
        ),
    })
}

/// The DynamoDB adapter (same table as [`super::DynamoLedger`]).
#[derive(Debug, Clone)]
pub struct DynamoEnvironments {
    client: Client,
    table: String,
}

impl DynamoEnvironments {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

impl EnvironmentLedger for DynamoEnvironments {
    async fn load_state(
        &self,
        group: &str,
        environment: &str,
    ) -> Result<Option<EnvironmentState>, LedgerError> {
        let pk = environment_pk(group, environment);
        let Some(item) = read_item(&self.client, &self.table, &pk, STATE_SK).await? else {
            return Ok(None);
        };
        let corrupt = |reason: String| LedgerError::Corrupt {
            pk: pk.clone(),
            sk: STATE_SK.into(),
            reason,
        };
        let raw = text(&item, "state").ok_or_else(|| corrupt("no `state`".into()))?;
        serde_json::from_str(raw)
            .map(Some)
            .map_err(|e| corrupt(format!("`state` is not an environment state: {e}")))
    }

    async fn save_state(&self, state: &EnvironmentState) -> Result<Saved, LedgerError> {
        let pk = environment_pk(&state.group, &state.environment);
        let json = serde_json::to_string(state).map_err(|e| LedgerError::Corrupt {
            pk: pk.clone(),
            sk: STATE_SK.into(),
            reason: e.to_string(),
        })?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(&pk))
            .item("SK", s(STATE_SK))
            .item("revision", AttributeValue::N(state.revision.to_string()))
            .item("state", s(json));
        let put = if state.revision <= 1 {
            put.condition_expression("attribute_not_exists(PK)")
        } else {
            put.condition_expression("revision = :previous")
                .expression_attribute_values(
                    ":previous",
                    AttributeValue::N((state.revision - 1).to_string()),
                )
        };
        match put.send().await {
            Ok(_) => Ok(Saved::Written),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(Saved::Conflict)
            }
            Err(e) => Err(store("PutItem", e)),
        }
    }

    async fn append_step(&self, record: &EnvironmentRecord) -> Result<(), LedgerError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(environment_pk(&record.group, &record.environment)))
            .item("SK", s(record.sort_key()))
            .item("at", s(record.at.to_rfc3339()))
            .item("kind", s(&record.kind))
            .item("id", s(&record.id))
            .item("detail", s(record.detail.to_string()))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(store("PutItem", e)),
        }
    }

    async fn steps(
        &self,
        group: &str,
        environment: &str,
    ) -> Result<Vec<EnvironmentRecord>, LedgerError> {
        let pk = environment_pk(group, environment);
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(&pk))
                .set_exclusive_start_key(start.take())
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| store("Query", e))?;
            for item in out.items() {
                if text(item, "SK") == Some(STATE_SK) {
                    continue;
                }
                let sk = text(item, "SK").unwrap_or_default().to_string();
                let corrupt = |reason: String| LedgerError::Corrupt {
                    pk: pk.clone(),
                    sk: sk.clone(),
                    reason,
                };
                let field = |name: &str| {
                    text(item, name)
                        .map(str::to_string)
                        .ok_or_else(|| corrupt(format!("no `{name}`")))
                };
                let at = DateTime::parse_from_rfc3339(&field("at")?)
                    .map_err(|e| corrupt(e.to_string()))?
                    .with_timezone(&Utc);
                records.push(EnvironmentRecord {
                    group: group.into(),
                    environment: environment.into(),
                    at,
                    kind: field("kind")?,
                    id: field("id")?,
                    detail: serde_json::from_str(&field("detail")?)
                        .map_err(|e| corrupt(e.to_string()))?,
                });
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(records)
    }
}

/// An in-memory adapter with the same semantics, for unit tests.
#[derive(Debug, Default)]
pub struct MemoryEnvironments {
    states: Mutex<HashMap<String, EnvironmentState>>,
    records: Mutex<BTreeMap<(String, String), EnvironmentRecord>>,
}

impl MemoryEnvironments {
    pub fn new() -> Self {
        Self::default()
    }
}

impl EnvironmentLedger for MemoryEnvironments {
    async fn load_state(
        &self,
        group: &str,
        environment: &str,
    ) -> Result<Option<EnvironmentState>, LedgerError> {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        Ok(states.get(&environment_pk(group, environment)).cloned())
    }

    async fn save_state(&self, state: &EnvironmentState) -> Result<Saved, LedgerError> {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let pk = environment_pk(&state.group, &state.environment);
        let stored = states.get(&pk).map(|s| s.revision);
        let expected = (state.revision > 1).then(|| state.revision - 1);
        if stored != expected {
            return Ok(Saved::Conflict);
        }
        states.insert(pk, state.clone());
        Ok(Saved::Written)
    }

    async fn append_step(&self, record: &EnvironmentRecord) -> Result<(), LedgerError> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records
            .entry((
                environment_pk(&record.group, &record.environment),
                record.sort_key(),
            ))
            .or_insert_with(|| record.clone());
        Ok(())
    }

    async fn steps(
        &self,
        group: &str,
        environment: &str,
    ) -> Result<Vec<EnvironmentRecord>, LedgerError> {
        let pk = environment_pk(group, environment);
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        Ok(records
            .iter()
            .filter(|((p, _), _)| *p == pk)
            .map(|(_, r)| r.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_writer_of_the_expected_revision_wins() {
        let ledger = MemoryEnvironments::new();
        assert_eq!(ledger.load_state("pf", "prod").await.unwrap(), None);
        let mut first = EnvironmentState::new("pf", "prod");
        first.revision = 1;
        assert_eq!(ledger.save_state(&first).await.unwrap(), Saved::Written);
        assert_eq!(ledger.save_state(&first).await.unwrap(), Saved::Conflict);
        let mut second = first.clone();
        second.revision = 2;
        second.restored = true;
        assert_eq!(ledger.save_state(&second).await.unwrap(), Saved::Written);
        assert_eq!(ledger.save_state(&second).await.unwrap(), Saved::Conflict);
        assert_eq!(ledger.load_state("pf", "prod").await.unwrap(), Some(second));
    }

    #[tokio::test]
    async fn records_are_appended_once_in_time_order() {
        let ledger = MemoryEnvironments::new();
        let record = |secs: i64, kind: &str| EnvironmentRecord {
            group: "pf".into(),
            environment: "prod".into(),
            at: DateTime::from_timestamp(secs, 0).unwrap(),
            kind: kind.into(),
            id: "x".into(),
            detail: Value::Null,
        };
        ledger.append_step(&record(2, "b")).await.unwrap();
        ledger.append_step(&record(1, "a")).await.unwrap();
        ledger.append_step(&record(1, "a")).await.unwrap();
        let kinds: Vec<String> = ledger
            .steps("pf", "prod")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect();
        assert_eq!(kinds, ["a", "b"]);
    }
}
