//! approval-link against moto and the twin: the review page, the decision,
//! and the token attack suite (forged, tampered, expired, replayed, another
//! package, approver swap, key rotation and retirement, approve and reject at
//! once, a plain GET, a wrong method).

mod approval_support;

use approval_link::{handle, Context, LambdaFunctionUrlRequest, Reply};
use approval_support::*;
use base64::Engine;
use serde_json::json;
use steward::approval::request::RequestStatus;
use steward::approval::store::ApprovalStore;
use steward::approval::token::Claims;

fn event(method: &str, query: Option<&str>, form: Option<&str>) -> LambdaFunctionUrlRequest {
    let mut params = serde_json::Map::new();
    if let Some(token) = query {
        params.insert("token".into(), json!(token));
    }
    serde_json::from_value(json!({
        "version": "2.0",
        "rawPath": "/",
        "rawQueryString": query.map(|t| format!("token={t}")).unwrap_or_default(),
        "queryStringParameters": params,
        "headers": {
            "content-type": if form.is_some() { "application/x-www-form-urlencoded" } else { "text/plain" },
            "user-agent": "test"
        },
        "requestContext": {"timeEpoch": 0, "http": {"method": method, "path": "/"}},
        // Function URLs deliver form bodies base64-encoded.
        "body": form.map(|f| base64::engine::general_purpose::STANDARD.encode(f)),
        "isBase64Encoded": form.is_some()
    }))
    .unwrap()
}

fn get(token: &str) -> LambdaFunctionUrlRequest {
    event("GET", Some(token), None)
}

fn post(fields: &[(&str, &str)]) -> LambdaFunctionUrlRequest {
    let form = fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    event("POST", None, Some(&form))
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn decide(token: &str, decision: &str, comment: &str) -> LambdaFunctionUrlRequest {
    post(&[
        ("token", token),
        ("decision", decision),
        ("comment", comment),
    ])
}

async fn call(ctx: &Context, req: LambdaFunctionUrlRequest) -> Reply {
    handle(ctx, req).await.unwrap_or_else(|e| panic!("{e}"))
}

/// Everything the handler logs (JSON, every level) on this test's thread.
///
/// One global subscriber writes each event into a buffer kept per thread: a scoped
/// (`set_default`) subscriber per test loses events when tests run in parallel,
/// because tracing caches each callsite's interest across all threads.
#[derive(Clone, Copy, Default)]
struct Logs;

thread_local! {
    static THREAD_LOGS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        THREAD_LOGS.with(|logs| logs.borrow_mut().extend_from_slice(buf));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        *self
    }
}

impl Logs {
    /// Start capturing on this thread (the tests' runtime is single-threaded).
    fn capture() -> Logs {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            tracing_subscriber::fmt()
                .json()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(Logs)
                .init();
        });
        THREAD_LOGS.with(|logs| logs.borrow_mut().clear());
        Logs
    }

    fn text(&self) -> String {
        THREAD_LOGS.with(|logs| String::from_utf8_lossy(&logs.borrow()).into_owned())
    }

    /// The handler logged its answers, and no token (nor its signature) in them.
    fn assert_no_token(&self, tokens: &[&str]) {
        let text = self.text();
        assert!(text.contains("approval link answered"), "{text}");
        for token in tokens {
            let signature = token.rsplit('.').next().unwrap();
            assert!(
                !text.contains(token) && !text.contains(signature),
                "a token was logged: {text}"
            );
        }
    }
}

fn assert_refused(reply: &Reply, status: u16, says: &str) {
    assert_eq!(reply.status, status, "{reply:?}");
    assert!(
        reply.html.contains(says),
        "expected `{says}` in {}",
        reply.html
    );
    assert!(!reply.html.contains("<form"), "a refusal offers no form");
}

#[tokio::test]
async fn the_review_page_shows_the_evidence_and_a_plain_get_changes_nothing() {
    let local = Local::start().await;
    let ctx = local.function().await;
    let arn = local.register().await;
    let token = local.request(&arn, ANA).await;
    let before = local.ledger_snapshot().await;

    let reply = call(&ctx, get(&token)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.outcome, "review_shown");
    for shown in [
        "payroll-fraud v1 for prod",
        ANA,
        AUC,
        "0.9712",   // the candidate
        "≥ 0.9000", // the threshold
        "0.9533",   // the champion
        "The gate passed: 2 of 2 checks.",
        "8e1f3c5a7b9d2e4f6a8c0b1d3e5f7a9c2b4d6e8f", // lineage: commit
        "s3://acme-ml-data/payroll-fraud/2026-11-24/", // lineage: data
        "name=\"decision\" value=\"approve\"",
        "name=\"decision\" value=\"reject\"",
    ] {
        assert!(reply.html.contains(shown), "the page lacks `{shown}`");
    }
    // The token travels in the form's hidden field, not in the form's URL.
    assert!(reply
        .html
        .contains(&format!("name=\"token\" value=\"{token}\"")));
    let response = reply.clone().into_response();
    assert_eq!(response.headers["referrer-policy"], "no-referrer");
    assert_eq!(response.headers["cache-control"], "no-store");
    assert_eq!(response.headers["x-frame-options"], "DENY");

    // A scanner opening it again, with HEAD too: still nothing changes.
    call(&ctx, get(&token)).await;
    call(&ctx, event("HEAD", Some(&token), None)).await;
    assert_eq!(local.package(&arn).await.0, "PendingManualApproval");
    assert_eq!(local.ledger_snapshot().await, before);
    assert!(local.decided_events().await.is_empty());
}

#[tokio::test]
async fn a_post_decides_once_and_a_replay_of_the_link_is_refused() {
    let local = Local::start().await;
    let ctx = local.function().await;
    let arn = local.register().await;
    let token = local.request(&arn, ANA).await;
    let token_id = approval_request(&arn, ANA).token_id;
    let logs = Logs::capture();

    let reply = call(
        &ctx,
        post(&[
            ("token", &token),
            ("decision", "approve"),
            ("comment", "AUC up 2 points & FPR flat"),
            // Whatever else the form says is ignored: the token decides who and what.
            ("approver", "mallory@evil.example"),
            (
                "model_package_arn",
                "arn:aws:sagemaker:us-east-1:123456789012:model-package/other/9",
            ),
        ]),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.outcome, "approved");
    assert!(reply
        .html
        .contains("You approved payroll-fraud v1 for prod"));

    let (status, description, metadata) = local.package(&arn).await;
    assert_eq!(status, "Approved");
    let description = description.unwrap();
    assert!(
        description.starts_with(&format!("Approved by {ANA} via link at "))
            && description.ends_with("for prod: AUC up 2 points & FPR flat"),
        "{description}"
    );
    // Sent together with the status, so nothing the training step wrote is lost.
    assert_eq!(metadata["steward:data-version"], "v1");
    assert_eq!(metadata["steward:decided-by"], ANA);

    let records = local.decisions(&arn).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let detail = &records[0].detail;
    assert_eq!(detail["approver"], ANA);
    assert_eq!(detail["channel"], "link");
    assert_eq!(detail["comment"], "AUC up 2 points & FPR flat");
    assert_eq!(detail["tokenId"], token_id.as_str());

    let events = local.decided_events().await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let decided = &events[0]["detail"];
    assert_eq!(decided["decision"], "Approved");
    assert_eq!(decided["approver"], ANA);
    assert_eq!(decided["modelPackageArn"], arn.as_str());
    assert_eq!(decided["environment"], "prod");
    assert_eq!(decided["correlationId"], "stw-test-chain");
    assert_eq!(events[0]["resources"], json!([arn]));

    // The request is closed.
    let request = local.approvals().get(&token_id).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Decided);

    // Replayed, with the other button: used, and nothing changes.
    let before = local.ledger_snapshot().await;
    let replay = call(&ctx, decide(&token, "reject", "changed my mind")).await;
    assert_refused(&replay, 410, "already used");
    assert_eq!(local.package(&arn).await.0, "Approved");
    assert_eq!(local.ledger_snapshot().await, before);
    // And opening it again says it is decided rather than offering buttons.
    assert_refused(&call(&ctx, get(&token)).await, 409, "already approved");
    logs.assert_no_token(&[&token]);
}

#[tokio::test]
async fn forged_tampered_expired_misdirected_and_swapped_tokens_decide_nothing() {
    let local = Local::start().await;
    let ctx = local.function().await;
    let arn = local.register().await;
    let token = local.request(&arn, ANA).await;
    let claims = claims_of(&approval_request(&arn, ANA));
    let before = local.ledger_snapshot().await;
    let logs = Logs::capture();

    // Forged: signed with a key that is not ours.
    let forged = sign(KEY_B, &claims);
    assert_refused(
        &call(&ctx, decide(&forged, "approve", "")).await,
        403,
        "not valid",
    );
    assert_refused(&call(&ctx, get(&forged)).await, 403, "not valid");

    // Tampered: the claims changed under the genuine signature (approver swap).
    let swapped = Claims {
        approver: RAJ.into(),
        ..claims.clone()
    };
    let swapped_payload = sign(KEY_A, &swapped).split('.').nth(1).unwrap().to_string();
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{swapped_payload}.{}", parts[0], parts[2]);
    assert_refused(
        &call(&ctx, decide(&tampered, "approve", "")).await,
        403,
        "not valid",
    );
    // A token with its signature cut off is damaged, not forged.
    let truncated = format!("{}.{}", parts[0], parts[1]);
    assert_refused(
        &call(&ctx, decide(&truncated, "approve", "")).await,
        400,
        "incomplete or damaged",
    );
    assert_refused(
        &call(&ctx, post(&[("decision", "approve")])).await,
        400,
        "incomplete",
    );

    // Expired: genuinely signed, but its time is up.
    let expired = sign(
        KEY_A,
        &Claims {
            expires_at: chrono::Utc::now().timestamp() - 1,
            ..claims.clone()
        },
    );
    assert_refused(
        &call(&ctx, decide(&expired, "approve", "")).await,
        410,
        "expired",
    );
    assert_refused(&call(&ctx, get(&expired)).await, 410, "expired");

    // A genuine token for another package cannot reach this one; for a
    // package that does not exist it decides nothing at all.
    let elsewhere = sign(
        KEY_A,
        &Claims {
            model_package_arn: format!("{arn}0"),
            ..claims.clone()
        },
    );
    assert_refused(
        &call(&ctx, decide(&elsewhere, "approve", "")).await,
        404,
        "no longer exists",
    );

    // A token minted for something other than deciding.
    let viewing = sign(
        KEY_A,
        &Claims {
            purpose: "view:prod".into(),
            ..claims.clone()
        },
    );
    assert_refused(
        &call(&ctx, decide(&viewing, "approve", "")).await,
        403,
        "cannot approve",
    );

    // No decision chosen: nothing happens, the link stays usable.
    assert_refused(
        &call(&ctx, post(&[("token", &token)])).await,
        400,
        "Choose Approve or Reject",
    );

    assert_eq!(local.package(&arn).await.0, "PendingManualApproval");
    assert_eq!(local.ledger_snapshot().await, before);
    assert!(local.decided_events().await.is_empty());

    // The genuine link still works after all that.
    let reply = call(&ctx, decide(&token, "reject", "")).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(local.package(&arn).await.0, "Rejected");
    logs.assert_no_token(&[&token, &forged, &tampered, &expired, &elsewhere, &viewing]);
}

#[tokio::test]
async fn links_survive_one_key_rotation_and_stop_at_the_second() {
    let local = Local::start().await;
    // Warm before the rotation: it must notice the new key by itself.
    let ctx = local.function().await;
    let arn = local.register().await;
    let old_link = local.request(&arn, ANA).await;

    local.rotate_key(KEY_B).await;
    let new_link = sign(KEY_B, &claims_of(&approval_request(&arn, RAJ)));
    local
        .approvals()
        .put(&approval_request(&arn, RAJ))
        .await
        .unwrap();
    assert_eq!(call(&ctx, get(&new_link)).await.status, 200, "new key");
    assert_eq!(call(&ctx, get(&old_link)).await.status, 200, "previous key");

    local.rotate_key(KEY_C).await;
    // A cold start after the second rotation: the first key is retired.
    let cold = local.function().await;
    assert_refused(
        &call(&cold, decide(&old_link, "approve", "")).await,
        403,
        "not valid",
    );
    let reply = call(&cold, decide(&new_link, "approve", "")).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(local.package(&arn).await.0, "Approved");
    assert_eq!(local.decisions(&arn).await[0].detail["approver"], RAJ);
}

#[tokio::test]
async fn approve_and_reject_posted_at_once_make_exactly_one_decision() {
    let local = Local::start().await;
    let ctx = local.function().await;

    // Two approvers, one presses Approve as the other presses Reject.
    let arn = local.register().await;
    let ana = local.request(&arn, ANA).await;
    let raj = local.request(&arn, RAJ).await;
    let (a, r) = tokio::join!(
        call(&ctx, decide(&ana, "approve", "")),
        call(&ctx, decide(&raj, "reject", ""))
    );
    let (winner, loser, loser_token) = if a.status == 200 {
        (a, r, &raj)
    } else {
        (r, a, &ana)
    };
    assert_eq!(winner.status, 200, "{winner:?}");
    assert_refused(&loser, 409, "already decided");
    let status = local.package(&arn).await.0;
    assert_eq!(
        status,
        if winner.outcome == "approved" {
            "Approved"
        } else {
            "Rejected"
        }
    );
    assert_eq!(local.decisions(&arn).await.len(), 1);
    assert_eq!(local.decided_events().await.len(), 1);
    // Both requests are closed; the loser's link keeps saying so.
    assert!(local.approvals().open().await.unwrap().is_empty());
    assert_refused(
        &call(&ctx, decide(loser_token, "reject", "")).await,
        409,
        "already decided",
    );

    // One approver, both buttons of the same page at once.
    let arn = local.register().await;
    let token = local.request(&arn, ANA).await;
    let (a, r) = tokio::join!(
        call(&ctx, decide(&token, "approve", "")),
        call(&ctx, decide(&token, "reject", ""))
    );
    let statuses = [a.status, r.status];
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{a:?} {r:?}"
    );
    let refused = if a.status == 200 { &r } else { &a };
    assert!([409, 410].contains(&refused.status), "{refused:?}");
    assert_eq!(local.decisions(&arn).await.len(), 1);
}

#[tokio::test]
async fn a_wrong_method_or_body_is_refused_and_names_what_is_allowed() {
    let local = Local::start().await;
    let ctx = local.function().await;
    let arn = local.register().await;
    let token = local.request(&arn, ANA).await;

    for method in ["PUT", "DELETE", "PATCH"] {
        let reply = call(&ctx, event(method, Some(&token), None)).await;
        assert_refused(&reply, 405, "only opens approval links");
        assert_eq!(reply.into_response().headers["allow"], "GET, POST");
    }
    let mut json_post = event("POST", None, None);
    json_post
        .headers
        .insert("content-type", "application/json".parse().unwrap());
    json_post.body = Some(format!(
        "{{\"token\":\"{token}\",\"decision\":\"approve\"}}"
    ));
    assert_refused(&call(&ctx, json_post).await, 415, "could not be read");
    assert_refused(
        &call(&ctx, event("GET", None, None)).await,
        400,
        "incomplete",
    );
    assert_eq!(local.package(&arn).await.0, "PendingManualApproval");
}
