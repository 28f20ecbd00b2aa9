//! `steward replay --from … --to … [--detail-type …]`: replays the `steward`
//! bus archive (`StartReplay`) and reports progress until it ends.
//!
//! EventBridge filters a replay by rule (`Destination.FilterArns`), not by
//! detail-type. By default the replay goes only to the audit function's rule
//! (so nothing but the ledger sees it again, and the ledger writes nothing it
//! already has); `--detail-type` picks the rules on the bus that react to
//! those detail-types instead, and `--rule` names rules outright.

use std::time::Duration;

use aws_sdk_eventbridge::primitives::DateTime as AwsTime;
use aws_sdk_eventbridge::types::{ReplayDestination, ReplayState};
use aws_sdk_eventbridge::Client;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use steward_twin::router::Pattern;

use crate::aws_args::AwsArgs;
use crate::render::{self, time};

/// How often progress is polled.
const POLL: Duration = Duration::from_secs(2);

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// Replay events from this time (RFC 3339, the events' own time).
    #[arg(long)]
    pub from: String,
    /// Up to this time (RFC 3339).
    #[arg(long)]
    pub to: String,
    /// Replay to the rules that react to this detail-type (repeatable).
    #[arg(long = "detail-type")]
    pub detail_types: Vec<String>,
    /// Replay to this rule of the bus (name; repeatable). Default: the audit rule.
    #[arg(long = "rule")]
    pub rules: Vec<String>,
    /// The archive (default: the one archiving the bus).
    #[arg(long)]
    pub archive: Option<String>,
    #[arg(long, default_value = "steward")]
    pub bus: String,
    /// The replay's name (default: steward-replay-<now>).
    #[arg(long)]
    pub name: Option<String>,
    /// Start it and return, without waiting for it to finish.
    #[arg(long)]
    pub no_wait: bool,
    /// Print JSON for machines.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

fn err(what: &str) -> impl Fn(aws_sdk_eventbridge::Error) -> String + '_ {
    move |e| format!("{what} failed: {}", steward::aws_error::describe(&e))
}

pub async fn run(args: &ReplayArgs) -> Result<(), String> {
    let from = render::parse_time(&args.from)?;
    let to = render::parse_time(&args.to)?;
    if from >= to {
        return Err("--from must be before --to".into());
    }
    let sdk = args.aws.sdk().await;
    let events = Client::new(&sdk);
    let bus_arn = events
        .describe_event_bus()
        .name(&args.bus)
        .send()
        .await
        .map_err(|e| err("DescribeEventBus")(e.into()))?
        .arn
        .ok_or("DescribeEventBus returned no ARN")?;
    let archive = match &args.archive {
        Some(name) => name.clone(),
        None => archive_of(&events, &bus_arn).await?,
    };
    let archive_arn = events
        .describe_archive()
        .archive_name(&archive)
        .send()
        .await
        .map_err(|e| err("DescribeArchive")(e.into()))?
        .archive_arn
        .ok_or("DescribeArchive returned no ARN")?;
    let rules = chosen_rules(&events, args).await?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("steward-replay-{}", Utc::now().format("%Y%m%dT%H%M%S")));
    let mut destination = ReplayDestination::builder().arn(&bus_arn);
    for (_, arn) in &rules {
        destination = destination.filter_arns(arn);
    }
    events
        .start_replay()
        .replay_name(&name)
        .event_source_arn(&archive_arn)
        .event_start_time(aws_time(from))
        .event_end_time(aws_time(to))
        .destination(destination.build().map_err(|e| e.to_string())?)
        .description(format!("steward replay {} .. {}", time(from), time(to)))
        .send()
        .await
        .map_err(|e| err("StartReplay")(e.into()))?;
    if !args.json {
        println!(
            "replay {name}: archive {archive}, {} .. {}, to {}",
            time(from),
            time(to),
            rules
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    loop {
        let state = events
            .describe_replay()
            .replay_name(&name)
            .send()
            .await
            .map_err(|e| err("DescribeReplay")(e.into()))?;
        let current = state.state.clone();
        let last = state
            .event_last_replayed_time
            .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
        let done = matches!(
            current,
            Some(ReplayState::Completed | ReplayState::Cancelled | ReplayState::Failed)
        );
        if args.json && (done || args.no_wait) {
            return render::print_json(&json!({
                "replayName": name,
                "archive": archive,
                "from": from,
                "to": to,
                "rules": rules.iter().map(|(n, _)| n).collect::<Vec<_>>(),
                "state": current.as_ref().map(|s| s.as_str()),
                "stateReason": state.state_reason,
                "eventLastReplayedTime": last,
            }));
        }
        if !args.json {
            println!(
                "  {} {}{}",
                current.as_ref().map_or("?", |s| s.as_str()),
                match current {
                    Some(ReplayState::Completed) => "100%".to_string(),
                    _ => progress(from, to, last),
                },
                state
                    .state_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
        }
        if done || args.no_wait {
            return match current {
                Some(ReplayState::Failed) => Err(format!("replay {name} failed")),
                _ => Ok(()),
            };
        }
        tokio::time::sleep(POLL).await;
    }
}

/// How far through the window the replay is, by the last event's time.
pub fn progress(from: DateTime<Utc>, to: DateTime<Utc>, last: Option<DateTime<Utc>>) -> String {
    match last {
        None => "0%".into(),
        Some(last) => {
            let total = (to - from).num_seconds().max(1) as f64;
            let done = (last - from).num_seconds().clamp(0, total as i64) as f64;
            format!("{:.0}% (up to {})", 100.0 * done / total, time(last))
        }
    }
}

fn aws_time(at: DateTime<Utc>) -> AwsTime {
    AwsTime::from_secs(at.timestamp())
}

/// The archive whose source is the bus.
async fn archive_of(events: &Client, bus_arn: &str) -> Result<String, String> {
    let out = events
        .list_archives()
        .event_source_arn(bus_arn)
        .send()
        .await
        .map_err(|e| err("ListArchives")(e.into()))?;
    out.archives()
        .iter()
        .find_map(|a| a.archive_name.clone())
        .ok_or_else(|| format!("no archive of {bus_arn}; name one with --archive"))
}

/// A rule on the bus, as ListRules describes it.
#[derive(Debug, Clone)]
pub struct BusRule {
    pub name: String,
    pub arn: String,
    pub pattern: Option<String>,
}

/// The rules the replay goes to, by name and ARN.
async fn chosen_rules(events: &Client, args: &ReplayArgs) -> Result<Vec<(String, String)>, String> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let out = events
            .list_rules()
            .event_bus_name(&args.bus)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| err("ListRules")(e.into()))?;
        // Rules EventBridge manages (the archive's own) are not replay targets.
        for rule in out.rules().iter().filter(|r| r.managed_by().is_none()) {
            if let (Some(name), Some(arn)) = (rule.name(), rule.arn()) {
                all.push(BusRule {
                    name: name.to_string(),
                    arn: arn.to_string(),
                    pattern: rule.event_pattern().map(String::from),
                });
            }
        }
        match out.next_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    let chosen = select_rules(&all, &args.rules, &args.detail_types);
    if chosen.is_empty() {
        return Err(format!(
            "no rule on bus {} to replay to (rules: {}); name one with --rule",
            args.bus,
            all.iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(chosen)
}

/// Named rules; else the rules whose pattern accepts a Steward event of one
/// of the detail-types; else the audit rules (by name).
pub fn select_rules(
    rules: &[BusRule],
    named: &[String],
    detail_types: &[String],
) -> Vec<(String, String)> {
    let pick = |keep: &dyn Fn(&BusRule) -> bool| {
        rules
            .iter()
            .filter(|r| keep(r))
            .map(|r| (r.name.clone(), r.arn.clone()))
            .collect::<Vec<_>>()
    };
    if !named.is_empty() {
        return pick(&|r| named.iter().any(|n| n == &r.name || n == &r.arn));
    }
    if !detail_types.is_empty() {
        let samples: Vec<Value> = detail_types
            .iter()
            .map(|d| json!({"source": "steward", "detail-type": d, "detail": {}}))
            .collect();
        return pick(&|r| {
            let Some(pattern) = r
                .pattern
                .as_deref()
                .and_then(|p| Pattern::parse_str(p).ok())
            else {
                return false;
            };
            samples.iter().any(|s| pattern.matches(s))
        });
    }
    pick(&|r| r.name.to_ascii_lowercase().contains("audit"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<BusRule> {
        let rule = |name: &str, arn: &str, pattern: &str| BusRule {
            name: name.into(),
            arn: arn.into(),
            pattern: Some(pattern.into()),
        };
        vec![
            rule(
                "steward-AuditStewardEvents-1",
                "arn:rule/a",
                r#"{"source":["steward"]}"#,
            ),
            rule(
                "steward-DeployOnDecision-2",
                "arn:rule/d",
                r#"{"source":["steward"],"detail-type":["Approval Decided"]}"#,
            ),
        ]
    }

    #[test]
    fn the_audit_rule_by_default_else_by_detail_type_or_name() {
        let names = |v: Vec<(String, String)>| v.into_iter().map(|r| r.1).collect::<Vec<_>>();
        assert_eq!(names(select_rules(&rules(), &[], &[])), ["arn:rule/a"]);
        assert_eq!(
            names(select_rules(&rules(), &[], &["Approval Decided".into()])),
            ["arn:rule/a", "arn:rule/d"]
        );
        assert_eq!(
            names(select_rules(&rules(), &[], &["Build Started".into()])),
            ["arn:rule/a"]
        );
        assert_eq!(
            names(select_rules(
                &rules(),
                &["steward-DeployOnDecision-2".into()],
                &[]
            )),
            ["arn:rule/d"]
        );
    }

    #[test]
    fn progress_is_the_share_of_the_window_replayed() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let (from, to) = (t("2026-11-23T00:00:00Z"), t("2026-11-23T10:00:00Z"));
        assert_eq!(progress(from, to, None), "0%");
        assert_eq!(
            progress(from, to, Some(t("2026-11-23T05:00:00Z"))),
            "50% (up to 2026-11-23T05:00:00Z)"
        );
    }
}
