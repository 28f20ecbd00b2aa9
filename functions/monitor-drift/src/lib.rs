//! monitor-drift: on the schedule, each endpoint the policy monitors has its
//! last window of captured requests streamed from S3 and compared with its
//! baseline (crate `steward-drift`); scores go to CloudWatch as Embedded Metric
//! Format log lines, the result to the ledger (once per endpoint and window), and
//! drift becomes a `Drift Detected` event, which start-build turns into at most
//! one retrain.

pub mod body;
pub mod config;
pub mod emf;
pub mod error;
pub mod event;
pub mod handler;
pub mod store;
pub mod window;

pub use config::Config;
pub use error::MonitorDriftError;
pub use handler::{handle, Check, Context, Outcome};
