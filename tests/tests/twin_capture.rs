//! The twin's SageMaker data capture, read back by the drift monitor's own
//! decoder: an endpoint whose live config enables capture writes each sampled
//! request to S3 in SageMaker's layout and record shape; one without writes
//! nothing. And the example training step's drift baseline is exactly the one
//! `steward baseline` (steward-drift's builder) makes from the same data.

use std::io::BufRead;
use std::time::Duration;

use aws_sdk_sagemaker::types::{
    CaptureContentTypeHeader, CaptureMode, CaptureOption, ContainerDefinition, DataCaptureConfig,
    EndpointStatus, ProductionVariant, ProductionVariantInstanceType,
};
use serde_json::{json, Value};
use steward_drift::{
    decode_line, Baseline, BaselineBuilder, BuildOptions, Encoding, Status, WindowStats,
};
use steward_twin::{local_sdk_config, s3_client, Emulator, Twin, TwinConfig};

const CAPTURE_BUCKET: &str = "capture";
const MODEL: &str = r#"{"kind": "logistic-regression",
  "features": ["amount", "hour", "vendor_new", "bank_changed"],
  "weights": [1.5, -0.2, 0.8, 2.0], "bias": -1.0, "threshold": 0.5,
  "means": [1000.0, 12.0, 0.1, 0.05], "stds": [500.0, 6.0, 0.3, 0.2]}"#;
const DATA: &str = include_str!("../../examples/data/transactions.csv");

struct Setup {
    _moto: Emulator,
    twin: Twin,
    sdk: aws_config::SdkConfig,
}

async fn setup() -> Setup {
    let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let twin = Twin::start(TwinConfig {
        time_scale: 600.0,
        ..TwinConfig::new(moto.endpoint())
    })
    .await
    .unwrap();
    let sdk = local_sdk_config(&twin.endpoint()).await;
    Setup {
        _moto: moto,
        twin,
        sdk,
    }
}

impl Setup {
    /// An endpoint `name` serving the model, capturing per `capture`.
    async fn endpoint(&self, name: &str, capture: Option<DataCaptureConfig>) {
        let sm = aws_sdk_sagemaker::Client::new(&self.sdk);
        sm.create_model()
            .model_name(name)
            .execution_role_arn("arn:aws:iam::123456789012:role/steward-sagemaker")
            .primary_container(
                ContainerDefinition::builder()
                    .image("steward-local/logistic-regression:1")
                    .model_data_url("s3://models/model.json")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        sm.create_endpoint_config()
            .endpoint_config_name(name)
            .production_variants(
                ProductionVariant::builder()
                    .variant_name("AllTraffic")
                    .model_name(name)
                    .initial_instance_count(1)
                    .instance_type(ProductionVariantInstanceType::MlM5Large)
                    .build(),
            )
            .set_data_capture_config(capture)
            .send()
            .await
            .unwrap();
        sm.create_endpoint()
            .endpoint_name(name)
            .endpoint_config_name(name)
            .send()
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let out = sm
                .describe_endpoint()
                .endpoint_name(name)
                .send()
                .await
                .unwrap();
            if out.endpoint_status() == Some(&EndpointStatus::InService) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{out:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn invoke(&self, endpoint: &str, content_type: &str, body: &str) -> Value {
        let out = aws_sdk_sagemakerruntime::Client::new(&self.sdk)
            .invoke_endpoint()
            .endpoint_name(endpoint)
            .content_type(content_type)
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("InvokeEndpoint {endpoint}: {e:?}"));
        serde_json::from_slice(out.body().unwrap().as_ref()).unwrap()
    }

    /// Every capture object's key and text.
    async fn captured(&self) -> Vec<(String, String)> {
        let s3 = s3_client(&self.sdk);
        let listed = s3
            .list_objects_v2()
            .bucket(CAPTURE_BUCKET)
            .send()
            .await
            .unwrap();
        let mut out = Vec::new();
        for object in listed.contents() {
            let key = object.key().unwrap().to_string();
            let body = s3
                .get_object()
                .bucket(CAPTURE_BUCKET)
                .key(&key)
                .send()
                .await
                .unwrap()
                .body
                .collect()
                .await
                .unwrap()
                .into_bytes();
            out.push((key, String::from_utf8(body.to_vec()).unwrap()));
        }
        out
    }
}

fn capture(percent: i32) -> DataCaptureConfig {
    let mode = |m| CaptureOption::builder().capture_mode(m).build();
    DataCaptureConfig::builder()
        .enable_capture(true)
        .initial_sampling_percentage(percent)
        .destination_s3_uri(format!("s3://{CAPTURE_BUCKET}/fraud/prod/"))
        .capture_options(mode(CaptureMode::Input))
        .capture_options(mode(CaptureMode::Output))
        .capture_content_type_header(
            CaptureContentTypeHeader::builder()
                .csv_content_types("text/csv")
                .json_content_types("application/json")
                .build(),
        )
        .build()
}

#[tokio::test]
async fn invocations_are_captured_as_sagemaker_writes_them() {
    let s = setup().await;
    let s3 = s3_client(&s.sdk);
    for bucket in ["models", CAPTURE_BUCKET] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    s3.put_object()
        .bucket("models")
        .key("model.json")
        .body(MODEL.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
    s.endpoint("fraud-prod", Some(capture(100))).await;
    s.endpoint("fraud-sampled", Some(capture(20))).await;
    s.endpoint("fraud-plain", None).await;

    let before = s.twin.ctx().clock.now();
    let csv = "2500,3,1,1\n900,12,0,0\n";
    let answer = s.invoke("fraud-prod", "text/csv", csv).await;
    let json_body =
        r#"{"instances": [{"amount": 2500, "hour": 3, "vendor_new": 1, "bank_changed": 1}]}"#;
    s.invoke("fraud-prod", "application/json", json_body).await;
    s.invoke("fraud-plain", "text/csv", csv).await;
    let after = s.twin.ctx().clock.now();

    let captured = s.captured().await;
    assert_eq!(
        captured.len(),
        2,
        "one object per captured request: {captured:?}"
    );
    let mut records = Vec::new();
    for (key, text) in &captured {
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let record: Value = serde_json::from_str(lines[0]).unwrap();
        // The key names the endpoint, variant and the hour of the request.
        let at: chrono::DateTime<chrono::Utc> = record["eventMetadata"]["inferenceTime"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            at >= before - chrono::Duration::seconds(1) && at <= after,
            "{at} not in [{before}, {after}]"
        );
        let folder = format!(
            "fraud/prod/fraud-prod/AllTraffic/{}/",
            at.format("%Y/%m/%d/%H")
        );
        assert!(
            key.starts_with(&folder) && key.ends_with(".jsonl"),
            "{key} vs {folder}"
        );
        assert_eq!(record["eventVersion"], "0");
        assert!(record["eventMetadata"]["eventId"].as_str().unwrap().len() == 36);
        // steward-drift decodes the line as the monitor will.
        let line = decode_line(lines[0].as_bytes()).expect("a capture line");
        let input = line.capture_data.endpoint_input.expect("input captured");
        assert_eq!(input.mode.as_deref(), Some("INPUT"));
        records.push((
            input.encoding,
            input.data.to_string(),
            record["captureData"]["endpointOutput"].clone(),
        ));
    }
    records.sort_by_key(|(e, _, _)| *e != Encoding::Csv);
    assert_eq!(records[0].0, Encoding::Csv);
    assert_eq!(records[0].1, csv);
    assert_eq!(records[1].0, Encoding::Json);
    assert_eq!(records[1].1, json_body);
    // The response as the endpoint gave it (JSON is a listed content type).
    let output = &records[0].2;
    assert_eq!(output["mode"], "OUTPUT");
    assert_eq!(output["encoding"], "JSON");
    assert_eq!(output["observedContentType"], "application/json");
    let data: Value = serde_json::from_str(output["data"].as_str().unwrap()).unwrap();
    assert_eq!(data, answer);

    // 20 %: exactly one in five requests.
    for _ in 0..10 {
        s.invoke("fraud-sampled", "text/csv", "100,12,0,0").await;
    }
    let sampled = s
        .captured()
        .await
        .into_iter()
        .filter(|(k, _)| k.contains("/fraud-sampled/"))
        .count();
    assert_eq!(sampled, 2);
}

#[tokio::test]
async fn the_training_steps_baseline_is_steward_baselines() {
    let s = setup().await;
    let s3 = s3_client(&s.sdk);
    s3.create_bucket().bucket("data").send().await.unwrap();
    s3.put_object()
        .bucket("data")
        .key("fraud/part-0000.csv")
        .body(DATA.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = Emulator::binary().with_file_name("python");
    let out = tokio::process::Command::new(&python)
        .arg(root.join("examples/train/train.py"))
        .args(["--group", "payroll-fraud"])
        .env("AWS_ENDPOINT_URL", s.twin.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("STEWARD_PIPELINE_EXECUTION_ARN", "arn:exec/run1")
        .env("STEWARD_PARAM_InputDataUrl", "s3://data/fraud/")
        .env_remove("AWS_PROFILE")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed["baseline"],
        "s3://steward-local-artifacts/payroll-fraud/run1/model/baseline.json"
    );
    // The registry points at it, where SageMaker keeps drift baselines.
    let package = aws_sdk_sagemaker::Client::new(&s.sdk)
        .describe_model_package()
        .model_package_name(printed["model_package_arn"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let statistics = package
        .drift_check_baselines()
        .and_then(|d| d.model_data_quality())
        .and_then(|q| q.statistics())
        .and_then(|s| s.s3_uri());
    assert_eq!(statistics, printed["baseline"].as_str());

    let written = s3
        .get_object()
        .bucket("steward-local-artifacts")
        .key("payroll-fraud/run1/model/baseline.json")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let from_python = Baseline::from_json(&written).expect("steward-drift reads it");
    let mut builder = BaselineBuilder::new(BuildOptions {
        features: ["amount", "hour", "vendor_new", "bank_changed"]
            .map(String::from)
            .to_vec(),
        ..BuildOptions::default()
    });
    builder.read(DATA.as_bytes()).unwrap();
    // As the monitor reads it: the file `steward baseline --out` writes, read
    // back (serde_json's default float parsing may land one ulp off the
    // written digits; both files go through it alike).
    let from_rust = Baseline::from_json(builder.finish().unwrap().to_json().as_bytes()).unwrap();
    assert_eq!(
        from_python, from_rust,
        "the same baseline as the monitor reads it"
    );
    assert_eq!(from_python.rows, DATA.lines().count() as u64 - 1);

    // And the monitor's statistics accept the training data itself as no drift.
    let mut stats = WindowStats::new(&from_python);
    for row in DATA.as_bytes().lines().skip(1) {
        let row = row.unwrap();
        let fields: Vec<&str> = row.split(',').collect();
        let line = json!({"captureData": {"endpointInput": {
            "observedContentType": "text/csv", "mode": "INPUT",
            "data": fields[2..6].join(","), "encoding": "CSV"}}});
        stats.line(line.to_string().as_bytes());
    }
    let report = steward_drift::compare(&from_python, &stats, &Default::default());
    assert_eq!(report.status, Status::NoDrift, "{report:?}");
}
