//! A registered model through the gate, once per package: evaluate, record,
//! announce; then reject with reasons, ask the approvers, or approve by policy.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use steward::approval::ask::{send_once, Ask};
use steward::approval::decision::{
    Channel, Decider, DecisionError, DecisionRequest, Verdict, DECISION_CHANNEL_KEY,
};
use steward::approval::mail;
use steward::events::sagemaker::{ApprovalStatus, ModelPackageStateChange};
use steward::events::steward::{GateEvaluated, Header, SOURCE};
use steward::gate::report::Lineage;
use steward::gate::{self, CandidateModel, Evaluation, GateReport};
use steward::ledger::{Claim, Ledger, LineageRecord, Subject};
use steward::naming::IdempotencyKey;
use steward::policy::{Approval, Group};
use tracing::warn;

use crate::handler::{Context, Outcome};
use crate::registry::{self, Package};
use crate::RequestApprovalError;

/// The lineage record kind of a gate evaluation (`MODEL#<arn>`; detail: the report).
pub const GATE_RECORD_KIND: &str = "gate_evaluated";
/// The registry's limits on `ApprovalDescription` and metadata values.
const MAX_DESCRIPTION: usize = 1024;
const MAX_METADATA_VALUE: usize = 256;
/// Metadata the gate writes on a package it rejects.
pub const GATE_KEY: &str = "steward:gate";
pub const GATE_EVALUATED_AT_KEY: &str = "steward:gate-evaluated-at";

/// The one gate evaluation of a package.
pub fn gate_key(model_package_arn: &str) -> IdempotencyKey {
    IdempotencyKey::new(format!("gate/{model_package_arn}"))
}

pub async fn on_registered(
    ctx: &Context,
    detail: &ModelPackageStateChange,
    at: DateTime<Utc>,
) -> Result<Outcome, RequestApprovalError> {
    if !detail.is_pending_approval() {
        return Ok(Outcome::Ignored {
            reason: format!(
                "model package is {}, not PendingManualApproval",
                detail
                    .model_approval_status
                    .as_ref()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "without approval status".into())
            ),
        });
    }
    let group_name = detail.require_group_name()?;
    // Checked before any claim or call: an unmanaged group changes nothing. It is
    // not an error: other teams register models in the same account, and an error
    // would retry each of their registrations into the dead-letter queue.
    let Some(group) = ctx.policy.policy.group(group_name) else {
        return Ok(Outcome::Ignored {
            reason: format!(
                "model package group {group_name} is not managed by policy {}",
                ctx.policy.version
            ),
        });
    };
    let key = gate_key(&detail.model_package_arn);
    let claim = match ctx.ledger.claim(&key, ctx.claim_lease).await? {
        Claim::Acquired(claim) => claim,
        Claim::Done(previous) => {
            let previous: Outcome = serde_json::from_value(previous).map_err(|e| {
                RequestApprovalError::StoredResult {
                    key: key.to_string(),
                    reason: e.to_string(),
                }
            })?;
            return Ok(Outcome::AlreadyHandled {
                previous: Box::new(previous),
            });
        }
        Claim::InProgress { lease_until } => {
            return Err(RequestApprovalError::InProgress {
                key: key.to_string(),
                lease_until,
            })
        }
    };
    match gate_and_act(ctx, group, detail, &key, at).await {
        Ok(outcome) => {
            let stored = serde_json::to_value(&outcome).unwrap_or(Value::Null);
            ctx.ledger.complete(&claim, &stored).await?;
            Ok(outcome)
        }
        Err(e) => {
            if let Err(release) = ctx.ledger.release(&claim).await {
                warn!(error = %release, cause = %key, "could not release the gate claim");
            }
            Err(e)
        }
    }
}

async fn gate_and_act(
    ctx: &Context,
    group: &Group,
    detail: &ModelPackageStateChange,
    key: &IdempotencyKey,
    at: DateTime<Utc>,
) -> Result<Outcome, RequestApprovalError> {
    let package = registry::describe(&ctx.sagemaker, &detail.model_package_arn).await?;
    if package.status != ApprovalStatus::PendingManualApproval {
        return resume_or_ignore(ctx, group, &package).await;
    }
    let (lineage, correlation_id) = crate::lineage::lineage(&ctx.ledger, &package).await?;
    let correlation_id = correlation_id.unwrap_or_else(|| key.correlation_id());
    let report = evaluate(ctx, group, &package, lineage).await?;
    record(ctx, &report, key, &correlation_id, at).await?;
    if !report.passed {
        return reject(ctx, group, &package, &report).await;
    }
    let Some(first) = group.first_environment() else {
        return Ok(Outcome::Ignored {
            reason: "the group has no environment to approve the model for".into(),
        });
    };
    match first.approval {
        Approval::Required => {
            let asked = ctx
                .asker()
                .ask(&Ask {
                    report: &report,
                    environment: &first.name,
                    approvers: &group.approvers,
                    cause: key,
                    correlation_id: &correlation_id,
                    lifetime: group.approval_lifetime,
                    now: Utc::now(),
                })
                .await?;
            Ok(Outcome::Requested {
                model_package_arn: package.arn,
                asked,
            })
        }
        Approval::Auto | Approval::None => {
            approve_by_policy(ctx, group, &report, &first.name, first.approval).await
        }
    }
}

/// The package is no longer pending. If an earlier attempt of this gate
/// decided it (rejected by the gate, or approved by policy) and failed before
/// it finished, finish that attempt from the recorded report: the stewards'
/// mails are claimed, so nobody is told twice. Otherwise someone decided it
/// elsewhere (console, CLI) between the event and now: nothing to do.
async fn resume_or_ignore(
    ctx: &Context,
    group: &Group,
    package: &Package,
) -> Result<Outcome, RequestApprovalError> {
    let ours_rejected = package.status == ApprovalStatus::Rejected
        && package.metadata.get(GATE_KEY).map(String::as_str) == Some("failed");
    let ours_approved = package.status == ApprovalStatus::Approved
        && package
            .metadata
            .get(DECISION_CHANNEL_KEY)
            .map(String::as_str)
            == Some(Channel::Auto.as_str());
    let report = if ours_rejected || ours_approved {
        recorded_report(ctx, &package.arn).await?
    } else {
        None
    };
    match (report, group.first_environment()) {
        (Some(report), _) if ours_rejected && !report.passed => {
            tell_stewards_rejected(ctx, group, package, &report).await?;
            Ok(rejected(package, &report))
        }
        (Some(report), Some(first)) if ours_approved && report.passed => {
            approve_by_policy(ctx, group, &report, &first.name, first.approval).await
        }
        _ => Ok(Outcome::Ignored {
            reason: format!("model package is already {}", package.status.as_str()),
        }),
    }
}

/// The newest gate report recorded for a package.
pub async fn recorded_report(
    ctx: &Context,
    model_package_arn: &str,
) -> Result<Option<GateReport>, RequestApprovalError> {
    let records = ctx
        .ledger
        .records(&Subject::Model(model_package_arn.to_string()))
        .await?;
    match records.iter().rev().find(|r| r.kind == GATE_RECORD_KIND) {
        None => Ok(None),
        Some(record) => serde_json::from_value(record.detail.clone())
            .map(Some)
            .map_err(|e| RequestApprovalError::StoredResult {
                key: format!("MODEL#{model_package_arn}/{GATE_RECORD_KIND}"),
                reason: e.to_string(),
            }),
    }
}

/// Read the candidate's report and the champion's, and run the checks.
pub async fn evaluate(
    ctx: &Context,
    group: &Group,
    package: &Package,
    lineage: Lineage,
) -> Result<GateReport, RequestApprovalError> {
    let metrics = crate::metrics::fetch_evidence(&ctx.s3, package, &group.gate).await?;
    let champion = if group.gate.no_regression.is_empty() {
        None
    } else {
        crate::champion::find(&ctx.sagemaker, &ctx.s3, &ctx.environments, group, package).await?
    };
    Ok(gate::evaluate(Evaluation {
        gate: &group.gate,
        candidate: CandidateModel {
            model_package_arn: package.arn.clone(),
            group: group.name.clone(),
            version: package.version,
            metrics_uri: package.metrics_uri.clone(),
        },
        metrics,
        champion,
        lineage,
        policy_version: Some(ctx.policy.version.clone()),
        now: Utc::now(),
    }))
}

/// The report in the model's lineage, and `Gate Evaluated` on the bus.
async fn record(
    ctx: &Context,
    report: &GateReport,
    key: &IdempotencyKey,
    correlation_id: &str,
    at: DateTime<Utc>,
) -> Result<(), RequestApprovalError> {
    ctx.ledger
        .append(&LineageRecord {
            subject: Subject::Model(report.candidate.model_package_arn.clone()),
            at,
            kind: GATE_RECORD_KIND.into(),
            id: key.digest(),
            source: SOURCE.into(),
            detail: serde_json::to_value(report).unwrap_or(Value::Null),
        })
        .await?;
    ctx.publisher
        .publish(&GateEvaluated {
            header: Header {
                model_package_group: report.candidate.group.clone(),
                model_package_arn: Some(report.candidate.model_package_arn.clone()),
                environment: None,
                correlation_id: correlation_id.to_string(),
                cause: key.clone(),
                policy_version: report.policy_version.clone(),
            },
            version: report.candidate.version,
            outcome: report.outcome().to_string(),
            checks: report.checks.len(),
            failures: report.failures().map(|c| c.reason.clone()).collect(),
            champion_arn: report
                .champion
                .as_ref()
                .map(|c| c.model_package_arn.clone()),
            evaluated_at: report
                .evaluated_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        })
        .await?;
    Ok(())
}

/// Rejected in the registry with every failed check, and the stewards told.
async fn reject(
    ctx: &Context,
    group: &Group,
    package: &Package,
    report: &GateReport,
) -> Result<Outcome, RequestApprovalError> {
    let failures: Vec<String> = report.failures().map(|c| c.reason.clone()).collect();
    let description = truncate(
        &format!(
            "Rejected by Steward's gate ({}): {}",
            report.policy_version.as_deref().unwrap_or("policy"),
            failures.join("; ")
        ),
        MAX_DESCRIPTION,
    );
    let mut metadata: BTreeMap<String, String> = package.metadata.clone();
    metadata.insert(GATE_KEY.into(), "failed".into());
    metadata.insert(
        GATE_EVALUATED_AT_KEY.into(),
        truncate(
            &report
                .evaluated_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            MAX_METADATA_VALUE,
        ),
    );
    registry::reject(&ctx.sagemaker, package, &description, &metadata).await?;
    tell_stewards_rejected(ctx, group, package, report).await?;
    Ok(rejected(package, report))
}

fn rejected(package: &Package, report: &GateReport) -> Outcome {
    Outcome::Rejected {
        model_package_arn: package.arn.clone(),
        failures: report.failures().map(|c| c.reason.clone()).collect(),
    }
}

/// One mail per steward, claimed per package and steward.
async fn tell_stewards_rejected(
    ctx: &Context,
    group: &Group,
    package: &Package,
    report: &GateReport,
) -> Result<(), RequestApprovalError> {
    let notice = mail::gate_failed(report);
    for steward in &group.stewards {
        let mail_key = IdempotencyKey::new(format!("gate/mail/{}/{}", package.arn, steward.trim()));
        send_once(
            &ctx.ledger,
            &ctx.notifier,
            ctx.claim_lease,
            &mail_key,
            steward.trim(),
            &notice,
        )
        .await?;
    }
    Ok(())
}

/// `auto`: approved by Steward with the gate as evidence, stewards told.
/// `none`: nothing to ask; the package is approved so the deploy (which
/// starts on Approved) proceeds, and the record says no approval was required.
async fn approve_by_policy(
    ctx: &Context,
    group: &Group,
    report: &GateReport,
    environment: &str,
    approval: Approval,
) -> Result<Outcome, RequestApprovalError> {
    let total = report.checks.len();
    let reason = match approval {
        Approval::Auto => format!("approval = \"auto\" for {environment}"),
        _ => format!("no approval required by policy for {environment} (approval = \"none\")"),
    };
    let comment = format!(
        "gate passed {total} of {total} checks ({}); {reason}",
        report.policy_version.as_deref().unwrap_or("policy")
    );
    let decider = Decider {
        ledger: ctx.ledger.clone(),
        registry: ctx.registry.clone(),
        events: ctx.publisher.clone(),
        approvals: ctx.approvals.clone(),
        lease: ctx.claim_lease,
    };
    let decided = decider
        .decide(&DecisionRequest {
            model_package_arn: report.candidate.model_package_arn.clone(),
            environment: Some(environment.to_string()),
            verdict: Verdict::Approve,
            approver: "steward".into(),
            channel: Channel::Auto,
            comment: Some(comment),
            token_id: None,
            at: Utc::now(),
        })
        .await;
    match decided {
        Ok(_) => {}
        // Someone decided first (console, CLI): theirs stands.
        Err(e @ (DecisionError::AlreadyDecided { .. } | DecisionError::NotPending { .. })) => {
            return Ok(Outcome::Ignored {
                reason: format!("not approved by policy: {e}"),
            })
        }
        Err(e) => return Err(e.into()),
    }
    if approval == Approval::Auto {
        let notice = mail::approved_by_policy(report, environment, &reason);
        for steward in &group.stewards {
            let mail_key = IdempotencyKey::new(format!(
                "gate/auto-mail/{}/{}",
                report.candidate.model_package_arn,
                steward.trim()
            ));
            send_once(
                &ctx.ledger,
                &ctx.notifier,
                ctx.claim_lease,
                &mail_key,
                steward.trim(),
                &notice,
            )
            .await?;
        }
    }
    Ok(Outcome::ApprovedByPolicy {
        model_package_arn: report.candidate.model_package_arn.clone(),
        environment: environment.to_string(),
        reason,
    })
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    cut
}
