//! `steward`: the operator's CLI.

mod approval;
mod approve;
mod aws_args;
mod baseline;
mod build;
mod events;
mod history;
mod lineage;
mod local;
mod policy;
mod render;
mod replay;
mod rollout;
mod served;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use steward::approval::decision::Verdict;

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
    /// The training data's per-feature distributions (the drift monitor's
    /// baseline): numerical features binned at quantiles (or fixed widths),
    /// categorical ones counted.
    Baseline {
        /// Training data: CSV with a header, or JSON lines (.jsonl) of objects.
        data: PathBuf,
        #[arg(long, default_value = "baseline.json")]
        out: PathBuf,
        /// The model's input columns, in request order (comma-separated);
        /// default: every column not excluded.
        #[arg(long, value_delimiter = ',')]
        features: Vec<String>,
        /// Columns that are not inputs (label, ids), comma-separated.
        #[arg(long, value_delimiter = ',')]
        exclude: Vec<String>,
        /// Columns to count as categories even if numeric, comma-separated.
        #[arg(long, value_delimiter = ',')]
        categorical: Vec<String>,
        #[arg(long, default_value = "quantile", value_parser = ["quantile", "fixed"])]
        binning: String,
        #[arg(long, default_value_t = 10)]
        bins: usize,
    },
    /// Approve a model package pending approval, as yourself (your AWS
    /// identity is recorded as the approver, channel cli).
    Approve(DecideCli),
    /// Reject a model package pending approval, as yourself.
    Reject(DecideCli),
    /// Approval requests.
    #[command(subcommand)]
    Approval(ApprovalCommand),
    /// Per group and environment: what serves, what is rolling out, pending
    /// approvals, the last build and its trigger (from the audit ledger).
    Status(status::StatusArgs),
    /// The whole timeline of one model: data, commit, build, gate, approvals,
    /// deployments, rollbacks, drift.
    Lineage(lineage::LineageArgs),
    /// A group's (or one environment's) events in time order, a page at a time.
    History(history::HistoryArgs),
    /// Which model an endpoint served at an instant, who approved it, on what evidence.
    Served(served::ServedArgs),
    /// Replay the steward bus archive (StartReplay) and report its progress.
    Replay(replay::ReplayArgs),
    /// Roll an approved model package out to one environment (blue/green, the
    /// environment's strategy), through the deploy function's own path.
    Deploy {
        model_package_arn: String,
        #[arg(long = "env")]
        environment: String,
        /// Talk to this endpoint instead of AWS (the local twin).
        #[arg(long)]
        endpoint_url: Option<String>,
    },
    /// Roll an environment back to its last known good model now; the serving
    /// package is rejected with the reason and the stewards are told.
    Rollback {
        group: String,
        #[arg(long = "env")]
        environment: String,
        #[arg(long)]
        reason: String,
        /// Talk to this endpoint instead of AWS (the local twin).
        #[arg(long)]
        endpoint_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum ApprovalCommand {
    /// Mail the approvers new links for a model package still pending
    /// approval (after its request lapsed), with the evidence of its gate.
    Resend {
        /// The model package's ARN.
        model_package_arn: String,
        /// Talk to this endpoint instead of AWS (the local twin).
        #[arg(long)]
        endpoint_url: Option<String>,
        /// The approval-link function's URL (default: $STEWARD_APPROVAL_URL).
        #[arg(long)]
        approval_url: Option<String>,
        /// The notifications topic ARN (default: $STEWARD_NOTIFICATIONS_TOPIC).
        #[arg(long)]
        notifications_topic: Option<String>,
    },
}

#[derive(clap::Args)]
struct DecideCli {
    /// The model package's ARN.
    model_package_arn: String,
    /// Why; kept with the decision in the registry and the ledger.
    #[arg(long)]
    comment: Option<String>,
    /// The environment approved for (default: the one its approval requests name).
    #[arg(long = "env")]
    environment: Option<String>,
    /// Talk to this endpoint instead of AWS (the local twin).
    #[arg(long)]
    endpoint_url: Option<String>,
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

async fn decide(verdict: Verdict, args: &DecideCli) -> Result<(), String> {
    approve::decide(&approve::DecideArgs {
        verdict,
        model_package_arn: &args.model_package_arn,
        comment: args.comment.as_deref(),
        environment: args.environment.as_deref(),
        endpoint_url: args.endpoint_url.as_deref(),
    })
    .await
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
        Command::Baseline {
            data,
            out,
            features,
            exclude,
            categorical,
            binning,
            bins,
        } => baseline::baseline(&baseline::BaselineArgs {
            data: &data,
            out: &out,
            features: &features,
            exclude: &exclude,
            categorical: &categorical,
            binning: &binning,
            bins,
        }),
        Command::Approve(args) => decide(Verdict::Approve, &args).await,
        Command::Reject(args) => decide(Verdict::Reject, &args).await,
        Command::Approval(ApprovalCommand::Resend {
            model_package_arn,
            endpoint_url,
            approval_url,
            notifications_topic,
        }) => {
            approval::resend(&approval::ResendArgs {
                model_package_arn: &model_package_arn,
                endpoint_url: endpoint_url.as_deref(),
                approval_url: approval_url.as_deref(),
                notifications_topic: notifications_topic.as_deref(),
            })
            .await
        }
        Command::Status(args) => status::run(&args).await,
        Command::Lineage(args) => lineage::run(&args).await,
        Command::History(args) => history::run(&args).await,
        Command::Served(args) => served::run(&args).await,
        Command::Replay(args) => replay::run(&args).await,
        Command::Deploy {
            model_package_arn,
            environment,
            endpoint_url,
        } => {
            rollout::deploy(&rollout::DeployArgs {
                model_package_arn: &model_package_arn,
                environment: &environment,
                endpoint_url: endpoint_url.as_deref(),
            })
            .await
        }
        Command::Rollback {
            group,
            environment,
            reason,
            endpoint_url,
        } => {
            rollout::rollback(&rollout::RollbackArgs {
                group: &group,
                environment: &environment,
                reason: &reason,
                endpoint_url: endpoint_url.as_deref(),
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
