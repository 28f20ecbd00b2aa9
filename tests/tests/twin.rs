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
