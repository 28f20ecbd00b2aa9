//! EventBridge `Scheduled Event`: a schedule rule fired (retrain, drift check).

use serde::{Deserialize, Serialize};

use super::{AwsDetail, Envelope, EventError};

/// The detail of a `Scheduled Event` (source `aws.events`): always `{}`.
///
/// Which schedule fired is only in the envelope: `resources` holds the rule
/// ARN, read with [`rule_arn`]. Shape: the scheduled event example in the
/// EventBridge User Guide ("Tutorial: Schedule AWS Lambda functions",
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html>),
/// also the `example-eventbridge-schedule.json` fixture of `aws_lambda_events`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduled {}

impl AwsDetail for Scheduled {
    const SOURCE: &'static str = "aws.events";
    const DETAIL_TYPE: &'static str = "Scheduled Event";
}

/// The ARN of the rule that fired, e.g.
/// `arn:aws:events:us-east-1:123456789012:rule/steward-payroll-fraud-retrain`.
///
/// A free function because [`Envelope`] is a foreign type.
pub fn rule_arn(event: &Envelope<Scheduled>) -> Result<&str, EventError> {
    event
        .resources
        .as_deref()
        .and_then(<[String]>::first)
        .map(String::as_str)
        .ok_or(EventError::MissingField { field: "resources" })
}

/// The rule name in a rule ARN: the last path segment, so rules on a custom bus
/// (`rule/<bus>/<name>`) work too.
pub fn rule_name(rule_arn: &str) -> Option<&str> {
    let (_, path) = rule_arn.split_once(":rule/")?;
    path.rsplit('/').next().filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{decode, decode_str_as, Timestamp};
    use serde_json::json;

    const SCHEDULED: &str = include_str!("../../../../events/scheduled.json");

    #[test]
    fn scheduled_sample_decodes() {
        let event = decode_str_as::<Scheduled>(SCHEDULED).expect("sample decodes");
        assert_eq!(event.detail, Scheduled {});
        assert_eq!(
            event.time.map(Timestamp),
            "2026-11-24T03:00:00Z".parse().ok()
        );
        let arn = rule_arn(&event).expect("has a rule");
        assert_eq!(
            arn,
            "arn:aws:events:us-east-1:123456789012:rule/steward-payroll-fraud-retrain"
        );
        assert_eq!(rule_name(arn), Some("steward-payroll-fraud-retrain"));
    }

    #[test]
    fn rules_on_custom_buses_and_odd_arns() {
        assert_eq!(
            rule_name("arn:aws:events:us-east-1:123456789012:rule/steward/drift-check"),
            Some("drift-check")
        );
        assert_eq!(rule_name("arn:aws:s3:::bucket"), None);
        assert_eq!(
            rule_name("arn:aws:events:us-east-1:123456789012:rule/"),
            None
        );
    }

    #[test]
    fn without_resources_the_rule_is_missing() {
        let mut value: serde_json::Value = serde_json::from_str(SCHEDULED).expect("json");
        value["resources"] = json!([]);
        let event = decode::<Scheduled>(value).expect("decodes");
        assert_eq!(
            rule_arn(&event),
            Err(EventError::MissingField { field: "resources" })
        );
    }

    #[test]
    fn serializes_as_an_empty_object() {
        assert_eq!(
            serde_json::to_value(Scheduled {}).expect("serializes"),
            json!({})
        );
    }
}
