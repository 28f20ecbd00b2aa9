//! `steward approval resend <model-package-arn>`: new links for a package
//! still pending, through the same asking as the gate (one link per approver,
//! mailed once, stored), for the environment it was last asked about.
//!
//! Used after a request lapsed, or when a mail went astray. The evidence is
//! the gate report recorded when the package was evaluated; the open requests
//! of earlier rounds are closed so they are neither reminded nor lapsed again.

use chrono::{DateTime, SecondsFormat, Utc};
use steward::approval::ask::{decidable_for, Ask, REQUESTED_RECORD_KIND};
use steward::approval::request::RequestStatus;
use steward::approval::store::ApprovalStore;
use steward::events::sagemaker::ApprovalStatus;
use steward::ledger::{Ledger, Subject};
use steward::naming::IdempotencyKey;

use crate::handler::{Context, Outcome};
use crate::registry;
use crate::RequestApprovalError;

pub async fn resend(
    ctx: &Context,
    model_package_arn: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, RequestApprovalError> {
    let package = registry::describe(&ctx.sagemaker, model_package_arn).await?;
    // A rejected package is never approved; checked before any other work.
    if !matches!(
        package.status,
        ApprovalStatus::PendingManualApproval | ApprovalStatus::Approved
    ) {
        return Err(RequestApprovalError::NotPending {
            model_package_arn: model_package_arn.to_string(),
            status: package.status.as_str().to_string(),
        });
    }
    let group = ctx.policy.policy.group(&package.group).ok_or_else(|| {
        RequestApprovalError::GroupNotManaged {
            group: package.group.clone(),
            policy_version: ctx.policy.version.clone(),
        }
    })?;
    // The evidence the approvers were first sent; a package Steward never
    // evaluated (registered before Steward watched) is evaluated now.
    let report = match crate::gate::recorded_report(ctx, &package.arn).await? {
        Some(report) => report,
        None => {
            let (lineage, _) = crate::lineage::lineage(&ctx.ledger, &package).await?;
            crate::gate::evaluate(ctx, group, &package, lineage).await?
        }
    };
    let records = ctx
        .ledger
        .records(&Subject::Model(package.arn.clone()))
        .await?;
    if !report.passed {
        return Err(RequestApprovalError::GateFailed {
            model_package_arn: package.arn.clone(),
            failures: report.failure_summary(),
        });
    }
    let environment = records
        .iter()
        .rev()
        .find(|r| r.kind == REQUESTED_RECORD_KIND)
        .and_then(|r| r.detail["environment"].as_str().map(str::to_string))
        .or_else(|| {
            group
                .environments
                .iter()
                .find(|e| e.approval.needs_a_person())
                .map(|e| e.name.clone())
        })
        .ok_or_else(|| RequestApprovalError::NothingToAsk {
            group: group.name.clone(),
        })?;
    // Pending, or (a promotion) approved for earlier environments; never rejected.
    if !decidable_for(
        &ctx.policy.policy,
        &group.name,
        &environment,
        &package.status,
    ) {
        return Err(RequestApprovalError::NotPending {
            model_package_arn: model_package_arn.to_string(),
            status: package.status.as_str().to_string(),
        });
    }
    for open in ctx.approvals.open().await? {
        if open.model_package_arn == package.arn && open.environment == environment {
            ctx.approvals
                .close(&open.token_id, RequestStatus::Lapsed)
                .await?;
        }
    }
    let (_, correlation_id) = crate::lineage::lineage(&ctx.ledger, &package).await?;
    let cause = IdempotencyKey::new(format!(
        "approval/resend/{}/{}/{}",
        package.arn,
        environment,
        now.to_rfc3339_opts(SecondsFormat::Millis, true)
    ));
    let correlation_id = correlation_id.unwrap_or_else(|| cause.correlation_id());
    let asked = ctx
        .asker()
        .ask(&Ask {
            report: &report,
            environment: &environment,
            approvers: &group.approvers,
            cause: &cause,
            correlation_id: &correlation_id,
            lifetime: group.approval_lifetime,
            now,
        })
        .await?;
    Ok(Outcome::Requested {
        model_package_arn: package.arn,
        asked,
    })
}
