//! Steward's local stack: the AWS emulator (moto server, from the project's
//! virtualenv) started on a free loopback port, and the resources of
//! template.yaml provisioned on it, so functions, tests and the demo run
//! without an AWS account.
//!
//! moto lacks some of AWS's behaviour (no SageMaker or CloudWatch events,
//! ClientRequestToken ignored, …); the twin grows to fill those gaps.

mod aws;
mod capture;
mod emulator;
pub mod function_url;
pub mod local;
pub mod router;
mod stack;
pub mod twin;

pub use aws::{local_sdk_config, s3_client, REGION};
pub use emulator::{repo_root, Emulator, EmulatorError};
pub use function_url::FunctionUrl;
pub use local::{LocalError, LocalOptions, LocalRun, LOCAL_POLICY_REPOSITORY};
pub use stack::{Stack, StackError, StackSpec, LOCAL_SAGEMAKER_ROLE};
pub use twin::{Twin, TwinConfig};
