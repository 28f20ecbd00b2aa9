//! Running a pipeline's local step: a child process whose SDK clients talk to
//! the twin, with the execution's parameters in its environment.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// A step that runs longer than this is failed (and killed).
const STEP_TIMEOUT: Duration = Duration::from_secs(600);
/// `FailureReason` is at most 1300 characters (DescribePipelineExecution).
const MAX_REASON: usize = 1300;

/// What the step sees.
pub(super) struct StepEnv {
    pub endpoint: String,
    pub region: String,
    pub execution_arn: String,
    pub pipeline_name: String,
    pub parameters: Vec<(String, String)>,
}

/// Run `argv`; `Err` carries the `FailureReason`.
pub(super) async fn run(argv: &[String], env: &StepEnv) -> Result<(), String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("the pipeline's local step is an empty command".into());
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .env("AWS_ENDPOINT_URL", &env.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", &env.region)
        .env("AWS_DEFAULT_REGION", &env.region)
        .env("STEWARD_PIPELINE_EXECUTION_ARN", &env.execution_arn)
        .env("STEWARD_PIPELINE_NAME", &env.pipeline_name)
        // A developer's profile or session must not send the step to real AWS.
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in &env.parameters {
        command.env(format!("STEWARD_PARAM_{name}"), value);
    }
    let output = match tokio::time::timeout(STEP_TIMEOUT, command.output()).await {
        Err(_) => return Err(format!("the step ran longer than {STEP_TIMEOUT:?}")),
        Ok(Err(e)) => return Err(format!("could not run {program}: {e}")),
        Ok(Ok(output)) => output,
    };
    tracing::debug!(
        execution = env.execution_arn,
        stdout = %String::from_utf8_lossy(&output.stdout),
        "pipeline step finished"
    );
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let reason = stderr
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("the step exited with {}", output.status));
    Err(reason.chars().take(MAX_REASON).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> StepEnv {
        StepEnv {
            endpoint: "http://127.0.0.1:1".into(),
            region: "us-east-1".into(),
            execution_arn: "arn:exec".into(),
            pipeline_name: "p".into(),
            parameters: vec![("InputDataUrl".into(), "s3://b/k/".into())],
        }
    }

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[tokio::test]
    async fn parameters_and_endpoint_reach_the_step() {
        let script = r#"test "$STEWARD_PARAM_InputDataUrl" = s3://b/k/ && test "$AWS_ENDPOINT_URL" = http://127.0.0.1:1 && test "$STEWARD_PIPELINE_EXECUTION_ARN" = arn:exec"#;
        assert_eq!(run(&sh(script), &env()).await, Ok(()));
    }

    #[tokio::test]
    async fn the_last_stderr_line_is_the_failure_reason() {
        let got = run(
            &sh("echo first >&2; echo 'AUC too low' >&2; echo >&2; exit 3"),
            &env(),
        )
        .await;
        assert_eq!(got, Err("AUC too low".into()));
    }

    #[tokio::test]
    async fn a_missing_program_fails_with_a_reason() {
        let got = run(&["/nonexistent/step".to_string()], &env()).await;
        assert!(got.unwrap_err().contains("could not run /nonexistent/step"));
    }
}
