//! The views, read from a store: which partitions each question needs, then
//! the pure view over their records. The CLI and the tests ask through here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::views::lineage::{Approval, Build, GateResult, Registration};
use super::views::{served_at, GroupStatus, Lineage, Rollout, Served};
use super::{all_records, AuditError, AuditRecord, AuditStore, AuditSubject, Query};
use crate::ledger::{Ledger, MemoryLedger, Subject};

/// No ledger: views from audit records alone (`None::<&NoLedger>`).
pub type NoLedger = MemoryLedger;

/// A model's lineage: its own records, its build's, and those of the
/// environments and endpoints it was deployed to (from its first event on);
/// with a ledger, completed by the gate's full reports.
pub async fn lineage<S: AuditStore, L: Ledger>(
    store: &S,
    ledger: Option<&L>,
    arn: &str,
) -> Result<Lineage, AuditError> {
    let own = all_records(store, &AuditSubject::model(arn), &Query::default()).await?;
    let since = own.iter().map(|r| r.at).min();
    let mut records = own.clone();
    for subject in Lineage::related_subjects(&own) {
        // A build's records come before the model exists; read them whole.
        let query = match subject {
            AuditSubject::Execution { .. } => Query::default(),
            _ => Query {
                since,
                ..Query::default()
            },
        };
        records.extend(all_records(store, &subject, &query).await?);
    }
    let lineage = Lineage::of(arn, &records);
    match ledger {
        None => Ok(lineage),
        Some(ledger) => {
            let reports = ledger
                .records(&Subject::Model(arn.to_string()))
                .await
                .map_err(|e| AuditError::Store {
                    operation: "Query",
                    message: e.to_string(),
                })?;
            Ok(lineage.with_gate_reports(&reports))
        }
    }
}

/// `steward served <endpoint> --at <time>`: what served, since when, who
/// approved it, on what evidence, from what data and commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServedAnswer {
    pub endpoint: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving: Option<Served>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_out: Option<Rollout>,
    /// The decisions that let the serving model into this environment.
    pub approvals: Vec<Approval>,
    /// The gate's last verdict on the serving model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
}

pub async fn served<S: AuditStore, L: Ledger>(
    store: &S,
    ledger: Option<&L>,
    endpoint: &str,
    at: DateTime<Utc>,
) -> Result<ServedAnswer, AuditError> {
    let mut answer = ServedAnswer {
        endpoint: endpoint.to_string(),
        at,
        group: None,
        environment: None,
        serving: None,
        rolling_out: None,
        approvals: vec![],
        gate: None,
        build: None,
        registration: None,
    };
    let endpoint_records =
        all_records(store, &AuditSubject::endpoint(endpoint), &Query::default()).await?;
    let Some((group, environment)) = environment_of(&endpoint_records, at) else {
        return Ok(answer);
    };
    let env_records = all_records(
        store,
        &AuditSubject::environment(&group, &environment),
        &Query::default(),
    )
    .await?;
    let now = served_at(&environment, &env_records, at);
    if let Some(serving) = &now.serving {
        let lineage = lineage(store, ledger, &serving.model_package_arn).await?;
        answer.approvals = lineage
            .approvals
            .into_iter()
            .filter(|a| a.step == "decided" && a.at <= at)
            .filter(|a| a.environment.as_deref().is_none_or(|e| e == environment))
            .collect();
        answer.gate = lineage.gates.into_iter().rfind(|g| g.at <= at);
        answer.build = lineage.build;
        answer.registration = lineage.registration;
    }
    answer.serving = now.serving;
    answer.rolling_out = now.rolling_out;
    answer.group = Some(group);
    answer.environment = Some(environment);
    Ok(answer)
}

/// The group and environment an endpoint served, from the Steward records
/// filed under it (the latest at or before `at`, else the earliest after).
fn environment_of(records: &[AuditRecord], at: DateTime<Utc>) -> Option<(String, String)> {
    let pair = |r: &&AuditRecord| -> Option<(String, String)> {
        Some((
            r.text("modelPackageGroup")?.to_string(),
            r.environment()?.to_string(),
        ))
    };
    let ordered = super::views::ordered(records);
    ordered
        .iter()
        .filter(|r| r.is_steward() && r.at <= at)
        .rev()
        .find_map(pair)
        .or_else(|| ordered.iter().filter(|r| r.is_steward()).find_map(pair))
}

/// `steward status <group>` at `now`.
pub async fn status<S: AuditStore>(
    store: &S,
    group: &str,
    now: DateTime<Utc>,
) -> Result<GroupStatus, AuditError> {
    let records = all_records(store, &AuditSubject::group(group), &Query::default()).await?;
    let status = GroupStatus::of(group, &records, now);
    let execution = status
        .last_build
        .as_ref()
        .map(|b| b.pipeline_execution_arn.clone());
    match execution {
        Some(arn) => {
            let exec = all_records(store, &AuditSubject::execution(arn), &Query::default()).await?;
            Ok(status.with_build_status(&exec))
        }
        None => Ok(status),
    }
}

#[cfg(test)]
mod tests {
    use super::super::views::fixtures::{at, shuffled_twice, V2, V3};
    use super::*;
    use crate::audit::MemoryAuditStore;

    async fn loaded() -> MemoryAuditStore {
        let store = MemoryAuditStore::new();
        for r in shuffled_twice() {
            store.append(&r).await.unwrap();
        }
        store
    }

    #[tokio::test]
    async fn served_names_the_model_its_approver_and_its_evidence() {
        let store = loaded().await;
        let ledger = MemoryLedger::new();
        ledger
            .append(&crate::ledger::LineageRecord {
                subject: Subject::Model(V3.into()),
                at: at("2026-11-23T06:48:40Z"),
                kind: "gate_evaluated".into(),
                id: "g".into(),
                source: "steward".into(),
                detail: crate::audit::views::fixtures::gate_report(),
            })
            .await
            .unwrap();
        let answer = served(
            &store,
            Some(&ledger),
            "payroll-fraud-prod",
            at("2026-11-23T09:15:00Z"),
        )
        .await
        .unwrap();
        assert_eq!(answer.environment.as_deref(), Some("prod"));
        assert_eq!(answer.serving.as_ref().unwrap().model_package_arn, V3);
        assert_eq!(answer.approvals.len(), 1);
        assert_eq!(
            answer.approvals[0].approver.as_deref(),
            Some("ana@example.com")
        );
        assert_eq!(answer.gate.as_ref().unwrap().passed, Some(true));
        assert_eq!(answer.gate.as_ref().unwrap().metrics["auc"], 0.93);
        assert!(answer.build.as_ref().unwrap().data_uri.is_some());

        let later = served(
            &store,
            None::<&NoLedger>,
            "payroll-fraud-prod",
            at("2026-11-23T09:30:00Z"),
        )
        .await
        .unwrap();
        assert_eq!(later.serving.unwrap().model_package_arn, V2);

        let unknown = served(
            &store,
            None::<&NoLedger>,
            "nope",
            at("2026-11-23T09:30:00Z"),
        )
        .await
        .unwrap();
        assert_eq!(unknown.serving, None);
    }

    #[tokio::test]
    async fn lineage_and_status_read_through_the_store() {
        let store = loaded().await;
        let from_store = lineage(&store, None::<&NoLedger>, V3).await.unwrap();
        assert_eq!(from_store, Lineage::of(V3, &shuffled_twice()));
        let status = status(&store, "payroll-fraud", at("2026-11-24T00:00:00Z"))
            .await
            .unwrap();
        assert_eq!(
            status.last_build.unwrap().status.as_deref(),
            Some("Succeeded")
        );
        assert_eq!(store.groups().await.unwrap(), ["payroll-fraud"]);
    }
}
