//! The demo's promotion chain, each step driven by the events the functions
//! emit: the gate approves staging by policy → deploy rolls staging out →
//! the bake (a tick at a chosen later time) → `Promotion Requested` → prod's
//! approvers mailed → the link opened and Approve pressed → `Approval
//! Decided` → prod's canary → an alarm mid-rollout → SageMaker's automatic
//! rollback, verified by rollback → the package rejected, the stewards told.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_sdk_sagemaker::types::{
    ContainerDefinition, EndpointStatus, ProductionVariant, ProductionVariantInstanceType,
};
use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{json, Value};
use steward::policy::{Group, Target};
use steward_twin::router::Delivery;
use steward_twin::LocalRun;

use super::demo_functions::{summary, Functions};
use super::demo_story::{answered, field, Story, STEP_TIMEOUT};

/// What the demo's approver writes in the comment box.
const COMMENT: &str = "Reviewed on my phone: metrics above every threshold.";
/// An obviously fraudulent and an obviously ordinary payment, in the
/// training features' order (amount, hour, vendor_new, bank_changed).
const SMOKE_CASES: &str = concat!(
    r#"{"input": "9400.0,3,1,1", "contentType": "text/csv", "expected": {"predictions": [{"label": 1}]}}"#,
    "\n",
    r#"{"input": "42.5,14,0,0", "contentType": "text/csv", "expected": {"predictions": [{"label": 0}]}}"#,
    "\n"
);

/// The environments' endpoint names, in promotion order.
pub fn endpoints(group: &Group) -> Vec<(String, String)> {
    group
        .environments
        .iter()
        .filter_map(|e| match &e.target {
            Target::SageMakerEndpoint { endpoint, .. } => Some((e.name.clone(), endpoint.clone())),
            Target::LambdaAlias { .. } => None,
        })
        .collect()
}

/// The world Steward joins: the environments' alarms exist, the smoke-test
/// cases are in S3, and the last environment (prod) already serves the model
/// the team deployed before Steward (`<group>-v0`), so a promotion to it is a
/// blue/green update with the policy's traffic shifting.
pub async fn prepare(run: &LocalRun, group: &Group) -> Result<(), String> {
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&run.sdk);
    let s3 = steward_twin::s3_client(&run.sdk);
    let mut cases_written = std::collections::BTreeSet::new();
    for env in &group.environments {
        for alarm in &env.alarms {
            cloudwatch
                .put_metric_alarm()
                .alarm_name(alarm)
                .namespace("AWS/SageMaker")
                .metric_name("Invocation5XXErrors")
                .statistic(Statistic::Sum)
                .period(60)
                .evaluation_periods(1)
                .threshold(5.0)
                .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "PutMetricAlarm {alarm}: {}",
                        steward::aws_error::describe(&e)
                    )
                })?;
        }
        if let Some(smoke) = env
            .smoke_test
            .as_ref()
            .filter(|smoke| cases_written.insert(smoke.cases.clone()))
        {
            let (bucket, key) = smoke
                .cases
                .strip_prefix("s3://")
                .and_then(|rest| rest.split_once('/'))
                .ok_or_else(|| format!("not an S3 URI: {}", smoke.cases))?;
            let _ = s3.create_bucket().bucket(bucket).send().await;
            s3.put_object()
                .bucket(bucket)
                .key(key)
                .body(SMOKE_CASES.as_bytes().to_vec().into())
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "PutObject {}: {}",
                        smoke.cases,
                        steward::aws_error::describe(&e)
                    )
                })?;
        }
    }
    let all = endpoints(group);
    let Some((env, endpoint)) = all.last().filter(|_| all.len() > 1) else {
        return Ok(());
    };
    let sm = aws_sdk_sagemaker::Client::new(&run.sdk);
    let name = format!("{}-v0", group.name);
    let describe = |e: &dyn std::fmt::Debug| format!("{e:?}");
    let capture = super::demo_drift::prepare_v0(run, group, env).await?;
    sm.create_model()
        .model_name(&name)
        .execution_role_arn(steward_twin::LOCAL_SAGEMAKER_ROLE)
        .primary_container(
            ContainerDefinition::builder()
                .image("steward-local/logistic-regression:1")
                .model_data_url(format!(
                    "s3://steward-model-artifacts/{}/v0/model.json",
                    group.name
                ))
                .build(),
        )
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let config = format!("{endpoint}-v0");
    sm.create_endpoint_config()
        .endpoint_config_name(&config)
        .production_variants(
            ProductionVariant::builder()
                .variant_name("AllTraffic")
                .model_name(&name)
                .initial_instance_count(4)
                .initial_variant_weight(1.0)
                .instance_type(ProductionVariantInstanceType::MlM5Xlarge)
                .build(),
        )
        .set_data_capture_config(capture)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    sm.create_endpoint()
        .endpoint_name(endpoint)
        .endpoint_config_name(&config)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    wait_status(&sm, endpoint, EndpointStatus::InService).await?;
    println!("  {env} ({endpoint}) serves {name}, deployed before Steward; alarms and smoke-test cases are in place");
    Ok(())
}

async fn wait_status(
    sm: &aws_sdk_sagemaker::Client,
    endpoint: &str,
    status: EndpointStatus,
) -> Result<(), String> {
    let deadline = std::time::Instant::now() + STEP_TIMEOUT;
    loop {
        let out = sm
            .describe_endpoint()
            .endpoint_name(endpoint)
            .send()
            .await
            .map_err(|e| steward::aws_error::describe(&e))?;
        if out.endpoint_status() == Some(&status) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("{endpoint} never became {status:?}: {out:?}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The gate's answer to the registered model, through the router.
pub async fn gated(story: &Story<'_>, arn: &str) -> Result<Delivery, String> {
    story
        .until("the gate's answer", |d| {
            d.function == "request-approval"
                && d.response.to_string().contains(&format!("\"{arn}\""))
        })
        .await
}

/// The staging rollout the registry's Approved event started, to its end.
pub async fn first_rollout(story: &Story<'_>, first_env: &str) -> Result<(), String> {
    println!("\n▶ The registry's Approved event reaches deploy: {first_env} rolls out");
    let started = story
        .until(&format!("deploy starting {first_env}"), |d| {
            answered(d, "deploy", "started") && d.response["environment"] == first_env
        })
        .await?;
    println!(
        "  {} {} ({} strategy on a new endpoint: all at once)",
        field(&started, "action"),
        field(&started, "endpoint_config"),
        first_env
    );
    story.recorded("Deployment Succeeded").await?;
    story.show();
    println!("  → `Deployment Succeeded` for {first_env}: the smoke test passed, the bake begins");
    Ok(())
}

/// The bake ends (a schedule tick at a chosen later time: the twin's clock is
/// compressed, the ledger's is not) and the next environment is asked for.
pub async fn bake(story: &Story<'_>, functions: &Functions, first_env: &str) -> Result<(), String> {
    let at = Utc::now() + Span::hours(1);
    println!(
        "\n▶ An hour later: the schedule tick ({}) ends {first_env}'s bake with no alarm",
        at.to_rfc3339()
    );
    let tick = json!({
        "version": "0",
        "id": format!("demo-tick-{}", at.timestamp()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.to_rfc3339(),
        "region": steward_twin::REGION,
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/steward-tick"],
        "detail": {}
    });
    let outcome = deploy::handler::run(functions.deploy()?, tick)
        .await
        .map_err(|e| format!("the tick failed: {e} ({})", e.error_type()))?;
    println!(
        "  deploy: {}",
        summary(&serde_json::to_value(&outcome).unwrap_or_default())
    );
    let asked = story
        .until("request-approval asking for the promotion", |d| {
            d.rule.contains("PromotionRequested") && d.function == "request-approval"
        })
        .await?;
    let env = asked.response["environment"].as_str().unwrap_or("?");
    println!(
        "  → `Promotion Requested` for {env}: request-approval asked {} ({})",
        asked.response["approvers"]
            .as_array()
            .map(|a| a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default(),
        field(&asked, "outcome")
    );
    Ok(())
}

/// The approver's mail, the link, the decision; prod's canary starts.
pub async fn approve_promotion(
    run: &LocalRun,
    story: &Story<'_>,
    next_env: &str,
) -> Result<Delivery, String> {
    println!("\n▶ The mail (captured by the twin): one per approver, each with its own link");
    let mail = steward_twin::twin::TwinClient::new(run.endpoint())
        .get("mail")
        .await
        .map_err(|e| e.to_string())?;
    for m in mail["messages"].as_array().into_iter().flatten() {
        if m["links"].as_array().is_some_and(|l| !l.is_empty()) {
            println!(
                "  to {}: {}",
                m["to"].as_str().unwrap_or("?"),
                m["subject"].as_str().unwrap_or("?")
            );
        }
    }
    println!("\n▶ An approver opens the link on their phone and presses Approve");
    super::demo_approval::approve_from_mail(run, COMMENT).await?;
    println!("\n▶ `Approval Decided` ({next_env}) reaches deploy: the canary starts");
    let started = story
        .until(&format!("deploy starting {next_env}"), |d| {
            answered(d, "deploy", "started") && d.response["environment"] == next_env
        })
        .await?;
    Ok(started)
}

/// Mid-canary, an alarm fires; SageMaker rolls back, rollback verifies it.
/// The time the canary was serving (for `steward served --at`).
pub async fn alarm_mid_rollout(
    run: &LocalRun,
    story: &Story<'_>,
    group: &Group,
    started: &Delivery,
) -> Result<(DateTime<Utc>, String), String> {
    let env_name = started.response["environment"].as_str().unwrap_or("?");
    let env = group
        .environment(env_name)
        .ok_or_else(|| format!("{env_name} is not in the policy"))?;
    let Target::SageMakerEndpoint { endpoint, .. } = &env.target else {
        return Err(format!("{env_name} is not a SageMaker endpoint"));
    };
    let sm = aws_sdk_sagemaker::Client::new(&run.sdk);
    let out = sm
        .describe_endpoint()
        .endpoint_name(endpoint)
        .send()
        .await
        .map_err(|e| steward::aws_error::describe(&e))?;
    let routing = out
        .last_deployment_config()
        .and_then(|c| c.blue_green_update_policy())
        .and_then(|b| b.traffic_routing_configuration());
    println!(
        "  {} {}: {} → {} with {} {}% then the rest after {}s (simulated); auto-rollback alarms {}",
        field(started, "action"),
        endpoint,
        out.endpoint_config_name().unwrap_or("?"),
        field(started, "endpoint_config"),
        routing
            .and_then(|r| r.r#type())
            .map(|t| t.as_str())
            .unwrap_or("?"),
        routing
            .and_then(|r| r.canary_size())
            .and_then(|c| c.value())
            .unwrap_or_default(),
        routing
            .and_then(|r| r.wait_interval_in_seconds())
            .unwrap_or_default(),
        env.alarms.join(", ")
    );
    // Let the canary take its share of traffic before the alarm.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mid = Utc::now();
    // EventBridge times have whole seconds: the failure the alarm causes must
    // be stamped after `mid`, or the ledger would say the rollout ended before.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let alarm = env
        .alarms
        .first()
        .ok_or_else(|| format!("{env_name} has no alarm"))?;
    println!(
        "\n▶ {} mid-rollout: {alarm} goes to ALARM",
        mid.to_rfc3339()
    );
    steward_twin::twin::TwinClient::new(run.endpoint())
        .post(
            "alarm",
            &json!({"name": alarm, "state": "ALARM", "reason": "5XX errors above threshold on the canary"}),
        )
        .await
        .map_err(|e| e.to_string())?;
    let verified = story
        .until("rollback verifying SageMaker's automatic rollback", |d| {
            d.function == "rollback"
                && (d.response["outcome"] == "auto-rollback-verified"
                    || d.response["result"]["outcome"] == "auto-rollback-verified")
        })
        .await?;
    story.recorded("Rollback Completed").await?;
    story.show();
    let live = sm
        .describe_endpoint()
        .endpoint_name(endpoint)
        .send()
        .await
        .map_err(|e| steward::aws_error::describe(&e))?;
    println!(
        "  SageMaker rolled back: {endpoint} serves {} again ({}); rollback verified it ({})",
        live.endpoint_config_name().unwrap_or("?"),
        live.endpoint_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        field(&verified, "outcome")
    );
    Ok((mid, endpoint.clone()))
}

/// The package's status and description in the registry, and the stewards' mail.
pub async fn rejected(run: &LocalRun, arn: &str, stewards: &[String]) -> Result<(), String> {
    let package = aws_sdk_sagemaker::Client::new(&run.sdk)
        .describe_model_package()
        .model_package_name(arn)
        .send()
        .await
        .map_err(|e| steward::aws_error::describe(&e))?;
    println!(
        "  registry: {} — {}",
        package
            .model_approval_status()
            .map(|s| s.as_str())
            .unwrap_or("?"),
        package.approval_description().unwrap_or("")
    );
    let mail = steward_twin::twin::TwinClient::new(run.endpoint())
        .get("mail")
        .await
        .map_err(|e| e.to_string())?;
    for m in mail["messages"].as_array().into_iter().flatten() {
        let to = m["to"].as_str().unwrap_or("");
        let subject = m["subject"].as_str().unwrap_or("");
        let about = arn.rsplit(':').next().unwrap_or(arn);
        if stewards.iter().any(|s| s == to)
            && (subject.contains(about) || m["body"].as_str().is_some_and(|b| b.contains(arn)))
        {
            println!("  mail to {to}: {subject}");
        }
    }
    Ok(())
}
