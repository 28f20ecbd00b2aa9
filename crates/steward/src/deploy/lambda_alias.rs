//! Lambda-served environments (`target = { kind = "lambda-alias" }`): the
//! deterministic CodeDeploy names, the deployment config of each strategy,
//! the AppSpec that shifts the alias, and the markers that let a retry find
//! the function version and the deployment it made. No SDK types.

use serde_json::json;

use super::state::{Rollout, RolloutKind};
use crate::policy::Strategy;

/// The CodeDeploy application of a group (compute platform Lambda).
pub fn application(group: &str) -> String {
    format!("steward-{group}")
}

/// The deployment group of an environment, inside [`application`].
pub fn deployment_group(environment: &str) -> String {
    environment.to_string()
}

/// The `Lambda…` config that rolls back at once: explicit redeploys of a known
/// good version.
pub const ALL_AT_ONCE: &str = "CodeDeployDefault.LambdaAllAtOnce";

/// The CodeDeploy deployment config of a strategy, and whether Steward must
/// create it (predefined `CodeDeployDefault.*` configs exist everywhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaDeploymentConfig {
    pub name: String,
    pub routing: LambdaRouting,
    pub predefined: bool,
}

/// `TrafficRoutingConfig` of a Lambda deployment config: percentages of
/// invocations, intervals in whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaRouting {
    AllAtOnce,
    TimeBasedCanary {
        percentage: u8,
        interval_minutes: u32,
    },
    TimeBasedLinear {
        percentage: u8,
        interval_minutes: u32,
    },
}

impl LambdaDeploymentConfig {
    pub fn for_strategy(strategy: &Strategy) -> Self {
        let minutes = minutes(strategy.wait());
        let (name, routing, predefined) = match *strategy {
            Strategy::AllAtOnce => (ALL_AT_ONCE.to_string(), LambdaRouting::AllAtOnce, true),
            Strategy::Canary { size_percent, .. } => {
                let routing = LambdaRouting::TimeBasedCanary {
                    percentage: size_percent,
                    interval_minutes: minutes,
                };
                if size_percent == 10 && [5, 10, 15, 30].contains(&minutes) {
                    (
                        format!("CodeDeployDefault.LambdaCanary10Percent{minutes}Minutes"),
                        routing,
                        true,
                    )
                } else {
                    (
                        format!("steward-lambda-canary-{size_percent}pct-{minutes}min"),
                        routing,
                        false,
                    )
                }
            }
            Strategy::Linear { step_percent, .. } => {
                let routing = LambdaRouting::TimeBasedLinear {
                    percentage: step_percent,
                    interval_minutes: minutes,
                };
                if step_percent == 10 && [1, 2, 3, 10].contains(&minutes) {
                    let unit = if minutes == 1 { "Minute" } else { "Minutes" };
                    (
                        format!("CodeDeployDefault.LambdaLinear10PercentEvery{minutes}{unit}"),
                        routing,
                        true,
                    )
                } else {
                    (
                        format!("steward-lambda-linear-{step_percent}pct-every-{minutes}min"),
                        routing,
                        false,
                    )
                }
            }
        };
        LambdaDeploymentConfig {
            name,
            routing,
            predefined,
        }
    }
}

/// CodeDeploy counts intervals in whole minutes: a wait is rounded up, at
/// least one minute.
fn minutes(wait: std::time::Duration) -> u32 {
    (wait.as_secs().div_ceil(60)).max(1) as u32
}

/// What a CodeDeploy Lambda deployment shifts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasShift {
    pub function: String,
    pub alias: String,
    pub current_version: String,
    pub target_version: String,
    /// The BeforeAllowTraffic hook (the smoke test), if any.
    pub before_allow_traffic: Option<String>,
}

impl AliasShift {
    /// The AppSpec (JSON) of the deployment, as in the CodeDeploy User Guide
    /// "AppSpec 'resources' section (AWS Lambda)" and "'hooks' section".
    pub fn appspec(&self) -> String {
        let mut spec = json!({
            "version": 0.0,
            "Resources": [{
                self.function.clone(): {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": self.function,
                        "Alias": self.alias,
                        "CurrentVersion": self.current_version,
                        "TargetVersion": self.target_version,
                    }
                }
            }],
        });
        if let Some(hook) = &self.before_allow_traffic {
            spec["Hooks"] = json!([{ "BeforeAllowTraffic": hook }]);
        }
        spec.to_string()
    }
}

/// The description of the function version published for a model package:
/// a retry finds the version by it instead of publishing another.
pub fn version_description(model_package_arn: &str) -> String {
    format!("steward:{model_package_arn}")
}

/// The description of the CodeDeploy deployment that shifts the alias to the
/// release labelled `release_label` ([`release_label`]): a retry (or a
/// completion event) finds its deployment by it.
pub fn deployment_description(model_package_arn: &str, release_label: &str) -> String {
    format!("steward:{model_package_arn} -> {release_label}")
}

/// The description of Steward's rollback deployment that takes the alias
/// from `from_model_package_arn` (rolled back) to the known good release
/// labelled `release_label`: distinct from the release's own first
/// deployment, so a retry finds the rollback and not that one.
pub fn rollback_description(from_model_package_arn: &str, release_label: &str) -> String {
    format!("steward-rollback:{from_model_package_arn} -> {release_label}")
}

/// The description of the CodeDeploy deployment behind `rollout`.
pub fn rollout_description(rollout: &Rollout) -> String {
    match &rollout.kind {
        RolloutKind::Deploy => deployment_description(
            &rollout.release.model_package_arn,
            &rollout.release.endpoint_config,
        ),
        RolloutKind::Rollback { from, .. } => {
            rollback_description(&from.model_package_arn, &rollout.release.endpoint_config)
        }
    }
}

/// The function version of a release label (`<function>:<version>`).
pub fn label_version(release_label: &str) -> Option<&str> {
    release_label
        .rsplit_once(':')
        .map(|(_, version)| version)
        .filter(|v| !v.is_empty())
}

/// What [`deployment_description`] says: (model package ARN, function, version).
/// `None` for a deployment Steward did not start.
pub fn parse_deployment_description(description: &str) -> Option<(String, String, String)> {
    let (arn, label) = description.strip_prefix("steward:")?.split_once(" -> ")?;
    let (function, version) = label.rsplit_once(':')?;
    (!arn.is_empty() && !function.is_empty() && !version.is_empty())
        .then(|| (arn.to_string(), function.to_string(), version.to_string()))
}

/// How a Lambda release is named in the environment state (where a SageMaker
/// release names its endpoint config).
pub fn release_label(function: &str, version: &str) -> String {
    format!("{function}:{version}")
}

/// Environment variables the serving function reads its model from.
pub const MODEL_DATA_URL: &str = "MODEL_DATA_URL";
pub const MODEL_PACKAGE_ARN: &str = "MODEL_PACKAGE_ARN";

#[cfg(test)]
mod tests {
    #[test]
    fn a_deployment_view_names_a_missing_status_and_error_parts() {
        let fresh = DeploymentView::new("d-1", None, None, None);
        assert_eq!(fresh.status, "Created");
        assert!(fresh.is_running());
        let stopped = DeploymentView::new(
            "d-2",
            Some("Stopped"),
            None,
            Some((Some("ALARM_ACTIVE"), None)),
        );
        assert!(!stopped.is_running());
        assert_eq!(
            stopped.describe_end(),
            "deployment d-2 stopped: ALARM_ACTIVE: no message"
        );
    }

    use super::*;
    use std::time::Duration;

    #[test]
    fn strategies_map_to_predefined_configs_when_one_exists_and_custom_ones_otherwise() {
        let config = |s: Strategy| LambdaDeploymentConfig::for_strategy(&s);
        assert_eq!(config(Strategy::AllAtOnce).name, ALL_AT_ONCE);
        let canary = config(Strategy::Canary {
            size_percent: 10,
            wait: Duration::from_secs(300),
        });
        assert_eq!(
            canary.name,
            "CodeDeployDefault.LambdaCanary10Percent5Minutes"
        );
        assert!(canary.predefined);
        let linear = config(Strategy::Linear {
            step_percent: 10,
            wait: Duration::from_secs(60),
        });
        assert_eq!(
            linear.name,
            "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
        );
        // The example policy's staging: linear 50% every 2m.
        let custom = config(Strategy::Linear {
            step_percent: 50,
            wait: Duration::from_secs(120),
        });
        assert_eq!(custom.name, "steward-lambda-linear-50pct-every-2min");
        assert!(!custom.predefined);
        assert_eq!(
            custom.routing,
            LambdaRouting::TimeBasedLinear {
                percentage: 50,
                interval_minutes: 2
            }
        );
        // 90 seconds wait → 2 minutes (CodeDeploy counts whole minutes).
        let rounded = config(Strategy::Canary {
            size_percent: 25,
            wait: Duration::from_secs(90),
        });
        assert_eq!(rounded.name, "steward-lambda-canary-25pct-2min");
    }

    #[test]
    fn the_appspec_names_the_alias_both_versions_and_the_hook() {
        let shift = AliasShift {
            function: "attrition-model-staging".into(),
            alias: "live".into(),
            current_version: "3".into(),
            target_version: "4".into(),
            before_allow_traffic: Some("steward-smoke-test-hook".into()),
        };
        let spec: serde_json::Value = serde_json::from_str(&shift.appspec()).unwrap();
        assert_eq!(spec["version"], 0.0);
        let props = &spec["Resources"][0]["attrition-model-staging"]["Properties"];
        assert_eq!(props["Name"], "attrition-model-staging");
        assert_eq!(props["Alias"], "live");
        assert_eq!(props["CurrentVersion"], "3");
        assert_eq!(props["TargetVersion"], "4");
        assert_eq!(
            spec["Resources"][0]["attrition-model-staging"]["Type"],
            "AWS::Lambda::Function"
        );
        assert_eq!(
            spec["Hooks"][0]["BeforeAllowTraffic"],
            "steward-smoke-test-hook"
        );
        let no_hook = AliasShift {
            before_allow_traffic: None,
            ..shift
        };
        let spec: serde_json::Value = serde_json::from_str(&no_hook.appspec()).unwrap();
        assert!(spec.get("Hooks").is_none());
    }

    #[test]
    fn a_rollback_deployment_is_told_apart_from_the_first_deployment_of_its_target() {
        use crate::deploy::state::tests::{release, rollout};
        let mut good = release(1);
        good.endpoint_config = "scorer:1".into();
        let mut bad = release(2);
        bad.endpoint_config = "scorer:2".into();
        let deploy = Rollout {
            release: good.clone(),
            ..rollout(1, RolloutKind::Deploy)
        };
        let back = Rollout {
            release: good.clone(),
            ..rollout(
                1,
                RolloutKind::Rollback {
                    from: bad.clone(),
                    reason: "alarm".into(),
                },
            )
        };
        assert_eq!(
            rollout_description(&deploy),
            deployment_description(&good.model_package_arn, "scorer:1")
        );
        assert_eq!(
            rollout_description(&back),
            format!("steward-rollback:{} -> scorer:1", bad.model_package_arn)
        );
        // The smoke-test hook finds no package to test in a rollback.
        assert_eq!(
            parse_deployment_description(&rollout_description(&back)),
            None
        );
        assert_eq!(label_version("scorer:12"), Some("12"));
        assert_eq!(label_version("scorer:"), None);
    }

    #[test]
    fn names_are_deterministic() {
        assert_eq!(application("attrition"), "steward-attrition");
        assert_eq!(deployment_group("staging"), "staging");
        assert_eq!(version_description("arn:pkg/3"), "steward:arn:pkg/3");
        assert_eq!(
            deployment_description("arn:pkg/3", &release_label("f", "4")),
            "steward:arn:pkg/3 -> f:4"
        );
        let arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/attrition/3";
        let description = deployment_description(arn, &release_label("scorer", "4"));
        assert_eq!(
            parse_deployment_description(&description),
            Some((arn.to_string(), "scorer".to_string(), "4".to_string()))
        );
        assert_eq!(parse_deployment_description("hand-made deployment"), None);
    }
}

/// What CodeDeploy's `GetDeployment` says about a deployment, as deploy and
/// rollback both read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentView {
    pub id: String,
    /// `Created`, `Queued`, `InProgress`, `Baking`, `Ready`, `Succeeded`, `Failed` or `Stopped`.
    pub status: String,
    pub description: Option<String>,
    /// `code: message` of a failed or stopped deployment.
    pub error: Option<String>,
}

impl DeploymentView {
    /// From `deploymentInfo`'s fields: no status reads as `Created` (what
    /// CodeDeploy reports first); an error without code or message says so.
    pub fn new(
        id: &str,
        status: Option<&str>,
        description: Option<String>,
        error: Option<(Option<&str>, Option<&str>)>,
    ) -> Self {
        Self {
            id: id.to_string(),
            status: status.unwrap_or("Created").to_string(),
            description,
            error: error.map(|(code, message)| {
                format!(
                    "{}: {}",
                    code.unwrap_or("ERROR"),
                    message.unwrap_or("no message")
                )
            }),
        }
    }

    pub fn is_running(&self) -> bool {
        !matches!(self.status.as_str(), "Succeeded" | "Failed" | "Stopped")
    }

    /// How it ended, for a reason: `deployment d-1 stopped: ALARM_ACTIVE: …`.
    pub fn describe_end(&self) -> String {
        format!(
            "deployment {} {}: {}",
            self.id,
            self.status.to_lowercase(),
            self.error.as_deref().unwrap_or("no error information")
        )
    }
}
