//! request-approval against moto through the twin: a model registered pending
//! approval goes through the gate; a pass mails each approver a working link
//! once, a failure rejects the package with its reasons and tells the
//! stewards; the schedule tick reminds once and lapses.

use std::time::Duration;

use aws_sdk_sagemaker::types::{
    Bias, InferenceSpecification, MetadataProperties, MetricsSource, ModelApprovalStatus,
    ModelMetrics, ModelPackageContainerDefinition, ModelQuality,
};
use chrono::{DateTime, Utc};
use request_approval::{handle, Config, Context, Outcome, RequestApprovalError};
use serde_json::{json, Value};
use steward::approval::request::RequestStatus;
use steward::approval::store::{ApprovalStore, DynamoApprovals};
use steward::approval::token::SigningKeys;
use steward::events::sagemaker::ModelPackageStateChange;
use steward::events::AwsDetail;
use steward_tests::EXAMPLE_POLICY;
use steward_twin::twin::TwinClient;
use steward_twin::{local_sdk_config, Emulator, Stack, StackSpec, Twin, TwinConfig};

const GROUP: &str = "payroll-fraud";
const KEY_SECRET_ID: &str = "steward/approval-key";
const KEY: &str = "approval-key-0123456789abcdef0123456789abcdef";
const APPROVAL_URL: &str = "https://approve.steward.test/";
const ARTIFACTS: &str = "steward-local-artifacts";
const ANA: &str = "ana.lima@acme.com";
const RAJ: &str = "raj.patel@acme.com";
const STEWARD: &str = "ml-fraud@acme.com";
const COMMIT: &str = "8e1f3c5a7b9d2e4f6a8c0b1d3e5f7a9c2b4d6e8f";
const WAIT: Duration = Duration::from_secs(3);

/// The example policy, with staging approved by a person (the example lets
/// staging through without one and asks before prod).
fn policy_asking_for_staging() -> String {
    let policy = EXAMPLE_POLICY.replacen(
        "name = \"staging\"\n",
        "name = \"staging\"\napproval = \"required\"\n",
        1,
    );
    assert_ne!(policy, EXAMPLE_POLICY);
    policy
}

struct Env {
    _moto: Emulator,
    twin: Twin,
    sdk: aws_config::SdkConfig,
    stack: Stack,
    ctx: Context,
}

async fn start(policy: &str) -> Env {
    let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let twin = Twin::start(TwinConfig::new(moto.endpoint())).await.unwrap();
    let sdk = local_sdk_config(&twin.endpoint()).await;
    let stack = Stack::provision(&sdk, StackSpec::new(policy))
        .await
        .unwrap_or_else(|e| panic!("provisioning failed: {e}"));
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(KEY_SECRET_ID)
        .secret_string(KEY)
        .send()
        .await
        .unwrap();
    let s3 = steward_twin::s3_client(&sdk);
    s3.create_bucket().bucket(ARTIFACTS).send().await.unwrap();
    let config = Config {
        ledger_table: stack.spec.ledger_table.clone(),
        event_bus: stack.spec.event_bus.clone(),
        policy_parameter: stack.spec.policy_parameter.clone(),
        notifications_topic: stack.notifications_topic_arn.clone(),
        approval_url: APPROVAL_URL.into(),
        key_secret_id: KEY_SECRET_ID.into(),
        claim_lease: Duration::from_secs(60),
    };
    let ctx = Context::connect(&sdk, &config)
        .await
        .unwrap_or_else(|e| panic!("request-approval could not start: {e}"));
    Env {
        _moto: moto,
        twin,
        sdk,
        stack,
        ctx,
    }
}

fn binary(auc: f64, precision: f64) -> Value {
    json!({"binary_classification_metrics": {
        "auc": {"value": auc, "standard_deviation": 0.01},
        "precision": {"value": precision, "standard_deviation": 0.02},
        "recall": {"value": 0.8, "standard_deviation": 0.02},
        "f1": {"value": 0.7, "standard_deviation": "NaN"},
        "confusion_matrix": {"0": {"0": 90, "1": 4}, "1": {"0": 2, "1": 8}}
    }})
}

impl Env {
    fn sagemaker(&self) -> aws_sdk_sagemaker::Client {
        aws_sdk_sagemaker::Client::new(&self.sdk)
    }

    async fn put_report(&self, name: &str, report: &Value) -> String {
        let key = format!("{GROUP}/{name}/evaluation.json");
        steward_twin::s3_client(&self.sdk)
            .put_object()
            .bucket(ARTIFACTS)
            .key(&key)
            .body(report.to_string().into_bytes().into())
            .send()
            .await
            .unwrap();
        format!("s3://{ARTIFACTS}/{key}")
    }

    /// Register a package pending approval as the training step does; its ARN.
    async fn register(&self, group: &str, metrics_uri: &str) -> String {
        self.register_with_bias(group, metrics_uri, None).await
    }

    /// The same, naming a Clarify bias report (`ModelMetrics.Bias.PostTrainingReport`).
    async fn register_with_bias(
        &self,
        group: &str,
        metrics_uri: &str,
        bias_uri: Option<&str>,
    ) -> String {
        let bias = bias_uri.map(|uri| {
            Bias::builder()
                .post_training_report(
                    MetricsSource::builder()
                        .content_type("application/json")
                        .s3_uri(uri)
                        .build(),
                )
                .build()
        });
        let sagemaker = self.sagemaker();
        let _ = sagemaker
            .create_model_package_group()
            .model_package_group_name(group)
            .send()
            .await;
        sagemaker
            .create_model_package()
            .model_package_group_name(group)
            .inference_specification(
                InferenceSpecification::builder()
                    .containers(
                        ModelPackageContainerDefinition::builder()
                            .image("steward-local/logistic-regression:1")
                            .model_data_url("s3://steward-local-artifacts/model.json")
                            .build(),
                    )
                    .supported_content_types("text/csv")
                    .supported_response_mime_types("application/json")
                    .build(),
            )
            .model_metrics(
                ModelMetrics::builder()
                    .model_quality(
                        ModelQuality::builder()
                            .statistics(
                                MetricsSource::builder()
                                    .content_type("application/json")
                                    .s3_uri(metrics_uri)
                                    .build(),
                            )
                            .build(),
                    )
                    .set_bias(bias)
                    .build(),
            )
            .metadata_properties(
                MetadataProperties::builder()
                    .generated_by("arn:aws:sagemaker:us-east-1:123456789012:pipeline/payroll-fraud-train/execution/run1")
                    .commit_id(COMMIT)
                    .build(),
            )
            .customer_metadata_properties("steward:data-uri", "s3://acme-ml-data/payroll-fraud/transactions/2026-11-24/")
            .customer_metadata_properties("steward:data-version", "v-2026-11-24")
            .customer_metadata_properties("steward:trigger", "data")
            .model_approval_status(ModelApprovalStatus::PendingManualApproval)
            .send()
            .await
            .unwrap()
            .model_package_arn
            .unwrap()
    }

    /// The twin's pending-approval event for a package, as EventBridge delivers it.
    fn registered_event(&self, arn: &str) -> Value {
        self.twin
            .ctx()
            .events
            .emitted()
            .into_iter()
            .enumerate()
            .find(|(_, e)| {
                e.detail_type == ModelPackageStateChange::DETAIL_TYPE
                    && e.detail["ModelPackageArn"] == arn
                    && e.detail["ModelApprovalStatus"] == "PendingManualApproval"
            })
            .map(|(i, e)| {
                json!({
                    "version": "0",
                    "id": format!("twin-{i}"),
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

    async fn mail(&self) -> Vec<Value> {
        let reply = TwinClient::new(self.twin.endpoint())
            .get("mail")
            .await
            .unwrap();
        reply["messages"].as_array().cloned().unwrap_or_default()
    }

    async fn steward_events(&self) -> Vec<Value> {
        self.stack.steward_events(WAIT).await.unwrap()
    }

    async fn package(
        &self,
        arn: &str,
    ) -> aws_sdk_sagemaker::operation::describe_model_package::DescribeModelPackageOutput {
        self.sagemaker()
            .describe_model_package()
            .model_package_name(arn)
            .send()
            .await
            .unwrap()
    }

    fn approvals(&self) -> DynamoApprovals {
        DynamoApprovals::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            &self.stack.spec.ledger_table,
        )
    }

    async fn ledger_items(&self) -> i32 {
        aws_sdk_dynamodb::Client::new(&self.sdk)
            .scan()
            .table_name(&self.stack.spec.ledger_table)
            .send()
            .await
            .unwrap()
            .count
    }
}

fn tick(at: DateTime<Utc>) -> Value {
    json!({
        "version": "0",
        "id": format!("tick-{}", at.timestamp()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.to_rfc3339(),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/steward-tick"],
        "detail": {}
    })
}

fn to(mail: &[Value]) -> Vec<String> {
    let mut to: Vec<String> = mail
        .iter()
        .map(|m| m["to"].as_str().unwrap().to_string())
        .collect();
    to.sort();
    to
}

fn of_type<'a>(events: &'a [Value], detail_type: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["detail-type"] == detail_type)
        .collect()
}

#[tokio::test]
async fn a_passing_model_mails_each_approver_a_working_link_once() {
    let env = start(&policy_asking_for_staging()).await;
    let uri = env.put_report("run1", &binary(0.95, 0.72)).await;
    let arn = env.register(GROUP, &uri).await;
    let event = env.registered_event(&arn);

    let outcome = handle(&env.ctx, event.clone()).await.expect("handled");
    let Outcome::Requested { asked, .. } = &outcome else {
        panic!("expected approval requested, got {outcome:?}");
    };
    assert_eq!(asked.environment, "staging");
    assert_eq!(asked.token_ids.len(), 2);
    assert_eq!(asked.mailed, 2);

    // One mail per approver, each with a link only its approver's token opens.
    let mail = env.mail().await;
    assert_eq!(to(&mail), [ANA, RAJ], "{mail:#?}");
    let keys = SigningKeys::new(KEY.as_bytes(), None).unwrap();
    for m in &mail {
        assert_eq!(m["subject"], "Approve payroll-fraud v1 for staging?");
        let body = m["body"].as_str().unwrap();
        for expected in [
            "binary_classification_metrics.auc.value: 0.9500 | min 0.9000 | -",
            "binary_classification_metrics.precision.value: 0.7200 | min 0.6000, max 0.9990 | -",
            "Champion:    none yet",
            COMMIT,
            "v-2026-11-24",
            "Gate:        passed (6 of 6 checks passed)",
        ] {
            assert!(body.contains(expected), "{expected:?} not in:\n{body}");
        }
        let links = m["links"].as_array().unwrap();
        assert_eq!(links.len(), 1, "{links:?}");
        let link = links[0].as_str().unwrap();
        let token = link
            .strip_prefix(&format!("{APPROVAL_URL}?token="))
            .unwrap_or_else(|| panic!("not a link to the approval page: {link}"));
        let claims = keys
            .verify(token, Utc::now().timestamp())
            .expect("the link's token verifies");
        assert_eq!(claims.approver, m["to"].as_str().unwrap());
        assert_eq!(claims.model_package_arn, arn);
        assert_eq!(claims.purpose, "approve:staging");
        assert!(asked.token_ids.contains(&claims.token_id));
        // Valid for the policy's 48h.
        let lifetime = claims.expires_at - Utc::now().timestamp();
        assert!((47 * 3600..=48 * 3600).contains(&lifetime), "{lifetime}");
        // The request the review page reads carries the evidence mailed.
        let request = env
            .approvals()
            .get(&claims.token_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request.status, RequestStatus::Pending);
        assert_eq!(request.approver, claims.approver);
        assert!(request.gate.passed);
        assert_eq!(request.gate.lineage.commit.as_deref(), Some(COMMIT));
    }

    let events = env.steward_events().await;
    let gate = of_type(&events, "Gate Evaluated");
    assert_eq!(gate.len(), 1, "{events:#?}");
    assert_eq!(gate[0]["detail"]["outcome"], "passed");
    let requested = of_type(&events, "Approval Requested");
    assert_eq!(requested.len(), 1, "{events:#?}");
    assert_eq!(requested[0]["detail"]["environment"], "staging");
    assert_eq!(requested[0]["detail"]["approvers"], json!([ANA, RAJ]));
    assert_eq!(
        env.package(&arn).await.model_approval_status,
        Some(ModelApprovalStatus::PendingManualApproval)
    );

    // The same event again: nothing new.
    let again = handle(&env.ctx, event).await.expect("handled");
    assert!(matches!(again, Outcome::AlreadyHandled { .. }), "{again:?}");
    assert_eq!(env.mail().await.len(), 2);
    assert!(env.steward_events().await.is_empty());
}

#[tokio::test]
async fn a_failing_model_is_rejected_with_its_reasons_and_the_stewards_are_told() {
    let env = start(&policy_asking_for_staging()).await;
    let uri = env.put_report("run1", &binary(0.85, 0.43)).await;
    let arn = env.register(GROUP, &uri).await;

    let outcome = handle(&env.ctx, env.registered_event(&arn))
        .await
        .expect("handled");
    let Outcome::Rejected { failures, .. } = &outcome else {
        panic!("expected a rejection, got {outcome:?}");
    };
    assert_eq!(
        failures,
        &[
            "binary_classification_metrics.auc.value 0.8500 < min 0.9000".to_string(),
            "binary_classification_metrics.precision.value 0.4300 < min 0.6000".to_string(),
        ]
    );

    let package = env.package(&arn).await;
    assert_eq!(
        package.model_approval_status,
        Some(ModelApprovalStatus::Rejected)
    );
    let description = package.approval_description.unwrap();
    assert!(
        description.starts_with("Rejected by Steward's gate"),
        "{description}"
    );
    assert!(
        description.contains("auc.value 0.8500 < min 0.9000"),
        "{description}"
    );
    assert!(
        description.contains("precision.value 0.4300 < min 0.6000"),
        "{description}"
    );
    // Nobody can be asked to approve a rejected model.
    let err = request_approval::resend::resend(&env.ctx, &arn, Utc::now())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "not_pending", "{err}");
    let metadata = package.customer_metadata_properties.unwrap();
    assert_eq!(metadata["steward:gate"], "failed");
    assert_eq!(metadata["steward:data-version"], "v-2026-11-24", "kept");

    // The stewards get the reasons; no approver is asked.
    let mail = env.mail().await;
    assert_eq!(to(&mail), [STEWARD], "{mail:#?}");
    assert_eq!(mail[0]["subject"], "Gate rejected payroll-fraud v1");
    let body = mail[0]["body"].as_str().unwrap();
    assert!(
        body.contains("[FAIL] binary_classification_metrics.auc.value 0.8500 < min 0.9000"),
        "{body}"
    );
    assert!(mail[0]["links"].as_array().unwrap().is_empty());

    let events = env.steward_events().await;
    let gate = of_type(&events, "Gate Evaluated");
    assert_eq!(gate.len(), 1, "{events:#?}");
    assert_eq!(gate[0]["detail"]["outcome"], "failed");
    assert_eq!(gate[0]["detail"]["failures"].as_array().unwrap().len(), 2);
    assert!(of_type(&events, "Approval Requested").is_empty());
}

/// Clarify's analysis.json with one post-training metric for `region = north`.
fn clarify(dppl: f64) -> Value {
    json!({
        "version": "1.0",
        "post_training_bias_metrics": {
            "label": "fraud",
            "facets": {"region": [{"value_or_threshold": "north", "metrics": [
                {"name": "DPPL", "description": "Difference in Positive Proportions in Predicted Labels (DPPL)", "value": dppl},
                {"name": "DI", "description": "Disparate Impact (DI)", "value": 1.02}
            ]}]},
            "label_value_or_threshold": "1"
        }
    })
}

#[tokio::test]
async fn bias_metrics_from_the_clarify_report_are_gated_when_the_policy_asks() {
    let policy = policy_asking_for_staging().replacen(
        "[groups.payroll-fraud.gate.thresholds]\n",
        "[groups.payroll-fraud.gate.thresholds]\n\"bias.post_training.region.north.DPPL\" = { min = -0.1, max = 0.1 }\n",
        1,
    );
    assert!(policy.contains("bias.post_training"));
    let env = start(&policy).await;
    let metrics = env.put_report("run1", &binary(0.95, 0.72)).await;

    // Fair enough: the gate passes and the approvers see the bias metric.
    let fair = env.put_report("run1-bias", &clarify(0.04)).await;
    let arn = env.register_with_bias(GROUP, &metrics, Some(&fair)).await;
    let outcome = handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Requested { .. }),
        "expected approval requested, got {outcome:?}"
    );
    let mail = env.mail().await;
    let body = mail[0]["body"].as_str().unwrap();
    assert!(
        body.contains("bias.post_training.region.north.DPPL: 0.0400 | min -0.1000, max 0.1000"),
        "{body}"
    );

    // Skewed against one region: rejected with that reason.
    let skewed = env.put_report("run2-bias", &clarify(0.25)).await;
    let arn = env.register_with_bias(GROUP, &metrics, Some(&skewed)).await;
    let outcome = handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    let Outcome::Rejected { failures, .. } = &outcome else {
        panic!("expected a rejection, got {outcome:?}");
    };
    assert_eq!(
        failures,
        &["bias.post_training.region.north.DPPL 0.2500 > max 0.1000".to_string()]
    );
    let package = env.package(&arn).await;
    assert_eq!(
        package.model_approval_status,
        Some(ModelApprovalStatus::Rejected)
    );

    // No bias report at all: never a pass.
    let arn = env.register_with_bias(GROUP, &metrics, None).await;
    let outcome = handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    let Outcome::Rejected { failures, .. } = &outcome else {
        panic!("expected a rejection, got {outcome:?}");
    };
    assert!(failures[0].contains("no bias report"), "{failures:?}");
}

#[tokio::test]
async fn a_missing_metrics_file_rejects_the_model_with_that_reason() {
    let env = start(&policy_asking_for_staging()).await;
    let uri = format!("s3://{ARTIFACTS}/{GROUP}/never-written/evaluation.json");
    let arn = env.register(GROUP, &uri).await;
    let outcome = handle(&env.ctx, env.registered_event(&arn))
        .await
        .expect("handled");
    let Outcome::Rejected { failures, .. } = &outcome else {
        panic!("expected a rejection, got {outcome:?}");
    };
    assert_eq!(
        failures,
        &[format!("the metrics file {uri} does not exist")]
    );
    let package = env.package(&arn).await;
    assert_eq!(
        package.model_approval_status,
        Some(ModelApprovalStatus::Rejected)
    );
    assert!(package
        .approval_description
        .unwrap()
        .contains("does not exist"));
}

#[tokio::test]
async fn an_unreadable_metrics_file_rejects_the_model() {
    let env = start(&policy_asking_for_staging()).await;
    let key = format!("{GROUP}/run1/evaluation.json");
    steward_twin::s3_client(&env.sdk)
        .put_object()
        .bucket(ARTIFACTS)
        .key(&key)
        .body(b"{\"auc\": 0.9".to_vec().into())
        .send()
        .await
        .unwrap();
    let arn = env
        .register(GROUP, &format!("s3://{ARTIFACTS}/{key}"))
        .await;
    let outcome = handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    let Outcome::Rejected { failures, .. } = &outcome else {
        panic!("expected a rejection, got {outcome:?}");
    };
    assert!(
        failures[0].contains("is unreadable: not JSON"),
        "{failures:?}"
    );
}

#[tokio::test]
async fn a_worse_model_than_the_champion_is_rejected_for_regressing() {
    let env = start(&policy_asking_for_staging()).await;
    let champion = env
        .register(GROUP, &env.put_report("run1", &binary(0.97, 0.7)).await)
        .await;
    env.sagemaker()
        .update_model_package()
        .model_package_arn(&champion)
        .model_approval_status(ModelApprovalStatus::Approved)
        .approval_description("approved in a test")
        .send()
        .await
        .unwrap();
    // Above every threshold, but 0.02 below the champion (tolerance 0.01).
    let arn = env
        .register(GROUP, &env.put_report("run2", &binary(0.95, 0.7)).await)
        .await;
    let outcome = handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    let Outcome::Rejected { failures, .. } = &outcome else {
        panic!("expected a rejection, got {outcome:?}");
    };
    assert_eq!(
        failures,
        &["binary_classification_metrics.auc.value 0.9500 vs champion v1 0.9700: worse than tolerance 0.0100 (higher is better)".to_string()]
    );
}

#[tokio::test]
async fn an_unmanaged_group_is_ignored_and_a_malformed_event_is_a_typed_error_both_change_nothing()
{
    let env = start(&policy_asking_for_staging()).await;
    let uri = env.put_report("run1", &binary(0.95, 0.72)).await;
    let arn = env.register("someone-elses-model", &uri).await;
    let items = env.ledger_items().await;

    // Another team's model in the same account: not ours to gate, and no retry.
    let outcome = handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    match outcome {
        Outcome::Ignored { reason } => assert!(
            reason.contains("someone-elses-model is not managed"),
            "{reason}"
        ),
        other => panic!("expected Ignored, got {other:?}"),
    }

    let mut malformed = env.registered_event(&arn);
    malformed["detail"]
        .as_object_mut()
        .unwrap()
        .remove("ModelPackageArn");
    let err = handle(&env.ctx, malformed).await.unwrap_err();
    assert!(matches!(err, RequestApprovalError::Event(_)), "{err}");

    let err = handle(&env.ctx, json!({"detail-type": "Nope", "source": "x"}))
        .await
        .unwrap_err();
    assert!(!err.error_type().is_empty());

    assert_eq!(env.ledger_items().await, items);
    assert!(env.mail().await.is_empty());
    assert!(env.steward_events().await.is_empty());
    assert_eq!(
        env.package(&arn).await.model_approval_status,
        Some(ModelApprovalStatus::PendingManualApproval)
    );
}

#[tokio::test]
async fn a_pending_request_is_reminded_once_at_half_life_and_lapses_at_expiry() {
    let env = start(&policy_asking_for_staging()).await;
    let uri = env.put_report("run1", &binary(0.95, 0.72)).await;
    let arn = env.register(GROUP, &uri).await;
    handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    let now = Utc::now();
    assert_eq!(env.mail().await.len(), 2);

    // Early: nothing due.
    let Outcome::Ticked(t) = handle(&env.ctx, tick(now + chrono::Duration::hours(1)))
        .await
        .unwrap()
    else {
        panic!("a tick")
    };
    assert!(t.reminded.is_empty() && t.lapsed.is_empty());
    assert_eq!(env.mail().await.len(), 2);

    // Past half of 48h: each approver reminded, with a link that still works.
    let Outcome::Ticked(t) = handle(&env.ctx, tick(now + chrono::Duration::hours(25)))
        .await
        .unwrap()
    else {
        panic!("a tick")
    };
    assert_eq!(t.reminded.len(), 2);
    let mail = env.mail().await;
    let reminders: Vec<Value> = mail[2..].to_vec();
    assert_eq!(to(&reminders), [ANA, RAJ]);
    for r in &reminders {
        assert_eq!(
            r["subject"],
            "Reminder: approve payroll-fraud v1 for staging?"
        );
        assert_eq!(r["links"].as_array().unwrap().len(), 1);
    }
    // Reminded once: later ticks (and the same tick again) send nothing more.
    for hours in [25, 30] {
        let Outcome::Ticked(t) = handle(&env.ctx, tick(now + chrono::Duration::hours(hours)))
            .await
            .unwrap()
        else {
            panic!("a tick")
        };
        assert!(t.reminded.is_empty(), "{t:?}");
    }
    assert_eq!(env.mail().await.len(), 4);

    // Expired: the stewards are told once; the package stays pending.
    let Outcome::Ticked(t) = handle(&env.ctx, tick(now + chrono::Duration::hours(49)))
        .await
        .unwrap()
    else {
        panic!("a tick")
    };
    assert_eq!(t.lapsed.len(), 2);
    let mail = env.mail().await;
    assert_eq!(mail.len(), 5, "{mail:#?}");
    assert_eq!(mail[4]["to"], STEWARD);
    assert_eq!(
        mail[4]["subject"],
        "Approval lapsed: payroll-fraud v1 for staging"
    );
    assert!(mail[4]["body"]
        .as_str()
        .unwrap()
        .contains(&format!("steward approval resend {arn}")));
    assert_eq!(
        env.package(&arn).await.model_approval_status,
        Some(ModelApprovalStatus::PendingManualApproval)
    );
    let still_open = env.approvals().open().await.unwrap();
    assert!(still_open.is_empty(), "{still_open:?}");
    for token_id in &t.lapsed {
        let request = env.approvals().get(token_id).await.unwrap().unwrap();
        assert_eq!(request.status, RequestStatus::Lapsed);
    }
    let Outcome::Ticked(t) = handle(&env.ctx, tick(now + chrono::Duration::hours(50)))
        .await
        .unwrap()
    else {
        panic!("a tick")
    };
    assert_eq!(t, Default::default());
    assert_eq!(env.mail().await.len(), 5);

    // `steward approval resend`: new links for the same environment and evidence.
    let first_tokens: Vec<String> = env
        .approvals()
        .open()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.token_id)
        .collect();
    assert!(first_tokens.is_empty());
    let outcome = request_approval::resend::resend(&env.ctx, &arn, Utc::now())
        .await
        .expect("resent");
    let Outcome::Requested { asked, .. } = &outcome else {
        panic!("expected approval requested, got {outcome:?}");
    };
    assert_eq!(asked.environment, "staging");
    assert_eq!(asked.mailed, 2);
    let mail = env.mail().await;
    assert_eq!(mail.len(), 7);
    assert_eq!(to(&mail[5..]), [ANA, RAJ]);
    let open = env.approvals().open().await.unwrap();
    assert_eq!(open.len(), 2);
    for request in &open {
        assert!(asked.token_ids.contains(&request.token_id));
        assert!(request.gate.passed);
        assert!(request.cause.starts_with("approval/resend/"));
    }
}

#[tokio::test]
async fn a_request_whose_package_was_decided_elsewhere_is_closed_without_mail() {
    let env = start(&policy_asking_for_staging()).await;
    let uri = env.put_report("run1", &binary(0.95, 0.72)).await;
    let arn = env.register(GROUP, &uri).await;
    handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    env.sagemaker()
        .update_model_package()
        .model_package_arn(&arn)
        .model_approval_status(ModelApprovalStatus::Approved)
        .approval_description("approved in the console")
        .send()
        .await
        .unwrap();
    let Outcome::Ticked(t) = handle(&env.ctx, tick(Utc::now() + chrono::Duration::hours(25)))
        .await
        .unwrap()
    else {
        panic!("a tick")
    };
    assert_eq!(t.closed.len(), 2);
    assert!(t.reminded.is_empty());
    assert_eq!(env.mail().await.len(), 2);
}

#[tokio::test]
async fn without_an_approval_step_the_policy_approves_with_the_gate_as_evidence() {
    // The example policy: staging needs no approval (prod does, at promotion).
    let env = start(EXAMPLE_POLICY).await;
    let uri = env.put_report("run1", &binary(0.95, 0.72)).await;
    let arn = env.register(GROUP, &uri).await;
    let outcome = handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    let Outcome::ApprovedByPolicy {
        environment,
        reason,
        ..
    } = &outcome
    else {
        panic!("expected approved by policy, got {outcome:?}");
    };
    assert_eq!(environment, "staging");
    assert!(
        reason.contains("no approval required by policy"),
        "{reason}"
    );
    let package = env.package(&arn).await;
    assert_eq!(
        package.model_approval_status,
        Some(ModelApprovalStatus::Approved)
    );
    let description = package.approval_description.unwrap();
    assert!(description.contains("via auto"), "{description}");
    assert!(
        description.contains("gate passed 6 of 6 checks"),
        "{description}"
    );
    let events = env.steward_events().await;
    let decided = of_type(&events, "Approval Decided");
    assert_eq!(decided.len(), 1, "{events:#?}");
    assert_eq!(decided[0]["detail"]["channel"], "auto");
    assert!(env.mail().await.is_empty(), "nobody is asked");
}

/// Run the example training step (examples/train/train.py) on a data file, as
/// the twin runs it for a pipeline; the ARN of the package it registers.
async fn train_on(env: &Env, data_file: &str, run: &str) -> String {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let data = std::fs::read(root.join("examples/data").join(data_file)).unwrap();
    let key = format!("payroll-fraud/transactions/{run}/part-0000.csv");
    let s3 = steward_twin::s3_client(&env.sdk);
    let _ = s3.create_bucket().bucket("acme-ml-data").send().await;
    s3.put_object()
        .bucket("acme-ml-data")
        .key(&key)
        .body(data.into())
        .send()
        .await
        .unwrap();
    let python = Emulator::binary().with_file_name("python");
    let out = tokio::process::Command::new(python)
        .arg(root.join("examples/train/train.py"))
        .args(["--group", GROUP])
        .env("AWS_ENDPOINT_URL", env.twin.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("STEWARD_PARAM_InputDataUrl", format!("s3://acme-ml-data/{key}"))
        .env("STEWARD_PARAM_DataVersion", run)
        .env("STEWARD_PARAM_GitCommit", COMMIT)
        .env(
            "STEWARD_PIPELINE_EXECUTION_ARN",
            format!("arn:aws:sagemaker:us-east-1:123456789012:pipeline/payroll-fraud-train/execution/{run}"),
        )
        .output()
        .await
        .expect("python runs");
    assert!(
        out.status.success(),
        "train.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).expect("train.py prints its result");
    printed["model_package_arn"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_example_training_passes_the_gate_then_a_drop_with_unconfirmed_labels_is_rejected() {
    let env = start(&policy_asking_for_staging()).await;
    let good = train_on(&env, "transactions.csv", "run-good").await;
    let outcome = handle(&env.ctx, env.registered_event(&good)).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Requested { .. }),
        "the example model passes the example gate: {outcome:?}"
    );
    // It becomes the champion.
    env.sagemaker()
        .update_model_package()
        .model_package_arn(&good)
        .model_approval_status(ModelApprovalStatus::Approved)
        .approval_description("approved in a test")
        .send()
        .await
        .unwrap();

    let worse = train_on(&env, "transactions-unconfirmed-labels.csv", "run-worse").await;
    let outcome = handle(&env.ctx, env.registered_event(&worse))
        .await
        .unwrap();
    let Outcome::Rejected { failures, .. } = &outcome else {
        panic!("expected the worse model rejected, got {outcome:?}");
    };
    let failed: Vec<&str> = failures
        .iter()
        .map(|f| f.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "binary_classification_metrics.auc.value",
            "binary_classification_metrics.precision.value",
            "binary_classification_metrics.recall.value",
            "binary_classification_metrics.auc.value"
        ],
        "{failures:#?}"
    );
    assert!(failures[3].contains("vs champion v1"), "{failures:?}");
    assert_eq!(
        env.package(&worse).await.model_approval_status,
        Some(ModelApprovalStatus::Rejected)
    );
}

#[tokio::test]
async fn a_retry_after_a_crash_between_rejecting_and_mailing_tells_the_stewards() {
    let env = start(&policy_asking_for_staging()).await;
    let uri = env.put_report("run1", &binary(0.85, 0.7)).await;
    let arn = env.register(GROUP, &uri).await;
    handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    assert_eq!(env.mail().await.len(), 1);
    // As if the first attempt had rejected the package and then crashed: its
    // gate claim released, the stewards' mail never sent (its claim absent).
    let dynamodb = aws_sdk_dynamodb::Client::new(&env.sdk);
    for key in [format!("gate/{arn}"), format!("gate/mail/{arn}/{STEWARD}")] {
        dynamodb
            .delete_item()
            .table_name(&env.stack.spec.ledger_table)
            .key(
                "PK",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("IDEMP#{key}")),
            )
            .key(
                "SK",
                aws_sdk_dynamodb::types::AttributeValue::S("CLAIM".into()),
            )
            .send()
            .await
            .unwrap();
    }
    let outcome = handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    let Outcome::Rejected { failures, .. } = &outcome else {
        panic!("expected the rejection finished, got {outcome:?}");
    };
    assert_eq!(failures.len(), 1, "{failures:?}");
    let mail = env.mail().await;
    assert_eq!(
        to(&mail),
        [STEWARD, STEWARD],
        "told again: the first mail was 'lost'"
    );
    // And a package someone else rejected is left alone.
    let other = env.register(GROUP, &uri).await;
    env.sagemaker()
        .update_model_package()
        .model_package_arn(&other)
        .model_approval_status(ModelApprovalStatus::Rejected)
        .approval_description("rejected in the console")
        .send()
        .await
        .unwrap();
    let outcome = handle(&env.ctx, env.registered_event(&other))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Ignored { .. }), "{outcome:?}");
    assert_eq!(env.mail().await.len(), 2);
}

#[tokio::test]
async fn approval_auto_approves_with_the_gate_as_evidence_and_tells_the_stewards() {
    // attrition's first environment says `approval = "auto"`.
    let env = start(EXAMPLE_POLICY).await;
    let report = json!({"binary_classification_metrics": {
        "auc": {"value": 0.86, "standard_deviation": 0.01},
        "false_positive_rate": {"value": 0.08, "standard_deviation": 0.01}
    }});
    let uri = env.put_report("attrition-run1", &report).await;
    let arn = env.register("attrition", &uri).await;
    let event = env.registered_event(&arn);
    let outcome = handle(&env.ctx, event.clone()).await.unwrap();
    let Outcome::ApprovedByPolicy {
        environment,
        reason,
        ..
    } = &outcome
    else {
        panic!("expected approved by policy, got {outcome:?}");
    };
    assert_eq!(environment, "staging");
    assert_eq!(reason, "approval = \"auto\" for staging");
    let package = env.package(&arn).await;
    assert_eq!(
        package.model_approval_status,
        Some(ModelApprovalStatus::Approved)
    );
    assert!(package
        .approval_description
        .unwrap()
        .starts_with("Approved by steward via auto"));
    let mail = env.mail().await;
    assert_eq!(to(&mail), ["people-analytics@acme.com"]);
    assert_eq!(
        mail[0]["subject"],
        "Approved by policy: attrition v1 for staging"
    );
    // Redelivered: nothing again.
    let again = handle(&env.ctx, event).await.unwrap();
    assert!(matches!(again, Outcome::AlreadyHandled { .. }), "{again:?}");
    assert_eq!(env.mail().await.len(), 1);
    let decided = of_type(&env.steward_events().await, "Approval Decided").len();
    assert_eq!(decided, 1);
}

#[tokio::test]
async fn a_promotion_request_on_an_approved_package_is_reminded_and_resent() {
    // staging needs no approval (approved by policy at the gate); prod asks a
    // person at promotion, through the same Asker, while the package is Approved.
    let env = start(EXAMPLE_POLICY).await;
    let uri = env.put_report("run1", &binary(0.95, 0.72)).await;
    let arn = env.register(GROUP, &uri).await;
    handle(&env.ctx, env.registered_event(&arn)).await.unwrap();
    assert_eq!(
        env.package(&arn).await.model_approval_status,
        Some(ModelApprovalStatus::Approved)
    );
    let report = request_approval::gate::recorded_report(&env.ctx, &arn)
        .await
        .unwrap()
        .expect("the gate recorded its report");
    let approvers = vec![ANA.to_string(), RAJ.to_string()];
    let cause = steward::naming::IdempotencyKey::new(format!("promotion/{arn}/prod"));
    let asked = env
        .ctx
        .asker()
        .ask(&steward::approval::ask::Ask {
            report: &report,
            environment: "prod",
            approvers: &approvers,
            cause: &cause,
            correlation_id: "stw-test",
            lifetime: Duration::from_secs(48 * 3600),
            now: Utc::now(),
        })
        .await
        .unwrap();
    assert_eq!(asked.mailed, 2);
    let mail = env.mail().await;
    assert_eq!(mail[0]["subject"], "Approve payroll-fraud v1 for prod?");

    let Outcome::Ticked(t) = handle(&env.ctx, tick(Utc::now() + chrono::Duration::hours(25)))
        .await
        .unwrap()
    else {
        panic!("a tick")
    };
    assert!(
        t.closed.is_empty(),
        "an Approved package still awaits prod: {t:?}"
    );
    assert_eq!(t.reminded.len(), 2);

    let outcome = request_approval::resend::resend(&env.ctx, &arn, Utc::now())
        .await
        .expect("resent for prod");
    let Outcome::Requested { asked, .. } = outcome else {
        panic!("expected approval requested");
    };
    assert_eq!(asked.environment, "prod");
    assert_eq!(env.mail().await.len(), 6);
}
