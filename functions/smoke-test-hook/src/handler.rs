//! The hook: which release the deployment shifts to (its Steward description),
//! the environment's smoke test replayed against that version, the verdict
//! recorded and reported to CodeDeploy, once per hook execution.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_codedeploy::types::LifecycleEventStatus;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use steward::deploy::lambda_alias;
use steward::deploy::smoke::{compare, parse_cases, Mismatch, SmokeReport};
use steward::ledger::{
    Claim, DynamoEnvironments, DynamoLedger, EnvironmentLedger, EnvironmentRecord, Ledger,
};
use steward::naming::IdempotencyKey;
use steward::policy::SmokeTest;
use steward::policy_store::{load_policy, PolicyLoadError, PublishedPolicy};
use tracing::{error, info};

use crate::invoke::{InvokeVersion, LambdaVersions};
use crate::{Config, HookError};

/// What the hook needs, made once per cold start.
pub struct Context<I = LambdaVersions, L = DynamoLedger, E = DynamoEnvironments> {
    pub codedeploy: aws_sdk_codedeploy::Client,
    pub s3: aws_sdk_s3::Client,
    pub versions: I,
    pub ledger: L,
    pub environments: E,
    pub policy: PublishedPolicy,
    pub claim_lease: Duration,
}

impl Context {
    pub async fn connect(aws: &SdkConfig, config: &Config) -> Result<Self, PolicyLoadError> {
        let policy = load_policy(&aws_sdk_ssm::Client::new(aws), &config.policy_parameter).await?;
        let dynamo = aws_sdk_dynamodb::Client::new(aws);
        // Path-style when a custom endpoint is set (the local twin).
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(aws)
                .force_path_style(aws.endpoint_url().is_some())
                .build(),
        );
        Ok(Self {
            codedeploy: aws_sdk_codedeploy::Client::new(aws),
            s3,
            versions: LambdaVersions(aws_sdk_lambda::Client::new(aws)),
            ledger: DynamoLedger::new(dynamo.clone(), &config.ledger_table),
            environments: DynamoEnvironments::new(dynamo, &config.ledger_table),
            policy,
            claim_lease: config.claim_lease,
        })
    }
}

/// CodeDeploy's hook event.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HookEvent {
    pub deployment_id: String,
    pub lifecycle_event_hook_execution_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Reported to CodeDeploy: `Succeeded` or `Failed`.
    Reported {
        deployment_id: String,
        status: String,
        summary: String,
    },
    /// An earlier invocation for the same hook execution reported; its result.
    AlreadyDone { result: Value },
}

pub async fn run<I: InvokeVersion + Sync, L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<I, L, E>,
    payload: Value,
) -> Result<Outcome, HookError> {
    let result = handle(ctx, payload).await;
    match &result {
        Ok(outcome) => {
            info!(outcome = %serde_json::to_string(outcome).unwrap_or_default(), "smoke-test hook handled the event")
        }
        Err(e) => error!(error_type = e.error_type(), error = %e, "smoke-test hook failed"),
    }
    result
}

pub async fn handle<I: InvokeVersion + Sync, L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<I, L, E>,
    payload: Value,
) -> Result<Outcome, HookError> {
    let event: HookEvent =
        serde_json::from_value(payload).map_err(|e| HookError::BadInput(e.to_string()))?;
    let key = IdempotencyKey::new(format!(
        "smoke-hook/{}/{}",
        event.deployment_id, event.lifecycle_event_hook_execution_id
    ));
    let token = match ctx.ledger.claim(&key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(result) => return Ok(Outcome::AlreadyDone { result }),
        Claim::InProgress { lease_until } => {
            return Err(HookError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    match check_and_report(ctx, &event, &key).await {
        Ok(outcome) => {
            let result = serde_json::to_value(&outcome).unwrap_or_default();
            ctx.ledger.complete(&token, &result).await?;
            Ok(outcome)
        }
        Err(e) => {
            if let Err(release) = ctx.ledger.release(&token).await {
                tracing::warn!(error = %release, "could not release the hook claim");
            }
            Err(e)
        }
    }
}

fn codedeploy_error<'a, E>(
    operation: &'static str,
    target: &'a str,
) -> impl FnOnce(E) -> HookError + 'a
where
    E: aws_sdk_codedeploy::error::ProvideErrorMetadata + std::error::Error,
{
    move |e| HookError::CodeDeploy {
        operation,
        target: target.to_string(),
        message: steward::aws_error::describe(&e),
    }
}

async fn check_and_report<I: InvokeVersion + Sync, L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<I, L, E>,
    event: &HookEvent,
    key: &IdempotencyKey,
) -> Result<Outcome, HookError> {
    let id = &event.deployment_id;
    let info = ctx
        .codedeploy
        .get_deployment()
        .deployment_id(id)
        .send()
        .await
        .map_err(codedeploy_error("GetDeployment", id))?
        .deployment_info
        .ok_or_else(|| HookError::CodeDeploy {
            operation: "GetDeployment",
            target: id.clone(),
            message: "the reply has no deploymentInfo".into(),
        })?;
    let application = info.application_name.clone().unwrap_or_default();
    let group_name = info.deployment_group_name.clone().unwrap_or_default();
    let release = info
        .description
        .as_deref()
        .and_then(lambda_alias::parse_deployment_description);
    let environment =
        steward::deploy::serving_deployment_group(&ctx.policy.policy, &application, &group_name);
    // Anything Steward cannot place is not let through: traffic must not move
    // to a version nobody checked.
    let report = match (&release, environment) {
        (None, _) => SmokeReport::unrunnable(format!(
            "deployment {id} was not started by Steward (no Steward description)"
        )),
        (_, None) => SmokeReport::unrunnable(format!(
            "no environment of the policy deploys through {application}/{group_name}"
        )),
        (Some((_, function, version)), Some((_, env))) => match &env.smoke_test {
            Some(test) => run_cases(ctx, function, version, test).await,
            None => SmokeReport {
                cases: 0,
                mismatches: Vec::new(),
                problem: None,
            },
        },
    };
    let passed = report.passed();
    if let (Some((arn, function, version)), Some((group, env))) = (&release, environment) {
        ctx.environments
            .append_step(&EnvironmentRecord {
                group: group.name.clone(),
                environment: env.name.clone(),
                at: chrono::Utc::now(),
                kind: if passed {
                    "smoke_test_passed"
                } else {
                    "smoke_test_failed"
                }
                .into(),
                id: key.digest()[..16].to_string(),
                detail: json!({
                    "report": &report,
                    "modelPackageArn": arn,
                    "release": lambda_alias::release_label(function, version),
                    "deploymentId": id,
                }),
            })
            .await?;
    }
    let status = if passed {
        LifecycleEventStatus::Succeeded
    } else {
        LifecycleEventStatus::Failed
    };
    match ctx
        .codedeploy
        .put_lifecycle_event_hook_execution_status()
        .deployment_id(id)
        .lifecycle_event_hook_execution_id(&event.lifecycle_event_hook_execution_id)
        .status(status.clone())
        .send()
        .await
    {
        Ok(_) => {}
        // Reported by an attempt whose claim did not complete: the same verdict.
        Err(e)
            if steward::aws_error::code(&e) == Some("LifecycleEventAlreadyCompletedException") => {}
        Err(e) => return Err(codedeploy_error("PutLifecycleEventHookExecutionStatus", id)(e)),
    }
    Ok(Outcome::Reported {
        deployment_id: id.clone(),
        status: status.as_str().to_string(),
        summary: report.summary(),
    })
}

/// Each case's input is the function's event; its answer is compared with
/// the expected output within the policy's tolerance. An unreadable case file
/// fails the test.
async fn run_cases<I: InvokeVersion + Sync, L: Ledger, E: EnvironmentLedger>(
    ctx: &Context<I, L, E>,
    function: &str,
    version: &str,
    test: &SmokeTest,
) -> SmokeReport {
    let text = match read(&ctx.s3, &test.cases).await {
        Ok(text) => text,
        Err(problem) => return SmokeReport::unrunnable(problem),
    };
    let cases = match parse_cases(&text) {
        Ok(cases) => cases,
        Err(e) => return SmokeReport::unrunnable(format!("{}: {e}", test.cases)),
    };
    let mut mismatches = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let actual = ctx.versions.invoke(function, version, &case.input).await;
        if let Some((path, expected, actual)) = compare(&case.expected, &actual, test.tolerance) {
            mismatches.push(Mismatch {
                case: index + 1,
                path,
                expected,
                actual,
            });
        }
    }
    SmokeReport {
        cases: cases.len(),
        mismatches,
        problem: None,
    }
}

async fn read(s3: &aws_sdk_s3::Client, uri: &str) -> Result<String, String> {
    let (bucket, key) = uri
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .ok_or_else(|| format!("{uri} is not an s3://bucket/key URI"))?;
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| format!("{uri}: {}", steward::aws_error::describe(&e)))?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| format!("{uri}: {e}"))?
        .into_bytes();
    String::from_utf8(bytes.to_vec()).map_err(|_| format!("{uri} is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_event_is_codedeploys_shape() {
        let event: HookEvent = serde_json::from_value(json!({
            "DeploymentId": "d-ABC",
            "LifecycleEventHookExecutionId": "exec-1"
        }))
        .unwrap();
        assert_eq!(event.deployment_id, "d-ABC");
        assert_eq!(event.lifecycle_event_hook_execution_id, "exec-1");
        assert!(serde_json::from_value::<HookEvent>(json!({"DeploymentId": "d"})).is_err());
    }
}
