//! Promotion to an environment that needs a person, across four functions:
//! the model succeeded and baked in staging → deploy announces `Promotion
//! Requested` for prod → request-approval mails prod's approver a signed link
//! → the approver opens it and presses Approve (approval-link, over HTTP) →
//! `Approval Decided` for prod → deploy updates the prod endpoint with the
//! policy's canary.

mod deploy_support;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sagemaker::types::{
    InferenceSpecification, MetricsSource, ModelApprovalStatus, ModelMetrics,
    ModelPackageContainerDefinition, ModelQuality,
};
use deploy::Outcome;
use deploy_support::{Stage, GROUP, STAGING};
use serde_json::{json, Value};
use steward_twin::function_url::fetch;
use steward_twin::FunctionUrl;

const KEY_SECRET_ID: &str = "steward/approval-key";
const KEY: &str = "promotion-test-signing-key-0123456789abcdef";
const PROD: &str = "payroll-fraud-prod";
const ARTIFACTS: &str = "steward-local-artifacts";

/// approval-link served on a loopback Function URL, as `steward local demo` does.
async fn serve_approval_link(s: &Stage) -> FunctionUrl {
    aws_sdk_secretsmanager::Client::new(&s.run.sdk)
        .create_secret()
        .name(KEY_SECRET_ID)
        .secret_string(KEY)
        .send()
        .await
        .unwrap();
    let config = approval_link::Config {
        key_secret_id: KEY_SECRET_ID.into(),
        ledger_table: s.run.stack.spec.ledger_table.clone(),
        event_bus: s.run.stack.spec.event_bus.clone(),
        claim_lease: Duration::from_secs(60),
        key_refresh: Duration::from_secs(60),
    };
    let ctx = Arc::new(
        approval_link::Context::connect(&s.run.sdk, &config)
            .await
            .unwrap(),
    );
    FunctionUrl::serve(0, move |req| {
        let ctx = ctx.clone();
        async move { approval_link::run(&ctx, req).await.unwrap() }
    })
    .await
    .unwrap()
}

async fn request_approval(s: &Stage, url: &FunctionUrl) -> request_approval::Context {
    let config = request_approval::Config {
        ledger_table: s.run.stack.spec.ledger_table.clone(),
        event_bus: s.run.stack.spec.event_bus.clone(),
        policy_parameter: s.run.stack.spec.policy_parameter.clone(),
        notifications_topic: s.run.stack.notifications_topic_arn.clone(),
        approval_url: url.url(),
        key_secret_id: KEY_SECRET_ID.into(),
        claim_lease: Duration::from_secs(60),
    };
    request_approval::Context::connect(&s.run.sdk, &config)
        .await
        .unwrap()
}

/// Register a package whose model-quality report is in S3, as training does.
async fn register_with_metrics(s: &Stage) -> String {
    let report = json!({"binary_classification_metrics": {"auc": {"value": 0.93}}});
    s.put(
        ARTIFACTS,
        "payroll-fraud/run-1/evaluation.json",
        &report.to_string(),
    )
    .await;
    s.sagemaker()
        .create_model_package()
        .model_package_group_name(GROUP)
        .model_metrics(
            ModelMetrics::builder()
                .model_quality(
                    ModelQuality::builder()
                        .statistics(
                            MetricsSource::builder()
                                .content_type("application/json")
                                .s3_uri(format!(
                                    "s3://{ARTIFACTS}/payroll-fraud/run-1/evaluation.json"
                                ))
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .inference_specification(
            InferenceSpecification::builder()
                .containers(
                    ModelPackageContainerDefinition::builder()
                        .image("steward-local/logistic-regression:1")
                        .model_data_url("s3://artifacts/payroll-fraud/model.json")
                        .build(),
                )
                .supported_content_types("text/csv")
                .supported_response_mime_types("application/json")
                .build(),
        )
        .customer_metadata_properties("steward:correlation-id", "stw-test-chain")
        .model_approval_status(ModelApprovalStatus::PendingManualApproval)
        .send()
        .await
        .unwrap()
        .model_package_arn
        .unwrap()
}

/// An endpoint already serving an older model in prod, so the promotion is an
/// update with the policy's traffic shifting (a new endpoint starts all at once).
async fn prod_serving_an_older_model(s: &Stage) {
    let sm = s.sagemaker();
    steward_tests::model_and_endpoint_config(&sm, "payroll-fraud-prod-v0", "s3://old/model.json")
        .await;
    sm.create_endpoint()
        .endpoint_name(PROD)
        .endpoint_config_name("payroll-fraud-prod-v0")
        .send()
        .await
        .unwrap();
    s.serving(PROD, "payroll-fraud-prod-v0").await;
}

fn of_type<'a>(events: &'a [Value], detail_type: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["detail-type"] == detail_type)
        .collect()
}

#[tokio::test]
async fn a_baked_model_is_promoted_to_prod_once_its_approver_approves_by_link() {
    let s = Stage::start().await;
    let link_fn = serve_approval_link(&s).await;
    let gate = request_approval(&s, &link_fn).await;
    prod_serving_an_older_model(&s).await;

    // The gate passes; staging needs nobody (approval "none"): approved by policy.
    let arn = register_with_metrics(&s).await;
    let pending = s
        .events("SageMaker Model Package State Change")
        .into_iter()
        .find(|e| e["detail"]["ModelPackageArn"] == arn.as_str())
        .unwrap();
    let gated = request_approval::handle(&gate, pending).await.unwrap();
    assert!(
        matches!(&gated, request_approval::Outcome::ApprovedByPolicy { environment, .. } if environment == "staging"),
        "{gated:?}"
    );
    // The registry's Approved event deploys staging; it succeeds and bakes.
    let approved = s
        .events("SageMaker Model Package State Change")
        .into_iter()
        .find(|e| {
            e["detail"]["ModelPackageArn"] == arn.as_str()
                && e["detail"]["ModelApprovalStatus"] == "Approved"
        })
        .expect("the registry announces the approval");
    let Outcome::Started {
        endpoint_config, ..
    } = deploy::handle(&s.deploy, approved).await.unwrap()
    else {
        panic!("staging did not start");
    };
    s.serving(STAGING, &endpoint_config).await;
    let start = std::time::Instant::now();
    while s.state("staging").await.rollout.is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "staging never finished"
        );
        s.deliver_endpoint_events(STAGING).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.steward_events().await;
    let baked = s.tick_after_bake().await;
    assert!(
        matches!(&baked, Outcome::Baked { promotion, .. } if promotion == "approval requested for prod"),
        "{baked:?}"
    );

    // deploy announced the promotion; request-approval asks prod's approver.
    let events = s.steward_events().await;
    let promotion = of_type(&events, "Promotion Requested");
    assert_eq!(promotion.len(), 1, "{events:#?}");
    assert_eq!(promotion[0]["detail"]["environment"], "prod");
    let asked = request_approval::handle(&gate, promotion[0].clone())
        .await
        .unwrap();
    let request_approval::Outcome::Requested { asked, .. } = &asked else {
        panic!("prod's approvers were not asked: {asked:?}");
    };
    assert_eq!(
        (
            asked.environment.as_str(),
            asked.approvers.as_slice(),
            asked.mailed
        ),
        ("prod", &["ana.lima@acme.com".to_string()][..], 1)
    );
    // Delivered again: nobody is mailed twice, no second request.
    let again = request_approval::handle(&gate, promotion[0].clone())
        .await
        .unwrap();
    assert!(
        matches!(again, request_approval::Outcome::AlreadyHandled { .. }),
        "{again:?}"
    );
    let mail = steward_twin::twin::TwinClient::new(s.run.endpoint())
        .get("mail")
        .await
        .unwrap();
    let links: Vec<String> = mail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["to"] == "ana.lima@acme.com")
        .filter_map(|m| m["links"].as_array()?.first()?.as_str().map(String::from))
        .collect();
    assert_eq!(links.len(), 1, "{mail:#}");
    let events = s.steward_events().await;
    let requested = of_type(&events, "Approval Requested");
    assert_eq!(requested.len(), 1, "{events:#?}");
    assert_eq!(requested[0]["detail"]["environment"], "prod");

    // The approver opens the link (changes nothing) and presses Approve.
    let page = fetch("GET", &links[0], None, "").await.unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("prod"), "{}", page.body);
    let (url, token) = links[0].split_once("?token=").unwrap();
    let decided = fetch(
        "POST",
        url,
        Some("application/x-www-form-urlencoded"),
        &format!("token={token}&decision=approve&comment=canary+for+prod"),
    )
    .await
    .unwrap();
    assert_eq!(decided.status, 200, "{}", decided.body);
    let package = s
        .sagemaker()
        .describe_model_package()
        .model_package_name(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        package.model_approval_status(),
        Some(&ModelApprovalStatus::Approved)
    );

    // `Approval Decided` for prod: deploy updates prod with the canary.
    let events = s.steward_events().await;
    let decisions = of_type(&events, "Approval Decided");
    assert_eq!(decisions.len(), 1, "{events:#?}");
    assert_eq!(decisions[0]["detail"]["environment"], "prod");
    assert_eq!(decisions[0]["detail"]["decision"], "Approved");
    let rollout = deploy::handle(&s.deploy, decisions[0].clone())
        .await
        .unwrap();
    let Outcome::Started {
        environment,
        action,
        endpoint_config,
        ..
    } = &rollout
    else {
        panic!("prod did not start: {rollout:?}");
    };
    assert_eq!((environment.as_str(), action.as_str()), ("prod", "update"));
    assert!(endpoint_config.starts_with("payroll-fraud-prod-v1-"));
    let prod = s.describe(PROD).await;
    let routing = prod
        .last_deployment_config()
        .and_then(|c| c.blue_green_update_policy())
        .and_then(|b| b.traffic_routing_configuration())
        .expect("a blue/green deployment config");
    assert_eq!(routing.r#type().map(|t| t.as_str()), Some("CANARY"));
    assert_eq!(
        routing.canary_size().and_then(|c| c.value()),
        Some(25),
        "{routing:?}"
    );
    s.serving(PROD, endpoint_config).await;
}
