//! `steward approval resend <model-package-arn>`: new approval links for a
//! package still pending (after its request lapsed, or a mail went astray),
//! through request-approval's own code: the same tokens, mails, stored
//! requests and `Approval Requested` event as the gate sends.
//!
//! Configured like the function (same variable names), with the local stack's
//! names as defaults: STEWARD_LEDGER_TABLE, STEWARD_EVENT_BUS,
//! STEWARD_POLICY_PARAMETER, STEWARD_NOTIFICATIONS_TOPIC,
//! STEWARD_APPROVAL_URL, STEWARD_APPROVAL_KEY_SECRET_ID.

use request_approval::{Config, Context, Outcome};
use steward::config::FromEnv;

pub struct ResendArgs<'a> {
    pub model_package_arn: &'a str,
    pub endpoint_url: Option<&'a str>,
    pub approval_url: Option<&'a str>,
    pub notifications_topic: Option<&'a str>,
}

pub async fn resend(args: &ResendArgs<'_>) -> Result<(), String> {
    let aws = match args.endpoint_url {
        Some(endpoint) => steward_twin::local_sdk_config(endpoint).await,
        None => aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
    };
    let approval_url = args.approval_url.map(str::to_string);
    let topic = args.notifications_topic.map(str::to_string);
    let config = Config::from_lookup(|name| {
        let given = match name {
            "STEWARD_APPROVAL_URL" => approval_url.clone(),
            "STEWARD_NOTIFICATIONS_TOPIC" => topic.clone(),
            _ => None,
        };
        given
            .or_else(|| std::env::var(name).ok())
            .or_else(|| default(name).map(str::to_string))
    })
    .map_err(|e| format!("{e} (set it, or pass the matching option)"))?;
    let ctx = Context::connect(&aws, &config)
        .await
        .map_err(|e| format!("could not reach Steward's stack: {e}"))?;
    match request_approval::resend::resend(&ctx, args.model_package_arn, chrono::Utc::now()).await {
        Ok(Outcome::Requested { asked, .. }) => {
            println!(
                "asked {} for {} again: new links until {} (event {})",
                asked.approvers.join(", "),
                asked.environment,
                asked.expires_at.to_rfc3339(),
                asked.event_id
            );
            Ok(())
        }
        Ok(other) => {
            println!("{other:?}");
            Ok(())
        }
        Err(e) => Err(format!("no links sent: {e} ({})", e.error_type())),
    }
}

/// The local stack's names (StackSpec's defaults).
fn default(name: &str) -> Option<&'static str> {
    match name {
        "STEWARD_LEDGER_TABLE" => Some("steward-ledger"),
        "STEWARD_EVENT_BUS" => Some("steward"),
        "STEWARD_POLICY_PARAMETER" => Some("/steward/policy"),
        "STEWARD_APPROVAL_KEY_SECRET_ID" => Some("steward/approval-key"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sagemaker::types::{
        MetricsSource, ModelApprovalStatus, ModelMetrics, ModelQuality,
    };
    use steward_twin::twin::TwinClient;
    use steward_twin::{local_sdk_config, Emulator, Stack, StackSpec, Twin, TwinConfig};

    const POLICY: &str = include_str!("../../../examples/steward.toml");

    /// The command against moto and the twin, as `--endpoint-url` runs it: a
    /// package Steward never gated is evaluated, and the approvers of the
    /// first environment that needs a person (prod) get a link each.
    #[tokio::test]
    async fn resend_mails_each_approver_a_new_link() {
        let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
        let twin = Twin::start(TwinConfig::new(moto.endpoint())).await.unwrap();
        let sdk = local_sdk_config(&twin.endpoint()).await;
        let stack = Stack::provision(&sdk, StackSpec::new(POLICY))
            .await
            .unwrap();
        aws_sdk_secretsmanager::Client::new(&sdk)
            .create_secret()
            .name("steward/approval-key")
            .secret_string("approval-key-0123456789abcdef0123456789abcdef")
            .send()
            .await
            .unwrap();
        let s3 = steward_twin::s3_client(&sdk);
        s3.create_bucket().bucket("artifacts").send().await.unwrap();
        let report = serde_json::json!({"binary_classification_metrics": {
            "auc": {"value": 0.95}, "precision": {"value": 0.7},
            "recall": {"value": 0.8}, "f1": {"value": 0.72}
        }});
        s3.put_object()
            .bucket("artifacts")
            .key("evaluation.json")
            .body(report.to_string().into_bytes().into())
            .send()
            .await
            .unwrap();
        let sagemaker = aws_sdk_sagemaker::Client::new(&sdk);
        sagemaker
            .create_model_package_group()
            .model_package_group_name("payroll-fraud")
            .send()
            .await
            .unwrap();
        let quality = ModelQuality::builder()
            .statistics(
                MetricsSource::builder()
                    .content_type("application/json")
                    .s3_uri("s3://artifacts/evaluation.json")
                    .build(),
            )
            .build();
        let arn = sagemaker
            .create_model_package()
            .model_package_group_name("payroll-fraud")
            .model_metrics(ModelMetrics::builder().model_quality(quality).build())
            .model_approval_status(ModelApprovalStatus::PendingManualApproval)
            .send()
            .await
            .unwrap()
            .model_package_arn
            .unwrap();

        let endpoint = twin.endpoint();
        resend(&ResendArgs {
            model_package_arn: &arn,
            endpoint_url: Some(&endpoint),
            approval_url: Some("https://approve.test/"),
            notifications_topic: Some(&stack.notifications_topic_arn),
        })
        .await
        .unwrap();

        let mail = TwinClient::new(twin.endpoint()).get("mail").await.unwrap();
        let messages = mail["messages"].as_array().unwrap();
        let mut to: Vec<&str> = messages.iter().filter_map(|m| m["to"].as_str()).collect();
        to.sort();
        assert_eq!(to, ["ana.lima@acme.com", "raj.patel@acme.com"]);
        for m in messages {
            assert_eq!(m["subject"], "Approve payroll-fraud v1 for prod?");
            let link = m["links"][0].as_str().unwrap();
            assert!(
                link.starts_with("https://approve.test/?token=v1."),
                "{link}"
            );
        }
    }
}
