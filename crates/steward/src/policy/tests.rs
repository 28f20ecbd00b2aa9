//! Behaviour of `Policy::parse` and `Policy::watching` as a user meets it: the
//! example file, defaults, each validation rule, and error reporting.

use std::time::Duration;

use super::*;

const EXAMPLE: &str = include_str!("../../../../examples/steward.toml");

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn example() -> Policy {
    match Policy::parse(EXAMPLE) {
        Ok(policy) => policy,
        Err(errors) => panic!("examples/steward.toml does not parse:\n{errors}"),
    }
}

/// A valid one-group policy (`fraud`), written with inline values so a test can
/// replace, add or (with `""`) remove any top-level key of the group.
fn fraud(overrides: &[(&str, &str)]) -> String {
    let mut keys: Vec<(String, String)> = [
        ("approvers", r#"["ana@acme.com"]"#),
        ("pipeline", r#"{ name = "fraud-train" }"#),
        (
            "environments",
            r#"[{ name = "prod", target = { kind = "sagemaker-endpoint", endpoint = "fraud-prod", instance_type = "ml.m5.large" } }]"#,
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (key, value) in overrides {
        keys.retain(|(k, _)| k != key);
        if !value.is_empty() {
            keys.push((key.to_string(), value.to_string()));
        }
    }
    let mut text = String::from("[groups.fraud]\n");
    for (key, value) in keys {
        text.push_str(&format!("{key} = {value}\n"));
    }
    text
}

/// Environments for `fraud`: each entry is the inside of one inline table.
fn envs(tables: &[&str]) -> String {
    let tables: Vec<String> = tables.iter().map(|t| format!("{{ {t} }}")).collect();
    format!("[{}]", tables.join(", "))
}

const SM: &str = r#"target = { kind = "sagemaker-endpoint", endpoint = "fraud-prod", instance_type = "ml.m5.large", instance_count = 4 }"#;
const LAMBDA: &str =
    r#"target = { kind = "lambda-alias", function = "fraud-model", alias = "live" }"#;

fn errors_of(text: &str) -> PolicyErrors {
    match Policy::parse(text) {
        Ok(policy) => panic!("expected errors, parsed {policy:#?}\nfrom:\n{text}"),
        Err(errors) => errors,
    }
}

/// Asserts exactly one error at `path`, mentioning `says`.
fn assert_error(text: &str, path: &str, says: &str) {
    let errors = errors_of(text);
    let at: Vec<&PolicyError> = errors.at(path).collect();
    assert!(
        at.len() == 1 && at[0].message.contains(says),
        "expected one error at `{path}` saying {says:?}; got:\n{errors}\nfrom:\n{text}"
    );
}

#[test]
fn the_example_parses_with_its_values() {
    let policy = example();
    assert_eq!(
        policy.groups.keys().collect::<Vec<_>>(),
        ["attrition", "payroll-fraud"]
    );

    let fraud = policy.group("payroll-fraud").expect("payroll-fraud");
    assert_eq!(fraud.name, "payroll-fraud");
    assert_eq!(fraud.pipeline.name, "payroll-fraud-train");
    assert_eq!(fraud.pipeline.parameters, PipelineParameters::default());
    assert_eq!(
        fraud.data,
        Some(DataWatch {
            bucket: "acme-ml-data".into(),
            prefix: "payroll-fraud/transactions/".into(),
            debounce: Debounce::Marker {
                marker: "_SUCCESS".into()
            },
        })
    );
    assert_eq!(
        fraud.retrain,
        RetrainGuard {
            cooldown: secs(7_200),
            max_per_day: 4
        }
    );
    assert_eq!(fraud.schedule, None);
    assert_eq!(fraud.stewards, ["ml-fraud@acme.com"]);
    assert_eq!(fraud.approvers, ["ana.lima@acme.com", "raj.patel@acme.com"]);
    assert_eq!(fraud.approval_lifetime, secs(48 * 3_600));

    let auc = "binary_classification_metrics.auc.value";
    assert_eq!(fraud.gate.thresholds.len(), 3);
    let auc_threshold = fraud
        .gate
        .thresholds
        .iter()
        .find(|t| t.metric == auc)
        .expect("auc threshold");
    assert_eq!((auc_threshold.min, auc_threshold.max), (Some(0.90), None));
    let precision = fraud
        .gate
        .thresholds
        .iter()
        .find(|t| t.metric == "binary_classification_metrics.precision.value")
        .expect("precision threshold");
    assert_eq!((precision.min, precision.max), (Some(0.60), Some(0.999)));
    assert_eq!(
        fraud.gate.no_regression,
        [NoRegression {
            metric: auc.into(),
            tolerance: 0.01,
            better: Better::Higher
        }]
    );
    assert_eq!(
        fraud.gate.required_metrics,
        ["binary_classification_metrics.f1.value"]
    );
    assert!(fraud.gate.metrics().contains(auc));

    let [staging, prod] = fraud.environments.as_slice() else {
        panic!("payroll-fraud has two environments")
    };
    assert_eq!(staging.name, "staging");
    assert_eq!(
        staging.target,
        Target::SageMakerEndpoint {
            endpoint: "payroll-fraud-staging".into(),
            instance_type: "ml.m5.large".into(),
            instance_count: 1
        }
    );
    assert_eq!(staging.strategy, Strategy::AllAtOnce);
    assert_eq!(staging.bake, DEFAULT_BAKE);
    assert_eq!(staging.approval, Approval::None);
    assert_eq!(
        staging.smoke_test,
        Some(SmokeTest {
            cases: "s3://acme-ml-data/payroll-fraud/smoke/cases.jsonl".into(),
            tolerance: 0.001
        })
    );
    assert_eq!(prod.name, "prod");
    assert_eq!(
        prod.strategy,
        Strategy::Canary {
            size_percent: 10,
            wait: secs(600)
        }
    );
    assert_eq!(
        prod.alarms,
        ["payroll-fraud-prod-5xx", "payroll-fraud-prod-latency-p99"]
    );
    assert_eq!(prod.bake, secs(1_800));
    assert_eq!(prod.approval, Approval::Required);
    assert_eq!(
        prod.data_capture,
        Some(DataCapture {
            percent: 20,
            destination: "s3://acme-ml-capture/payroll-fraud/prod/".into()
        })
    );
    assert_eq!(
        fraud.first_environment().map(|e| e.name.as_str()),
        Some("staging")
    );
    assert_eq!(
        fraud.next_environment("staging").map(|e| e.name.as_str()),
        Some("prod")
    );
    assert_eq!(fraud.next_environment("prod"), None);

    let attrition = policy.group("attrition").expect("attrition");
    assert_eq!(attrition.schedule.as_deref(), Some("cron(0 6 ? * MON *)"));
    assert_eq!(
        attrition.data.as_ref().map(|d| &d.debounce),
        Some(&Debounce::QuietWindow {
            window: secs(1_800)
        })
    );
    assert_eq!(attrition.retrain, RetrainGuard::default());
    assert_eq!(attrition.approval_lifetime, DEFAULT_APPROVAL_LIFETIME);
    assert_eq!(attrition.pipeline.parameters, PipelineParameters::default());
    let fpr = attrition
        .gate
        .no_regression
        .iter()
        .find(|n| n.metric == "binary_classification_metrics.false_positive_rate.value")
        .expect("fpr no-regression");
    assert_eq!((fpr.tolerance, fpr.better), (0.02, Better::Lower));
    let [staging, prod] = attrition.environments.as_slice() else {
        panic!("attrition has two environments")
    };
    assert_eq!(
        staging.target,
        Target::LambdaAlias {
            function: "attrition-model-staging".into(),
            alias: "live".into()
        }
    );
    assert_eq!(staging.approval, Approval::Auto);
    assert_eq!(staging.smoke_test.as_ref().map(|s| s.tolerance), Some(0.0));
    assert_eq!(
        prod.strategy,
        Strategy::Linear {
            step_percent: 20,
            wait: secs(300)
        }
    );
    assert_eq!(prod.approval, Approval::Required);
    assert_eq!(prod.bake, secs(3_600));
}

#[test]
fn defaults_apply_when_keys_are_omitted() {
    let policy = Policy::parse(&fraud(&[("data", r#"{ bucket = "acme-ml-data" }"#)]))
        .unwrap_or_else(|e| panic!("{e}"));
    let group = policy.group("fraud").expect("fraud");
    assert_eq!(group.pipeline.parameters.input_data, "InputDataUrl");
    assert_eq!(group.pipeline.parameters.data_version, "DataVersion");
    assert_eq!(group.pipeline.parameters.trigger, "Trigger");
    assert_eq!(group.pipeline.parameters.commit, "GitCommit");
    let data = group.data.as_ref().expect("data");
    assert_eq!(data.prefix, "");
    assert_eq!(
        data.debounce,
        Debounce::Marker {
            marker: "_SUCCESS".into()
        }
    );
    assert_eq!(group.retrain.cooldown, secs(3_600));
    assert_eq!(group.retrain.max_per_day, 6);
    assert_eq!(group.schedule, None);
    assert_eq!(group.gate, Gate::default());
    assert!(group.stewards.is_empty());
    assert_eq!(group.approval_lifetime, secs(72 * 3_600));
    let env = &group.environments[0];
    assert_eq!(env.strategy, Strategy::AllAtOnce);
    assert_eq!(env.bake, secs(600));
    assert!(env.alarms.is_empty());
    assert_eq!(env.smoke_test, None);
    assert_eq!(env.data_capture, None);
    assert_eq!(
        env.target,
        Target::SageMakerEndpoint {
            endpoint: "fraud-prod".into(),
            instance_type: "ml.m5.large".into(),
            instance_count: 1
        }
    );
    // A lone environment needs a person by default.
    assert_eq!(env.approval, Approval::Required);
}

#[test]
fn pipeline_parameters_can_be_renamed() {
    let text = fraud(&[(
        "pipeline",
        r#"{ name = "fraud-train", parameters = { input_data = "TrainingDataUri", commit = "Sha" } }"#,
    )]);
    let policy = Policy::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let parameters = &policy.groups["fraud"].pipeline.parameters;
    assert_eq!(parameters.input_data, "TrainingDataUri");
    assert_eq!(parameters.data_version, "DataVersion");
    assert_eq!(parameters.trigger, "Trigger");
    assert_eq!(parameters.commit, "Sha");
}

#[test]
fn default_approval_is_none_first_then_required() {
    let text = fraud(&[(
        "environments",
        &envs(&[
            r#"name = "staging", target = { kind = "lambda-alias", function = "f", alias = "live" }"#,
            &format!(r#"name = "prod", {SM}"#),
            r#"name = "dr", target = { kind = "sagemaker-endpoint", endpoint = "fraud-dr", instance_type = "ml.m5.large" }"#,
        ]),
    )]);
    let policy = Policy::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let approvals: Vec<Approval> = policy.groups["fraud"]
        .environments
        .iter()
        .map(|e| e.approval)
        .collect();
    assert_eq!(
        approvals,
        [Approval::None, Approval::Required, Approval::Required]
    );
    assert_eq!(default_approval(0, 1), Approval::Required);
}

#[test]
fn each_rule_reports_its_path() {
    let env_with = |extra: &str| envs(&[&format!(r#"name = "prod", {SM}, {extra}"#)]);
    let lambda_with = |extra: &str| envs(&[&format!(r#"name = "prod", {LAMBDA}, {extra}"#)]);
    let e0 = "groups.fraud.environments[0]";
    let cases: Vec<(String, String, &str)> = vec![
        // pipeline
        (
            fraud(&[("pipeline", "")]),
            "groups.fraud.pipeline".into(),
            "missing",
        ),
        (
            fraud(&[("pipeline", r#"{ parameters = { trigger = "T" } }"#)]),
            "groups.fraud.pipeline.name".into(),
            "missing",
        ),
        (
            fraud(&[("pipeline", r#"{ name = "fraud_train" }"#)]),
            "groups.fraud.pipeline.name".into(),
            "not a valid SageMaker pipeline name",
        ),
        (
            fraud(&[(
                "pipeline",
                r#"{ name = "p", parameters = { trigger = "GitCommit" } }"#,
            )]),
            "groups.fraud.pipeline.parameters.commit".into(),
            "also the name given to `trigger`",
        ),
        (
            fraud(&[(
                "pipeline",
                r#"{ name = "p", parameters = { input_data = "Input Data" } }"#,
            )]),
            "groups.fraud.pipeline.parameters.input_data".into(),
            "not a valid pipeline parameter name",
        ),
        // data watch
        (
            fraud(&[("data", r#"{ prefix = "x/" }"#)]),
            "groups.fraud.data.bucket".into(),
            "missing",
        ),
        (
            fraud(&[("data", r#"{ bucket = "Acme_Data" }"#)]),
            "groups.fraud.data.bucket".into(),
            "not a valid S3 bucket name",
        ),
        (
            fraud(&[("data", r#"{ bucket = "acme", prefix = "/fraud/" }"#)]),
            "groups.fraud.data.prefix".into(),
            "starts with '/'",
        ),
        (
            fraud(&[(
                "data",
                r#"{ bucket = "acme", debounce = { marker = "done/_SUCCESS" } }"#,
            )]),
            "groups.fraud.data.debounce.marker".into(),
            "contains '/'",
        ),
        (
            fraud(&[("data", r#"{ bucket = "acme", debounce = { marker = "" } }"#)]),
            "groups.fraud.data.debounce.marker".into(),
            "empty",
        ),
        (
            fraud(&[(
                "data",
                r#"{ bucket = "acme", debounce = { quiet_window = "0s" } }"#,
            )]),
            "groups.fraud.data.debounce.quiet_window".into(),
            "longer than 0s",
        ),
        (
            fraud(&[(
                "data",
                r#"{ bucket = "acme", debounce = { quiet_window = "30" } }"#,
            )]),
            "groups.fraud.data.debounce.quiet_window".into(),
            "no unit",
        ),
        (
            fraud(&[(
                "data",
                r#"{ bucket = "acme", debounce = { marker = "_SUCCESS", quiet_window = "5m" } }"#,
            )]),
            "groups.fraud.data.debounce".into(),
            "not both",
        ),
        (
            fraud(&[("data", r#"{ bucket = "acme", debounce = {} }"#)]),
            "groups.fraud.data.debounce".into(),
            "set `marker`",
        ),
        // retrain and schedule
        (
            fraud(&[("retrain", "{ max_per_day = 0 }")]),
            "groups.fraud.retrain.max_per_day".into(),
            "at least 1",
        ),
        (
            fraud(&[("retrain", r#"{ cooldown = "1h30m" }"#)]),
            "groups.fraud.retrain.cooldown".into(),
            "\"1h30m\"",
        ),
        (
            fraud(&[("schedule", r#""cron(0 6 * * MON *)""#)]),
            "groups.fraud.schedule".into(),
            "must be '?'",
        ),
        (
            fraud(&[("schedule", r#""every monday""#)]),
            "groups.fraud.schedule".into(),
            "not a schedule expression",
        ),
        // gate
        (
            fraud(&[("gate", r#"{ thresholds = { "a.b" = {} } }"#)]),
            r#"groups.fraud.gate.thresholds."a.b""#.into(),
            "set `min`, `max` or both",
        ),
        (
            fraud(&[(
                "gate",
                r#"{ thresholds = { "a.b" = { min = 0.9, max = 0.8 } } }"#,
            )]),
            r#"groups.fraud.gate.thresholds."a.b""#.into(),
            "min 0.9 is greater than max 0.8",
        ),
        (
            fraud(&[("gate", r#"{ thresholds = { "a.b" = { min = nan } } }"#)]),
            r#"groups.fraud.gate.thresholds."a.b".min"#.into(),
            "not a finite number",
        ),
        (
            fraud(&[(
                "gate",
                r#"{ no_regression = { "a.b" = { tolerance = -0.01 } } }"#,
            )]),
            r#"groups.fraud.gate.no_regression."a.b".tolerance"#.into(),
            "negative",
        ),
        (
            fraud(&[("gate", r#"{ thresholds = { "a..b" = { min = 1 } } }"#)]),
            r#"groups.fraud.gate.thresholds."a..b""#.into(),
            "not a metric path",
        ),
        (
            fraud(&[("gate", r#"{ required_metrics = ["auc", "auc"] }"#)]),
            "groups.fraud.gate.required_metrics[1]".into(),
            "listed twice",
        ),
        // people and approval
        (
            fraud(&[("approvers", "")]),
            "groups.fraud.approvers".into(),
            "environment \"prod\" needs approval",
        ),
        (
            fraud(&[("approvers", r#"["ana@acme.com", "raj"]"#)]),
            "groups.fraud.approvers[1]".into(),
            "does not look like an email",
        ),
        (
            fraud(&[("stewards", r#"["team@acme"]"#)]),
            "groups.fraud.stewards[0]".into(),
            "does not look like an email",
        ),
        (
            fraud(&[("approval_lifetime", r#""4m""#)]),
            "groups.fraud.approval_lifetime".into(),
            "between 5m and 7d",
        ),
        (
            fraud(&[("approval_lifetime", r#""8d""#)]),
            "groups.fraud.approval_lifetime".into(),
            "between 5m and 7d",
        ),
        // environments
        (
            fraud(&[("environments", "[]")]),
            "groups.fraud.environments".into(),
            "at least one",
        ),
        (
            fraud(&[(
                "environments",
                &envs(&[
                    &format!(r#"name = "prod", {SM}"#),
                    &format!(r#"name = "prod", {LAMBDA}"#),
                ]),
            )]),
            "groups.fraud.environments[1].name".into(),
            "already the name of environments[0]",
        ),
        (
            fraud(&[("environments", &envs(&[SM]))]),
            format!("{e0}.name"),
            "missing",
        ),
        (
            fraud(&[(
                "environments",
                &envs(&[&format!(r#"name = "prod_eu", {SM}"#)]),
            )]),
            format!("{e0}.name"),
            "not a valid environment name",
        ),
        (
            fraud(&[("environments", &envs(&[r#"name = "prod""#]))]),
            format!("{e0}.target"),
            "missing",
        ),
        (
            fraud(&[(
                "environments",
                &envs(&[r#"name = "prod", target = { endpoint = "e" }"#]),
            )]),
            format!("{e0}.target.kind"),
            "missing",
        ),
        (
            fraud(&[(
                "environments",
                &envs(&[
                    r#"name = "prod", target = { kind = "sagemaker-endpoint", endpoint = "fraud.prod", instance_type = "ml.m5.large" }"#,
                ]),
            )]),
            format!("{e0}.target.endpoint"),
            "not a valid endpoint name",
        ),
        (
            fraud(&[(
                "environments",
                &envs(&[
                    r#"name = "prod", target = { kind = "sagemaker-endpoint", endpoint = "e" }"#,
                ]),
            )]),
            format!("{e0}.target.instance_type"),
            "missing",
        ),
        (
            fraud(&[(
                "environments",
                &envs(&[
                    r#"name = "prod", target = { kind = "sagemaker-endpoint", endpoint = "e", instance_type = "m5.large" }"#,
                ]),
            )]),
            format!("{e0}.target.instance_type"),
            "start with \"ml.\"",
        ),
        (
            fraud(&[(
                "environments",
                &envs(&[
                    r#"name = "prod", target = { kind = "sagemaker-endpoint", endpoint = "e", instance_type = "ml.m5.large", instance_count = 0 }"#,
                ]),
            )]),
            format!("{e0}.target.instance_count"),
            "at least 1",
        ),
        (
            fraud(&[(
                "environments",
                &envs(&[
                    r#"name = "prod", target = { kind = "sagemaker-endpoint", endpoint = "e", instance_type = "ml.m5.large", alias = "live" }"#,
                ]),
            )]),
            format!("{e0}.target.alias"),
            "only a lambda-alias target",
        ),
        (
            fraud(&[(
                "environments",
                &envs(&[
                    r#"name = "prod", target = { kind = "lambda-alias", function = "arn:aws:lambda:x", alias = "live" }"#,
                ]),
            )]),
            format!("{e0}.target.function"),
            "not a Lambda function name",
        ),
        (
            fraud(&[(
                "environments",
                &envs(&[r#"name = "prod", target = { kind = "lambda-alias", function = "f" }"#]),
            )]),
            format!("{e0}.target.alias"),
            "missing",
        ),
        // strategies
        (
            fraud(&[(
                "environments",
                &env_with(r#"strategy = { size_percent = 10 }"#),
            )]),
            format!("{e0}.strategy.kind"),
            "missing",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"strategy = { kind = "all-at-once", wait = "5m" }"#),
            )]),
            format!("{e0}.strategy.wait"),
            "only a canary or a linear rollout uses `wait`",
        ),
        (
            fraud(&[(
                "environments",
                &lambda_with(r#"strategy = { kind = "canary", size_percent = 0, wait = "5m" }"#),
            )]),
            format!("{e0}.strategy.size_percent"),
            "from 1 to 99",
        ),
        (
            fraud(&[(
                "environments",
                &lambda_with(r#"strategy = { kind = "canary", size_percent = 100, wait = "5m" }"#),
            )]),
            format!("{e0}.strategy.size_percent"),
            "from 1 to 99",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"strategy = { kind = "canary", size_percent = 60, wait = "5m" }"#),
            )]),
            format!("{e0}.strategy.size_percent"),
            "at most half",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"strategy = { kind = "canary", wait = "5m" }"#),
            )]),
            format!("{e0}.strategy.size_percent"),
            "missing",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"strategy = { kind = "canary", size_percent = 10 }"#),
            )]),
            format!("{e0}.strategy.wait"),
            "missing",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"strategy = { kind = "canary", size_percent = 10, wait = "0s" }"#),
            )]),
            format!("{e0}.strategy.wait"),
            "longer than 0s",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"strategy = { kind = "canary", size_percent = 10, wait = "2h" }"#),
            )]),
            format!("{e0}.strategy.wait"),
            "at most 1h",
        ),
        (
            fraud(&[(
                "environments",
                &lambda_with(r#"strategy = { kind = "canary", size_percent = 10, wait = "90s" }"#),
            )]),
            format!("{e0}.strategy.wait"),
            "whole minutes",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(
                    r#"strategy = { kind = "canary", size_percent = 10, step_percent = 10, wait = "5m" }"#,
                ),
            )]),
            format!("{e0}.strategy.step_percent"),
            "only a linear rollout",
        ),
        (
            fraud(&[(
                "environments",
                &lambda_with(r#"strategy = { kind = "linear", step_percent = 60, wait = "5m" }"#),
            )]),
            format!("{e0}.strategy.step_percent"),
            "from 1 to 50",
        ),
        (
            fraud(&[(
                "environments",
                &lambda_with(r#"strategy = { kind = "linear", step_percent = 30, wait = "5m" }"#),
            )]),
            format!("{e0}.strategy.step_percent"),
            "does not divide 100",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"strategy = { kind = "linear", step_percent = 5, wait = "5m" }"#),
            )]),
            format!("{e0}.strategy.step_percent"),
            "from 10 to 50",
        ),
        // alarms, bake, smoke test, data capture
        (
            fraud(&[("environments", &env_with(r#"alarms = ["a", ""]"#))]),
            format!("{e0}.alarms[1]"),
            "not a valid CloudWatch alarm name",
        ),
        (
            fraud(&[("environments", &env_with(r#"bake = "ten minutes""#))]),
            format!("{e0}.bake"),
            "no number",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"smoke_test = { cases = "https://acme/cases.jsonl" }"#),
            )]),
            format!("{e0}.smoke_test.cases"),
            "starting with s3://",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"smoke_test = { cases = "s3://acme/c.jsonl", tolerance = -1.0 }"#),
            )]),
            format!("{e0}.smoke_test.tolerance"),
            "0 or more",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"smoke_test = { tolerance = 0.1 }"#),
            )]),
            format!("{e0}.smoke_test.cases"),
            "missing",
        ),
        (
            fraud(&[(
                "environments",
                &lambda_with(
                    r#"data_capture = { percent = 10, destination = "s3://acme/capture/" }"#,
                ),
            )]),
            format!("{e0}.data_capture"),
            "only a SageMaker endpoint",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"data_capture = { percent = 0, destination = "s3://acme/capture/" }"#),
            )]),
            format!("{e0}.data_capture.percent"),
            "from 1 to 100",
        ),
        (
            fraud(&[(
                "environments",
                &env_with(r#"data_capture = { percent = 10, destination = "acme/capture/" }"#),
            )]),
            format!("{e0}.data_capture.destination"),
            "s3://",
        ),
    ];
    for (text, path, says) in &cases {
        assert_error(text, path, says);
    }
}

#[test]
fn group_names_must_be_model_package_group_names() {
    let text = fraud(&[]).replace("[groups.fraud]", "[groups.fraud_model]");
    assert_error(
        &text,
        "groups.fraud_model",
        "not a valid model package group name",
    );
    let text = fraud(&[]).replace("[groups.fraud]", "[groups.\"fraud model\"]");
    assert_error(
        &text,
        "groups.\"fraud model\"",
        "not a valid model package group name",
    );
}

#[test]
fn overlapping_watches_name_both_groups() {
    let text = format!(
        "{}{}",
        fraud(&[("data", r#"{ bucket = "acme", prefix = "fraud/" }"#)]),
        fraud(&[
            ("data", r#"{ bucket = "acme", prefix = "fraud/payroll/" }"#),
            (
                "environments",
                r#"[{ name = "prod", target = { kind = "lambda-alias", function = "f", alias = "live" } }]"#,
            ),
        ])
        .replace("[groups.fraud]", "[groups.payroll]")
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors}");
    let error = &errors.0[0];
    assert_eq!(error.path, "groups.payroll.data.prefix");
    assert!(
        error.message.contains("groups fraud and payroll"),
        "{}",
        error.message
    );

    // Same prefix in another bucket, or disjoint prefixes, are fine.
    for data in [
        r#"{ bucket = "acme-other", prefix = "fraud/" }"#,
        r#"{ bucket = "acme", prefix = "payroll/" }"#,
    ] {
        let text = format!(
            "{}{}",
            fraud(&[("data", r#"{ bucket = "acme", prefix = "fraud/" }"#)]),
            fraud(&[
                ("data", data),
                (
                    "environments",
                    r#"[{ name = "prod", target = { kind = "lambda-alias", function = "f", alias = "live" } }]"#,
                ),
            ])
            .replace("[groups.fraud]", "[groups.payroll]")
        );
        Policy::parse(&text).unwrap_or_else(|e| panic!("{data}: {e}"));
    }
}

#[test]
fn an_endpoint_belongs_to_one_environment_across_groups() {
    let text = format!(
        "{}{}",
        fraud(&[]),
        fraud(&[]).replace("[groups.fraud]", "[groups.payroll]")
    );
    assert_error(
        &text,
        "groups.payroll.environments[0].target.endpoint",
        "endpoint fraud-prod is also the target of groups.fraud.environments[0]",
    );
    let text = fraud(&[(
        "environments",
        &envs(&[
            &format!(r#"name = "staging", {LAMBDA}"#),
            &format!(r#"name = "prod", {LAMBDA}"#),
        ]),
    )]);
    assert_error(
        &text,
        "groups.fraud.environments[1].target",
        "lambda fraud-model:live is also the target",
    );
}

#[test]
fn several_errors_are_reported_at_once() {
    let text = format!(
        "{}{}",
        fraud(&[
            ("approvers", r#"["not-an-email"]"#),
            ("approval_lifetime", r#""1m""#),
            ("schedule", r#""rate(1 days)""#),
            (
                "environments",
                &envs(&[&format!(
                    r#"name = "prod", {SM}, strategy = {{ kind = "canary", size_percent = 70, wait = "5x" }}"#
                )]),
            ),
        ]),
        // A second group with its own problem (and a deserialization error): it is
        // reported too, and does not hide the first group's.
        fraud(&[("pipeline", r#"{ name = "p", nmae = "typo" }"#)])
            .replace("[groups.fraud]", "[groups.other]"),
    );
    let errors = errors_of(&text);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    for path in [
        "groups.fraud.approvers[0]",
        "groups.fraud.approval_lifetime",
        "groups.fraud.schedule",
        "groups.fraud.environments[0].strategy.size_percent",
        "groups.fraud.environments[0].strategy.wait",
        "groups.other.pipeline.nmae",
    ] {
        assert!(paths.contains(&path), "{path} missing from:\n{errors}");
    }
    // Display: one `path: message` per line.
    let shown = errors.to_string();
    assert_eq!(shown.lines().count(), errors.len());
    assert!(shown
        .lines()
        .any(|l| l.starts_with("groups.fraud.schedule: ")));
}

#[test]
fn unknown_fields_are_caught_with_their_name_and_line() {
    let text = "[groups.fraud]\napprovers = [\"ana@acme.com\"]\npipeline = { name = \"p\" }\n\n[[groups.fraud.environments]]\nname = \"prod\"\nbkae = \"5m\"\n";
    let errors = errors_of(text);
    assert_eq!(errors.len(), 1, "{errors}");
    let error = &errors.0[0];
    assert_eq!(error.path, "groups.fraud.environments[0].bkae");
    assert!(
        error.message.contains("unknown field `bkae`"),
        "{}",
        error.message
    );
    assert!(error.message.contains("line 7"), "{}", error.message);

    let errors = errors_of(&format!("version = 2\n{}", fraud(&[])));
    assert_eq!(errors.0[0].path, "version");
    assert!(errors.0[0].message.contains("unknown field `version`"));

    let errors = errors_of(&fraud(&[(
        "environments",
        &envs(&[r#"name = "prod", target = { kind = "ec2", endpoint = "e" }"#]),
    )]));
    assert_eq!(errors.0[0].path, "groups.fraud.environments[0].target.kind");
    assert!(errors.0[0].message.contains("unknown variant `ec2`"));
}

#[test]
fn type_errors_name_the_field() {
    let errors = errors_of(&fraud(&[(
        "environments",
        &envs(&[&format!(r#"name = "prod", {SM}, bake = 600"#)]),
    )]));
    assert_eq!(errors.0[0].path, "groups.fraud.environments[0].bake");
    assert!(
        errors.0[0].message.contains("expected a duration such as"),
        "{}",
        errors.0[0].message
    );
}

#[test]
fn syntax_errors_and_empty_policies_are_reported() {
    let errors = errors_of("[groups.fraud\nname = 1\n");
    assert_eq!(errors.0[0].path, DOCUMENT);
    assert!(errors.0[0].message.contains("line 1"), "{errors}");

    assert_error("", "groups", "no groups");
    assert_error("groups = 3", "groups", "expected tables of groups");
    assert_error("[groups]\nfraud = 1\n", "groups.fraud", "expected a table");
}

#[test]
fn watching_finds_the_group_for_an_object() {
    let policy = example();
    let name = |bucket: &str, key: &str| policy.watching(bucket, key).map(|g| g.name.as_str());
    assert_eq!(
        name(
            "acme-ml-data",
            "payroll-fraud/transactions/2026-11-23/_SUCCESS"
        ),
        Some("payroll-fraud")
    );
    assert_eq!(
        name(
            "acme-ml-data",
            "attrition/snapshots/2026-11/part-0001.parquet"
        ),
        Some("attrition")
    );
    assert_eq!(name("other-bucket", "payroll-fraud/transactions/x"), None);
    assert_eq!(name("acme-ml-data", "payroll-fraud/models/x"), None);
    assert_eq!(name("acme-ml-data", "payroll-fraud/transactions"), None);
}

#[test]
fn watching_prefers_the_longest_prefix() {
    // Parsing rejects nested prefixes; a policy built in code may still have them.
    let mut policy = example();
    let mut eu = policy.groups["payroll-fraud"].clone();
    eu.name = "payroll-fraud-eu".into();
    if let Some(data) = eu.data.as_mut() {
        data.prefix = "payroll-fraud/transactions/eu/".into();
    }
    policy.groups.insert(eu.name.clone(), eu);
    let name = |key: &str| policy.watching("acme-ml-data", key).map(|g| g.name.clone());
    assert_eq!(
        name("payroll-fraud/transactions/eu/2026/_SUCCESS").as_deref(),
        Some("payroll-fraud-eu")
    );
    assert_eq!(
        name("payroll-fraud/transactions/us/2026/_SUCCESS").as_deref(),
        Some("payroll-fraud")
    );
}

#[test]
fn a_marker_closes_its_folder() {
    let policy = example();
    let fraud = policy.groups["payroll-fraud"].data.as_ref().expect("data");
    assert_eq!(
        fraud.marker_closes("payroll-fraud/transactions/2026-11-23/_SUCCESS"),
        Some("payroll-fraud/transactions/2026-11-23/")
    );
    assert_eq!(
        fraud.marker_closes("payroll-fraud/transactions/2026-11-23/part-0"),
        None
    );
    assert_eq!(
        fraud.marker_closes("payroll-fraud/transactions/x_SUCCESS"),
        None
    );
    let attrition = policy.groups["attrition"].data.as_ref().expect("data");
    assert_eq!(
        attrition.marker_closes("attrition/snapshots/_SUCCESS"),
        None
    );
}

#[test]
fn parse_is_also_from_str() {
    let policy: Policy = EXAMPLE.parse().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(policy, example());
}

#[test]
fn a_typo_hides_nothing_else_in_its_group() {
    let text = fraud(&[
        ("approval_lifetime", r#""1m""#),
        ("pipleine", r#"{ name = "p" }"#),
        (
            "environments",
            &envs(&[
                &format!(r#"name = "staging", {LAMBDA}, bkae = "5m""#),
                &format!(
                    r#"name = "prod", {SM}, strategy = {{ kind = "canary", size_percent = 70, wait = "5m" }}"#
                ),
            ]),
        ),
    ]);
    let errors = errors_of(&text);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "groups.fraud.environments[0].bkae",
            "groups.fraud.pipleine",
            "groups.fraud.approval_lifetime",
            // Still environments[1]: an unreadable environment keeps its place.
            "groups.fraud.environments[1].strategy.size_percent",
        ],
        "{errors}"
    );
}

#[test]
fn the_example_names_its_repository_branches_and_paths() {
    let policy = example();
    let fraud = policy.group("payroll-fraud").unwrap().git.clone().unwrap();
    assert_eq!(fraud.repository, "acme/ml-models");
    assert_eq!(fraud.branches, vec!["main".to_string()]);
    assert_eq!(fraud.paths, vec!["models/payroll-fraud/**", "features/**"]);
    let pushed: Vec<&str> = policy
        .pushed("acme/ml-models", "main")
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(pushed, vec!["attrition", "payroll-fraud"]);
    assert_eq!(policy.pushed("acme/ml-models", "release").len(), 1);
    assert_eq!(
        policy
            .serving("payroll-fraud-prod")
            .map(|g| g.name.as_str()),
        Some("payroll-fraud")
    );
    assert_eq!(policy.serving("nowhere"), None);
}

#[test]
fn git_watches_are_validated_with_field_paths() {
    let errors = Policy::parse(&fraud(&[(
        "git",
        r#"{ branches = [], paths = ["/models/**", "", "a/**", "a/**"] }"#,
    )]))
    .unwrap_err();
    let at = |path: &str| errors.at(path).count();
    assert_eq!(at("groups.fraud.git.repository"), 1, "{errors}");
    assert_eq!(at("groups.fraud.git.branches"), 1, "{errors}");
    assert_eq!(at("groups.fraud.git.paths[0]"), 1, "{errors}");
    assert_eq!(at("groups.fraud.git.paths[1]"), 1, "{errors}");
    assert_eq!(at("groups.fraud.git.paths[3]"), 1, "{errors}");
    let errors = Policy::parse(&fraud(&[(
        "git",
        r#"{ repository = "a/b/c", branches = ["refs/heads/main", "x", "x"], path = [] }"#,
    )]))
    .unwrap_err();
    assert_eq!(errors.len(), 1, "an unknown key stops the table: {errors}");
    assert!(errors.to_string().contains("path"), "{errors}");
    let errors = Policy::parse(&fraud(&[(
        "git",
        r#"{ repository = "a/b/c", branches = ["refs/heads/main", "x", "x"] }"#,
    )]))
    .unwrap_err();
    assert_eq!(
        errors.at("groups.fraud.git.repository").count(),
        1,
        "{errors}"
    );
    assert_eq!(
        errors.at("groups.fraud.git.branches[0]").count(),
        1,
        "{errors}"
    );
    assert_eq!(
        errors.at("groups.fraud.git.branches[2]").count(),
        1,
        "{errors}"
    );
    let policy = Policy::parse(&fraud(&[("git", r#"{ repository = "ml-models" }"#)])).unwrap();
    let git = policy.group("fraud").unwrap().git.clone().unwrap();
    assert_eq!(git.branches, vec!["main".to_string()]);
    assert!(git.paths.is_empty());
}

#[test]
fn the_example_monitors_prod_against_its_baseline() {
    let policy = example();
    let group = policy.group("payroll-fraud").unwrap();
    let monitor = group.monitor.as_ref().expect("payroll-fraud is monitored");
    assert_eq!(monitor.environments, ["prod"]);
    assert_eq!(
        monitor.baseline,
        "s3://acme-ml-artifacts/payroll-fraud/baseline.json"
    );
    assert_eq!(monitor.variant, DEFAULT_VARIANT);
    assert_eq!(monitor.window, secs(3600));
    assert_eq!(monitor.min_rows, DEFAULT_MIN_ROWS);
    assert_eq!(monitor.thresholds, DriftThresholds::default());
    // A feature's limits go over the group's: psi replaced, ks kept.
    let amount = monitor.features["amount"];
    assert_eq!(amount.psi, Some(0.25));
    assert_eq!(amount.ks, Some(0.1));
    let monitored = policy.monitored();
    assert_eq!(monitored.len(), 1);
    assert_eq!(monitored[0].endpoint, "payroll-fraud-prod");
    assert_eq!(
        monitored[0].capture.destination,
        "s3://acme-ml-capture/payroll-fraud/prod/"
    );
    assert!(policy.group("attrition").unwrap().monitor.is_none());
}

const CAPTURE: &str = r#"data_capture = { percent = 10, destination = "s3://acme/capture/" }"#;

fn monitored(monitor: &str) -> String {
    fraud(&[
        (
            "environments",
            &envs(&[
                &format!(r#"name = "staging", {SM2}"#),
                &format!(r#"name = "prod", {SM}, {CAPTURE}"#),
            ]),
        ),
        ("monitor", monitor),
    ])
}

const SM2: &str = r#"target = { kind = "sagemaker-endpoint", endpoint = "fraud-staging", instance_type = "ml.m5.large" }"#;

#[test]
fn monitoring_defaults_to_every_capturing_environment() {
    let policy = Policy::parse(&monitored(r#"{ baseline = "s3://acme/b.json" }"#)).unwrap();
    let monitor = policy.groups["fraud"].monitor.clone().unwrap();
    assert_eq!(monitor.environments, ["prod"]);
    assert_eq!(monitor.window, DEFAULT_MONITOR_WINDOW);
    assert_eq!(monitor.constraints, None);
    assert!(monitor.features.is_empty());
    assert_eq!(policy.monitored()[0].endpoint, "fraud-prod");
}

#[test]
fn monitor_rules_report_their_paths() {
    let m = "groups.fraud.monitor";
    assert_error(&monitored("{ }"), &format!("{m}.baseline"), "missing");
    assert_error(
        &monitored(r#"{ baseline = "s3://acme/" }"#),
        &format!("{m}.baseline"),
        "must name an object",
    );
    assert_error(
        &monitored(r#"{ baseline = "s3://acme/b.json", constraints = "acme/c.json" }"#),
        &format!("{m}.constraints"),
        "s3://",
    );
    assert_error(
        &monitored(r#"{ baseline = "s3://acme/b.json", environments = ["staging"] }"#),
        &format!("{m}.environments[0]"),
        "no data_capture",
    );
    assert_error(
        &monitored(r#"{ baseline = "s3://acme/b.json", environments = ["qa"] }"#),
        &format!("{m}.environments[0]"),
        "no environment named \"qa\"",
    );
    assert_error(
        &monitored(r#"{ baseline = "s3://acme/b.json", environments = ["prod", "prod"] }"#),
        &format!("{m}.environments[1]"),
        "listed twice",
    );
    for window in ["90m", "0s", "2d"] {
        assert_error(
            &monitored(&format!(
                r#"{{ baseline = "s3://acme/b.json", window = "{window}" }}"#
            )),
            &format!("{m}.window"),
            "whole number of hours",
        );
    }
    assert_error(
        &monitored(r#"{ baseline = "s3://acme/b.json", min_rows = 0 }"#),
        &format!("{m}.min_rows"),
        "at least 1",
    );
    assert_error(
        &monitored(r#"{ baseline = "s3://acme/b.json", thresholds = { ks = 1.5 } }"#),
        &format!("{m}.thresholds.ks"),
        "at most 1",
    );
    assert_error(
        &monitored(
            r#"{ baseline = "s3://acme/b.json", features = { amount = { chi_squared_p = 1.0 } } }"#,
        ),
        &format!("{m}.features.amount.chi_squared_p"),
        "p-value",
    );
    assert_error(
        &monitored(r#"{ baseline = "s3://acme/b.json", treshold = 1 }"#),
        &format!("{m}.treshold"),
        "unknown field",
    );
    // Nothing captures: nothing to monitor.
    assert_error(
        &fraud(&[("monitor", r#"{ baseline = "s3://acme/b.json" }"#)]),
        m,
        "no environment captures data",
    );
}
