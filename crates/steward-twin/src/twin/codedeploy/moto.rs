//! Calls the lifecycle makes to moto: shifting the alias, reading alarms.

use std::collections::HashMap;

use aws_sdk_lambda::types::AliasRoutingConfiguration;
use bytes::Bytes;
use http::{HeaderValue, Method};

use super::super::{AwsRequest, Ctx};

/// Point `alias` at `current` with `weight` of the traffic on `target`
/// (weight 1: the alias is `target` alone). moto keeps `RoutingConfig` as given
/// (UpdateAlias, <https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html>).
pub async fn shift_alias(
    ctx: &Ctx,
    function: &str,
    alias: &str,
    current: &str,
    target: &str,
    weight: f64,
) -> Result<(), String> {
    let (version, weights) = if weight >= 1.0 {
        (target, HashMap::new())
    } else if weight <= 0.0 {
        (current, HashMap::new())
    } else {
        (current, HashMap::from([(target.to_string(), weight)]))
    };
    aws_sdk_lambda::Client::new(&ctx.moto)
        .update_alias()
        .function_name(function)
        .name(alias)
        .function_version(version)
        .routing_config(
            AliasRoutingConfiguration::builder()
                .set_additional_version_weights(Some(weights))
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "UpdateAlias {function}:{alias}: {}",
                steward::aws_error::describe(&e)
            )
        })
}

/// The named alarms that are in ALARM, asked of moto's CloudWatch (query
/// protocol, XML reply) so the twin needs no CloudWatch SDK of its own.
pub async fn alarms_firing(ctx: &Ctx, names: &[String]) -> Result<Vec<String>, String> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut body = String::from("Action=DescribeAlarms&Version=2010-08-01");
    for (i, name) in names.iter().enumerate() {
        body.push_str(&format!(
            "&AlarmNames.member.{}={}",
            i + 1,
            form_encode(name)
        ));
    }
    let mut req = AwsRequest {
        method: Method::POST,
        uri: "/".parse().map_err(|e| format!("{e}"))?,
        headers: Default::default(),
        body: Bytes::from(body),
    };
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20240101/{}/monitoring/aws4_request, SignedHeaders=host, Signature=0",
        ctx.region
    );
    req.headers.insert(
        "authorization",
        HeaderValue::from_str(&auth).map_err(|e| e.to_string())?,
    );
    req.headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let reply = ctx.forward(&req).await;
    let xml = String::from_utf8_lossy(&reply.body);
    if !reply.is_success() {
        return Err(format!("DescribeAlarms: {} {xml}", reply.status));
    }
    // Each <member> of MetricAlarms has an AlarmName and a StateValue.
    Ok(xml
        .split("<AlarmName>")
        .skip(1)
        .filter_map(|chunk| {
            let name = chunk.split("</AlarmName>").next()?;
            let state = chunk
                .split("<StateValue>")
                .nth(1)?
                .split("</StateValue>")
                .next()?;
            (state == "ALARM").then(|| name.to_string())
        })
        .collect())
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
