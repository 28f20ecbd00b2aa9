//! git-webhook: a Lambda Function URL that receives GitHub and GitLab push
//! webhooks, proves each came from the forge (HMAC signature or token, with the
//! secret from Secrets Manager), handles each delivery once, and announces a
//! verified push to a branch as a Steward `Git Push` event.

pub mod config;
pub mod error;
pub mod handler;
pub mod http;
pub mod secrets;

/// The request type, re-exported so callers (tests, tools) need not name the
/// events crate's feature.
pub use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlRequest;
pub use config::Config;
pub use error::WebhookError;
pub use handler::{handle, Context};
pub use http::Reply;
