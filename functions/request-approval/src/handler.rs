//! The request-approval handler: a model package registered pending approval
//! goes through the gate; the schedule tick reminds and lapses open requests.

use std::time::Duration;

use aws_config::SdkConfig;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward::approval::ask::{Asked, Asker, Ticked};
use steward::approval::decision::SageMakerRegistry;
use steward::approval::store::DynamoApprovals;
use steward::approval::token::SigningKeys;
use steward::events::sagemaker::ModelPackageStateChange;
use steward::events::schedule::Scheduled;
use steward::events::steward::{PromotionRequested, StewardDetail};
use steward::events::{self as ev, EventError};
use steward::ledger::{DynamoEnvironments, DynamoLedger};
use steward::notify::Notifier;
use steward::policy_store::{load_policy, PublishedPolicy};
use steward::publish::Publisher;
use steward::secrets::load_stages;
use tracing::{error, info};

use crate::{Config, RequestApprovalError};

/// What request-approval needs, made once per cold start.
pub struct Context {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub s3: aws_sdk_s3::Client,
    pub ledger: DynamoLedger,
    pub environments: DynamoEnvironments,
    pub approvals: DynamoApprovals,
    pub registry: SageMakerRegistry,
    pub notifier: Notifier,
    pub publisher: Publisher,
    pub keys: SigningKeys,
    pub policy: PublishedPolicy,
    pub approval_url: String,
    pub claim_lease: Duration,
}

/// Why the function could not start.
#[derive(Debug, thiserror::Error)]
pub enum ColdStartError {
    #[error(transparent)]
    Policy(#[from] steward::policy_store::PolicyLoadError),
    #[error(transparent)]
    Secret(#[from] steward::secrets::SecretLoadError),
    #[error("the approval signing key is unusable: {0}")]
    Key(#[from] steward::approval::token::KeyError),
}

impl Context {
    /// Build the clients from one SDK config; load the policy and the signing key.
    pub async fn connect(aws: &SdkConfig, config: &Config) -> Result<Self, ColdStartError> {
        let policy = load_policy(&aws_sdk_ssm::Client::new(aws), &config.policy_parameter).await?;
        let stages = load_stages(
            &aws_sdk_secretsmanager::Client::new(aws),
            &config.key_secret_id,
        )
        .await?;
        let dynamodb = aws_sdk_dynamodb::Client::new(aws);
        let sagemaker = aws_sdk_sagemaker::Client::new(aws);
        Ok(Self {
            registry: SageMakerRegistry::new(sagemaker.clone()),
            sagemaker,
            s3: aws_sdk_s3::Client::new(aws),
            ledger: DynamoLedger::new(dynamodb.clone(), &config.ledger_table),
            environments: DynamoEnvironments::new(dynamodb.clone(), &config.ledger_table),
            approvals: DynamoApprovals::new(dynamodb, &config.ledger_table),
            notifier: Notifier::new(aws_sdk_sns::Client::new(aws), &config.notifications_topic),
            publisher: Publisher::new(aws_sdk_eventbridge::Client::new(aws), &config.event_bus),
            keys: SigningKeys::from_stages(stages)?,
            policy,
            approval_url: config.approval_url.clone(),
            claim_lease: config.claim_lease,
        })
    }

    pub fn asker(&self) -> Asker<'_, DynamoLedger, DynamoApprovals> {
        Asker {
            ledger: &self.ledger,
            approvals: &self.approvals,
            notifier: &self.notifier,
            publisher: &self.publisher,
            keys: &self.keys,
            approval_url: &self.approval_url,
            lease: self.claim_lease,
        }
    }
}

/// What one delivery did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// The gate failed: the package was rejected with these reasons and the
    /// stewards told.
    Rejected {
        model_package_arn: String,
        failures: Vec<String>,
    },
    /// The gate passed and each approver was mailed a link.
    Requested {
        model_package_arn: String,
        #[serde(flatten)]
        asked: Asked,
    },
    /// The gate passed and the policy approved without asking anyone
    /// (`approval = "auto"` or `"none"` for the first environment).
    ApprovedByPolicy {
        model_package_arn: String,
        environment: String,
        reason: String,
    },
    /// An earlier delivery handled this package; here is what it did.
    AlreadyHandled { previous: Box<Outcome> },
    /// Nothing to do, and why.
    Ignored { reason: String },
    /// The schedule tick: reminders sent, requests lapsed or closed.
    Ticked(Ticked),
}

/// The Lambda entry point: handle, and log the outcome or the typed error as
/// JSON. Errors are returned, not swallowed, so Lambda retries and then
/// dead-letters.
pub async fn run(ctx: &Context, payload: Value) -> Result<Outcome, RequestApprovalError> {
    let result = handle(ctx, payload).await;
    match &result {
        Ok(outcome) => {
            info!(outcome = %serde_json::to_string(outcome).unwrap_or_default(), "request-approval done")
        }
        Err(e) => error!(error_type = e.error_type(), error = %e, "request-approval failed"),
    }
    result
}

/// Handle one event.
pub async fn handle(ctx: &Context, payload: Value) -> Result<Outcome, RequestApprovalError> {
    if ev::is::<ModelPackageStateChange>(&payload) {
        let event = ev::decode_as::<ModelPackageStateChange>(payload)?;
        let at = event
            .time
            .ok_or(EventError::MissingField { field: "time" })?;
        return crate::gate::on_registered(ctx, &event.detail, at).await;
    }
    if ev::is::<Scheduled>(&payload) {
        let event = ev::decode_as::<Scheduled>(payload)?;
        // The tick's own time: what is due is judged by when the tick fired,
        // so a late or replayed tick decides as it would have on time.
        let at = event
            .time
            .ok_or(EventError::MissingField { field: "time" })?;
        let ticked = ctx
            .asker()
            .tick(&ctx.registry, &ctx.policy.policy, at)
            .await?;
        return Ok(Outcome::Ticked(ticked));
    }
    let (source, detail_type) = ev::event_type(&payload)?;
    if source == ev::steward::SOURCE && detail_type == PromotionRequested::DETAIL_TYPE {
        let event = ev::decode::<PromotionRequested>(payload)?;
        let at = event
            .time
            .ok_or(EventError::MissingField { field: "time" })?;
        return crate::promotion::on_promotion_requested(ctx, &event.detail, at).await;
    }
    Err(RequestApprovalError::Unsupported {
        event_source: source.to_string(),
        detail_type: detail_type.to_string(),
    })
}
