//! start-build: new data in S3 starts exactly one SageMaker pipeline execution,
//! carrying its lineage (data version, trigger), recorded in the ledger and
//! announced as a `Build Started` event.

pub mod config;
pub mod error;
pub mod handler;

pub use config::Config;
pub use error::StartBuildError;
pub use handler::{handle, Context, Outcome};
