//! What the approval-link tests share: moto with the twin in front, the
//! provisioned stack, the signing key in Secrets Manager, a model package
//! registered pending approval (through the twin's registry, as a training
//! step registers it), its approval request as request-approval stores it,
//! and tokens minted with the token API.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use approval_link::{Config, Context};
use aws_sdk_sagemaker::types::{
    InferenceSpecification, MetadataProperties, MetricsSource, ModelApprovalStatus, ModelMetrics,
    ModelPackageContainerDefinition, ModelQuality,
};
use chrono::Utc;
use serde_json::Value;
use steward::approval::request::{ApprovalRequest, RequestStatus};
use steward::approval::store::{ApprovalStore, DynamoApprovals};
use steward::approval::token::{token_id, Claims, SigningKeys};
use steward::gate::report::{Candidate, Champion, Check, CheckKind, GateReport, Lineage};
use steward::ledger::{DynamoLedger, Ledger, LineageRecord, Subject};
use steward_tests::EXAMPLE_POLICY;
use steward_twin::{local_sdk_config, Emulator, Stack, StackSpec, Twin, TwinConfig};

pub const GROUP: &str = "payroll-fraud";
pub const KEY_SECRET_ID: &str = "steward/approval-key";
pub const KEY_A: &str = "approval-key-a-0123456789abcdef0123456789abcdef";
pub const KEY_B: &str = "approval-key-b-0123456789abcdef0123456789abcdef";
pub const KEY_C: &str = "approval-key-c-0123456789abcdef0123456789abcdef";
pub const ANA: &str = "ana.lima@acme.com";
pub const RAJ: &str = "raj.patel@acme.com";
pub const AUC: &str = "binary_classification_metrics.auc.value";
pub const ARTIFACTS: &str = "steward-local-artifacts";
/// Events land on the capture queue as PutEvents returns; this bounds the wait.
pub const WAIT: Duration = Duration::from_secs(3);

pub struct Local {
    _moto: Emulator,
    pub twin: Twin,
    pub sdk: aws_config::SdkConfig,
    pub stack: Stack,
}

impl Local {
    pub async fn start() -> Local {
        Local::start_with(EXAMPLE_POLICY).await
    }

    pub async fn start_with(policy: &str) -> Local {
        let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
        let twin = Twin::start(TwinConfig::new(moto.endpoint())).await.unwrap();
        let sdk = local_sdk_config(&twin.endpoint()).await;
        let stack = Stack::provision(&sdk, StackSpec::new(policy))
            .await
            .unwrap_or_else(|e| panic!("provisioning failed: {e}"));
        secrets(&sdk)
            .create_secret()
            .name(KEY_SECRET_ID)
            .secret_string(KEY_A)
            .send()
            .await
            .unwrap();
        sagemaker(&sdk)
            .create_model_package_group()
            .model_package_group_name(GROUP)
            .send()
            .await
            .unwrap();
        Local {
            _moto: moto,
            twin,
            sdk,
            stack,
        }
    }

    pub fn config(&self) -> Config {
        Config {
            key_secret_id: KEY_SECRET_ID.into(),
            ledger_table: self.stack.spec.ledger_table.clone(),
            event_bus: self.stack.spec.event_bus.clone(),
            claim_lease: Duration::from_secs(60),
            // Re-read the key at once when a link does not verify, so a test
            // sees a rotation without waiting.
            key_refresh: Duration::ZERO,
        }
    }

    /// approval-link's context, made the way its main.rs makes it.
    pub async fn function(&self) -> Context {
        Context::connect(&self.sdk, &self.config())
            .await
            .unwrap_or_else(|e| panic!("approval-link could not start: {e}"))
    }

    /// Rotate the signing key as Secrets Manager does: the new value becomes
    /// AWSCURRENT, the old one AWSPREVIOUS.
    pub async fn rotate_key(&self, new_key: &str) {
        secrets(&self.sdk)
            .put_secret_value()
            .secret_id(KEY_SECRET_ID)
            .secret_string(new_key)
            .send()
            .await
            .unwrap();
    }

    /// Register a package pending approval, as the training step does; its ARN.
    pub async fn register(&self) -> String {
        self.register_reporting(None).await
    }

    /// Put a model-quality report in S3 and register a package whose
    /// `ModelMetrics` point at it, as the example training step does.
    pub async fn register_with_report(&self, report: &Value) -> String {
        let s3 = steward_twin::s3_client(&self.sdk);
        let _ = s3.create_bucket().bucket(ARTIFACTS).send().await;
        let key = format!("{GROUP}/run-1/evaluation.json");
        s3.put_object()
            .bucket(ARTIFACTS)
            .key(&key)
            .body(report.to_string().into_bytes().into())
            .send()
            .await
            .unwrap();
        self.register_reporting(Some(format!("s3://{ARTIFACTS}/{key}")))
            .await
    }

    async fn register_reporting(&self, report_uri: Option<String>) -> String {
        let metrics = report_uri.map(|uri| {
            ModelMetrics::builder()
                .model_quality(
                    ModelQuality::builder()
                        .statistics(
                            MetricsSource::builder()
                                .content_type("application/json")
                                .s3_uri(uri)
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        sagemaker(&self.sdk)
            .create_model_package()
            .set_model_metrics(metrics)
            .model_package_group_name(GROUP)
            .model_package_description("trained on 2026-11-24 data")
            .inference_specification(
                InferenceSpecification::builder()
                    .containers(
                        ModelPackageContainerDefinition::builder()
                            .image("steward-local/logistic-regression:1")
                            .model_data_url("s3://artifacts/payroll-fraud/run-1/model.json")
                            .build(),
                    )
                    .supported_content_types("text/csv")
                    .supported_response_mime_types("application/json")
                    .build(),
            )
            .metadata_properties(
                MetadataProperties::builder()
                    .generated_by("arn:aws:sagemaker:us-east-1:123456789012:pipeline/payroll-fraud-train/execution/abc")
                    .commit_id("8e1f3c5a7b9d2e4f6a8c0b1d3e5f7a9c2b4d6e8f")
                    .build(),
            )
            .customer_metadata_properties("steward:data-version", "v1")
            .customer_metadata_properties("steward:correlation-id", "stw-test-chain")
            .model_approval_status(ModelApprovalStatus::PendingManualApproval)
            .send()
            .await
            .unwrap()
            .model_package_arn
            .unwrap()
    }

    /// The twin's pending-approval event for a package, as EventBridge delivers it.
    pub fn registered_event(&self, arn: &str) -> Value {
        self.twin
            .ctx()
            .events
            .emitted()
            .into_iter()
            .find(|e| {
                e.detail["ModelPackageArn"] == arn
                    && e.detail["ModelApprovalStatus"] == "PendingManualApproval"
            })
            .map(|e| {
                serde_json::json!({
                    "version": "0",
                    "id": format!("twin-{arn}"),
                    "detail-type": e.detail_type,
                    "source": e.source,
                    "account": "123456789012",
                    "time": e.time.to_rfc3339(),
                    "region": "us-east-1",
                    "resources": e.resources,
                    "detail": e.detail,
                })
            })
            .expect("the twin emits the registration")
    }

    /// The mail the twin captured, oldest first.
    pub async fn mail(&self) -> Vec<Value> {
        let reply = steward_twin::twin::TwinClient::new(self.twin.endpoint())
            .get("mail")
            .await
            .unwrap();
        reply["messages"].as_array().cloned().unwrap_or_default()
    }

    /// The package's approval status, description and metadata.
    pub async fn package(&self, arn: &str) -> (String, Option<String>, BTreeMap<String, String>) {
        let out = sagemaker(&self.sdk)
            .describe_model_package()
            .model_package_name(arn)
            .send()
            .await
            .unwrap();
        (
            out.model_approval_status
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            out.approval_description,
            out.customer_metadata_properties
                .unwrap_or_default()
                .into_iter()
                .collect(),
        )
    }

    /// Store the request request-approval would have stored for this approver;
    /// the token of its link.
    pub async fn request(&self, arn: &str, approver: &str) -> String {
        let request = approval_request(arn, approver);
        self.approvals().put(&request).await.unwrap();
        sign(KEY_A, &claims_of(&request))
    }

    pub fn approvals(&self) -> DynamoApprovals {
        DynamoApprovals::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            &self.stack.spec.ledger_table,
        )
    }

    pub fn ledger(&self) -> DynamoLedger {
        DynamoLedger::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            &self.stack.spec.ledger_table,
        )
    }

    /// The decisions recorded on a model.
    pub async fn decisions(&self, arn: &str) -> Vec<LineageRecord> {
        self.ledger()
            .records(&Subject::Model(arn.to_string()))
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.kind == steward::approval::decision::RECORD_KIND)
            .collect()
    }

    pub async fn decided_events(&self) -> Vec<Value> {
        self.stack
            .steward_events(WAIT)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e["detail-type"] == "Approval Decided")
            .collect()
    }

    /// Every item in the ledger table: what "nothing changed" compares.
    pub async fn ledger_snapshot(&self) -> Vec<String> {
        let out = aws_sdk_dynamodb::Client::new(&self.sdk)
            .scan()
            .table_name(&self.stack.spec.ledger_table)
            .send()
            .await
            .unwrap();
        let mut items: Vec<String> = out
            .items()
            .iter()
            .map(|item| {
                let mut pairs: Vec<String> =
                    item.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                pairs.sort();
                pairs.join(",")
            })
            .collect();
        items.sort();
        items
    }
}

pub fn secrets(sdk: &aws_config::SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(sdk)
}

pub fn sagemaker(sdk: &aws_config::SdkConfig) -> aws_sdk_sagemaker::Client {
    aws_sdk_sagemaker::Client::new(sdk)
}

pub fn sign(key: &str, claims: &Claims) -> String {
    SigningKeys::new(key.as_bytes().to_vec(), None)
        .unwrap()
        .sign(claims)
}

pub fn claims_of(request: &ApprovalRequest) -> Claims {
    Claims {
        token_id: request.token_id.clone(),
        model_package_arn: request.model_package_arn.clone(),
        approver: request.approver.clone(),
        purpose: request.purpose.clone(),
        expires_at: request.expires_at.timestamp(),
    }
}

/// A request for `approver` to approve `arn` for prod, on a passing gate.
pub fn approval_request(arn: &str, approver: &str) -> ApprovalRequest {
    let now = Utc::now();
    let purpose = "approve:prod".to_string();
    let cause = format!("approval/{arn}/prod");
    ApprovalRequest {
        token_id: token_id(&cause, approver, &purpose),
        model_package_arn: arn.into(),
        group: GROUP.into(),
        version: arn.rsplit('/').next().and_then(|v| v.parse().ok()),
        environment: "prod".into(),
        approver: approver.into(),
        purpose,
        cause,
        correlation_id: "stw-test-chain".into(),
        requested_at: now,
        expires_at: now + chrono::Duration::hours(1),
        reminded_at: None,
        status: RequestStatus::Pending,
        gate: GateReport {
            candidate: Candidate {
                model_package_arn: arn.into(),
                group: GROUP.into(),
                version: arn.rsplit('/').next().and_then(|v| v.parse().ok()),
                metrics_uri: Some("s3://artifacts/payroll-fraud/run-1/evaluation.json".into()),
                metrics: BTreeMap::from([(AUC.to_string(), 0.9712)]),
            },
            checks: vec![
                Check {
                    metric: AUC.into(),
                    kind: CheckKind::ThresholdMin,
                    value: Some(0.9712),
                    bound: Some(0.9),
                    champion_value: None,
                    tolerance: None,
                    better: None,
                    passed: true,
                    reason: format!("{AUC} 0.9712 >= min 0.9"),
                },
                Check {
                    metric: AUC.into(),
                    kind: CheckKind::NoRegression,
                    value: Some(0.9712),
                    bound: None,
                    champion_value: Some(0.9533),
                    tolerance: Some(0.005),
                    better: Some("higher".into()),
                    passed: true,
                    reason: format!("{AUC} 0.9712 no worse than champion 0.9533 - 0.005"),
                },
            ],
            champion: Some(Champion {
                model_package_arn: format!("arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP}/0"),
                version: Some(0),
                source: "serving:prod".into(),
                metrics: BTreeMap::from([(AUC.to_string(), 0.9533)]),
            }),
            lineage: Lineage {
                pipeline_execution_arn: Some(
                    "arn:aws:sagemaker:us-east-1:123456789012:pipeline/payroll-fraud-train/execution/abc".into(),
                ),
                data_uri: Some("s3://acme-ml-data/payroll-fraud/2026-11-24/".into()),
                data_version: Some("v1".into()),
                commit: Some("8e1f3c5a7b9d2e4f6a8c0b1d3e5f7a9c2b4d6e8f".into()),
                trigger: Some("data".into()),
            },
            policy_version: Some("ssm:/steward/policy:1".into()),
            evaluated_at: Utc::now(),
            passed: true,
        },
    }
}
