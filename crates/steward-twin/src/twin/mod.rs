//! The twin: an HTTP service on a loopback port that every SDK client in a local
//! run uses as its endpoint. It forwards each request to moto server and adds
//! what moto lacks (events AWS emits, idempotency tokens, rollouts, …).
//!
//! Each gap is a module with a `route` function: given a request it either
//! answers it (possibly after consulting moto) or returns `None`, and the
//! request goes to moto unchanged. Modules keep their own state in the
//! [`Ctx`]'s type map, so they do not depend on each other.

mod admin;
mod client;
mod ctx;
mod emit;
mod faults;
mod forward;
mod request;
mod server;

pub mod alarms;
pub mod codedeploy;
pub mod endpoints;
pub mod git;
pub mod mail;
pub mod pipelines;
pub mod registry;

pub use client::{AdminError, TwinClient};
pub use ctx::{Clock, Ctx};
pub use emit::EmittedEvent;
pub use faults::{FaultPlan, FaultRule, Faults};
pub use request::{AwsRequest, Reply};
pub use server::{Twin, TwinConfig, TwinError};

/// Offer the request to each gap-closing module in turn; `None` means "moto".
async fn route(ctx: &Ctx, req: &AwsRequest) -> Option<Reply> {
    if let Some(reply) = git::route(ctx, req).await {
        return Some(reply);
    }
    if let Some(reply) = registry::route(ctx, req).await {
        return Some(reply);
    }
    if let Some(reply) = pipelines::route(ctx, req).await {
        return Some(reply);
    }
    if let Some(reply) = endpoints::route(ctx, req).await {
        return Some(reply);
    }
    if let Some(reply) = alarms::route(ctx, req).await {
        return Some(reply);
    }
    if let Some(reply) = codedeploy::route(ctx, req).await {
        return Some(reply);
    }
    mail::route(ctx, req).await
}
