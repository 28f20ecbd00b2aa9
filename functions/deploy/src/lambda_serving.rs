//! The Lambda and CodeDeploy calls behind a lambda-alias environment. Every
//! call finds what an earlier attempt made (version by its description,
//! application / config / group by name, deployment by its description)
//! before making it, so a retried event does the work once.

use std::time::Duration;

use aws_sdk_codedeploy::types::{
    Alarm, AlarmConfiguration, AppSpecContent, AutoRollbackConfiguration, AutoRollbackEvent,
    ComputePlatform, DeploymentStatus, RevisionLocation, RevisionLocationType, TimeBasedCanary,
    TimeBasedLinear, TrafficRoutingConfig, TrafficRoutingType,
};
use aws_sdk_lambda::types::{Environment, LastUpdateStatus};
use steward::aws_error;
pub use steward::deploy::lambda_alias::DeploymentView;
use steward::deploy::lambda_alias::{
    self, LambdaDeploymentConfig, LambdaRouting, MODEL_DATA_URL, MODEL_PACKAGE_ARN,
};

/// A Lambda or CodeDeploy call failed (retried by Lambda).
#[derive(Debug, thiserror::Error)]
#[error("{operation} on {target} failed: {message}")]
pub struct LambdaServingError {
    pub operation: &'static str,
    pub target: String,
    pub message: String,
}

impl LambdaServingError {
    pub fn error_type(&self) -> &'static str {
        "lambda_serving_call_failed"
    }
}

fn call<'a, E>(
    operation: &'static str,
    target: &'a str,
) -> impl FnOnce(E) -> LambdaServingError + 'a
where
    E: aws_sdk_lambda::error::ProvideErrorMetadata + std::error::Error,
{
    move |e| LambdaServingError {
        operation,
        target: target.to_string(),
        message: aws_error::describe(&e),
    }
}

/// What a deployment group needs.
pub struct GroupSpec<'a> {
    pub application: &'a str,
    pub group: &'a str,
    pub service_role_arn: &'a str,
    pub config: &'a str,
    pub alarms: &'a [String],
}

#[derive(Clone)]
pub struct LambdaServing {
    pub lambda: aws_sdk_lambda::Client,
    pub codedeploy: aws_sdk_codedeploy::Client,
}

impl LambdaServing {
    /// The version `alias` points at.
    pub async fn alias_version(
        &self,
        function: &str,
        alias: &str,
    ) -> Result<String, LambdaServingError> {
        let out = self
            .lambda
            .get_alias()
            .function_name(function)
            .name(alias)
            .send()
            .await
            .map_err(call("GetAlias", function))?;
        Ok(out.function_version().unwrap_or_default().to_string())
    }

    /// The version published for `package_arn`, if one is.
    async fn find_version(
        &self,
        function: &str,
        description: &str,
    ) -> Result<Option<String>, LambdaServingError> {
        let mut pages = self
            .lambda
            .list_versions_by_function()
            .function_name(function)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(call("ListVersionsByFunction", function))?;
            if let Some(v) = page
                .versions()
                .iter()
                .find(|v| v.description() == Some(description) && v.version() != Some("$LATEST"))
            {
                return Ok(v.version().map(str::to_string));
            }
        }
        Ok(None)
    }

    /// A version of `function` serving `package_arn` (its model data in the
    /// environment): found if an earlier attempt published it, else
    /// configured on `$LATEST`, waited for, and published.
    pub async fn publish_model_version(
        &self,
        function: &str,
        package_arn: &str,
        model_data_url: &str,
    ) -> Result<String, LambdaServingError> {
        let description = lambda_alias::version_description(package_arn);
        if let Some(version) = self.find_version(function, &description).await? {
            return Ok(version);
        }
        let current = self
            .lambda
            .get_function_configuration()
            .function_name(function)
            .send()
            .await
            .map_err(call("GetFunctionConfiguration", function))?;
        // Keep the function's other variables: only the model changes.
        let mut variables = current
            .environment()
            .and_then(|e| e.variables())
            .cloned()
            .unwrap_or_default();
        variables.insert(MODEL_DATA_URL.into(), model_data_url.into());
        variables.insert(MODEL_PACKAGE_ARN.into(), package_arn.into());
        self.lambda
            .update_function_configuration()
            .function_name(function)
            .environment(
                Environment::builder()
                    .set_variables(Some(variables))
                    .build(),
            )
            .send()
            .await
            .map_err(call("UpdateFunctionConfiguration", function))?;
        self.wait_until_updated(function).await?;
        let published = self
            .lambda
            .publish_version()
            .function_name(function)
            .description(&description)
            .send()
            .await
            .map_err(call("PublishVersion", function))?;
        published
            .version()
            .map(str::to_string)
            .ok_or_else(|| LambdaServingError {
                operation: "PublishVersion",
                target: function.into(),
                message: "the reply names no version".into(),
            })
    }

    /// A configuration update takes a few seconds; publishing before it ends
    /// fails. Still in progress after a minute → an error (the retry resumes).
    async fn wait_until_updated(&self, function: &str) -> Result<(), LambdaServingError> {
        for _ in 0..60 {
            let config = self
                .lambda
                .get_function_configuration()
                .function_name(function)
                .send()
                .await
                .map_err(call("GetFunctionConfiguration", function))?;
            match config.last_update_status() {
                Some(LastUpdateStatus::InProgress) => {
                    tokio::time::sleep(Duration::from_secs(1)).await
                }
                Some(LastUpdateStatus::Failed) => {
                    return Err(LambdaServingError {
                        operation: "UpdateFunctionConfiguration",
                        target: function.into(),
                        message: config
                            .last_update_status_reason()
                            .unwrap_or("the update failed")
                            .into(),
                    })
                }
                _ => return Ok(()),
            }
        }
        Err(LambdaServingError {
            operation: "UpdateFunctionConfiguration",
            target: function.into(),
            message: "still in progress after 60 s".into(),
        })
    }

    pub async fn ensure_application(&self, application: &str) -> Result<(), LambdaServingError> {
        match self
            .codedeploy
            .get_application()
            .application_name(application)
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if aws_error::code(&e) == Some("ApplicationDoesNotExistException") => {}
            Err(e) => return Err(call("GetApplication", application)(e)),
        }
        match self
            .codedeploy
            .create_application()
            .application_name(application)
            .compute_platform(ComputePlatform::Lambda)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if aws_error::code(&e) == Some("ApplicationAlreadyExistsException") => Ok(()),
            Err(e) => Err(call("CreateApplication", application)(e)),
        }
    }

    /// Predefined configs exist; a custom one is created once under its
    /// deterministic name.
    pub async fn ensure_config(
        &self,
        config: &LambdaDeploymentConfig,
    ) -> Result<(), LambdaServingError> {
        if config.predefined {
            return Ok(());
        }
        let routing = match config.routing {
            LambdaRouting::AllAtOnce => TrafficRoutingConfig::builder()
                .r#type(TrafficRoutingType::AllAtOnce)
                .build(),
            LambdaRouting::TimeBasedCanary {
                percentage,
                interval_minutes,
            } => TrafficRoutingConfig::builder()
                .r#type(TrafficRoutingType::TimeBasedCanary)
                .time_based_canary(
                    TimeBasedCanary::builder()
                        .canary_percentage(percentage.into())
                        .canary_interval(interval_minutes as i32)
                        .build(),
                )
                .build(),
            LambdaRouting::TimeBasedLinear {
                percentage,
                interval_minutes,
            } => TrafficRoutingConfig::builder()
                .r#type(TrafficRoutingType::TimeBasedLinear)
                .time_based_linear(
                    TimeBasedLinear::builder()
                        .linear_percentage(percentage.into())
                        .linear_interval(interval_minutes as i32)
                        .build(),
                )
                .build(),
        };
        match self
            .codedeploy
            .create_deployment_config()
            .deployment_config_name(&config.name)
            .compute_platform(ComputePlatform::Lambda)
            .traffic_routing_config(routing)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if aws_error::code(&e) == Some("DeploymentConfigAlreadyExistsException") => {
                Ok(())
            }
            Err(e) => Err(call("CreateDeploymentConfig", &config.name)(e)),
        }
    }

    /// The environment's deployment group: its alarms stop a deployment, and
    /// CodeDeploy shifts the alias back on a failure or an alarm.
    pub async fn ensure_group(&self, spec: &GroupSpec<'_>) -> Result<(), LambdaServingError> {
        match self
            .codedeploy
            .get_deployment_group()
            .application_name(spec.application)
            .deployment_group_name(spec.group)
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if aws_error::code(&e) == Some("DeploymentGroupDoesNotExistException") => {}
            Err(e) => return Err(call("GetDeploymentGroup", spec.group)(e)),
        }
        let mut alarms = AlarmConfiguration::builder().enabled(!spec.alarms.is_empty());
        for name in spec.alarms {
            alarms = alarms.alarms(Alarm::builder().name(name).build());
        }
        match self
            .codedeploy
            .create_deployment_group()
            .application_name(spec.application)
            .deployment_group_name(spec.group)
            .service_role_arn(spec.service_role_arn)
            .deployment_config_name(spec.config)
            .alarm_configuration(alarms.build())
            .auto_rollback_configuration(
                AutoRollbackConfiguration::builder()
                    .enabled(true)
                    .events(AutoRollbackEvent::DeploymentFailure)
                    .events(AutoRollbackEvent::DeploymentStopOnAlarm)
                    .build(),
            )
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if aws_error::code(&e) == Some("DeploymentGroupAlreadyExistsException") => {
                Ok(())
            }
            Err(e) => Err(call("CreateDeploymentGroup", spec.group)(e)),
        }
    }

    /// The deployments of the group that have not ended.
    pub async fn running(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Vec<DeploymentView>, LambdaServingError> {
        let mut all = self.deployments(application, group).await?;
        all.retain(DeploymentView::is_running);
        Ok(all)
    }

    /// The group's deployment with `description` (Steward's markers), in
    /// whatever status.
    pub async fn find(
        &self,
        application: &str,
        group: &str,
        description: &str,
    ) -> Result<Option<DeploymentView>, LambdaServingError> {
        Ok(self
            .deployments(application, group)
            .await?
            .into_iter()
            .find(|d| d.description.as_deref() == Some(description)))
    }

    /// Every deployment of the group, all pages.
    async fn deployments(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Vec<DeploymentView>, LambdaServingError> {
        let mut views = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let listed = self
                .codedeploy
                .list_deployments()
                .application_name(application)
                .deployment_group_name(group)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(call("ListDeployments", group))?;
            for id in listed.deployments() {
                views.push(self.deployment(id).await?);
            }
            match listed.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => return Ok(views),
            }
        }
    }

    pub async fn create_deployment(
        &self,
        application: &str,
        group: &str,
        config: &str,
        appspec: String,
        description: &str,
    ) -> Result<String, LambdaServingError> {
        let out = self
            .codedeploy
            .create_deployment()
            .application_name(application)
            .deployment_group_name(group)
            .deployment_config_name(config)
            .description(description)
            .revision(
                RevisionLocation::builder()
                    .revision_type(RevisionLocationType::AppSpecContent)
                    .app_spec_content(AppSpecContent::builder().content(appspec).build())
                    .build(),
            )
            .send()
            .await
            .map_err(call("CreateDeployment", group))?;
        out.deployment_id.ok_or_else(|| LambdaServingError {
            operation: "CreateDeployment",
            target: group.into(),
            message: "the reply names no deployment".into(),
        })
    }

    pub async fn deployment(&self, id: &str) -> Result<DeploymentView, LambdaServingError> {
        let out = self
            .codedeploy
            .get_deployment()
            .deployment_id(id)
            .send()
            .await
            .map_err(call("GetDeployment", id))?;
        let Some(info) = out.deployment_info else {
            return Err(LambdaServingError {
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
}
