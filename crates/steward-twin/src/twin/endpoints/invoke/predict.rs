//! The example model artifact (`model.json`, written by the example training
//! step) and its predictions: standardise each row with `means`/`stds`, score
//! = sigmoid(w·x + b), label = score ≥ threshold.

use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Deserialize)]
pub struct Model {
    pub kind: String,
    pub features: Vec<String>,
    pub weights: Vec<f64>,
    pub bias: f64,
    pub threshold: f64,
    pub means: Vec<f64>,
    pub stds: Vec<f64>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InputError {
    #[error("model kind {0:?} is not supported (expected \"logistic-regression\")")]
    Kind(String),
    #[error("the model has {features} features but {weights} weights, {means} means, {stds} stds")]
    Shape {
        features: usize,
        weights: usize,
        means: usize,
        stds: usize,
    },
    #[error("row {row} has {got} values, the model expects {expected}")]
    Width {
        row: usize,
        got: usize,
        expected: usize,
    },
    #[error("row {row}: {value:?} is not a number")]
    NotNumber { row: usize, value: String },
    #[error("instance {row} lacks feature {feature:?} (or it is not a number)")]
    MissingFeature { row: usize, feature: String },
    #[error("the body is not {0}")]
    Body(&'static str),
    #[error("content type {0:?} is not supported (text/csv or application/json)")]
    ContentType(String),
}

impl Model {
    pub fn check(&self) -> Result<(), InputError> {
        if self.kind != "logistic-regression" {
            return Err(InputError::Kind(self.kind.clone()));
        }
        let n = self.features.len();
        if self.weights.len() != n || self.means.len() != n || self.stds.len() != n {
            return Err(InputError::Shape {
                features: n,
                weights: self.weights.len(),
                means: self.means.len(),
                stds: self.stds.len(),
            });
        }
        Ok(())
    }

    /// Rows of feature values from the request body.
    pub fn rows(&self, content_type: &str, body: &[u8]) -> Result<Vec<Vec<f64>>, InputError> {
        let text = std::str::from_utf8(body).map_err(|_| InputError::Body("UTF-8"))?;
        let rows = match content_type.split(';').next().unwrap_or("").trim() {
            "text/csv" => csv_rows(text)?,
            "application/json" => self.json_rows(text)?,
            other => return Err(InputError::ContentType(other.into())),
        };
        for (row, values) in rows.iter().enumerate() {
            if values.len() != self.features.len() {
                return Err(InputError::Width {
                    row,
                    got: values.len(),
                    expected: self.features.len(),
                });
            }
        }
        Ok(rows)
    }

    fn json_rows(&self, text: &str) -> Result<Vec<Vec<f64>>, InputError> {
        let body: Value = serde_json::from_str(text).map_err(|_| InputError::Body("JSON"))?;
        let instances = body["instances"]
            .as_array()
            .ok_or(InputError::Body("{\"instances\": [...]}"))?;
        instances
            .iter()
            .enumerate()
            .map(|(row, instance)| {
                self.features
                    .iter()
                    .map(|f| {
                        instance[f]
                            .as_f64()
                            .ok_or_else(|| InputError::MissingFeature {
                                row,
                                feature: f.clone(),
                            })
                    })
                    .collect()
            })
            .collect()
    }

    pub fn score(&self, row: &[f64]) -> f64 {
        let z: f64 = row
            .iter()
            .zip(&self.weights)
            .zip(self.means.iter().zip(&self.stds))
            .map(|((x, w), (mean, std))| {
                // A constant feature (std 0) would divide by zero.
                let std = if *std == 0.0 { 1.0 } else { *std };
                w * (x - mean) / std
            })
            .sum::<f64>()
            + self.bias;
        1.0 / (1.0 + (-z).exp())
    }

    /// `{"predictions": [{"score": p, "label": 0|1}]}`.
    pub fn predict(&self, rows: &[Vec<f64>]) -> Value {
        let predictions: Vec<Value> = rows
            .iter()
            .map(|row| {
                let score = self.score(row);
                json!({"score": score, "label": u8::from(score >= self.threshold)})
            })
            .collect();
        json!({ "predictions": predictions })
    }
}

fn csv_rows(text: &str) -> Result<Vec<Vec<f64>>, InputError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(row, line)| {
            line.split(',')
                .map(|v| {
                    v.trim().parse::<f64>().map_err(|_| InputError::NotNumber {
                        row,
                        value: v.into(),
                    })
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        serde_json::from_value(json!({
            "kind": "logistic-regression",
            "features": ["amount", "hour", "vendor_new", "bank_changed"],
            "weights": [1.0, 0.0, 2.0, -1.0],
            "bias": -0.5,
            "threshold": 0.5,
            "means": [100.0, 12.0, 0.0, 0.0],
            "stds": [50.0, 6.0, 1.0, 0.0]
        }))
        .unwrap()
    }

    #[test]
    fn csv_and_json_give_the_formulas_scores() {
        let m = model();
        m.check().unwrap();
        let csv = m.rows("text/csv", b"200,3,1,0\n100,12,0,1\n").unwrap();
        let json = m
            .rows(
                "application/json",
                br#"{"instances": [{"amount": 200, "hour": 3, "vendor_new": 1, "bank_changed": 0},
                                   {"amount": 100, "hour": 12, "vendor_new": 0, "bank_changed": 1}]}"#,
            )
            .unwrap();
        assert_eq!(csv, json);
        let out = m.predict(&csv);
        // z = 1*(200-100)/50 + 2*1 - 0.5 = 3.5; z = -1*1 - 0.5 = -1.5
        let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
        assert!((out["predictions"][0]["score"].as_f64().unwrap() - sigmoid(3.5)).abs() < 1e-12);
        assert_eq!(out["predictions"][0]["label"], 1);
        assert!((out["predictions"][1]["score"].as_f64().unwrap() - sigmoid(-1.5)).abs() < 1e-12);
        assert_eq!(out["predictions"][1]["label"], 0);
    }

    #[test]
    fn bad_input_is_explained() {
        let m = model();
        assert_eq!(
            m.rows("text/csv", b"1,2,3\n"),
            Err(InputError::Width {
                row: 0,
                got: 3,
                expected: 4
            })
        );
        assert!(matches!(
            m.rows("application/json", br#"{"instances": [{"amount": 1}]}"#),
            Err(InputError::MissingFeature { .. })
        ));
        assert!(matches!(
            m.rows("image/png", b""),
            Err(InputError::ContentType(_))
        ));
    }
}
