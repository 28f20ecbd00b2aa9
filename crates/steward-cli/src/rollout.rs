//! `steward deploy <model-package-arn> --env <env>` and `steward rollback
//! <group> --env <env> --reason …`: an operator's deploy or rollback, run
//! through the deploy and rollback functions' own code (same names, claims,
//! busy checks, ledger records and events) from their machine.

use std::time::Duration;

pub struct DeployArgs<'a> {
    pub model_package_arn: &'a str,
    pub environment: &'a str,
    pub endpoint_url: Option<&'a str>,
}

pub struct RollbackArgs<'a> {
    pub group: &'a str,
    pub environment: &'a str,
    pub reason: &'a str,
    pub endpoint_url: Option<&'a str>,
}

async fn sdk(endpoint_url: Option<&str>) -> aws_config::SdkConfig {
    match endpoint_url {
        Some(endpoint) => steward_twin::local_sdk_config(endpoint).await,
        None => aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
    }
}

/// A stack name from the environment, else the template's default.
fn name(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_string())
}

/// The topic stewards are mailed through: `STEWARD_NOTIFICATIONS_TOPIC`, or
/// the local stack's when talking to the twin.
fn notifications_topic(endpoint_url: Option<&str>) -> Result<String, String> {
    // On AWS the stack output NotificationsTopicArn.
    let local = || {
        endpoint_url.map(|_| "arn:aws:sns:us-east-1:123456789012:steward-notifications".to_string())
    };
    std::env::var("STEWARD_NOTIFICATIONS_TOPIC")
        .ok()
        .or_else(local)
        .ok_or_else(|| {
            "set STEWARD_NOTIFICATIONS_TOPIC to the stack's NotificationsTopicArn (stewards are mailed)"
                .to_string()
        })
}

fn lease() -> Duration {
    Duration::from_secs(120)
}

pub async fn deploy(args: &DeployArgs<'_>) -> Result<(), String> {
    let aws = sdk(args.endpoint_url).await;
    let role = std::env::var("STEWARD_SAGEMAKER_ROLE_ARN")
        .ok()
        .or_else(|| {
            args.endpoint_url
                .map(|_| steward_twin::LOCAL_SAGEMAKER_ROLE.to_string())
        });
    let Some(execution_role_arn) = role else {
        return Err(
            "set STEWARD_SAGEMAKER_ROLE_ARN to the SageMaker execution role (the stack's SageMakerExecutionRoleArn)"
                .into(),
        );
    };
    let config = deploy::Config {
        ledger_table: name("STEWARD_LEDGER_TABLE", "steward-ledger"),
        event_bus: name("STEWARD_EVENT_BUS", "steward"),
        policy_parameter: name("STEWARD_POLICY_PARAMETER", "/steward/policy"),
        execution_role_arn,
        notifications_topic: notifications_topic(args.endpoint_url)?,
        claim_lease: lease(),
        lambda: deploy::LambdaTargets {
            codedeploy_role_arn: std::env::var("STEWARD_CODEDEPLOY_ROLE_ARN").ok(),
            smoke_hook_function: std::env::var("STEWARD_SMOKE_HOOK_FUNCTION").ok(),
        },
    };
    let ctx = deploy::Context::connect(&aws, &config)
        .await
        .map_err(|e| format!("could not load the published policy: {e}"))?;
    let outcome = deploy::manual::deploy_package(&ctx, args.model_package_arn, args.environment)
        .await
        .map_err(|e| format!("{e} ({})", e.error_type()))?;
    match outcome {
        deploy::Outcome::Started {
            environment,
            version,
            endpoint_config,
            action,
            ..
        } => {
            println!("rolling out v{version} to {environment}: {endpoint_config} ({action})");
            Ok(())
        }
        deploy::Outcome::AlreadyDone { cause, .. } => {
            println!("already deployed by an earlier request ({cause})");
            Ok(())
        }
        deploy::Outcome::Ignored { reason } => Err(reason),
        other => {
            println!(
                "{}",
                serde_json::to_string_pretty(&other).unwrap_or_default()
            );
            Ok(())
        }
    }
}

pub async fn rollback(args: &RollbackArgs<'_>) -> Result<(), String> {
    let aws = sdk(args.endpoint_url).await;
    let notifications_topic = notifications_topic(args.endpoint_url)?;
    let config = rollback::Config {
        ledger_table: name("STEWARD_LEDGER_TABLE", "steward-ledger"),
        event_bus: name("STEWARD_EVENT_BUS", "steward"),
        policy_parameter: name("STEWARD_POLICY_PARAMETER", "/steward/policy"),
        notifications_topic,
        claim_lease: lease(),
    };
    let ctx = rollback::Context::connect(&aws, &config)
        .await
        .map_err(|e| format!("could not load the published policy: {e}"))?;
    let who = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let outcome =
        rollback::handler::by_operator(&ctx, args.group, args.environment, &who, args.reason)
            .await
            .map_err(|e| format!("{e} ({})", e.error_type()))?;
    match outcome {
        rollback::Outcome::RollbackStarted {
            environment,
            to,
            to_endpoint_config,
            rejected,
            ..
        } => {
            println!(
                "rolling {environment} back to {to} ({to_endpoint_config}); {rejected} is rejected"
            );
            Ok(())
        }
        rollback::Outcome::Ignored { reason } => Err(reason),
        other => {
            println!(
                "{}",
                serde_json::to_string_pretty(&other).unwrap_or_default()
            );
            Ok(())
        }
    }
}
