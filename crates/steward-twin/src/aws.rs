//! SDK configuration for the local emulator.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

/// The region every local resource lives in.
pub const REGION: &str = "us-east-1";

/// An SDK config whose every client talks to the emulator at `endpoint`, with
/// fake credentials (moto accepts any) and a fixed region.
pub async fn local_sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "steward-local",
        ))
        .load()
        .await
}

/// S3 on a loopback endpoint needs path-style addressing (no bucket subdomains).
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    )
}
