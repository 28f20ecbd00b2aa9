//! The Lambda and CodeDeploy calls behind rolling back a Lambda-served
//! (lambda-alias) environment: where the alias points, the deployments of the
//! environment's deployment group (found by their description, so a retry
//! finds what an earlier attempt made), StopDeployment with rollback, and the
//! all-at-once redeploy of a known good version.

use aws_sdk_codedeploy::types::{
    AlarmConfiguration, AppSpecContent, AutoRollbackConfiguration, DeploymentStatus,
    RevisionLocation, RevisionLocationType,
};
use steward::aws_error;
pub use steward::deploy::lambda_alias::DeploymentView;
use steward::deploy::lambda_alias::ALL_AT_ONCE;

use crate::RollbackError;

/// Where an alias sends its traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasView {
    pub version: String,
    /// Versions that get a share of the traffic besides `version`.
    pub weighted: Vec<String>,
}

impl AliasView {
    /// Whether `version` takes any of the alias's traffic.
    pub fn serves(&self, version: &str) -> bool {
        self.version == version || self.weighted.iter().any(|v| v == version)
    }
}

fn codedeploy<E>(operation: &'static str, target: &str, e: &E) -> RollbackError
where
    E: aws_sdk_codedeploy::error::ProvideErrorMetadata + std::error::Error,
{
    RollbackError::CodeDeploy {
        operation,
        target: target.to_string(),
        message: aws_error::describe(e),
    }
}

#[derive(Clone)]
pub struct AliasServing {
    pub lambda: aws_sdk_lambda::Client,
    pub codedeploy: aws_sdk_codedeploy::Client,
}

impl AliasServing {
    pub fn new(aws: &aws_config::SdkConfig) -> Self {
        Self {
            lambda: aws_sdk_lambda::Client::new(aws),
            codedeploy: aws_sdk_codedeploy::Client::new(aws),
        }
    }

    pub async fn alias(&self, function: &str, alias: &str) -> Result<AliasView, RollbackError> {
        let out = self
            .lambda
            .get_alias()
            .function_name(function)
            .name(alias)
            .send()
            .await
            .map_err(|e| RollbackError::Lambda {
                function: function.to_string(),
                message: aws_error::describe(&e),
            })?;
        let weighted = out
            .routing_config()
            .and_then(|r| r.additional_version_weights())
            .map(|w| {
                w.iter()
                    .filter(|(_, weight)| **weight > 0.0)
                    .map(|(v, _)| v.clone())
                    .collect()
            })
            .unwrap_or_default();
        Ok(AliasView {
            version: out.function_version().unwrap_or_default().to_string(),
            weighted,
        })
    }

    /// Every deployment of the group (none if the group does not exist yet).
    pub async fn deployments(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Vec<DeploymentView>, RollbackError> {
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let listed = self
                .codedeploy
                .list_deployments()
                .application_name(application)
                .deployment_group_name(group)
                .set_next_token(next.take())
                .send()
                .await;
            let page = match listed {
                Ok(page) => page,
                Err(e)
                    if matches!(
                        aws_error::code(&e),
                        Some(
                            "ApplicationDoesNotExistException"
                                | "DeploymentGroupDoesNotExistException"
                        )
                    ) =>
                {
                    return Ok(Vec::new())
                }
                Err(e) => return Err(codedeploy("ListDeployments", group, &e)),
            };
            ids.extend(page.deployments().iter().cloned());
            match page.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => break,
            }
        }
        let mut views = Vec::with_capacity(ids.len());
        for id in ids {
            views.push(self.deployment(&id).await?);
        }
        Ok(views)
    }

    pub async fn deployment(&self, id: &str) -> Result<DeploymentView, RollbackError> {
        let out = self
            .codedeploy
            .get_deployment()
            .deployment_id(id)
            .send()
            .await
            .map_err(|e| codedeploy("GetDeployment", id, &e))?;
        let Some(info) = out.deployment_info else {
            return Err(RollbackError::CodeDeploy {
                operation: "GetDeployment",
                target: id.into(),
                message: "the reply has no deploymentInfo".into(),
            });
        };
        Ok(DeploymentView::new(
            id,
            info.status.as_ref().map(DeploymentStatus::as_str),
            info.description.clone(),
            info.error_information
                .as_ref()
                .map(|e| (e.code.as_ref().map(|c| c.as_str()), e.message.as_deref())),
        ))
    }

    /// StopDeployment with `autoRollbackEnabled`: CodeDeploy shifts the alias
    /// back. `false` if the deployment had already ended.
    pub async fn stop_with_rollback(&self, id: &str) -> Result<bool, RollbackError> {
        match self
            .codedeploy
            .stop_deployment()
            .deployment_id(id)
            .auto_rollback_enabled(true)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if aws_error::code(&e) == Some("DeploymentAlreadyCompletedException") => {
                Ok(false)
            }
            Err(e) => Err(codedeploy("StopDeployment", id, &e)),
        }
    }

    /// A deployment shifting the alias all at once (`appspec`), without the
    /// group's alarms (they are firing: CodeDeploy would stop it at once) and
    /// without an automatic rollback (that would shift back to the bad version).
    pub async fn create_rollback(
        &self,
        application: &str,
        group: &str,
        appspec: String,
        description: &str,
    ) -> Result<String, RollbackError> {
        let out = self
            .codedeploy
            .create_deployment()
            .application_name(application)
            .deployment_group_name(group)
            .deployment_config_name(ALL_AT_ONCE)
            .description(description)
            .override_alarm_configuration(AlarmConfiguration::builder().enabled(false).build())
            .auto_rollback_configuration(
                AutoRollbackConfiguration::builder().enabled(false).build(),
            )
            .revision(
                RevisionLocation::builder()
                    .revision_type(RevisionLocationType::AppSpecContent)
                    .app_spec_content(AppSpecContent::builder().content(appspec).build())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| codedeploy("CreateDeployment", group, &e))?;
        out.deployment_id.ok_or_else(|| RollbackError::CodeDeploy {
            operation: "CreateDeployment",
            target: group.into(),
            message: "the reply names no deployment".into(),
        })
    }
}
