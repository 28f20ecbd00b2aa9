//! InvokeEndpoint (SageMaker runtime: `POST /endpoints/{name}/invocations`,
//! signing name `sagemaker`), which moto only fakes: the twin runs the model
//! the endpoint's live config points at. Config → variant (the
//! `X-Amzn-SageMaker-Target-Variant` one, else the first) → model (moto
//! DescribeModel: `PrimaryContainer.ModelDataUrl`, or its `ModelPackageName` →
//! DescribeModelPackage → `InferenceSpecification.Containers[0].ModelDataUrl`)
//! → `model.json` from moto's S3 → [`predict`].
//!
//! Errors as the runtime API reference lists them: an unknown endpoint is a
//! 400 `ValidationError` ("Endpoint {name} of account {account} not found."),
//! a model that cannot answer is a 424 `ModelError`. When the live config has
//! an enabled `DataCaptureConfig`, the request and response are captured to S3
//! as SageMaker does ([`capture`]).

mod capture;
mod predict;

use http::{HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

use super::super::{AwsRequest, Ctx, Reply};
use super::{live_config, sagemaker};
use predict::Model;

pub async fn route(ctx: &Ctx, req: &AwsRequest) -> Option<Reply> {
    if req.service() != Some("sagemaker") || req.method != Method::POST {
        return None;
    }
    let name = req
        .uri
        .path()
        .strip_prefix("/endpoints/")?
        .strip_suffix("/invocations")?;
    let name = crate::twin::request::percent_decode(name);
    Some(match invoke(ctx, req, &name).await {
        Ok(reply) => reply,
        Err(reply) => *reply,
    })
}

async fn invoke(ctx: &Ctx, req: &AwsRequest, name: &str) -> Result<Reply, Box<Reply>> {
    let not_found = || {
        Box::new(Reply::aws_error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            &format!("Endpoint {name} of account {} not found.", ctx.account),
        ))
    };
    let config_name = live_config(ctx, name).ok_or_else(not_found)?;
    let config = moto(
        ctx,
        "DescribeEndpointConfig",
        json!({"EndpointConfigName": config_name}),
    )
    .await?;
    let target = header(req, "x-amzn-sagemaker-target-variant");
    let variants = config["ProductionVariants"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let variant = variants
        .iter()
        .find(|v| target.is_none() || v["VariantName"].as_str() == target.as_deref())
        .ok_or_else(|| model_error("the endpoint config has no such production variant"))?;
    let model = moto(
        ctx,
        "DescribeModel",
        json!({"ModelName": variant["ModelName"]}),
    )
    .await?;
    let container = if model["PrimaryContainer"].is_object() {
        &model["PrimaryContainer"]
    } else {
        &model["Containers"][0]
    };
    let url = match container["ModelDataUrl"].as_str() {
        Some(url) => url.to_string(),
        None => {
            let package = container["ModelPackageName"].as_str().ok_or_else(|| {
                model_error("the model has neither ModelDataUrl nor ModelPackageName")
            })?;
            let package = moto(
                ctx,
                "DescribeModelPackage",
                json!({"ModelPackageName": package}),
            )
            .await?;
            package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
                .as_str()
                .ok_or_else(|| model_error("the model package has no ModelDataUrl"))?
                .to_string()
        }
    };
    let model = fetch_model(ctx, &url).await?;
    let content_type =
        header(req, "content-type").unwrap_or_else(|| "application/octet-stream".into());
    let rows = model
        .check()
        .and_then(|()| model.rows(&content_type, &req.body))
        .map_err(|e| {
            model_error(&format!(
                "Received client error (400) from primary with message \"{e}\"."
            ))
        })?;
    let predictions = model.predict(&rows);
    let output = predictions.to_string();
    capture::record(
        ctx,
        &config,
        capture::Invocation {
            endpoint: name,
            variant: variant["VariantName"].as_str().unwrap_or("AllTraffic"),
            input_type: &content_type,
            input: &req.body,
            output_type: "application/json",
            output: output.as_bytes(),
            at: ctx.clock.now(),
        },
    )
    .await;
    let mut reply = Reply::json(&predictions);
    reply
        .headers
        .insert("content-type", HeaderValue::from_static("application/json"));
    if let Some(Ok(v)) = variant["VariantName"].as_str().map(HeaderValue::from_str) {
        reply.headers.insert("x-amzn-invoked-production-variant", v);
    }
    Ok(reply)
}

fn header(req: &AwsRequest, name: &str) -> Option<String> {
    req.headers.get(name)?.to_str().ok().map(str::to_string)
}

fn model_error(message: &str) -> Box<Reply> {
    Box::new(Reply::aws_error(
        StatusCode::FAILED_DEPENDENCY,
        "ModelError",
        message,
    ))
}

async fn moto(ctx: &Ctx, operation: &str, body: Value) -> Result<Value, Box<Reply>> {
    let reply = sagemaker(ctx, operation, &body).await;
    if !reply.is_success() {
        return Err(Box::new(reply));
    }
    reply
        .body_json()
        .ok_or_else(|| model_error(&format!("{operation} did not answer JSON")))
}

async fn fetch_model(ctx: &Ctx, url: &str) -> Result<Model, Box<Reply>> {
    let (bucket, key) = url
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .ok_or_else(|| model_error(&format!("ModelDataUrl {url} is not an s3:// URI")))?;
    let object = crate::s3_client(&ctx.moto)
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            model_error(&format!(
                "Could not read the model artifact {url}: {}",
                steward::aws_error::describe(&e)
            ))
        })?;
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| model_error(&format!("Could not read the model artifact {url}: {e}")))?
        .into_bytes();
    serde_json::from_slice(&bytes)
        .map_err(|e| model_error(&format!("{url} is not the example model.json: {e}")))
}
