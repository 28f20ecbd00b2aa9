//! A Lambda Function URL on a loopback port: real HTTP in, the
//! `LambdaFunctionUrlRequest` a function's handler receives, its
//! `LambdaFunctionUrlResponse` back out as HTTP.
//!
//! `cargo lambda watch` serves functions for `cargo lambda invoke`, not for a
//! browser following a link; this is what lets a browser (a test's headless
//! Chromium, the demo, `steward local up`) open an approval link or a forge
//! deliver a webhook to a handler running in-process.
//!
//! The translation follows the Function URL payload format 2.0: lower-cased
//! header names, `rawPath` and `rawQueryString` as sent, repeated query
//! parameters joined with commas, cookies apart, and a body base64-encoded
//! unless its content type is text (form posts arrive encoded, as on AWS).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlRequestContext,
    LambdaFunctionUrlRequestContextHttpDescription, LambdaFunctionUrlResponse,
};
use base64::Engine;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A Function URL body larger than this is refused by AWS (6 MB payload).
const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

type BoxFuture = Pin<Box<dyn Future<Output = LambdaFunctionUrlResponse> + Send>>;
type Handler = Arc<dyn Fn(LambdaFunctionUrlRequest) -> BoxFuture + Send + Sync>;

/// A running Function URL; stops accepting when dropped.
pub struct FunctionUrl {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
}

impl FunctionUrl {
    /// Serve `handler` on `127.0.0.1:port` (0 picks a free port). The handler
    /// answers every request; an error it wants Lambda to count is its own
    /// business: here, as on AWS, it should turn into a 502.
    pub async fn serve<F, Fut>(port: u16, handler: F) -> std::io::Result<FunctionUrl>
    where
        F: Fn(LambdaFunctionUrlRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = LambdaFunctionUrlResponse> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |req| Box::pin(handler(req)));
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((stream, peer)) = accepted else { continue };
                        let handler = handler.clone();
                        tokio::spawn(async move {
                            let service = service_fn(move |req| {
                                answer(handler.clone(), peer, req)
                            });
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                }
            }
        });
        Ok(FunctionUrl { addr, stop })
    }

    /// `http://127.0.0.1:<port>/`, the URL as AWS prints a Function URL (with
    /// the trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for FunctionUrl {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn answer(
    handler: Handler,
    peer: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(plain(StatusCode::BAD_REQUEST, "unreadable body")),
    };
    if body.len() > MAX_BODY_BYTES {
        return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE, "payload too large"));
    }
    let event = to_event(&parts, &body, peer);
    Ok(from_response(handler(event).await))
}

fn plain(status: StatusCode, message: &'static str) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from_static(message.as_bytes())));
    *response.status_mut() = status;
    response
}

/// The event a Function URL hands its function for this HTTP request.
pub fn to_event(
    parts: &http::request::Parts,
    body: &[u8],
    peer: SocketAddr,
) -> LambdaFunctionUrlRequest {
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let mut headers = http::HeaderMap::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        if name == http::header::COOKIE {
            if let Ok(v) = value.to_str() {
                cookies.extend(v.split(';').map(|c| c.trim().to_string()));
            }
            continue;
        }
        // HeaderName is lower-case already, as Function URLs deliver names.
        headers.append(name.clone(), value.clone());
    }
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (body, is_base64_encoded) = if body.is_empty() {
        (None, false)
    } else if is_text(content_type) {
        match std::str::from_utf8(body) {
            Ok(text) => (Some(text.to_string()), false),
            Err(_) => (Some(encode(body)), true),
        }
    } else {
        (Some(encode(body)), true)
    };
    let now = chrono::Utc::now();
    let mut http_ctx = LambdaFunctionUrlRequestContextHttpDescription::default();
    http_ctx.method = Some(parts.method.as_str().to_string());
    http_ctx.path = Some(parts.uri.path().to_string());
    http_ctx.protocol = Some(format!("{:?}", parts.version));
    http_ctx.source_ip = Some(peer.ip().to_string());
    http_ctx.user_agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut context = LambdaFunctionUrlRequestContext::default();
    context.http = http_ctx;
    context.time_epoch = now.timestamp_millis();
    context.time = Some(now.format("%d/%b/%Y:%H:%M:%S %z").to_string());
    context.request_id = Some(format!("local-{}", now.timestamp_nanos_opt().unwrap_or(0)));
    context.domain_name = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut event = LambdaFunctionUrlRequest::default();
    event.version = Some("2.0".into());
    event.raw_path = Some(parts.uri.path().to_string());
    event.query_string_parameters = query_parameters(&raw_query);
    event.raw_query_string = Some(raw_query);
    event.cookies = (!cookies.is_empty()).then_some(cookies);
    event.headers = headers;
    event.request_context = context;
    event.body = body;
    event.is_base64_encoded = is_base64_encoded;
    event
}

fn encode(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(body)
}

/// Text content types travel as text; anything else (form posts included,
/// as on AWS) base64-encoded.
fn is_text(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || matches!(
            essence.as_str(),
            "application/json" | "application/xml" | "application/javascript"
        )
}

/// Query parameters as Function URLs give them: percent-decoded, a repeated
/// name's values joined with commas.
fn query_parameters(raw: &str) -> HashMap<String, String> {
    let mut params: HashMap<String, String> = HashMap::new();
    for (name, value) in form_pairs(raw) {
        params
            .entry(name)
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    params
}

/// `application/x-www-form-urlencoded` pairs (also the query string's syntax).
pub fn form_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
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

fn hex(digit: &u8) -> Option<u8> {
    (*digit as char).to_digit(16).map(|d| d as u8)
}

/// The HTTP response for a function's reply.
pub fn from_response(reply: LambdaFunctionUrlResponse) -> hyper::Response<Full<Bytes>> {
    let body = match reply.body {
        None => Bytes::new(),
        Some(body) if reply.is_base64_encoded => {
            match base64::engine::general_purpose::STANDARD.decode(body.trim()) {
                Ok(bytes) => Bytes::from(bytes),
                Err(_) => {
                    return plain(StatusCode::BAD_GATEWAY, "the function's body is not base64")
                }
            }
        }
        Some(body) => Bytes::from(body),
    };
    let status = u16::try_from(reply.status_code)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok());
    let Some(status) = status else {
        return plain(
            StatusCode::BAD_GATEWAY,
            "the function answered an invalid status",
        );
    };
    let mut response = hyper::Response::new(Full::new(body));
    *response.status_mut() = status;
    *response.headers_mut() = reply.headers;
    for cookie in reply.cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response
                .headers_mut()
                .append(HeaderName::from_static("set-cookie"), value);
        }
    }
    response
}

/// What a [`fetch`] got back: status, headers and the body as text.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

/// A plain HTTP/1 request to a local URL (the other side of [`FunctionUrl`],
/// for the demo and `steward local`): `body` is sent with `content_type`.
pub async fn fetch(
    method: &str,
    url: &str,
    content_type: Option<&str>,
    body: &str,
) -> Result<Fetched, String> {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = http::Request::builder().method(method).uri(url);
    if let Some(content_type) = content_type {
        request = request.header(http::header::CONTENT_TYPE, content_type);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{method} {url}: {e}"))?
        .to_bytes();
    Ok(Fetched {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, content_type: &str) -> http::request::Parts {
        let (parts, ()) = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("Content-Type", content_type)
            .header("Cookie", "a=1; b=2")
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    #[test]
    fn a_form_post_arrives_base64_encoded_with_its_query_and_lowercase_headers() {
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let event = to_event(
            &parts(
                "POST",
                "/decide?x=1&x=2&name=a%20b",
                "application/x-www-form-urlencoded",
            ),
            b"decision=approve&comment=looks+good",
            peer,
        );
        assert_eq!(event.request_context.http.method.as_deref(), Some("POST"));
        assert_eq!(event.raw_path.as_deref(), Some("/decide"));
        assert_eq!(
            event.raw_query_string.as_deref(),
            Some("x=1&x=2&name=a%20b")
        );
        assert_eq!(event.query_string_parameters["x"], "1,2");
        assert_eq!(event.query_string_parameters["name"], "a b");
        assert!(event.is_base64_encoded);
        let body = base64::engine::general_purpose::STANDARD
            .decode(event.body.unwrap())
            .unwrap();
        assert_eq!(body, b"decision=approve&comment=looks+good");
        assert_eq!(
            event.headers["content-type"],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(
            event.cookies,
            Some(vec!["a=1".to_string(), "b=2".to_string()])
        );
    }

    #[test]
    fn a_json_body_travels_as_text_and_an_empty_one_as_none() {
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let event = to_event(&parts("POST", "/", "application/json"), b"{}", peer);
        assert!(!event.is_base64_encoded);
        assert_eq!(event.body.as_deref(), Some("{}"));
        let event = to_event(&parts("GET", "/", "text/plain"), b"", peer);
        assert_eq!(event.body, None);
    }

    #[test]
    fn form_pairs_decode_plus_and_percent_and_keep_a_stray_percent() {
        assert_eq!(
            form_pairs("a=x+y%21&b=%zz&c"),
            vec![
                ("a".to_string(), "x y!".to_string()),
                ("b".to_string(), "%zz".to_string()),
                ("c".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn a_reply_becomes_http_with_its_headers_cookies_and_decoded_body() {
        let mut reply = LambdaFunctionUrlResponse::default();
        reply.status_code = 405;
        reply
            .headers
            .insert("allow", HeaderValue::from_static("GET, POST"));
        reply.cookies = vec!["s=1".into()];
        reply.body = Some(encode(b"no"));
        reply.is_base64_encoded = true;
        let response = from_response(reply);
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET, POST");
        assert_eq!(response.headers()["set-cookie"], "s=1");
        let mut bad = LambdaFunctionUrlResponse::default();
        bad.status_code = 99;
        assert_eq!(from_response(bad).status(), 502);
    }

    #[tokio::test]
    async fn a_served_handler_answers_real_http_with_the_request_it_was_given() {
        let url = FunctionUrl::serve(0, |event: LambdaFunctionUrlRequest| async move {
            let mut reply = LambdaFunctionUrlResponse::default();
            reply.status_code = 201;
            reply.body = Some(format!(
                "{} {} {} {}",
                event.request_context.http.method.unwrap_or_default(),
                event.raw_query_string.unwrap_or_default(),
                event.is_base64_encoded,
                event.body.unwrap_or_default()
            ));
            reply
        })
        .await
        .unwrap();
        let got = fetch(
            "POST",
            &format!("{}?a=1", url.url()),
            Some("application/x-www-form-urlencoded"),
            "x=1",
        )
        .await
        .unwrap();
        assert_eq!(got.status, 201);
        assert_eq!(got.body, format!("POST a=1 true {}", encode(b"x=1")));
    }
}
