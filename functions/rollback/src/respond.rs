//! One environment's answer to an alarm, exactly once per bad model: a
//! flapping alarm finds the claim of the first rollback and does nothing again.

use chrono::{DateTime, Utc};
use serde_json::json;
use steward::deploy::{
    self, AlarmResponse, DeploymentPlan, Release, Rollout, RolloutKind, Verdict,
};
use steward::events::steward::{Header, RollbackCompleted, RollbackStarted, StewardDetail};
use steward::ledger::{update_state, Claim, EnvironmentLedger, EnvironmentRecord, Ledger};
use steward::naming::IdempotencyKey;
use steward::notify::Mail;
use steward::policy::{Environment, Group, Target};

use crate::handler::{Context, Outcome};
use crate::RollbackError;

/// What calls for the rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A CloudWatch alarm the environment watches fired.
    Alarm,
    /// An operator asked (`steward rollback`).
    Operator,
    /// deploy reported a rollout SageMaker rolled back (`Deployment Failed`):
    /// the record of it, should the alarm's own delivery have run out of retries.
    FailedDeployment,
}

/// The trigger of a rollback and its reason.
#[derive(Debug, Clone)]
pub struct Alarm {
    /// The alarm's name, the operator's (`operator:<who>`), or `deployment`.
    pub name: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
    pub cause: Cause,
}

impl Alarm {
    pub(crate) fn describe(&self) -> String {
        let reason = self.reason.as_deref().unwrap_or("no reason given");
        match self.cause {
            Cause::Alarm => format!("CloudWatch alarm {} in ALARM: {reason}", self.name),
            Cause::Operator => format!("rolled back by {}: {reason}", self.name),
            Cause::FailedDeployment => format!("the deployment failed: {reason}"),
        }
    }
}

pub async fn respond<L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<L, E>,
    group: &Group,
    env: &Environment,
    endpoint: &str,
    alarm: &Alarm,
    only: Option<&str>,
) -> Result<Outcome, RollbackError> {
    let Some(state) = ctx.environments.load_state(&group.name, &env.name).await? else {
        return Ok(Outcome::ignored(format!(
            "nothing was ever deployed to {}/{}",
            group.name, env.name
        )));
    };
    // An operator's request is about what serves now, whenever it comes.
    let alarm_at = (alarm.cause != Cause::Operator).then_some(alarm.at);
    let response = deploy::respond_to_alarm_at(&state, alarm_at);
    let bad = match &response {
        AlarmResponse::VerifyAutomatic { bad }
        | AlarmResponse::Explicit { bad, .. }
        | AlarmResponse::NoKnownGood { bad } => bad.clone(),
        AlarmResponse::Nothing { reason } => {
            return Ok(Outcome::ignored(format!(
                "{}/{}: {reason}",
                group.name, env.name
            )))
        }
    };
    // A failed deployment's report is about that model only, and only while
    // its rollback is unrecorded.
    if let Some(only) = only {
        if !matches!(&response, AlarmResponse::VerifyAutomatic { bad } if bad.model_package_arn == only)
        {
            return Ok(Outcome::ignored(format!(
                "{}/{}: the failed deployment of {only} needs nothing more",
                group.name, env.name
            )));
        }
    }
    let key = deploy::keys::rollback(&group.name, &env.name, &bad.model_package_arn);
    let token = match ctx.ledger.claim(&key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(result) => {
            return Ok(Outcome::AlreadyHandled {
                cause: key.to_string(),
                result,
            })
        }
        Claim::InProgress { lease_until } => {
            return Err(RollbackError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    let step = Step {
        ctx,
        group,
        env,
        endpoint,
        alarm,
        key: &key,
        bad: &bad,
    };
    let result = match response {
        AlarmResponse::VerifyAutomatic { .. } => step.verify_automatic().await,
        AlarmResponse::Explicit { target, .. } => step.explicit(&target).await,
        _ => step.no_known_good().await,
    };
    match result {
        Ok(outcome) => {
            let stored = serde_json::to_value(&outcome).unwrap_or_default();
            ctx.ledger.complete(&token, &stored).await?;
            Ok(outcome)
        }
        Err(e) => {
            if let Err(release) = ctx.ledger.release(&token).await {
                tracing::warn!(error = %release, "could not release the rollback claim");
            }
            Err(e)
        }
    }
}

pub(crate) struct Step<'a, L, E> {
    pub(crate) ctx: &'a Context<L, E>,
    pub(crate) group: &'a Group,
    pub(crate) env: &'a Environment,
    pub(crate) endpoint: &'a str,
    pub(crate) alarm: &'a Alarm,
    pub(crate) key: &'a IdempotencyKey,
    pub(crate) bad: &'a Release,
}

impl<L: Ledger, E: EnvironmentLedger> Step<'_, L, E> {
    fn header(&self) -> Header {
        Header {
            model_package_group: self.group.name.clone(),
            model_package_arn: Some(self.bad.model_package_arn.clone()),
            environment: Some(self.env.name.clone()),
            correlation_id: self.key.correlation_id(),
            cause: self.key.clone(),
            policy_version: Some(self.ctx.policy.version.clone()),
        }
    }

    pub(crate) fn busy(&self, what: String) -> RollbackError {
        RollbackError::Busy {
            group: self.group.name.clone(),
            environment: self.env.name.clone(),
            what,
        }
    }

    /// During a rollout: SageMaker's auto-rollback, verified by what is live.
    async fn verify_automatic(&self) -> Result<Outcome, RollbackError> {
        if let Target::LambdaAlias { function, alias } = &self.env.target {
            return self.verify_alias_rollback(function, alias).await;
        }
        let observed = self.ctx.sagemaker.observe(self.endpoint).await?;
        let sagemaker_reason = match deploy::judge(&self.bad.endpoint_config, observed.as_ref()) {
            Verdict::InProgress => {
                return Err(RollbackError::NotYetVerified {
                    endpoint: self.endpoint.to_string(),
                    status: observed
                        .map(|o| o.status.to_string())
                        .unwrap_or_else(|| "gone".into()),
                })
            }
            Verdict::Live => {
                // SageMaker finished before it saw the alarm: once the deploy
                // function records the success, the retry rolls back explicitly.
                return Err(self.busy(format!(
                    "{} went live before the alarm; retried once its success is recorded",
                    self.bad.endpoint_config
                )));
            }
            Verdict::RolledBack { reason } | Verdict::Failed { reason } => reason,
        };
        let live_config = observed.and_then(|o| o.live_config);
        self.record_automatic("SageMaker", sagemaker_reason, live_config)
            .await
    }

    /// The automatic rollback verified: state, package, mail, events.
    pub(crate) async fn record_automatic(
        &self,
        by: &str,
        sagemaker_reason: String,
        live_config: Option<String>,
    ) -> Result<Outcome, RollbackError> {
        let bad_arn = self.bad.model_package_arn.clone();
        update_state(
            &self.ctx.environments,
            &self.group.name,
            &self.env.name,
            |state| {
                state.reject(&bad_arn);
                if let Some(failure) = state
                    .last_failure
                    .as_mut()
                    .filter(|f| f.release.model_package_arn == bad_arn)
                {
                    failure.rollback_recorded = true;
                }
                Some(())
            },
        )
        .await?;
        let reason = format!(
            "{}; {by} rolled the rollout back: {sagemaker_reason}",
            self.alarm.describe()
        );
        self.reject_and_tell(
            &reason,
            &format!("{by} rolled the rollout back by itself; what served before serves again."),
        )
        .await?;
        let started = RollbackStarted {
            header: self.header(),
            reason: reason.clone(),
            automatic: true,
            from_endpoint_config: self.bad.endpoint_config.clone(),
            to_model_package_arn: None,
            to_endpoint_config: live_config.clone(),
        };
        let completed = RollbackCompleted {
            header: self.header(),
            reason,
            automatic: true,
            live_config: live_config.clone(),
        };
        self.record("rollback_completed", &completed).await?;
        self.ctx.publisher.publish(&started).await?;
        self.ctx.publisher.publish(&completed).await?;
        Ok(Outcome::AutoRollbackVerified {
            group: self.group.name.clone(),
            environment: self.env.name.clone(),
            rejected: bad_arn,
            live_config,
        })
    }

    /// After the rollout: all at once back to `target`.
    async fn explicit(&self, target: &Release) -> Result<Outcome, RollbackError> {
        let detail = match &self.env.target {
            Target::LambdaAlias { function, alias } => {
                self.start_alias_rollback(function, alias, target).await?
            }
            Target::SageMakerEndpoint { .. } => {
                self.start_endpoint_rollback(target).await?;
                json!({})
            }
        };
        let reason = self.alarm.describe();
        let rollout = Rollout {
            release: target.clone(),
            kind: RolloutKind::Rollback {
                from: self.bad.clone(),
                reason: reason.clone(),
            },
            cause: self.key.to_string(),
            correlation_id: self.key.correlation_id(),
            started_at: self.alarm.at,
        };
        update_state(
            &self.ctx.environments,
            &self.group.name,
            &self.env.name,
            |state| {
                state
                    .rollout
                    .is_none()
                    .then(|| state.begin(rollout.clone()))
            },
        )
        .await?;
        self.reject_and_tell(
            &reason,
            &format!(
                "Steward is rolling back to the last known good model, version {} ({}), all at once.",
                target.version, target.endpoint_config
            ),
        )
        .await?;
        let started = RollbackStarted {
            header: self.header(),
            reason,
            automatic: false,
            from_endpoint_config: self.bad.endpoint_config.clone(),
            to_model_package_arn: Some(target.model_package_arn.clone()),
            to_endpoint_config: Some(target.endpoint_config.clone()),
        };
        self.record_with("rollback_started", &started, detail)
            .await?;
        self.ctx.publisher.publish(&started).await?;
        Ok(Outcome::RollbackStarted {
            group: self.group.name.clone(),
            environment: self.env.name.clone(),
            rejected: self.bad.model_package_arn.clone(),
            to: target.model_package_arn.clone(),
            to_endpoint_config: target.endpoint_config.clone(),
        })
    }

    /// The endpoint back on `target`'s config, all at once, without the
    /// (firing) alarms as rollback alarms; an update already under way to it
    /// is carried on.
    async fn start_endpoint_rollback(&self, target: &Release) -> Result<(), RollbackError> {
        let observed = self.ctx.sagemaker.observe(self.endpoint).await?;
        let already = observed
            .as_ref()
            .is_some_and(|o| o.pending_config.as_deref() == Some(&target.endpoint_config));
        if !already {
            match observed.as_ref().map(|o| &o.status) {
                Some(steward::events::sagemaker::EndpointStatus::InService) => {}
                other => {
                    return Err(self.busy(format!(
                        "endpoint {} is {}",
                        self.endpoint,
                        other
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "gone".into())
                    )))
                }
            }
            self.ctx
                .sagemaker
                .update_endpoint(
                    self.endpoint,
                    &target.endpoint_config,
                    &DeploymentPlan::rollback(),
                )
                .await?;
        }
        Ok(())
    }

    /// Nothing known good to return to: the package is rejected and people act.
    async fn no_known_good(&self) -> Result<Outcome, RollbackError> {
        let bad_arn = self.bad.model_package_arn.clone();
        update_state(
            &self.ctx.environments,
            &self.group.name,
            &self.env.name,
            |state| {
                state.reject(&bad_arn);
                Some(())
            },
        )
        .await?;
        let reason = self.alarm.describe();
        self.reject_and_tell(
            &reason,
            "There is no known good model to roll back to: the model still serves. Act on it.",
        )
        .await?;
        self.ctx
            .environments
            .append_step(&self.step_record("rollback_impossible", json!({"reason": reason})))
            .await?;
        Ok(Outcome::NoKnownGood {
            group: self.group.name.clone(),
            environment: self.env.name.clone(),
            rejected: bad_arn,
        })
    }

    /// Reject the bad package (status, description and metadata together) and
    /// mail the stewards.
    pub(crate) async fn reject_and_tell(
        &self,
        reason: &str,
        what_now: &str,
    ) -> Result<(), RollbackError> {
        let package = self
            .ctx
            .sagemaker
            .package(&self.bad.model_package_arn)
            .await?;
        let description = format!("Rolled back from {}: {reason}", self.env.name);
        self.ctx
            .sagemaker
            .reject_package(
                &package,
                &description,
                &[
                    ("steward:rolled-back-from", self.env.name.clone()),
                    ("steward:rollback-cause", self.alarm.describe()),
                ],
            )
            .await?;
        let mail = Mail {
            subject: format!(
                "Steward: {} v{} rolled back in {}",
                self.group.name, self.bad.version, self.env.name
            ),
            body: format!(
                "Model package {arn} (version {version}) was rolled back in {env} ({target}).\n\n\
                 Why: {reason}\n\n{what_now}\n\nThe model package is now Rejected.\n\
                 Cause: {key}\n",
                arn = self.bad.model_package_arn,
                version = self.bad.version,
                env = self.env.name,
                target = self.env.target.describe(),
                key = self.key,
            ),
        };
        self.ctx
            .notifier
            .send_each(&self.group.stewards, &mail)
            .await?;
        Ok(())
    }

    pub(crate) fn step_record(&self, kind: &str, detail: serde_json::Value) -> EnvironmentRecord {
        EnvironmentRecord {
            group: self.group.name.clone(),
            environment: self.env.name.clone(),
            at: self.alarm.at,
            kind: kind.into(),
            id: self.key.digest()[..16].to_string(),
            detail,
        }
    }

    pub(crate) async fn record<D: StewardDetail>(
        &self,
        kind: &str,
        event: &D,
    ) -> Result<(), RollbackError> {
        self.record_with(kind, event, json!({})).await
    }

    /// [`Self::record`] with more detail (e.g. the CodeDeploy deployment).
    pub(crate) async fn record_with<D: StewardDetail>(
        &self,
        kind: &str,
        event: &D,
        extra: serde_json::Value,
    ) -> Result<(), RollbackError> {
        let mut detail = json!({"event": event, "alarm": self.alarm.name});
        if let (Some(detail), Some(extra)) = (detail.as_object_mut(), extra.as_object()) {
            detail.extend(extra.clone());
        }
        self.ctx
            .environments
            .append_step(&self.step_record(kind, detail))
            .await?;
        Ok(())
    }
}
