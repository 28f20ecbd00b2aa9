//! Rules read from the real template.yaml and from a small inline template.

use serde_json::json;

use super::{
    parse_params, route, template_rules, template_schedules, Params, RuleTarget, TemplateError,
};

const TEMPLATE: &str = include_str!("../../../../template.yaml");
const SAMPLE_S3_EVENT: &str = include_str!("../../../../events/s3-object-created.json");

fn params(args: &[&str]) -> Params {
    parse_params(args.iter().copied()).unwrap()
}

#[test]
fn the_real_template_has_the_start_build_rule() {
    let rules = template_rules(
        TEMPLATE,
        &params(&["DataBucketNames=acme-ml-data,other-data"]),
    )
    .unwrap();
    let rule = rules
        .iter()
        .find(|r| r.name == "StartBuildFunctionDataArrived")
        .unwrap_or_else(|| panic!("{rules:?}"));
    assert_eq!(rule.bus, "default");
    assert_eq!(
        rule.targets,
        vec![RuleTarget {
            function: "StartBuildFunction".into(),
            binary: "start-build".into()
        }]
    );
    // The CommaDelimitedList parameter became the array of bucket names.
    assert_eq!(
        rule.pattern.as_json(),
        &json!({"source": ["aws.s3"], "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": ["acme-ml-data", "other-data"]}}})
    );
    let event: serde_json::Value = serde_json::from_str(SAMPLE_S3_EVENT).unwrap();
    assert_eq!(route(&rules, &event, None).len(), 1);
    assert_eq!(route(&rules, &event, Some("steward")).len(), 0);
}

#[test]
fn a_parameter_without_default_must_be_given() {
    let err = template_rules(TEMPLATE, &Params::new()).unwrap_err();
    assert_eq!(
        err,
        TemplateError::MissingParameter("DataBucketNames".into())
    );
    assert!(
        err.to_string().contains("--param DataBucketNames="),
        "{err}"
    );
    let err = template_rules(TEMPLATE, &params(&["NoSuchParam=x"])).unwrap_err();
    assert_eq!(err, TemplateError::UnknownParameter("NoSuchParam".into()));
    assert!(parse_params(["novalue"]).is_err());
}

const INLINE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Env: { Type: String, Default: dev }
  Groups: { Type: CommaDelimitedList, Default: "fraud, churn" }
Mappings:
  Sources: { dev: { Name: steward.dev } }
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties: { Name: !Sub "steward-${Env}" }
  Gate:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: gate } }
    Properties:
      Events:
        Registered:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern:
              source: [!FindInMap [Sources, !Ref Env, Name]]
              detail-type: [Model Registered]
              detail:
                group: !Ref Groups
                env: [!Ref Env, {prefix: !Sub "${Env}-"}]
        Nightly:
          Type: Schedule
          Properties: { Schedule: rate(1 day) }
  Deploy:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: deploy } }
  Notify:
    Type: AWS::Lambda::Function
  ApprovedRule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !GetAtt Bus.Arn
      EventPattern:
        source: [steward.dev]
        $or:
          - detail-type: [Model Approved]
          - detail: { status: [{anything-but: [Rejected]}] }
      Targets:
        - { Arn: !GetAtt Deploy.Arn, Id: deploy }
        - { Arn: !GetAtt [Notify, Arn], Id: notify }
        - { Arn: !Ref SomeTopic, Id: topic }
  SomeTopic:
    Type: AWS::SNS::Topic
  NightlyRule:
    Type: AWS::Events::Rule
    Properties: { ScheduleExpression: rate(1 day), Targets: [{ Arn: !GetAtt Deploy.Arn, Id: d }] }
"#;

#[test]
fn an_inline_template_with_several_rules() {
    let rules = template_rules(INLINE, &Params::new()).unwrap();
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["GateRegistered", "ApprovedRule"]);
    let gate = &rules[0];
    assert_eq!(gate.bus, "steward-dev");
    assert_eq!(gate.targets[0].binary, "gate");
    assert_eq!(
        gate.pattern.as_json(),
        &json!({"source": ["steward.dev"], "detail-type": ["Model Registered"],
                "detail": {"group": ["fraud", "churn"], "env": ["dev", {"prefix": "dev-"}]}})
    );
    let approved = &rules[1];
    assert_eq!(approved.bus, "steward-dev");
    let binaries: Vec<&str> = approved.targets.iter().map(|t| t.binary.as_str()).collect();
    // The SNS topic is not a function: nothing to invoke locally.
    assert_eq!(binaries, ["deploy", "Notify"]);

    let registered = json!({"source": "steward.dev", "detail-type": "Model Registered",
                            "detail": {"group": "churn", "env": "dev-eu", "status": "Rejected"}});
    let names = |event| -> Vec<String> {
        route(&rules, &event, Some("steward-dev"))
            .iter()
            .map(|r| r.name.clone())
            .collect()
    };
    assert_eq!(names(registered.clone()), ["GateRegistered"]);
    let approved = json!({"source": "steward.dev", "detail-type": "Model Approved", "detail": {"status": "Rejected"}});
    assert_eq!(names(approved), ["ApprovedRule"]);
    assert!(route(&rules, &registered, Some("default")).is_empty());

    // An override reaches every use of the parameter; FindInMap has no `prod` entry.
    let err = template_rules(INLINE, &params(&["Env=prod"])).unwrap_err();
    assert!(err.to_string().contains("FindInMap"), "{err}");
}

#[test]
fn bad_templates_are_reported() {
    assert!(matches!(
        template_rules("a: [", &Params::new()),
        Err(TemplateError::Invalid(_))
    ));
    assert!(matches!(
        template_rules("a: 1", &Params::new()),
        Err(TemplateError::Invalid(_))
    ));
    let bad_pattern = r#"
Resources:
  R:
    Type: AWS::Events::Rule
    Properties: { EventPattern: { source: aws.s3 } }
"#;
    let err = template_rules(bad_pattern, &Params::new()).unwrap_err();
    assert!(err.to_string().contains("$.source"), "{err}");
    let unsupported = r#"
Resources:
  R:
    Type: AWS::Events::Rule
    Properties: { EventPattern: { source: [!If [C, a, b]] } }
"#;
    assert_eq!(
        template_rules(unsupported, &Params::new()).unwrap_err(),
        TemplateError::Unsupported("!If".into())
    );
}

#[test]
fn scheduled_rules_name_their_schedule_and_targets() {
    let schedules = template_schedules(INLINE, &Params::new()).unwrap();
    let named: Vec<(&str, &str, &str)> = schedules
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.schedule.as_str(),
                s.targets[0].binary.as_str(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            ("GateNightly", "rate(1 day)", "gate"),
            ("NightlyRule", "rate(1 day)", "deploy")
        ]
    );
    // The real template: monitor-drift runs ten past every hour.
    let real = template_schedules(TEMPLATE, &Params::new()).unwrap();
    let drift = real
        .iter()
        .find(|s| s.targets.iter().any(|t| t.binary == "monitor-drift"))
        .expect("monitor-drift is scheduled");
    assert_eq!(drift.name, "MonitorDriftFunctionDriftCheck");
    assert_eq!(drift.schedule, "cron(10 * * * ? *)");
}
