//! Each operator, mostly on the examples of the EventBridge user guide
//! ("Content filtering in Amazon EventBridge event patterns", "Comparison
//! operators for use in event patterns").

use serde_json::{json, Value};

use super::Pattern;

fn matches(pattern: Value, event: Value) -> bool {
    Pattern::parse(&pattern)
        .unwrap_or_else(|e| panic!("{e}"))
        .matches(&event)
}

#[test]
fn exact_values_are_case_sensitive_and_typed() {
    let p = json!({"source": ["aws.s3"], "detail": {"size": [5], "flag": [true]}});
    assert!(matches(
        p.clone(),
        json!({"source": "aws.s3", "detail": {"size": 5, "flag": true}})
    ));
    assert!(matches(
        p.clone(),
        json!({"source": "aws.s3", "detail": {"size": 5.0, "flag": true}})
    ));
    assert!(!matches(
        p.clone(),
        json!({"source": "AWS.S3", "detail": {"size": 5, "flag": true}})
    ));
    assert!(!matches(
        p.clone(),
        json!({"source": "aws.s3", "detail": {"size": "5", "flag": true}})
    ));
    assert!(!matches(
        p,
        json!({"source": "aws.s3", "detail": {"size": 5}})
    ));
}

#[test]
fn null_and_empty_string_are_values_of_their_own() {
    let p = json!({"detail": {"responseElements": [null], "eventVersion": [""]}});
    assert!(matches(
        p.clone(),
        json!({"detail": {"responseElements": null, "eventVersion": ""}})
    ));
    assert!(!matches(p.clone(), json!({"detail": {"eventVersion": ""}})));
    assert!(!matches(
        p,
        json!({"detail": {"responseElements": null, "eventVersion": "1"}})
    ));
}

#[test]
fn fields_are_anded_and_alternatives_ored() {
    let p = json!({"source": ["aws.ec2", "aws.s3"], "detail-type": ["Object Created"]});
    assert!(matches(
        p.clone(),
        json!({"source": "aws.s3", "detail-type": "Object Created"})
    ));
    assert!(!matches(
        p.clone(),
        json!({"source": "aws.s3", "detail-type": "Object Deleted"})
    ));
    assert!(!matches(
        p,
        json!({"source": "aws.sqs", "detail-type": "Object Created"})
    ));
}

#[test]
fn event_arrays_match_when_any_element_does() {
    let p = json!({"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]});
    let event = json!({"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]});
    assert!(matches(p.clone(), event));
    assert!(!matches(
        p,
        json!({"resources": ["arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]})
    ));
    // An array of objects: a nested pattern may match any element.
    let p = json!({"detail": {"items": {"kind": ["b"]}}});
    assert!(matches(
        p.clone(),
        json!({"detail": {"items": [{"kind": "a"}, {"kind": "b"}]}})
    ));
    assert!(!matches(p, json!({"detail": {"items": [{"kind": "a"}]}})));
}

#[test]
fn prefix_and_prefix_ignoring_case() {
    let p = json!({"time": [{"prefix": "2017-10-02"}]});
    assert!(matches(p.clone(), json!({"time": "2017-10-02T18:43:48Z"})));
    assert!(!matches(p.clone(), json!({"time": "2017-10-03T18:43:48Z"})));
    assert!(!matches(p, json!({"time": 20171002})));
    let p = json!({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}});
    assert!(matches(
        p.clone(),
        json!({"detail": {"service": "eventbridge"}})
    ));
    assert!(matches(
        p.clone(),
        json!({"detail": {"service": "EVENTBRIDGE"}})
    ));
    assert!(!matches(p, json!({"detail": {"service": "sqs"}})));
}

#[test]
fn suffix_and_suffix_ignoring_case() {
    let p = json!({"FileName": [{"suffix": ".png"}]});
    assert!(matches(p.clone(), json!({"FileName": "photo.png"})));
    assert!(!matches(p.clone(), json!({"FileName": "photo.PNG"})));
    let p = json!({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}});
    assert!(matches(
        p.clone(),
        json!({"detail": {"FileName": "photo.PNG"}})
    ));
    assert!(!matches(p, json!({"detail": {"FileName": "photo.jpg"}})));
}

#[test]
fn equals_ignore_case() {
    let p =
        json!({"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]});
    assert!(matches(
        p.clone(),
        json!({"detail-type": "EC2 Instance State-change Notification"})
    ));
    assert!(!matches(
        p,
        json!({"detail-type": "EC2 Instance State-change"})
    ));
}

#[test]
fn anything_but_values_lists_prefix_suffix_case_and_wildcard() {
    let p = json!({"detail": {"state": [{"anything-but": "initializing"}]}});
    assert!(matches(p.clone(), json!({"detail": {"state": "running"}})));
    assert!(!matches(
        p.clone(),
        json!({"detail": {"state": "initializing"}})
    ));
    // anything-but needs the field to be there.
    assert!(!matches(p, json!({"detail": {}})));
    let p = json!({"detail": {"x-limit": [{"anything-but": 123}]}});
    assert!(matches(p.clone(), json!({"detail": {"x-limit": 124}})));
    assert!(!matches(p, json!({"detail": {"x-limit": 123}})));
    let p = json!({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}});
    assert!(matches(p.clone(), json!({"detail": {"state": "running"}})));
    assert!(!matches(p, json!({"detail": {"state": "stopped"}})));
    let p = json!({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}});
    assert!(matches(p.clone(), json!({"detail": {"state": "running"}})));
    assert!(!matches(p, json!({"detail": {"state": "initializing"}})));
    let p = json!({"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}});
    assert!(matches(p.clone(), json!({"detail": {"FileName": "a.png"}})));
    assert!(!matches(p, json!({"detail": {"FileName": "a.txt"}})));
    let p = json!({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}});
    assert!(matches(p.clone(), json!({"detail": {"state": "running"}})));
    assert!(!matches(p, json!({"detail": {"state": "STOPPED"}})));
    let p = json!({"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}});
    assert!(matches(
        p.clone(),
        json!({"detail": {"FilePath": "/usr/bin/x"}})
    ));
    assert!(!matches(p, json!({"detail": {"FilePath": "/usr/lib/x"}})));
}

#[test]
fn numeric_ranges_and_equality() {
    // The user guide's example event and pattern.
    let p = json!({"detail": {
        "c-count": [{"numeric": [">", 0, "<=", 5]}],
        "d-count": [{"numeric": ["<", 10]}],
        "x-limit": [{"numeric": ["=", 3.018e2]}]
    }});
    let event = json!({"detail": {"c-count": 5, "d-count": 7, "x-limit": 301.8}});
    assert!(matches(p.clone(), event));
    assert!(!matches(
        p.clone(),
        json!({"detail": {"c-count": 0, "d-count": 7, "x-limit": 301.8}})
    ));
    assert!(!matches(
        p.clone(),
        json!({"detail": {"c-count": 5, "d-count": 10, "x-limit": 301.8}})
    ));
    // Numbers only: a numeric string does not match.
    assert!(!matches(
        p,
        json!({"detail": {"c-count": "5", "d-count": 7, "x-limit": 301.8}})
    ));
}

#[test]
fn exists_true_and_false_on_leaves() {
    let p = json!({"detail": {"state": [{"exists": true}]}});
    assert!(matches(p.clone(), json!({"detail": {"state": "x"}})));
    assert!(!matches(p.clone(), json!({"detail": {}})));
    // Only leaves exist: an object is an intermediate node.
    assert!(!matches(p, json!({"detail": {"state": {"inner": 1}}})));
    let p = json!({"detail": {"state": [{"exists": false}]}});
    assert!(matches(p.clone(), json!({"detail": {"other": 1}})));
    assert!(matches(p.clone(), json!({"source": "x"})));
    assert!(!matches(p, json!({"detail": {"state": "x"}})));
}

#[test]
fn wildcard_filter() {
    let p = json!({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]});
    assert!(matches(
        p.clone(),
        json!({"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/steward"})
    ));
    assert!(!matches(
        p,
        json!({"EventBusArn": "arn:aws:events:eu-west-1:123456789012:event-bus/steward"})
    ));
}

#[test]
fn cidr_filter() {
    let p = json!({"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}});
    assert!(matches(
        p.clone(),
        json!({"detail": {"sourceIPAddress": "10.0.0.255"}})
    ));
    assert!(!matches(
        p,
        json!({"detail": {"sourceIPAddress": "10.0.1.1"}})
    ));
    let p = json!({"ip": [{"cidr": "2001:db8::/32"}]});
    assert!(matches(p.clone(), json!({"ip": "2001:db8::1"})));
    assert!(!matches(p, json!({"ip": "2001:db9::1"})));
}

#[test]
fn or_at_the_top_and_nested() {
    let p = json!({"detail": {"$or": [
        {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
        {"d-count": [{"numeric": ["<", 10]}]},
        {"x-limit": [{"numeric": ["=", 3.018e2]}]}
    ]}});
    assert!(matches(p.clone(), json!({"detail": {"d-count": 3}})));
    assert!(matches(p.clone(), json!({"detail": {"x-limit": 301.8}})));
    assert!(!matches(
        p,
        json!({"detail": {"c-count": 9, "d-count": 11}})
    ));
    let p = json!({"source": ["aws.cloudwatch"], "$or": [
        {"metricName": ["CPUUtilization", "ReadLatency"]},
        {"namespace": ["AWS/EC2", "AWS/ES"]}
    ]});
    assert!(matches(
        p.clone(),
        json!({"source": "aws.cloudwatch", "namespace": "AWS/ES"})
    ));
    assert!(matches(
        p.clone(),
        json!({"source": "aws.cloudwatch", "metricName": "ReadLatency"})
    ));
    assert!(!matches(
        p.clone(),
        json!({"source": "aws.cloudwatch", "namespace": "AWS/S3"})
    ));
    assert!(!matches(
        p,
        json!({"source": "aws.ec2", "namespace": "AWS/ES"})
    ));
}

#[test]
fn the_start_build_pattern_matches_the_sample_s3_event() {
    let event: Value =
        serde_json::from_str(include_str!("../../../../events/s3-object-created.json")).unwrap();
    let p = json!({"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": ["acme-ml-data"]}}});
    assert!(matches(p, event.clone()));
    let p = json!({"source": ["aws.s3"], "detail": {"bucket": {"name": ["other-bucket"]}}});
    assert!(!matches(p, event));
}

#[test]
fn invalid_patterns_say_where() {
    let cases = [
        (json!(["x"]), "$"),
        (json!({"source": "aws.s3"}), "$.source"),
        (json!({"source": []}), "$.source"),
        (
            json!({"detail": {"n": [{"numeric": ["~", 1]}]}}),
            "$.detail.n[0]",
        ),
        (json!({"detail": {"n": [{"between": 1}]}}), "$.detail.n[0]"),
        (json!({"detail": {"n": [{"prefix": 1}]}}), "$.detail.n[0]"),
        (json!({"$or": [{"a": ["x"]}]}), "$.$or"),
        (json!({"ip": [{"cidr": "10.0.0.0/33"}]}), "$.ip[0]"),
    ];
    for (pattern, path) in cases {
        let e = Pattern::parse(&pattern).expect_err(&pattern.to_string());
        assert_eq!(e.path, path, "{pattern}: {e}");
    }
}
