//! The webhook secret from Secrets Manager: the `AWSCURRENT` value and, during a
//! rotation, the `AWSPREVIOUS` one, so deliveries signed with the old value
//! still verify while the forge's webhook is being updated.

use aws_sdk_secretsmanager::Client;
use steward::webhook::Secrets;

#[derive(Debug, thiserror::Error)]
pub enum SecretLoadError {
    #[error("GetSecretValue for {secret_id} ({stage}) failed: {message}")]
    Call {
        secret_id: String,
        stage: &'static str,
        message: String,
    },
    #[error("secret {secret_id} has no {stage} value")]
    NoValue {
        secret_id: String,
        stage: &'static str,
    },
    #[error("secret {secret_id} is empty; anyone could sign with an empty key")]
    Empty { secret_id: String },
}

impl SecretLoadError {
    pub fn error_type(&self) -> &'static str {
        match self {
            SecretLoadError::Call { .. } => "secret_unavailable",
            SecretLoadError::NoValue { .. } => "secret_missing",
            SecretLoadError::Empty { .. } => "secret_empty",
        }
    }
}

/// Read both stages. A secret never rotated has no `AWSPREVIOUS`: that is fine.
pub async fn load_secrets(client: &Client, secret_id: &str) -> Result<Secrets, SecretLoadError> {
    let current = stage(client, secret_id, "AWSCURRENT")
        .await?
        .ok_or_else(|| SecretLoadError::NoValue {
            secret_id: secret_id.to_string(),
            stage: "AWSCURRENT",
        })?;
    let previous = stage(client, secret_id, "AWSPREVIOUS").await?;
    Secrets::new(current, previous).map_err(|_| SecretLoadError::Empty {
        secret_id: secret_id.to_string(),
    })
}

async fn stage(
    client: &Client,
    secret_id: &str,
    stage: &'static str,
) -> Result<Option<Vec<u8>>, SecretLoadError> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await;
    match out {
        Ok(out) => Ok(out
            .secret_string
            .map(String::into_bytes)
            .or_else(|| out.secret_binary.map(|b| b.into_inner()))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(SecretLoadError::Call {
            secret_id: secret_id.to_string(),
            stage,
            message: steward::aws_error::describe(&e),
        }),
    }
}
