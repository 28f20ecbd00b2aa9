//! EventBridge event patterns: parsed once (so a bad pattern is reported with
//! where it is wrong), then matched against any number of events.
//!
//! Semantics follow "Content filtering in Amazon EventBridge event patterns"
//! and "Comparison operators for use in event patterns" (EventBridge user
//! guide): a pattern is an object whose leaves are arrays of alternatives;
//! every field must match (AND), any alternative may (OR); an array in the
//! event matches when any of its elements does; `$or` holds alternative
//! sub-patterns of the object it is in. Matching works on the event as if it
//! were flattened to leaf paths, as EventBridge does: an object where a leaf
//! is expected, or an empty array, counts as a missing field.
//!
//! Written here rather than with the `quamina` crate: quamina rejects `$or`,
//! and this matcher is a few hundred lines with no new dependency to build.

use serde_json::{Map, Value};

use super::wildcard::wildcard_match;

/// Why an event pattern is not valid, with the path to the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event pattern at {path}: {message}")]
pub struct PatternError {
    pub path: String,
    pub message: String,
}

/// A parsed EventBridge event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    root: Node,
    source: Value,
}

#[derive(Debug, Clone)]
struct Node {
    fields: Vec<(String, Field)>,
    /// Alternatives of this object's `$or`: one of them must match as well.
    or: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Field {
    Nested(Node),
    Leaf(Vec<Matcher>),
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact(Value),
    Prefix { value: String, ignore_case: bool },
    Suffix { value: String, ignore_case: bool },
    EqualsIgnoreCase(String),
    Wildcard(String),
    AnythingBut(AnythingBut),
    Numeric(Vec<(Cmp, f64)>),
    Exists(bool),
    Cidr(super::cidr::Cidr),
}

#[derive(Debug, Clone)]
enum AnythingBut {
    Values(Vec<Value>),
    Prefix(String),
    Suffix(String),
    IgnoreCase(Vec<String>),
    Wildcard(Vec<String>),
}

#[derive(Debug, Clone, Copy)]
enum Cmp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Pattern {
    /// Parse a pattern from its JSON value.
    pub fn parse(pattern: &Value) -> Result<Self, PatternError> {
        let object = pattern.as_object().ok_or_else(|| PatternError {
            path: "$".into(),
            message: "a pattern must be a JSON object".into(),
        })?;
        Ok(Self {
            root: parse_node(object, "$")?,
            source: pattern.clone(),
        })
    }

    /// Parse a pattern from JSON text (as PutRule's EventPattern carries it).
    pub fn parse_str(text: &str) -> Result<Self, PatternError> {
        let value: Value = serde_json::from_str(text).map_err(|e| PatternError {
            path: "$".into(),
            message: format!("not JSON: {e}"),
        })?;
        Self::parse(&value)
    }

    /// The pattern as written.
    pub fn as_json(&self) -> &Value {
        &self.source
    }

    /// Whether `event` matches the pattern.
    pub fn matches(&self, event: &Value) -> bool {
        match event {
            Value::Object(object) => self.root.matches(object),
            _ => false,
        }
    }
}

fn err(path: &str, message: impl Into<String>) -> PatternError {
    PatternError {
        path: path.to_string(),
        message: message.into(),
    }
}

fn parse_node(object: &Map<String, Value>, path: &str) -> Result<Node, PatternError> {
    let mut node = Node {
        fields: Vec::new(),
        or: Vec::new(),
    };
    for (key, value) in object {
        let here = format!("{path}.{key}");
        if key == "$or" {
            let alternatives = value
                .as_array()
                .filter(|a| a.len() >= 2)
                .ok_or_else(|| err(&here, "$or needs an array of at least two patterns"))?;
            for (i, alternative) in alternatives.iter().enumerate() {
                let object = alternative.as_object().ok_or_else(|| {
                    err(
                        &format!("{here}[{i}]"),
                        "a $or alternative must be an object",
                    )
                })?;
                node.or.push(parse_node(object, &format!("{here}[{i}]"))?);
            }
            continue;
        }
        let field = match value {
            Value::Object(inner) => Field::Nested(parse_node(inner, &here)?),
            Value::Array(items) if items.is_empty() => {
                return Err(err(&here, "empty arrays are not allowed"))
            }
            Value::Array(items) => Field::Leaf(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| parse_matcher(item, &format!("{here}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(err(&here, "a leaf's values must be in an array")),
        };
        node.fields.push((key.clone(), field));
    }
    Ok(node)
}

fn parse_matcher(item: &Value, path: &str) -> Result<Matcher, PatternError> {
    let Value::Object(object) = item else {
        if item.is_array() {
            return Err(err(path, "nested arrays are not allowed"));
        }
        return Ok(Matcher::Exact(item.clone()));
    };
    let mut entries = object.iter();
    let (Some((operator, operand)), None) = (entries.next(), entries.next()) else {
        return Err(err(path, "a filter object holds exactly one operator"));
    };
    let string = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| err(path, format!("{operator} takes a string")))
    };
    Ok(match operator.as_str() {
        "prefix" | "suffix" => {
            let (value, ignore_case) = match operand {
                Value::Object(inner) => match inner.get("equals-ignore-case") {
                    Some(v) if inner.len() == 1 => (string(v)?, true),
                    _ => {
                        return Err(err(
                            path,
                            format!(
                                "{operator} takes a string or {{\"equals-ignore-case\": string}}"
                            ),
                        ))
                    }
                },
                other => (string(other)?, false),
            };
            if operator == "prefix" {
                Matcher::Prefix { value, ignore_case }
            } else {
                Matcher::Suffix { value, ignore_case }
            }
        }
        "equals-ignore-case" => Matcher::EqualsIgnoreCase(string(operand)?),
        "wildcard" => Matcher::Wildcard(string(operand)?),
        "exists" => Matcher::Exists(
            operand
                .as_bool()
                .ok_or_else(|| err(path, "exists takes true or false"))?,
        ),
        "numeric" => Matcher::Numeric(parse_numeric(operand, path)?),
        "anything-but" => Matcher::AnythingBut(parse_anything_but(operand, path)?),
        "cidr" => {
            Matcher::Cidr(super::cidr::Cidr::parse(&string(operand)?).map_err(|m| err(path, m))?)
        }
        other => return Err(err(path, format!("unknown operator {other:?}"))),
    })
}

fn parse_numeric(operand: &Value, path: &str) -> Result<Vec<(Cmp, f64)>, PatternError> {
    let items = operand
        .as_array()
        .filter(|a| !a.is_empty() && a.len() % 2 == 0 && a.len() <= 4)
        .ok_or_else(|| {
            err(
                path,
                "numeric takes [op, number] or [op, number, op, number]",
            )
        })?;
    items
        .chunks(2)
        .map(|pair| {
            let cmp = match pair[0].as_str() {
                Some("<") => Cmp::Lt,
                Some("<=") => Cmp::Le,
                Some("=") => Cmp::Eq,
                Some(">=") => Cmp::Ge,
                Some(">") => Cmp::Gt,
                _ => return Err(err(path, format!("unknown numeric operator {}", pair[0]))),
            };
            let n = pair[1]
                .as_f64()
                .ok_or_else(|| err(path, format!("numeric bound {} is not a number", pair[1])))?;
            Ok((cmp, n))
        })
        .collect()
}

fn parse_anything_but(operand: &Value, path: &str) -> Result<AnythingBut, PatternError> {
    let strings = |v: &Value, what: &str| -> Result<Vec<String>, PatternError> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| err(path, format!("anything-but {what} takes strings")))
                })
                .collect(),
            _ => Err(err(
                path,
                format!("anything-but {what} takes a string or strings"),
            )),
        }
    };
    match operand {
        Value::String(_) | Value::Number(_) => Ok(AnythingBut::Values(vec![operand.clone()])),
        Value::Array(items)
            if !items.is_empty() && items.iter().all(|i| i.is_string() || i.is_number()) =>
        {
            Ok(AnythingBut::Values(items.clone()))
        }
        Value::Object(inner) if inner.len() == 1 => {
            let (operator, value) = inner.iter().next().ok_or_else(|| err(path, "empty"))?;
            match operator.as_str() {
                "prefix" => Ok(AnythingBut::Prefix(strings(value, "prefix")?.concat())),
                "suffix" => Ok(AnythingBut::Suffix(strings(value, "suffix")?.concat())),
                "equals-ignore-case" => Ok(AnythingBut::IgnoreCase(strings(value, operator)?)),
                "wildcard" => Ok(AnythingBut::Wildcard(strings(value, operator)?)),
                other => Err(err(path, format!("anything-but does not take {other:?}"))),
            }
        }
        _ => Err(err(
            path,
            "anything-but takes a string, a number, a list of them, or one of prefix, suffix, equals-ignore-case, wildcard",
        )),
    }
}

impl Node {
    fn matches(&self, event: &Map<String, Value>) -> bool {
        self.fields
            .iter()
            .all(|(key, field)| field.matches(event.get(key)))
            && (self.or.is_empty() || self.or.iter().any(|alt| alt.matches(event)))
    }
}

/// Stands in for a missing object: its leaves are all missing.
static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl Field {
    fn matches(&self, value: Option<&Value>) -> bool {
        match self {
            Field::Nested(node) => match value {
                Some(Value::Object(object)) => node.matches(object),
                // Arrays of objects flatten: any element may carry the match.
                Some(Value::Array(items)) if items.iter().any(Value::is_object) => items
                    .iter()
                    .filter_map(Value::as_object)
                    .any(|object| node.matches(object)),
                _ => node.matches(&EMPTY),
            },
            Field::Leaf(matchers) => {
                let leaves: Vec<&Value> = match value {
                    Some(Value::Array(items)) => items
                        .iter()
                        .filter(|v| !v.is_object() && !v.is_array())
                        .collect(),
                    Some(Value::Object(_)) | None => Vec::new(),
                    Some(leaf) => vec![leaf],
                };
                matchers.iter().any(|m| match m {
                    Matcher::Exists(should) => *should != leaves.is_empty(),
                    other => leaves.iter().any(|leaf| other.matches(leaf)),
                })
            }
        }
    }
}

impl Matcher {
    fn matches(&self, leaf: &Value) -> bool {
        let text = leaf.as_str();
        match self {
            Matcher::Exact(expected) => same_value(expected, leaf),
            Matcher::Prefix { value, ignore_case } => text.is_some_and(|t| {
                if *ignore_case {
                    t.to_lowercase().starts_with(&value.to_lowercase())
                } else {
                    t.starts_with(value.as_str())
                }
            }),
            Matcher::Suffix { value, ignore_case } => text.is_some_and(|t| {
                if *ignore_case {
                    t.to_lowercase().ends_with(&value.to_lowercase())
                } else {
                    t.ends_with(value.as_str())
                }
            }),
            Matcher::EqualsIgnoreCase(value) => {
                text.is_some_and(|t| t.to_lowercase() == value.to_lowercase())
            }
            Matcher::Wildcard(glob) => text.is_some_and(|t| wildcard_match(glob, t)),
            Matcher::AnythingBut(but) => but.matches(leaf),
            Matcher::Numeric(bounds) => leaf.as_f64().is_some_and(|n| {
                bounds.iter().all(|(cmp, bound)| match cmp {
                    Cmp::Lt => n < *bound,
                    Cmp::Le => n <= *bound,
                    Cmp::Eq => n == *bound,
                    Cmp::Ge => n >= *bound,
                    Cmp::Gt => n > *bound,
                })
            }),
            Matcher::Exists(_) => true,
            Matcher::Cidr(cidr) => text.is_some_and(|t| cidr.contains(t)),
        }
    }
}

impl AnythingBut {
    fn matches(&self, leaf: &Value) -> bool {
        let text = leaf.as_str();
        match self {
            AnythingBut::Values(values) => !values.iter().any(|v| same_value(v, leaf)),
            AnythingBut::Prefix(prefix) => text.is_some_and(|t| !t.starts_with(prefix.as_str())),
            AnythingBut::Suffix(suffix) => text.is_some_and(|t| !t.ends_with(suffix.as_str())),
            AnythingBut::IgnoreCase(values) => text.is_some_and(|t| {
                let t = t.to_lowercase();
                !values.iter().any(|v| v.to_lowercase() == t)
            }),
            AnythingBut::Wildcard(globs) => {
                text.is_some_and(|t| !globs.iter().any(|g| wildcard_match(g, t)))
            }
        }
    }
}

/// Exact matching: strings by content, numbers by value (`5` matches `5.0`),
/// never a string against a number.
fn same_value(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}
