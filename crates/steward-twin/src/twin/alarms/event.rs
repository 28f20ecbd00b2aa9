//! The `CloudWatch Alarm State Change` detail, built from moto's alarm before
//! and after a change.
//!
//! Shape: CloudWatch User Guide, "Alarm events and EventBridge"
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html>),
//! as typed in `steward::events::cloudwatch::AlarmStateChange`. AWS gives a
//! single-metric alarm's metric an opaque generated `id`; the twin writes `m1`.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// `detail` for a change from `before` to `after` (DescribeAlarms entries).
pub fn detail(before: &Value, after: &Value) -> Value {
    let mut configuration = Map::new();
    if let Some(description) = after["AlarmDescription"].as_str() {
        configuration.insert("description".into(), json!(description));
    }
    let metrics = metrics(after);
    if !metrics.is_empty() {
        configuration.insert("metrics".into(), Value::Array(metrics));
    }
    if let Some(rule) = after["AlarmRule"].as_str() {
        configuration.insert("alarmRule".into(), json!(rule));
    }
    json!({
        "alarmName": after["AlarmName"],
        "state": state(after),
        "previousState": state(before),
        "configuration": configuration,
    })
}

fn state(alarm: &Value) -> Value {
    let mut state = Map::new();
    state.insert("value".into(), alarm["StateValue"].clone());
    for (from, to) in [("StateReason", "reason"), ("StateReasonData", "reasonData")] {
        if let Some(text) = alarm[from].as_str() {
            state.insert(to.into(), json!(text));
        }
    }
    if let Some(at) = alarm["StateUpdatedTimestamp"].as_f64().and_then(epoch) {
        // CloudWatch writes `2026-11-23T09:16:30.105+0000`.
        state.insert(
            "timestamp".into(),
            json!(at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()),
        );
    }
    Value::Object(state)
}

fn epoch(seconds: f64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)
}

fn metrics(alarm: &Value) -> Vec<Value> {
    if let Some(list) = alarm["Metrics"].as_array().filter(|l| !l.is_empty()) {
        return list.iter().map(metric_query).collect();
    }
    let Some(name) = alarm["MetricName"].as_str() else {
        return Vec::new();
    };
    let stat = alarm["Statistic"]
        .as_str()
        .or(alarm["ExtendedStatistic"].as_str());
    vec![json!({
        "id": "m1",
        "metricStat": {
            "metric": {
                "dimensions": dimensions(&alarm["Dimensions"]),
                "name": name,
                "namespace": alarm["Namespace"],
            },
            "period": alarm["Period"],
            "stat": stat,
        },
        "returnData": true,
    })]
}

fn metric_query(query: &Value) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), query["Id"].clone());
    if let Some(expression) = query["Expression"].as_str() {
        out.insert("expression".into(), json!(expression));
    }
    if let Some(label) = query["Label"].as_str() {
        out.insert("label".into(), json!(label));
    }
    let stat = &query["MetricStat"];
    if stat.is_object() {
        out.insert(
            "metricStat".into(),
            json!({
                "metric": {
                    "dimensions": dimensions(&stat["Metric"]["Dimensions"]),
                    "name": stat["Metric"]["MetricName"],
                    "namespace": stat["Metric"]["Namespace"],
                },
                "period": stat["Period"],
                "stat": stat["Stat"],
            }),
        );
    }
    out.insert(
        "returnData".into(),
        json!(query["ReturnData"].as_bool().unwrap_or(true)),
    );
    Value::Object(out)
}

fn dimensions(list: &Value) -> Value {
    let map: Map<String, Value> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| Some((d["Name"].as_str()?.to_string(), d["Value"].clone())))
        .collect();
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward::events::cloudwatch::{AlarmStateChange, AlarmStateValue};

    fn alarm(value: &str, at: f64) -> Value {
        json!({
            "AlarmName": "payroll-fraud-prod-5xx",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:payroll-fraud-prod-5xx",
            "AlarmDescription": "rollback alarm",
            "StateValue": value,
            "StateReason": format!("now {value}"),
            "StateUpdatedTimestamp": at,
            "MetricName": "Invocation5XXErrors",
            "Namespace": "AWS/SageMaker",
            "Statistic": "Sum",
            "Dimensions": [{"Name": "EndpointName", "Value": "payroll-fraud-prod"}],
            "Period": 60,
            "Metrics": []
        })
    }

    #[test]
    fn the_detail_has_aws_shape() {
        let detail = detail(&alarm("OK", 1795499904.339), &alarm("ALARM", 1795499964.5));
        let typed: AlarmStateChange = serde_json::from_value(detail.clone()).expect("AWS shape");
        assert!(typed.entered_alarm());
        assert_eq!(
            typed.previous_state.as_ref().map(|s| &s.value),
            Some(&AlarmStateValue::Ok)
        );
        assert_eq!(typed.dimension("EndpointName"), Some("payroll-fraud-prod"));
        assert_eq!(detail["state"]["timestamp"], "2026-11-24T05:59:24.500+0000");
        assert_eq!(detail["configuration"]["description"], "rollback alarm");
        assert_eq!(
            detail["configuration"]["metrics"][0]["metricStat"]["stat"],
            "Sum"
        );
    }
}
