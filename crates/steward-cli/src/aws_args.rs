//! `--region`, `--profile` and `--endpoint-url`, as the AWS CLI spells them,
//! and the ledger table, for the commands that read the audit ledger.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use steward::audit::DynamoAuditStore;

#[derive(clap::Args, Debug, Clone)]
pub struct AwsArgs {
    /// The AWS Region (default: AWS_REGION / the profile's region).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// A named profile from the shared AWS config and credentials files.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send every AWS request to this URL (e.g. the local twin).
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// The ledger table (default: $STEWARD_LEDGER_TABLE, else steward-ledger).
    #[arg(long, global = true)]
    pub table: Option<String>,
}

impl AwsArgs {
    /// The SDK configuration the AWS CLI would use with the same flags. With
    /// an endpoint URL and no credentials anywhere, the emulator's dummy
    /// credentials are used, so `--endpoint-url` alone reaches the local twin.
    pub async fn sdk(&self) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint) = &self.endpoint_url {
            let no_credentials = self.profile.is_none()
                && std::env::var_os("AWS_ACCESS_KEY_ID").is_none()
                && std::env::var_os("AWS_PROFILE").is_none();
            if no_credentials {
                return steward_twin::local_sdk_config(endpoint).await;
            }
            loader = loader.endpoint_url(endpoint);
        }
        loader.load().await
    }

    pub fn table(&self) -> String {
        self.table
            .clone()
            .or_else(|| std::env::var("STEWARD_LEDGER_TABLE").ok())
            .unwrap_or_else(|| "steward-ledger".into())
    }

    pub async fn store(&self) -> (SdkConfig, DynamoAuditStore) {
        let sdk = self.sdk().await;
        let store = DynamoAuditStore::new(aws_sdk_dynamodb::Client::new(&sdk), self.table());
        (sdk, store)
    }
}
