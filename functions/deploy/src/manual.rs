//! `steward deploy <model-package-arn> --env <env>`: an operator rolls an
//! approved model out to one environment, through the same path (names, claim,
//! busy check) as the events.

use chrono::Utc;
use steward::ledger::{EnvironmentLedger, Ledger};

use crate::handler::{version_of, Context, Outcome};
use crate::rollout::{deploy_to, DeployRequest};
use crate::DeployError;

pub async fn deploy_package<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    model_package_arn: &str,
    environment: &str,
) -> Result<Outcome, DeployError> {
    let package = ctx.sagemaker.package(model_package_arn).await?;
    if package.approval_status.as_deref() != Some("Approved") {
        return Err(DeployError::NotApproved {
            arn: model_package_arn.to_string(),
            status: package
                .approval_status
                .unwrap_or_else(|| "no status".into()),
        });
    }
    let group_name = package
        .group
        .clone()
        .ok_or_else(|| DeployError::PackageArn {
            arn: model_package_arn.to_string(),
        })?;
    let unknown = || DeployError::UnknownEnvironment {
        group: group_name.clone(),
        environment: environment.to_string(),
    };
    let group = ctx.policy.policy.group(&group_name).ok_or_else(unknown)?;
    let env = group.environment(environment).ok_or_else(unknown)?;
    let version = match package.version {
        Some(v) => v,
        None => version_of(model_package_arn)?,
    };
    deploy_to(
        ctx,
        DeployRequest {
            group,
            environment: env,
            model_package_arn: model_package_arn.to_string(),
            version,
            correlation_id: package.metadata.get("steward:correlation-id").cloned(),
            at: Utc::now(),
        },
    )
    .await
}
