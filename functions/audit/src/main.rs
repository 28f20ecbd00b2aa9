use audit::{handler, Config, Context};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use steward::config::FromEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward::logging::init_json_logs();
    let config = Config::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // One client per cold start, not per event.
    let ctx = Context::connect(&aws, &config);
    let ctx = &ctx;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::run(ctx, event.payload).await
    }))
    .await
}
