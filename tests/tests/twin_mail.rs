//! SNS email through the twin: published messages are captured per email
//! subscriber for `/_twin/mail`, and moto still gets the publish.

use serde_json::Value;
use steward_twin::twin::TwinClient;
use steward_twin::{local_sdk_config, Emulator, Twin, TwinConfig};

async fn twin() -> (Emulator, Twin, aws_sdk_sns::Client) {
    let emulator = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let twin = Twin::start(TwinConfig::new(emulator.endpoint()))
        .await
        .unwrap();
    let sns = aws_sdk_sns::Client::new(&local_sdk_config(&twin.endpoint()).await);
    (emulator, twin, sns)
}

async fn topic(sns: &aws_sdk_sns::Client, name: &str) -> String {
    sns.create_topic()
        .name(name)
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap()
}

async fn mail(twin: &Twin) -> Vec<Value> {
    let reply = TwinClient::new(twin.endpoint()).get("mail").await.unwrap();
    reply["messages"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_publish_is_captured_once_per_email_subscriber_with_its_links() {
    let (_moto, twin, sns) = twin().await;
    let arn = topic(&sns, "approvals").await;
    for to in ["ana@example.com", "bo@example.com"] {
        sns.subscribe()
            .topic_arn(&arn)
            .protocol("email")
            .endpoint(to)
            .send()
            .await
            .unwrap();
    }
    let published = sns
        .publish()
        .topic_arn(&arn)
        .subject("Approve fraud-model v3?")
        .message("Gate passed. Approve: https://steward.test/approve?id=3&t=x.\nThanks")
        .send()
        .await
        .unwrap();
    let message_id = published.message_id.expect("moto answers with a MessageId");
    assert!(!message_id.is_empty());

    let messages = mail(&twin).await;
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let mut to: Vec<&str> = messages.iter().filter_map(|m| m["to"].as_str()).collect();
    to.sort();
    assert_eq!(to, ["ana@example.com", "bo@example.com"]);
    for m in &messages {
        assert_eq!(m["subject"], "Approve fraud-model v3?");
        assert!(m["body"].as_str().unwrap().starts_with("Gate passed."));
        assert_eq!(
            m["links"],
            serde_json::json!(["https://steward.test/approve?id=3&t=x"])
        );
        assert_eq!(m["topic_arn"], arn.as_str());
        assert_eq!(m["message_id"], message_id.as_str());
        assert!(m["time"].is_string());
    }
}

#[tokio::test]
async fn a_topic_without_email_subscribers_captures_nothing() {
    let (_moto, twin, sns) = twin().await;
    let arn = topic(&sns, "quiet").await;
    // A queue subscriber gets the message; it is no mail.
    let sqs = aws_sdk_sqs::Client::new(&local_sdk_config(&twin.endpoint()).await);
    let queue = sqs
        .create_queue()
        .queue_name("quiet-queue")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = queue_arn(&queue);
    sns.subscribe()
        .topic_arn(&arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .unwrap();
    let published = sns
        .publish()
        .topic_arn(&arn)
        .message("nobody reads this https://x.test")
        .send()
        .await
        .unwrap();
    assert!(published.message_id.is_some_and(|id| !id.is_empty()));
    assert!(mail(&twin).await.is_empty());
}

/// moto's queue URLs end in `<account>/<name>`.
fn queue_arn(url: &str) -> String {
    let mut parts = url.rsplit('/');
    let name = parts.next().unwrap_or_default();
    let account = parts.next().unwrap_or_default();
    format!("arn:aws:sqs:us-east-1:{account}:{name}")
}

/// Steward mails one person at a time: the message names its recipient and
/// each person's subscription filters on it, so nobody gets another's link.
#[tokio::test]
async fn mail_addressed_to_one_person_reaches_only_them_and_unaddressed_mail_the_operator() {
    use steward::notify::{sync_subscriptions, Mail, Notifier};
    let (_moto, twin, sns) = twin().await;
    let arn = topic(&sns, "steward-notifications").await;
    let people = ["ana@acme.com".to_string(), "raj@acme.com".to_string()];
    let changes = sync_subscriptions(&sns, &arn, &people.iter().cloned().collect())
        .await
        .unwrap();
    assert_eq!(changes.subscribed, people);
    // The operator's subscription, as template.yaml makes it.
    sns.subscribe()
        .topic_arn(&arn)
        .protocol("email")
        .endpoint("ops@acme.com")
        .attributes("FilterPolicy", r#"{"recipient": [{"exists": false}]}"#)
        .attributes("FilterPolicyScope", "MessageAttributes")
        .return_subscription_arn(true)
        .send()
        .await
        .unwrap();

    let notifier = Notifier::new(sns.clone(), &arn);
    let mail_for_raj = Mail {
        subject: "Approve payroll-fraud v7 → staging?".into(),
        body: "Your link: https://steward.test/a?token=raj".into(),
    };
    notifier.send("raj@acme.com", &mail_for_raj).await.unwrap();
    sns.publish()
        .topic_arn(&arn)
        .message("ALARM: payroll-fraud-prod-5xx")
        .send()
        .await
        .unwrap();

    let messages = mail(&twin).await;
    let delivered: Vec<(&str, &str)> = messages
        .iter()
        .map(|m| (m["to"].as_str().unwrap(), m["body"].as_str().unwrap()))
        .collect();
    assert_eq!(
        delivered,
        [
            (
                "raj@acme.com",
                "Your link: https://steward.test/a?token=raj"
            ),
            ("ops@acme.com", "ALARM: payroll-fraud-prod-5xx"),
        ]
    );
    assert_eq!(
        messages[0]["subject"],
        "Approve payroll-fraud v7 > staging?"
    );

    // Syncing again changes nothing; a person dropped from the policy is unsubscribed.
    let again = sync_subscriptions(&sns, &arn, &people.iter().cloned().collect())
        .await
        .unwrap();
    assert_eq!(again, Default::default());
    let fewer = sync_subscriptions(&sns, &arn, &[people[0].clone()].into_iter().collect())
        .await
        .unwrap();
    assert_eq!(fewer.unsubscribed, ["raj@acme.com"]);
    notifier.send("raj@acme.com", &mail_for_raj).await.unwrap();
    assert_eq!(
        mail(&twin).await.len(),
        2,
        "nobody receives mail for raj now"
    );
}
