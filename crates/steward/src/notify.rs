//! Email to the people a policy names (stewards and approvers), through one SNS
//! topic.
//!
//! Each message is for one person: it carries the message attribute
//! `recipient` = their address, and each person's email subscription has the
//! filter policy `{"recipient": [address]}`. One topic then serves everyone
//! without a topic per person, and an approval link, which only its approver may
//! use, never reaches anyone else's inbox. The template's operator subscription
//! filters on `{"recipient": [{"exists": false}]}`: it gets the messages for no
//! one in particular (CloudWatch alarm actions), not other people's links.

use std::collections::BTreeSet;

use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use crate::policy::Policy;

/// The message attribute that names the one person a message is for.
pub const RECIPIENT_ATTRIBUTE: &str = "recipient";

/// SNS refuses email subjects of 100 characters or more.
const MAX_SUBJECT_CHARS: usize = 99;

/// One email: a subject line and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("could not build the message to {to}: {reason}")]
    Invalid { to: String, reason: String },
    #[error("SNS {operation} on {topic_arn} failed: {message}")]
    Call {
        operation: &'static str,
        topic_arn: String,
        message: String,
    },
}

impl NotifyError {
    pub fn error_type(&self) -> &'static str {
        match self {
            NotifyError::Invalid { .. } => "notification_invalid",
            NotifyError::Call { .. } => "notifications_unavailable",
        }
    }
}

/// Sends [`Mail`] to one person at a time through the notifications topic.
#[derive(Debug, Clone)]
pub struct Notifier {
    client: Client,
    topic_arn: String,
}

impl Notifier {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// Send one mail to one person; returns SNS's message id.
    ///
    /// A failed publish is an error, so the handler fails and Lambda retries;
    /// callers claim each (cause, recipient) first so a retry does not mail twice.
    pub async fn send(&self, to: &str, mail: &Mail) -> Result<String, NotifyError> {
        let recipient = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(to)
            .build()
            .map_err(|e| NotifyError::Invalid {
                to: to.to_string(),
                reason: e.to_string(),
            })?;
        let out = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(email_subject(&mail.subject))
            .message(&mail.body)
            .message_attributes(RECIPIENT_ATTRIBUTE, recipient)
            .send()
            .await
            .map_err(|e| NotifyError::Call {
                operation: "Publish",
                topic_arn: self.topic_arn.clone(),
                message: crate::aws_error::describe(&e),
            })?;
        Ok(out.message_id.unwrap_or_default())
    }

    /// Send the same mail to each person, one message each.
    pub async fn send_each(&self, to: &[String], mail: &Mail) -> Result<(), NotifyError> {
        for person in to {
            self.send(person, mail).await?;
        }
        Ok(())
    }
}

/// A subject SNS accepts for email: printable ASCII on one line, under 100
/// characters. Anything else would make Publish fail and the mail be lost.
pub fn email_subject(subject: &str) -> String {
    let cleaned: String = subject
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            '—' | '–' => '-',
            '→' => '>',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '?',
        })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.chars().count() <= MAX_SUBJECT_CHARS {
        return trimmed.to_string();
    }
    let mut short: String = trimmed.chars().take(MAX_SUBJECT_CHARS - 3).collect();
    short.push_str("...");
    short
}

/// The filter policy of a person's subscription: only messages for them.
pub fn filter_policy(email: &str) -> String {
    serde_json::json!({ RECIPIENT_ATTRIBUTE: [email] }).to_string()
}

/// Everyone the policy may write to: every group's stewards and approvers.
pub fn people(policy: &Policy) -> BTreeSet<String> {
    policy
        .groups
        .values()
        .flat_map(|g| g.stewards.iter().chain(g.approvers.iter()))
        .map(|email| email.trim().to_string())
        .collect()
}

/// What [`sync_subscriptions`] changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SubscriptionChanges {
    pub subscribed: Vec<String>,
    pub unsubscribed: Vec<String>,
}

/// Make the topic's per-person subscriptions match `people`: subscribe whoever
/// is missing (AWS then mails them a confirmation link), and unsubscribe the
/// per-person subscriptions of people no longer named. Subscriptions Steward
/// did not make (no `recipient` filter, e.g. the operator's) are left alone.
pub async fn sync_subscriptions(
    client: &Client,
    topic_arn: &str,
    people: &BTreeSet<String>,
) -> Result<SubscriptionChanges, NotifyError> {
    let call = |operation: &'static str| {
        move |e: String| NotifyError::Call {
            operation,
            topic_arn: topic_arn.to_string(),
            message: e,
        }
    };
    let mut existing: Vec<(String, String)> = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .list_subscriptions_by_topic()
            .topic_arn(topic_arn)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| call("ListSubscriptionsByTopic")(crate::aws_error::describe(&e)))?;
        for sub in page.subscriptions() {
            if sub.protocol() == Some("email") {
                existing.push((
                    sub.endpoint().unwrap_or_default().to_string(),
                    sub.subscription_arn().unwrap_or_default().to_string(),
                ));
            }
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => break,
        }
    }
    let mut changes = SubscriptionChanges::default();
    for person in people {
        if existing.iter().any(|(endpoint, _)| endpoint == person) {
            continue;
        }
        client
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("email")
            .endpoint(person)
            .attributes("FilterPolicy", filter_policy(person))
            .attributes("FilterPolicyScope", "MessageAttributes")
            .return_subscription_arn(true)
            .send()
            .await
            .map_err(|e| call("Subscribe")(crate::aws_error::describe(&e)))?;
        changes.subscribed.push(person.clone());
    }
    for (endpoint, arn) in existing {
        if people.contains(&endpoint) || !arn.starts_with("arn:") {
            // Kept, or still pending confirmation (AWS cannot unsubscribe those).
            continue;
        }
        let attributes = client
            .get_subscription_attributes()
            .subscription_arn(&arn)
            .send()
            .await
            .map_err(|e| call("GetSubscriptionAttributes")(crate::aws_error::describe(&e)))?;
        let managed = attributes
            .attributes()
            .and_then(|a| a.get("FilterPolicy"))
            .is_some_and(|f| *f == filter_policy(&endpoint));
        if !managed {
            continue;
        }
        client
            .unsubscribe()
            .subscription_arn(&arn)
            .send()
            .await
            .map_err(|e| call("Unsubscribe")(crate::aws_error::describe(&e)))?;
        changes.unsubscribed.push(endpoint);
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_one_line_of_ascii_under_100_characters() {
        assert_eq!(
            email_subject("Approve payroll-fraud v7 → prod?\n"),
            "Approve payroll-fraud v7 > prod?"
        );
        assert_eq!(email_subject("café — ok"), "caf? - ok");
        let long = "x".repeat(150);
        let subject = email_subject(&long);
        assert_eq!(subject.len(), MAX_SUBJECT_CHARS);
        assert!(subject.ends_with("..."));
    }

    #[test]
    fn a_persons_filter_policy_names_only_them() {
        let policy: serde_json::Value =
            serde_json::from_str(&filter_policy("ana@acme.com")).unwrap();
        assert_eq!(policy, serde_json::json!({"recipient": ["ana@acme.com"]}));
    }

    #[test]
    fn people_are_every_steward_and_approver_once() {
        let policy = Policy::parse(include_str!("../../../examples/steward.toml")).unwrap();
        let people = people(&policy);
        assert!(people.contains("ml-fraud@acme.com"));
        assert!(people.contains("ana.lima@acme.com"));
        assert!(people.contains("hr-ml-lead@acme.com"));
        assert_eq!(people.len(), 5);
    }
}
