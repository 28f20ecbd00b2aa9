//! `steward`: the operator's CLI.

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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
