//! The approval-link handler. GET shows the review page and changes nothing
//! (mail scanners open links); POST verifies the token again and makes the
//! decision through the one decision path.
//!
//! The token is a credential: it is never logged, and the pages about a bad
//! link say what is wrong in the approver's terms and nothing else.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use steward::approval::decision::{
    environment_of_purpose, is_decidable, Decider, DecisionError, DecisionEvents, DecisionRequest,
    ModelRegistry, RegistryError, SageMakerRegistry, Verdict,
};
use steward::approval::request::RequestStatus;
use steward::approval::store::{ApprovalStore, DynamoApprovals};
use steward::approval::token::{Claims, TokenError};
use steward::ledger::{DynamoLedger, Ledger};
use steward::publish::Publisher;
use tracing::{error, info};

use crate::evidence::{evidence, load_request};
use crate::http::{classify, Form, Incoming, Reply};
use crate::keys::Keys;
use crate::page::{render, MessagePage};
use crate::review::review_page;
use crate::{Config, LinkError};

/// What approval-link needs, made once per cold start.
pub struct Context<L = DynamoLedger, R = SageMakerRegistry, E = Publisher, A = DynamoApprovals> {
    pub keys: Keys,
    pub decider: Decider<L, R, E, A>,
}

impl Context {
    /// Read the signing keys and build the clients from one SDK config.
    pub async fn connect(aws: &SdkConfig, config: &Config) -> Result<Self, LinkError> {
        let keys = Keys::load(
            aws_sdk_secretsmanager::Client::new(aws),
            &config.key_secret_id,
            config.key_refresh,
        )
        .await?;
        Ok(Self {
            keys,
            decider: Decider {
                ledger: DynamoLedger::new(aws_sdk_dynamodb::Client::new(aws), &config.ledger_table),
                registry: SageMakerRegistry::new(aws_sdk_sagemaker::Client::new(aws)),
                events: Publisher::new(aws_sdk_eventbridge::Client::new(aws), &config.event_bus),
                approvals: DynamoApprovals::new(
                    aws_sdk_dynamodb::Client::new(aws),
                    &config.ledger_table,
                ),
                lease: config.claim_lease,
            },
        })
    }
}

/// The Lambda entry point: handle, log the outcome (never the token), answer.
/// Infrastructure errors are returned, so Lambda counts them.
pub async fn run<L: Ledger, R: ModelRegistry, E: DecisionEvents, A: ApprovalStore>(
    ctx: &Context<L, R, E, A>,
    req: LambdaFunctionUrlRequest,
) -> Result<LambdaFunctionUrlResponse, LinkError> {
    match handle(ctx, req).await {
        Ok(reply) => Ok(reply.into_response()),
        Err(e) => {
            error!(error_type = e.error_type(), error = %e, "approval-link failed");
            Err(e)
        }
    }
}

/// Handle one request; the reply is logged here.
pub async fn handle<L: Ledger, R: ModelRegistry, E: DecisionEvents, A: ApprovalStore>(
    ctx: &Context<L, R, E, A>,
    req: LambdaFunctionUrlRequest,
) -> Result<Reply, LinkError> {
    let (reply, claims) = match classify(&req) {
        Incoming::Review { token, path } => review(ctx, token.as_deref(), &path).await?,
        Incoming::Decide(form) => decide(ctx, form).await?,
        Incoming::MethodNotAllowed { .. } => (
            message(
                405,
                "method_not_allowed",
                "This address only opens approval links",
                &["Open the link from your email."],
            ),
            None,
        ),
        Incoming::UnsupportedBody { reason } => (
            message(
                415,
                "unsupported_body",
                "This decision could not be read",
                &[&format!(
                    "{}. Open the link from your email and use its buttons.",
                    capitalize(reason)
                )],
            ),
            None,
        ),
    };
    info!(
        status = reply.status,
        outcome = reply.outcome,
        token_id = claims.as_ref().map(|c| c.token_id.as_str()),
        model_package_arn = claims.as_ref().map(|c| c.model_package_arn.as_str()),
        approver = claims.as_ref().map(|c| c.approver.as_str()),
        "approval link answered"
    );
    Ok(reply)
}

type Answer = (Reply, Option<Claims>);

async fn review<L: Ledger, R: ModelRegistry, E: DecisionEvents, A: ApprovalStore>(
    ctx: &Context<L, R, E, A>,
    token: Option<&str>,
    path: &str,
) -> Result<Answer, LinkError> {
    let Some(token) = token else {
        return Ok((incomplete(), None));
    };
    let claims = match ctx.keys.verify(token, now()).await {
        Ok(claims) => claims,
        Err(e) => return Ok((refused_token(&e), None)),
    };
    let environment = match environment_of_purpose(&claims.purpose) {
        Ok(env) => env,
        Err(e) => return Ok((refused_decision(&e), Some(claims))),
    };
    let package = match ctx
        .decider
        .registry
        .package(&claims.model_package_arn)
        .await
    {
        Ok(package) => package,
        Err(e @ RegistryError::NotFound(_)) => {
            return Ok((refused_decision(&DecisionError::Registry(e)), Some(claims)))
        }
        Err(e) => return Err(e.into()),
    };
    let request = load_request(&ctx.decider.approvals, &claims).await?;
    let closed = request.as_ref().map(|r| r.status);
    if closed == Some(RequestStatus::Lapsed) {
        return Ok((lapsed(), Some(claims)));
    }
    if closed == Some(RequestStatus::Decided)
        || !is_decidable(&package.status, environment.as_deref())
    {
        let e = DecisionError::NotPending {
            status: package.status.as_str().to_string(),
        };
        return Ok((refused_decision(&e), Some(claims)));
    }
    let evidence = request.map(|r| evidence(&r.gate)).unwrap_or_default();
    let page = review_page(&claims, environment, &package, evidence, token, path);
    Ok((Reply::new(200, "review_shown", render(&page)), Some(claims)))
}

async fn decide<L: Ledger, R: ModelRegistry, E: DecisionEvents, A: ApprovalStore>(
    ctx: &Context<L, R, E, A>,
    form: Form,
) -> Result<Answer, LinkError> {
    let Some(token) = form.token.as_deref() else {
        return Ok((incomplete(), None));
    };
    let claims = match ctx.keys.verify(token, now()).await {
        Ok(claims) => claims,
        Err(e) => return Ok((refused_token(&e), None)),
    };
    let Some(verdict) = form.decision.as_deref().and_then(Verdict::parse) else {
        let reply = message(
            400,
            "no_decision",
            "Choose Approve or Reject",
            &["Nothing was decided. Go back and press one of the two buttons."],
        );
        return Ok((reply, Some(claims)));
    };
    let request = match DecisionRequest::from_claims(
        &claims,
        verdict,
        form.comment.as_deref(),
        chrono::Utc::now(),
    ) {
        Ok(request) => request,
        Err(e) => return Ok((refused_decision(&e), Some(claims))),
    };
    match ctx.decider.decide(&request).await {
        Ok(decided) => {
            let (title, class) = match decided.verdict {
                Verdict::Approve => ("Approved", "pass"),
                Verdict::Reject => ("Rejected", "fail"),
            };
            let model = format!(
                "{} v{}",
                decided.group,
                decided
                    .version
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "?".into())
            );
            let target = decided
                .environment
                .as_deref()
                .map(|env| format!(" for {env}"))
                .unwrap_or_default();
            let lines = vec![
                format!(
                    "You {} {model}{target} at {}.",
                    decided.verdict.past_tense(),
                    decided.decided_at.format("%Y-%m-%d %H:%M UTC")
                ),
                "The decision is recorded with your comment; this link no longer works.".into(),
            ];
            let page = MessagePage::new(title, class, lines);
            Ok((
                Reply::new(200, decided.verdict.past_tense(), render(&page)),
                Some(claims),
            ))
        }
        Err(e) if e.is_refusal() => Ok((refused_decision(&e), Some(claims))),
        Err(e) => Err(e.into()),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn message(status: u16, outcome: &'static str, title: &str, lines: &[&str]) -> Reply {
    let page = MessagePage::new(title, "fail", lines.iter().map(|l| l.to_string()).collect());
    Reply::new(status, outcome, render(&page))
}

fn incomplete() -> Reply {
    message(
        400,
        "token_missing",
        "This approval link is incomplete",
        &["Open the link from your email again; if it was split over two lines, copy all of it."],
    )
}

fn lapsed() -> Reply {
    message(
        410,
        "request_lapsed",
        "This approval request has lapsed",
        &["Nothing was decided and the model still waits.", ASK_AGAIN],
    )
}

const ASK_AGAIN: &str = "Ask the model's stewards for a new link (steward approval resend).";

/// A token that does not verify, in the approver's terms.
fn refused_token(e: &TokenError) -> Reply {
    match e {
        TokenError::Malformed => message(
            400,
            e.error_type(),
            "This approval link is incomplete or damaged",
            &["Open the link from your email again; if it was split over two lines, copy all of it."],
        ),
        TokenError::BadSignature => message(
            403,
            e.error_type(),
            "This approval link is not valid",
            &["It was changed, or it is too old to be trusted.", ASK_AGAIN],
        ),
        TokenError::Expired { .. } => message(
            410,
            e.error_type(),
            "This approval link has expired",
            &["Nothing was decided.", ASK_AGAIN],
        ),
    }
}

/// A decision refused, in the approver's terms. Only refusals come here.
fn refused_decision(e: &DecisionError) -> Reply {
    let outcome = e.error_type();
    match e {
        DecisionError::TokenUsed => message(
            410,
            outcome,
            "This approval link was already used",
            &["A link decides once. The decision made with it stands."],
        ),
        DecisionError::AlreadyDecided { decision } => {
            let line = match decision.as_deref() {
                Some(d) => format!("It was {d}. Your link changed nothing."),
                None => "Someone else decided it just now. Your link changed nothing.".into(),
            };
            message(409, outcome, "This model was already decided", &[&line])
        }
        DecisionError::InProgress => message(
            409,
            outcome,
            "This model is being decided right now",
            &["Another decision is being recorded. Reload in a minute to see it."],
        ),
        DecisionError::NotPending { status } => {
            let line = match status.as_str() {
                "Approved" => "It was already approved.".to_string(),
                "Rejected" => "It was already rejected.".to_string(),
                _ => "It is no longer waiting for approval.".to_string(),
            };
            message(
                409,
                outcome,
                "This model was already decided",
                &[&line, "Your link changed nothing."],
            )
        }
        DecisionError::Registry(RegistryError::NotFound(_)) => message(
            404,
            outcome,
            "This model no longer exists",
            &["It was removed from the model registry. Nothing was decided."],
        ),
        DecisionError::WrongPurpose => message(
            403,
            outcome,
            "This link cannot approve anything",
            &[ASK_AGAIN],
        ),
        DecisionError::CommentTooLong => message(
            400,
            outcome,
            "The comment is too long",
            &[&format!(
                "Keep it under {} characters. Nothing was decided; go back and shorten it.",
                steward::approval::decision::MAX_COMMENT_CHARS
            )],
        ),
        other => message(
            500,
            other.error_type(),
            "Something went wrong",
            &["Try again."],
        ),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// How long a decision holds its claims, when a tool builds a context itself.
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(120);
