//! A small HTTPS client for the GitHub and GitLab file APIs: the rustls build
//! the AWS SDK uses, the system's roots, plain HTTP allowed for a local twin.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A request that takes longer is failed (and retried by Lambda).
const TIMEOUT: Duration = Duration::from_secs(10);
/// A policy file is small; refuse anything absurd.
const MAX_BODY: usize = 1024 * 1024;

#[derive(Clone)]
pub struct Http {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl Http {
    pub fn new() -> Result<Self, std::io::Error> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// GET `url` with `headers`; the status and the body as text.
    pub async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<(u16, String), String> {
        let mut request = http::Request::get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Empty::new()).map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| format!("no answer within {}s", TIMEOUT.as_secs()))?
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = tokio::time::timeout(TIMEOUT, response.into_body().collect())
            .await
            .map_err(|_| "the body did not arrive in time".to_string())?
            .map_err(|e| e.to_string())?
            .to_bytes();
        if body.len() > MAX_BODY {
            return Err(format!(
                "the answer is {} bytes, over {MAX_BODY}",
                body.len()
            ));
        }
        let text =
            String::from_utf8(body.to_vec()).map_err(|_| "the answer is not UTF-8".to_string())?;
        Ok((status, text))
    }
}
