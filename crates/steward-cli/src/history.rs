//! `steward history <group> [--env prod] [--since …]`: a group's (or one
//! environment's) events in time order, a page at a time.

use serde_json::{json, Value};
use steward::audit::{AuditRecord, AuditStore, AuditSubject, Cursor, Query, MAX_PAGE};

use crate::aws_args::AwsArgs;
use crate::render::{self, table, time};

#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    /// The model package group.
    pub group: String,
    /// Only this environment's events (deployments, approvals, rollbacks).
    #[arg(long = "env")]
    pub environment: Option<String>,
    /// Events at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Events at or before this time (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    /// Events per page (at most 1000).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Continue after the page that printed this cursor.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Newest first.
    #[arg(long)]
    pub newest_first: bool,
    /// Every page, not just one.
    #[arg(long)]
    pub all: bool,
    /// Print JSON for machines.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

pub async fn run(args: &HistoryArgs) -> Result<(), String> {
    let subject = match &args.environment {
        Some(env) => AuditSubject::environment(&args.group, env),
        None => AuditSubject::group(&args.group),
    };
    let mut query = Query {
        since: args.since.as_deref().map(render::parse_time).transpose()?,
        until: args.until.as_deref().map(render::parse_time).transpose()?,
        newest_first: args.newest_first,
        limit: args.limit.clamp(1, MAX_PAGE),
        cursor: args
            .cursor
            .as_deref()
            .map(str::parse::<Cursor>)
            .transpose()
            .map_err(|e| e.to_string())?,
    };
    let (_, store) = args.aws.store().await;
    let mut records = Vec::new();
    let next = loop {
        let page = store
            .page(&subject, &query)
            .await
            .map_err(|e| e.to_string())?;
        if args.all && !args.json {
            // Stream page by page: the first rows show at once however long the history.
            println!("{}", human(&page.records));
        } else {
            records.extend(page.records);
        }
        match page.next {
            Some(next) if args.all => query.cursor = Some(next),
            next => break next,
        }
    };
    if args.json {
        return render::print_json(&to_json(&subject, &records, next.as_ref()));
    }
    if !args.all {
        println!("{}", human(&records));
    }
    if let Some(next) = next {
        println!("more: --cursor {next}");
    }
    Ok(())
}

/// `{"subject", "records": [<AuditRecord>], "next": <cursor>|null}`.
pub fn to_json(subject: &AuditSubject, records: &[AuditRecord], next: Option<&Cursor>) -> Value {
    json!({
        "subject": subject.to_string(),
        "records": records,
        "next": next.map(ToString::to_string),
    })
}

pub fn human(records: &[AuditRecord]) -> String {
    if records.is_empty() {
        return "no events".into();
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                time(r.at),
                r.environment().unwrap_or("-").to_string(),
                r.detail_type.clone(),
                r.summary.clone(),
            ]
        })
        .collect();
    table(&["TIME", "ENV", "EVENT", "SUMMARY"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testing::{schema, story_store};

    #[tokio::test]
    async fn json_schema_is_stable_and_pages_chain() {
        let store = story_store().await;
        let subject = AuditSubject::environment("payroll-fraud", "prod");
        let query = Query {
            limit: 3,
            ..Query::default()
        };
        let page = store.page(&subject, &query).await.unwrap();
        assert_eq!(page.records.len(), 3);
        let value = to_json(&subject, &page.records, page.next.as_ref());
        assert_eq!(schema(&value), EXPECTED);
        assert_eq!(value["subject"], "ENV#payroll-fraud#prod");
        let text = human(&page.records);
        assert!(text.starts_with("TIME"), "{text}");
        assert!(text.contains("Deployment Started"), "{text}");
    }

    const EXPECTED: &[&str] = &[
        "next: string",
        "records: array",
        "records[].at: string",
        "records[].detail: object",
        "records[].detailType: string",
        "records[].eventId: string",
        "records[].key: string",
        "records[].resources: array",
        "records[].resources[]: string",
        "records[].source: string",
        "records[].subjects: array",
        "records[].subjects[].arn: string",
        "records[].subjects[].environment: string",
        "records[].subjects[].group: string",
        "records[].subjects[].name: string",
        "records[].subjects[].type: string",
        "records[].subjects[]: object",
        "records[].summary: string",
        "records[]: object",
        "subject: string",
    ];
}
