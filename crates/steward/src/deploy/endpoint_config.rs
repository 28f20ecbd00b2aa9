//! What an endpoint config contains, decided from the policy: one production
//! variant running the model, and data capture if the environment asks for it.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::policy::{DataCapture, Environment, Target};

use super::names;

/// The one production variant Steward gives each config; blue/green swaps whole
/// configs, so the name never needs to change.
pub const VARIANT_NAME: &str = "AllTraffic";

/// The contents of an endpoint config (SDK-free; the deploy function turns it
/// into `CreateEndpointConfig`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointConfigSpec {
    pub endpoint: String,
    pub model_name: String,
    pub variant_name: String,
    pub instance_type: String,
    pub instance_count: u32,
    pub data_capture: Option<CaptureSpec>,
}

/// `DataCaptureConfig`: requests and responses sampled to S3 for drift
/// monitoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptureSpec {
    pub percent: u8,
    pub destination: String,
}

impl From<&DataCapture> for CaptureSpec {
    fn from(capture: &DataCapture) -> Self {
        CaptureSpec {
            percent: capture.percent,
            destination: capture.destination.clone(),
        }
    }
}

impl EndpointConfigSpec {
    /// The config for `model_name` in `environment`; `None` for a target that
    /// is not a SageMaker endpoint.
    pub fn for_environment(environment: &Environment, model_name: &str) -> Option<Self> {
        let Target::SageMakerEndpoint {
            endpoint,
            instance_type,
            instance_count,
        } = &environment.target
        else {
            return None;
        };
        Some(EndpointConfigSpec {
            endpoint: endpoint.clone(),
            model_name: model_name.to_string(),
            variant_name: VARIANT_NAME.to_string(),
            instance_type: instance_type.clone(),
            instance_count: *instance_count,
            data_capture: environment.data_capture.as_ref().map(CaptureSpec::from),
        })
    }

    /// 8 hex characters of SHA-256 over everything the config contains.
    pub fn hash(&self) -> String {
        // Serializing a struct keeps field order, so the digest is stable.
        let canonical = serde_json::to_string(self).unwrap_or_default();
        hex::encode(Sha256::digest(canonical.as_bytes()))[..8].to_string()
    }

    /// `{endpoint}-v{version}-{hash}`.
    pub fn name(&self, version: u32) -> String {
        names::endpoint_config_name(&self.endpoint, version, &self.hash())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Approval, Strategy};
    use std::time::Duration;

    fn environment(capture: Option<DataCapture>) -> Environment {
        Environment {
            name: "prod".into(),
            target: Target::SageMakerEndpoint {
                endpoint: "payroll-fraud-prod".into(),
                instance_type: "ml.m5.xlarge".into(),
                instance_count: 4,
            },
            strategy: Strategy::AllAtOnce,
            alarms: vec![],
            bake: Duration::from_secs(60),
            smoke_test: None,
            approval: Approval::Required,
            data_capture: capture,
        }
    }

    #[test]
    fn the_name_changes_with_what_the_config_contains() {
        let plain = EndpointConfigSpec::for_environment(&environment(None), "pf-v7").unwrap();
        let again = EndpointConfigSpec::for_environment(&environment(None), "pf-v7").unwrap();
        let captured = EndpointConfigSpec::for_environment(
            &environment(Some(DataCapture {
                percent: 20,
                destination: "s3://capture/pf/".into(),
            })),
            "pf-v7",
        )
        .unwrap();
        assert_eq!(plain.name(7), again.name(7));
        assert!(plain.name(7).starts_with("payroll-fraud-prod-v7-"));
        assert_ne!(plain.name(7), captured.name(7));
        assert_eq!(captured.data_capture.as_ref().unwrap().percent, 20);
        assert_eq!(plain.instance_count, 4);
    }

    #[test]
    fn lambda_targets_have_no_endpoint_config() {
        let mut env = environment(None);
        env.target = Target::LambdaAlias {
            function: "f".into(),
            alias: "live".into(),
        };
        assert!(EndpointConfigSpec::for_environment(&env, "m").is_none());
    }
}
