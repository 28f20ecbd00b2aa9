use lambda_runtime::{service_fn, LambdaEvent};
use request_approval::{handler, Config, Context};
use serde_json::Value;
use steward::config::FromEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward::logging::init_json_logs();
    let config = Config::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // Clients, the policy and the signing key are read once per cold start.
    let ctx = Context::connect(&aws, &config).await?;
    let ctx = &ctx;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::run(ctx, event.payload).await
    }))
    .await
}
