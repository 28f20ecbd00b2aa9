//! Steward's domain: the events it reacts to and emits, the policy kept in git,
//! the ledger that remembers every step, and the names that make retries safe.
//!
//! Decision logic here never sees an AWS SDK type; the adapters that talk to AWS
//! (`ledger::dynamo`, `publish`) are thin and live beside the ports they implement.

pub mod approval;
pub mod audit;
pub mod aws_error;
pub mod build;
pub mod config;
pub mod deploy;
pub mod events;
pub mod gate;
pub mod guard;
pub mod ledger;
pub mod logging;
pub mod naming;
pub mod notify;
pub mod policy;
pub mod policy_store;
pub mod publish;
pub mod secrets;
pub mod webhook;
