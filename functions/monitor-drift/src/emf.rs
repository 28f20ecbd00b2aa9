//! CloudWatch Embedded Metric Format: drift scores as structured log lines that
//! CloudWatch turns into metrics, with no PutMetricData call.
//!
//! One line per feature (dimensions Endpoint, Feature: its scores and whether it
//! drifted) and one per check (dimension Endpoint: rows, corrupt lines, drifted
//! features), namespace [`NAMESPACE`].

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use steward_drift::DriftReport;

pub const NAMESPACE: &str = "Steward/Drift";

/// The EMF lines of one check, each a JSON object for one stdout line.
pub fn lines(endpoint: &str, report: &DriftReport, at: DateTime<Utc>) -> Vec<Value> {
    let timestamp = at.timestamp_millis();
    let mut out = Vec::with_capacity(report.features.len() + 1);
    for feature in &report.features {
        let mut values = Map::new();
        let scores = [
            ("PSI", feature.scores.psi),
            ("KS", feature.scores.ks),
            ("JensenShannon", feature.scores.js),
            ("ChiSquared", feature.scores.chi_squared),
            ("ChiSquaredPValue", feature.scores.chi_squared_p),
        ];
        for (name, score) in scores {
            if let Some(v) = score.filter(|v| v.is_finite()) {
                values.insert(name.into(), json!(v));
            }
        }
        values.insert("Drifted".into(), json!(u8::from(feature.drifted)));
        values.insert("MissingValues".into(), json!(feature.missing));
        values.insert("TypeViolations".into(), json!(feature.type_violations));
        out.push(line(
            timestamp,
            &[("Endpoint", endpoint), ("Feature", &feature.name)],
            values,
        ));
    }
    let mut totals = Map::new();
    totals.insert("Rows".into(), json!(report.rows));
    totals.insert("CorruptLines".into(), json!(report.corrupt_lines));
    totals.insert("SchemaMismatches".into(), json!(report.schema_mismatches));
    totals.insert("DriftedFeatures".into(), json!(report.drifted().len()));
    out.push(line(timestamp, &[("Endpoint", endpoint)], totals));
    out
}

fn line(timestamp: i64, dimensions: &[(&str, &str)], values: Map<String, Value>) -> Value {
    let metrics: Vec<Value> = values
        .keys()
        .map(|name| {
            let unit = if name == "Rows"
                || name == "CorruptLines"
                || name == "SchemaMismatches"
                || name == "DriftedFeatures"
                || name == "MissingValues"
                || name == "TypeViolations"
            {
                "Count"
            } else {
                "None"
            };
            json!({"Name": name, "Unit": unit})
        })
        .collect();
    let names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [names],
                "Metrics": metrics,
            }]
        }),
    );
    for (k, v) in dimensions {
        root.insert((*k).into(), json!(v));
    }
    root.extend(values);
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_drift::{FeatureDrift, Scores, Status};

    #[test]
    fn every_metric_is_declared_and_present_at_the_root() {
        let report = DriftReport {
            status: Status::Drift,
            reason: "drift in amount".into(),
            objects: 1,
            records: 10,
            rows: 10,
            corrupt_lines: 2,
            schema_mismatches: 0,
            features: vec![FeatureDrift {
                name: "amount".into(),
                kind: "numerical".into(),
                present: 10,
                missing: 0,
                type_violations: 0,
                scores: Scores {
                    psi: Some(0.5),
                    ks: Some(0.3),
                    ..Scores::default()
                },
                drifted: true,
                crossed: vec!["psi".into()],
            }],
        };
        let at: DateTime<Utc> = "2026-11-24T04:00:00Z".parse().unwrap();
        let lines = lines("payroll-fraud-prod", &report, at);
        assert_eq!(lines.len(), 2);
        for line in &lines {
            let directive = &line["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(line["_aws"]["Timestamp"], at.timestamp_millis());
            assert_eq!(directive["Namespace"], NAMESPACE);
            for metric in directive["Metrics"].as_array().unwrap() {
                let name = metric["Name"].as_str().unwrap();
                assert!(line[name].is_number(), "{name} missing in {line}");
            }
            for dimension in directive["Dimensions"][0].as_array().unwrap() {
                assert!(line[dimension.as_str().unwrap()].is_string());
            }
        }
        assert_eq!(lines[0]["Feature"], "amount");
        assert_eq!(lines[0]["PSI"], 0.5);
        assert_eq!(lines[0]["Drifted"], 1);
        assert!(lines[0].get("JensenShannon").is_none());
        assert_eq!(lines[1]["CorruptLines"], 2);
        assert_eq!(lines[1]["DriftedFeatures"], 1);
    }
}
