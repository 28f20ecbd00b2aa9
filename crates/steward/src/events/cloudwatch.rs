//! CloudWatch `CloudWatch Alarm State Change`: an alarm guarding a rollout fired.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::null_as_default;
use super::{AwsDetail, Timestamp};

open_enum! {
    /// An alarm's state value.
    pub enum AlarmStateValue {
        Alarm = "ALARM",
        Ok = "OK",
        InsufficientData = "INSUFFICIENT_DATA",
    }
}

/// The detail of a `CloudWatch Alarm State Change` event (source
/// `aws.cloudwatch`).
///
/// Shape: Amazon CloudWatch User Guide, "Alarm events and EventBridge"
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html>),
/// examples for a single-metric, a metric math and an anomaly detection alarm.
/// `state.timestamp` there is ISO 8601 with a colon-less offset
/// (`2019-10-02T17:04:40.989+0000`), which [`Timestamp`] reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmStateChange {
    pub alarm_name: String,
    pub state: AlarmState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_state: Option<AlarmState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<AlarmConfiguration>,
}

/// An alarm state: `state` or `previousState`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmState {
    pub value: AlarmStateValue,
    /// Human-readable reason, recorded as the rollback reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Machine-readable reason: a JSON document inside a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}

/// `configuration`: what the alarm watches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Metric alarms list their metrics (and math expressions) here.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub metrics: Vec<AlarmMetric>,
    /// Composite alarms have a rule over other alarms instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_rule: Option<String>,
}

/// One entry of `configuration.metrics`: a metric, or an expression over metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmMetric {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<MetricStat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_data: Option<bool>,
}

/// `metricStat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricStat {
    pub metric: Metric,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
}

/// `metric`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub dimensions: BTreeMap<String, String>,
}

impl AwsDetail for AlarmStateChange {
    const SOURCE: &'static str = "aws.cloudwatch";
    const DETAIL_TYPE: &'static str = "CloudWatch Alarm State Change";
}

impl AlarmStateChange {
    /// Whether the alarm is firing now.
    pub fn is_alarm(&self) -> bool {
        self.state.value == AlarmStateValue::Alarm
    }

    /// Whether this event is the alarm starting to fire, not a repeat or a
    /// recovery: the moment to roll back.
    pub fn entered_alarm(&self) -> bool {
        self.is_alarm()
            && self
                .previous_state
                .as_ref()
                .is_none_or(|previous| previous.value != AlarmStateValue::Alarm)
    }

    /// The value of a metric dimension (e.g. `EndpointName`), from the first
    /// metric that has it: how an alarm is traced back to an endpoint.
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.configuration
            .as_ref()?
            .metrics
            .iter()
            .filter_map(|metric| metric.metric_stat.as_ref())
            .find_map(|stat| stat.metric.dimensions.get(name))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{decode_as, decode_str_as, EventError};
    use serde_json::{json, Value};

    const ALARM: &str = include_str!("../../../../events/alarm-state-change.json");

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid time")
    }

    #[test]
    fn alarm_sample_decodes() {
        let event = decode_str_as::<AlarmStateChange>(ALARM).expect("sample decodes");
        assert_eq!(
            event.resources.as_deref(),
            Some(
                &[
                    "arn:aws:cloudwatch:us-east-1:123456789012:alarm:payroll-fraud-prod-5xx"
                        .to_owned()
                ][..]
            )
        );
        let detail = event.detail;
        assert_eq!(detail.alarm_name, "payroll-fraud-prod-5xx");
        assert_eq!(detail.state.value, AlarmStateValue::Alarm);
        assert!(detail
            .state
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("Threshold Crossed")));
        let reason_data: Value =
            serde_json::from_str(detail.state.reason_data.as_deref().expect("reason data"))
                .expect("reason data is JSON");
        assert_eq!(reason_data["recentDatapoints"], json!([17.0]));
        assert_eq!(detail.state.timestamp, Some(at("2026-11-23T09:16:30.105Z")));
        let previous = detail.previous_state.as_ref().expect("previous");
        assert_eq!(previous.value, AlarmStateValue::Ok);
        assert_eq!(previous.timestamp, Some(at("2026-11-23T09:15:30.104Z")));
        assert!(detail.is_alarm());
        assert!(detail.entered_alarm());
        let configuration = detail.configuration.as_ref().expect("configuration");
        let stat = configuration.metrics[0].metric_stat.as_ref().expect("stat");
        assert_eq!(stat.metric.name.as_deref(), Some("Invocation5XXErrors"));
        assert_eq!(stat.metric.namespace.as_deref(), Some("AWS/SageMaker"));
        assert_eq!(stat.period, Some(60));
        assert_eq!(detail.dimension("EndpointName"), Some("payroll-fraud-prod"));
        assert_eq!(detail.dimension("VariantName"), Some("AllTraffic"));
        assert_eq!(detail.dimension("InstanceId"), None);
    }

    #[test]
    fn recovery_and_repeats_do_not_enter_alarm() {
        let mut value: Value = serde_json::from_str(ALARM).expect("json");
        value["detail"]["state"]["value"] = json!("OK");
        value["detail"]["previousState"]["value"] = json!("ALARM");
        let recovered = decode_as::<AlarmStateChange>(value.clone())
            .expect("decodes")
            .detail;
        assert!(!recovered.is_alarm());
        assert!(!recovered.entered_alarm());

        value["detail"]["state"]["value"] = json!("ALARM");
        let repeat = decode_as::<AlarmStateChange>(value)
            .expect("decodes")
            .detail;
        assert!(repeat.is_alarm());
        assert!(!repeat.entered_alarm());
    }

    /// The anomaly detection example from the CloudWatch guide: a math
    /// expression entry without `metricStat`.
    #[test]
    fn metric_math_entries_and_insufficient_data_decode() {
        let event = json!({
            "version": "0",
            "id": "2dde0eb1-528b-d2d5-9ca6-6d590caf2329",
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": "123456789012",
            "time": "2019-10-02T17:20:48Z",
            "region": "us-east-1",
            "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:TotalNetworkTrafficTooHigh"],
            "detail": {
                "alarmName": "TotalNetworkTrafficTooHigh",
                "configuration": {
                    "description": "Goes into alarm if total network traffic exceeds 10Kb",
                    "metrics": [
                        {"expression": "SUM(METRICS())", "id": "e1", "label": "Total Network Traffic", "returnData": true},
                        {"id": "m1", "metricStat": {"metric": {"dimensions": {"InstanceId": "i-12345678901234567"}, "name": "NetworkIn", "namespace": "AWS/EC2"}, "period": 300, "stat": "Maximum"}, "returnData": false}
                    ]
                },
                "previousState": {
                    "reason": "Unchecked: Initial alarm creation",
                    "timestamp": "2019-10-02T17:20:03.642+0000",
                    "value": "INSUFFICIENT_DATA"
                },
                "state": {
                    "reason": "Threshold Crossed",
                    "timestamp": "2019-10-02T17:20:48.554+0000",
                    "value": "ALARM",
                    "actionsSuppressedBy": "WaitPeriod"
                },
                "alarmTags": {"team": "ml"}
            }
        });
        let detail = decode_as::<AlarmStateChange>(event)
            .expect("decodes")
            .detail;
        let previous = detail.previous_state.as_ref().expect("previous");
        assert_eq!(previous.value, AlarmStateValue::InsufficientData);
        assert_eq!(previous.reason_data, None);
        assert!(detail.entered_alarm());
        let metrics = &detail.configuration.as_ref().expect("config").metrics;
        assert_eq!(metrics[0].expression.as_deref(), Some("SUM(METRICS())"));
        assert_eq!(metrics[0].metric_stat, None);
        assert_eq!(detail.dimension("InstanceId"), Some("i-12345678901234567"));
    }

    #[test]
    fn missing_state_value_names_its_path() {
        let mut value: Value = serde_json::from_str(ALARM).expect("json");
        value["detail"]["state"]
            .as_object_mut()
            .expect("object")
            .remove("value");
        let err = decode_as::<AlarmStateChange>(value).expect_err("value required");
        assert_eq!(
            err,
            EventError::Malformed {
                path: "detail.state.value".into(),
                reason: "missing field `value`".into(),
            }
        );
    }

    #[test]
    fn writes_state_values_as_aws_does() {
        let detail = decode_str_as::<AlarmStateChange>(ALARM)
            .expect("decodes")
            .detail;
        let written = serde_json::to_value(&detail).expect("serializes");
        assert_eq!(written["state"]["value"], json!("ALARM"));
        assert_eq!(written["previousState"]["value"], json!("OK"));
        assert_eq!(written["alarmName"], json!("payroll-fraud-prod-5xx"));
    }
}
