//! rollback: a CloudWatch alarm on an environment. During a rollout SageMaker
//! or CodeDeploy rolls back by itself (Steward stops a CodeDeploy deployment
//! that did not stop) and Steward verifies and records it; after it, Steward
//! rolls back to the last known good model (all at once, verified by the deploy
//! function from what is live). Either way the bad model package is rejected
//! with the alarm as the reason and the stewards are told, once.

pub mod alias;
mod alias_rollback;
pub mod config;
pub mod error;
pub mod handler;
pub mod respond;

pub use config::Config;
pub use error::RollbackError;
pub use handler::{handle, Context, Outcome};
