//! A real browser: a model passes request-approval's gate, which mails each
//! approver a link (captured by the twin); headless Chromium (Debian's
//! `chromium`, through `chromedriver`) opens the link from the mail, served
//! by approval-link's handler over real HTTP, sees the metrics, types a
//! comment and clicks Approve; the package is then Approved in the registry
//! and the ledger holds the approver, the comment and the token id.
//!
//! Without Chromium and chromedriver this test fails, saying how to install
//! them (`bash scripts/setup` does); it never passes silently.

mod approval_support;
#[path = "approval_support/webdriver.rs"]
mod webdriver;

use std::sync::Arc;
use std::time::Duration;

use approval_link::LambdaFunctionUrlResponse;
use approval_support::*;
use serde_json::json;
use steward_tests::EXAMPLE_POLICY;
use steward_twin::FunctionUrl;
use webdriver::Browser;

/// approval-link's handler behind a local Function URL; an error it returns
/// is a 502, as a Function URL answers for a failed invocation.
async fn serve(ctx: approval_link::Context) -> FunctionUrl {
    let ctx = Arc::new(ctx);
    FunctionUrl::serve(0, move |req| {
        let ctx = ctx.clone();
        async move {
            approval_link::run(&ctx, req).await.unwrap_or_else(|_| {
                let mut response = LambdaFunctionUrlResponse::default();
                response.status_code = 502;
                response
            })
        }
    })
    .await
    .expect("a loopback port for the Function URL")
}

/// The example policy, with staging approved by a person (the example lets
/// staging through on the gate alone and asks before prod).
fn policy_asking_for_staging() -> String {
    let policy = EXAMPLE_POLICY.replacen(
        "name = \"staging\"\n",
        "name = \"staging\"\napproval = \"required\"\n",
        1,
    );
    assert_ne!(policy, EXAMPLE_POLICY);
    policy
}

/// request-approval's context, mailing links to `approval_url`.
async fn request_approval(local: &Local, approval_url: &str) -> request_approval::Context {
    let config = request_approval::Config {
        ledger_table: local.stack.spec.ledger_table.clone(),
        event_bus: local.stack.spec.event_bus.clone(),
        policy_parameter: local.stack.spec.policy_parameter.clone(),
        notifications_topic: local.stack.notifications_topic_arn.clone(),
        approval_url: approval_url.into(),
        key_secret_id: KEY_SECRET_ID.into(),
        claim_lease: Duration::from_secs(60),
    };
    request_approval::Context::connect(&local.sdk, &config)
        .await
        .unwrap_or_else(|e| panic!("request-approval could not start: {e}"))
}

#[tokio::test]
async fn an_approver_approves_from_the_emailed_link_in_a_real_browser() {
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let local = Local::start_with(&policy_asking_for_staging()).await;
    let url = serve(local.function().await).await;

    // A model that passes the gate: request-approval mails each approver.
    let report = json!({"binary_classification_metrics": {
        "auc": {"value": 0.9712, "standard_deviation": 0.01},
        "precision": {"value": 0.72, "standard_deviation": 0.02},
        "recall": {"value": 0.8, "standard_deviation": 0.02},
        "f1": {"value": 0.76, "standard_deviation": 0.02}
    }});
    let arn = local.register_with_report(&report).await;
    let gate = request_approval(&local, &url.url()).await;
    request_approval::handle(&gate, local.registered_event(&arn))
        .await
        .unwrap_or_else(|e| panic!("request-approval failed: {e}"));
    let mail = local.mail().await;
    let to_ana = mail
        .iter()
        .find(|m| m["to"] == ANA)
        .unwrap_or_else(|| panic!("no mail to {ANA}: {mail:#?}"));
    let link = to_ana["links"][0]
        .as_str()
        .expect("the mail carries a link");
    assert!(link.starts_with(&url.url()), "{link}");
    let token = link.split("token=").nth(1).unwrap();
    let token_id = steward::approval::token::SigningKeys::new(KEY_A.as_bytes(), None)
        .unwrap()
        .verify(token, chrono::Utc::now().timestamp())
        .unwrap()
        .token_id;

    browser.open(link).await.unwrap();
    let title = browser.title().await.unwrap();
    assert_eq!(title, "Review payroll-fraud v1 · Steward");
    let metrics = browser.text("#metrics").await.unwrap();
    assert!(metrics.contains(AUC), "{metrics}");
    assert!(
        metrics.contains("0.9712"),
        "the candidate's value: {metrics}"
    );
    assert!(metrics.contains("≥ 0.9000"), "the threshold: {metrics}");
    assert!(browser.text("#checks").await.unwrap().contains("pass"));
    // Opening the page decided nothing.
    assert_eq!(local.package(&arn).await.0, "PendingManualApproval");

    browser
        .type_into("#comment", "Reviewed on my phone: AUC up, FPR flat.")
        .await
        .unwrap();
    browser.click("#approve").await.unwrap();
    browser.wait_for_title("Approved").await.unwrap();
    let outcome = browser.text("#outcome").await.unwrap();
    assert_eq!(outcome, "Approved");

    let (status, description, _) = local.package(&arn).await;
    assert_eq!(status, "Approved");
    assert!(
        description
            .unwrap()
            .ends_with("for staging: Reviewed on my phone: AUC up, FPR flat."),
        "the registry keeps the comment"
    );
    let records = local.decisions(&arn).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let detail = &records[0].detail;
    assert_eq!(detail["approver"], ANA);
    assert_eq!(detail["comment"], "Reviewed on my phone: AUC up, FPR flat.");
    assert_eq!(detail["tokenId"], token_id.as_str());
    assert_eq!(detail["channel"], "link");

    // Opening the link again says the model was decided.
    browser.open(link).await.unwrap();
    browser.wait_for_title("already decided").await.unwrap();
}
