//! The twin's HTTP server on a loopback port.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::ctx::{Clock, Ctx};
use super::emit::EventSink;
use super::forward::Forwarder;
use super::{admin, route, AwsRequest, Reply};
use crate::local_sdk_config;

#[derive(Debug, Clone)]
pub struct TwinConfig {
    /// moto server's endpoint, e.g. `http://127.0.0.1:5000`.
    pub moto_endpoint: String,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// The local step each pipeline runs (argv), by pipeline name; a pipeline
    /// without one succeeds after a short simulated delay.
    pub pipeline_steps: std::collections::HashMap<String, Vec<String>>,
    /// Base URL of `cargo lambda watch`, where CodeDeploy lifecycle hook
    /// functions are invoked; `None`: hooks count as invoked and the caller
    /// reports their status (PutLifecycleEventHookExecutionStatus).
    pub lambda_invoke_endpoint: Option<String>,
}

impl TwinConfig {
    pub fn new(moto_endpoint: impl Into<String>) -> Self {
        Self {
            moto_endpoint: moto_endpoint.into(),
            time_scale: 60.0,
            port: 0,
            pipeline_steps: Default::default(),
            lambda_invoke_endpoint: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    #[error("the moto endpoint is not a URL: {0}")]
    Endpoint(#[from] http::uri::InvalidUri),
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen { port: u16, source: std::io::Error },
}

/// A running twin; stops when dropped.
pub struct Twin {
    addr: SocketAddr,
    ctx: Arc<Ctx>,
    stop: watch::Sender<bool>,
}

impl Twin {
    pub async fn start(config: TwinConfig) -> Result<Twin, TwinError> {
        let forwarder = Forwarder::new(&config.moto_endpoint)?;
        let moto = local_sdk_config(&config.moto_endpoint).await;
        let events = EventSink::new(aws_sdk_eventbridge::Client::new(&moto));
        let ctx = Arc::new(Ctx::new(
            forwarder,
            moto,
            events,
            Clock::new(config.time_scale),
        ));
        let listener = TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| TwinError::Listen {
                port: config.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| TwinError::Listen {
            port: config.port,
            source,
        })?;
        let (stop, mut stopped) = watch::channel(false);
        let server_ctx = ctx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let ctx = server_ctx.clone();
                        tokio::spawn(async move {
                            let service = service_fn(move |req| serve(ctx.clone(), req));
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                }
            }
        });
        let _ = ctx.config.set((config, format!("http://{addr}")));
        configure_modules(&ctx);
        super::endpoints::register(&ctx);
        Ok(Twin { addr, ctx, stop })
    }

    /// `http://127.0.0.1:<port>`: the endpoint URL for every SDK client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn ctx(&self) -> &Arc<Ctx> {
        &self.ctx
    }
}

/// Hand each module its configuration; again after a reset, which clears
/// module state.
pub(super) fn configure_modules(ctx: &Arc<Ctx>) {
    let Some((config, endpoint)) = ctx.config.get().cloned() else {
        return;
    };
    super::pipelines::configure(ctx, config.pipeline_steps, endpoint);
    super::codedeploy::configure(ctx, config.lambda_invoke_endpoint);
}

impl Drop for Twin {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn serve(
    ctx: Arc<Ctx>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let req = AwsRequest {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
    };
    let reply = handle(&ctx, &req).await;
    let mut response = hyper::Response::new(Full::new(reply.body));
    *response.status_mut() = reply.status;
    *response.headers_mut() = reply.headers;
    Ok(response)
}

async fn handle(ctx: &Arc<Ctx>, req: &AwsRequest) -> Reply {
    if req.uri.path().starts_with(admin::PREFIX) {
        return admin::handle(ctx, req).await;
    }
    if let Some(fault) = ctx.faults.inject(req).await {
        return fault;
    }
    match route(ctx, req).await {
        Some(reply) => reply,
        None => ctx.forward(req).await,
    }
}
