//! A headless Chromium driven through chromedriver's W3C WebDriver HTTP API,
//! with the hyper client the workspace already builds (no WebDriver crate to
//! compile). Only what the browser test uses: open a URL, find an element,
//! read its text, type, click, read the title.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

/// The key W3C WebDriver names an element reference with.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long chromedriver and Chromium get to start, and a page to settle.
const PATIENCE: Duration = Duration::from_secs(30);

/// Where Debian's packages put the browser and its driver; `CHROMIUM` and
/// `CHROMEDRIVER` override.
pub fn browser_paths() -> Result<(String, String), String> {
    let chromium = std::env::var("CHROMIUM").ok().unwrap_or_else(|| {
        // The real binary, not Debian's wrapper script around it.
        ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("/usr/bin/chromium")
            .to_string()
    });
    let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    for (what, path) in [("chromium", &chromium), ("chromedriver", &driver)] {
        if !std::path::Path::new(path).exists() {
            return Err(format!(
                "{what} is not installed at {path}: run `bash scripts/setup` (it installs Debian's \
                 chromium and chromium-driver) or set CHROMIUM / CHROMEDRIVER"
            ));
        }
    }
    Ok((chromium, driver))
}

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    client: Client<HttpConnector, Full<Bytes>>,
    _profile: TempDir,
}

impl Browser {
    /// Start chromedriver on a free port and a fresh headless Chromium session.
    pub async fn start() -> Result<Browser, String> {
        let (chromium, driver_path) = browser_paths()?;
        let port = free_port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {driver_path}: {e}"))?;
        let profile = TempDir::new("steward-chromium")?;
        let client = Client::builder(TokioExecutor::new()).build_http();
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            client,
            _profile: profile,
        };
        let ready_by = Instant::now() + PATIENCE;
        loop {
            match browser.call("GET", "/status", None).await {
                Ok(status) if status["value"]["ready"] == true => break,
                _ if Instant::now() > ready_by => {
                    return Err(format!("{driver_path} did not become ready on port {port}"))
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", browser._profile.path.display()),
                    // A phone-sized window: the page must work there.
                    "--window-size=390,844",
                ]
            }
        }}});
        let session = browser.call("POST", "/session", Some(capabilities)).await?;
        browser.session = session["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session: {session}"))?
            .to_string();
        Ok(browser)
    }

    pub async fn open(&self, url: &str) -> Result<(), String> {
        self.session_call("POST", "/url", Some(json!({ "url": url })))
            .await
            .map(drop)
    }

    pub async fn title(&self) -> Result<String, String> {
        let v = self.session_call("GET", "/title", None).await?;
        Ok(v["value"].as_str().unwrap_or_default().to_string())
    }

    /// Wait (up to the patience) until the page's title contains `text`.
    pub async fn wait_for_title(&self, text: &str) -> Result<String, String> {
        let give_up = Instant::now() + PATIENCE;
        loop {
            let title = self.title().await?;
            if title.contains(text) {
                return Ok(title);
            }
            if Instant::now() > give_up {
                return Err(format!("the title is still `{title}`, not `{text}`"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element a CSS selector finds first.
    pub async fn find(&self, css: &str) -> Result<String, String> {
        let v = self
            .session_call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        v["value"][ELEMENT]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no element `{css}`: {v}"))
    }

    pub async fn text(&self, css: &str) -> Result<String, String> {
        let element = self.find(css).await?;
        let v = self
            .session_call("GET", &format!("/element/{element}/text"), None)
            .await?;
        Ok(v["value"].as_str().unwrap_or_default().to_string())
    }

    pub async fn type_into(&self, css: &str, text: &str) -> Result<(), String> {
        let element = self.find(css).await?;
        self.session_call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await
        .map(drop)
    }

    pub async fn click(&self, css: &str) -> Result<(), String> {
        let element = self.find(css).await?;
        self.session_call(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await
        .map(drop)
    }

    async fn session_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        self.call(method, &format!("/session/{}{path}", self.session), body)
            .await
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .map_err(|e| e.to_string())?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| format!("WebDriver {method} {path}: {e}"))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("WebDriver {method} {path}: {status} {value}"));
        }
        Ok(value)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromium outlives a killed chromedriver: end the session first (it
        // closes the browser), with a blocking request since Drop cannot
        // await, and on the panic path too.
        if !self.session.is_empty() {
            end_session(&self.base, &self.session);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `DELETE /session/{id}` over a plain socket; best effort.
fn end_session(base: &str, session: &str) {
    use std::io::{Read, Write};
    let Some(addr) = base.strip_prefix("http://") else {
        return;
    };
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        // The answer comes once the browser is closed; its first bytes suffice.
        let _ = stream.read(&mut [0u8; 512]);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A fresh Chromium profile directory, removed afterwards.
struct TempDir {
    path: std::path::PathBuf,
}

impl TempDir {
    fn new(prefix: &str) -> Result<TempDir, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
