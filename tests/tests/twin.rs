//! The twin in front of moto: what it forwards, what it adds, its admin API.

use steward_twin::twin::{FaultPlan, FaultRule, TwinClient};
use steward_twin::{local_sdk_config, s3_client, Emulator, Twin, TwinConfig};

async fn twin() -> (Emulator, Twin) {
    let emulator = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let twin = Twin::start(TwinConfig::new(emulator.endpoint()))
        .await
        .unwrap();
    (emulator, twin)
}

#[tokio::test]
async fn requests_moto_handles_are_forwarded_unchanged() {
    let (_moto, twin) = twin().await;
    let sdk = local_sdk_config(&twin.endpoint()).await;
    let s3 = s3_client(&sdk);
    s3.create_bucket()
        .bucket("through-the-twin")
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket("through-the-twin")
        .key("a/b.csv")
        .body(b"x,y\n1,2\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let body = s3
        .get_object()
        .bucket("through-the-twin")
        .key("a/b.csv")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert_eq!(&body[..], b"x,y\n1,2\n");
    let health = TwinClient::new(twin.endpoint())
        .get("health")
        .await
        .unwrap();
    assert_eq!(health["ok"], true);
}

#[tokio::test]
async fn injected_throttling_reaches_the_caller_and_can_be_switched_off() {
    let (_moto, twin) = twin().await;
    let sdk = local_sdk_config(&twin.endpoint()).await;
    let s3 = s3_client(&sdk);
    twin.ctx().faults.set(FaultPlan {
        seed: 7,
        rules: vec![FaultRule {
            operation: "s3:*".into(),
            throttle: 1.0,
            error: 0.0,
            latency_ms: 0,
        }],
    });
    let err = s3.list_buckets().send().await.unwrap_err();
    assert_eq!(
        steward::aws_error::code(&err),
        Some("ThrottlingException"),
        "{err:?}"
    );
    twin.ctx().faults.set(FaultPlan::default());
    s3.list_buckets().send().await.unwrap();
}

#[tokio::test]
async fn reset_forgets_moto_state() {
    let (_moto, twin) = twin().await;
    let sdk = local_sdk_config(&twin.endpoint()).await;
    let s3 = s3_client(&sdk);
    s3.create_bucket().bucket("forgotten").send().await.unwrap();
    let reply = TwinClient::new(twin.endpoint())
        .post("reset", &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(reply["reset"], true);
    let buckets = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets
        .unwrap_or_default();
    assert!(buckets.is_empty(), "{buckets:?}");
}

#[tokio::test]
async fn a_reset_keeps_the_twin_s_configuration() {
    let emulator = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let mut config = TwinConfig::new(emulator.endpoint());
    config.time_scale = 600.0;
    config
        .pipeline_steps
        .insert("always-fails".into(), vec!["false".into()]);
    let twin = Twin::start(config).await.unwrap();
    TwinClient::new(twin.endpoint())
        .post("reset", &serde_json::json!({}))
        .await
        .unwrap();
    let sagemaker = aws_sdk_sagemaker::Client::new(&local_sdk_config(&twin.endpoint()).await);
    sagemaker
        .create_pipeline()
        .pipeline_name("always-fails")
        .pipeline_definition(r#"{"Version":"2020-12-01","Parameters":[],"Steps":[]}"#)
        .role_arn("arn:aws:iam::123456789012:role/steward-local-pipeline")
        .client_request_token("steward-test-create-pipeline-0001")
        .send()
        .await
        .unwrap();
    let arn = sagemaker
        .start_pipeline_execution()
        .pipeline_name("always-fails")
        .client_request_token("a".repeat(40))
        .send()
        .await
        .unwrap()
        .pipeline_execution_arn
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let status = sagemaker
            .describe_pipeline_execution()
            .pipeline_execution_arn(&arn)
            .send()
            .await
            .unwrap()
            .pipeline_execution_status
            .map(|s| s.as_str().to_string());
        if status.as_deref() == Some("Failed") {
            break;
        }
        assert_ne!(
            status.as_deref(),
            Some("Succeeded"),
            "the step still runs after a reset"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "no final status: {status:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
