//! Every event the twin emits has exactly the fields of AWS's documented
//! sample of that event (`events/*.json`, sources in `events/README.md`).
//!
//! Each test drives the twin through one behaviour, reads `/_twin/events` and
//! compares, per event, the set of JSON field paths of `detail` (recursively;
//! arrays as the union over their elements; values ignored) with the sample's
//! for that detail-type, and the envelope's `source`, `detail-type` and
//! `resources` shape. A field AWS documents as conditional is listed, with the
//! condition and the document saying so, in that detail-type's allow-list.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
use aws_sdk_codedeploy::types::{
    AppSpecContent, ComputePlatform, DeploymentStatus, RevisionLocation, RevisionLocationType,
};
use aws_sdk_sagemaker::types::{
    Alarm, AutoRollbackConfig, BlueGreenUpdatePolicy, CapacitySize, CapacitySizeType,
    DeploymentConfig, EndpointStatus, InferenceSpecification, MetadataProperties, MetricsSource,
    ModelApprovalStatus, ModelMetrics, ModelPackageContainerDefinition, ModelQuality,
    TrafficRoutingConfig, TrafficRoutingConfigType,
};
use serde_json::Value;
use steward_twin::twin::TwinClient;
use steward_twin::{local_sdk_config, Emulator, Twin, TwinConfig};

const DEADLINE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// The reference: AWS's samples and the documented conditional fields.

/// A field AWS documents as present only sometimes.
struct Conditional {
    /// Field path, as [`paths`] writes it.
    path: &'static str,
    /// When the field may be absent (if in the sample) or present (if not).
    when: fn(&Value) -> bool,
}

struct Spec {
    detail_type: &'static str,
    sample: &'static str,
    /// Objects whose keys are data (tag, dimension, metadata names), not
    /// fields: compared as a whole, not key by key.
    maps: &'static [&'static str],
    conditional: &'static [Conditional],
}

fn always(_: &Value) -> bool {
    true
}

const SPECS: &[Spec] = &[
    Spec {
        detail_type: "SageMaker Model Package State Change",
        // The SageMaker guide's "Model package state change" example, verbatim.
        sample: include_str!("../../events/model-package-state-change.json"),
        maps: &["CustomerMetadataProperties"],
        conditional: &[
            // Members of the event's schema (`aws.sagemaker@SageMakerModelPackageStateChange`
            // in the EventBridge schema registry, as published in the CDK
            // reference for `SageMakerModelPackageStateChange`) that the
            // guide's example lacks.
            Conditional {
                path: "ModelPackageName",
                when: always,
            },
            // Optional members of the model package (SageMaker API reference,
            // `ModelPackage` / DescribeModelPackage response: "Required: No"),
            // present when the caller set them. The twin sets them because
            // Steward relies on them (`events/model-package-pending.json`).
            Conditional {
                path: "ModelPackageDescription",
                when: always,
            },
            Conditional {
                path: "CustomerMetadataProperties",
                when: always,
            },
            // Set by UpdateModelPackage's ApprovalDescription only.
            Conditional {
                path: "ApprovalDescription",
                when: always,
            },
        ],
    },
    Spec {
        detail_type: "SageMaker Model Building Pipeline Execution Status Change",
        // The SageMaker guide's "Pipeline execution state change" example.
        sample: include_str!("../../events/pipeline-execution-succeeded.json"),
        maps: &[],
        conditional: &[
            // The guide's example is a finished execution (previous status
            // `Executing`, with an end time). An execution that has just
            // started has neither: no earlier status and no end
            // (DescribePipelineExecution / PipelineExecutionSummary report
            // only a start time while `Executing`).
            Conditional {
                path: "previousPipelineExecutionStatus",
                when: executing,
            },
            Conditional {
                path: "executionEndTime",
                when: executing,
            },
        ],
    },
    Spec {
        detail_type: "SageMaker Endpoint State Change",
        // The SageMaker guide's "Endpoint state change" example, verbatim.
        sample: include_str!("../../events/endpoint-state-change.json"),
        maps: &["Tags"],
        conditional: &[],
    },
    Spec {
        detail_type: "SageMaker Endpoint Deployment State Change",
        // The guide's first "Endpoint deployment state change" example (a
        // blue/green canary update in progress).
        sample: include_str!("../../events/endpoint-deployment-state-change.json"),
        maps: &["Tags"],
        conditional: &[
            // The guide's second example (an update with no new config) has
            // no `PendingDeploymentSummary`: it is there only while a new
            // endpoint config is being rolled out.
            Conditional {
                path: "PendingDeploymentSummary",
                when: not_updating,
            },
        ],
    },
    Spec {
        detail_type: "CloudWatch Alarm State Change",
        // The CloudWatch guide's single-metric alarm example.
        sample: include_str!("../../events/alarm-state-change.json"),
        maps: &["configuration.metrics[].metricStat.metric.dimensions"],
        conditional: &[
            // The guide's metric math example: a state left by alarm
            // creation ("Unchecked: Initial alarm creation") has no
            // `reasonData`.
            Conditional {
                path: "previousState.reasonData",
                when: previous_is_initial,
            },
        ],
    },
    Spec {
        detail_type: "CodeDeploy Deployment State-change Notification",
        // The CloudWatch Events guide's CodeDeploy deployment example.
        sample: include_str!("../../events/codedeploy-deployment-state-change.json"),
        maps: &[],
        conditional: &[],
    },
];

fn executing(detail: &Value) -> bool {
    detail["currentPipelineExecutionStatus"] == "Executing"
}

fn not_updating(detail: &Value) -> bool {
    detail["EndpointStatus"] != "UPDATING"
}

fn previous_is_initial(detail: &Value) -> bool {
    detail["previousState"]["value"] == "INSUFFICIENT_DATA"
        && detail["previousState"]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("Unchecked"))
}

// ---------------------------------------------------------------------------
// The comparison.

/// Every field path of `value`: `a`, `a.b`, `a.list[].c`. Arrays contribute
/// the union of their elements' paths; values are ignored.
fn paths(value: &Value, maps: &[&str]) -> BTreeSet<String> {
    fn walk(value: &Value, prefix: &str, maps: &[&str], out: &mut BTreeSet<String>) {
        match value {
            Value::Object(fields) => {
                if maps.contains(&prefix) {
                    return;
                }
                for (key, child) in fields {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    out.insert(path.clone());
                    walk(child, &path, maps, out);
                }
            }
            Value::Array(items) => {
                let path = format!("{prefix}[]");
                for item in items {
                    walk(item, &path, maps, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(value, "", maps, &mut out);
    out
}

/// `arn:aws:sagemaker:r:a:model-package/g/3` → `sagemaker:model-package/*/*`:
/// the service and resource type of an ARN, names and ids blanked.
fn arn_shape(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (service, resource) = match parts.as_slice() {
        [_, _, service, _, _, resource] => (*service, *resource),
        _ => return format!("not an ARN: {arn}"),
    };
    let (kind, rest) = resource.split_once(['/', ':']).unwrap_or((resource, ""));
    // Names and ids are blanked; sub-resource types (`…/execution/…`) kept.
    let shape: Vec<&str> = rest
        .split('/')
        .map(|segment| if segment == "execution" { segment } else { "*" })
        .collect();
    format!("{service}:{kind}/{}", shape.join("/"))
}

fn spec_for(detail_type: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.detail_type == detail_type)
}

/// How one emitted event differs from the sample; empty when it matches.
fn differences(event: &Value) -> Vec<String> {
    let detail_type = event["detail-type"].as_str().unwrap_or_default();
    let Some(spec) = spec_for(detail_type) else {
        return vec![format!(
            "the twin emits `{detail_type}`, for which there is no AWS sample"
        )];
    };
    let sample: Value = serde_json::from_str(spec.sample).expect("sample is JSON");
    let mut diffs = Vec::new();
    if event["source"] != sample["source"] {
        diffs.push(format!(
            "source {} (AWS: {})",
            event["source"], sample["source"]
        ));
    }
    let shapes = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|r| arn_shape(r.as_str().unwrap_or_default()))
            .collect()
    };
    let (got, want) = (shapes(&event["resources"]), shapes(&sample["resources"]));
    if got != want {
        diffs.push(format!("resources {got:?} (AWS: {want:?})"));
    }

    let detail = &event["detail"];
    let emitted = paths(detail, spec.maps);
    let documented = paths(&sample["detail"], spec.maps);
    let allowed = |path: &str| {
        spec.conditional
            .iter()
            .any(|c| c.path == path && (c.when)(detail))
    };
    for extra in emitted.difference(&documented) {
        if !allowed(extra) {
            diffs.push(format!("+ {extra}   (emitted, not in AWS's sample)"));
        }
    }
    for missing in documented.difference(&emitted) {
        // Absent with an absent conditional ancestor (or itself) is fine.
        let excused = std::iter::successors(Some(missing.as_str()), |p| {
            p.rfind(['.', '[']).map(|i| &p[..i])
        })
        .any(|p| !emitted.contains(p) && allowed(p));
        if !excused {
            diffs.push(format!("- {missing}   (in AWS's sample, not emitted)"));
        }
    }
    diffs
}

/// Fail with a readable diff if any event differs; return the detail-types seen.
fn assert_shapes(events: &[Value]) -> BTreeSet<String> {
    let mut report = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, event) in events.iter().enumerate() {
        let detail_type = event["detail-type"].as_str().unwrap_or_default();
        seen.insert(detail_type.to_string());
        let diffs = differences(event);
        if !diffs.is_empty() {
            report.push(format!(
                "event #{i} `{detail_type}`:\n    {}\n    detail: {}",
                diffs.join("\n    "),
                event["detail"]
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} event(s) differ from AWS's samples:\n{}",
        report.len(),
        report.join("\n")
    );
    seen
}

async fn emitted(twin: &Twin) -> Vec<Value> {
    let all = TwinClient::new(twin.endpoint())
        .get("events")
        .await
        .expect("/_twin/events");
    all["events"].as_array().cloned().unwrap_or_default()
}

/// Poll `/_twin/events` until `done` holds for them (events follow state
/// changes asynchronously), or fail at the deadline.
async fn events_until(twin: &Twin, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let events = emitted(twin).await;
        if done(&events) {
            return events;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{what} never emitted; got {events:#?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn count(events: &[Value], detail_type: &str, field: &str, value: &str) -> usize {
    events
        .iter()
        .filter(|e| e["detail-type"] == detail_type && e["detail"][field] == value)
        .count()
}

// ---------------------------------------------------------------------------
// The comparison itself is checked, so a passing test means something.

#[test]
fn the_comparison_catches_extra_and_missing_fields() {
    let sample: Value =
        serde_json::from_str(include_str!("../../events/endpoint-state-change.json")).unwrap();
    assert!(
        differences(&sample).is_empty(),
        "{:?}",
        differences(&sample)
    );
    let mut extra = sample.clone();
    extra["detail"]["ProductionVariants"][0]["InstanceType"] = "ml.m5.large".into();
    extra["detail"]["Tags"]["team"] = "fraud".into();
    assert_eq!(
        differences(&extra),
        ["+ ProductionVariants[].InstanceType   (emitted, not in AWS's sample)"]
    );
    let mut missing = sample.clone();
    missing["detail"].as_object_mut().unwrap().remove("Tags");
    assert_eq!(
        differences(&missing),
        ["- Tags   (in AWS's sample, not emitted)"]
    );
    let mut resources = sample;
    resources["resources"] = serde_json::json!(["arn:aws:sagemaker:us-east-1:1:endpoint-config/x"]);
    assert_eq!(differences(&resources).len(), 1);
    assert_eq!(
        arn_shape("arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/abc"),
        "sagemaker:pipeline/*/execution/*"
    );
}

// ---------------------------------------------------------------------------
// The behaviours.

async fn start(config: impl FnOnce(&mut TwinConfig)) -> (Emulator, Twin, aws_config::SdkConfig) {
    let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let mut twin_config = TwinConfig::new(moto.endpoint());
    twin_config.time_scale = 600.0;
    config(&mut twin_config);
    let twin = Twin::start(twin_config).await.unwrap();
    let sdk = local_sdk_config(&twin.endpoint()).await;
    (moto, twin, sdk)
}

#[tokio::test]
async fn model_package_events_have_aws_fields() {
    let (_moto, twin, sdk) = start(|_| {}).await;
    let sm = aws_sdk_sagemaker::Client::new(&sdk);
    sm.create_model_package_group()
        .model_package_group_name("payroll-fraud")
        .send()
        .await
        .unwrap();
    // The inputs the guide's example was made from, plus what Steward sets.
    let arn = sm
        .create_model_package()
        .model_package_group_name("payroll-fraud")
        .model_package_description("trained on day 1")
        .inference_specification(
            InferenceSpecification::builder()
                .containers(
                    ModelPackageContainerDefinition::builder()
                        .image("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")
                        .image_digest("sha256:6a4a0b4c3c8e2f1d9b7e5a3c1f0d8b6e4a2c0f9d7b5e3a1c8f6d4b2e0a9c7f5d")
                        .model_data_url("s3://artifacts/payroll-fraud/run-1/model.json")
                        .build(),
                )
                .supported_content_types("text/csv")
                .supported_response_mime_types("text/csv")
                .build(),
        )
        .model_metrics(
            ModelMetrics::builder()
                .model_quality(
                    ModelQuality::builder()
                        .statistics(
                            MetricsSource::builder()
                                .content_type("application/json")
                                .s3_uri("s3://artifacts/payroll-fraud/run-1/evaluation.json")
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .metadata_properties(
            MetadataProperties::builder()
                .generated_by("arn:aws:sagemaker:us-east-1:123456789012:pipeline/payroll-fraud-train/execution/abc")
                .build(),
        )
        .customer_metadata_properties("steward:correlation-id", "build-1")
        .model_approval_status(ModelApprovalStatus::PendingManualApproval)
        .send()
        .await
        .unwrap()
        .model_package_arn
        .unwrap();
    sm.update_model_package()
        .model_package_arn(&arn)
        .model_approval_status(ModelApprovalStatus::Approved)
        .approval_description("approved by dana")
        .send()
        .await
        .unwrap();
    let events = emitted(&twin).await;
    let detail_type = "SageMaker Model Package State Change";
    assert_eq!(
        count(
            &events,
            detail_type,
            "ModelApprovalStatus",
            "PendingManualApproval"
        ),
        1
    );
    assert_eq!(
        count(&events, detail_type, "ModelApprovalStatus", "Approved"),
        1
    );
    assert_shapes(&events);
}

#[tokio::test]
async fn pipeline_execution_events_have_aws_fields() {
    let (_moto, twin, sdk) = start(|c| {
        c.pipeline_steps = HashMap::from([
            ("ok-train".to_string(), vec!["true".to_string()]),
            ("bad-train".to_string(), vec!["false".to_string()]),
        ]);
    })
    .await;
    let sm = aws_sdk_sagemaker::Client::new(&sdk);
    for name in ["ok-train", "bad-train"] {
        sm.create_pipeline()
            .pipeline_name(name)
            .pipeline_definition(r#"{"Version": "2020-12-01", "Steps": []}"#)
            .role_arn("arn:aws:iam::123456789012:role/steward-pipeline")
            .send()
            .await
            .unwrap();
        sm.start_pipeline_execution()
            .pipeline_name(name)
            .pipeline_execution_display_name("steward-data-2026-11-23")
            .pipeline_execution_description("Steward build")
            .send()
            .await
            .unwrap();
    }
    let detail_type = "SageMaker Model Building Pipeline Execution Status Change";
    let field = "currentPipelineExecutionStatus";
    let events = events_until(&twin, "both pipeline runs' ends", |events| {
        count(events, detail_type, field, "Succeeded") == 1
            && count(events, detail_type, field, "Failed") == 1
    })
    .await;
    assert_eq!(count(&events, detail_type, field, "Executing"), 2);
    assert_shapes(&events);
}

/// A model and an endpoint config `name` serving it on 2 instances.
async fn endpoint_config(sm: &aws_sdk_sagemaker::Client, name: &str) {
    let model = format!("s3://models/{name}/model.json");
    steward_tests::model_and_endpoint_config(sm, name, &model).await;
}

fn canary(alarm: &str) -> DeploymentConfig {
    let routing = TrafficRoutingConfig::builder()
        .r#type(TrafficRoutingConfigType::Canary)
        .wait_interval_in_seconds(300)
        .canary_size(
            CapacitySize::builder()
                .r#type(CapacitySizeType::InstanceCount)
                .value(1)
                .build(),
        )
        .build();
    DeploymentConfig::builder()
        .blue_green_update_policy(
            BlueGreenUpdatePolicy::builder()
                .traffic_routing_configuration(routing)
                .termination_wait_in_seconds(600)
                .maximum_execution_timeout_in_seconds(3600)
                .build(),
        )
        .auto_rollback_configuration(
            AutoRollbackConfig::builder()
                .alarms(Alarm::builder().alarm_name(alarm).build())
                .build(),
        )
        .build()
}

async fn until_status(
    sm: &aws_sdk_sagemaker::Client,
    name: &str,
    what: &str,
    done: impl Fn(&aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput) -> bool,
) {
    let start = Instant::now();
    loop {
        let out = sm
            .describe_endpoint()
            .endpoint_name(name)
            .send()
            .await
            .unwrap();
        if done(&out) {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "{what} never happened: {out:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Create an endpoint, roll out v2 with a canary, then roll out v3 and fire
/// the guarding alarm mid-rollout: endpoint, deployment and alarm events.
#[tokio::test]
async fn endpoint_and_alarm_events_have_aws_fields() {
    let (_moto, twin, sdk) = start(|_| {}).await;
    let sm = aws_sdk_sagemaker::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    cw.put_metric_alarm()
        .alarm_name("fraud-prod-5xx")
        .alarm_description("Steward rollback alarm: fraud-prod returns 5XX errors")
        .namespace("AWS/SageMaker")
        .metric_name("Invocation5XXErrors")
        .dimensions(
            Dimension::builder()
                .name("EndpointName")
                .value("fraud-prod")
                .build(),
        )
        .dimensions(
            Dimension::builder()
                .name("VariantName")
                .value("AllTraffic")
                .build(),
        )
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .unwrap();
    for name in ["fraud-v1", "fraud-v2", "fraud-v3"] {
        endpoint_config(&sm, name).await;
    }
    sm.create_endpoint()
        .endpoint_name("fraud-prod")
        .endpoint_config_name("fraud-v1")
        .send()
        .await
        .unwrap();
    let in_service =
        |o: &aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput| {
            o.endpoint_status() == Some(&EndpointStatus::InService)
        };
    until_status(&sm, "fraud-prod", "InService", in_service).await;

    for config in ["fraud-v2", "fraud-v3"] {
        sm.update_endpoint()
            .endpoint_name("fraud-prod")
            .endpoint_config_name(config)
            .deployment_config(canary("fraud-prod-5xx"))
            .send()
            .await
            .unwrap();
        if config == "fraud-v3" {
            until_status(&sm, "fraud-prod", "canary", |o| {
                o.pending_deployment_summary()
                    .and_then(|p| p.production_variants().first())
                    .is_some_and(|v| v.current_instance_count() == Some(1))
            })
            .await;
            cw.set_alarm_state()
                .alarm_name("fraud-prod-5xx")
                .state_value(StateValue::Alarm)
                .state_reason("Threshold Crossed: 1 out of the last 1 datapoints [17.0] was greater than or equal to the threshold (5.0).")
                .state_reason_data(r#"{"version":"1.0","statistic":"Sum","period":60,"recentDatapoints":[17.0],"threshold":5.0}"#)
                .send()
                .await
                .unwrap();
        }
        until_status(&sm, "fraud-prod", "rollout end", |o| {
            in_service(o) && o.pending_deployment_summary().is_none()
        })
        .await;
    }
    cw.set_alarm_state()
        .alarm_name("fraud-prod-5xx")
        .state_value(StateValue::Ok)
        .state_reason("Threshold Crossed: 1 out of the last 1 datapoints [0.0] was not greater than or equal to the threshold (5.0).")
        .state_reason_data(r#"{"version":"1.0","statistic":"Sum","period":60,"recentDatapoints":[0.0],"threshold":5.0}"#)
        .send()
        .await
        .unwrap();

    let state = "SageMaker Endpoint State Change";
    let deployment = "SageMaker Endpoint Deployment State Change";
    let events = events_until(&twin, "the endpoint events", |events| {
        // Created, then back in service after each of the two rollouts.
        count(events, state, "EndpointStatus", "IN_SERVICE") == 3
            && count(events, deployment, "EndpointStatus", "IN_SERVICE") == 2
    })
    .await;
    let seen = assert_shapes(&events);
    let want: BTreeSet<String> = [state, deployment, "CloudWatch Alarm State Change"]
        .map(String::from)
        .into();
    assert_eq!(seen, want);
    let alarms: Vec<&Value> = events
        .iter()
        .filter(|e| e["detail-type"] == "CloudWatch Alarm State Change")
        .map(|e| &e["detail"]["state"]["value"])
        .collect();
    assert_eq!(alarms, ["ALARM", "OK"]);
}

/// A form-encoded query-protocol call straight to moto (IAM): CodeDeploy's
/// Lambda function needs a role, and the tests have no IAM SDK crate.
fn moto_query(endpoint: &str, service: &str, body: &str) {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[tokio::test]
async fn codedeploy_events_have_aws_fields() {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{FunctionCode, Runtime};

    let (moto, twin, sdk) = start(|_| {}).await;
    let deploy = aws_sdk_codedeploy::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    moto_query(
        &moto.endpoint(),
        "iam",
        "Action=CreateRole&Version=2010-05-08&RoleName=scorer-role&AssumeRolePolicyDocument=%7B%7D",
    );
    lambda
        .create_function()
        .function_name("scorer")
        .runtime(Runtime::Providedal2023)
        .role("arn:aws:iam::123456789012:role/scorer-role")
        .handler("bootstrap")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(b"v1".to_vec()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    lambda
        .publish_version()
        .function_name("scorer")
        .send()
        .await
        .unwrap();
    lambda
        .update_function_code()
        .function_name("scorer")
        .zip_file(Blob::new(b"v2".to_vec()))
        .send()
        .await
        .unwrap();
    lambda
        .publish_version()
        .function_name("scorer")
        .send()
        .await
        .unwrap();
    lambda
        .create_alias()
        .function_name("scorer")
        .name("live")
        .function_version("1")
        .send()
        .await
        .unwrap();
    deploy
        .create_application()
        .application_name("fraud-scorer")
        .compute_platform(ComputePlatform::Lambda)
        .send()
        .await
        .unwrap();
    deploy
        .create_deployment_group()
        .application_name("fraud-scorer")
        .deployment_group_name("live")
        .service_role_arn("arn:aws:iam::123456789012:role/codedeploy")
        .deployment_config_name("CodeDeployDefault.LambdaAllAtOnce")
        .send()
        .await
        .unwrap();
    let appspec = "version: 0.0\nResources:\n  - scorer:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: scorer\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: 2\n";
    let id = deploy
        .create_deployment()
        .application_name("fraud-scorer")
        .deployment_group_name("live")
        .revision(
            RevisionLocation::builder()
                .revision_type(RevisionLocationType::AppSpecContent)
                .app_spec_content(AppSpecContent::builder().content(appspec).build())
                .build(),
        )
        .send()
        .await
        .unwrap()
        .deployment_id
        .unwrap();
    let detail_type = "CodeDeploy Deployment State-change Notification";
    let events = events_until(&twin, "the deployment's end", |events| {
        count(events, detail_type, "state", "SUCCESS") == 1
    })
    .await;
    let info = deploy
        .get_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap()
        .deployment_info
        .unwrap();
    assert_eq!(info.status, Some(DeploymentStatus::Succeeded));
    assert_eq!(count(&events, detail_type, "state", "START"), 1);
    let seen = assert_shapes(&events);
    assert_eq!(seen, BTreeSet::from([detail_type.to_string()]));
}
