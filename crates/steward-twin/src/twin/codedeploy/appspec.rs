//! The Lambda AppSpec of a deployment's revision (YAML or JSON):
//! <https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-resources.html#reference-appspec-file-structure-resources-lambda>
//! and the hooks section
//! <https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html#appspec-hooks-lambda>.

use serde_json::Value;

/// What a Lambda deployment shifts, and the hook functions it calls.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSpec {
    pub function: String,
    pub alias: String,
    pub current_version: String,
    pub target_version: String,
    pub before_allow_traffic: Vec<String>,
    pub after_allow_traffic: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AppSpecError {
    #[error("the revision has no AppSpec content (revisionType AppSpecContent or String)")]
    Missing,
    #[error("the AppSpec content is neither YAML nor JSON: {0}")]
    Syntax(String),
    #[error("the AppSpec has no AWS::Lambda::Function resource")]
    NotLambda,
    #[error("the AppSpec's Lambda resource lacks Properties.{0}")]
    Property(&'static str),
}

/// The AppSpec of a CreateDeployment `revision`.
pub fn from_revision(revision: &Value) -> Result<AppSpec, AppSpecError> {
    let content = revision["appSpecContent"]["content"]
        .as_str()
        .or_else(|| revision["string"]["content"].as_str())
        .ok_or(AppSpecError::Missing)?;
    parse(content)
}

/// YAML is a superset of JSON, so one parser reads both.
pub fn parse(content: &str) -> Result<AppSpec, AppSpecError> {
    let doc: Value =
        serde_yaml::from_str(content).map_err(|e| AppSpecError::Syntax(e.to_string()))?;
    let function = doc["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|resource| resource.values())
        .find(|r| r["Type"] == "AWS::Lambda::Function")
        .ok_or(AppSpecError::NotLambda)?;
    let property = |name: &'static str| {
        scalar(&function["Properties"][name]).ok_or(AppSpecError::Property(name))
    };
    let hooks = |event: &str| -> Vec<String> {
        doc["Hooks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|hook| scalar(&hook[event]))
            .collect()
    };
    Ok(AppSpec {
        function: property("Name")?,
        alias: property("Alias")?,
        current_version: property("CurrentVersion")?,
        target_version: property("TargetVersion")?,
        before_allow_traffic: hooks("BeforeAllowTraffic"),
        after_allow_traffic: hooks("AfterAllowTraffic"),
    })
}

/// Versions are often written unquoted in YAML (`CurrentVersion: 1`).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "version: 0.0
Resources:
  - scorer:
      Type: AWS::Lambda::Function
      Properties:
        Name: fraud-scorer
        Alias: live
        CurrentVersion: 1
        TargetVersion: '2'
Hooks:
  - BeforeAllowTraffic: check-before
  - AfterAllowTraffic: check-after
";

    #[test]
    fn yaml_appspec() {
        let spec = parse(YAML).unwrap();
        assert_eq!(spec.function, "fraud-scorer");
        assert_eq!(spec.alias, "live");
        assert_eq!(spec.current_version, "1");
        assert_eq!(spec.target_version, "2");
        assert_eq!(spec.before_allow_traffic, ["check-before"]);
        assert_eq!(spec.after_allow_traffic, ["check-after"]);
    }

    #[test]
    fn json_appspec_in_a_revision() {
        let content = serde_json::json!({
            "Resources": [{"f": {"Type": "AWS::Lambda::Function", "Properties":
                {"Name": "f", "Alias": "a", "CurrentVersion": "3", "TargetVersion": "4"}}}]
        })
        .to_string();
        let revision = serde_json::json!({"revisionType": "AppSpecContent",
            "appSpecContent": {"content": content}});
        let spec = from_revision(&revision).unwrap();
        assert_eq!(spec.target_version, "4");
        assert!(spec.before_allow_traffic.is_empty());
    }

    #[test]
    fn a_non_lambda_appspec_is_refused() {
        assert_eq!(
            parse("Resources:\n  - s:\n      Type: AWS::ECS::Service\n"),
            Err(AppSpecError::NotLambda)
        );
    }
}
