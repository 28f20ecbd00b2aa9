//! The monitor-drift handler: on the schedule tick, one drift check per
//! monitored endpoint, each claimed in the ledger under its endpoint and window,
//! so a redelivered tick repeats nothing and publishes nothing twice.

use std::time::Duration;

use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use steward::events::schedule::Scheduled;
use steward::events::steward::Header;
use steward::events::{self as ev, EventError};
use steward::ledger::{Claim, DynamoLedger, Ledger, LineageRecord, Subject};
use steward::naming::IdempotencyKey;
use steward::policy::{DriftThresholds, Monitored};
use steward::policy_store::{load_policy, PolicyLoadError, PublishedPolicy};
use steward::publish::Publisher;
use steward_drift::{compare, DriftConfig, DriftReport, Status, Thresholds, WindowStats};
use tracing::{error, info, warn};

use crate::event::DriftFound;
use crate::window::{split_s3_uri, Window};
use crate::{emf, store, Config, MonitorDriftError};

/// What monitor-drift needs, made once per cold start.
pub struct Context<L = DynamoLedger> {
    pub s3: aws_sdk_s3::Client,
    pub ledger: L,
    pub publisher: Publisher,
    pub policy: PublishedPolicy,
    pub claim_lease: Duration,
}

impl Context<DynamoLedger> {
    /// The clients from one SDK config (S3's passed in: path-style addressing
    /// is a deployment choice) and the published policy.
    pub async fn connect(
        aws: &SdkConfig,
        s3: aws_sdk_s3::Client,
        config: &Config,
    ) -> Result<Self, PolicyLoadError> {
        let policy = load_policy(&aws_sdk_ssm::Client::new(aws), &config.policy_parameter).await?;
        Ok(Self {
            s3,
            ledger: DynamoLedger::new(aws_sdk_dynamodb::Client::new(aws), &config.ledger_table),
            publisher: Publisher::new(aws_sdk_eventbridge::Client::new(aws), &config.event_bus),
            policy,
            claim_lease: config.claim_lease,
        })
    }
}

/// One endpoint's check, as recorded in the ledger and returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub group: String,
    pub environment: String,
    pub endpoint: String,
    pub window: String,
    pub status: Status,
    pub reason: String,
    pub drifted_features: Vec<String>,
    pub objects: u64,
    pub rows: u64,
    pub corrupt_lines: u64,
    /// The `Drift Detected` event's id, when one was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// An earlier delivery made this check; this one repeated nothing.
    #[serde(default)]
    pub repeated: bool,
}

/// The function's response: every monitored endpoint's check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub checks: Vec<Check>,
}

/// The Lambda entry point: handle, and log the outcome or the typed error as JSON.
pub async fn run<L: Ledger>(
    ctx: &Context<L>,
    payload: Value,
) -> Result<Outcome, MonitorDriftError> {
    let result = handle(ctx, payload).await;
    match &result {
        Ok(outcome) => {
            for c in &outcome.checks {
                info!(
                    endpoint = %c.endpoint,
                    window = %c.window,
                    status = c.status.as_str(),
                    reason = %c.reason,
                    rows = c.rows,
                    corrupt_lines = c.corrupt_lines,
                    repeated = c.repeated,
                    "drift check"
                );
            }
        }
        Err(e) => error!(error_type = e.error_type(), error = %e, "monitor-drift failed"),
    }
    result
}

/// Handle one event: a `Scheduled Event` checks every monitored endpoint.
/// Every endpoint is checked even if one fails; the first failure is returned
/// afterwards, so Lambda retries and the retry redoes only what failed.
pub async fn handle<L: Ledger>(
    ctx: &Context<L>,
    payload: Value,
) -> Result<Outcome, MonitorDriftError> {
    if !ev::is::<Scheduled>(&payload) {
        let (source, detail_type) = ev::event_type(&payload)?;
        return Err(MonitorDriftError::Unsupported {
            event_source: source.to_string(),
            detail_type: detail_type.to_string(),
        });
    }
    let event = ev::decode_as::<Scheduled>(payload)?;
    let now = event
        .time
        .ok_or(EventError::MissingField { field: "time" })?;
    let mut checks = Vec::new();
    let mut first_error = None;
    for monitored in ctx.policy.policy.monitored() {
        let hours = (monitored.monitor.window.as_secs() / 3_600).max(1) as u32;
        let window = Window::ending_before(now, hours);
        match check_once(ctx, &monitored, window, now).await {
            Ok(check) => checks.push(check),
            Err(e) => {
                warn!(endpoint = monitored.endpoint, error_type = e.error_type(), error = %e, "drift check failed");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(Outcome { checks }),
    }
}

/// The ledger key of one endpoint's check of one window.
pub fn check_key(endpoint: &str, window: &Window) -> IdempotencyKey {
    IdempotencyKey::new(format!("drift/{endpoint}@{}", window.id()))
}

async fn check_once<L: Ledger>(
    ctx: &Context<L>,
    monitored: &Monitored<'_>,
    window: Window,
    now: DateTime<Utc>,
) -> Result<Check, MonitorDriftError> {
    let key = check_key(monitored.endpoint, &window);
    let token = match ctx.ledger.claim(&key, ctx.claim_lease).await? {
        Claim::Acquired(token) => token,
        Claim::Done(stored) => {
            let mut check: Check =
                serde_json::from_value(stored).map_err(|e| MonitorDriftError::Check {
                    endpoint: monitored.endpoint.to_string(),
                    message: format!("the stored result of {key} is unreadable: {e}"),
                })?;
            check.repeated = true;
            return Ok(check);
        }
        Claim::InProgress { lease_until } => {
            return Err(MonitorDriftError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    match check(ctx, monitored, window, &key, now).await {
        Ok(check) => {
            ctx.ledger
                .complete(&token, &serde_json::to_value(&check).unwrap_or(Value::Null))
                .await?;
            Ok(check)
        }
        Err(e) => {
            if let Err(release) = ctx.ledger.release(&token).await {
                warn!(error = %release, cause = %key, "could not release the claim");
            }
            Err(e)
        }
    }
}

async fn check<L: Ledger>(
    ctx: &Context<L>,
    monitored: &Monitored<'_>,
    window: Window,
    key: &IdempotencyKey,
    now: DateTime<Utc>,
) -> Result<Check, MonitorDriftError> {
    let monitor = monitored.monitor;
    let report = match store::baseline(&ctx.s3, &monitor.baseline, monitor.constraints.as_deref())
        .await?
    {
        Err(reason) => DriftReport::no_baseline(reason, None),
        Ok(baseline) => {
            let (bucket, prefix) =
                split_s3_uri(&monitored.capture.destination).ok_or_else(|| {
                    MonitorDriftError::Check {
                        endpoint: monitored.endpoint.to_string(),
                        message: format!("{} is not an s3:// URI", monitored.capture.destination),
                    }
                })?;
            let prefixes = window.prefixes(prefix, monitored.endpoint, &monitor.variant);
            let keys = store::list(&ctx.s3, bucket, &prefixes).await?;
            let mut stats = WindowStats::new(&baseline);
            for object in &keys {
                stats = store::read_into(&ctx.s3, bucket, object, stats).await?;
            }
            compare(&baseline, &stats, &drift_config(monitored))
        }
    };
    for line in emf::lines(monitored.endpoint, &report, window.end) {
        // EMF goes to stdout as its own line; CloudWatch extracts the metrics.
        println!("{line}");
    }
    let mut check = Check {
        group: monitored.group.name.clone(),
        environment: monitored.environment.name.clone(),
        endpoint: monitored.endpoint.to_string(),
        window: window.id(),
        status: report.status,
        reason: report.reason.clone(),
        drifted_features: report.drifted().into_iter().map(str::to_string).collect(),
        objects: report.objects,
        rows: report.rows,
        corrupt_lines: report.corrupt_lines,
        event_id: None,
        repeated: false,
    };
    if report.status == Status::Drift {
        let found = DriftFound {
            header: Header {
                model_package_group: monitored.group.name.clone(),
                model_package_arn: None,
                environment: Some(monitored.environment.name.clone()),
                correlation_id: key.correlation_id(),
                cause: key.clone(),
                policy_version: Some(ctx.policy.version.clone()),
            },
            endpoint_name: monitored.endpoint.to_string(),
            window: window.id(),
            drifted_features: check.drifted_features.clone(),
            features: report.features.clone(),
            rows: report.rows,
            corrupt_lines: report.corrupt_lines,
            baseline: monitor.baseline.clone(),
        };
        // Dated by the tick that found it, so the retrain guard judges the
        // finding by when the check ran, not by when a retry published it.
        check.event_id = Some(ctx.publisher.publish_at(&found, now).await?);
    }
    ctx.ledger
        .append(&record(
            &check,
            &report,
            window.end,
            key,
            &ctx.policy.version,
        ))
        .await?;
    Ok(check)
}

/// The check in the group's history: every feature's scores, the verdict, and
/// the policy version that set the thresholds.
fn record(
    check: &Check,
    report: &DriftReport,
    at: DateTime<Utc>,
    key: &IdempotencyKey,
    policy_version: &str,
) -> LineageRecord {
    LineageRecord {
        subject: Subject::Group(check.group.clone()),
        at,
        kind: "drift_checked".into(),
        id: key.digest()[..16].to_string(),
        source: "steward".into(),
        detail: json!({
            "cause": key,
            "endpoint": check.endpoint,
            "environment": check.environment,
            "window": check.window,
            "status": check.status,
            "reason": check.reason,
            "rows": report.rows,
            "objects": report.objects,
            "corruptLines": report.corrupt_lines,
            "schemaMismatches": report.schema_mismatches,
            "features": report.features,
            "policyVersion": policy_version,
        }),
    }
}

fn thresholds(t: DriftThresholds) -> Thresholds {
    Thresholds {
        psi: t.psi,
        ks: t.ks,
        js: t.js,
        chi_squared_p: t.chi_squared_p,
    }
}

/// The policy's limits, as the drift core takes them.
pub fn drift_config(monitored: &Monitored<'_>) -> DriftConfig {
    let monitor = monitored.monitor;
    DriftConfig {
        thresholds: thresholds(monitor.thresholds),
        features: monitor
            .features
            .iter()
            .map(|(name, t)| (name.clone(), thresholds(*t)))
            .collect(),
        min_rows: monitor.min_rows,
    }
}
