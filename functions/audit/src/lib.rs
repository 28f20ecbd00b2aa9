//! audit: every Steward event and every AWS lifecycle event (pipeline
//! execution, model package, endpoint, CodeDeploy, alarm) becomes one
//! append-only record in the ledger, filed under each subject it names
//! (see `steward::audit`). A redelivered or replayed event writes nothing new.

pub mod config;
pub mod error;
pub mod handler;

pub use config::Config;
pub use error::AuditFunctionError;
pub use handler::{handle, Context, Outcome};
