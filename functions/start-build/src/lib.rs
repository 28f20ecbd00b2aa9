//! start-build: every way a build starts (new data in S3, by marker or after a
//! quiet window, a git push, the schedule, drift, an operator) becomes at most
//! one SageMaker pipeline execution, passed through the retrain guard, carrying
//! its lineage, recorded in the ledger and announced as a `Build Started`
//! event. The runs' status changes are recorded too, and a failed run is
//! mailed to the group's stewards (`outcome`).

pub mod config;
pub mod error;
pub mod guard;
pub mod handler;
pub mod outcome;
pub mod quiet;
pub mod schedule;
pub mod start;

pub use config::Config;
pub use error::StartBuildError;
pub use handler::{handle, Context, Outcome};
