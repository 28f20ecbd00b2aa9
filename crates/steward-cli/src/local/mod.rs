//! `steward local …`: Steward on this machine, against the AWS emulator.

mod demo;
mod up;

pub use demo::demo;
pub use up::up;

use std::path::Path;

use steward_twin::{local_sdk_config, Emulator, Stack, StackSpec};

/// Start the emulator and provision the stack for a policy file.
async fn start(policy: &Path) -> Result<(Emulator, Stack), String> {
    let text = std::fs::read_to_string(policy)
        .map_err(|e| format!("cannot read the policy {}: {e}", policy.display()))?;
    let emulator = Emulator::start().map_err(|e| e.to_string())?;
    let sdk = local_sdk_config(&emulator.endpoint()).await;
    let stack = Stack::provision(&sdk, StackSpec::new(text))
        .await
        .map_err(|e| e.to_string())?;
    Ok((emulator, stack))
}
