//! The HTTP side of the Function URL: what a request is (a GET of the link,
//! a POST of the form, or neither) and how every page is answered: HTML with
//! headers that keep the token in the page (no referrer, no cache, no frame).

use std::collections::HashMap;

use aws_lambda_events::http::{HeaderMap, HeaderValue};
use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine;

/// The form is a token, a decision and a comment: a few KiB at most.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// Inline styles only; no script, image, font or request anywhere else; the
/// form may only post back here; no page may frame this one.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A page to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub html: String,
    /// A short, stable name of what happened, for logs.
    pub outcome: &'static str,
}

impl Reply {
    pub fn new(status: u16, outcome: &'static str, html: String) -> Self {
        Self {
            status,
            html,
            outcome,
        }
    }

    pub fn into_response(self) -> LambdaFunctionUrlResponse {
        let mut headers = HeaderMap::new();
        let mut set = |name: &'static str, value: &'static str| {
            headers.insert(name, HeaderValue::from_static(value));
        };
        set("content-type", "text/html; charset=utf-8");
        // The link carries a credential: never cache the page, never send it
        // on as a referrer, never let another site frame the buttons.
        set("cache-control", "no-store");
        set("referrer-policy", "no-referrer");
        set("x-frame-options", "DENY");
        set("x-content-type-options", "nosniff");
        set("content-security-policy", CONTENT_SECURITY_POLICY);
        if self.status == 405 {
            set("allow", "GET, POST");
        }
        let mut response = LambdaFunctionUrlResponse::default();
        response.status_code = i64::from(self.status);
        response.headers = headers;
        response.body = Some(self.html);
        response.is_base64_encoded = false;
        response
    }
}

/// What the request asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// Show the review page for the link's token.
    Review { token: Option<String>, path: String },
    /// Decide: the form's fields.
    Decide(Form),
    /// A method the link does not answer.
    MethodNotAllowed { method: String },
    /// A POST whose body is not a form.
    UnsupportedBody { reason: &'static str },
}

/// The review form as posted. Nothing in it but the token is trusted to say
/// what is decided on or by whom.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Form {
    pub token: Option<String>,
    pub decision: Option<String>,
    pub comment: Option<String>,
}

pub fn classify(req: &LambdaFunctionUrlRequest) -> Incoming {
    let method = req
        .request_context
        .http
        .method
        .as_deref()
        .unwrap_or("")
        .to_ascii_uppercase();
    match method.as_str() {
        // HEAD is what some mail scanners send; it is a GET without a body.
        "GET" | "HEAD" => Incoming::Review {
            token: req
                .query_string_parameters
                .get("token")
                .filter(|t| !t.is_empty())
                .cloned(),
            path: req
                .raw_path
                .clone()
                .filter(|p| p.starts_with('/'))
                .unwrap_or_else(|| "/".to_string()),
        },
        "POST" => match form(req) {
            Ok(form) => Incoming::Decide(form),
            Err(reason) => Incoming::UnsupportedBody { reason },
        },
        _ => Incoming::MethodNotAllowed { method },
    }
}

fn form(req: &LambdaFunctionUrlRequest) -> Result<Form, &'static str> {
    let content_type = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err("the decision must be sent with the review page's form");
    }
    let body = req.body.as_deref().unwrap_or("");
    if body.len() > MAX_FORM_BYTES.div_ceil(3) * 4 {
        return Err("the form is too large");
    }
    let bytes = if req.is_base64_encoded {
        base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|_| "the form could not be read")?
    } else {
        body.as_bytes().to_vec()
    };
    if bytes.len() > MAX_FORM_BYTES {
        return Err("the form is too large");
    }
    let text = String::from_utf8(bytes).map_err(|_| "the form could not be read")?;
    let fields: HashMap<String, String> = pairs(&text).into_iter().collect();
    let field = |name: &str| fields.get(name).cloned();
    Ok(Form {
        token: field("token").filter(|t| !t.is_empty()),
        decision: field("decision"),
        comment: field("comment"),
    })
}

/// `application/x-www-form-urlencoded` pairs; the first of a repeated name wins.
fn pairs(body: &str) -> Vec<(String, String)> {
    let mut seen = Vec::<(String, String)>::new();
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name);
        if !seen.iter().any(|(n, _)| *n == name) {
            seen.push((name, decode(value)));
        }
    }
    seen
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(hex_digit),
                bytes.get(i + 2).and_then(hex_digit),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(digit: &u8) -> Option<u8> {
    (*digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(
        method: &str,
        query: &str,
        content_type: &str,
        body: &str,
        b64: bool,
    ) -> LambdaFunctionUrlRequest {
        let params: HashMap<String, String> = pairs(query).into_iter().collect();
        serde_json::from_value(json!({
            "rawPath": "/",
            "rawQueryString": query,
            "queryStringParameters": params,
            "headers": {"content-type": content_type},
            "requestContext": {"timeEpoch": 0, "http": {"method": method}},
            "body": body,
            "isBase64Encoded": b64
        }))
        .unwrap()
    }

    #[test]
    fn a_get_reads_the_token_from_the_query() {
        assert_eq!(
            classify(&request("GET", "token=v1.a.b", "", "", false)),
            Incoming::Review {
                token: Some("v1.a.b".into()),
                path: "/".into()
            }
        );
        assert_eq!(
            classify(&request("GET", "", "", "", false)),
            Incoming::Review {
                token: None,
                path: "/".into()
            }
        );
    }

    #[test]
    fn a_post_reads_a_base64_form_and_the_first_of_repeated_fields() {
        let body = base64::engine::general_purpose::STANDARD
            .encode("token=v1.a.b&decision=approve&decision=reject&comment=ok+%C3%A9t%C3%A9%21");
        let incoming = classify(&request(
            "POST",
            "",
            "application/x-www-form-urlencoded",
            &body,
            true,
        ));
        assert_eq!(
            incoming,
            Incoming::Decide(Form {
                token: Some("v1.a.b".into()),
                decision: Some("approve".into()),
                comment: Some("ok été!".into()),
            })
        );
    }

    #[test]
    fn anything_but_a_form_post_or_a_get_is_refused() {
        assert!(matches!(
            classify(&request("PUT", "", "", "", false)),
            Incoming::MethodNotAllowed { .. }
        ));
        assert!(matches!(
            classify(&request("POST", "", "application/json", "{}", false)),
            Incoming::UnsupportedBody { .. }
        ));
        let big = "a".repeat(MAX_FORM_BYTES + 1);
        assert!(matches!(
            classify(&request(
                "POST",
                "",
                "application/x-www-form-urlencoded",
                &big,
                false
            )),
            Incoming::UnsupportedBody { .. }
        ));
    }

    #[test]
    fn every_page_carries_the_security_headers_and_405_names_the_methods() {
        let response = Reply::new(405, "method_not_allowed", "<p>no</p>".into()).into_response();
        assert_eq!(response.status_code, 405);
        assert_eq!(response.headers["allow"], "GET, POST");
        assert_eq!(response.headers["referrer-policy"], "no-referrer");
        assert_eq!(response.headers["cache-control"], "no-store");
        assert_eq!(response.headers["x-frame-options"], "DENY");
        let csp = response.headers["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    }
}

#[cfg(test)]
mod sample_tests {
    use super::*;
    use steward::approval::token::SigningKeys;

    const REVIEW: &str = include_str!("../../../events/function-url-approval-review.json");
    const DECIDE: &str = include_str!("../../../events/function-url-approval-decide.json");
    const SAMPLE_KEY: &[u8] = b"steward-local-approval-signing-key-0123456789";

    #[test]
    fn the_samples_are_a_link_opened_and_its_form_posted_with_a_genuine_token() {
        let keys = SigningKeys::new(SAMPLE_KEY, None).unwrap();
        let review: LambdaFunctionUrlRequest = serde_json::from_str(REVIEW).unwrap();
        let Incoming::Review {
            token: Some(token), ..
        } = classify(&review)
        else {
            panic!("the review sample is not a GET with a token");
        };
        let claims = keys.verify(&token, 1_795_597_925).unwrap();
        assert_eq!(claims.approver, "ana.lima@acme.com");
        assert_eq!(claims.purpose, "approve:prod");

        let decide: LambdaFunctionUrlRequest = serde_json::from_str(DECIDE).unwrap();
        let Incoming::Decide(form) = classify(&decide) else {
            panic!("the decide sample is not a form POST");
        };
        assert_eq!(form.token.as_deref(), Some(token.as_str()));
        assert_eq!(form.decision.as_deref(), Some("approve"));
        assert_eq!(form.comment.as_deref(), Some("AUC up 2 points, FPR flat"));
    }
}
