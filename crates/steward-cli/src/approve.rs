//! `steward approve|reject <model-package-arn> [--comment ..] [--env ..]`: a
//! decision with the caller's own AWS identity (STS GetCallerIdentity) as the
//! approver, channel `cli`, through the same single-decision path as the
//! emailed link: the same claims, the same checks, the same record.

use std::time::Duration;

use chrono::Utc;
use steward::approval::decision::{
    Channel, Decider, DecisionError, DecisionRequest, SageMakerRegistry, Verdict,
};
use steward::approval::store::{ApprovalStore, DynamoApprovals};
use steward::ledger::DynamoLedger;
use steward::publish::Publisher;

pub struct DecideArgs<'a> {
    pub verdict: Verdict,
    pub model_package_arn: &'a str,
    pub comment: Option<&'a str>,
    /// The environment approved for; default: the one the package's open
    /// approval requests name (if they name exactly one).
    pub environment: Option<&'a str>,
    pub endpoint_url: Option<&'a str>,
}

/// How long the decision holds its claims; longer than the command takes.
const CLAIM_LEASE: Duration = Duration::from_secs(120);

pub async fn decide(args: &DecideArgs<'_>) -> Result<(), String> {
    let aws = match args.endpoint_url {
        Some(endpoint) => steward_twin::local_sdk_config(endpoint).await,
        None => aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
    };
    let approver = caller_identity(&aws).await?;
    let table = stack_name("STEWARD_LEDGER_TABLE", "steward-ledger");
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let decider = Decider {
        ledger: DynamoLedger::new(dynamodb.clone(), &table),
        registry: SageMakerRegistry::new(aws_sdk_sagemaker::Client::new(&aws)),
        events: Publisher::new(
            aws_sdk_eventbridge::Client::new(&aws),
            stack_name("STEWARD_EVENT_BUS", "steward"),
        ),
        approvals: DynamoApprovals::new(dynamodb, &table),
        lease: CLAIM_LEASE,
    };
    let environment = match args.environment {
        Some(env) => Some(env.to_string()),
        None => requested_environment(&decider.approvals, args.model_package_arn).await?,
    };
    let request = DecisionRequest {
        model_package_arn: args.model_package_arn.to_string(),
        environment,
        verdict: args.verdict,
        approver,
        channel: Channel::Cli,
        comment: args.comment.map(str::to_string),
        token_id: None,
        at: Utc::now(),
    };
    match decider.decide(&request).await {
        Ok(decided) => {
            println!(
                "{} {} v{}{} as {} (event {})",
                decided.verdict.past_tense(),
                decided.group,
                decided
                    .version
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "?".into()),
                decided
                    .environment
                    .as_deref()
                    .map(|env| format!(" for {env}"))
                    .unwrap_or_default(),
                decided.approver,
                decided.event_id
            );
            Ok(())
        }
        Err(e) => Err(explain(&e)),
    }
}

/// The caller's ARN: who the ledger says decided.
async fn caller_identity(aws: &aws_config::SdkConfig) -> Result<String, String> {
    aws_sdk_sts::Client::new(aws)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            format!(
                "could not tell who you are (STS GetCallerIdentity): {}",
                steward::aws_error::describe(&e)
            )
        })?
        .arn
        .ok_or_else(|| "STS GetCallerIdentity returned no ARN".to_string())
}

/// The environment the package's open requests ask about, when there is one.
async fn requested_environment(
    approvals: &DynamoApprovals,
    arn: &str,
) -> Result<Option<String>, String> {
    let mut environments: Vec<String> = approvals
        .open()
        .await
        .map_err(|e| format!("could not read the open approval requests: {e}"))?
        .into_iter()
        .filter(|r| r.model_package_arn == arn)
        .map(|r| r.environment)
        .collect();
    environments.sort();
    environments.dedup();
    match environments.len() {
        0 => Ok(None),
        1 => Ok(environments.pop()),
        _ => Err(format!(
            "the package awaits approval for several environments ({}); choose one with --env",
            environments.join(", ")
        )),
    }
}

fn stack_name(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_string())
}

fn explain(e: &DecisionError) -> String {
    if e.is_refusal() {
        format!("nothing decided: {e} ({})", e.error_type())
    } else {
        format!(
            "the decision failed and can be retried: {e} ({})",
            e.error_type()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sagemaker::types::ModelApprovalStatus;
    use steward::ledger::{Ledger, Subject};
    use steward_twin::{local_sdk_config, Emulator, Stack, StackSpec, Twin, TwinConfig};

    const POLICY: &str = include_str!("../../../examples/steward.toml");

    /// The command against moto and the twin, as `--endpoint-url` runs it:
    /// the caller's STS identity is the approver, and a second decision is refused.
    #[tokio::test]
    async fn approve_records_the_callers_identity_and_decides_once() {
        let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
        let twin = Twin::start(TwinConfig::new(moto.endpoint())).await.unwrap();
        let sdk = local_sdk_config(&twin.endpoint()).await;
        Stack::provision(&sdk, StackSpec::new(POLICY))
            .await
            .unwrap();
        let sagemaker = aws_sdk_sagemaker::Client::new(&sdk);
        sagemaker
            .create_model_package_group()
            .model_package_group_name("payroll-fraud")
            .send()
            .await
            .unwrap();
        let arn = sagemaker
            .create_model_package()
            .model_package_group_name("payroll-fraud")
            .customer_metadata_properties("steward:data-version", "v1")
            .model_approval_status(ModelApprovalStatus::PendingManualApproval)
            .send()
            .await
            .unwrap()
            .model_package_arn
            .unwrap();
        let endpoint = twin.endpoint();
        let args = DecideArgs {
            verdict: Verdict::Reject,
            model_package_arn: &arn,
            comment: Some("feature drift in region EU"),
            environment: Some("prod"),
            endpoint_url: Some(&endpoint),
        };
        decide(&args).await.unwrap();

        let package = sagemaker
            .describe_model_package()
            .model_package_name(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            package.model_approval_status,
            Some(ModelApprovalStatus::Rejected)
        );
        let caller = caller_identity(&sdk).await.unwrap();
        let description = package.approval_description.unwrap();
        assert!(
            description.starts_with(&format!("Rejected by {caller} via cli at ")),
            "{description}"
        );
        assert!(description.ends_with("for prod: feature drift in region EU"));
        let ledger = DynamoLedger::new(aws_sdk_dynamodb::Client::new(&sdk), "steward-ledger");
        let records = ledger.records(&Subject::Model(arn.clone())).await.unwrap();
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0].detail["approver"], caller.as_str());
        assert_eq!(records[0].detail["channel"], "cli");

        let again = decide(&DecideArgs {
            verdict: Verdict::Approve,
            ..args
        })
        .await
        .unwrap_err();
        assert!(again.contains("already_decided"), "{again}");
    }
}
