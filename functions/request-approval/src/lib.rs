//! request-approval: a model package registered `PendingManualApproval` for a
//! group the policy manages goes through the gate (its model-quality metrics
//! against thresholds, the champion and required metrics). A failure rejects
//! the package with the reasons and tells the stewards; a pass asks each
//! approver of the first environment by email with a signed link, or approves
//! by policy (`approval = "auto"` or `"none"`). On the schedule tick, open
//! requests are reminded once at half their lifetime and lapse at expiry.

pub mod champion;
pub mod config;
pub mod error;
pub mod gate;
pub mod handler;
pub mod lineage;
pub mod metrics;
pub mod promotion;
pub mod registry;
pub mod resend;

pub use config::Config;
pub use error::RequestApprovalError;
pub use handler::{handle, Context, Outcome};
