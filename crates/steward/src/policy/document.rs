//! From TOML text to one raw policy per group, with every problem named by its path.
//!
//! Each key of a group, and each environment, is deserialized on its own, so a
//! typo hides nothing outside the table it is in. A deserialization error carries
//! only a byte span; the
//! span index built from the parsed document turns it into the path of the
//! innermost key or value that encloses it, and the line number is added.

use std::ops::Range;

use serde::Deserialize;
use toml::de::{DeTable, DeValue, Deserializer};
use toml::Spanned;

use super::error::{field, index, Errors, DOCUMENT};
use super::raw::{LoadedGroup, RawEnvironment, RawGroup};

/// The `[groups.*]` tables, sorted by name, each loaded as far as it could be;
/// whatever could not be read is reported in `errors`.
pub(super) fn load(text: &str, errors: &mut Errors) -> Vec<(String, LoadedGroup)> {
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        for error in syntax_errors {
            errors.add(
                DOCUMENT,
                format!("{}{}", error.message(), location(text, error.span())),
            );
        }
        return Vec::new();
    }
    let spans = SpanIndex::of(&root);
    let mut groups = Vec::new();
    for (key, value) in root.into_inner() {
        let key_span = key.span();
        let key = key.into_inner();
        if key != "groups" {
            errors.add(
                field("", &key),
                format!(
                    "unknown field `{key}`, expected `groups`{}",
                    location(text, Some(key_span))
                ),
            );
            continue;
        }
        let value_span = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            errors.add(
                "groups",
                format!(
                    "expected tables of groups, like [groups.my-model]{}",
                    location(text, Some(value_span))
                ),
            );
            continue;
        };
        for (name, group) in table {
            let name = name.into_inner().into_owned();
            let path = field("groups", &name);
            let span = group.span();
            let DeValue::Table(group) = group.into_inner() else {
                errors.add(
                    path,
                    format!(
                        "expected a table, like [groups.{name}]{}",
                        location(text, Some(span))
                    ),
                );
                continue;
            };
            groups.push((name, load_group(text, &spans, span, group, errors)));
        }
    }
    groups
}

/// One group, one key at a time and one environment at a time, so that a typo
/// stops only the key or environment it is in.
fn load_group(
    text: &str,
    spans: &SpanIndex,
    span: Range<usize>,
    table: DeTable<'_>,
    errors: &mut Errors,
) -> LoadedGroup {
    let mut group = LoadedGroup::default();
    for (key, value) in table {
        let name = key.get_ref().to_string();
        let value_span = value.span();
        if name == "environments" {
            match value.into_inner() {
                DeValue::Array(items) => {
                    for item in items {
                        let environment =
                            deserialize_table::<RawEnvironment>(text, spans, item, errors);
                        group.environments.push(environment);
                    }
                }
                other => {
                    errors.add(
                        spans.path_of(&key.span()).unwrap_or_else(|| DOCUMENT.to_string()),
                        format!(
                            "expected an array of tables, like [[groups.<name>.environments]], found {}{}",
                            other.type_str(),
                            location(text, Some(value_span))
                        ),
                    );
                    group.failed.insert(name);
                }
            }
            continue;
        }
        let mut single = DeTable::new();
        single.insert(key, value);
        match deserialize::<RawGroup>(text, spans, Spanned::new(span.clone(), single), errors) {
            Some(part) => group.raw.absorb(part),
            None => {
                group.failed.insert(name);
            }
        }
    }
    group
}

/// Deserializes a value that must be a table.
fn deserialize_table<T: for<'de> Deserialize<'de>>(
    text: &str,
    spans: &SpanIndex,
    value: Spanned<DeValue<'_>>,
    errors: &mut Errors,
) -> Option<T> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Table(table) => deserialize(text, spans, Spanned::new(span, table), errors),
        other => {
            let span = Some(span);
            errors.add(
                span.as_ref()
                    .and_then(|s| spans.path_of(s))
                    .unwrap_or_else(|| DOCUMENT.to_string()),
                format!(
                    "expected a table, found {}{}",
                    other.type_str(),
                    location(text, span)
                ),
            );
            None
        }
    }
}

/// Deserializes a table, reporting a failure at the path its span points to.
fn deserialize<T: for<'de> Deserialize<'de>>(
    text: &str,
    spans: &SpanIndex,
    table: Spanned<DeTable<'_>>,
    errors: &mut Errors,
) -> Option<T> {
    let table_span = table.span();
    T::deserialize(Deserializer::from(table))
        .map_err(|error| {
            let span = error.span().unwrap_or(table_span);
            errors.add(
                spans.path_of(&span).unwrap_or_else(|| DOCUMENT.to_string()),
                format!("{}{}", error.message(), location(text, Some(span))),
            );
        })
        .ok()
}

/// ` (line N)` for a span, or nothing without one.
fn location(text: &str, span: Option<Range<usize>>) -> String {
    match span {
        Some(span) => {
            let end = span.start.min(text.len());
            let line = text.as_bytes()[..end]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            format!(" (line {line})")
        }
        None => String::new(),
    }
}

/// The span of every key and value in the document, with its path.
struct SpanIndex(Vec<(Range<usize>, String)>);

impl SpanIndex {
    fn of(root: &Spanned<DeTable<'_>>) -> Self {
        let mut index = SpanIndex(Vec::new());
        index.table(root.get_ref(), "");
        index
    }

    fn table(&mut self, table: &DeTable<'_>, parent: &str) {
        for (key, value) in table.iter() {
            let path = field(parent, key.get_ref());
            self.0.push((key.span(), path.clone()));
            self.value(value, path);
        }
    }

    fn value(&mut self, value: &Spanned<DeValue<'_>>, path: String) {
        self.0.push((value.span(), path.clone()));
        match value.get_ref() {
            DeValue::Table(table) => self.table(table, &path),
            DeValue::Array(array) => {
                for (i, item) in array.iter().enumerate() {
                    self.value(item, index(&path, i));
                }
            }
            _ => {}
        }
    }

    /// The innermost (shortest span; on a tie, deepest path) key or value
    /// enclosing `span`.
    fn path_of(&self, span: &Range<usize>) -> Option<String> {
        self.0
            .iter()
            .filter(|(s, _)| s.start <= span.start && span.end <= s.end)
            .min_by(|(a, a_path), (b, b_path)| {
                (a.end - a.start)
                    .cmp(&(b.end - b.start))
                    .then(b_path.len().cmp(&a_path.len()))
            })
            .map(|(_, path)| path.clone())
    }
}
