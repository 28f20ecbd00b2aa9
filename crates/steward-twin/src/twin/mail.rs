//! Twin module `mail`: SNS email subscriptions deliver nowhere locally, so
//! published messages are captured for `steward local mail` (not yet: every
//! request goes to moto, and no message is captured).

use serde_json::Value;

use super::{AwsRequest, Ctx, Reply};

pub async fn route(_ctx: &Ctx, _req: &AwsRequest) -> Option<Reply> {
    None
}

/// Captured messages, oldest first.
pub fn messages(_ctx: &Ctx) -> Vec<Value> {
    Vec::new()
}
