//! `steward build <group> [--force]`: a manual build through the same path as
//! every other trigger (start-build's handler: same guard, same ledger), run
//! from the operator's machine with their AWS credentials.

use chrono::Utc;
use start_build::{Config, Context, Outcome};
use steward::build::BuildRequested;
use steward::config::FromEnv;

pub struct BuildArgs<'a> {
    pub group: &'a str,
    pub force: bool,
    pub endpoint_url: Option<&'a str>,
    pub requested_by: Option<&'a str>,
}

pub async fn build(args: &BuildArgs<'_>) -> Result<(), String> {
    let aws = match args.endpoint_url {
        Some(endpoint) => steward_twin::local_sdk_config(endpoint).await,
        None => aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
    };
    let config = config()?;
    let ctx = Context::connect(&aws, &config)
        .await
        .map_err(|e| format!("could not load the published policy: {e}"))?;
    let now = Utc::now();
    let requested_by = args
        .requested_by
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok());
    let request = BuildRequested {
        model_package_group: args.group.to_string(),
        force: args.force,
        requested_by,
    };
    // One id per invocation: running the command twice asks for two builds.
    let id = format!("cli-{}-{}", now.timestamp_millis(), std::process::id());
    let outcome = start_build::handler::run(&ctx, request.event(&id, now))
        .await
        .map_err(|e| format!("{} ({})", e, e.error_type()))?;
    println!("{}", describe(&outcome));
    match outcome {
        Outcome::Started(_) | Outcome::AlreadyStarted(_) => Ok(()),
        Outcome::Suppressed { .. } => {
            Err("the retrain guard held the build back; add --force to build anyway".into())
        }
        Outcome::Ignored { reason } => Err(reason),
        Outcome::Several { .. } | Outcome::Debounced { .. } | Outcome::StatusRecorded { .. } => {
            Ok(())
        }
    }
}

/// The stack's names from the functions' environment variables, defaulting to
/// the names the template and the local stack use.
fn config() -> Result<Config, String> {
    Config::from_lookup(|name| {
        std::env::var(name).ok().or_else(|| {
            match name {
                "STEWARD_LEDGER_TABLE" => Some("steward-ledger"),
                "STEWARD_EVENT_BUS" => Some("steward"),
                "STEWARD_POLICY_PARAMETER" => Some("/steward/policy"),
                _ => None,
            }
            .map(str::to_string)
        })
    })
    .map_err(|e| e.to_string())
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Started(s) => format!(
            "started {} for {}: {}\ncause: {}",
            s.pipeline_name, s.group, s.pipeline_execution_arn, s.cause
        ),
        Outcome::AlreadyStarted(s) => format!("already started: {}", s.pipeline_execution_arn),
        Outcome::Ignored { reason } => format!("nothing to build: {reason}"),
        Outcome::Debounced {
            group,
            key,
            quiet_until,
            ..
        } => {
            format!("{key} recorded in {group}'s quiet period; builds once quiet at {quiet_until}")
        }
        Outcome::Suppressed { group, reason, .. } => {
            format!("suppressed ({group}), recorded in the ledger: {reason}")
        }
        Outcome::StatusRecorded {
            pipeline_execution_arn,
            status,
            ..
        } => format!("{pipeline_execution_arn}: {status}, recorded"),
        Outcome::Several { outcomes } => {
            outcomes.iter().map(describe).collect::<Vec<_>>().join("\n")
        }
    }
}
