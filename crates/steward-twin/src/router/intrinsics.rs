//! CloudFormation intrinsic functions as rules use them (`Ref`, `Sub`,
//! `Join`, `Split`, `Select`, `FindInMap`, `GetAtt` of a bus), in short
//! (`!Ref X`) or long (`{"Ref": "X"}`) form, resolved to JSON from the
//! template's parameters. Semantics: "Intrinsic function reference" and
//! "Pseudo parameters reference" (CloudFormation user guide);
//! `CommaDelimitedList` parameters are arrays of their trimmed items.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use serde_yaml::{Mapping, Value as Yaml};

use super::template::Params;

/// The pseudo parameters of the local stack (moto's default account).
const PSEUDO: &[(&str, &str)] = &[
    ("AWS::Region", crate::REGION),
    ("AWS::AccountId", "123456789012"),
    ("AWS::Partition", "aws"),
    ("AWS::StackName", "steward"),
    ("AWS::URLSuffix", "amazonaws.com"),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template: {0}")]
    Invalid(String),
    #[error("parameter {0} has no default: pass --param {0}=VALUE")]
    MissingParameter(String),
    #[error("unknown parameter {0} (not in the template's Parameters)")]
    UnknownParameter(String),
    #[error("template: {0} is not supported in a rule")]
    Unsupported(String),
}

pub struct Resolver<'a> {
    /// Parameter values; `None` for a parameter without default or override.
    params: BTreeMap<String, Option<Json>>,
    mappings: Option<&'a Yaml>,
    resources: Option<&'a Mapping>,
}

impl<'a> Resolver<'a> {
    pub fn new(template: &'a Yaml, overrides: &Params) -> Result<Self, TemplateError> {
        let declared = template.get("Parameters").and_then(Yaml::as_mapping);
        if let Some(unknown) = overrides
            .keys()
            .find(|name| !declared.is_some_and(|d| d.contains_key(name.as_str())))
        {
            return Err(TemplateError::UnknownParameter(unknown.clone()));
        }
        let mut params = BTreeMap::new();
        for (name, declaration) in declared.into_iter().flatten() {
            let Some(name) = name.as_str() else { continue };
            let raw = overrides
                .get(name)
                .cloned()
                .or_else(|| declaration.get("Default").and_then(scalar_text));
            let is_list = declaration
                .get("Type")
                .and_then(Yaml::as_str)
                .is_some_and(|t| t == "CommaDelimitedList" || t.starts_with("List<"));
            let value = raw.map(|raw| {
                if is_list {
                    Json::Array(
                        raw.split(',')
                            .map(|s| Json::String(s.trim().into()))
                            .collect(),
                    )
                } else {
                    Json::String(raw)
                }
            });
            params.insert(name.to_string(), value);
        }
        Ok(Self {
            params,
            mappings: template.get("Mappings"),
            resources: template.get("Resources").and_then(Yaml::as_mapping),
        })
    }

    /// `value` with every intrinsic function resolved, as JSON.
    pub fn resolve(&self, value: &Yaml) -> Result<Json, TemplateError> {
        Ok(match value {
            Yaml::Null => Json::Null,
            Yaml::Bool(b) => Json::Bool(*b),
            Yaml::Number(n) => serde_json::to_value(n)
                .map_err(|e| TemplateError::Invalid(format!("number {n}: {e}")))?,
            Yaml::String(s) => Json::String(s.clone()),
            Yaml::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    // A list parameter inside a list ([!Ref Buckets]) means its items.
                    match (self.resolve(item)?, is_intrinsic(item)) {
                        (Json::Array(inner), true) => out.extend(inner),
                        (other, _) => out.push(other),
                    }
                }
                Json::Array(out)
            }
            Yaml::Mapping(m) => match long_form(m) {
                Some((name, arg)) => self.intrinsic(name, arg)?,
                None => {
                    let mut out = serde_json::Map::new();
                    for (k, v) in m {
                        let key = scalar_text(k).ok_or_else(|| {
                            TemplateError::Invalid(format!("key {k:?} is not a string"))
                        })?;
                        out.insert(key, self.resolve(v)?);
                    }
                    Json::Object(out)
                }
            },
            Yaml::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                self.intrinsic(tag.trim_start_matches('!'), &tagged.value)?
            }
        })
    }

    fn intrinsic(&self, name: &str, arg: &Yaml) -> Result<Json, TemplateError> {
        let name = name.trim_start_matches("Fn::");
        match name {
            "Ref" => {
                let target = arg
                    .as_str()
                    .ok_or_else(|| TemplateError::Invalid("!Ref takes a name".into()))?;
                self.reference(target)
            }
            "Sub" => self.sub(arg),
            "Join" => {
                let (sep, items) = two(arg, "!Join")?;
                let sep = self.text(sep)?;
                let items = match self.resolve(items)? {
                    Json::Array(items) => items,
                    other => return Err(TemplateError::Invalid(format!("!Join of {other}"))),
                };
                let parts: Vec<String> = items.iter().map(json_text).collect::<Result<_, _>>()?;
                Ok(Json::String(parts.join(&sep)))
            }
            "Split" => {
                let (sep, text) = two(arg, "!Split")?;
                let (sep, text) = (self.text(sep)?, self.text(text)?);
                Ok(Json::Array(
                    text.split(sep.as_str())
                        .map(|s| Json::String(s.into()))
                        .collect(),
                ))
            }
            "Select" => {
                let (index, list) = two(arg, "!Select")?;
                let index: usize = self
                    .text(index)?
                    .parse()
                    .map_err(|_| TemplateError::Invalid("!Select index is not a number".into()))?;
                match self.resolve(list)? {
                    Json::Array(items) => items.get(index).cloned().ok_or_else(|| {
                        TemplateError::Invalid(format!("!Select index {index} is out of range"))
                    }),
                    other => Err(TemplateError::Invalid(format!("!Select from {other}"))),
                }
            }
            "FindInMap" => {
                let keys = arg.as_sequence().filter(|k| k.len() == 3).ok_or_else(|| {
                    TemplateError::Invalid("!FindInMap takes [map, key, key]".into())
                })?;
                let mut node = self.mappings;
                for key in keys {
                    let key = self.text(key)?;
                    node = node.and_then(|n| n.get(key.as_str()));
                }
                let found = node.ok_or_else(|| {
                    TemplateError::Invalid(format!("!FindInMap {keys:?} is not in Mappings"))
                })?;
                self.resolve(found)
            }
            "GetAtt" => {
                let (resource, attribute) = match arg {
                    Yaml::String(s) => s
                        .split_once('.')
                        .map(|(r, a)| (r.to_string(), a.to_string()))
                        .ok_or_else(|| TemplateError::Invalid(format!("!GetAtt {s}")))?,
                    other => {
                        let (r, a) = two(other, "!GetAtt")?;
                        (self.text(r)?, self.text(a)?)
                    }
                };
                self.get_att(&resource, &attribute)
            }
            other => Err(TemplateError::Unsupported(format!("!{other}"))),
        }
    }

    fn reference(&self, target: &str) -> Result<Json, TemplateError> {
        if let Some(value) = self.params.get(target) {
            return value
                .clone()
                .ok_or_else(|| TemplateError::MissingParameter(target.to_string()));
        }
        if let Some((_, value)) = PSEUDO.iter().find(|(name, _)| *name == target) {
            return Ok(Json::String((*value).to_string()));
        }
        let resource = self.resources.and_then(|r| r.get(target)).ok_or_else(|| {
            TemplateError::Invalid(format!("!Ref {target}: no such parameter or resource"))
        })?;
        // A bus's Ref is its name; other resources stand for themselves locally.
        match resource.get("Type").and_then(Yaml::as_str) {
            Some("AWS::Events::EventBus") => self.bus_name(target, resource),
            _ => Ok(Json::String(target.to_string())),
        }
    }

    fn get_att(&self, resource_id: &str, attribute: &str) -> Result<Json, TemplateError> {
        let resource = self.resources.and_then(|r| r.get(resource_id));
        match (
            resource.and_then(|r| r.get("Type")).and_then(Yaml::as_str),
            attribute,
        ) {
            (Some("AWS::Events::EventBus"), "Name") => {
                self.bus_name(resource_id, resource.unwrap_or(&Yaml::Null))
            }
            (Some("AWS::Events::EventBus"), "Arn") => {
                let name =
                    json_text(&self.bus_name(resource_id, resource.unwrap_or(&Yaml::Null))?)?;
                Ok(Json::String(format!(
                    "arn:aws:events:{}:123456789012:event-bus/{name}",
                    crate::REGION
                )))
            }
            _ => Err(TemplateError::Unsupported(format!(
                "!GetAtt {resource_id}.{attribute}"
            ))),
        }
    }

    fn bus_name(&self, id: &str, bus: &Yaml) -> Result<Json, TemplateError> {
        match bus.get("Properties").and_then(|p| p.get("Name")) {
            Some(name) => self.resolve(name),
            None => Ok(Json::String(id.to_string())),
        }
    }

    fn sub(&self, arg: &Yaml) -> Result<Json, TemplateError> {
        let (text, vars) = match arg {
            Yaml::Sequence(items) if items.len() == 2 => {
                (self.text(&items[0])?, items[1].as_mapping())
            }
            other => (self.text(other)?, None),
        };
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| TemplateError::Invalid(format!("!Sub {text:?}: unclosed ${{")))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                let value = match vars.and_then(|v| v.get(name)) {
                    Some(v) => self.resolve(v)?,
                    None => match name.split_once('.') {
                        Some((resource, attribute)) => self.get_att(resource, attribute)?,
                        None => self.reference(name)?,
                    },
                };
                out.push_str(&json_text(&value)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Json::String(out))
    }

    fn text(&self, value: &Yaml) -> Result<String, TemplateError> {
        json_text(&self.resolve(value)?)
    }
}

fn is_intrinsic(value: &Yaml) -> bool {
    match value {
        Yaml::Tagged(_) => true,
        Yaml::Mapping(m) => long_form(m).is_some(),
        _ => false,
    }
}

fn long_form(m: &Mapping) -> Option<(&str, &Yaml)> {
    if m.len() != 1 {
        return None;
    }
    let (k, v) = m.iter().next()?;
    let k = k.as_str()?;
    (k == "Ref" || k.starts_with("Fn::")).then_some((k, v))
}

fn two<'y>(arg: &'y Yaml, what: &str) -> Result<(&'y Yaml, &'y Yaml), TemplateError> {
    match arg.as_sequence().map(Vec::as_slice) {
        Some([a, b]) => Ok((a, b)),
        _ => Err(TemplateError::Invalid(format!(
            "{what} takes two arguments"
        ))),
    }
}

fn scalar_text(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A scalar as text (a list joins with commas, as `!Sub` of a list parameter does).
fn json_text(value: &Json) -> Result<String, TemplateError> {
    match value {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        Json::Array(items) => Ok(items
            .iter()
            .map(json_text)
            .collect::<Result<Vec<_>, _>>()?
            .join(",")),
        other => Err(TemplateError::Invalid(format!("{other} is not text"))),
    }
}
