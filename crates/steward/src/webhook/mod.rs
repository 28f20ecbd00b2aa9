//! Git push webhooks from GitHub and GitLab: proving a delivery came from the
//! forge ([`github::verify_signature`], [`gitlab::verify_token`]), reading the
//! push ([`github::parse_push`], [`gitlab::parse_push`]) and the `Git Push`
//! event it becomes ([`GitPush`]).
//!
//! Pure: no HTTP, no AWS. The `git-webhook` function wires these to a Lambda
//! Function URL, the ledger and the `steward` bus.

mod event;
pub mod github;
pub mod gitlab;
mod push;
mod secret;

pub use event::{delivery_key, GitPush, ANY_GROUP};
pub use push::{Provider, Push, PushError};
pub use secret::{SecretError, Secrets};

/// The largest body accepted. GitHub caps push payloads at 25 MB but trims the
/// commit list long before that; a push webhook over 1 MiB is not one we need,
/// and refusing it early bounds the work an unauthenticated caller can cause.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
