//! The champion a candidate must not regress from: the model serving in the
//! last environment of the chain (the ledger's deployment state), else the
//! group's newest approved package (the registry), else none (the first model).

use steward::gate::ChampionModel;
use steward::ledger::EnvironmentLedger;
use steward::policy::Group;

use crate::registry::{self, Package};
use crate::RequestApprovalError;

pub async fn find<E: EnvironmentLedger>(
    sagemaker: &aws_sdk_sagemaker::Client,
    s3: &aws_sdk_s3::Client,
    environments: &E,
    group: &Group,
    candidate: &Package,
) -> Result<Option<ChampionModel>, RequestApprovalError> {
    let serving = match group.environments.last() {
        Some(last) => environments
            .load_state(&group.name, &last.name)
            .await?
            .and_then(|state| state.current)
            .filter(|release| release.model_package_arn != candidate.arn)
            .map(|release| (release.model_package_arn, format!("serving:{}", last.name))),
        None => None,
    };
    let found = match serving {
        Some(found) => Some(found),
        None => registry::latest_approved(sagemaker, &group.name, &candidate.arn)
            .await?
            .map(|arn| (arn, "latest-approved".to_string())),
    };
    let Some((arn, source)) = found else {
        return Ok(None);
    };
    let package = registry::describe(sagemaker, &arn).await?;
    // The champion's bias report matters only to a no-regression check on a
    // bias metric; thresholds read the candidate's alone.
    let compares_bias = group
        .gate
        .no_regression
        .iter()
        .any(|n| n.metric.starts_with(steward::gate::bias::PREFIX));
    let metrics = if compares_bias {
        crate::metrics::fetch_evidence(s3, &package, &group.gate).await?
    } else {
        crate::metrics::fetch(s3, package.metrics_uri.as_deref()).await?
    };
    Ok(Some(ChampionModel {
        model_package_arn: package.arn,
        version: package.version,
        source,
        metrics,
    }))
}
