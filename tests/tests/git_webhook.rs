//! git-webhook through the twin: GitHub and GitLab push deliveries, verified
//! with a secret kept in Secrets Manager, claimed in the ledger and published
//! as `Git Push` on the steward bus, exactly once; everything else refused
//! with the right status and nothing emitted.

use std::time::Duration;

use git_webhook::{handle, Config, Context, LambdaFunctionUrlRequest, Reply};
use serde_json::{json, Value};
use steward::webhook::github::sign;
use steward_tests::EXAMPLE_POLICY;
use steward_twin::{local_sdk_config, Emulator, Stack, StackSpec, Twin, TwinConfig};

const SECRET_ID: &str = "steward/webhook";
const SECRET: &str = "steward-local-webhook-secret";
const GITHUB_PUSH: &str = include_str!("../../events/github-push.json");
const GITLAB_PUSH: &str = include_str!("../../events/gitlab-push.json");
const FUNCTION_URL_REQUEST: &str = include_str!("../../events/function-url-github-push.json");
/// Events land on the capture queue as PutEvents returns; this bounds the wait.
const WAIT: Duration = Duration::from_secs(3);
/// Long enough to be sure an event that should not exist did not arrive.
const QUIET: Duration = Duration::from_secs(1);

struct Local {
    _moto: Emulator,
    _twin: Twin,
    sdk: aws_config::SdkConfig,
    stack: Stack,
}

impl Local {
    async fn start() -> Local {
        let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
        let twin = Twin::start(TwinConfig::new(moto.endpoint())).await.unwrap();
        let sdk = local_sdk_config(&twin.endpoint()).await;
        let stack = Stack::provision(&sdk, StackSpec::new(EXAMPLE_POLICY))
            .await
            .unwrap_or_else(|e| panic!("provisioning failed: {e}"));
        secrets(&sdk)
            .create_secret()
            .name(SECRET_ID)
            .secret_string(SECRET)
            .send()
            .await
            .unwrap();
        Local {
            _moto: moto,
            _twin: twin,
            sdk,
            stack,
        }
    }

    /// The function's context, made the way its main.rs makes it.
    async fn function(&self) -> Context {
        let config = Config {
            secret_id: SECRET_ID.into(),
            ledger_table: self.stack.spec.ledger_table.clone(),
            event_bus: self.stack.spec.event_bus.clone(),
            claim_lease: Duration::from_secs(60),
        };
        Context::connect(&self.sdk, &config)
            .await
            .unwrap_or_else(|e| panic!("git-webhook could not start: {e}"))
    }

    async fn git_push_events(&self, wait: Duration) -> Vec<Value> {
        let events = self.stack.steward_events(wait).await.unwrap();
        events
            .into_iter()
            .filter(|e| e["detail-type"] == "Git Push")
            .collect()
    }
}

fn secrets(sdk: &aws_config::SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(sdk)
}

/// The sample Function URL request with this method, headers and body.
fn request(method: &str, headers: &[(&str, &str)], body: &str) -> LambdaFunctionUrlRequest {
    let mut req: Value = serde_json::from_str(FUNCTION_URL_REQUEST).unwrap();
    req["requestContext"]["http"]["method"] = json!(method);
    let mut map = serde_json::Map::new();
    map.insert("content-type".into(), json!("application/json"));
    map.insert("user-agent".into(), json!("test"));
    for (name, value) in headers {
        map.insert(name.to_string(), json!(value));
    }
    req["headers"] = Value::Object(map);
    req["body"] = json!(body);
    req["isBase64Encoded"] = json!(false);
    serde_json::from_value(req).unwrap()
}

fn github(
    event: &str,
    delivery: &str,
    signature: Option<&str>,
    body: &str,
) -> LambdaFunctionUrlRequest {
    let mut headers = vec![("x-github-event", event), ("x-github-delivery", delivery)];
    if let Some(signature) = signature {
        headers.push(("x-hub-signature-256", signature));
    }
    request("POST", &headers, body)
}

fn signed_push(delivery: &str) -> LambdaFunctionUrlRequest {
    let signature = sign(SECRET.as_bytes(), GITHUB_PUSH.as_bytes());
    github("push", delivery, Some(&signature), GITHUB_PUSH)
}

async fn call(ctx: &Context, req: LambdaFunctionUrlRequest) -> Reply {
    handle(ctx, req).await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_signed_push_publishes_one_git_push_and_a_redelivery_none() {
    let local = Local::start().await;
    let ctx = local.function().await;

    // The sample request as a forge sends it (signed with the sample secret).
    let sample: LambdaFunctionUrlRequest = serde_json::from_str(FUNCTION_URL_REQUEST).unwrap();
    let reply = call(&ctx, sample).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.outcome, "published");

    let events = local.git_push_events(WAIT).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let detail = &events[0]["detail"];
    assert_eq!(events[0]["source"], "steward");
    assert_eq!(detail["provider"], "github");
    assert_eq!(detail["repository"], "acme/ml-models");
    assert_eq!(detail["branch"], "main");
    assert_eq!(detail["commit"], "9f2c1e0b8d4a6c3e5f7a9b1d2c4e6f8a0b1c3d5e");
    assert_eq!(detail["deliveryId"], "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert_eq!(detail["pusher"], "octocat");
    assert_eq!(
        detail["changedPaths"],
        json!([
            "README.md",
            "models/payroll-fraud/features.py",
            "models/payroll-fraud/old_features.py",
            "models/payroll-fraud/train.py"
        ])
    );
    assert_eq!(detail["changedPathsComplete"], true);
    assert_eq!(
        detail["cause"],
        "webhook/github/72d3162e-cc78-11e3-81ab-4c9367dc0958"
    );

    // GitHub's "Redeliver" sends the same delivery id: answered, not re-emitted.
    let again = call(&ctx, signed_push("72d3162e-cc78-11e3-81ab-4c9367dc0958")).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.outcome, "already_handled", "{again:?}");
    assert!(local.git_push_events(QUIET).await.is_empty());

    // A ping (sent when the webhook is created) is answered and emits nothing.
    let ping_body = r#"{"zen":"Design for failure.","hook_id":292430182}"#;
    let ping_signature = sign(SECRET.as_bytes(), ping_body.as_bytes());
    let pong = call(
        &ctx,
        github("ping", "p-1", Some(&ping_signature), ping_body),
    )
    .await;
    assert_eq!((pong.status, pong.message.as_str()), (200, "pong"));

    // Other events are acknowledged and ignored.
    let issues = call(
        &ctx,
        github("issues", "i-1", Some(&ping_signature), ping_body),
    )
    .await;
    assert_eq!(issues.status, 202);
    assert!(local.git_push_events(QUIET).await.is_empty());
}

#[tokio::test]
async fn a_tampered_body_a_wrong_secret_or_no_signature_gets_401_and_no_event() {
    let local = Local::start().await;
    let ctx = local.function().await;
    let good = sign(SECRET.as_bytes(), GITHUB_PUSH.as_bytes());
    let tampered_body = GITHUB_PUSH.replace("refs/heads/main", "refs/heads/prod");
    let wrong = sign(b"not-the-secret", GITHUB_PUSH.as_bytes());

    for (what, req) in [
        (
            "tampered",
            github("push", "t-1", Some(&good), &tampered_body),
        ),
        (
            "wrong secret",
            github("push", "t-2", Some(&wrong), GITHUB_PUSH),
        ),
        ("missing", github("push", "t-3", None, GITHUB_PUSH)),
        (
            "malformed",
            github("push", "t-4", Some("sha256=nothex"), GITHUB_PUSH),
        ),
        ("ping unsigned", github("ping", "t-5", None, "{}")),
    ] {
        let reply = call(&ctx, req).await;
        assert_eq!(reply.status, 401, "{what}: {reply:?}");
        assert!(
            !reply.message.contains(&good[7..]) && !reply.message.contains(SECRET),
            "{what}: the reply leaks a secret: {reply:?}"
        );
    }
    assert!(local.git_push_events(QUIET).await.is_empty());
    // Refused deliveries claimed nothing: the same id, signed, still goes through.
    let reply = call(&ctx, signed_push("t-1")).await;
    assert_eq!(reply.outcome, "published", "{reply:?}");
    assert_eq!(local.git_push_events(WAIT).await.len(), 1);
}

#[tokio::test]
async fn twenty_concurrent_redeliveries_publish_one_event() {
    let local = Local::start().await;
    let ctx = local.function().await;
    let replies =
        futures::future::join_all((0..20).map(|_| call(&ctx, signed_push("dup-1")))).await;
    let published = replies.iter().filter(|r| r.outcome == "published").count();
    assert_eq!(published, 1, "{replies:#?}");
    assert!(replies
        .iter()
        .all(|r| matches!(r.outcome, "published" | "already_handled" | "in_progress")));
    assert_eq!(local.git_push_events(WAIT).await.len(), 1);
    assert!(local.git_push_events(QUIET).await.is_empty());
}

#[tokio::test]
async fn a_branch_deletion_and_a_tag_emit_nothing() {
    let local = Local::start().await;
    let ctx = local.function().await;
    let deletion = json!({
        "ref": "refs/heads/experiment",
        "before": "9f2c1e0b8d4a6c3e5f7a9b1d2c4e6f8a0b1c3d5e",
        "after": "0000000000000000000000000000000000000000",
        "created": false, "deleted": true, "forced": false,
        "repository": {"full_name": "acme/payroll-ml"},
        "commits": [], "head_commit": null, "pusher": {"name": "octocat"}
    })
    .to_string();
    let tag = GITHUB_PUSH.replace("refs/heads/main", "refs/tags/v1.0.0");
    for (delivery, body) in [("del-1", &deletion), ("tag-1", &tag)] {
        let signature = sign(SECRET.as_bytes(), body.as_bytes());
        let reply = call(&ctx, github("push", delivery, Some(&signature), body)).await;
        assert_eq!(reply.status, 202, "{reply:?}");
    }
    assert!(local.git_push_events(QUIET).await.is_empty());
}

#[tokio::test]
async fn gitlab_push_with_the_token_publishes_and_a_bad_token_is_refused() {
    let local = Local::start().await;
    let ctx = local.function().await;
    let gitlab = |token: Option<&str>, key: &str| {
        let mut headers = vec![
            ("x-gitlab-event", "Push Hook"),
            ("idempotency-key", key),
            ("x-gitlab-event-uuid", "ev-1"),
        ];
        if let Some(token) = token {
            headers.push(("x-gitlab-token", token));
        }
        request("POST", &headers, GITLAB_PUSH)
    };

    for (what, token) in [("wrong", Some("guess")), ("missing", None)] {
        let reply = call(&ctx, gitlab(token, "gl-1")).await;
        assert_eq!(reply.status, 401, "{what}: {reply:?}");
    }
    assert!(local.git_push_events(QUIET).await.is_empty());

    let reply = call(&ctx, gitlab(Some(SECRET), "gl-1")).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let events = local.git_push_events(WAIT).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let detail = &events[0]["detail"];
    assert_eq!(detail["provider"], "gitlab");
    assert_eq!(detail["repository"], "acme/ml-models");
    assert_eq!(detail["branch"], "main");
    assert_eq!(detail["commit"], "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
    assert_eq!(detail["deliveryId"], "gl-1");
    assert_eq!(detail["changedPaths"].as_array().unwrap().len(), 3);

    // GitLab's retry carries the same Idempotency-Key.
    let retry = call(&ctx, gitlab(Some(SECRET), "gl-1")).await;
    assert_eq!(retry.outcome, "already_handled", "{retry:?}");
    assert!(local.git_push_events(QUIET).await.is_empty());
}

#[tokio::test]
async fn the_previous_secret_still_verifies_after_a_rotation() {
    let local = Local::start().await;
    secrets(&local.sdk)
        .put_secret_value()
        .secret_id(SECRET_ID)
        .secret_string("rotated-webhook-secret")
        .send()
        .await
        .unwrap();
    let ctx = local.function().await;
    for (delivery, secret) in [("r-1", "rotated-webhook-secret"), ("r-2", SECRET)] {
        let signature = sign(secret.as_bytes(), GITHUB_PUSH.as_bytes());
        let reply = call(
            &ctx,
            github("push", delivery, Some(&signature), GITHUB_PUSH),
        )
        .await;
        assert_eq!(reply.status, 200, "{delivery}: {reply:?}");
    }
    assert_eq!(local.git_push_events(WAIT).await.len(), 2);
}

#[tokio::test]
async fn wrong_method_content_type_or_size_is_refused_before_anything_else() {
    let local = Local::start().await;
    let ctx = local.function().await;
    let signature = sign(SECRET.as_bytes(), GITHUB_PUSH.as_bytes());
    let headers = [
        ("x-github-event", "push"),
        ("x-github-delivery", "m-1"),
        ("x-hub-signature-256", signature.as_str()),
    ];

    let get = call(&ctx, request("GET", &headers, GITHUB_PUSH)).await;
    assert_eq!(get.status, 405, "{get:?}");
    assert_eq!(get.clone().into_response().headers["allow"], "POST");

    let mut form = request("POST", &headers, "payload=%7B%7D");
    form.headers.insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    let reply = call(&ctx, form).await;
    assert_eq!(reply.status, 415, "{reply:?}");
    assert!(reply.message.contains("application/json"), "{reply:?}");

    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(1024 * 1024));
    let big_signature = sign(SECRET.as_bytes(), big.as_bytes());
    let reply = call(&ctx, github("push", "m-2", Some(&big_signature), &big)).await;
    assert_eq!(reply.status, 413, "{reply:?}");

    assert!(local.git_push_events(QUIET).await.is_empty());
}
