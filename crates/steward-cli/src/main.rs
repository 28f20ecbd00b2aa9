//! `steward`: the operator's CLI.

mod events;
mod local;
mod policy;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "steward",
    version,
    about = "Steward: GitOps control plane for ML models on AWS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with the policy file (steward.toml).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run Steward on this machine, against the AWS emulator.
    #[command(subcommand)]
    Local(LocalCommand),
    /// Work with events and the rules of template.yaml.
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Which rules of template.yaml match an event, and which functions receive it.
    Route {
        /// The event, as EventBridge delivers it (e.g. events/s3-object-created.json).
        event: PathBuf,
        /// A template parameter, NAME=VALUE (lists comma-separated); repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        #[arg(long, default_value = "template.yaml")]
        template: PathBuf,
        /// Only rules on this bus (default: rules on any bus).
        #[arg(long)]
        bus: Option<String>,
        /// Print JSON for machines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate a policy file; every problem is listed with its field.
    Check {
        #[arg(default_value = "steward.toml")]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum LocalCommand {
    /// Start the emulator, provision the stack and keep it running until Ctrl-C;
    /// writes the functions' environment to .local/env for `cargo lambda watch`.
    Up {
        #[arg(long, default_value = "examples/steward.toml")]
        policy: PathBuf,
    },
    /// The story so far: data lands in S3, its marker starts one pipeline run.
    Demo {
        #[arg(long, default_value = "examples/steward.toml")]
        policy: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::var_os("RUST_LOG").is_some() {
        steward::logging::init_json_logs();
    }
    let result = match Cli::parse().command {
        Command::Policy(PolicyCommand::Check { file }) => policy::check(&file),
        Command::Local(LocalCommand::Up { policy }) => local::up(&policy).await,
        Command::Local(LocalCommand::Demo { policy }) => local::demo(&policy).await,
        Command::Events(EventsCommand::Route {
            event,
            params,
            template,
            bus,
            json,
        }) => events::route(&events::RouteArgs {
            event: &event,
            template: &template,
            params: &params,
            bus: bus.as_deref(),
            json,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
