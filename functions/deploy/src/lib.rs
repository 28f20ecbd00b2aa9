//! deploy: an approved model package (or a promotion) rolls out to its
//! environment blue/green, exactly once however often the event arrives;
//! endpoint events and the schedule tick decide, from what `DescribeEndpoint`
//! shows live, how the rollout ended; a bake without an alarm makes the model
//! known good and promotes it along the chain.

pub mod bake;
pub mod complete;
pub mod config;
pub mod error;
pub mod handler;
pub mod lambda_complete;
pub mod lambda_rollout;
pub mod lambda_serving;
pub mod manual;
pub mod rollout;
pub mod smoke;
pub mod smoke_failed;

pub use config::{Config, LambdaTargets};
pub use error::DeployError;
pub use handler::{handle, Context, Outcome};
