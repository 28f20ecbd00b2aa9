//! Where a candidate came from: what the training step wrote on the package
//! (`MetadataProperties`, `CustomerMetadataProperties`), completed from the
//! ledger's `build_started` record of the pipeline run that produced it.

use serde_json::Value;
use steward::gate::report::Lineage;
use steward::ledger::{Ledger, LedgerError, Subject};

use crate::registry::Package;

/// Customer metadata keys the example training step writes (and any
/// pipeline can): the data it trained on and why the build ran.
pub const DATA_URI_KEY: &str = "steward:data-uri";
pub const DATA_VERSION_KEY: &str = "steward:data-version";
pub const TRIGGER_KEY: &str = "steward:trigger";
pub const CORRELATION_ID_KEY: &str = "steward:correlation-id";

/// The lineage, and the correlation id of the build's chain if known.
pub async fn lineage<L: Ledger>(
    ledger: &L,
    package: &Package,
) -> Result<(Lineage, Option<String>), LedgerError> {
    let meta = |key: &str| package.metadata.get(key).cloned().filter(|v| !v.is_empty());
    let mut lineage = Lineage {
        pipeline_execution_arn: package.generated_by.clone(),
        data_uri: meta(DATA_URI_KEY),
        data_version: meta(DATA_VERSION_KEY),
        commit: package.commit_id.clone(),
        trigger: meta(TRIGGER_KEY),
    };
    let mut correlation_id = meta(CORRELATION_ID_KEY);
    let Some(execution) = package
        .generated_by
        .as_deref()
        .filter(|arn| arn.starts_with("arn:"))
    else {
        return Ok((lineage, correlation_id));
    };
    let records = ledger
        .records(&Subject::Execution(execution.to_string()))
        .await?;
    if let Some(build) = records.iter().find(|r| r.kind == "build_started") {
        let d = &build.detail;
        let text = |v: &Value| v.as_str().map(str::to_string);
        lineage.data_uri = lineage.data_uri.or_else(|| text(&d["data"]["uri"]));
        lineage.data_version = lineage.data_version.or_else(|| text(&d["data"]["version"]));
        lineage.commit = lineage.commit.or_else(|| text(&d["commit"]));
        lineage.trigger = lineage.trigger.or_else(|| text(&d["trigger"]));
        correlation_id = correlation_id.or_else(|| text(&d["correlationId"]));
    }
    Ok((lineage, correlation_id))
}
