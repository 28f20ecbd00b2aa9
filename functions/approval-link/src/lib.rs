//! approval-link: a Lambda Function URL behind the link in an approval email.
//! GET shows the review page (the model, its metrics against thresholds and
//! the champion, the gate's checks, lineage, the link's expiry) and changes
//! nothing; POST of the page's form verifies the signed token again and makes
//! the decision, once, through `steward::approval::decision`.

pub mod config;
pub mod error;
pub mod evidence;
pub mod handler;
pub mod http;
pub mod keys;
pub mod page;
pub mod review;

/// The request type, re-exported so callers (tests, tools) need not name the
/// events crate's feature.
pub use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
pub use config::Config;
pub use error::LinkError;
pub use handler::{handle, run, Context};
pub use http::Reply;
pub use keys::Keys;
