//! A whole local run: moto, the twin in front of it, the stack of
//! template.yaml provisioned through the twin, and optionally the router that
//! delivers events to the functions. Used by `steward local up`, the demo and
//! the end-to-end tests, so all three run the same thing.

use std::collections::HashMap;

use aws_config::SdkConfig;

use crate::emulator::repo_root;
use crate::router::{
    template_rules, template_schedules, Invoker, Params, RetryPolicy, Router, RouterHandle,
};
use crate::{local_sdk_config, Emulator, Stack, StackSpec, Twin, TwinConfig};

/// The repository the local stack publishes its policy from (the example
/// policy's `git.repository`; the webhook samples push to it).
pub const LOCAL_POLICY_REPOSITORY: &str = "acme/ml-models";

/// What to start.
#[derive(Clone)]
pub struct LocalOptions {
    /// The policy text (steward.toml) to provision and publish.
    pub policy_text: String,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    /// Run the example training step (`examples/train/train.py`) for every
    /// group's pipeline, as the ML repository's pipeline would train.
    pub example_training: bool,
    /// Deliver events to functions: the template's rules and how to invoke.
    pub router: Option<(String, Invoker)>,
    /// Where `cargo lambda watch` serves functions (CodeDeploy hooks).
    pub lambda_invoke_endpoint: Option<String>,
}

impl LocalOptions {
    pub fn new(policy_text: impl Into<String>) -> Self {
        Self {
            policy_text: policy_text.into(),
            time_scale: 60.0,
            example_training: true,
            router: None,
            lambda_invoke_endpoint: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(transparent)]
    Emulator(#[from] crate::EmulatorError),
    #[error("the twin did not start: {0}")]
    Twin(#[from] crate::twin::TwinError),
    #[error("provisioning the local stack failed: {0}")]
    Stack(#[from] crate::StackError),
    #[error("the template's rules cannot be read: {0}")]
    Template(#[from] crate::router::TemplateError),
    #[error("the router did not start: {0}")]
    Router(#[from] crate::router::RouterError),
}

/// A running local stack; everything stops when it is dropped.
pub struct LocalRun {
    pub router: Option<RouterHandle>,
    pub stack: Stack,
    /// An SDK config whose clients talk to the twin.
    pub sdk: SdkConfig,
    pub twin: Twin,
    pub emulator: Emulator,
}

impl LocalRun {
    pub async fn start(options: LocalOptions) -> Result<LocalRun, LocalError> {
        let emulator = Emulator::start()?;
        let policy = steward::policy::Policy::parse(&options.policy_text)
            .map_err(crate::StackError::from)?;
        let mut config = TwinConfig::new(emulator.endpoint());
        config.time_scale = options.time_scale;
        config.lambda_invoke_endpoint = options.lambda_invoke_endpoint.clone();
        if options.example_training {
            config.pipeline_steps = example_training_steps(&policy);
        }
        let twin = Twin::start(config).await?;
        let sdk = local_sdk_config(&twin.endpoint()).await;
        let stack = Stack::provision(&sdk, StackSpec::new(options.policy_text.clone())).await?;
        let router = match options.router {
            None => None,
            Some((template, invoker)) => {
                let params = template_params(&stack);
                let rules = template_rules(&template, &params)?;
                let schedules = template_schedules(&template, &params)?;
                let invoker = invoker.with_retry(RetryPolicy::scaled(options.time_scale));
                Some(
                    Router::start(&sdk, rules, invoker)
                        .await?
                        .with_schedules(schedules),
                )
            }
        };
        Ok(LocalRun {
            router,
            stack,
            sdk,
            twin,
            emulator,
        })
    }

    /// The endpoint every client and function uses: the twin.
    pub fn endpoint(&self) -> String {
        self.twin.endpoint()
    }

    /// The environment functions run with against this stack.
    pub fn function_env(&self) -> Vec<(String, String)> {
        self.stack.function_env(&self.endpoint())
    }
}

/// Every group's pipeline runs the example training step for that group.
fn example_training_steps(policy: &steward::policy::Policy) -> HashMap<String, Vec<String>> {
    let root = repo_root();
    let python = root.join(".venv/bin/python").display().to_string();
    let script = root.join("examples/train/train.py").display().to_string();
    policy
        .groups
        .values()
        .map(|group| {
            let step = vec![
                python.clone(),
                script.clone(),
                "--group".to_string(),
                group.name.clone(),
            ];
            (group.pipeline.name.clone(), step)
        })
        .collect()
}

/// The template's parameters as this stack fills them.
fn template_params(stack: &Stack) -> Params {
    let buckets: Vec<String> = stack
        .policy
        .groups
        .values()
        .filter_map(|g| g.data.as_ref().map(|d| d.bucket.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    [
        ("StewardEmail", "steward@example.com".to_string()),
        ("DataBucketNames", buckets.join(",")),
        ("PolicyParameterName", stack.spec.policy_parameter.clone()),
        // Every pipeline of the local account is the policy's: their status
        // changes reach start-build (on AWS the prefix keeps others' out).
        ("ManagedPipelinePrefix", String::new()),
        // Pushes changing the example policy repository's steward.toml publish it.
        ("PolicyRepository", LOCAL_POLICY_REPOSITORY.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
