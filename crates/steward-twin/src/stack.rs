//! The resources of template.yaml, provisioned on the emulator: the ledger
//! table, the `steward` bus, the published policy, each group's pipeline and
//! data bucket (versioned, with EventBridge notifications), and capture queues
//! that record what lands on the buses, so a test or the demo can see it.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use aws_sdk_s3::types::{
    BucketVersioningStatus, EventBridgeConfiguration, NotificationConfiguration,
    VersioningConfiguration,
};
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use serde_json::{json, Value};
use steward::policy::Policy;

use crate::aws::{s3_client, REGION};

/// What to provision; the defaults match template.yaml's names.
#[derive(Debug, Clone)]
pub struct StackSpec {
    pub policy_text: String,
    pub ledger_table: String,
    pub event_bus: String,
    pub policy_parameter: String,
    pub notifications_topic: String,
}

impl StackSpec {
    pub fn new(policy_text: impl Into<String>) -> Self {
        Self {
            policy_text: policy_text.into(),
            ledger_table: "steward-ledger".into(),
            event_bus: "steward".into(),
            policy_parameter: "/steward/policy".into(),
            notifications_topic: "steward-notifications".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("the policy to provision is invalid:\n{0}")]
    Policy(#[from] steward::policy::PolicyErrors),
    #[error("{step} failed: {message}")]
    Aws { step: String, message: String },
}

fn aws_err<E>(step: impl Into<String>) -> impl FnOnce(E) -> StackError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error,
{
    let step = step.into();
    move |e| StackError::Aws {
        step,
        message: steward::aws_error::describe(&e),
    }
}

/// A request that could not be built (a required field missing).
fn invalid<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> StackError {
    move |e| StackError::Aws {
        step: what.into(),
        message: e.to_string(),
    }
}

/// A provisioned local stack.
#[derive(Debug, Clone)]
pub struct Stack {
    pub sdk: SdkConfig,
    pub spec: StackSpec,
    pub policy: Policy,
    /// The SNS topic Steward mails through; every steward and approver of the
    /// policy has a subscription filtered to the mail addressed to them.
    pub notifications_topic_arn: String,
    s3_events_queue: String,
    steward_events_queue: String,
}

/// The execution role deploy passes to SageMaker locally.
pub const LOCAL_SAGEMAKER_ROLE: &str = "arn:aws:iam::123456789012:role/steward-sagemaker";
const S3_CAPTURE: &str = "steward-local-s3-capture";
const STEWARD_CAPTURE: &str = "steward-local-steward-capture";

impl Stack {
    pub async fn provision(sdk: &SdkConfig, spec: StackSpec) -> Result<Self, StackError> {
        let policy = Policy::parse(&spec.policy_text)?;
        create_ledger(sdk, &spec.ledger_table).await?;
        publish_policy(sdk, &spec.policy_parameter, &spec.policy_text).await?;
        let events = aws_sdk_eventbridge::Client::new(sdk);
        events
            .create_event_bus()
            .name(&spec.event_bus)
            .send()
            .await
            .map_err(aws_err("CreateEventBus"))?;
        // The template's StewardArchive: `steward replay` replays from it.
        create_archive(&events, &spec.event_bus).await?;
        let notifications_topic_arn =
            create_notifications(sdk, &spec.notifications_topic, &policy).await?;
        for group in policy.groups.values() {
            create_pipeline(sdk, group).await?;
            if let Some(data) = &group.data {
                create_data_bucket(sdk, &data.bucket).await?;
            }
        }
        let s3_events_queue = capture(
            sdk,
            S3_CAPTURE,
            "default",
            json!({"source": ["aws.s3"], "detail-type": ["Object Created"]}),
        )
        .await?;
        let steward_events_queue = capture(
            sdk,
            STEWARD_CAPTURE,
            &spec.event_bus,
            json!({"source": ["steward"]}),
        )
        .await?;
        Ok(Self {
            sdk: sdk.clone(),
            spec,
            policy,
            notifications_topic_arn,
            s3_events_queue,
            steward_events_queue,
        })
    }

    /// The environment a function needs to run against this stack (what
    /// template.yaml sets, plus the emulator's endpoint and fake credentials).
    pub fn function_env(&self, endpoint: &str) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("STEWARD_LEDGER_TABLE", &self.spec.ledger_table),
            ("STEWARD_EVENT_BUS", &self.spec.event_bus),
            ("STEWARD_POLICY_PARAMETER", &self.spec.policy_parameter),
            ("STEWARD_NOTIFICATIONS_TOPIC", &self.notifications_topic_arn),
            // Any role ARN: the twin does not check what SageMaker is passed.
            ("STEWARD_SAGEMAKER_ROLE_ARN", LOCAL_SAGEMAKER_ROLE),
            // Any role ARN: the twin's CodeDeploy does not assume it.
            (
                "STEWARD_CODEDEPLOY_ROLE_ARN",
                "arn:aws:iam::123456789012:role/steward-codedeploy",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// S3 `Object Created` events the emulator put on the default bus since the
    /// last call, as EventBridge delivered them.
    pub async fn s3_events(&self, wait: Duration) -> Result<Vec<Value>, StackError> {
        drain(&self.sdk, &self.s3_events_queue, wait).await
    }

    /// Steward's own events put on its bus since the last call.
    pub async fn steward_events(&self, wait: Duration) -> Result<Vec<Value>, StackError> {
        drain(&self.sdk, &self.steward_events_queue, wait).await
    }
}

/// The archive of every Steward event on the bus, as the template's
/// `StewardArchive` (the local stack names it `steward-archive`).
async fn create_archive(events: &aws_sdk_eventbridge::Client, bus: &str) -> Result<(), StackError> {
    let bus_arn = events
        .describe_event_bus()
        .name(bus)
        .send()
        .await
        .map_err(aws_err("DescribeEventBus"))?
        .arn
        .unwrap_or_default();
    events
        .create_archive()
        .archive_name(format!("{bus}-archive"))
        .event_source_arn(bus_arn)
        .event_pattern(json!({"source": ["steward"]}).to_string())
        .send()
        .await
        .map_err(aws_err("CreateArchive"))?;
    Ok(())
}

/// The notifications topic and one filtered email subscription per person the
/// policy names (what `steward policy publish` keeps in sync on AWS).
async fn create_notifications(
    sdk: &SdkConfig,
    name: &str,
    policy: &Policy,
) -> Result<String, StackError> {
    let sns = aws_sdk_sns::Client::new(sdk);
    let topic_arn = sns
        .create_topic()
        .name(name)
        .send()
        .await
        .map_err(aws_err("CreateTopic"))?
        .topic_arn
        .unwrap_or_default();
    steward::notify::sync_subscriptions(&sns, &topic_arn, &steward::notify::people(policy))
        .await
        .map_err(|e| StackError::Aws {
            step: "Subscribe".into(),
            message: e.to_string(),
        })?;
    Ok(topic_arn)
}

async fn create_ledger(sdk: &SdkConfig, table: &str) -> Result<(), StackError> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(invalid("AttributeDefinition"))
    };
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .map_err(invalid("KeySchemaElement"))
    };
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(attribute("PK")?)
        .attribute_definitions(attribute("SK")?)
        .key_schema(key("PK", KeyType::Hash)?)
        .key_schema(key("SK", KeyType::Range)?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(aws_err("CreateTable"))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires_at")
                .build()
                .map_err(invalid("TimeToLiveSpecification"))?,
        )
        .send()
        .await
        .map_err(aws_err("UpdateTimeToLive"))?;
    Ok(())
}

async fn publish_policy(sdk: &SdkConfig, name: &str, text: &str) -> Result<(), StackError> {
    // Standard parameters hold 4 KB; a commented policy can be larger.
    let tier = if text.len() > 4096 {
        ParameterTier::Advanced
    } else {
        ParameterTier::Standard
    };
    aws_sdk_ssm::Client::new(sdk)
        .put_parameter()
        .name(name)
        .value(text)
        .r#type(ParameterType::String)
        .tier(tier)
        .overwrite(true)
        .send()
        .await
        .map_err(aws_err("PutParameter"))?;
    Ok(())
}

async fn create_pipeline(
    sdk: &SdkConfig,
    group: &steward::policy::Group,
) -> Result<(), StackError> {
    let names = &group.pipeline.parameters;
    let parameters: Vec<Value> = [
        &names.input_data,
        &names.data_version,
        &names.trigger,
        &names.commit,
    ]
    .into_iter()
    .map(|name| {
        // Like a team's pipeline, it trains on the group's data unless told
        // otherwise: a drift or schedule build passes no data URI.
        let default = match &group.data {
            Some(data) if name == &names.input_data => {
                format!("s3://{}/{}", data.bucket, data.prefix)
            }
            _ => String::new(),
        };
        json!({"Name": name, "Type": "String", "DefaultValue": default})
    })
    .collect();
    let definition = json!({"Version": "2020-12-01", "Parameters": parameters, "Steps": []});
    aws_sdk_sagemaker::Client::new(sdk)
        .create_pipeline()
        .pipeline_name(&group.pipeline.name)
        .pipeline_definition(definition.to_string())
        .role_arn("arn:aws:iam::123456789012:role/steward-local-pipeline")
        .send()
        .await
        .map_err(aws_err(format!("CreatePipeline {}", group.pipeline.name)))?;
    Ok(())
}

async fn create_data_bucket(sdk: &SdkConfig, bucket: &str) -> Result<(), StackError> {
    let s3 = s3_client(sdk);
    match s3.create_bucket().bucket(bucket).send().await {
        Ok(_) => {}
        // Two groups may share a bucket.
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_bucket_already_owned_by_you()) => {}
        Err(e) => return Err(aws_err(format!("CreateBucket {bucket}"))(e)),
    }
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(aws_err("PutBucketVersioning"))?;
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .event_bridge_configuration(EventBridgeConfiguration::builder().build())
                .build(),
        )
        .send()
        .await
        .map_err(aws_err("PutBucketNotificationConfiguration"))?;
    Ok(())
}

/// A rule on `bus` matching `pattern`, delivering to a new SQS queue.
async fn capture(
    sdk: &SdkConfig,
    name: &str,
    bus: &str,
    pattern: Value,
) -> Result<String, StackError> {
    let pattern = pattern.to_string();
    crate::capture::queue_rule(
        sdk,
        crate::capture::QueueRule {
            queue: name,
            rule: name,
            bus,
            pattern: &pattern,
            visibility_seconds: None,
        },
    )
    .await
    .map_err(|e| StackError::Aws {
        step: e.step.to_string(),
        message: e.message,
    })
}

/// Everything in the queue now, waiting up to `wait` for the first message.
async fn drain(sdk: &SdkConfig, url: &str, wait: Duration) -> Result<Vec<Value>, StackError> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut events = Vec::new();
    let mut wait_seconds = wait.as_secs().min(20) as i32;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .send()
            .await
            .map_err(aws_err("ReceiveMessage"))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(events);
        }
        for message in messages {
            if let Some(body) = message.body() {
                let event = serde_json::from_str(body).map_err(|e| StackError::Aws {
                    step: "ReceiveMessage".into(),
                    message: format!("a captured event is not JSON: {e}"),
                })?;
                events.push(event);
            }
            if let Some(handle) = message.receipt_handle() {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(aws_err("DeleteMessage"))?;
            }
        }
        // Later batches are already there or not coming: don't wait again.
        wait_seconds = 0;
    }
}
