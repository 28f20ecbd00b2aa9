//! The webhook secret from Secrets Manager (current and, during a rotation,
//! previous value; see `steward::secrets`).

use aws_sdk_secretsmanager::Client;
pub use steward::secrets::SecretLoadError;
use steward::webhook::Secrets;

pub async fn load_secrets(client: &Client, secret_id: &str) -> Result<Secrets, SecretLoadError> {
    let stages = steward::secrets::load_stages(client, secret_id).await?;
    Secrets::new(stages.current, stages.previous).map_err(|_| SecretLoadError::Empty {
        secret_id: secret_id.to_string(),
    })
}
