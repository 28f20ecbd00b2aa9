//! Smoke tests: known cases replayed against a newly live model. A case file is
//! JSON lines in S3, one case per line:
//!
//! ```json
//! {"input": "2500,3,1,1", "expected": {"predictions": [{"score": 0.97, "label": 1}]}}
//! {"input": {"instances": [{"amount": 900}]}, "contentType": "application/json", "expected": {"predictions": [{"label": 0}]}}
//! ```
//!
//! A string input is sent as is (`text/csv` unless `contentType` says
//! otherwise), anything else as JSON (`application/json`). The response must
//! have the expected structure: numbers may differ by the tolerance, everything
//! else must be equal; fields the response has beyond the expected ones are
//! ignored, so a case can pin only what matters (e.g. the label).

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmokeCase {
    pub input: Value,
    #[serde(default)]
    pub content_type: Option<String>,
    pub expected: Value,
}

impl SmokeCase {
    /// The request: content type and body.
    pub fn request(&self) -> (String, Vec<u8>) {
        match &self.input {
            Value::String(text) => (
                self.content_type
                    .clone()
                    .unwrap_or_else(|| "text/csv".into()),
                text.as_bytes().to_vec(),
            ),
            other => (
                self.content_type
                    .clone()
                    .unwrap_or_else(|| "application/json".into()),
                other.to_string().into_bytes(),
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("smoke test case file, line {line}: {reason}")]
pub struct CaseFileError {
    pub line: usize,
    pub reason: String,
}

/// Every case of a JSON-lines file (blank lines skipped); at least one.
pub fn parse_cases(text: &str) -> Result<Vec<SmokeCase>, CaseFileError> {
    let mut cases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case = serde_json::from_str(line).map_err(|e| CaseFileError {
            line: index + 1,
            reason: e.to_string(),
        })?;
        cases.push(case);
    }
    if cases.is_empty() {
        return Err(CaseFileError {
            line: 0,
            reason: "the file has no cases".into(),
        });
    }
    Ok(cases)
}

/// One case that did not come out as expected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mismatch {
    /// 1-based, as the line of the case file.
    pub case: usize,
    /// Where in the response (`$.predictions[0].score`), or `$` for the whole.
    pub path: String,
    pub expected: Value,
    pub actual: Value,
}

/// The result of a smoke test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmokeReport {
    pub cases: usize,
    pub mismatches: Vec<Mismatch>,
    /// The test could not run (case file missing or malformed): a failure too,
    /// since an unchecked model must not move on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl SmokeReport {
    pub fn unrunnable(problem: impl Into<String>) -> Self {
        SmokeReport {
            cases: 0,
            mismatches: Vec::new(),
            problem: Some(problem.into()),
        }
    }

    pub fn passed(&self) -> bool {
        self.mismatches.is_empty() && self.problem.is_none()
    }

    pub fn summary(&self) -> String {
        if let Some(problem) = &self.problem {
            return format!("smoke test could not run: {problem}");
        }
        if self.passed() {
            return format!("smoke test passed: {} cases", self.cases);
        }
        let first = &self.mismatches[0];
        format!(
            "smoke test failed: {} of {} cases mismatched (case {} at {}: expected {}, got {})",
            self.mismatches.len(),
            self.cases,
            first.case,
            first.path,
            first.expected,
            first.actual
        )
    }
}

/// The first difference between what a case expects and what came back.
pub fn compare(expected: &Value, actual: &Value, tolerance: f64) -> Option<(String, Value, Value)> {
    compare_at("$".to_string(), expected, actual, tolerance)
}

fn compare_at(
    path: String,
    expected: &Value,
    actual: &Value,
    tolerance: f64,
) -> Option<(String, Value, Value)> {
    let differ = |path: String| Some((path, expected.clone(), actual.clone()));
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64()?, a.as_f64()?);
            ((e - a).abs() > tolerance).then_some((path, expected.clone(), actual.clone()))
        }
        (Value::Object(e), Value::Object(a)) => {
            e.iter().find_map(|(key, value)| match a.get(key) {
                Some(got) => compare_at(format!("{path}.{key}"), value, got, tolerance),
                None => Some((format!("{path}.{key}"), value.clone(), Value::Null)),
            })
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (e, a))| compare_at(format!("{path}[{i}]"), e, a, tolerance)),
        _ if expected == actual => None,
        _ => differ(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cases_parse_line_by_line_and_name_the_bad_line() {
        let text = "{\"input\": \"1,2\", \"expected\": {\"label\": 1}}\n\n{\"input\": {\"a\": 1}, \"expected\": 0}\n";
        let cases = parse_cases(text).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].request(), ("text/csv".into(), b"1,2".to_vec()));
        assert_eq!(cases[1].request().0, "application/json");
        let err = parse_cases("{\"input\": 1, \"expected\": 2}\n{\"inptu\": 1}").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(parse_cases("\n").is_err());
    }

    #[test]
    fn numbers_within_tolerance_match_and_extra_fields_are_ignored() {
        let expected = json!({"predictions": [{"score": 0.5, "label": 1}]});
        let close = json!({"predictions": [{"score": 0.5009, "label": 1, "extra": true}]});
        assert_eq!(compare(&expected, &close, 0.001), None);
        let (path, e, a) = compare(&expected, &close, 0.0).unwrap();
        assert_eq!(path, "$.predictions[0].score");
        assert_eq!((e, a), (json!(0.5), json!(0.5009)));
        let wrong_label = json!({"predictions": [{"score": 0.5, "label": 0}]});
        assert_eq!(
            compare(&expected, &wrong_label, 0.1).unwrap().0,
            "$.predictions[0].label"
        );
        let fewer = json!({"predictions": []});
        assert_eq!(compare(&expected, &fewer, 1.0).unwrap().0, "$.predictions");
        assert_eq!(compare(&json!({"a": 1}), &json!({}), 0.0).unwrap().0, "$.a");
    }

    #[test]
    fn the_summary_names_the_first_mismatch() {
        let report = SmokeReport {
            cases: 3,
            mismatches: vec![Mismatch {
                case: 2,
                path: "$.label".into(),
                expected: json!(1),
                actual: json!(0),
            }],
            problem: None,
        };
        assert!(!report.passed());
        assert_eq!(
            report.summary(),
            "smoke test failed: 1 of 3 cases mismatched (case 2 at $.label: expected 1, got 0)"
        );
        let unrunnable = SmokeReport::unrunnable("no such key");
        assert!(!unrunnable.passed());
        assert_eq!(
            unrunnable.summary(),
            "smoke test could not run: no such key"
        );
    }
}
