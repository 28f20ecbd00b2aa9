//! Quiet periods in the ledger table: one item per group, `QUIET#<group>` /
//! `PERIOD`, changed only by conditional writes, so concurrent and repeated
//! deliveries (objects and ticks alike) agree on one period and one build.
//!
//! - An object opens a period (none open, and it is newer than the last one
//!   closed) or extends the open one (it is newer than the period's latest).
//!   An older or repeated object changes nothing: the latest never goes back.
//! - A tick closes a period only if its latest object is still the one the tick
//!   saw quiet; the closed period is kept (`closed_*`) until its build is
//!   confirmed (`closed_built`), and no new period closes over it.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};

use super::quiet::{ClosedPeriod, QuietObject, QuietState};
use crate::ledger::item::{read_item, s, store};
use crate::ledger::LedgerError;

const SK: &str = "PERIOD";
/// How often a write is retried when the item changed between a failed
/// condition and the read that explains it.
const ATTEMPTS: usize = 3;

/// What recording an object did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// It opened a new period.
    Opened,
    /// It is the open period's new latest object.
    Extended,
    /// Not newer than the latest object (a redelivery, an out-of-order event,
    /// or data of a period already closed): nothing changed.
    Covered,
}

/// The group's quiet periods, on the ledger's table.
#[derive(Debug, Clone)]
pub struct QuietPeriods {
    client: Client,
    table: String,
}

fn pk(group: &str) -> String {
    format!("QUIET#{group}")
}

fn b(v: bool) -> AttributeValue {
    AttributeValue::Bool(v)
}

/// The attributes of an object under `prefix` (`last` or `closed`); absent
/// optional values are stored as "".
fn object_values(prefix: &str, object: &QuietObject) -> Vec<(String, AttributeValue)> {
    vec![
        (format!(":{prefix}_order"), s(object.order())),
        (format!(":{prefix}_time"), s(object.at.to_rfc3339())),
        (format!(":{prefix}_key"), s(&object.key)),
        (format!(":{prefix}_identity"), s(&object.identity)),
        (
            format!(":{prefix}_version_id"),
            s(object.version_id.clone().unwrap_or_default()),
        ),
        (
            format!(":{prefix}_etag"),
            s(object.etag.clone().unwrap_or_default()),
        ),
    ]
}

fn set_object(prefix: &str) -> String {
    ["order", "time", "key", "identity", "version_id", "etag"]
        .iter()
        .map(|f| format!("{prefix}_{f} = :{prefix}_{f}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `expression` names the placeholder `name` (`:f` is not `:from`).
fn uses(expression: &str, name: &str) -> bool {
    expression.match_indices(name).any(|(i, _)| {
        !expression[i + name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}

impl QuietPeriods {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The group's state, read consistently; `None` before its first object.
    pub async fn read(&self, group: &str) -> Result<Option<QuietState>, LedgerError> {
        read_item(&self.client, &self.table, pk(group), SK)
            .await?
            .map(|item| state_from(group, &item))
            .transpose()
    }

    /// Record an object that landed under the group's prefix.
    pub async fn record(&self, group: &str, object: &QuietObject) -> Result<Recorded, LedgerError> {
        let order = object.order();
        for _ in 0..ATTEMPTS {
            let open = self
                .update(
                    group,
                    &format!(
                        "SET period_open = :t, period_from = :last_order, {}",
                        set_object("last")
                    ),
                    "attribute_not_exists(PK) OR (period_open = :f AND last_order < :last_order)",
                    object_values("last", object),
                )
                .await?;
            if open {
                return Ok(Recorded::Opened);
            }
            let extend = self
                .update(
                    group,
                    &format!("SET {}", set_object("last")),
                    "period_open = :t AND last_order < :last_order",
                    object_values("last", object),
                )
                .await?;
            if extend {
                return Ok(Recorded::Extended);
            }
            // Neither: older than the latest, or the item changed in between.
            match self.read(group).await? {
                Some(state) if state.last.order() >= order => return Ok(Recorded::Covered),
                _ => continue,
            }
        }
        Err(LedgerError::Store {
            operation: "UpdateItem",
            message: format!("the quiet period of {group} kept changing under us; retry later"),
        })
    }

    /// Close the open period if its latest object is still `period.last` and
    /// no earlier closure waits for its build. `false`: another tick closed
    /// it, or an object extended it, and this tick does nothing.
    pub async fn close(&self, group: &str, period: &ClosedPeriod) -> Result<bool, LedgerError> {
        let mut values = object_values("closed", &period.last);
        values.push((":from".into(), s(&period.from)));
        self.update(
            group,
            &format!(
                "SET period_open = :f, closed_from = :from, closed_built = :f, {}",
                set_object("closed")
            ),
            "period_open = :t AND period_from = :from AND last_order = :closed_order \
             AND (attribute_not_exists(closed_from) OR closed_built = :t)",
            values,
        )
        .await
    }

    /// The build of the closed period `from` was started (or held back by the
    /// guard, which is recorded): it is done.
    pub async fn mark_built(&self, group: &str, from: &str) -> Result<(), LedgerError> {
        self.update(
            group,
            "SET closed_built = :t",
            "closed_from = :from",
            vec![(":from".into(), s(from))],
        )
        .await?;
        Ok(())
    }

    /// One conditional UpdateItem; `false` when the condition did not hold.
    async fn update(
        &self,
        group: &str,
        set: &str,
        condition: &str,
        values: Vec<(String, AttributeValue)>,
    ) -> Result<bool, LedgerError> {
        let mut values: HashMap<String, AttributeValue> = values.into_iter().collect();
        values.insert(":t".into(), b(true));
        values.insert(":f".into(), b(false));
        // DynamoDB refuses values the expressions do not use.
        values.retain(|name, _| uses(set, name) || uses(condition, name));
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(pk(group)))
            .key("SK", s(SK))
            .update_expression(set)
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store("UpdateItem", e)),
        }
    }
}

fn state_from(
    group: &str,
    item: &HashMap<String, AttributeValue>,
) -> Result<QuietState, LedgerError> {
    let corrupt = |reason: String| LedgerError::Corrupt {
        pk: pk(group),
        sk: SK.into(),
        reason,
    };
    let text = |name: &str| -> Result<String, LedgerError> {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| corrupt(format!("attribute `{name}` missing or not a string")))
    };
    let flag = |name: &str| item.get(name).and_then(|v| v.as_bool().ok()).copied();
    let object = |prefix: &str| -> Result<QuietObject, LedgerError> {
        let time = text(&format!("{prefix}_time"))?;
        let at = DateTime::parse_from_rfc3339(&time)
            .map_err(|e| corrupt(format!("`{prefix}_time` is not RFC 3339: {e}")))?
            .with_timezone(&Utc);
        let optional = |v: String| Some(v).filter(|v| !v.is_empty());
        Ok(QuietObject {
            at,
            key: text(&format!("{prefix}_key"))?,
            identity: text(&format!("{prefix}_identity"))?,
            version_id: optional(text(&format!("{prefix}_version_id"))?),
            etag: optional(text(&format!("{prefix}_etag"))?),
        })
    };
    let unbuilt = match (item.get("closed_from"), flag("closed_built")) {
        (Some(_), Some(false)) => Some(ClosedPeriod {
            from: text("closed_from")?,
            last: object("closed")?,
        }),
        _ => None,
    };
    Ok(QuietState {
        open: flag("period_open")
            .ok_or_else(|| corrupt("attribute `period_open` missing or not a boolean".into()))?,
        from: text("period_from")?,
        last: object("last")?,
        unbuilt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_matched_whole() {
        assert!(uses("closed_from = :from", ":from"));
        assert!(!uses("closed_from = :from", ":f"));
        assert!(uses("period_open = :f AND x = :from", ":f"));
        assert!(uses("SET a = :t", ":t"));
        assert!(!uses("SET a = :last_time", ":t"));
    }

    #[test]
    fn every_object_attribute_is_set_from_its_value() {
        let set = set_object("last");
        for (name, _) in object_values(
            "last",
            &QuietObject {
                at: "2026-11-24T08:00:00Z".parse().unwrap(),
                key: "k".into(),
                identity: "i".into(),
                version_id: None,
                etag: None,
            },
        ) {
            assert!(uses(&set, &name), "{name} unused in {set}");
        }
    }
}
