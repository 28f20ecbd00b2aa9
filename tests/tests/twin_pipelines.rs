//! Pipeline executions in the twin: ClientRequestToken honoured, the local
//! step run for real (the example training step), statuses and events as AWS
//! reports them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_sagemaker::types::{
    Parameter, PipelineExecutionStatus as ApiStatus, PipelineExecutionSummary,
};
use serde_json::Value;
use steward::events::sagemaker::{
    ModelPackageStateChange, PipelineExecutionStatus, PipelineExecutionStatusChange,
};
use steward::events::AwsDetail;
use steward_twin::twin::TwinClient;
use steward_twin::{local_sdk_config, s3_client, Emulator, Twin, TwinConfig};

const TRAIN: &str = "payroll-fraud-train";
const FAILS: &str = "broken-train";
const WAITS: &str = "gated-train";
const PLAIN: &str = "no-step-train";
const GROUP: &str = "payroll-fraud";
/// A run must end well within this (the example step takes about a second).
const DEADLINE: Duration = Duration::from_secs(20);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The project's Python, next to moto_server in `.venv/bin`.
fn python() -> String {
    Emulator::binary()
        .with_file_name("python")
        .display()
        .to_string()
}

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

struct Local {
    _moto: Emulator,
    twin: Twin,
    sdk: aws_config::SdkConfig,
}

impl Local {
    async fn start() -> Local {
        let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
        let mut config = TwinConfig::new(moto.endpoint());
        let train = repo_root().join("examples/train/train.py");
        config.pipeline_steps = HashMap::from([
            (
                TRAIN.to_string(),
                vec![python(), train.display().to_string()],
            ),
            (
                FAILS.to_string(),
                sh("echo 'starting' >&2; echo 'no rows under s3://data/empty/' >&2; exit 2"),
            ),
            // Runs until the file named by its Gate parameter exists.
            (
                WAITS.to_string(),
                sh(r#"while [ ! -e "$STEWARD_PARAM_Gate" ]; do sleep 0.05; done"#),
            ),
        ]);
        let twin = Twin::start(config).await.unwrap();
        let sdk = local_sdk_config(&twin.endpoint()).await;
        let local = Local {
            _moto: moto,
            twin,
            sdk,
        };
        for name in [TRAIN, FAILS, WAITS, PLAIN] {
            local
                .sagemaker()
                .create_pipeline()
                .pipeline_name(name)
                .pipeline_definition(r#"{"Version": "2020-12-01", "Steps": []}"#)
                .role_arn("arn:aws:iam::123456789012:role/steward-pipeline")
                .send()
                .await
                .unwrap();
        }
        local
    }

    fn sagemaker(&self) -> aws_sdk_sagemaker::Client {
        aws_sdk_sagemaker::Client::new(&self.sdk)
    }

    async fn start_execution(&self, pipeline: &str, params: &[(&str, &str)]) -> String {
        let params = params
            .iter()
            .map(|(n, v)| Parameter::builder().name(*n).value(*v).build())
            .collect();
        self.sagemaker()
            .start_pipeline_execution()
            .pipeline_name(pipeline)
            .pipeline_execution_display_name("steward-test")
            .set_pipeline_parameters(Some(params))
            .send()
            .await
            .unwrap()
            .pipeline_execution_arn
            .unwrap()
    }

    async fn status(&self, arn: &str) -> (ApiStatus, Option<String>) {
        let out = self
            .sagemaker()
            .describe_pipeline_execution()
            .pipeline_execution_arn(arn)
            .send()
            .await
            .unwrap();
        (out.pipeline_execution_status.unwrap(), out.failure_reason)
    }

    /// Poll until the execution is no longer Executing.
    async fn finished(&self, arn: &str) -> (ApiStatus, Option<String>) {
        let started = Instant::now();
        loop {
            let (status, reason) = self.status(arn).await;
            if status != ApiStatus::Executing {
                return (status, reason);
            }
            assert!(started.elapsed() < DEADLINE, "{arn} still Executing");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn summaries(&self, pipeline: &str) -> Vec<PipelineExecutionSummary> {
        self.sagemaker()
            .list_pipeline_executions()
            .pipeline_name(pipeline)
            .send()
            .await
            .unwrap()
            .pipeline_execution_summaries
            .unwrap_or_default()
    }

    /// `/_twin/events`: what the twin put on moto's default bus.
    async fn events(&self) -> Vec<Value> {
        let reply = TwinClient::new(self.twin.endpoint())
            .get("events")
            .await
            .unwrap();
        reply["events"].as_array().cloned().unwrap_or_default()
    }

    async fn pipeline_events(&self, arn: &str) -> Vec<PipelineExecutionStatusChange> {
        self.events()
            .await
            .into_iter()
            .filter(|e| e["detail-type"] == PipelineExecutionStatusChange::DETAIL_TYPE)
            .map(|e| serde_json::from_value(e["detail"].clone()).expect("detail decodes"))
            .filter(|d: &PipelineExecutionStatusChange| d.pipeline_execution_arn == arn)
            .collect()
    }
}

#[tokio::test]
async fn the_same_token_twice_starts_one_execution_per_pipeline() {
    let local = Local::start().await;
    let token = "stw-7f3a9c1e2b4d6f8a0c2e4a6b8d0f2a4c6e8a0b2d4f6a8c0e2a4c6e8a0b2d4f6";
    let start = |pipeline: &'static str| {
        local
            .sagemaker()
            .start_pipeline_execution()
            .pipeline_name(pipeline)
            .client_request_token(token)
            .send()
    };
    let first = start(PLAIN).await.unwrap().pipeline_execution_arn;
    let second = start(PLAIN).await.unwrap().pipeline_execution_arn;
    assert_eq!(first, second);
    assert_eq!(local.summaries(PLAIN).await.len(), 1);

    // The token is scoped to the pipeline, as on AWS.
    let other = start(WAITS).await.unwrap().pipeline_execution_arn;
    assert_ne!(other, first);
    assert_eq!(local.summaries(WAITS).await.len(), 1);

    // Without a step, the execution still goes through Executing to Succeeded.
    let arn = first.unwrap();
    assert_eq!(local.finished(&arn).await, (ApiStatus::Succeeded, None));
    let statuses: Vec<_> = local
        .pipeline_events(&arn)
        .await
        .into_iter()
        .map(|e| e.current_pipeline_execution_status)
        .collect();
    assert_eq!(
        statuses,
        vec![
            PipelineExecutionStatus::Executing,
            PipelineExecutionStatus::Succeeded
        ]
    );
}

#[tokio::test]
async fn status_stays_executing_until_the_step_exits() {
    let local = Local::start().await;
    let gate = std::env::temp_dir().join(format!(
        "steward-twin-gate-{}-{}",
        std::process::id(),
        local.twin.endpoint().rsplit(':').next().unwrap_or_default()
    ));
    let _ = std::fs::remove_file(&gate);
    let arn = local
        .start_execution(WAITS, &[("Gate", &gate.display().to_string())])
        .await;
    assert_eq!(local.status(&arn).await.0, ApiStatus::Executing);
    let summary = &local.summaries(WAITS).await[0];
    assert_eq!(
        summary.pipeline_execution_status,
        Some(ApiStatus::Executing)
    );
    assert_eq!(summary.pipeline_execution_failure_reason, None);

    std::fs::write(&gate, b"go").unwrap();
    assert_eq!(local.finished(&arn).await, (ApiStatus::Succeeded, None));
    let _ = std::fs::remove_file(&gate);
}

#[tokio::test]
async fn the_example_step_trains_registers_a_model_and_emits_events() {
    let local = Local::start().await;
    let s3 = s3_client(&local.sdk);
    s3.create_bucket()
        .bucket("acme-ml-data")
        .send()
        .await
        .unwrap();
    let data = std::fs::read(repo_root().join("examples/data/transactions.csv")).unwrap();
    s3.put_object()
        .bucket("acme-ml-data")
        .key("payroll-fraud/transactions/2026-11-23/part-0.csv")
        .body(data.into())
        .send()
        .await
        .unwrap();
    let data_uri = "s3://acme-ml-data/payroll-fraud/transactions/2026-11-23/";

    let arn = local
        .start_execution(
            TRAIN,
            &[("InputDataUrl", data_uri), ("DataVersion", "v-123")],
        )
        .await;
    let (status, reason) = local.finished(&arn).await;
    assert_eq!(status, ApiStatus::Succeeded, "{reason:?}");

    // The step registered one package in the group, with its lineage.
    let sagemaker = local.sagemaker();
    let packages = sagemaker
        .list_model_packages()
        .model_package_group_name(GROUP)
        .send()
        .await
        .unwrap()
        .model_package_summary_list
        .unwrap_or_default();
    assert_eq!(packages.len(), 1);
    let package_arn = packages[0].model_package_arn.clone().unwrap();
    let package = sagemaker
        .describe_model_package()
        .model_package_name(&package_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        package.metadata_properties.unwrap().generated_by.as_deref(),
        Some(arn.as_str())
    );
    let metadata = package.customer_metadata_properties.unwrap_or_default();
    assert_eq!(metadata["steward:data-uri"], data_uri);
    assert_eq!(metadata["steward:data-version"], "v-123");

    // Its evaluation report is SageMaker model-quality JSON with a real AUC.
    let report_uri = package
        .model_metrics
        .and_then(|m| m.model_quality)
        .and_then(|q| q.statistics)
        .and_then(|s| s.s3_uri)
        .unwrap();
    let report = read_json(&s3, &report_uri).await;
    let auc = report["binary_classification_metrics"]["auc"]["value"]
        .as_f64()
        .unwrap();
    assert!((0.0..=1.0).contains(&auc), "{report}");
    for metric in ["recall", "precision", "f1", "accuracy"] {
        assert!(
            report["binary_classification_metrics"][metric]["standard_deviation"].is_number(),
            "{metric}: {report}"
        );
    }
    let model_uri = package.inference_specification.unwrap().containers.unwrap()[0]
        .model_data_url
        .clone()
        .unwrap();
    let model = read_json(&s3, &model_uri).await;
    assert_eq!(model["kind"], "logistic-regression");
    assert_eq!(model["weights"].as_array().unwrap().len(), 4);

    // Executing, then the package registered, then Succeeded.
    let events = local.events().await;
    let kinds: Vec<_> = events
        .iter()
        .map(|e| e["detail-type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        vec![
            PipelineExecutionStatusChange::DETAIL_TYPE,
            ModelPackageStateChange::DETAIL_TYPE,
            PipelineExecutionStatusChange::DETAIL_TYPE
        ]
    );
    let package_event: ModelPackageStateChange =
        serde_json::from_value(events[1]["detail"].clone()).unwrap();
    assert_eq!(package_event.model_package_arn, package_arn);
    assert!(package_event.is_pending_approval());
    assert_eq!(package_event.quality_report().unwrap().s3_uri, report_uri);
    let pipeline = local.pipeline_events(&arn).await;
    assert_eq!(
        pipeline[1].previous_pipeline_execution_status,
        Some(PipelineExecutionStatus::Executing)
    );
    assert_eq!(
        pipeline[1].current_pipeline_execution_status,
        PipelineExecutionStatus::Succeeded
    );
    assert!(pipeline[1].execution_end_time.is_some());
    assert_eq!(
        pipeline[1].pipeline_arn,
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/payroll-fraud-train"
    );
    assert_eq!(
        pipeline[0].pipeline_execution_display_name.as_deref(),
        Some("steward-test")
    );
    assert_eq!(events[2]["resources"][1], arn.as_str());
}

#[tokio::test]
async fn a_failing_step_fails_the_execution_with_its_last_stderr_line() {
    let local = Local::start().await;
    let arn = local.start_execution(FAILS, &[]).await;
    let reason = "no rows under s3://data/empty/";
    assert_eq!(
        local.finished(&arn).await,
        (ApiStatus::Failed, Some(reason.to_string()))
    );
    let summary = &local.summaries(FAILS).await[0];
    assert_eq!(summary.pipeline_execution_status, Some(ApiStatus::Failed));
    assert_eq!(
        summary.pipeline_execution_failure_reason.as_deref(),
        Some(reason)
    );
    let events = local.pipeline_events(&arn).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[1].current_pipeline_execution_status,
        PipelineExecutionStatus::Failed
    );
    assert!(events[1].is_finished());
}

async fn read_json(s3: &aws_sdk_s3::Client, uri: &str) -> Value {
    let (bucket, key) = uri
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .unwrap();
    let body = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    serde_json::from_slice(&body).unwrap()
}
