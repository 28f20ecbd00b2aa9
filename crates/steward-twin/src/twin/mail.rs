//! Twin module `mail`: SNS email subscriptions deliver nowhere locally, so
//! every `Publish` to a topic with `email` / `email-json` subscribers is
//! forwarded to moto and, once moto accepted it, captured as one message per
//! subscriber for `/_twin/mail` (and `steward local mail`).
//!
//! aws-sdk-sns speaks the query protocol (form body `Action=Publish&…`, XML
//! reply), so the fields are read with [`AwsRequest::form`]. The bodies follow
//! AWS's email delivery: `email` gets the message text (the `email` or
//! `default` key of a `MessageStructure=json` message), `email-json` gets the
//! JSON notification document
//! (<https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html>).
//! moto confirms email subscriptions at once, so every one receives mail —
//! unless the subscription's filter policy (message-attributes scope, the
//! EventBridge-like syntax SNS shares) does not match the message's string
//! attributes: Steward addresses each mail to one person that way.

use std::sync::Mutex;

use chrono::Utc;
use serde_json::{json, Value};

use super::{AwsRequest, Ctx, Reply};
use crate::router::Pattern;

/// The subject AWS gives an email notification published without one.
const DEFAULT_SUBJECT: &str = "AWS Notification Message";

#[derive(Default)]
struct Outbox {
    messages: Mutex<Vec<Value>>,
}

pub async fn route(ctx: &Ctx, req: &AwsRequest) -> Option<Reply> {
    if !req.is("sns", "Publish") {
        return None;
    }
    // A direct publish to a phone or endpoint (TargetArn of a non-topic) is no mail.
    let topic_arn = req
        .form("TopicArn")
        .or_else(|| req.form("TargetArn"))
        .filter(|arn| arn.starts_with("arn:aws:sns:") && arn.split(':').count() == 6)?;
    let reply = ctx.forward(req).await;
    if !reply.is_success() {
        return Some(reply);
    }
    let subscribers = match email_subscribers(ctx, &topic_arn).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("mail: cannot list the subscribers of {topic_arn}: {e}");
            return Some(reply);
        }
    };
    if subscribers.is_empty() {
        return Some(reply);
    }
    let message_id =
        xml_text(&String::from_utf8_lossy(&reply.body), "MessageId").unwrap_or_default();
    let published = Published {
        topic_arn,
        message_id,
        subject: req.form("Subject"),
        message: req.form("Message").unwrap_or_default(),
        structure_json: req.form("MessageStructure").as_deref() == Some("json"),
    };
    let attributes = message_attributes(req);
    let outbox = ctx.state::<Outbox>();
    let mut messages = outbox.messages.lock().unwrap_or_else(|p| p.into_inner());
    for (protocol, to, filter) in subscribers {
        if filter.is_some_and(|f| !f.matches(&attributes)) {
            continue;
        }
        messages.push(published.mail(&protocol, &to));
    }
    Some(reply)
}

/// Captured messages, oldest first.
pub fn messages(ctx: &Ctx) -> Vec<Value> {
    ctx.state::<Outbox>()
        .messages
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// The String-typed message attributes of a Publish, as `{name: value}`
/// (`MessageAttributes.entry.N.Name` / `.Value.StringValue` in the form).
fn message_attributes(req: &AwsRequest) -> Value {
    let mut found = serde_json::Map::new();
    for n in 1.. {
        let Some(name) = req.form(&format!("MessageAttributes.entry.{n}.Name")) else {
            break;
        };
        if let Some(value) = req.form(&format!("MessageAttributes.entry.{n}.Value.StringValue")) {
            found.insert(name, Value::String(value));
        }
    }
    Value::Object(found)
}

/// A subscription's filter policy on message attributes, if it has one.
async fn filter_of(sns: &aws_sdk_sns::Client, subscription_arn: &str) -> Option<Pattern> {
    let out = sns
        .get_subscription_attributes()
        .subscription_arn(subscription_arn)
        .send()
        .await
        .ok()?;
    let attributes = out.attributes()?;
    if attributes
        .get("FilterPolicyScope")
        .is_some_and(|scope| scope == "MessageBody")
    {
        // Steward never filters on bodies; deliver as if unfiltered.
        return None;
    }
    let policy = attributes.get("FilterPolicy").filter(|p| !p.is_empty())?;
    match Pattern::parse_str(policy) {
        Ok(pattern) => Some(pattern),
        Err(e) => {
            tracing::warn!("mail: filter policy of {subscription_arn} unreadable: {e}");
            None
        }
    }
}

type Subscriber = (String, String, Option<Pattern>);

/// `(protocol, address, filter)` of each email / email-json subscription of the topic.
async fn email_subscribers(ctx: &Ctx, topic_arn: &str) -> Result<Vec<Subscriber>, String> {
    let sns = aws_sdk_sns::Client::new(&ctx.moto);
    let mut found = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = sns
            .list_subscriptions_by_topic()
            .topic_arn(topic_arn)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| steward::aws_error::describe(&e))?;
        for sub in page.subscriptions() {
            let protocol = sub.protocol().unwrap_or_default();
            if protocol == "email" || protocol == "email-json" {
                let filter = match sub.subscription_arn() {
                    Some(arn) if arn.starts_with("arn:") => filter_of(&sns, arn).await,
                    _ => None,
                };
                found.push((
                    protocol.to_string(),
                    sub.endpoint().unwrap_or_default().into(),
                    filter,
                ));
            }
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => return Ok(found),
        }
    }
}

struct Published {
    topic_arn: String,
    message_id: String,
    subject: Option<String>,
    message: String,
    structure_json: bool,
}

impl Published {
    /// The message one subscriber receives.
    fn mail(&self, protocol: &str, to: &str) -> Value {
        let time = Utc::now();
        let text = self.text_for(protocol);
        let body = if protocol == "email-json" {
            json!({
                "Type": "Notification",
                "MessageId": self.message_id,
                "TopicArn": self.topic_arn,
                "Subject": self.subject,
                "Message": text,
                "Timestamp": time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            })
            .to_string()
        } else {
            text.clone()
        };
        json!({
            "to": to,
            "subject": self.subject.as_deref().unwrap_or(DEFAULT_SUBJECT),
            "body": body,
            "topic_arn": self.topic_arn,
            "message_id": self.message_id,
            "time": time,
            "links": links(&text),
        })
    }

    /// With `MessageStructure=json` each protocol has its own text, else `default`.
    fn text_for(&self, protocol: &str) -> String {
        if !self.structure_json {
            return self.message.clone();
        }
        let Ok(per_protocol) = serde_json::from_str::<Value>(&self.message) else {
            return self.message.clone();
        };
        per_protocol
            .get(protocol)
            .or_else(|| per_protocol.get("default"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
}

/// Every http(s) URL in the text, in order, without trailing punctuation.
pub fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\'' | '`'))
            .unwrap_or(tail.len());
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']']);
        if url.len() > "https://".len() {
            found.push(url.to_string());
        }
        rest = &tail[end..];
    }
    found
}

/// The text of the first `<tag>…</tag>` in an XML reply.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_every_url_without_trailing_punctuation() {
        let text = "Approve: https://x.test/a?b=1&c=2. Or reject (http://y.test/r).\nhttps://";
        assert_eq!(
            links(text),
            vec!["https://x.test/a?b=1&c=2", "http://y.test/r"]
        );
    }

    #[test]
    fn json_structured_messages_give_each_protocol_its_text() {
        let published = Published {
            topic_arn: "arn:aws:sns:us-east-1:123456789012:t".into(),
            message_id: "m".into(),
            subject: None,
            message: r#"{"default": "d", "email": "e https://a.test"}"#.into(),
            structure_json: true,
        };
        let mail = published.mail("email", "a@b.test");
        assert_eq!(mail["body"], "e https://a.test");
        assert_eq!(mail["subject"], DEFAULT_SUBJECT);
        assert_eq!(mail["links"], json!(["https://a.test"]));
        let mail = published.mail("email-json", "a@b.test");
        let doc: Value = serde_json::from_str(mail["body"].as_str().unwrap()).unwrap();
        assert_eq!(doc["Message"], "d");
        assert_eq!(doc["Type"], "Notification");
    }

    #[test]
    fn message_id_is_read_from_the_xml_reply() {
        let xml = "<PublishResponse><PublishResult><MessageId>abc-1</MessageId></PublishResult></PublishResponse>";
        assert_eq!(xml_text(xml, "MessageId").as_deref(), Some("abc-1"));
    }
}
