//! The plain-text mails of the approval flow: the request (one per approver,
//! with their own link), its reminder, the notice that it lapsed, and the
//! stewards' note that the gate rejected a model.
//!
//! Plain text on purpose: it reads the same in every client and on a phone,
//! and carries nothing a mail scanner could act on but the one link, which
//! only shows a page (deciding takes a POST from that page).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use super::request::ApprovalRequest;
use crate::gate::evaluate::fmt;
use crate::gate::report::{CheckKind, GateReport};
use crate::notify::Mail;

/// The link to the review page: the approval-link function's URL with the token.
pub fn link(base_url: &str, token: &str) -> String {
    let sep = if base_url.contains('?') { '&' } else { '?' };
    format!("{base_url}{sep}token={token}")
}

/// `payroll-fraud v7` (or the ARN's last part when there is no version).
pub fn model_name(report: &GateReport) -> String {
    match report.candidate.version {
        Some(v) => format!("{} v{v}", report.candidate.group),
        None => report.candidate.group.clone(),
    }
}

/// The request an approver receives.
pub fn approval_request(request: &ApprovalRequest, link: &str) -> Mail {
    let model = model_name(&request.gate);
    let mut body = String::new();
    let _ = writeln!(
        body,
        "Steward asks you to approve {model} for {}.\n",
        request.environment
    );
    body.push_str(&evidence(&request.gate));
    body.push_str(&decide_paragraph(request, link));
    Mail {
        subject: format!("Approve {model} for {}?", request.environment),
        body,
    }
}

/// The one reminder, halfway through the request's lifetime.
pub fn reminder(request: &ApprovalRequest, link: &str) -> Mail {
    let model = model_name(&request.gate);
    let mut body = String::new();
    let _ = writeln!(
        body,
        "Reminder: {model} is still waiting for your approval for {}.\n",
        request.environment
    );
    body.push_str(&evidence(&request.gate));
    body.push_str(&decide_paragraph(request, link));
    Mail {
        subject: format!("Reminder: approve {model} for {}?", request.environment),
        body,
    }
}

/// To the stewards: nobody decided before the links expired.
pub fn lapsed(request: &ApprovalRequest, approvers: &[String]) -> Mail {
    let model = model_name(&request.gate);
    let mut body = String::new();
    let _ = writeln!(
        body,
        "Nobody decided on {model} for {} before the approval links expired at {}.\n\
         Asked: {}.\n\n\
         Nothing moves into {} until someone decides. To ask again:\n\n    \
         steward approval resend {}\n\n\
         or decide yourself with `steward approve|reject {}`.",
        request.environment,
        utc(request.expires_at),
        approvers.join(", "),
        request.environment,
        request.model_package_arn,
        request.model_package_arn,
    );
    Mail {
        subject: format!("Approval lapsed: {model} for {}", request.environment),
        body,
    }
}

/// To the stewards: the gate rejected a model, and why.
pub fn gate_failed(report: &GateReport) -> Mail {
    let model = model_name(report);
    let mut body = String::new();
    let _ = writeln!(
        body,
        "For your information: Steward's gate rejected {model}; nobody was asked to approve it.\n"
    );
    body.push_str(&evidence(report));
    let _ = writeln!(
        body,
        "\nThe model package is Rejected in the registry with these reasons."
    );
    Mail {
        subject: format!("Gate rejected {model}"),
        body,
    }
}

/// To the stewards: the policy approved a model without asking anyone.
pub fn approved_by_policy(report: &GateReport, environment: &str, why: &str) -> Mail {
    let model = model_name(report);
    let mut body = String::new();
    let _ = writeln!(
        body,
        "For your information: {model} passed the gate and was approved for {environment} by policy ({why}).\n"
    );
    body.push_str(&evidence(report));
    Mail {
        subject: format!("Approved by policy: {model} for {environment}"),
        body,
    }
}

fn decide_paragraph(request: &ApprovalRequest, link: &str) -> String {
    let hours = (request.expires_at - request.requested_at).num_hours();
    format!(
        "\nReview and decide (opening the page changes nothing; Approve and Reject are buttons on it):\n\n    \
         {link}\n\n\
         The link is for you ({}) only, works once, and expires at {} ({hours}h after the request).\n",
        request.approver,
        utc(request.expires_at)
    )
}

/// The gate's evidence as text: model, outcome, metrics against thresholds
/// and champion, every check, lineage.
pub fn evidence(report: &GateReport) -> String {
    let mut out = String::new();
    let c = &report.candidate;
    let _ = writeln!(out, "Model:       {}", model_name(report));
    let _ = writeln!(out, "Package:     {}", c.model_package_arn);
    let total = report.checks.len();
    let failed = report.failures().count();
    let _ = writeln!(
        out,
        "Gate:        {} ({} of {total} checks passed){}",
        report.outcome(),
        total - failed,
        report
            .policy_version
            .as_deref()
            .map(|v| format!(", policy {v}"))
            .unwrap_or_default()
    );
    match &report.champion {
        Some(ch) => {
            let _ = writeln!(
                out,
                "Champion:    {}{} ({})",
                ch.model_package_arn,
                ch.version.map(|v| format!(" (v{v})")).unwrap_or_default(),
                ch.source
            );
        }
        None => {
            let _ = writeln!(out, "Champion:    none yet (the group's first model)");
        }
    }
    let metrics = metric_paths(report);
    if !metrics.is_empty() {
        let _ = writeln!(out, "\nMetrics (candidate | threshold | champion):");
        for path in metrics {
            let value = c
                .metrics
                .get(&path)
                .copied()
                .or_else(|| report.checks.iter().find(|k| k.metric == path)?.value)
                .map(fmt)
                .unwrap_or_else(|| "missing".into());
            let bounds: Vec<String> = report
                .checks
                .iter()
                .filter(|k| k.metric == path)
                .filter_map(|k| match k.kind {
                    CheckKind::ThresholdMin => Some(format!("min {}", fmt(k.bound?))),
                    CheckKind::ThresholdMax => Some(format!("max {}", fmt(k.bound?))),
                    _ => None,
                })
                .collect();
            let champion = report
                .champion
                .as_ref()
                .and_then(|ch| ch.metrics.get(&path))
                .map(|v| fmt(*v))
                .unwrap_or_else(|| "-".into());
            let bounds = if bounds.is_empty() {
                "-".to_string()
            } else {
                bounds.join(", ")
            };
            let _ = writeln!(out, "  {path}: {value} | {bounds} | {champion}");
        }
    }
    let _ = writeln!(out, "\nChecks:");
    for check in &report.checks {
        let mark = if check.passed { "pass" } else { "FAIL" };
        let _ = writeln!(out, "  [{mark}] {}", check.reason);
    }
    let l = &report.lineage;
    let _ = writeln!(out, "\nLineage:");
    let _ = writeln!(
        out,
        "  Data:        {}{}",
        l.data_uri.as_deref().unwrap_or("unknown"),
        l.data_version
            .as_deref()
            .map(|v| format!(" (version {v})"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "  Commit:      {}",
        l.commit.as_deref().unwrap_or("unknown")
    );
    if let Some(run) = &l.pipeline_execution_arn {
        let _ = writeln!(out, "  Build:       {run}");
    }
    if let Some(trigger) = &l.trigger {
        let _ = writeln!(out, "  Trigger:     {trigger}");
    }
    out
}

/// Every metric a check reads, then every other metric in the report.
fn metric_paths(report: &GateReport) -> Vec<String> {
    let checked: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.kind != CheckKind::MetricsReadable)
        .map(|c| c.metric.clone())
        .collect();
    let mut seen = BTreeSet::new();
    checked
        .into_iter()
        .chain(report.candidate.metrics.keys().cloned())
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

fn utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;
    use crate::approval::request::RequestStatus;
    use crate::gate::report::{Candidate, Champion, Check, Lineage};

    fn report() -> GateReport {
        GateReport {
            candidate: Candidate {
                model_package_arn: "arn:aws:sagemaker:us-east-1:1:model-package/payroll-fraud/3"
                    .into(),
                group: "payroll-fraud".into(),
                version: Some(3),
                metrics_uri: Some("s3://a/e.json".into()),
                metrics: BTreeMap::from([
                    ("binary_classification_metrics.auc.value".into(), 0.95),
                    ("binary_classification_metrics.f1.value".into(), 0.7),
                ]),
            },
            checks: vec![
                Check {
                    metric: "binary_classification_metrics.auc.value".into(),
                    kind: CheckKind::ThresholdMin,
                    value: Some(0.95),
                    bound: Some(0.9),
                    champion_value: None,
                    tolerance: None,
                    better: None,
                    passed: true,
                    reason: "binary_classification_metrics.auc.value 0.9500 >= min 0.9000".into(),
                },
                Check {
                    metric: "binary_classification_metrics.auc.value".into(),
                    kind: CheckKind::NoRegression,
                    value: Some(0.95),
                    bound: None,
                    champion_value: Some(0.94),
                    tolerance: Some(0.01),
                    better: Some("higher".into()),
                    passed: true,
                    reason: "within".into(),
                },
            ],
            champion: Some(Champion {
                model_package_arn: "arn:aws:sagemaker:us-east-1:1:model-package/payroll-fraud/2"
                    .into(),
                version: Some(2),
                source: "latest-approved".into(),
                metrics: BTreeMap::from([("binary_classification_metrics.auc.value".into(), 0.94)]),
            }),
            lineage: Lineage {
                data_uri: Some("s3://acme-ml-data/payroll-fraud/transactions/d/".into()),
                data_version: Some("v9".into()),
                commit: Some("abc123".into()),
                ..Default::default()
            },
            policy_version: Some("ssm:/steward/policy:4".into()),
            evaluated_at: Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap(),
            passed: true,
        }
    }

    fn request() -> ApprovalRequest {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
        ApprovalRequest {
            token_id: "tid".into(),
            model_package_arn: report().candidate.model_package_arn,
            group: "payroll-fraud".into(),
            version: Some(3),
            environment: "prod".into(),
            approver: "ana@acme.com".into(),
            purpose: "approve:prod".into(),
            cause: "gate/x".into(),
            correlation_id: "c".into(),
            requested_at: at,
            expires_at: at + chrono::Duration::hours(48),
            reminded_at: None,
            status: RequestStatus::Pending,
            gate: report(),
        }
    }

    #[test]
    fn links_add_the_token_to_the_url() {
        assert_eq!(
            link("https://x.test/", "v1.a.b"),
            "https://x.test/?token=v1.a.b"
        );
        assert_eq!(
            link("https://x.test/?a=1", "t"),
            "https://x.test/?a=1&token=t"
        );
    }

    #[test]
    fn the_request_shows_every_metric_against_threshold_and_champion_and_the_link() {
        let mail = approval_request(&request(), "https://x.test/?token=T");
        assert_eq!(mail.subject, "Approve payroll-fraud v3 for prod?");
        for expected in [
            "binary_classification_metrics.auc.value: 0.9500 | min 0.9000 | 0.9400",
            "binary_classification_metrics.f1.value: 0.7000 | - | -",
            "Champion:    arn:aws:sagemaker:us-east-1:1:model-package/payroll-fraud/2 (v2) (latest-approved)",
            "Data:        s3://acme-ml-data/payroll-fraud/transactions/d/ (version v9)",
            "Commit:      abc123",
            "Gate:        passed (2 of 2 checks passed), policy ssm:/steward/policy:4",
            "    https://x.test/?token=T\n",
            "expires at 2026-11-26T08:00:00Z (48h after the request)",
        ] {
            assert!(mail.body.contains(expected), "{expected:?} not in\n{}", mail.body);
        }
        // The auc metric is listed once, though two checks read it.
        assert_eq!(mail.body.matches("auc.value: ").count(), 1);
    }

    #[test]
    fn reminders_lapses_and_rejections_say_what_they_are() {
        let r = request();
        assert!(reminder(&r, "L").subject.starts_with("Reminder: approve"));
        let lapsed = lapsed(&r, &["ana@acme.com".into(), "raj@acme.com".into()]);
        assert!(lapsed.body.contains("Asked: ana@acme.com, raj@acme.com."));
        assert!(lapsed
            .body
            .contains("Nothing moves into prod until someone decides."));
        let mut failed = report();
        failed.passed = false;
        failed.checks[0].passed = false;
        let mail = gate_failed(&failed);
        assert_eq!(mail.subject, "Gate rejected payroll-fraud v3");
        assert!(mail
            .body
            .contains("[FAIL] binary_classification_metrics.auc.value"));
    }
}
