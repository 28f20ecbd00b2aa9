//! The publish-policy handler: a push to the policy's branch → fetch the
//! policy at the commit → publish it (labelled with the commit, subscriptions
//! synced) or reject it (errors in the ledger, mail to the stewards). Once per
//! commit, however many deliveries or hosts announce it.

use std::time::Duration;

use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use steward::build::GitPush;
use steward::events::codecommit::RepositoryStateChange;
use steward::events::{self as ev, EventError};
use steward::ledger::{Claim, DynamoLedger, Ledger, LineageRecord, Subject};
use steward::naming::IdempotencyKey;
use steward::notify::{self, Mail, Notifier};
use steward::policy::{Policy, PolicyError, PolicyErrors};
use steward::policy_store::publish::{self, GitHost, PolicyPush, PolicySource, PushDecision};
use steward::policy_store::{label_version, publish_policy, published_text, version_description};
use tracing::{error, info, warn};

use crate::fetch::{FetchError, Fetcher};
use crate::http::Http;
use crate::{Config, PublishPolicyError};

/// The ledger kinds, in each group's history (`GROUP#<group>`).
pub const PUBLISHED: &str = "policy_published";
pub const REJECTED: &str = "policy_rejected";

pub struct Context<L = DynamoLedger> {
    pub ssm: aws_sdk_ssm::Client,
    pub sns: aws_sdk_sns::Client,
    pub ledger: L,
    pub notifier: Notifier,
    pub fetcher: Fetcher,
    pub source: PolicySource,
    pub parameter: String,
    pub claim_lease: Duration,
}

impl Context<DynamoLedger> {
    pub async fn connect(aws: &SdkConfig, config: &Config) -> Result<Self, PublishPolicyError> {
        let token = match &config.git_token_secret {
            None => None,
            Some(secret) => Some(read_token(aws, secret).await?),
        };
        let sns = aws_sdk_sns::Client::new(aws);
        Ok(Self {
            ssm: aws_sdk_ssm::Client::new(aws),
            notifier: Notifier::new(sns.clone(), &config.notifications_topic),
            sns,
            ledger: DynamoLedger::new(aws_sdk_dynamodb::Client::new(aws), &config.ledger_table),
            fetcher: Fetcher {
                codecommit: aws_sdk_codecommit::Client::new(aws),
                http: Http::new().map_err(|e| PublishPolicyError::Http(e.to_string()))?,
                github_api: config.github_api.clone(),
                gitlab_api: config.gitlab_api.clone(),
                token,
            },
            source: config.source.clone(),
            parameter: config.policy_parameter.clone(),
            claim_lease: config.claim_lease,
        })
    }
}

async fn read_token(aws: &SdkConfig, secret: &str) -> Result<String, PublishPolicyError> {
    let out = aws_sdk_secretsmanager::Client::new(aws)
        .get_secret_value()
        .secret_id(secret)
        .send()
        .await
        .map_err(|e| PublishPolicyError::Token {
            secret: secret.into(),
            message: steward::aws_error::describe(&e),
        })?;
    out.secret_string
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| PublishPolicyError::Token {
            secret: secret.into(),
            message: "the secret has no string value".into(),
        })
}

/// What this delivery did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// The commit's policy is the parameter's new version.
    #[serde(rename_all = "camelCase")]
    Published {
        commit: String,
        version: i64,
        label: String,
        subscribed: Vec<String>,
        unsubscribed: Vec<String>,
    },
    /// The commit's policy is invalid; the policy in force stays.
    #[serde(rename_all = "camelCase")]
    Rejected {
        commit: String,
        errors: Vec<String>,
        in_force: Option<String>,
        notified: Vec<String>,
    },
    /// The commit's policy is the one in force already.
    Unchanged {
        commit: String,
        version: i64,
    },
    /// An earlier delivery of the same commit did the work: its outcome.
    AlreadyHandled {
        first: Value,
    },
    Ignored {
        reason: String,
    },
}

pub async fn run<L: Ledger>(
    ctx: &Context<L>,
    payload: Value,
) -> Result<Outcome, PublishPolicyError> {
    let result = handle(ctx, payload).await;
    match &result {
        Ok(outcome) => {
            info!(outcome = %serde_json::to_string(outcome).unwrap_or_default(), "handled")
        }
        Err(e) => error!(error_type = e.error_type(), error = %e, "publish-policy failed"),
    }
    result
}

pub async fn handle<L: Ledger>(
    ctx: &Context<L>,
    payload: Value,
) -> Result<Outcome, PublishPolicyError> {
    let (push, at) = decode(payload)?;
    let Some(push) = push else {
        return Ok(Outcome::Ignored {
            reason: "not a push of new commits to a branch".into(),
        });
    };
    if let PushDecision::Ignore(reason) = publish::decide(&ctx.source, &push) {
        return Ok(Outcome::Ignored { reason });
    }
    let key = publish::publish_key(&push);
    let token = match ctx.ledger.claim(&key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(first) => return Ok(Outcome::AlreadyHandled { first }),
        Claim::InProgress { lease_until } => {
            return Err(PublishPolicyError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    match publish_or_reject(ctx, &push, &key, at).await {
        Ok(outcome) => {
            let stored = serde_json::to_value(&outcome).unwrap_or(Value::Null);
            ctx.ledger.complete(&token, &stored).await?;
            Ok(outcome)
        }
        Err(e) => {
            if let Err(release) = ctx.ledger.release(&token).await {
                warn!(error = %release, cause = %key, "could not release the claim");
            }
            Err(e)
        }
    }
}

/// The push in a CodeCommit state change or a steward `Git Push`; `None` for
/// reference changes that bring no new commits to a branch.
fn decode(payload: Value) -> Result<(Option<PolicyPush>, DateTime<Utc>), PublishPolicyError> {
    if ev::is::<RepositoryStateChange>(&payload) {
        let event = ev::decode_as::<RepositoryStateChange>(payload)?;
        let at = event
            .time
            .ok_or(EventError::MissingField { field: "time" })?;
        let change = &event.detail;
        let Some(branch) = change.branch().filter(|_| change.is_branch_push()) else {
            return Ok((None, at));
        };
        let push = PolicyPush {
            host: GitHost::CodeCommit,
            repository: change.repository_name.clone(),
            branch: branch.to_string(),
            commit: change.require_commit_id()?.to_string(),
            changed_paths: None,
        };
        return Ok((Some(push), at));
    }
    let (source, detail_type) = ev::event_type(&payload)?;
    if source == ev::steward::SOURCE && detail_type == steward::build::GIT_PUSH {
        let event = ev::decode::<GitPush>(payload)?;
        let at = event
            .time
            .ok_or(EventError::MissingField { field: "time" })?;
        let detail = event.detail;
        let host = detail
            .provider
            .as_deref()
            .and_then(GitHost::from_provider)
            .ok_or(EventError::MissingField {
                field: "detail.provider (github or gitlab)",
            })?;
        let push = PolicyPush {
            host,
            repository: detail.repository,
            branch: detail.branch,
            commit: detail.commit,
            changed_paths: Some(detail.changed_paths),
        };
        return Ok((Some(push), at));
    }
    Err(PublishPolicyError::Unsupported {
        event_source: source.to_string(),
        detail_type: detail_type.to_string(),
    })
}

async fn publish_or_reject<L: Ledger>(
    ctx: &Context<L>,
    push: &PolicyPush,
    key: &IdempotencyKey,
    at: DateTime<Utc>,
) -> Result<Outcome, PublishPolicyError> {
    let path = &ctx.source.path;
    let text = match ctx.fetcher.fetch(push, path).await {
        Ok(text) => Ok(text),
        // A policy repository without its policy is a broken policy.
        Err(FetchError::NotFound { .. }) => Err(PolicyErrors(vec![PolicyError {
            path: path.clone(),
            message: format!("the file does not exist at commit {}", push.commit),
        }])),
        Err(e) => return Err(e.into()),
    };
    let current = published_text(&ctx.ssm, &ctx.parameter).await?;
    let description = publish::version_description(push);
    if let (Ok(text), Some((in_force, version))) = (&text, &current) {
        if text == in_force {
            // A retry after a crash anywhere between PutParameter and the
            // ledger record finds its own text in force, under the description
            // naming this push: it finishes that publication (label, mail
            // subscriptions, record; each idempotent). Any other version with
            // the same text is simply unchanged.
            let ours = version_description(&ctx.ssm, &ctx.parameter, *version).await?;
            if ours.as_deref() != Some(description.as_str()) {
                return Ok(Outcome::Unchanged {
                    commit: push.commit.clone(),
                    version: *version,
                });
            }
        }
    }
    let in_force = current
        .as_ref()
        .and_then(|(text, _)| Policy::parse(text).ok());
    let in_force_version = current
        .as_ref()
        .map(|(_, v)| format!("ssm:{}:{v}", ctx.parameter));
    match text.and_then(|text| Policy::parse(&text).map(|policy| (text, policy))) {
        Ok((text, policy)) => {
            let label = publish::version_label(&push.commit);
            let version = match &current {
                Some((in_force, version)) if *in_force == text => {
                    label_version(&ctx.ssm, &ctx.parameter, *version, &label).await?;
                    *version
                }
                _ => publish_policy(&ctx.ssm, &ctx.parameter, &text, &description, &label).await?,
            };
            let changes = notify::sync_subscriptions(
                &ctx.sns,
                ctx.notifier.topic_arn(),
                &notify::people(&policy),
            )
            .await?;
            let detail = json!({
                "repository": push.repository,
                "branch": push.branch,
                "commit": push.commit,
                "policyVersion": format!("ssm:{}:{version}", ctx.parameter),
                "label": label,
                "cause": key,
            });
            record(ctx, &policy, PUBLISHED, key, at, &detail).await?;
            Ok(Outcome::Published {
                commit: push.commit.clone(),
                version,
                label,
                subscribed: changes.subscribed,
                unsubscribed: changes.unsubscribed,
            })
        }
        Err(errors) => {
            let listed: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            let mut notified = Vec::new();
            if let Some(in_force_policy) = &in_force {
                let detail = json!({
                    "repository": push.repository,
                    "branch": push.branch,
                    "commit": push.commit,
                    "errors": listed,
                    "inForce": in_force_version,
                    "cause": key,
                });
                record(ctx, in_force_policy, REJECTED, key, at, &detail).await?;
                let version = in_force_version.as_deref().unwrap_or("the published one");
                let mail = publish::rejection_mail(&ctx.source, push, &errors, version);
                for steward in publish::stewards(in_force_policy) {
                    if mail_once(ctx, key, &steward, &mail).await? {
                        notified.push(steward);
                    }
                }
            }
            Ok(Outcome::Rejected {
                commit: push.commit.clone(),
                errors: listed,
                in_force: in_force_version,
                notified,
            })
        }
    }
}

/// One record per group of `policy`, so each group's history shows which
/// policy governs it (or which was refused).
async fn record<L: Ledger>(
    ctx: &Context<L>,
    policy: &Policy,
    kind: &str,
    key: &IdempotencyKey,
    at: DateTime<Utc>,
    detail: &Value,
) -> Result<(), PublishPolicyError> {
    for group in policy.groups.keys() {
        ctx.ledger
            .append(&LineageRecord {
                subject: Subject::Group(group.clone()),
                at,
                kind: kind.into(),
                id: key.digest(),
                source: ev::steward::SOURCE.into(),
                detail: detail.clone(),
            })
            .await?;
    }
    Ok(())
}

/// One mail per (rejected commit, steward), claimed first.
async fn mail_once<L: Ledger>(
    ctx: &Context<L>,
    cause: &IdempotencyKey,
    to: &str,
    mail: &Mail,
) -> Result<bool, PublishPolicyError> {
    let key = IdempotencyKey::new(format!("mail/{cause}/{to}"));
    let token = match ctx.ledger.claim(&key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(_) => return Ok(false),
        Claim::InProgress { lease_until } => {
            return Err(PublishPolicyError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    match ctx.notifier.send(to, mail).await {
        Ok(message_id) => {
            ctx.ledger
                .complete(&token, &json!({ "messageId": message_id }))
                .await?;
            Ok(true)
        }
        Err(e) => {
            if let Err(release) = ctx.ledger.release(&token).await {
                warn!(error = %release, cause = %key, "could not release the claim");
            }
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_samples_decode_to_pushes_of_the_policy_branch() {
        let sample = include_str!("../../../events/git-push-policy.json");
        let (push, _) = decode(serde_json::from_str(sample).unwrap()).unwrap();
        let push = push.unwrap();
        assert_eq!(push.host, GitHost::GitHub);
        assert_eq!(push.changed_paths, Some(vec!["steward.toml".to_string()]));
        let source = PolicySource {
            repository: "acme/ml-models".into(),
            branch: "main".into(),
            path: "steward.toml".into(),
        };
        assert_eq!(publish::decide(&source, &push), PushDecision::Fetch);

        let sample = include_str!("../../../events/codecommit-push.json");
        let (push, _) = decode(serde_json::from_str(sample).unwrap()).unwrap();
        let push = push.unwrap();
        assert_eq!(push.host, GitHost::CodeCommit);
        assert_eq!(push.changed_paths, None);
    }

    #[test]
    fn other_events_are_a_typed_error() {
        let sample = include_str!("../../../events/scheduled.json");
        let err = decode(serde_json::from_str(sample).unwrap()).unwrap_err();
        assert_eq!(err.error_type(), "unsupported_event");
    }
}
