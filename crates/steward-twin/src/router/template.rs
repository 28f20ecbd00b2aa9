//! The EventBridge rules of a SAM template (template.yaml): each
//! `AWS::Serverless::Function` event of type `EventBridgeRule` (or its older
//! name `CloudWatchEvent`) and each `AWS::Events::Rule` whose targets are
//! functions of the template, with its pattern resolved from the template's
//! parameters (defaults, overridden by `--param NAME=VALUE`).
//!
//! Rule names are the logical ids SAM generates (function id + event name,
//! e.g. `StartBuildFunctionDataArrived`) unless the event sets `RuleName`.
//! Shapes: "EventBridgeRule" (AWS SAM developer guide) and
//! "AWS::Events::Rule" (CloudFormation user guide).

use std::collections::BTreeMap;

use serde_json::Value as Json;
use serde_yaml::{Mapping, Value as Yaml};

use super::intrinsics::{Resolver, TemplateError};
use super::pattern::Pattern;

/// One EventBridge rule of the template and the functions it invokes.
#[derive(Debug, Clone)]
pub struct TemplateRule {
    /// The rule's name (SAM's generated logical id, or `RuleName`).
    pub name: String,
    /// The event bus it is on (`default` unless the template says otherwise).
    pub bus: String,
    pub pattern: Pattern,
    pub targets: Vec<RuleTarget>,
}

/// A function a rule invokes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTarget {
    /// The function's logical id in the template.
    pub function: String,
    /// Its cargo binary (`Metadata.BuildProperties.Binary`), the name `cargo
    /// lambda watch` serves it under; the logical id when none is given.
    pub binary: String,
}

impl TemplateRule {
    pub fn matches(&self, event: &Json) -> bool {
        self.pattern.matches(event)
    }
}

/// A scheduled rule of the template (a function event of type `Schedule`, or
/// an `AWS::Events::Rule` with a `ScheduleExpression`): EventBridge sends its
/// targets a `Scheduled Event` on the schedule, which no pattern matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRule {
    /// SAM's generated logical id (function id + event name) or the rule's id.
    pub name: String,
    /// `cron(…)` or `rate(…)`, as written.
    pub schedule: String,
    pub targets: Vec<RuleTarget>,
}

/// Every scheduled rule of the template text.
pub fn template_schedules(text: &str, params: &Params) -> Result<Vec<ScheduleRule>, TemplateError> {
    let template: Yaml =
        serde_yaml::from_str(text).map_err(|e| TemplateError::Invalid(format!("not YAML: {e}")))?;
    let resolver = Resolver::new(&template, params)?;
    let resources = template
        .get("Resources")
        .and_then(Yaml::as_mapping)
        .ok_or_else(|| TemplateError::Invalid("no Resources section".into()))?;
    let mut schedules = Vec::new();
    for (id, resource) in resources {
        let id = id.as_str().unwrap_or_default();
        let properties = resource.get("Properties");
        match resource.get("Type").and_then(Yaml::as_str) {
            Some("AWS::Serverless::Function") => {
                let events = properties
                    .and_then(|p| p.get("Events"))
                    .and_then(Yaml::as_mapping);
                for (event_name, event) in events.into_iter().flatten() {
                    if event.get("Type").and_then(Yaml::as_str) != Some("Schedule") {
                        continue;
                    }
                    let Some(schedule) = event.get("Properties").and_then(|p| p.get("Schedule"))
                    else {
                        continue;
                    };
                    let name = format!("{id}{}", event_name.as_str().unwrap_or_default());
                    schedules.push(ScheduleRule {
                        schedule: json_string(resolver.resolve(schedule)?, &name)?,
                        targets: vec![target(resources, id)],
                        name,
                    });
                }
            }
            Some("AWS::Events::Rule") => {
                let Some(schedule) = properties.and_then(|p| p.get("ScheduleExpression")) else {
                    continue;
                };
                let targets = properties
                    .and_then(|p| p.get("Targets"))
                    .and_then(Yaml::as_sequence)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.get("Arn"))
                    .filter_map(referenced_resource)
                    .filter(|t| {
                        resource_type(resources, t).is_some_and(|k| k.ends_with("Function"))
                    })
                    .map(|t| target(resources, &t))
                    .collect();
                schedules.push(ScheduleRule {
                    name: id.to_string(),
                    schedule: json_string(resolver.resolve(schedule)?, id)?,
                    targets,
                });
            }
            _ => {}
        }
    }
    Ok(schedules)
}

/// Parameter values given on the command line, by name.
pub type Params = BTreeMap<String, String>;

/// Parse `NAME=VALUE` arguments.
pub fn parse_params<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<Params, TemplateError> {
    args.into_iter()
        .map(|arg| {
            arg.split_once('=')
                .filter(|(name, _)| !name.is_empty())
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .ok_or_else(|| TemplateError::Invalid(format!("--param {arg:?} is not NAME=VALUE")))
        })
        .collect()
}

/// Every EventBridge rule of the template text, patterns resolved with `params`.
pub fn template_rules(text: &str, params: &Params) -> Result<Vec<TemplateRule>, TemplateError> {
    let template: Yaml =
        serde_yaml::from_str(text).map_err(|e| TemplateError::Invalid(format!("not YAML: {e}")))?;
    let resolver = Resolver::new(&template, params)?;
    let resources = template
        .get("Resources")
        .and_then(Yaml::as_mapping)
        .ok_or_else(|| TemplateError::Invalid("no Resources section".into()))?;
    let mut rules = Vec::new();
    for (id, resource) in resources {
        let id = id.as_str().unwrap_or_default();
        match resource.get("Type").and_then(Yaml::as_str) {
            Some("AWS::Serverless::Function") => {
                function_rules(&resolver, resources, id, resource, &mut rules)?
            }
            Some("AWS::Events::Rule") => {
                if let Some(rule) = events_rule(&resolver, resources, id, resource)? {
                    rules.push(rule);
                }
            }
            _ => {}
        }
    }
    Ok(rules)
}

fn function_rules(
    resolver: &Resolver,
    resources: &Mapping,
    id: &str,
    function: &Yaml,
    rules: &mut Vec<TemplateRule>,
) -> Result<(), TemplateError> {
    let Some(events) = function
        .get("Properties")
        .and_then(|p| p.get("Events"))
        .and_then(Yaml::as_mapping)
    else {
        return Ok(());
    };
    for (event_name, event) in events {
        let event_name = event_name.as_str().unwrap_or_default();
        if !matches!(
            event.get("Type").and_then(Yaml::as_str),
            Some("EventBridgeRule" | "CloudWatchEvent")
        ) {
            continue;
        }
        let properties = event.get("Properties");
        let generated = format!("{id}{event_name}");
        let context = format!("{generated} (event {event_name} of {id})");
        let pattern = properties
            .and_then(|p| p.get("Pattern"))
            .ok_or_else(|| TemplateError::Invalid(format!("{context} has no Pattern")))?;
        let name = match properties.and_then(|p| p.get("RuleName")) {
            Some(name) => json_string(resolver.resolve(name)?, &context)?,
            None => generated,
        };
        rules.push(TemplateRule {
            bus: bus_name(
                resolver,
                properties.and_then(|p| p.get("EventBusName")),
                &context,
            )?,
            pattern: parse_pattern(resolver, pattern, &context)?,
            targets: vec![target(resources, id)],
            name,
        });
    }
    Ok(())
}

fn events_rule(
    resolver: &Resolver,
    resources: &Mapping,
    id: &str,
    rule: &Yaml,
) -> Result<Option<TemplateRule>, TemplateError> {
    let properties = rule.get("Properties");
    // Schedule-only rules have no pattern: nothing an event could match.
    let Some(pattern) = properties.and_then(|p| p.get("EventPattern")) else {
        return Ok(None);
    };
    let targets: Vec<RuleTarget> = properties
        .and_then(|p| p.get("Targets"))
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("Arn"))
        .filter_map(referenced_resource)
        .filter(|target| {
            resource_type(resources, target) == Some("AWS::Serverless::Function")
                || resource_type(resources, target) == Some("AWS::Lambda::Function")
        })
        .map(|target| self::target(resources, &target))
        .collect();
    let name = match properties.and_then(|p| p.get("Name")) {
        Some(name) => json_string(resolver.resolve(name)?, id)?,
        None => id.to_string(),
    };
    Ok(Some(TemplateRule {
        bus: bus_name(resolver, properties.and_then(|p| p.get("EventBusName")), id)?,
        pattern: parse_pattern(resolver, pattern, id)?,
        targets,
        name,
    }))
}

/// The logical id an `Arn` of a target points at: `!GetAtt Fn.Arn`,
/// `!GetAtt [Fn, Arn]`, `!Ref Fn` or their long forms.
fn referenced_resource(arn: &Yaml) -> Option<String> {
    let (kind, value) = match arn {
        Yaml::Tagged(tagged) => (tagged.tag.to_string(), tagged.value.clone()),
        Yaml::Mapping(m) if m.len() == 1 => {
            let (k, v) = m.iter().next()?;
            (k.as_str()?.to_string(), v.clone())
        }
        _ => return None,
    };
    match kind.trim_start_matches('!').trim_start_matches("Fn::") {
        "Ref" => value.as_str().map(str::to_string),
        "GetAtt" => match value {
            Yaml::String(s) => s.split('.').next().map(str::to_string),
            Yaml::Sequence(items) => items.first()?.as_str().map(str::to_string),
            _ => None,
        },
        _ => None,
    }
}

fn resource_type<'a>(resources: &'a Mapping, id: &str) -> Option<&'a str> {
    resources.get(id)?.get("Type")?.as_str()
}

fn target(resources: &Mapping, function: &str) -> RuleTarget {
    let binary = resources
        .get(function)
        .and_then(|f| f.get("Metadata"))
        .and_then(|m| m.get("BuildProperties"))
        .and_then(|b| b.get("Binary"))
        .and_then(Yaml::as_str)
        .unwrap_or(function);
    RuleTarget {
        function: function.to_string(),
        binary: binary.to_string(),
    }
}

fn bus_name(
    resolver: &Resolver,
    bus: Option<&Yaml>,
    context: &str,
) -> Result<String, TemplateError> {
    let Some(bus) = bus else {
        return Ok("default".into());
    };
    let name = json_string(resolver.resolve(bus)?, context)?;
    // EventBusName may be an ARN (…:event-bus/NAME); the bus is its name.
    Ok(match name.rsplit_once(":event-bus/") {
        Some((_, name)) => name.to_string(),
        None => name,
    })
}

fn parse_pattern(
    resolver: &Resolver,
    pattern: &Yaml,
    context: &str,
) -> Result<Pattern, TemplateError> {
    let json = resolver.resolve(pattern)?;
    // AWS::Events::Rule also accepts the pattern as a JSON string.
    let json = match json {
        Json::String(text) => serde_json::from_str(&text).map_err(|e| {
            TemplateError::Invalid(format!("{context}: EventPattern is not JSON: {e}"))
        })?,
        other => other,
    };
    Pattern::parse(&json).map_err(|e| TemplateError::Invalid(format!("{context}: {e}")))
}

fn json_string(value: Json, context: &str) -> Result<String, TemplateError> {
    match value {
        Json::String(s) => Ok(s),
        other => Err(TemplateError::Invalid(format!(
            "{context}: expected a string, got {other}"
        ))),
    }
}
