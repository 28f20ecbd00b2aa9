//! The demo's story as a test: the whole local stack (moto, twin, router with
//! template.yaml's rules, start-build) from data landing to a model pending
//! approval.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use start_build::{Config, Context, Outcome};
use steward_tests::EXAMPLE_POLICY;
use steward_twin::router::{InProcessFn, InvokeError, Invoker};
use steward_twin::{s3_client, LocalOptions, LocalRun};

const TEMPLATE: &str = include_str!("../../template.yaml");
const DATA: &str = include_str!("../../examples/data/transactions.csv");

fn start_build_in_process(slot: Arc<tokio::sync::OnceCell<Context>>) -> InProcessFn {
    Arc::new(move |function: String, event: Value| {
        let slot = slot.clone();
        Box::pin(async move {
            assert_eq!(function, "start-build", "only start-build has rules so far");
            let ctx = slot.get().ok_or_else(|| InvokeError::Function {
                error_type: "not_ready".into(),
                message: "starting".into(),
            })?;
            start_build::handler::run(ctx, event)
                .await
                .map(|o| serde_json::to_value(o).unwrap())
                .map_err(|e| InvokeError::Function {
                    error_type: e.error_type().into(),
                    message: e.to_string(),
                })
        })
    })
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
async fn data_lands_trains_once_and_registers_a_model_pending_approval() {
    let slot = Arc::new(tokio::sync::OnceCell::new());
    let mut options = LocalOptions::new(EXAMPLE_POLICY);
    options.router = Some((
        TEMPLATE.to_string(),
        Invoker::in_process(start_build_in_process(slot.clone())),
    ));
    let run = LocalRun::start(options).await.unwrap();
    let config = Config {
        ledger_table: run.stack.spec.ledger_table.clone(),
        event_bus: run.stack.spec.event_bus.clone(),
        policy_parameter: run.stack.spec.policy_parameter.clone(),
        claim_lease: Duration::from_secs(120),
    };
    let _ = slot.set(Context::connect(&run.sdk, &config).await.unwrap());

    let s3 = s3_client(&run.sdk);
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
    let deliveries = until("two deliveries", async || {
        let d = router.delivered();
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
    assert!(
        router.dead_letters().is_empty(),
        "{:?}",
        router.dead_letters()
    );

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
        .filter(|e| e.detail_type == "SageMaker Model Package State Change")
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
    // Executing and Succeeded pipeline events bracket the registration.
    let kinds: Vec<&str> = events.iter().map(|e| e.detail_type.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "SageMaker Model Building Pipeline Execution Status Change",
            "SageMaker Model Package State Change",
            "SageMaker Model Building Pipeline Execution Status Change",
        ]
    );
}
