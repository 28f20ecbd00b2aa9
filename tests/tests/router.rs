//! The local router: events put on the emulator's buses (through the twin)
//! reach the functions whose template.yaml rules match them, with Lambda's
//! asynchronous retries and a dead-letter list.
//!
//! The functions here are a tiny real HTTP server that answers like the
//! Lambda Invoke API as `cargo lambda watch` serves it (200 with the result,
//! 500 with `{"errorType", "errorMessage"}` on a handler error): running
//! start-build under `cargo lambda watch` would rebuild it with cargo
//! lambda's own flags, minutes on two cores, past this file's time budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_s3::types::{EventBridgeConfiguration, NotificationConfiguration};
use serde_json::{json, Value};
use steward_twin::router::{
    parse_params, template_rules, template_schedules, Invoker, RetryPolicy, Router, RouterHandle,
};
use steward_twin::{local_sdk_config, s3_client, Emulator, Twin, TwinConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TEMPLATE: &str = include_str!("../../template.yaml");
const DEADLINE: Duration = Duration::from_secs(20);

/// An invocation the fake functions received: function name and event.
type Calls = Arc<Mutex<Vec<(String, Value)>>>;

/// A loopback HTTP server answering Invoke requests with `answer(function,
/// nth call of that function)` → (status, body).
async fn fake_functions(
    answer: impl Fn(&str, usize) -> (u16, Value) + Send + Sync + 'static,
) -> (String, Calls) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let calls: Calls = Arc::default();
    let answer = Arc::new(answer);
    let recorded = calls.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (calls, answer) = (recorded.clone(), answer.clone());
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = socket.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "connection closed mid-request");
                    buffer.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map(|v| v.trim().parse::<usize>().unwrap())
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while buffer.len() < head_end + length {
                    let n = socket.read(&mut chunk).await.unwrap();
                    buffer.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
                let path = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                let function = path
                    .strip_prefix("/2015-03-31/functions/")
                    .and_then(|p| p.strip_suffix("/invocations"))
                    .unwrap_or_else(|| panic!("not an Invoke path: {path}"))
                    .to_string();
                let event: Value = serde_json::from_slice(&buffer[head_end..]).unwrap();
                let nth = {
                    let mut calls = calls.lock().unwrap();
                    calls.push((function.clone(), event));
                    calls.iter().filter(|(f, _)| *f == function).count()
                };
                let (status, body) = answer(&function, nth);
                let body = body.to_string();
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(response.as_bytes()).await.unwrap();
            });
        }
    });
    (endpoint, calls)
}

async fn twin() -> (Emulator, Twin, aws_config::SdkConfig) {
    let emulator = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let twin = Twin::start(TwinConfig::new(emulator.endpoint()))
        .await
        .unwrap();
    let sdk = local_sdk_config(&twin.endpoint()).await;
    (emulator, twin, sdk)
}

/// Poll `done` on the router until it holds or the deadline passes.
async fn wait_until(router: &RouterHandle, what: &str, done: impl Fn(&RouterHandle) -> bool) {
    let started = Instant::now();
    while !done(router) {
        assert!(
            started.elapsed() < DEADLINE,
            "{what} within {DEADLINE:?}; delivered {:?}, dead letters {:?}",
            router.delivered(),
            router.dead_letters()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn data_bucket(sdk: &aws_config::SdkConfig, bucket: &str) {
    let s3 = s3_client(sdk);
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .event_bridge_configuration(EventBridgeConfiguration::builder().build())
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn data_landing_in_s3_reaches_start_build_through_its_template_rule() {
    let (_moto, _twin, sdk) = twin().await;
    let (endpoint, calls) = fake_functions(|_, _| (200, json!({"started": true}))).await;
    let params = parse_params(["DataBucketNames=acme-ml-data"]).unwrap();
    let rules = template_rules(TEMPLATE, &params).unwrap();
    let router = Router::start(&sdk, rules, Invoker::http(endpoint))
        .await
        .unwrap();

    data_bucket(&sdk, "acme-ml-data").await;
    data_bucket(&sdk, "not-watched").await;
    let s3 = s3_client(&sdk);
    // The unwatched bucket's event comes first, so it has been routed (and
    // must have gone nowhere) by the time the watched one is delivered.
    for (bucket, key) in [
        ("not-watched", "x/_SUCCESS"),
        ("acme-ml-data", "fraud/2026-11-23/_SUCCESS"),
    ] {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(Vec::new().into())
            .send()
            .await
            .unwrap();
    }
    wait_until(&router, "start-build receives the event", |r| {
        !r.delivered().is_empty()
    })
    .await;

    let delivered = router.delivered();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].rule, "StartBuildFunctionDataArrived");
    assert_eq!(delivered[0].function, "start-build");
    assert_eq!(delivered[0].bus, "default");
    assert_eq!(delivered[0].attempts, 1);
    assert_eq!(delivered[0].response, json!({"started": true}));
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (function, event) = &calls[0];
    assert_eq!(function, "start-build");
    assert_eq!(event["source"], "aws.s3");
    assert_eq!(event["detail-type"], "Object Created");
    assert_eq!(event["detail"]["bucket"]["name"], "acme-ml-data");
    assert_eq!(
        event["detail"]["object"]["key"],
        "fraud/2026-11-23/_SUCCESS"
    );
    assert_eq!(delivered[0].event_id, event["id"].as_str().unwrap());
    assert!(router.dead_letters().is_empty());
}

const RULES_ON_STEWARD_BUS: &str = r#"
Resources:
  Bus: { Type: AWS::Events::EventBus, Properties: { Name: steward } }
  Deploy:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: deploy } }
    Properties:
      Events:
        Approved:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern: { source: [steward], detail-type: [Model Approved] }
  Notify:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: notify } }
    Properties:
      Events:
        Anything:
          Type: EventBridgeRule
          Properties:
            EventBusName: steward
            Pattern: { source: [{ prefix: stew }] }
  Missing:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: not-running } }
    Properties:
      Events:
        Approved:
          Type: EventBridgeRule
          Properties:
            EventBusName: steward
            Pattern: { detail: { group: [fraud] } }
  Ignored:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: ignored } }
    Properties:
      Events:
        Rejected:
          Type: EventBridgeRule
          Properties:
            EventBusName: steward
            Pattern: { detail-type: [Model Rejected] }
"#;

#[tokio::test]
async fn failures_are_retried_twice_then_dead_lettered_with_the_error() {
    let (_moto, _twin, sdk) = twin().await;
    let (endpoint, calls) = fake_functions(|function, nth| match (function, nth) {
        ("deploy", _) => (
            500,
            json!({"errorType": "DeployFailed", "errorMessage": "endpoint fraud-prod is missing"}),
        ),
        // Fails once, then works: delivered on the first retry.
        ("notify", 1) => (
            500,
            json!({"errorType": "Throttled", "errorMessage": "try later"}),
        ),
        ("notify", _) => (200, json!({"sent": 1})),
        _ => (404, json!({"message": "Function not found"})),
    })
    .await;
    let rules = template_rules(RULES_ON_STEWARD_BUS, &Default::default()).unwrap();
    let invoker = Invoker::http(endpoint).with_retry(RetryPolicy {
        backoff: vec![Duration::from_millis(50), Duration::from_millis(100)],
    });
    let router = Router::start(&sdk, rules, invoker).await.unwrap();

    let entry = PutEventsRequestEntry::builder()
        .event_bus_name("steward")
        .source("steward")
        .detail_type("Model Approved")
        .detail(json!({"group": "fraud", "version": 3}).to_string())
        .build();
    let put = aws_sdk_eventbridge::Client::new(&sdk)
        .put_events()
        .entries(entry)
        .send()
        .await
        .unwrap();
    assert_eq!(put.failed_entry_count, 0);
    wait_until(&router, "every matched function is settled", |r| {
        r.delivered().len() + r.dead_letters().len() == 3
    })
    .await;

    let delivered = router.delivered();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(
        (delivered[0].function.as_str(), delivered[0].attempts),
        ("notify", 2)
    );
    assert_eq!(delivered[0].rule, "NotifyAnything");
    assert_eq!(delivered[0].bus, "steward");

    let dead: HashMap<String, _> = router
        .dead_letters()
        .into_iter()
        .map(|d| (d.function.clone(), d))
        .collect();
    let deploy = &dead["deploy"];
    assert_eq!(
        deploy.attempts, 3,
        "one invocation and Lambda's two retries"
    );
    assert_eq!(deploy.rule, "DeployApproved");
    assert_eq!(deploy.error, "DeployFailed: endpoint fraud-prod is missing");
    assert_eq!(
        deploy.event["detail"],
        json!({"group": "fraud", "version": 3})
    );
    let missing = &dead["not-running"];
    assert_eq!(missing.attempts, 3);
    assert!(missing.error.contains("404"), "{}", missing.error);

    let calls = calls.lock().unwrap();
    let count = |f: &str| calls.iter().filter(|(name, _)| name == f).count();
    assert_eq!(
        (count("deploy"), count("notify"), count("not-running")),
        (3, 2, 3)
    );
    assert_eq!(
        count("ignored"),
        0,
        "a rule that does not match invokes nothing"
    );
}

#[tokio::test]
async fn a_schedule_firing_sends_its_functions_the_scheduled_event() {
    let (_moto, _twin, sdk) = twin().await;
    let (endpoint, calls) = fake_functions(|_, _| (200, json!({"checks": []}))).await;
    let params = parse_params(["DataBucketNames=acme-ml-data"]).unwrap();
    let rules = template_rules(TEMPLATE, &params).unwrap();
    let schedules = template_schedules(TEMPLATE, &params).unwrap();
    let router = Router::start(&sdk, rules, Invoker::http(endpoint))
        .await
        .unwrap()
        .with_schedules(schedules);

    let at: chrono::DateTime<chrono::Utc> = "2026-11-24T16:10:00Z".parse().unwrap();
    let delivered = router.tick("monitor-drift", at).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].rule, "MonitorDriftFunctionDriftCheck");
    assert_eq!(delivered[0].function, "monitor-drift");
    assert_eq!(delivered[0].response, json!({"checks": []}));
    assert_eq!(router.delivered().len(), 1, "recorded like any delivery");
    let calls = calls.lock().unwrap().clone();
    let (function, event) = &calls[0];
    assert_eq!(function, "monitor-drift");
    assert_eq!(event["source"], "aws.events");
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(event["time"], "2026-11-24T16:10:00Z");
    assert_eq!(
        event["resources"],
        json!(["arn:aws:events:us-east-1:123456789012:rule/MonitorDriftFunctionDriftCheck"])
    );
    assert_eq!(event["detail"], json!({}));
    // monitor-drift decodes it as the schedule's tick.
    assert!(steward::events::is::<steward::events::schedule::Scheduled>(
        event
    ));

    // A function no schedule targets gets nothing.
    assert!(router.tick("audit", at).await.is_empty());
    assert_eq!(router.delivered().len(), 1);
}
