//! The demo's epilogue: good models through the whole chain, and an alarm
//! after the bake. The drift retrain rolls out to staging, bakes, is approved
//! for prod by link, passes prod's canary and bakes there (last known good);
//! a second good model does the same; then prod's alarm fires after that bake
//! and rollback puts the last known good back, verified by what is live.

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{json, Value};
use steward::policy::Group;
use steward_twin::router::Delivery;
use steward_twin::LocalRun;

use super::demo_story::{field, Story};

const COMMENT: &str = "Retrained on fresh data: metrics hold.";

/// `retrained`: the model package the drift retrain registered.
pub async fn bake_then_alarm(
    run: &LocalRun,
    story: &Story<'_>,
    group: &Group,
    retrained: &str,
) -> Result<(), String> {
    let chain = super::demo_chain::endpoints(group);
    let (Some((first, _)), Some((prod, prod_endpoint))) = (chain.first(), chain.last()) else {
        return Err(format!("{} needs two SageMaker environments", group.name));
    };
    let alarm = group
        .environment(prod)
        .and_then(|e| e.alarms.first().cloned())
        .ok_or_else(|| format!("{prod} has no alarm"))?;
    let twin = steward_twin::twin::TwinClient::new(run.endpoint());
    // The 5XX alarm from the canary was fixed: back to OK before the next rollout.
    twin.post(
        "alarm",
        &json!({"name": alarm, "state": "OK", "reason": "the errors stopped"}),
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut clock = Utc::now();

    let good = promote(run, story, retrained, first, prod, &mut clock).await?;
    let second = second_model(run, story, group).await?;
    let newer = promote(run, story, &second, first, prod, &mut clock).await?;

    println!(
        "\n▶ After {}'s bake in {prod}: {alarm} goes to ALARM",
        short(&second)
    );
    let from = story.count();
    twin.post(
        "alarm",
        &json!({"name": alarm, "state": "ALARM", "reason": "5XX errors after the bake"}),
    )
    .await
    .map_err(|e| e.to_string())?;
    story
        .until_after(from, "rollback to the last known good", |d| {
            d.function == "rollback" && d.response.to_string().contains("rollback-started")
        })
        .await?;
    story
        .until_after(from, "the rollback rollout's end", |d| {
            d.function == "deploy"
                && flat(&d.response)
                    .iter()
                    .any(|o| o["result"] == "rolled-back")
        })
        .await?;
    story.recorded("Rollback Completed").await?;
    story.show();
    let live = aws_sdk_sagemaker::Client::new(&run.sdk)
        .describe_endpoint()
        .endpoint_name(prod_endpoint)
        .send()
        .await
        .map_err(|e| steward::aws_error::describe(&e))?;
    let live_config = live.endpoint_config_name().unwrap_or("?").to_string();
    println!(
        "  {prod_endpoint} serves {live_config} again ({}), the last known good ({}); {} is rejected",
        live.endpoint_status().map(|s| s.as_str()).unwrap_or("?"),
        short(retrained),
        short(&second)
    );
    if live_config != good {
        return Err(format!(
            "expected {prod_endpoint} back on {good} (not {newer}), it serves {live_config}"
        ));
    }
    super::demo_chain::rejected(run, &second, &group.stewards).await
}

/// Staging's rollout of `arn` to its end, the bake, the approval by link,
/// prod's canary to its end and prod's bake: `arn` is prod's last known good.
/// Prod's config for it.
async fn promote(
    run: &LocalRun,
    story: &Story<'_>,
    arn: &str,
    first: &str,
    prod: &str,
    clock: &mut DateTime<Utc>,
) -> Result<String, String> {
    let version = version_of(arn);
    println!(
        "\n▶ {} through the chain: {first} → bake → approval → {prod}'s canary → bake",
        short(arn)
    );
    finished(story, first, version).await?;
    println!("  {first}: live, smoke test passed");
    let from = story.count();
    tick(run, story, clock).await?;
    story
        .until_after(from, "request-approval asking for the promotion", |d| {
            d.function == "request-approval" && field(d, "model_package_arn") == arn
        })
        .await?;
    story.show();
    super::demo_approval::approve_from_mail(run, COMMENT).await?;
    let config = finished(story, prod, version).await?;
    println!("  {prod}: the canary ran its course with no alarm: {config} serves");
    tick(run, story, clock).await?;
    Ok(config)
}

/// The deploy delivery that ended `env`'s rollout of `version` as succeeded.
async fn finished(story: &Story<'_>, env: &str, version: u32) -> Result<String, String> {
    let marker = format!("-v{version}-");
    let done = story
        .until(&format!("{env}'s rollout of v{version}"), |d| {
            d.function == "deploy"
                && flat(&d.response).iter().any(|o| {
                    o["outcome"] == "finished"
                        && o["environment"] == env
                        && o["result"] == "succeeded"
                        && o["endpoint_config"]
                            .as_str()
                            .is_some_and(|c| c.contains(&marker))
                })
        })
        .await?;
    story.show();
    Ok(flat(&done.response)
        .iter()
        .find_map(|o| o["endpoint_config"].as_str().map(str::to_string))
        .unwrap_or_default())
}

/// The schedule fires deploy an hour after the last tick (every bake is
/// shorter): bakes without an alarm end.
async fn tick(run: &LocalRun, story: &Story<'_>, clock: &mut DateTime<Utc>) -> Result<(), String> {
    *clock = (*clock).max(Utc::now()) + Span::hours(1);
    let router = run.router.as_ref().ok_or("the router is not running")?;
    let delivered: Vec<Delivery> = router.tick("deploy", *clock).await;
    if delivered.is_empty() {
        return Err(format!(
            "the tick reached no deploy: {:?}",
            router.dead_letters()
        ));
    }
    println!(
        "  {}: the schedule fires deploy (DeployFunctionScheduleTick)",
        clock.format("%H:%M")
    );
    story.show();
    Ok(())
}

/// A second good model: the data scientist reruns the pipeline on the data
/// the retrain used; the gate approves it for the first environment.
async fn second_model(run: &LocalRun, story: &Story<'_>, group: &Group) -> Result<String, String> {
    let data = group.data.as_ref().ok_or("the group watches no data")?;
    // Everything under the prefix, as the drift retrain used: a model as
    // good as the champion (the gate checks it does not regress).
    let uri = format!("s3://{}/{}", data.bucket, data.prefix);
    println!(
        "\n▶ The data scientist reruns {} on all of {uri}: a second good model",
        group.pipeline.name
    );
    let parameter = |name: &str, value: &str| {
        aws_sdk_sagemaker::types::Parameter::builder()
            .name(name)
            .value(value)
            .build()
    };
    let sm = aws_sdk_sagemaker::Client::new(&run.sdk);
    let from = story.count();
    let execution = sm
        .start_pipeline_execution()
        .pipeline_name(&group.pipeline.name)
        .pipeline_parameters(parameter("InputDataUrl", &uri))
        .pipeline_parameters(parameter("DataVersion", "rerun"))
        .send()
        .await
        .map_err(|e| steward::aws_error::describe(&e))?
        .pipeline_execution_arn
        .ok_or("StartPipelineExecution returned no ARN")?;
    let status = super::demo::wait_for_execution(&sm, &execution).await?;
    if status != "Succeeded" {
        return Err(format!("the rerun ended {status}"));
    }
    let gated = story
        .until_after(from, "the gate's answer to the rerun's model", |d| {
            d.function == "request-approval"
                && d.rule.contains("ModelPackageRegistered")
                && !field(d, "model_package_arn").is_empty()
        })
        .await?;
    story.show();
    if field(&gated, "outcome") != "approved-by-policy" {
        return Err(format!("the gate answered {}", gated.response));
    }
    let arn = gated.response["model_package_arn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    println!(
        "  registered {} — the gate approves it for staging",
        short(&arn)
    );
    Ok(arn)
}

/// A deploy answer and the answers nested in `several`.
fn flat(response: &Value) -> Vec<&Value> {
    match response["outcomes"].as_array() {
        Some(all) => all.iter().flat_map(flat).collect(),
        None => vec![response],
    }
}

fn version_of(arn: &str) -> u32 {
    arn.rsplit('/')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn short(arn: &str) -> &str {
    arn.split(":model-package/").nth(1).unwrap_or(arn)
}
