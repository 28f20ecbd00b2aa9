//! The git-webhook handler: check the request, prove the delivery came from the
//! forge, handle each delivery id once, and publish a `Git Push` for a verified
//! push to a branch.
//!
//! Nothing about the body is trusted (or even parsed) before its signature or
//! token is verified. Neither the secret nor the signature is ever logged.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use serde_json::json;
use steward::ledger::{Claim, DynamoLedger, Ledger};
use steward::publish::Publisher;
use steward::webhook::{github, gitlab, GitPush, Push, PushError, Secrets};
use tracing::{error, info, warn};

use crate::http::{precheck, Incoming, Reply};
use crate::secrets::load_secrets;
use crate::{Config, WebhookError};

/// What git-webhook needs, made once per cold start.
pub struct Context<L = DynamoLedger> {
    pub secrets: Secrets,
    pub ledger: L,
    pub publisher: Publisher,
    pub claim_lease: Duration,
}

impl Context<DynamoLedger> {
    /// Read the secret (both stages) and build the clients from one SDK config.
    pub async fn connect(aws: &SdkConfig, config: &Config) -> Result<Self, WebhookError> {
        let secrets =
            load_secrets(&aws_sdk_secretsmanager::Client::new(aws), &config.secret_id).await?;
        Ok(Self {
            secrets,
            ledger: DynamoLedger::new(aws_sdk_dynamodb::Client::new(aws), &config.ledger_table),
            publisher: Publisher::new(aws_sdk_eventbridge::Client::new(aws), &config.event_bus),
            claim_lease: config.claim_lease,
        })
    }
}

/// The Lambda entry point: handle, log the outcome (never a header value), and
/// answer. Infrastructure errors are returned, so Lambda counts them.
pub async fn run<L: Ledger>(
    ctx: &Context<L>,
    req: LambdaFunctionUrlRequest,
) -> Result<LambdaFunctionUrlResponse, WebhookError> {
    match handle(ctx, req).await {
        Ok(reply) => {
            info!(
                status = reply.status,
                outcome = reply.outcome,
                message = %reply.message,
                "webhook answered"
            );
            Ok(reply.into_response())
        }
        Err(e) => {
            error!(error_type = e.error_type(), error = %e, "git-webhook failed");
            Err(e)
        }
    }
}

/// Handle one request.
pub async fn handle<L: Ledger>(
    ctx: &Context<L>,
    req: LambdaFunctionUrlRequest,
) -> Result<Reply, WebhookError> {
    let incoming = match precheck(req) {
        Ok(incoming) => incoming,
        Err(reply) => return Ok(reply),
    };
    if let Some(event) = incoming.header(github::EVENT_HEADER) {
        let event = event.to_string();
        return on_github(ctx, &incoming, &event).await;
    }
    if let Some(event) = incoming.header(gitlab::EVENT_HEADER) {
        let event = event.to_string();
        return on_gitlab(ctx, &incoming, &event).await;
    }
    Ok(Reply::new(
        400,
        "unknown_sender",
        "not a GitHub or GitLab webhook: no X-GitHub-Event or X-Gitlab-Event header",
    ))
}

async fn on_github<L: Ledger>(
    ctx: &Context<L>,
    incoming: &Incoming,
    event: &str,
) -> Result<Reply, WebhookError> {
    // Every GitHub event is signed, ping included: a 401 on the ping tells the
    // person setting up the webhook at once that the secret is wrong.
    let signature = incoming.header(github::SIGNATURE_HEADER);
    if let Err(e) = github::verify_signature(&ctx.secrets, &incoming.body, signature) {
        warn!(provider = "github", reason = %e, "webhook refused");
        return Ok(Reply::new(401, "unauthorized", e.to_string()));
    }
    match event {
        "ping" => Ok(Reply::new(200, "pong", "pong")),
        "push" => {
            let delivery = match delivery_id(incoming.header(github::DELIVERY_HEADER)) {
                Ok(id) => id,
                Err(reply) => return Ok(reply),
            };
            on_push(ctx, github::parse_push(&incoming.body), delivery).await
        }
        other => Ok(ignored(format!(
            "X-GitHub-Event {other} is ignored: only push starts builds"
        ))),
    }
}

async fn on_gitlab<L: Ledger>(
    ctx: &Context<L>,
    incoming: &Incoming,
    event: &str,
) -> Result<Reply, WebhookError> {
    if let Err(e) = gitlab::verify_token(&ctx.secrets, incoming.header(gitlab::TOKEN_HEADER)) {
        warn!(provider = "gitlab", reason = %e, "webhook refused");
        return Ok(Reply::new(401, "unauthorized", e.to_string()));
    }
    if event != gitlab::PUSH_EVENT {
        return Ok(ignored(format!(
            "X-Gitlab-Event {event} is ignored: only Push Hook starts builds"
        )));
    }
    // Idempotency-Key is stable across GitLab's retries of one delivery;
    // versions before 17.4 send only the event's UUID.
    let delivery = incoming
        .header(gitlab::IDEMPOTENCY_HEADER)
        .or_else(|| incoming.header(gitlab::EVENT_UUID_HEADER));
    let delivery = match delivery_id(delivery) {
        Ok(id) => id,
        Err(reply) => return Ok(reply),
    };
    on_push(ctx, gitlab::parse_push(&incoming.body), delivery).await
}

/// A delivery id becomes part of a ledger key: a bounded, printable token.
fn delivery_id(header: Option<&str>) -> Result<&str, Reply> {
    match header.map(str::trim) {
        Some(id) if (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(id)
        }
        Some(_) => Err(Reply::new(
            400,
            "bad_request",
            "the delivery id header is not a printable token of at most 128 characters",
        )),
        None => Err(Reply::new(
            400,
            "bad_request",
            "the delivery id header (X-GitHub-Delivery, Idempotency-Key or X-Gitlab-Event-UUID) is missing",
        )),
    }
}

fn ignored(reason: String) -> Reply {
    Reply::new(202, "ignored", reason)
}

/// Claim the delivery, publish its `Git Push`, then mark the claim done. A
/// failure releases the claim, so a redelivery starts over.
async fn on_push<L: Ledger>(
    ctx: &Context<L>,
    parsed: Result<Push, PushError>,
    delivery: &str,
) -> Result<Reply, WebhookError> {
    let push = match parsed {
        Ok(push) => push,
        Err(e) => return Ok(Reply::new(400, "malformed_push", e.to_string())),
    };
    let Some(event) = GitPush::from_push(&push, delivery) else {
        let reason = push.ignore_reason().unwrap_or_default();
        return Ok(ignored(reason));
    };
    let key = &event.header.cause;
    let token = match ctx.ledger.claim(key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(_) => {
            return Ok(Reply::new(
                200,
                "already_handled",
                format!("delivery {delivery} was already handled"),
            ))
        }
        Claim::InProgress { .. } => {
            return Ok(Reply::new(
                409,
                "in_progress",
                format!("delivery {delivery} is being handled by another request"),
            ))
        }
    };
    match ctx.publisher.publish(&event).await {
        Ok(event_id) => {
            let result = json!({
                "eventId": event_id,
                "repository": event.repository,
                "branch": event.branch,
                "commit": event.commit,
            });
            ctx.ledger.complete(&token, &result).await?;
            info!(
                provider = event.provider.as_str(),
                delivery_id = delivery,
                repository = %event.repository,
                branch = %event.branch,
                commit = %event.commit,
                changed_paths = event.changed_paths.len(),
                event_id = %event_id,
                "Git Push published"
            );
            Ok(Reply::new(
                200,
                "published",
                format!(
                    "Git Push published for {} {} at {}",
                    event.repository, event.branch, event.commit
                ),
            ))
        }
        Err(e) => {
            if let Err(release) = ctx.ledger.release(&token).await {
                // The lease still expires, so a redelivery is only delayed.
                warn!(error = %release, cause = %key, "could not release the claim");
            }
            Err(e.into())
        }
    }
}
