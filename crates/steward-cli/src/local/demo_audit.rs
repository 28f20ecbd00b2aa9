//! The demo's last word: what the ledger answers, rendered as `steward
//! lineage` and `steward served --at` print it.

use chrono::{DateTime, Utc};
use steward::audit::views::suppressed_triggers;
use steward::audit::{queries, DynamoAuditStore};
use steward::ledger::{DynamoLedger, Ledger, Subject};
use steward_twin::LocalRun;

fn ledger(run: &LocalRun) -> (DynamoAuditStore, DynamoLedger) {
    let dynamodb = aws_sdk_dynamodb::Client::new(&run.sdk);
    let table = &run.stack.spec.ledger_table;
    (
        DynamoAuditStore::new(dynamodb.clone(), table),
        DynamoLedger::new(dynamodb, table),
    )
}

/// `steward lineage <arn>`: where the model came from and what became of it.
pub async fn lineage(run: &LocalRun, arn: &str) -> Result<(), String> {
    let (store, ledger) = ledger(run);
    let lineage = queries::lineage(&store, Some(&ledger), arn)
        .await
        .map_err(|e| e.to_string())?;
    print_indented(&crate::lineage::human(&lineage));
    Ok(())
}

/// `steward served <endpoint> --at <time>`: what served then.
pub async fn served(run: &LocalRun, endpoint: &str, at: DateTime<Utc>) -> Result<(), String> {
    let (store, ledger) = ledger(run);
    let answer = queries::served(&store, Some(&ledger), endpoint, at)
        .await
        .map_err(|e| e.to_string())?;
    print_indented(&crate::served::human(&answer));
    Ok(())
}

/// `steward status <group>`: what serves in each environment now, what waits
/// for approval, the last build and the triggers the guard held back.
pub async fn status(run: &LocalRun, group: &str) -> Result<(), String> {
    let (store, ledger) = ledger(run);
    let now = Utc::now();
    let status = queries::status(&store, group, now)
        .await
        .map_err(|e| e.to_string())?;
    let records = ledger
        .records(&Subject::Group(group.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    let suppressed = suppressed_triggers(&records);
    print_indented(&crate::status::human(&[(status, suppressed)], now));
    Ok(())
}

fn print_indented(text: &str) {
    for line in text.lines() {
        println!("  {line}");
    }
}
