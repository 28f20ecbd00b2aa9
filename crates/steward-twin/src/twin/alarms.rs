//! Twin module `alarms`: not yet implemented; every request goes to moto.

use super::{AwsRequest, Ctx, Reply};

pub async fn route(_ctx: &Ctx, _req: &AwsRequest) -> Option<Reply> {
    None
}
