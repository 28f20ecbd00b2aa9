//! Pipeline outcomes: what a build's `SageMaker Model Building Pipeline
//! Execution Status Change` means for Steward. Pure: which group's pipeline it
//! is, whether the stewards hear about it, and the mail they get.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::events::sagemaker::{PipelineExecutionStatus, PipelineExecutionStatusChange};
use crate::notify::Mail;
use crate::policy::{Group, Policy};

/// The ledger kind of a status change, in the execution's lineage (`EXEC#`).
pub const STATUS_CHANGED: &str = "pipeline_status_changed";

/// The pipeline's name from its ARN (`arn:…:pipeline/<name>`, or an execution
/// ARN `arn:…:pipeline/<name>/execution/<id>`).
pub fn pipeline_name(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":pipeline/")?;
    rest.split('/').next().filter(|name| !name.is_empty())
}

/// The group whose pipeline ran, if the policy manages it.
pub fn group_of<'p>(
    policy: &'p Policy,
    change: &PipelineExecutionStatusChange,
) -> Option<&'p Group> {
    let name = pipeline_name(&change.pipeline_arn)
        .or_else(|| pipeline_name(&change.pipeline_execution_arn))?;
    policy.groups.values().find(|g| g.pipeline.name == name)
}

/// Whether the stewards are mailed: a failed run, which needs someone. A
/// stopped run was stopped by someone (or by Steward's operator), who knows;
/// it is recorded only.
pub fn notifies(status: &PipelineExecutionStatus) -> bool {
    matches!(status, PipelineExecutionStatus::Failed)
}

/// The mail to the stewards about a failed run. `build` is the run's
/// `build_started` record, when Steward started it (trigger, data, commit).
pub fn failure_mail(
    group: &Group,
    change: &PipelineExecutionStatusChange,
    failure_reason: Option<&str>,
    build: Option<&Value>,
    at: DateTime<Utc>,
) -> Mail {
    let arn = &change.pipeline_execution_arn;
    let execution = arn.rsplit('/').next().unwrap_or(arn);
    let mut body = format!(
        "The {pipeline} pipeline run of model group {group} failed.\n\n\
         Execution:      {arn}\n\
         Status:         {status}\n\
         Failure reason: {reason}\n\
         Reported at:    {at}\n",
        pipeline = group.pipeline.name,
        group = group.name,
        status = change.current_pipeline_execution_status,
        reason = failure_reason.unwrap_or("(SageMaker gave no reason)"),
        at = at.to_rfc3339_opts(SecondsFormat::Secs, true),
    );
    if let Some(build) = build {
        let text = |v: &Value| v.as_str().map(str::to_string);
        if let Some(trigger) = text(&build["trigger"]) {
            body.push_str(&format!("Trigger:        {trigger}\n"));
        }
        if let Some(uri) = text(&build["data"]["uri"]) {
            let version = text(&build["data"]["version"]).unwrap_or_default();
            body.push_str(&format!("Data:           {uri} (version {version})\n"));
        }
        if let Some(commit) = text(&build["commit"]) {
            body.push_str(&format!("Commit:         {commit}\n"));
        }
        if let Some(cause) = text(&build["cause"]) {
            body.push_str(&format!("Cause:          {cause}\n"));
        }
    }
    body.push_str(
        "\nThe run's steps and logs are in SageMaker Studio (Pipelines) and CloudWatch Logs. \
         Fix the cause, then start a new build with `steward build ",
    );
    body.push_str(&group.name);
    body.push_str("`.\n");
    Mail {
        subject: format!("Steward: {} build failed ({execution})", group.name),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::decode_str_as;

    const POLICY: &str = include_str!("../../../../examples/steward.toml");
    const SAMPLE: &str = include_str!("../../../../events/pipeline-execution-succeeded.json");

    fn change() -> PipelineExecutionStatusChange {
        decode_str_as::<PipelineExecutionStatusChange>(SAMPLE)
            .unwrap()
            .detail
    }

    #[test]
    fn the_pipeline_is_named_by_its_arns() {
        assert_eq!(
            pipeline_name("arn:aws:sagemaker:us-east-1:1:pipeline/payroll-fraud-train"),
            Some("payroll-fraud-train")
        );
        assert_eq!(
            pipeline_name("arn:aws:sagemaker:us-east-1:1:pipeline/x/execution/abc"),
            Some("x")
        );
        assert_eq!(
            pipeline_name("arn:aws:sagemaker:us-east-1:1:endpoint/x"),
            None
        );
        let policy = Policy::parse(POLICY).unwrap();
        assert_eq!(group_of(&policy, &change()).unwrap().name, "payroll-fraud");
        let mut other = change();
        other.pipeline_arn = "arn:aws:sagemaker:us-east-1:1:pipeline/someone-elses".into();
        other.pipeline_execution_arn = format!("{}/execution/1", other.pipeline_arn);
        assert!(group_of(&policy, &other).is_none());
    }

    #[test]
    fn only_failures_mail_the_stewards() {
        assert!(notifies(&PipelineExecutionStatus::Failed));
        for quiet in [
            PipelineExecutionStatus::Executing,
            PipelineExecutionStatus::Succeeded,
            PipelineExecutionStatus::Stopped,
        ] {
            assert!(!notifies(&quiet), "{quiet}");
        }
    }

    #[test]
    fn the_failure_mail_names_the_run_the_reason_and_the_lineage() {
        let policy = Policy::parse(POLICY).unwrap();
        let group = policy.group("payroll-fraud").unwrap();
        let mut failed = change();
        failed.current_pipeline_execution_status = PipelineExecutionStatus::Failed;
        let build = serde_json::json!({
            "trigger": "data",
            "data": {"uri": "s3://acme-ml-data/payroll-fraud/transactions/2026-11-23/", "version": "v-1"},
            "cause": "build/s3/acme-ml-data/x@v-1",
        });
        let mail = failure_mail(
            group,
            &failed,
            Some("no rows under s3://data/empty/"),
            Some(&build),
            "2026-11-23T06:48:21Z".parse().unwrap(),
        );
        assert_eq!(
            mail.subject,
            "Steward: payroll-fraud build failed (k3v9x2q7mz1a)"
        );
        assert!(mail.body.contains(&failed.pipeline_execution_arn));
        assert!(mail.body.contains("no rows under s3://data/empty/"));
        assert!(mail.body.contains("Failed"));
        assert!(mail
            .body
            .contains("payroll-fraud/transactions/2026-11-23/ (version v-1)"));
        assert!(mail.body.contains("steward build payroll-fraud"));
        let bare = failure_mail(
            group,
            &failed,
            None,
            None,
            "2026-11-23T06:48:21Z".parse().unwrap(),
        );
        assert!(bare.body.contains("SageMaker gave no reason"));
    }
}
