//! `steward local …`: Steward on this machine, against the AWS emulator and
//! the twin. `up` records where everything runs in `.local/` (git-ignored:
//! `cargo lambda watch` rebuilds on any change in the tree), and the other
//! commands read it from there.

mod admin;
mod demo;
mod demo_approval;
mod demo_audit;
mod demo_bake;
mod demo_chain;
mod demo_drift;
mod demo_functions;
mod demo_story;
mod demo_triggers;
mod up;

pub use admin::{alarm, events, mail, status};
pub use demo::demo;
pub use up::{down, up};

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The git-ignored folder for the local stack's state and logs.
pub fn state_dir() -> PathBuf {
    PathBuf::from(".local")
}

fn read_policy(policy: &Path) -> Result<String, String> {
    std::fs::read_to_string(policy)
        .map_err(|e| format!("cannot read the policy {}: {e}", policy.display()))
}

/// What `steward local up` wrote about the running stack.
fn running() -> Result<Value, String> {
    let path = state_dir().join("endpoints.json");
    let text = std::fs::read_to_string(&path).map_err(|_| {
        "no local stack is running here (no .local/endpoints.json): start one with `steward local up`"
            .to_string()
    })?;
    serde_json::from_str(&text).map_err(|e| format!("{} is unreadable: {e}", path.display()))
}

fn twin_client() -> Result<steward_twin::twin::TwinClient, String> {
    let running = running()?;
    let twin = running["twin"]
        .as_str()
        .ok_or(".local/endpoints.json names no twin endpoint")?;
    Ok(steward_twin::twin::TwinClient::new(twin))
}
