//! Keys kept in Secrets Manager: the `AWSCURRENT` value and, during a rotation,
//! the `AWSPREVIOUS` one, so whatever was signed with the old value (a webhook
//! delivery, an approval link in someone's inbox) still verifies while the
//! rotation settles.

use aws_sdk_secretsmanager::Client;

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

/// The current and (if the secret was ever rotated) the previous value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretStages {
    pub current: Vec<u8>,
    pub previous: Option<Vec<u8>>,
}

impl std::fmt::Debug for SecretStages {
    // Never print key material, not even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretStages")
            .field("current", &"<redacted>")
            .field("previous", &self.previous.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Read both stages. A secret never rotated has no `AWSPREVIOUS`: that is fine.
/// An empty stage is an error (or ignored, for the previous one).
pub async fn load_stages(
    client: &Client,
    secret_id: &str,
) -> Result<SecretStages, SecretLoadError> {
    let current = stage(client, secret_id, "AWSCURRENT")
        .await?
        .ok_or_else(|| SecretLoadError::NoValue {
            secret_id: secret_id.to_string(),
            stage: "AWSCURRENT",
        })?;
    if current.is_empty() {
        return Err(SecretLoadError::Empty {
            secret_id: secret_id.to_string(),
        });
    }
    let previous = stage(client, secret_id, "AWSPREVIOUS")
        .await?
        .filter(|p| !p.is_empty());
    Ok(SecretStages { current, previous })
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
            message: crate::aws_error::describe(&e),
        }),
    }
}
