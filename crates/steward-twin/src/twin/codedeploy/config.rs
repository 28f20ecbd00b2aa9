//! Deployment configurations for the Lambda compute platform: how traffic
//! moves to the target version. Predefined ones from
//! <https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html#deployment-configuration-lambda>;
//! custom ones carry a `trafficRoutingConfig` (CreateDeploymentConfig).

use std::time::Duration;

use serde_json::{json, Value};

/// The default of a Lambda deployment group without a configuration.
pub const DEFAULT: &str = "CodeDeployDefault.LambdaAllAtOnce";

/// One traffic shift: the target version's weight (0..=1], then a bake time.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub weight: f64,
    pub then_wait: Duration,
}

/// The `trafficRoutingConfig` of a predefined Lambda configuration.
pub fn predefined(name: &str) -> Option<Value> {
    let rest = name.strip_prefix("CodeDeployDefault.Lambda")?;
    if rest == "AllAtOnce" {
        return Some(json!({"type": "AllAtOnce"}));
    }
    if let Some(minutes) = rest
        .strip_prefix("Canary10Percent")
        .and_then(|m| m.strip_suffix("Minutes"))
    {
        let minutes: u64 = minutes.parse().ok()?;
        return [5, 10, 15, 30].contains(&minutes).then(|| {
            json!({"type": "TimeBasedCanary",
                   "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": minutes}})
        });
    }
    let minutes = rest
        .strip_prefix("Linear10PercentEvery")?
        .trim_end_matches("Minutes")
        .trim_end_matches("Minute");
    let minutes: u64 = minutes.parse().ok()?;
    [1, 2, 3, 10].contains(&minutes).then(|| {
        json!({"type": "TimeBasedLinear",
               "timeBasedLinear": {"linearPercentage": 10, "linearInterval": minutes}})
    })
}

/// The shifts a `trafficRoutingConfig` makes, ending at weight 1.
pub fn shifts(routing: &Value) -> Result<Vec<Shift>, String> {
    let minutes = |v: &Value| Duration::from_secs(v.as_u64().unwrap_or(0) * 60);
    let percent = |v: &Value| v.as_f64().filter(|p| *p > 0.0 && *p < 100.0);
    match routing["type"].as_str().unwrap_or("AllAtOnce") {
        "AllAtOnce" => Ok(vec![all()]),
        "TimeBasedCanary" => {
            let c = &routing["timeBasedCanary"];
            let p = percent(&c["canaryPercentage"]).ok_or("canaryPercentage must be 1-99")?;
            Ok(vec![
                Shift {
                    weight: p / 100.0,
                    then_wait: minutes(&c["canaryInterval"]),
                },
                all(),
            ])
        }
        "TimeBasedLinear" => {
            let l = &routing["timeBasedLinear"];
            let p = percent(&l["linearPercentage"]).ok_or("linearPercentage must be 1-99")?;
            let mut out = Vec::new();
            let mut total = p;
            while total < 100.0 {
                out.push(Shift {
                    weight: total / 100.0,
                    then_wait: minutes(&l["linearInterval"]),
                });
                total += p;
            }
            out.push(all());
            Ok(out)
        }
        other => Err(format!("unknown traffic routing type {other}")),
    }
}

fn all() -> Shift {
    Shift {
        weight: 1.0,
        then_wait: Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canary_shifts_ten_percent_then_the_rest() {
        let routing = predefined("CodeDeployDefault.LambdaCanary10Percent5Minutes").unwrap();
        let s = shifts(&routing).unwrap();
        assert_eq!(s.len(), 2);
        assert!((s[0].weight - 0.1).abs() < 1e-9);
        assert_eq!(s[0].then_wait, Duration::from_secs(300));
        assert_eq!(s[1].weight, 1.0);
    }

    #[test]
    fn linear_shifts_in_equal_steps() {
        let routing = predefined("CodeDeployDefault.LambdaLinear10PercentEvery1Minute").unwrap();
        let s = shifts(&routing).unwrap();
        assert_eq!(s.len(), 10);
        assert_eq!(s[9].weight, 1.0);
        let routing = predefined("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes").unwrap();
        assert_eq!(
            shifts(&routing).unwrap()[0].then_wait,
            Duration::from_secs(600)
        );
    }

    #[test]
    fn all_at_once_and_unknown_names() {
        assert_eq!(shifts(&predefined(DEFAULT).unwrap()).unwrap(), vec![all()]);
        assert!(predefined("CodeDeployDefault.LambdaCanary10Percent7Minutes").is_none());
        assert!(predefined("CodeDeployDefault.AllAtOnce").is_none());
    }
}
