//! The HTTP side of the Function URL: what a request must be before anything
//! else looks at it (POST, JSON, at most 1 MiB), and plain-text replies.

use aws_lambda_events::http::{HeaderMap, HeaderValue};
use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine;
use steward::webhook::MAX_BODY_BYTES;

/// A reply: status and a plain message for whoever reads the forge's delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub message: String,
    /// A short, stable name of what happened, for logs.
    pub outcome: &'static str,
}

impl Reply {
    pub fn new(status: u16, outcome: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            outcome,
        }
    }

    pub fn into_response(self) -> LambdaFunctionUrlResponse {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if self.status == 405 {
            headers.insert("allow", HeaderValue::from_static("POST"));
        }
        let mut response = LambdaFunctionUrlResponse::default();
        response.status_code = i64::from(self.status);
        response.headers = headers;
        response.body = Some(format!("{}\n", self.message));
        response.is_base64_encoded = false;
        response
    }
}

/// A request that passed the checks: its headers and its raw body bytes (the
/// bytes the signature covers).
#[derive(Debug)]
pub struct Incoming {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Incoming {
    /// A header as text; Function URLs lower-case names, HeaderMap ignores case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Method, content type and size, in that order; the first failing check is
/// the reply.
pub fn precheck(req: LambdaFunctionUrlRequest) -> Result<Incoming, Reply> {
    let method = req.request_context.http.method.as_deref().unwrap_or("");
    if !method.eq_ignore_ascii_case("POST") {
        return Err(Reply::new(
            405,
            "method_not_allowed",
            format!("method {method} is not allowed: webhooks are delivered with POST"),
        ));
    }
    check_content_type(&req.headers)?;
    let body = body_bytes(req.body.as_deref().unwrap_or(""), req.is_base64_encoded)?;
    Ok(Incoming {
        headers: req.headers,
        body,
    })
}

fn check_content_type(headers: &HeaderMap) -> Result<(), Reply> {
    let given = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // `application/json; charset=utf-8` is JSON too.
    let essence = given
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(()),
        "application/x-www-form-urlencoded" => Err(Reply::new(
            415,
            "unsupported_media_type",
            "form-encoded payloads are not accepted: set the webhook's content type to application/json",
        )),
        _ => Err(Reply::new(
            415,
            "unsupported_media_type",
            "the body must be application/json",
        )),
    }
}

/// The raw body, decoded if the Function URL base64-encoded it, refused when
/// larger than [`MAX_BODY_BYTES`] (checked before decoding too, so an
/// oversized body costs no decoding).
fn body_bytes(body: &str, is_base64: bool) -> Result<Vec<u8>, Reply> {
    let too_large = || {
        Reply::new(
            413,
            "payload_too_large",
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let bytes = if is_base64 {
        if body.len() > MAX_BODY_BYTES.div_ceil(3) * 4 {
            return Err(too_large());
        }
        base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|_| Reply::new(400, "bad_request", "the body is not valid base64"))?
    } else {
        body.as_bytes().to_vec()
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(
        method: &str,
        content_type: &str,
        body: &str,
        base64: bool,
    ) -> LambdaFunctionUrlRequest {
        serde_json::from_value(json!({
            "headers": {"content-type": content_type},
            "requestContext": {"timeEpoch": 0, "http": {"method": method}},
            "body": body,
            "isBase64Encoded": base64
        }))
        .unwrap()
    }

    #[test]
    fn only_post_with_json_of_at_most_one_mebibyte_passes() {
        assert_eq!(
            precheck(request("GET", "application/json", "{}", false))
                .unwrap_err()
                .status,
            405
        );
        let form = precheck(request(
            "POST",
            "application/x-www-form-urlencoded",
            "payload=x",
            false,
        ))
        .unwrap_err();
        assert_eq!(form.status, 415);
        assert!(
            form.message.contains("application/json"),
            "{}",
            form.message
        );
        assert_eq!(
            precheck(request("POST", "text/plain", "{}", false))
                .unwrap_err()
                .status,
            415
        );
        let big = "x".repeat(MAX_BODY_BYTES + 1);
        assert_eq!(
            precheck(request("POST", "application/json", &big, false))
                .unwrap_err()
                .status,
            413
        );
        let ok = precheck(request(
            "POST",
            "application/json; charset=utf-8",
            "{}",
            false,
        ))
        .unwrap();
        assert_eq!(ok.body, b"{}");
    }

    #[test]
    fn a_base64_body_is_decoded_and_its_decoded_size_counts() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(b"{\"a\":1}");
        let ok = precheck(request("POST", "application/json", &encoded, true)).unwrap();
        assert_eq!(ok.body, b"{\"a\":1}");
        let big = base64::engine::general_purpose::STANDARD.encode(vec![b' '; MAX_BODY_BYTES + 1]);
        assert_eq!(
            precheck(request("POST", "application/json", &big, true))
                .unwrap_err()
                .status,
            413
        );
        assert_eq!(
            precheck(request("POST", "application/json", "***", true))
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn a_reply_is_plain_text_and_405_names_the_allowed_method() {
        let response = Reply::new(405, "method_not_allowed", "no").into_response();
        assert_eq!(response.status_code, 405);
        assert_eq!(response.headers["allow"], "POST");
        assert_eq!(response.body.as_deref(), Some("no\n"));
    }
}
