//! The demo's story as a test: the whole local stack (moto, twin, router with
//! template.yaml's rules, every function the story needs run in process) from
//! data landing to a model trained once, gated, approved by policy for
//! staging, rolled out there, baked, and promoted to prod by asking its
//! approvers. (tests/tests/promotion.rs goes on from the approvers' link.)

use std::sync::Arc;
use std::time::{Duration, Instant};
use steward::config::FromEnv;

use serde_json::{json, Value};
use start_build::Outcome;
use steward_tests::EXAMPLE_POLICY;
use steward_twin::router::{Delivery, InProcessFn, InvokeError, Invoker};
use steward_twin::{s3_client, LocalOptions, LocalRun};
use tokio::sync::OnceCell;

const TEMPLATE: &str = include_str!("../../template.yaml");
const DATA: &str = include_str!("../../examples/data/transactions.csv");
const KEY_SECRET_ID: &str = "steward/approval-key";
/// The example policy's smoke test: an obvious fraud and an obvious ordinary payment.
const SMOKE_CASES: &str = concat!(
    r#"{"input": "9400.0,3,1,1", "contentType": "text/csv", "expected": {"predictions": [{"label": 1}]}}"#,
    "\n",
    r#"{"input": "42.5,14,0,0", "contentType": "text/csv", "expected": {"predictions": [{"label": 0}]}}"#,
    "\n"
);

/// The functions the router delivers to, made once the stack is up.
#[derive(Default)]
struct Functions {
    start_build: OnceCell<start_build::Context>,
    request_approval: OnceCell<request_approval::Context>,
    deploy: OnceCell<deploy::Context>,
    rollback: OnceCell<rollback::Context>,
    audit: OnceCell<audit::Context>,
}

fn not_ready() -> InvokeError {
    InvokeError::Function {
        error_type: "not_ready".into(),
        message: "starting".into(),
    }
}

/// A function's outcome as the router records it, or its typed error.
macro_rules! answer {
    ($result:expr) => {
        $result
            .map(|o| serde_json::to_value(o).unwrap())
            .map_err(|e| InvokeError::Function {
                error_type: e.error_type().into(),
                message: e.to_string(),
            })
    };
}

fn in_process(functions: Arc<Functions>) -> InProcessFn {
    Arc::new(move |function: String, event: Value| {
        let f = functions.clone();
        Box::pin(async move {
            match function.as_str() {
                "start-build" => {
                    let ctx = f.start_build.get().ok_or_else(not_ready)?;
                    answer!(start_build::handler::run(ctx, event).await)
                }
                "request-approval" => {
                    let ctx = f.request_approval.get().ok_or_else(not_ready)?;
                    answer!(request_approval::handler::run(ctx, event).await)
                }
                "deploy" => {
                    let ctx = f.deploy.get().ok_or_else(not_ready)?;
                    answer!(deploy::handler::run(ctx, event).await)
                }
                "rollback" => {
                    let ctx = f.rollback.get().ok_or_else(not_ready)?;
                    answer!(rollback::handler::run(ctx, event).await)
                }
                "audit" => {
                    let ctx = f.audit.get().ok_or_else(not_ready)?;
                    answer!(audit::handler::run(ctx, event).await)
                }
                other => panic!("the story routed an event to {other}"),
            }
        })
    })
}

/// Every function configured from one environment, as `steward local up` does.
async fn connect(functions: &Functions, run: &LocalRun) {
    secrets(run)
        .create_secret()
        .name(KEY_SECRET_ID)
        .secret_string("story-test-signing-key-0123456789abcdef")
        .send()
        .await
        .unwrap();
    let mut env: std::collections::HashMap<String, String> =
        run.function_env().into_iter().collect();
    env.insert(
        "STEWARD_APPROVAL_URL".into(),
        "http://127.0.0.1:9/lambda-url/approval-link/".into(),
    );
    env.insert(
        "STEWARD_APPROVAL_KEY_SECRET_ID".into(),
        KEY_SECRET_ID.into(),
    );
    let lookup = |name: &str| env.get(name).cloned();
    let sdk = &run.sdk;
    let config = start_build::Config::from_lookup(lookup).unwrap();
    let _ = functions
        .start_build
        .set(start_build::Context::connect(sdk, &config).await.unwrap());
    let config = request_approval::Config::from_lookup(lookup).unwrap();
    let _ = functions.request_approval.set(
        request_approval::Context::connect(sdk, &config)
            .await
            .unwrap(),
    );
    let config = deploy::Config::from_lookup(lookup).unwrap();
    let _ = functions
        .deploy
        .set(deploy::Context::connect(sdk, &config).await.unwrap());
    let config = rollback::Config::from_lookup(lookup).unwrap();
    let _ = functions
        .rollback
        .set(rollback::Context::connect(sdk, &config).await.unwrap());
    let config = audit::Config::from_lookup(lookup).unwrap();
    let _ = functions.audit.set(audit::Context::connect(sdk, &config));
}

fn secrets(run: &LocalRun) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&run.sdk)
}

/// The first delivery that `matches`, waiting for it.
async fn delivered(run: &LocalRun, what: &str, matches: impl Fn(&Delivery) -> bool) -> Delivery {
    let router = run.router.as_ref().unwrap();
    until(what, async || router.delivered().into_iter().find(&matches)).await
}

async fn until<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn data_lands_trains_once_is_gated_deployed_to_staging_baked_and_promoted() {
    let functions = Arc::new(Functions::default());
    let mut options = LocalOptions::new(EXAMPLE_POLICY);
    options.router = Some((
        TEMPLATE.to_string(),
        Invoker::in_process(in_process(functions.clone())),
    ));
    let run = LocalRun::start(options).await.unwrap();
    connect(&functions, &run).await;
    let s3 = s3_client(&run.sdk);
    s3.put_object()
        .bucket("acme-ml-data")
        .key("payroll-fraud/smoke/cases.jsonl")
        .body(SMOKE_CASES.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();

    let prefix = "payroll-fraud/transactions/2026-11-24/";
    for (key, body) in [
        (format!("{prefix}part-0000.csv"), DATA.as_bytes().to_vec()),
        (format!("{prefix}_SUCCESS"), Vec::new()),
    ] {
        s3.put_object()
            .bucket("acme-ml-data")
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }

    // The router delivers both objects to start-build; only the marker builds.
    let router = run.router.as_ref().unwrap();
    delivered(&run, "a build", |d| d.response["outcome"] == "started").await;
    let deliveries = until("both objects delivered", async || {
        let d: Vec<Delivery> = router
            .delivered()
            .into_iter()
            .filter(|d| d.rule.ends_with("DataArrived") && d.response.to_string().contains(prefix))
            .collect();
        (d.len() >= 2).then_some(d)
    })
    .await;
    let outcomes: Vec<Outcome> = deliveries
        .iter()
        .map(|d| serde_json::from_value(d.response.clone()).unwrap())
        .collect();
    let started: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Started(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(started.len(), 1, "{outcomes:#?}");
    assert!(deliveries.iter().all(|d| d.function == "start-build"));

    // The twin runs the example training for that execution.
    let sagemaker = aws_sdk_sagemaker::Client::new(&run.sdk);
    let arn = started[0].pipeline_execution_arn.clone();
    let status = steward_tests::pipeline_run_ends(&sagemaker, &arn, Duration::from_secs(60)).await;
    assert_eq!(status, "Succeeded");

    // It registered one model, pending approval, whose lineage names the run.
    let packages = sagemaker
        .list_model_packages()
        .model_package_group_name("payroll-fraud")
        .send()
        .await
        .unwrap();
    let packages = packages.model_package_summary_list();
    assert_eq!(packages.len(), 1, "{packages:?}");
    let events = run.twin.ctx().events.emitted();
    let pending: Vec<_> = events
        .iter()
        .filter(|e| {
            e.detail_type == "SageMaker Model Package State Change"
                && e.detail["ModelApprovalStatus"] == "PendingManualApproval"
        })
        .collect();
    assert_eq!(pending.len(), 1, "{events:#?}");
    let detail = &pending[0].detail;
    assert_eq!(detail["ModelApprovalStatus"], "PendingManualApproval");
    assert_eq!(detail["MetadataProperties"]["GeneratedBy"], arn.as_str());
    assert_eq!(
        detail["CustomerMetadataProperties"]["steward:data-uri"],
        format!("s3://acme-ml-data/{prefix}")
    );
    let report = detail["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
        .as_str()
        .unwrap();
    let (bucket, key) = report
        .strip_prefix("s3://")
        .unwrap()
        .split_once('/')
        .unwrap();
    let body = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .body;
    let metrics: Value =
        serde_json::from_slice(&body.collect().await.unwrap().into_bytes()).unwrap();
    let auc = metrics["binary_classification_metrics"]["auc"]["value"]
        .as_f64()
        .unwrap();
    assert!(
        (0.5..=1.0).contains(&auc),
        "a real model on real data: AUC {auc}"
    );
    // The pipeline's events bracket the registration.
    let kinds: Vec<&str> = events
        .iter()
        .filter(|e| {
            e.detail_type.contains("Pipeline")
                || e.detail["ModelApprovalStatus"] == "PendingManualApproval"
        })
        .map(|e| e.detail_type.as_str())
        .take(3)
        .collect();
    assert_eq!(
        kinds,
        [
            "SageMaker Model Building Pipeline Execution Status Change",
            "SageMaker Model Package State Change",
            "SageMaker Model Building Pipeline Execution Status Change",
        ]
    );

    // The gate passes; staging's approval is "none": approved by policy.
    let arn = detail["ModelPackageArn"].as_str().unwrap().to_string();
    let gated = delivered(&run, "the gate", |d| d.function == "request-approval").await;
    assert_eq!(
        gated.response["outcome"], "approved-by-policy",
        "{:#}",
        gated.response
    );
    assert_eq!(gated.response["environment"], "staging");
    // The registry's Approved event reaches deploy: staging is created, all at once.
    let rollout = delivered(&run, "staging's rollout", |d| {
        d.function == "deploy" && d.response["outcome"] == "started"
    })
    .await;
    assert_eq!(rollout.rule, "DeployFunctionModelApproved");
    assert_eq!(
        (
            &rollout.response["environment"],
            &rollout.response["action"]
        ),
        (&json!("staging"), &json!("create"))
    );
    // It ends; the smoke test passes; audit records `Deployment Succeeded`.
    let succeeded = delivered(&run, "Deployment Succeeded in the ledger", |d| {
        d.function == "audit" && d.response["detailType"] == "Deployment Succeeded"
    })
    .await;
    assert_eq!(
        succeeded.response["written"].as_u64().map(|n| n > 0),
        Some(true)
    );
    let endpoint = sagemaker
        .describe_endpoint()
        .endpoint_name("payroll-fraud-staging")
        .send()
        .await
        .unwrap();
    assert_eq!(
        endpoint.endpoint_config_name(),
        rollout.response["endpoint_config"].as_str()
    );

    // The bake ends on a later tick; prod needs a person: `Promotion
    // Requested`, and request-approval asks prod's approvers.
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let tick = json!({
        "version": "0",
        "id": "story-tick",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": later.to_rfc3339(),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/steward-tick"],
        "detail": {}
    });
    let baked = deploy::handle(functions.deploy.get().unwrap(), tick)
        .await
        .unwrap();
    assert!(
        matches!(&baked, deploy::Outcome::Baked { promotion, .. } if promotion == "approval requested for prod"),
        "{baked:?}"
    );
    let asked = delivered(&run, "prod's approvers asked", |d| {
        d.rule == "RequestApprovalFunctionPromotionRequested"
    })
    .await;
    assert_eq!(
        asked.response["outcome"], "requested",
        "{:#}",
        asked.response
    );
    assert_eq!(asked.response["environment"], "prod");
    assert_eq!(asked.response["model_package_arn"], arn.as_str());
    assert_eq!(asked.response["mailed"], 2);
    assert!(
        router.dead_letters().is_empty(),
        "{:?}",
        router.dead_letters()
    );
}
