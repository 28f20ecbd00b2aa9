//! publish-policy: a push to the policy's branch that changes `steward.toml`
//! fetches the file at the pushed commit (CodeCommit, GitHub or GitLab),
//! validates it, and publishes it as the policy parameter's next version,
//! labelled with the commit, keeping the stewards' mail subscriptions in step;
//! an invalid policy is rejected with its errors, recorded in the ledger and
//! mailed to the stewards, and the policy in force stays.

pub mod config;
pub mod error;
pub mod fetch;
pub mod handler;
pub mod http;

pub use config::Config;
pub use error::PublishPolicyError;
pub use handler::{handle, Context, Outcome};
