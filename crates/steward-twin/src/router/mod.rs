//! Local event routing: which rules of template.yaml an event matches
//! ([`route`], used by `steward events route`), and the [`Router`] that
//! delivers the events of a local run to those rules' functions.
//!
//! moto cannot target Lambda functions (a rule with a Lambda target makes
//! PutEvents fail) but delivers to SQS targets, so the router puts one
//! catch-all rule with a queue target on each bus, long-polls the queues,
//! matches every event against the template's rules with the EventBridge
//! matcher and invokes the matched functions through an [`Invoker`].

mod cidr;
mod delivery;
mod intrinsics;
mod invoker;
mod pattern;
mod queues;
mod template;
mod wildcard;

#[cfg(test)]
#[path = "pattern_tests.rs"]
mod pattern_tests;
#[cfg(test)]
#[path = "template_tests.rs"]
mod template_tests;

pub use delivery::{DeadLetter, Delivery, Router, RouterError, RouterHandle};
pub use intrinsics::TemplateError;
pub use invoker::{InProcessFn, InvokeError, Invoker, RetryPolicy};
pub use pattern::{Pattern, PatternError};
pub use template::{
    parse_params, template_rules, template_schedules, Params, RuleTarget, ScheduleRule,
    TemplateRule,
};

use serde_json::Value;

/// The rules that match `event`, on `bus` or on any bus when `None`
/// (an event alone does not say which bus it was put on).
pub fn route<'r>(
    rules: &'r [TemplateRule],
    event: &Value,
    bus: Option<&str>,
) -> Vec<&'r TemplateRule> {
    rules
        .iter()
        .filter(|rule| bus.is_none_or(|bus| rule.bus == bus))
        .filter(|rule| rule.matches(event))
        .collect()
}
