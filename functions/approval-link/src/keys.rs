//! The signing keys, read at cold start and re-read when a link does not
//! verify (at most once per refresh interval): after a rotation, links signed
//! with the new key work in a function that was already warm, and a forged
//! link costs at most one Secrets Manager read per interval.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use steward::approval::token::{Claims, KeyError, SigningKeys, TokenError};
use steward::secrets::{load_stages, SecretLoadError};
use tracing::{info, warn};

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Load(#[from] SecretLoadError),
    #[error("the approval signing key is unusable: {0}")]
    Key(#[from] KeyError),
}

impl KeysError {
    pub fn error_type(&self) -> &'static str {
        match self {
            KeysError::Load(e) => e.error_type(),
            KeysError::Key(_) => "signing_key_too_short",
        }
    }
}

struct Source {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    refresh: Duration,
}

pub struct Keys {
    source: Option<Source>,
    loaded: RwLock<(SigningKeys, Instant)>,
}

impl Keys {
    /// Keys that never change (tests, tools).
    pub fn fixed(keys: SigningKeys) -> Self {
        Self {
            source: None,
            loaded: RwLock::new((keys, Instant::now())),
        }
    }

    /// Read the secret's current and previous values.
    pub async fn load(
        client: aws_sdk_secretsmanager::Client,
        secret_id: &str,
        refresh: Duration,
    ) -> Result<Self, KeysError> {
        let keys = read(&client, secret_id).await?;
        Ok(Self {
            source: Some(Source {
                client,
                secret_id: secret_id.to_string(),
                refresh,
            }),
            loaded: RwLock::new((keys, Instant::now())),
        })
    }

    /// Verify a token (signature with the current or previous key, expiry).
    pub async fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let (first, loaded_at) = {
            let guard = self.loaded.read().unwrap_or_else(|p| p.into_inner());
            (guard.0.verify(token, now), guard.1)
        };
        let Some(source) = &self.source else {
            return first;
        };
        if first != Err(TokenError::BadSignature) || loaded_at.elapsed() < source.refresh {
            return first;
        }
        match read(&source.client, &source.secret_id).await {
            Ok(keys) => {
                let result = keys.verify(token, now);
                *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = (keys, Instant::now());
                info!("approval signing keys re-read after a link did not verify");
                result
            }
            Err(e) => {
                // The keys in hand still decide; a forged link is no reason to fail.
                warn!(error_type = e.error_type(), error = %e, "could not re-read the signing keys");
                first
            }
        }
    }
}

async fn read(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<SigningKeys, KeysError> {
    Ok(SigningKeys::from_stages(
        load_stages(client, secret_id).await?,
    )?)
}
