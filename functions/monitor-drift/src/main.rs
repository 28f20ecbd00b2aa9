use lambda_runtime::{service_fn, LambdaEvent};
use monitor_drift::{handler, Config, Context};
use serde_json::Value;
use steward::config::FromEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward::logging::init_json_logs();
    let config = Config::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // Path-style addressing when an endpoint override (the local twin) is set.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws)
            .force_path_style(std::env::var_os("AWS_ENDPOINT_URL").is_some())
            .build(),
    );
    // Clients and the policy are made once per cold start, not per event.
    let ctx = Context::connect(&aws, s3, &config).await?;
    let ctx = &ctx;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::run(ctx, event.payload).await
    }))
    .await
}
