//! A Lambda-served environment's answer to an alarm. During a CodeDeploy
//! rollout: CodeDeploy stops and shifts the alias back on its own when the
//! deployment group watches the alarm; if the deployment still runs, Steward
//! stops it (`StopDeployment` with `autoRollbackEnabled`) and the retry
//! verifies, from `GetAlias`, that the bad version takes no traffic. After the
//! rollout: an all-at-once CodeDeploy deployment of the alias back to the last
//! known good version (the deploy function records its end from the
//! deployment's state-change event, verified by `GetAlias`).

use serde_json::{json, Value};
use steward::deploy::lambda_alias::{self, AliasShift};
use steward::deploy::Release;
use steward::ledger::{EnvironmentLedger, Ledger};

use crate::handler::Outcome;
use crate::respond::Step;
use crate::RollbackError;

impl<L: Ledger, E: EnvironmentLedger> Step<'_, L, E> {
    fn deployment_group(&self) -> (String, String) {
        (
            lambda_alias::application(&self.group.name),
            lambda_alias::deployment_group(&self.env.name),
        )
    }

    fn version_of<'r>(&self, release: &'r Release) -> Result<&'r str, RollbackError> {
        lambda_alias::label_version(&release.endpoint_config).ok_or_else(|| {
            RollbackError::ReleaseLabel {
                label: release.endpoint_config.clone(),
            }
        })
    }

    /// During the rollout of `bad`: stop its deployment if it still runs,
    /// else verify the alias is off the bad version and record the rollback.
    pub(crate) async fn verify_alias_rollback(
        &self,
        function: &str,
        alias: &str,
    ) -> Result<Outcome, RollbackError> {
        let serving = &self.ctx.alias_serving;
        let (application, group) = self.deployment_group();
        let description = lambda_alias::deployment_description(
            &self.bad.model_package_arn,
            &self.bad.endpoint_config,
        );
        let deployment = serving
            .deployments(&application, &group)
            .await?
            .into_iter()
            .find(|d| d.description.as_deref() == Some(description.as_str()));
        if let Some(running) = deployment.as_ref().filter(|d| d.is_running()) {
            // CodeDeploy has not stopped it (the group may not watch this
            // alarm): Steward stops it, with rollback, and verifies on retry.
            let stopped = serving.stop_with_rollback(&running.id).await?;
            if stopped {
                self.ctx
                    .environments
                    .append_step(&self.step_record(
                        "deployment_stop_requested",
                        json!({
                            "deploymentId": running.id,
                            "autoRollbackEnabled": true,
                            "alarm": self.alarm.name,
                            "reason": self.alarm.describe(),
                        }),
                    ))
                    .await?;
            }
            return Err(RollbackError::NotYetVerified {
                endpoint: format!("{function}:{alias}"),
                status: format!(
                    "CodeDeploy deployment {} is {}; Steward asked StopDeployment with rollback",
                    running.id, running.status
                ),
            });
        }
        let bad_version = self.version_of(self.bad)?;
        let live = serving.alias(function, alias).await?;
        if live.serves(bad_version) {
            return Err(self.busy(format!(
                "{} still takes traffic on {function}:{alias}; retried once CodeDeploy shifted it back",
                self.bad.endpoint_config
            )));
        }
        let (by, reason) = match &deployment {
            Some(d)
                if d.error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("MANUAL_STOP")) =>
            {
                ("CodeDeploy (stopped by Steward)", d.describe_end())
            }
            Some(d) => ("CodeDeploy", d.describe_end()),
            None => ("CodeDeploy", self.recorded_failure().await?),
        };
        self.record_automatic(
            by,
            reason,
            Some(lambda_alias::release_label(function, &live.version)),
        )
        .await
    }

    /// The reason deploy recorded for the failed rollout of `bad`.
    async fn recorded_failure(&self) -> Result<String, RollbackError> {
        let state = self
            .ctx
            .environments
            .load_state(&self.group.name, &self.env.name)
            .await?;
        Ok(state
            .and_then(|s| s.last_failure)
            .filter(|f| f.release.model_package_arn == self.bad.model_package_arn)
            .map(|f| f.reason)
            .unwrap_or_else(|| "the deployment ended without the new version".into()))
    }

    /// After the rollout: a CodeDeploy deployment shifting the alias back to
    /// `target`'s version all at once (found by its description if an earlier
    /// attempt made it). The ledger detail of the rollback.
    pub(crate) async fn start_alias_rollback(
        &self,
        function: &str,
        alias: &str,
        target: &Release,
    ) -> Result<Value, RollbackError> {
        let serving = &self.ctx.alias_serving;
        let (application, group) = self.deployment_group();
        let target_version = self.version_of(target)?;
        let description = lambda_alias::rollback_description(
            &self.bad.model_package_arn,
            &target.endpoint_config,
        );
        let deployments = serving.deployments(&application, &group).await?;
        let live = serving.alias(function, alias).await?;
        let (action, id) = if let Some(ours) = deployments
            .iter()
            .find(|d| d.description.as_deref() == Some(description.as_str()))
        {
            ("already-rolling-back", ours.id.clone())
        } else if let Some(other) = deployments.iter().find(|d| d.is_running()) {
            return Err(self.busy(format!(
                "CodeDeploy deployment {} is {}",
                other.id, other.status
            )));
        } else {
            let shift = AliasShift {
                function: function.to_string(),
                alias: alias.to_string(),
                current_version: live.version.clone(),
                target_version: target_version.to_string(),
                before_allow_traffic: None,
            };
            let id = serving
                .create_rollback(&application, &group, shift.appspec(), &description)
                .await?;
            ("create", id)
        };
        Ok(json!({
            "codeDeploy": {
                "action": action,
                "application": application,
                "deploymentGroup": group,
                "deploymentConfig": lambda_alias::ALL_AT_ONCE,
                "deploymentId": id,
                "currentVersion": live.version,
                "targetVersion": target_version,
            }
        }))
    }
}
