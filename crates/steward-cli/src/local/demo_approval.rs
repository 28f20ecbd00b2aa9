//! The demo's approval step: approval-link served on a loopback Function URL
//! (so the links in the captured mail open), the gate's report on a model,
//! and the approver who opens the newest link (a plain GET, which decides
//! nothing), reads the page and presses Approve (the form's POST).

use std::sync::Arc;

use approval_link::{Config, Context, LambdaFunctionUrlResponse};
use steward::approval::decision::RECORD_KIND;
use steward::gate::report::GateReport;
use steward::ledger::{Ledger, Subject};
use steward_twin::function_url::fetch;
use steward_twin::{FunctionUrl, LocalRun};

/// The signing key's secret in the local stack (what the template's
/// `ApprovalSigningKey` is on AWS).
pub const APPROVAL_KEY_SECRET_ID: &str = "steward/approval-key";
/// A fixed local key: links from one demo run open in the next.
const LOCAL_KEY: &str = "steward-local-approval-signing-key-0123456789";

/// Create the signing key if missing and serve approval-link; its URL is
/// what request-approval puts in the mails.
pub async fn serve_approval_link(run: &LocalRun) -> Result<FunctionUrl, String> {
    create_approval_key(run).await?;
    serve_approval_link_with_key(run).await
}

/// The signing key's secret, as template.yaml's `ApprovalSigningKey` holds it
/// on AWS (kept when it already exists).
pub async fn create_approval_key(run: &LocalRun) -> Result<(), String> {
    let secrets = aws_sdk_secretsmanager::Client::new(&run.sdk);
    let created = secrets
        .create_secret()
        .name(APPROVAL_KEY_SECRET_ID)
        .secret_string(LOCAL_KEY)
        .send()
        .await;
    if let Err(e) = created {
        if !e
            .as_service_error()
            .is_some_and(|se| se.is_resource_exists_exception())
        {
            return Err(format!(
                "creating the approval signing key: {}",
                steward::aws_error::describe(&e)
            ));
        }
    }
    Ok(())
}

/// Serve approval-link (already configured) on a loopback Function URL.
async fn serve_approval_link_with_key(run: &LocalRun) -> Result<FunctionUrl, String> {
    let config = Config {
        key_secret_id: APPROVAL_KEY_SECRET_ID.into(),
        ledger_table: run.stack.spec.ledger_table.clone(),
        event_bus: run.stack.spec.event_bus.clone(),
        claim_lease: approval_link::handler::DEFAULT_CLAIM_LEASE,
        key_refresh: std::time::Duration::from_secs(60),
    };
    let ctx = Arc::new(
        Context::connect(&run.sdk, &config)
            .await
            .map_err(|e| format!("approval-link could not start: {e}"))?,
    );
    FunctionUrl::serve(0, move |req| {
        let ctx = ctx.clone();
        async move {
            // As on AWS: a failed invocation is a 502 to the browser.
            approval_link::run(&ctx, req).await.unwrap_or_else(|_| {
                let mut response = LambdaFunctionUrlResponse::default();
                response.status_code = 502;
                response
            })
        }
    })
    .await
    .map_err(|e| format!("cannot serve approval-link: {e}"))
}

/// The gate's checks on a model, as request-approval recorded them.
pub async fn print_gate_report(
    functions: &super::demo_functions::Functions,
    arn: &str,
) -> Result<(), String> {
    let ctx = functions
        .request_approval
        .get()
        .ok_or("request-approval is not set up")?;
    let report = gate_report(&ctx.ledger, arn).await?;
    for check in &report.checks {
        println!(
            "  [{}] {}",
            if check.passed { "pass" } else { "FAIL" },
            check.reason
        );
    }
    let decision = ctx
        .ledger
        .records(&Subject::Model(arn.to_string()))
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .rfind(|r| r.kind == RECORD_KIND);
    if let Some(record) = decision {
        println!(
            "  {} for {} by {} via {}: {}",
            record.detail["decision"].as_str().unwrap_or("?"),
            record.detail["environment"]
                .as_str()
                .unwrap_or("the package"),
            record.detail["approver"].as_str().unwrap_or("?"),
            record.detail["channel"].as_str().unwrap_or("?"),
            record.detail["comment"].as_str().unwrap_or(""),
        );
    }
    Ok(())
}

/// The gate's report, as request-approval recorded it.
async fn gate_report<L: Ledger>(ledger: &L, arn: &str) -> Result<GateReport, String> {
    let records = ledger
        .records(&Subject::Model(arn.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    let record = records
        .iter()
        .rev()
        .find(|r| r.kind == request_approval::gate::GATE_RECORD_KIND)
        .ok_or("the gate recorded no report")?;
    serde_json::from_value::<GateReport>(record.detail.clone())
        .map_err(|e| format!("the gate's report is unreadable: {e}"))
}

/// The approver opens the newest approval link in the captured mail and
/// approves with a comment; what the page showed and what it answered.
pub async fn approve_from_mail(run: &LocalRun, approver_comment: &str) -> Result<(), String> {
    let mail = steward_twin::twin::TwinClient::new(run.endpoint())
        .get("mail")
        .await
        .map_err(|e| e.to_string())?;
    let (to, link) = mail["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .rev()
        .find_map(|m| {
            let link = m["links"].as_array()?.first()?.as_str()?.to_string();
            Some((m["to"].as_str().unwrap_or("?").to_string(), link))
        })
        .ok_or("no captured mail carries an approval link")?;
    let (url, token) = link
        .split_once("?token=")
        .ok_or_else(|| format!("not an approval link: {link}"))?;
    println!("  {to} opens the link in their mail (GET {url}?token=…)");

    let page = fetch("GET", &link, None, "").await?;
    println!(
        "  {} {} — Cache-Control {}, Referrer-Policy {}",
        page.status,
        between(&page.body, "<title>", "</title>").unwrap_or("?"),
        header(&page.headers, "cache-control"),
        header(&page.headers, "referrer-policy"),
    );
    if page.status != 200 {
        return Err(format!("the review page answered {}", page.status));
    }
    for row in table_rows(&page.body) {
        println!("    {row}");
    }
    println!("  opening it changed nothing; the scanner-safe page waits for a button");

    let form = format!(
        "token={}&decision=approve&comment={}",
        encode(token),
        encode(approver_comment)
    );
    let result = fetch(
        "POST",
        url,
        Some("application/x-www-form-urlencoded"),
        &form,
    )
    .await?;
    let outcome = between(&result.body, "<title>", "</title>").unwrap_or("?");
    println!("  Approve pressed → {} {outcome}", result.status);
    for line in paragraphs(&result.body) {
        println!("    {line}");
    }
    if result.status != 200 {
        return Err(format!("the decision answered {}", result.status));
    }
    let again = fetch(
        "POST",
        url,
        Some("application/x-www-form-urlencoded"),
        &form,
    )
    .await?;
    println!(
        "  the same form posted again → {} {}",
        again.status,
        between(&again.body, "<title>", "</title>").unwrap_or("?")
    );
    Ok(())
}

fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// The metrics table's rows, cells joined: `metric | value | threshold | champion | result`.
fn table_rows(html: &str) -> Vec<String> {
    let Some(table) = between(html, "<table id=\"metrics\">", "</table>") else {
        return Vec::new();
    };
    table
        .split("<tr>")
        .skip(1)
        .map(|row| {
            let cells = row.replace("</td>", "\u{1f}").replace("</th>", "\u{1f}");
            strip_tags(&cells)
                .split('\u{1f}')
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

fn paragraphs(html: &str) -> Vec<String> {
    html.split("<p>")
        .skip(1)
        .filter_map(|p| p.split("</p>").next())
        .map(|p| strip_tags(p).trim().to_string())
        .collect()
}

/// The text of some HTML: tags dropped, character references decoded.
fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    // A line break on the page (a metric's label, then its path) reads as a
    // separator in the terminal.
    for c in html.replace("<br>", " · ").chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    decode_entities(&text)
}

fn decode_entities(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some(end) = tail.find(';').filter(|end| *end <= 8) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|n| n.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_table_reads_as_rows_of_cells() {
        let html = "<table id=\"metrics\"><thead><tr><th>Metric</th><th>Value</th></tr></thead>\
            <tbody><tr><td>auc</td><td class=\"num\">&#8805; 0.9</td><td class=\"pass\">&#x2713; pass</td></tr></tbody></table>";
        assert_eq!(table_rows(html), ["Metric | Value", "auc | ≥ 0.9 | ✓ pass"]);
        assert_eq!(decode_entities("a &amp; b &bogus c &"), "a & b &bogus c &");
    }
}
