use std::sync::Mutex;

use super::*;
use crate::approval::request::ApprovalRequest;
use crate::approval::store::MemoryApprovals;
use crate::gate::report::{Candidate, GateReport, Lineage};
use crate::ledger::MemoryLedger;

const ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/3";

/// A registry of one package, with a switch to fail the next call.
struct FakeRegistry {
    package: Mutex<PackageApproval>,
    updates: Mutex<Vec<ApprovalUpdate>>,
    fail_update: Mutex<bool>,
}

impl FakeRegistry {
    fn pending() -> Self {
        Self {
            package: Mutex::new(PackageApproval {
                model_package_arn: ARN.into(),
                group: "payroll-fraud".into(),
                version: Some(3),
                status: ApprovalStatus::PendingManualApproval,
                description: None,
                package_description: None,
                generated_by: None,
                commit_id: None,
                created_at: None,
                metadata: BTreeMap::from([
                    ("steward:data-version".to_string(), "v1".to_string()),
                    (
                        "steward:correlation-id".to_string(),
                        "stw-chain".to_string(),
                    ),
                ]),
            }),
            updates: Mutex::new(Vec::new()),
            fail_update: Mutex::new(false),
        }
    }

    fn status(&self) -> ApprovalStatus {
        self.package.lock().unwrap().status.clone()
    }
}

impl ModelRegistry for FakeRegistry {
    async fn package(&self, arn: &str) -> Result<PackageApproval, RegistryError> {
        if arn != ARN {
            return Err(RegistryError::NotFound(arn.into()));
        }
        Ok(self.package.lock().unwrap().clone())
    }

    async fn set_approval(&self, arn: &str, update: &ApprovalUpdate) -> Result<(), RegistryError> {
        if *self.fail_update.lock().unwrap() {
            return Err(RegistryError::Call {
                operation: "UpdateModelPackage",
                arn: arn.into(),
                message: "ThrottlingException".into(),
            });
        }
        let mut package = self.package.lock().unwrap();
        package.status = update.status.clone();
        package.description = Some(update.description.clone());
        package.metadata = update.metadata.clone();
        self.updates.lock().unwrap().push(update.clone());
        Ok(())
    }
}

/// Published events, and a switch to fail the next publish.
#[derive(Default)]
struct FakeEvents {
    published: Mutex<Vec<ApprovalDecided>>,
    fail: Mutex<bool>,
}

impl DecisionEvents for FakeEvents {
    async fn publish(&self, event: &ApprovalDecided) -> Result<String, PublishError> {
        if std::mem::take(&mut *self.fail.lock().unwrap()) {
            return Err(PublishError::Call {
                bus: "steward".into(),
                message: "unavailable".into(),
            });
        }
        let mut published = self.published.lock().unwrap();
        published.push(event.clone());
        Ok(format!("event-{}", published.len()))
    }
}

fn decider() -> Decider<MemoryLedger, FakeRegistry, FakeEvents, MemoryApprovals> {
    Decider {
        ledger: MemoryLedger::new(),
        registry: FakeRegistry::pending(),
        events: FakeEvents::default(),
        approvals: MemoryApprovals::new(),
        lease: Duration::from_secs(120),
    }
}

fn at() -> DateTime<Utc> {
    "2026-11-24T08:00:00Z".parse().unwrap()
}

fn claims(approver: &str) -> Claims {
    Claims {
        token_id: format!("tid-{approver}"),
        model_package_arn: ARN.into(),
        approver: approver.into(),
        purpose: "approve:prod".into(),
        expires_at: at().timestamp() + 3600,
    }
}

fn by_link(approver: &str, verdict: Verdict, comment: Option<&str>) -> DecisionRequest {
    DecisionRequest::from_claims(&claims(approver), verdict, comment, at()).unwrap()
}

#[tokio::test]
async fn a_link_decision_sets_status_description_and_metadata_together_then_announces_and_records()
{
    let d = decider();
    let decided = d
        .decide(&by_link(
            "ana@acme.com",
            Verdict::Approve,
            Some("  looks good\r\n "),
        ))
        .await
        .unwrap();
    assert_eq!(decided.verdict, Verdict::Approve);
    assert_eq!(decided.environment.as_deref(), Some("prod"));
    assert!(!decided.resumed);

    let updates = d.registry.updates.lock().unwrap().clone();
    assert_eq!(updates.len(), 1);
    let update = &updates[0];
    assert_eq!(update.status, ApprovalStatus::Approved);
    assert_eq!(
        update.description,
        "Approved by ana@acme.com via link at 2026-11-24T08:00:00Z for prod: looks good"
    );
    // What was there is kept; the decision is added.
    assert_eq!(update.metadata["steward:data-version"], "v1");
    assert_eq!(update.metadata[DECIDED_BY_KEY], "ana@acme.com");
    assert_eq!(update.metadata[DECISION_CHANNEL_KEY], "link");

    let events = d.events.published.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.decision, "Approved");
    assert_eq!(event.header.correlation_id, "stw-chain");
    assert_eq!(event.header.environment.as_deref(), Some("prod"));
    assert_eq!(event.token_id.as_deref(), Some("tid-ana@acme.com"));
    assert_eq!(event.comment.as_deref(), Some("looks good"));

    let records = d.ledger.all_records();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.subject, Subject::Model(ARN.into()));
    assert_eq!(record.kind, RECORD_KIND);
    assert_eq!(record.detail["approver"], "ana@acme.com");
    assert_eq!(record.detail["comment"], "looks good");
    assert_eq!(record.detail["tokenId"], "tid-ana@acme.com");
    assert_eq!(record.detail["channel"], "link");
}

#[tokio::test]
async fn a_used_token_is_refused_and_changes_nothing() {
    let d = decider();
    d.decide(&by_link("ana@acme.com", Verdict::Reject, None))
        .await
        .unwrap();
    let err = d
        .decide(&by_link("ana@acme.com", Verdict::Approve, None))
        .await
        .unwrap_err();
    assert!(matches!(err, DecisionError::TokenUsed), "{err}");
    assert!(err.is_refusal());
    assert_eq!(d.registry.status(), ApprovalStatus::Rejected);
    assert_eq!(d.registry.updates.lock().unwrap().len(), 1);
    assert_eq!(d.events.published.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_second_approver_after_the_first_gets_already_decided_and_keeps_their_token() {
    let d = decider();
    d.decide(&by_link("ana@acme.com", Verdict::Approve, None))
        .await
        .unwrap();
    let raj = by_link("raj@acme.com", Verdict::Reject, None);
    for _ in 0..2 {
        // Still "already decided", not "used": the refusal did not spend the token.
        let err = d.decide(&raj).await.unwrap_err();
        assert!(
            matches!(&err, DecisionError::AlreadyDecided { decision: Some(d) } if d == "approved"),
            "{err}"
        );
        assert_eq!(err.error_type(), "already_decided");
    }
    assert_eq!(d.registry.status(), ApprovalStatus::Approved);
}

#[tokio::test]
async fn approve_and_reject_at_once_let_exactly_one_through() {
    let d = decider();
    let approve = by_link("ana@acme.com", Verdict::Approve, None);
    let reject = by_link("raj@acme.com", Verdict::Reject, None);
    let (a, r) = tokio::join!(d.decide(&approve), d.decide(&reject));
    assert_eq!(
        [a.is_ok(), r.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} {r:?}"
    );
    let loser = a.err().or(r.err()).unwrap();
    assert!(
        matches!(loser, DecisionError::AlreadyDecided { .. }),
        "{loser}"
    );
    assert_eq!(d.registry.updates.lock().unwrap().len(), 1);
    assert_eq!(d.events.published.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_package_decided_elsewhere_is_not_overwritten() {
    let d = decider();
    d.registry.package.lock().unwrap().status = ApprovalStatus::Rejected;
    let err = d
        .decide(&by_link("ana@acme.com", Verdict::Approve, None))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DecisionError::NotPending { status } if status == "Rejected"),
        "{err}"
    );
    assert!(d.registry.updates.lock().unwrap().is_empty());
    assert!(d.ledger.all_records().is_empty());
    // Nothing was spent: neither the token nor the decision claim stays.
    assert!(!d.ledger.has_claim(&token_key("tid-ana@acme.com")));
    assert!(!d.ledger.has_claim(&decision_key(ARN, Some("prod"))));
}

#[tokio::test]
async fn a_token_for_another_package_decides_nothing_here() {
    let d = decider();
    let mut other = claims("ana@acme.com");
    other.model_package_arn = format!("{ARN}0");
    let request = DecisionRequest::from_claims(&other, Verdict::Approve, None, at()).unwrap();
    let err = d.decide(&request).await.unwrap_err();
    assert_eq!(err.error_type(), "model_package_not_found");
    assert!(err.is_refusal());
    assert_eq!(d.registry.status(), ApprovalStatus::PendingManualApproval);
}

#[tokio::test]
async fn a_failed_update_releases_both_claims_so_the_link_can_be_retried() {
    let d = decider();
    *d.registry.fail_update.lock().unwrap() = true;
    let request = by_link("ana@acme.com", Verdict::Approve, None);
    let err = d.decide(&request).await.unwrap_err();
    assert_eq!(err.error_type(), "registry_unavailable");
    assert!(!err.is_refusal());
    *d.registry.fail_update.lock().unwrap() = false;
    d.decide(&request).await.unwrap();
    assert_eq!(d.registry.status(), ApprovalStatus::Approved);
}

#[tokio::test]
async fn a_retry_after_the_update_resumes_without_updating_again() {
    let d = decider();
    *d.events.fail.lock().unwrap() = true;
    let request = by_link("ana@acme.com", Verdict::Approve, Some("ok"));
    let err = d.decide(&request).await.unwrap_err();
    assert_eq!(err.error_type(), "event_bus_unavailable");
    // The package is approved but not announced: the retry completes it.
    assert_eq!(d.registry.status(), ApprovalStatus::Approved);
    let decided = d.decide(&request).await.unwrap();
    assert!(decided.resumed);
    assert_eq!(d.registry.updates.lock().unwrap().len(), 1);
    assert_eq!(d.events.published.lock().unwrap().len(), 1);
    assert_eq!(d.ledger.all_records().len(), 1);
}

#[tokio::test]
async fn a_cli_decision_has_no_token_and_names_the_caller() {
    let d = decider();
    let request = DecisionRequest {
        model_package_arn: ARN.into(),
        environment: None,
        verdict: Verdict::Reject,
        approver: "arn:aws:sts::123456789012:assumed-role/ml-lead/ana".into(),
        channel: Channel::Cli,
        comment: Some("drifted features".into()),
        token_id: None,
        at: at(),
    };
    d.decide(&request).await.unwrap();
    let update = d.registry.updates.lock().unwrap()[0].clone();
    assert_eq!(update.status, ApprovalStatus::Rejected);
    assert!(update
        .description
        .starts_with("Rejected by arn:aws:sts::123456789012:assumed-role/ml-lead/ana via cli"));
    assert_eq!(d.ledger.all_records()[0].detail["tokenId"], Value::Null);
    let err = d.decide(&request).await.unwrap_err();
    assert!(matches!(err, DecisionError::AlreadyDecided { .. }), "{err}");
}

#[tokio::test]
async fn a_comment_too_long_is_refused_before_anything_is_claimed() {
    let d = decider();
    let long = "x".repeat(MAX_COMMENT_CHARS + 1);
    let err = d
        .decide(&by_link("ana@acme.com", Verdict::Approve, Some(&long)))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "comment_too_long");
    assert!(!d.ledger.has_claim(&token_key("tid-ana@acme.com")));
}

#[test]
fn only_a_deciding_purpose_becomes_a_decision() {
    assert_eq!(
        environment_of_purpose("approve:prod").unwrap().as_deref(),
        Some("prod")
    );
    assert_eq!(environment_of_purpose("approve").unwrap(), None);
    for purpose in ["approve:", "view:prod", "resend", ""] {
        assert!(
            matches!(
                environment_of_purpose(purpose),
                Err(DecisionError::WrongPurpose)
            ),
            "{purpose}"
        );
    }
    assert_eq!(Verdict::parse(" Approve "), Some(Verdict::Approve));
    assert_eq!(Verdict::parse("reject"), Some(Verdict::Reject));
    assert_eq!(Verdict::parse("delete"), None);
}

#[test]
fn a_long_description_is_cut_to_what_the_registry_holds() {
    let mut request = by_link("ana@acme.com", Verdict::Approve, None);
    request.approver = "a".repeat(2000);
    let text = description(&request, Some("ok"));
    assert_eq!(text.chars().count(), MAX_DESCRIPTION);
    assert!(text.ends_with('…'));
}

fn open_request(approver: &str, arn: &str, environment: &str) -> ApprovalRequest {
    ApprovalRequest {
        token_id: format!("tid-{approver}"),
        model_package_arn: arn.into(),
        group: "payroll-fraud".into(),
        version: Some(3),
        environment: environment.into(),
        approver: approver.into(),
        purpose: format!("approve:{environment}"),
        cause: "gate/x".into(),
        correlation_id: "stw-chain".into(),
        requested_at: at(),
        expires_at: at() + chrono::Duration::hours(1),
        reminded_at: None,
        status: RequestStatus::Pending,
        gate: GateReport {
            candidate: Candidate {
                model_package_arn: arn.into(),
                group: "payroll-fraud".into(),
                version: Some(3),
                metrics_uri: None,
                metrics: Default::default(),
            },
            checks: Vec::new(),
            champion: None,
            lineage: Lineage::default(),
            policy_version: None,
            evaluated_at: at(),
            passed: true,
        },
    }
}

#[tokio::test]
async fn deciding_closes_every_open_request_for_the_package_and_environment_only() {
    let d = decider();
    for request in [
        open_request("ana@acme.com", ARN, "prod"),
        open_request("raj@acme.com", ARN, "prod"),
        open_request("lee@acme.com", ARN, "staging"),
        open_request("kim@acme.com", &format!("{ARN}0"), "prod"),
    ] {
        d.approvals.put(&request).await.unwrap();
    }
    d.decide(&by_link("ana@acme.com", Verdict::Approve, None))
        .await
        .unwrap();
    let still_open: Vec<String> = d
        .approvals
        .open()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.approver)
        .collect();
    assert_eq!(still_open, ["kim@acme.com", "lee@acme.com"]);
}

#[tokio::test]
async fn an_approved_package_is_decided_once_more_for_a_later_environment_only() {
    let d = decider();
    d.registry.package.lock().unwrap().status = ApprovalStatus::Approved;
    // The package as a whole is decided already.
    let mut whole = by_link("ana@acme.com", Verdict::Approve, None);
    whole.environment = None;
    whole.token_id = Some("tid-whole".into());
    let err = d.decide(&whole).await.unwrap_err();
    assert!(matches!(err, DecisionError::NotPending { .. }), "{err}");
    // Prod still needs a person: rejecting stops the model there.
    d.decide(&by_link(
        "ana@acme.com",
        Verdict::Reject,
        Some("not for prod"),
    ))
    .await
    .unwrap();
    assert_eq!(d.registry.status(), ApprovalStatus::Rejected);
    assert_eq!(
        d.events.published.lock().unwrap()[0]
            .header
            .environment
            .as_deref(),
        Some("prod")
    );
    // And a rejected package is decided for no environment.
    let err = d
        .decide(&by_link("raj@acme.com", Verdict::Approve, None))
        .await
        .unwrap_err();
    assert!(matches!(err, DecisionError::AlreadyDecided { .. }), "{err}");
    assert!(!is_decidable(&ApprovalStatus::Rejected, Some("prod")));
    assert!(is_decidable(&ApprovalStatus::Approved, Some("prod")));
    assert!(!is_decidable(&ApprovalStatus::Approved, None));
}
