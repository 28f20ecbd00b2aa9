use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlRequest;
use git_webhook::{handler, Config, Context};
use lambda_runtime::{service_fn, LambdaEvent};
use steward::config::FromEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward::logging::init_json_logs();
    let config = Config::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // Clients and the secret are read once per cold start, not per delivery.
    let ctx = Context::connect(&aws, &config).await?;
    let ctx = &ctx;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| async move {
            handler::run(ctx, event.payload).await
        },
    ))
    .await
}
