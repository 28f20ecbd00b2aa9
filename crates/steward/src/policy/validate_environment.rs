//! Checks for one environment: its target, strategy, smoke test and data capture.
//! The limits follow what SageMaker and CodeDeploy accept, so a policy that passes
//! here does not fail at deployment time.

use std::ops::RangeInclusive;
use std::time::Duration;

use super::duration::format_duration;
use super::environment::{
    default_approval, DataCapture, Environment, SmokeTest, Strategy, Target, DEFAULT_BAKE,
    DEFAULT_INSTANCE_COUNT, DEFAULT_SMOKE_TOLERANCE,
};
use super::error::{field, index, Errors};
use super::names;
use super::raw::{
    RawDataCapture, RawEnvironment, RawSmokeTest, RawStrategy, RawTarget, StrategyKind, TargetKind,
};
use super::validate::duration_or;

/// SageMaker's `WaitIntervalInSeconds` is at most 3600.
const SAGEMAKER_MAX_WAIT: Duration = Duration::from_secs(3_600);

/// `position` and `count` place the environment in the promotion chain, which
/// decides its default approval.
pub(super) fn environment(
    path: &str,
    position: usize,
    count: usize,
    raw: RawEnvironment,
    errors: &mut Errors,
) -> Environment {
    let name = match raw.name {
        None => {
            errors.add(
                field(path, "name"),
                "missing; name the environment, like \"staging\" or \"prod\"",
            );
            String::new()
        }
        Some(name) => {
            if !names::is_group_name(&name) {
                errors.add(
                    field(path, "name"),
                    format!(
                        "\"{name}\" is not a valid environment name: letters, digits and hyphens, \
                         starting and ending with a letter or digit, at most 63 characters"
                    ),
                );
            }
            name
        }
    };
    let (target, kind) = target(&field(path, "target"), raw.target, errors);
    let strategy = strategy(&field(path, "strategy"), raw.strategy, kind, errors);
    let alarms_path = field(path, "alarms");
    for (i, alarm) in raw.alarms.iter().enumerate() {
        let at = index(&alarms_path, i);
        if !names::is_alarm_name(alarm) {
            errors.add(
                &at,
                format!("\"{alarm}\" is not a valid CloudWatch alarm name (1 to 255 characters)"),
            );
        } else if raw.alarms[..i].contains(alarm) {
            errors.add(&at, format!("\"{alarm}\" is listed twice"));
        }
    }
    let bake = duration_or(&field(path, "bake"), raw.bake, DEFAULT_BAKE, errors);
    let smoke_test = raw
        .smoke_test
        .map(|raw| smoke_test(&field(path, "smoke_test"), raw, errors));
    let data_capture = raw
        .data_capture
        .map(|raw| data_capture(&field(path, "data_capture"), raw, kind, errors));
    Environment {
        name,
        target,
        strategy,
        alarms: raw.alarms,
        bake,
        smoke_test,
        approval: raw.approval.unwrap_or(default_approval(position, count)),
        data_capture,
    }
}

fn placeholder_target() -> Target {
    Target::SageMakerEndpoint {
        endpoint: String::new(),
        instance_type: String::new(),
        instance_count: DEFAULT_INSTANCE_COUNT,
    }
}

fn target(path: &str, raw: Option<RawTarget>, errors: &mut Errors) -> (Target, Option<TargetKind>) {
    let Some(raw) = raw else {
        errors.add(
            path,
            "missing; where the model is served, like target = { kind = \"sagemaker-endpoint\", \
             endpoint = \"my-model-prod\", instance_type = \"ml.m5.large\" }",
        );
        return (placeholder_target(), None);
    };
    let Some(kind) = raw.kind else {
        errors.add(
            field(path, "kind"),
            "missing; \"sagemaker-endpoint\" or \"lambda-alias\"",
        );
        return (placeholder_target(), None);
    };
    let mut misplaced = |key: &str, set: bool, belongs_to: &str| {
        if set {
            errors.add(
                field(path, key),
                format!("only a {belongs_to} target has `{key}`"),
            );
        }
    };
    let target = match kind {
        TargetKind::SagemakerEndpoint => {
            misplaced("function", raw.function.is_some(), "lambda-alias");
            misplaced("alias", raw.alias.is_some(), "lambda-alias");
            let endpoint = required(
                path,
                "endpoint",
                raw.endpoint,
                "the SageMaker endpoint name",
                errors,
            );
            if !endpoint.is_empty() && !names::is_endpoint_name(&endpoint) {
                errors.add(
                    field(path, "endpoint"),
                    format!(
                        "\"{endpoint}\" is not a valid endpoint name: letters, digits and hyphens, \
                         starting and ending with a letter or digit, at most 63 characters"
                    ),
                );
            }
            let instance_type = required(
                path,
                "instance_type",
                raw.instance_type,
                "like \"ml.m5.large\"",
                errors,
            );
            if !instance_type.is_empty() && !names::is_instance_type(&instance_type) {
                errors.add(
                    field(path, "instance_type"),
                    format!("\"{instance_type}\" is not a SageMaker instance type; they start with \"ml.\", like \"ml.m5.large\""),
                );
            }
            let instance_count = match raw.instance_count {
                None => DEFAULT_INSTANCE_COUNT,
                Some(n) => u32::try_from(n)
                    .ok()
                    .filter(|n| *n >= 1)
                    .unwrap_or_else(|| {
                        errors.add(
                            field(path, "instance_count"),
                            format!("{n} is out of range: at least 1 instance"),
                        );
                        DEFAULT_INSTANCE_COUNT
                    }),
            };
            Target::SageMakerEndpoint {
                endpoint,
                instance_type,
                instance_count,
            }
        }
        TargetKind::LambdaAlias => {
            misplaced("endpoint", raw.endpoint.is_some(), "sagemaker-endpoint");
            misplaced(
                "instance_type",
                raw.instance_type.is_some(),
                "sagemaker-endpoint",
            );
            misplaced(
                "instance_count",
                raw.instance_count.is_some(),
                "sagemaker-endpoint",
            );
            let function = required(
                path,
                "function",
                raw.function,
                "the Lambda function name",
                errors,
            );
            if !function.is_empty() && !names::is_function_name(&function) {
                errors.add(
                    field(path, "function"),
                    format!("\"{function}\" is not a Lambda function name: 1 to 64 letters, digits, '-' or '_' (a name, not an ARN)"),
                );
            }
            let alias = required(
                path,
                "alias",
                raw.alias,
                "the alias that serves traffic, like \"live\"",
                errors,
            );
            if !alias.is_empty() && !names::is_alias_name(&alias) {
                errors.add(
                    field(path, "alias"),
                    format!("\"{alias}\" is not a Lambda alias name: 1 to 128 letters, digits, '-' or '_', not all digits"),
                );
            }
            Target::LambdaAlias { function, alias }
        }
    };
    (target, Some(kind))
}

fn required(
    path: &str,
    key: &str,
    value: Option<String>,
    what: &str,
    errors: &mut Errors,
) -> String {
    value.unwrap_or_else(|| {
        errors.add(field(path, key), format!("missing; {what}"));
        String::new()
    })
}

fn strategy(
    path: &str,
    raw: Option<RawStrategy>,
    target: Option<TargetKind>,
    errors: &mut Errors,
) -> Strategy {
    let Some(raw) = raw else {
        return Strategy::AllAtOnce;
    };
    let Some(kind) = raw.kind else {
        errors.add(
            field(path, "kind"),
            "missing; \"all-at-once\", \"canary\" or \"linear\"",
        );
        return Strategy::AllAtOnce;
    };
    let mut unused = |key: &str, set: bool, users: &str| {
        if set {
            errors.add(field(path, key), format!("only {users} uses `{key}`"));
        }
    };
    let on_sagemaker = target == Some(TargetKind::SagemakerEndpoint);
    match kind {
        StrategyKind::AllAtOnce => {
            unused("size_percent", raw.size_percent.is_some(), "a canary");
            unused(
                "step_percent",
                raw.step_percent.is_some(),
                "a linear rollout",
            );
            unused("wait", raw.wait.is_some(), "a canary or a linear rollout");
            Strategy::AllAtOnce
        }
        StrategyKind::Canary => {
            unused(
                "step_percent",
                raw.step_percent.is_some(),
                "a linear rollout (a canary has `size_percent`)",
            );
            let (range, why) = if on_sagemaker {
                (
                    1..=50,
                    " (SageMaker allows a canary of at most half the endpoint)",
                )
            } else {
                (1..=99, "")
            };
            let size_percent = percent(
                &field(path, "size_percent"),
                raw.size_percent,
                range,
                why,
                errors,
            );
            let wait = wait(&field(path, "wait"), raw.wait, target, errors);
            Strategy::Canary { size_percent, wait }
        }
        StrategyKind::Linear => {
            unused(
                "size_percent",
                raw.size_percent.is_some(),
                "a canary (a linear rollout has `step_percent`)",
            );
            let at = field(path, "step_percent");
            let (range, why) = if on_sagemaker {
                (10..=50, " (SageMaker wants linear steps of 10% to 50%)")
            } else {
                (1..=50, "")
            };
            let before = errors.len();
            let step_percent = percent(&at, raw.step_percent, range, why, errors);
            if errors.len() == before && 100 % step_percent != 0 {
                errors.add(
                    &at,
                    format!(
                        "{step_percent} does not divide 100, so the steps would be uneven; use a divisor of 100, like 10, 20, 25 or 50"
                    ),
                );
            }
            let wait = wait(&field(path, "wait"), raw.wait, target, errors);
            Strategy::Linear { step_percent, wait }
        }
    }
}

/// A whole percentage within `range`; missing or out of range is reported and the
/// range's start is used in its place.
fn percent(
    path: &str,
    value: Option<i64>,
    range: RangeInclusive<u8>,
    why: &str,
    errors: &mut Errors,
) -> u8 {
    let (low, high) = (*range.start(), *range.end());
    match value {
        None => {
            errors.add(
                path,
                format!("missing; a whole percentage from {low} to {high}{why}"),
            );
            low
        }
        Some(v) => match u8::try_from(v).ok().filter(|v| range.contains(v)) {
            Some(v) => v,
            None => {
                errors.add(
                    path,
                    format!("{v} is out of range: from {low} to {high}{why}"),
                );
                low
            }
        },
    }
}

fn wait(
    path: &str,
    raw: Option<super::raw::RawDuration>,
    target: Option<TargetKind>,
    errors: &mut Errors,
) -> Duration {
    if raw.is_none() {
        errors.add(
            path,
            "missing; how long each step must stay healthy before the next, like \"10m\"",
        );
        return Duration::ZERO;
    }
    let before = errors.len();
    let wait = duration_or(path, raw, Duration::ZERO, errors);
    if errors.len() > before {
        return wait;
    }
    if wait.is_zero() {
        errors.add(
            path,
            "must be longer than 0s: alarms need time to see the new model",
        );
    }
    match target {
        Some(TargetKind::SagemakerEndpoint) if wait > SAGEMAKER_MAX_WAIT => errors.add(
            path,
            format!(
                "{} is too long: SageMaker waits at most {} between steps",
                format_duration(wait),
                format_duration(SAGEMAKER_MAX_WAIT)
            ),
        ),
        Some(TargetKind::LambdaAlias) if !wait.as_secs().is_multiple_of(60) => errors.add(
            path,
            format!(
                "{} is not whole minutes, and CodeDeploy counts in minutes; use a multiple of 1m",
                format_duration(wait)
            ),
        ),
        _ => {}
    }
    wait
}

fn smoke_test(path: &str, raw: RawSmokeTest, errors: &mut Errors) -> SmokeTest {
    let cases = required(
        path,
        "cases",
        raw.cases,
        "the s3:// URI of the JSON-lines file of known cases",
        errors,
    );
    if !cases.is_empty() {
        if let Err(message) = names::check_s3_uri(&cases, true) {
            errors.add(field(path, "cases"), message);
        }
    }
    let tolerance = raw.tolerance.unwrap_or(DEFAULT_SMOKE_TOLERANCE);
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        errors.add(
            field(path, "tolerance"),
            format!("{tolerance} is out of range: a finite number, 0 or more"),
        );
    }
    SmokeTest { cases, tolerance }
}

fn data_capture(
    path: &str,
    raw: RawDataCapture,
    target: Option<TargetKind>,
    errors: &mut Errors,
) -> DataCapture {
    if target == Some(TargetKind::LambdaAlias) {
        errors.add(path, "only a SageMaker endpoint captures data; remove data_capture from a lambda-alias environment");
    }
    let percent = percent(&field(path, "percent"), raw.percent, 1..=100, "", errors);
    let destination = required(
        path,
        "destination",
        raw.destination,
        "the s3:// prefix the captured requests are written under",
        errors,
    );
    if !destination.is_empty() {
        if let Err(message) = names::check_s3_uri(&destination, false) {
            errors.add(field(path, "destination"), message);
        }
    }
    DataCapture {
        percent,
        destination,
    }
}
