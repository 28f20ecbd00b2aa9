//! JSON logs for every function and tool, so CloudWatch Logs Insights can query
//! `error_type`, `correlation_id` and friends as fields.

use tracing_subscriber::EnvFilter;

/// Initialise JSON logging once; `RUST_LOG` sets the level (default `info`).
/// Safe to call twice: a second call is ignored (tests and the CLI share a process).
pub fn init_json_logs() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .with_current_span(false)
        .flatten_event(true)
        .with_ansi(false)
        .try_init();
}
