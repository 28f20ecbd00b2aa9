//! smoke-test-hook: CodeDeploy calls it (BeforeAllowTraffic) before a Lambda
//! alias takes traffic on a new version; it replays the environment's smoke
//! test against that version and reports Succeeded or Failed to CodeDeploy,
//! once per hook execution however often it is invoked.

pub mod config;
pub mod error;
pub mod handler;
pub mod invoke;

pub use config::Config;
pub use error::HookError;
pub use handler::{handle, Context, Outcome};
pub use invoke::{InvokeVersion, LambdaVersions};
