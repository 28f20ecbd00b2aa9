//! An AWS API request as the twin sees it, and the reply it sends back.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use serde_json::Value;

/// A buffered request: small enough (API calls) to hold whole.
#[derive(Debug, Clone)]
pub struct AwsRequest {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl AwsRequest {
    /// The SigV4 signing name (`sagemaker`, `events`, `dynamodb`, `s3`, `sqs`,
    /// `ssm`, `monitoring`, `codedeploy`, `sns`, `lambda`, …), read from the
    /// credential scope of the Authorization header.
    pub fn service(&self) -> Option<&str> {
        let auth = self.headers.get("authorization")?.to_str().ok()?;
        let credential = auth.split("Credential=").nth(1)?;
        let scope = credential.split([',', ' ']).next()?;
        // AKID/date/region/service/aws4_request
        scope.split('/').nth(3)
    }

    /// The operation name: `X-Amz-Target`'s part after the dot (JSON protocols),
    /// else the `Action` of a query-protocol form body.
    pub fn operation(&self) -> Option<String> {
        if let Some(target) = self.headers.get("x-amz-target") {
            let target = target.to_str().ok()?;
            return target.rsplit('.').next().map(str::to_string);
        }
        form_field(&self.body, "Action")
    }

    /// Whether this is `service` calling `operation`.
    pub fn is(&self, service: &str, operation: &str) -> bool {
        self.service() == Some(service) && self.operation().as_deref() == Some(operation)
    }

    /// The JSON body (JSON-protocol services), or the error reply AWS would give.
    pub fn json(&self) -> Result<Value, Box<Reply>> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Box::new(Reply::aws_error(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                &format!("the request body is not JSON: {e}"),
            ))
        })
    }

    /// A field of a query-protocol form body (`Action=Publish&TopicArn=…`).
    pub fn form(&self, name: &str) -> Option<String> {
        form_field(&self.body, name)
    }

    /// This request with another JSON body (e.g. a merged UpdateModelPackage).
    pub fn with_json(&self, body: &Value) -> AwsRequest {
        let mut req = self.clone();
        req.body = Bytes::from(body.to_string());
        req.headers.remove("content-length");
        req
    }
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_decode(v))
    })
}

/// Decodes `application/x-www-form-urlencoded` values.
pub fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the twin answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// A JSON-protocol (awsJson1.1) success.
    pub fn json(value: &Value) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        Reply {
            status: StatusCode::OK,
            headers,
            body: Bytes::from(value.to_string()),
        }
    }

    /// A JSON-protocol error, shaped as AWS sends it.
    pub fn aws_error(status: StatusCode, code: &str, message: &str) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        if let Ok(v) = HeaderValue::from_str(code) {
            headers.insert("x-amzn-errortype", v);
        }
        Reply {
            status,
            headers,
            body: Bytes::from(serde_json::json!({"__type": code, "message": message}).to_string()),
        }
    }

    /// An error in the protocol the request used: JSON for `X-Amz-Target`
    /// services, S3's `<Error>` XML, else the query protocol's `<ErrorResponse>`.
    pub fn error_for(req: &AwsRequest, status: StatusCode, code: &str, message: &str) -> Reply {
        if req.headers.contains_key("x-amz-target") {
            return Reply::aws_error(status, code, message);
        }
        let (code, message) = (xml_escape(code), xml_escape(message));
        let body = if req.service() == Some("s3") {
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>")
        } else {
            format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>twin</RequestId></ErrorResponse>")
        };
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("text/xml"));
        Reply {
            status,
            headers,
            body: Bytes::from(body),
        }
    }

    /// The reply's JSON body, if it is JSON.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(auth: &str, target: Option<&str>, body: &str) -> AwsRequest {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_str(auth).unwrap());
        if let Some(t) = target {
            headers.insert("x-amz-target", HeaderValue::from_str(t).unwrap());
        }
        AwsRequest {
            method: Method::POST,
            uri: Uri::from_static("/"),
            headers,
            body: Bytes::from(body.to_string()),
        }
    }

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=testing/20261124/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=abc";

    #[test]
    fn service_and_operation_of_a_json_protocol_call() {
        let req = request(AUTH, Some("SageMaker.StartPipelineExecution"), "{}");
        assert_eq!(req.service(), Some("sagemaker"));
        assert_eq!(req.operation().as_deref(), Some("StartPipelineExecution"));
        assert!(req.is("sagemaker", "StartPipelineExecution"));
    }

    #[test]
    fn operation_of_a_query_protocol_call() {
        let auth = AUTH.replace("sagemaker", "sns");
        let req = request(
            &auth,
            None,
            "Action=Publish&Message=Hello+there%21&Version=2010-03-31",
        );
        assert_eq!(req.service(), Some("sns"));
        assert_eq!(req.operation().as_deref(), Some("Publish"));
        assert_eq!(req.form("Message").as_deref(), Some("Hello there!"));
    }

    #[test]
    fn errors_are_shaped_like_aws() {
        let reply = Reply::aws_error(StatusCode::BAD_REQUEST, "ValidationException", "nope");
        assert_eq!(reply.headers["x-amzn-errortype"], "ValidationException");
        assert_eq!(reply.body_json().unwrap()["__type"], "ValidationException");
    }
}
