//! What the review page shows: the model from the registry, the gate's
//! evidence from the approval request in the ledger, and the link's own terms
//! (approver, environment, expiry).

use chrono::{DateTime, Utc};
use steward::approval::decision::{PackageApproval, MAX_COMMENT_CHARS};
use steward::approval::token::Claims;

use crate::page::{CheckRow, LineageRow, MetricRow, ReviewPage};

/// The gate's evidence, as the page shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    pub summary: Option<String>,
    pub metrics: Vec<MetricRow>,
    pub checks: Vec<CheckRow>,
    /// Lineage the gate recorded beyond the registry's (e.g. the champion).
    pub lineage: Vec<LineageRow>,
}

pub fn review_page(
    claims: &Claims,
    environment: Option<String>,
    package: &PackageApproval,
    evidence: Evidence,
    token: &str,
    action: &str,
) -> ReviewPage {
    ReviewPage {
        model: if package.group.is_empty() {
            group_of(&package.model_package_arn)
        } else {
            package.group.clone()
        },
        version: package
            .version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "?".into()),
        environment,
        approver: claims.approver.clone(),
        expires: DateTime::<Utc>::from_timestamp(claims.expires_at, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        gate_summary: evidence.summary,
        metrics: evidence.metrics,
        checks: evidence.checks,
        lineage: lineage(package, evidence.lineage),
        token: token.to_string(),
        action: action.to_string(),
        max_comment: MAX_COMMENT_CHARS,
    }
}

/// `…:model-package/<group>/<version>` → group.
fn group_of(arn: &str) -> String {
    arn.rsplit_once(":model-package/")
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap_or(arn)
        .to_string()
}

fn lineage(package: &PackageApproval, extra: Vec<LineageRow>) -> Vec<LineageRow> {
    let meta = |key: &str| package.metadata.get(key).cloned();
    let rows = [
        ("Model package", Some(package.model_package_arn.clone())),
        (
            "Registered",
            package
                .created_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        ),
        ("Data", meta("steward:data-uri")),
        ("Data version", meta("steward:data-version")),
        ("Trigger", meta("steward:trigger")),
        ("Commit", package.commit_id.clone()),
        ("Built by", package.generated_by.clone()),
        ("Description", package.package_description.clone()),
    ];
    let mut lineage: Vec<LineageRow> = rows
        .into_iter()
        .filter_map(|(label, value)| {
            value
                .filter(|v| !v.is_empty())
                .map(|value| LineageRow { label, value })
        })
        .collect();
    // The gate's lineage fills in what the registry does not say.
    for row in extra {
        if !lineage
            .iter()
            .any(|r| r.label == row.label || r.value == row.value)
        {
            lineage.push(row);
        }
    }
    lineage
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use steward::events::sagemaker::ApprovalStatus;

    #[test]
    fn the_page_names_model_version_expiry_and_lineage_present() {
        let package = PackageApproval {
            model_package_arn: "arn:aws:sagemaker:us-east-1:1:model-package/payroll-fraud/3".into(),
            group: String::new(),
            version: Some(3),
            status: ApprovalStatus::PendingManualApproval,
            description: None,
            metadata: BTreeMap::from([("steward:data-version".into(), "v7".into())]),
            package_description: None,
            generated_by: Some("arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/x".into()),
            commit_id: None,
            created_at: None,
        };
        let claims = Claims {
            token_id: "t".into(),
            model_package_arn: package.model_package_arn.clone(),
            approver: "ana@acme.com".into(),
            purpose: "approve:prod".into(),
            expires_at: 1_795_000_000,
        };
        let page = review_page(
            &claims,
            Some("prod".into()),
            &package,
            Evidence::default(),
            "v1.x.y",
            "/",
        );
        assert_eq!(page.model, "payroll-fraud");
        assert_eq!(page.version, "3");
        assert_eq!(page.expires, "2026-11-18 11:06 UTC");
        let labels: Vec<_> = page.lineage.iter().map(|r| r.label).collect();
        assert_eq!(labels, ["Model package", "Data version", "Built by"]);
    }
}
