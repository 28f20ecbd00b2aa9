//! `steward`: the operator's CLI.

mod build;
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
    /// Start a build of a model group through start-build (same retrain guard,
    /// same ledger); --force passes the guard.
    Build {
        /// The model package group (a `[groups.<name>]` of the policy).
        group: String,
        /// Pass the retrain guard (cooldown, daily cap, a run in flight).
        #[arg(long)]
        force: bool,
        /// Talk to this endpoint instead of AWS (the local twin).
        #[arg(long)]
        endpoint_url: Option<String>,
        /// Who asks, for the ledger (default: $USER).
        #[arg(long)]
        requested_by: Option<String>,
    },
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
    /// Start moto, the twin, the router and `cargo lambda watch`, provision the
    /// stack, and keep it all running until Ctrl-C (or `steward local down`).
    Up {
        #[arg(long, default_value = "examples/steward.toml")]
        policy: PathBuf,
        /// Where `cargo lambda watch` serves the functions.
        #[arg(long, default_value_t = 9000)]
        invoke_port: u16,
        /// Simulated seconds per real second (rollouts, waits, retries).
        #[arg(long, default_value_t = 60.0)]
        time_scale: f64,
    },
    /// Stop what `steward local up` started.
    Down,
    /// What is running, where, and what has happened so far.
    Status,
    /// Set a CloudWatch alarm's state (emits `CloudWatch Alarm State Change`).
    Alarm {
        name: String,
        #[arg(value_parser = ["ALARM", "OK", "INSUFFICIENT_DATA"])]
        state: String,
        #[arg(long, default_value = "set by steward local alarm")]
        reason: String,
    },
    /// The emails Steward sent (captured locally), newest last, with their links.
    Mail {
        /// How many of the latest messages to show.
        #[arg(long, default_value_t = 5)]
        last: usize,
    },
    /// The AWS events the twin emitted, and the router's deliveries.
    Events,
    /// The story so far, told as it happens: data lands, its marker starts one
    /// pipeline run, the example training registers a model, pending approval.
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
        Command::Local(LocalCommand::Up {
            policy,
            invoke_port,
            time_scale,
        }) => local::up(&policy, invoke_port, time_scale).await,
        Command::Local(LocalCommand::Down) => local::down(),
        Command::Local(LocalCommand::Status) => local::status().await,
        Command::Local(LocalCommand::Alarm {
            name,
            state,
            reason,
        }) => local::alarm(&name, &state, &reason).await,
        Command::Local(LocalCommand::Mail { last }) => local::mail(last).await,
        Command::Local(LocalCommand::Events) => local::events().await,
        Command::Local(LocalCommand::Demo { policy }) => local::demo(&policy).await,
        Command::Build {
            group,
            force,
            endpoint_url,
            requested_by,
        } => {
            build::build(&build::BuildArgs {
                group: &group,
                force,
                endpoint_url: endpoint_url.as_deref(),
                requested_by: requested_by.as_deref(),
            })
            .await
        }
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
