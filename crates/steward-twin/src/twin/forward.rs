//! Forwarding requests to moto server unchanged.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::{AwsRequest, Reply};

pub(super) struct Forwarder {
    moto: Uri,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Forwarder {
    pub fn new(moto_endpoint: &str) -> Result<Self, http::uri::InvalidUri> {
        Ok(Self {
            moto: moto_endpoint.parse()?,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    pub async fn forward(&self, req: &AwsRequest) -> Reply {
        let path = req.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let authority = self.moto.authority().map(|a| a.as_str()).unwrap_or("");
        let uri = format!("http://{authority}{path}");
        let mut builder = http::Request::builder().method(req.method.clone()).uri(uri);
        for (name, value) in &req.headers {
            if name == "host" || name == "content-length" {
                continue;
            }
            builder = builder.header(name, value);
        }
        if let Ok(host) = HeaderValue::from_str(authority) {
            builder = builder.header("host", host);
        }
        let request = match builder.body(Full::new(req.body.clone())) {
            Ok(r) => r,
            Err(e) => return bad_gateway(&format!("cannot build the request to moto: {e}")),
        };
        let response = match self.client.request(request).await {
            Ok(r) => r,
            Err(e) => return bad_gateway(&format!("moto is unreachable: {e}")),
        };
        let (parts, body) = response.into_parts();
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return bad_gateway(&format!("moto's reply broke off: {e}")),
        };
        let mut headers = parts.headers;
        headers.remove("content-length");
        headers.remove("transfer-encoding");
        headers.remove("connection");
        Reply {
            status: parts.status,
            headers,
            body,
        }
    }
}

fn bad_gateway(message: &str) -> Reply {
    Reply::aws_error(StatusCode::BAD_GATEWAY, "TwinBadGateway", message)
}
