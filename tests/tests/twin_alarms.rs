//! CloudWatch alarms through the twin: aws-sdk-cloudwatch's CBOR protocol is
//! bridged to moto, and SetAlarmState emits `CloudWatch Alarm State Change`.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
use serde_json::Value;
use steward::events::cloudwatch::{AlarmStateChange, AlarmStateValue};
use steward_twin::twin::{alarms, TwinClient};
use steward_twin::{local_sdk_config, Emulator, Twin, TwinConfig};

async fn twin() -> (Emulator, Twin, aws_sdk_cloudwatch::Client) {
    let emulator = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let twin = Twin::start(TwinConfig::new(emulator.endpoint()))
        .await
        .unwrap();
    let sdk = local_sdk_config(&twin.endpoint()).await;
    (emulator, twin, aws_sdk_cloudwatch::Client::new(&sdk))
}

async fn put_alarm(cw: &aws_sdk_cloudwatch::Client, name: &str) {
    cw.put_metric_alarm()
        .alarm_name(name)
        .alarm_description("rollback alarm")
        .namespace("AWS/SageMaker")
        .metric_name("Invocation5XXErrors")
        .dimensions(
            Dimension::builder()
                .name("EndpointName")
                .value("payroll-fraud-prod")
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
}

async fn alarm_events(twin: &Twin) -> Vec<Value> {
    let all = TwinClient::new(twin.endpoint())
        .get("events")
        .await
        .unwrap();
    all["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail-type"] == "CloudWatch Alarm State Change")
        .cloned()
        .collect()
}

#[tokio::test]
async fn set_alarm_state_emits_one_event_per_change_and_none_without_one() {
    let (_moto, twin, cw) = twin().await;
    put_alarm(&cw, "payroll-fraud-prod-5xx").await;
    let set = |value: StateValue| {
        cw.set_alarm_state()
            .alarm_name("payroll-fraud-prod-5xx")
            .state_value(value)
            .state_reason("test")
            .send()
    };
    set(StateValue::Alarm).await.unwrap();
    let events = alarm_events(&twin).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["source"], "aws.cloudwatch");
    assert_eq!(
        events[0]["resources"][0],
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:payroll-fraud-prod-5xx"
    );
    let detail: AlarmStateChange = serde_json::from_value(events[0]["detail"].clone()).unwrap();
    assert!(detail.entered_alarm());
    assert_eq!(detail.state.reason.as_deref(), Some("test"));
    assert!(detail.state.timestamp.is_some());
    assert_eq!(detail.dimension("EndpointName"), Some("payroll-fraud-prod"));

    set(StateValue::Alarm).await.unwrap();
    assert_eq!(alarm_events(&twin).await.len(), 1, "no change, no event");

    set(StateValue::Ok).await.unwrap();
    let events = alarm_events(&twin).await;
    assert_eq!(events.len(), 2);
    let detail: AlarmStateChange = serde_json::from_value(events[1]["detail"].clone()).unwrap();
    assert_eq!(detail.state.value, AlarmStateValue::Ok);
    assert_eq!(
        detail.previous_state.map(|s| s.value),
        Some(AlarmStateValue::Alarm)
    );

    // The CBOR bridge's replies decode, timestamps and doubles included.
    let described = cw
        .describe_alarms()
        .alarm_names("payroll-fraud-prod-5xx")
        .send()
        .await
        .unwrap();
    let alarm = &described.metric_alarms()[0];
    assert_eq!(alarm.state_value(), Some(&StateValue::Ok));
    assert_eq!(alarm.threshold(), Some(5.0));
    assert!(alarm.state_updated_timestamp().is_some());
}

#[tokio::test]
async fn the_cli_helper_sets_state_and_unknown_alarms_are_errors() {
    let (_moto, twin, cw) = twin().await;
    put_alarm(&cw, "a-5xx").await;
    let ctx = twin.ctx();
    assert!(alarms::set_alarm_state(ctx, "a-5xx", "ALARM", "by hand")
        .await
        .unwrap());
    assert_eq!(
        alarms::alarm_state(ctx, "a-5xx").await.as_deref(),
        Some("ALARM")
    );
    assert!(!alarms::set_alarm_state(ctx, "a-5xx", "ALARM", "again")
        .await
        .unwrap());
    assert_eq!(alarm_events(&twin).await.len(), 1);
    assert!(alarms::set_alarm_state(ctx, "missing", "ALARM", "x")
        .await
        .is_err());

    let err = cw
        .set_alarm_state()
        .alarm_name("missing")
        .state_value(StateValue::Alarm)
        .state_reason("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        steward::aws_error::code(&err),
        Some("ResourceNotFound"),
        "{err:?}"
    );
}
