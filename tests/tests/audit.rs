//! The audit function and ledger views against the emulator: a story delivered
//! out of order, twice and replayed is one ordered lineage; `served --at`
//! across a rollout and a rollback; long histories paginate; an archive
//! replay reaches the audit function and writes nothing new.

use std::collections::BTreeSet;
use std::sync::Arc;

use audit::handler::{self, Context};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use steward::audit::queries;
use steward::audit::{
    all_records, item_for, AuditRecord, AuditStore, AuditSubject, DynamoAuditStore, Query,
};
use steward::ledger::DynamoLedger;
use steward_tests::{Local, DELIVERY_WAIT, EXAMPLE_POLICY};
use steward_twin::router::{InProcessFn, InvokeError, Invoker};
use steward_twin::{s3_client, LocalOptions, LocalRun};
use tokio::sync::OnceCell;

const V2: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/2";
const V3: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/payroll-fraud/3";
const ENDPOINT: &str = "payroll-fraud-prod";

fn story() -> Vec<Value> {
    serde_json::from_str(include_str!("../../events/audit-story.json")).unwrap()
}

/// The story reversed, then each event again at a scattered place, then a
/// replay of every event (new id, `replay-name`).
fn shuffled_twice_and_replayed() -> Vec<Value> {
    let events = story();
    let mut out: Vec<Value> = events.iter().rev().cloned().collect();
    for (i, e) in events.iter().enumerate() {
        out.insert((i * 7) % (out.len() + 1), e.clone());
    }
    for (i, e) in events.iter().enumerate() {
        let mut replayed = e.clone();
        replayed["id"] = json!(format!("replayed-{i}"));
        replayed["replay-name"] = json!("steward-replay-test");
        out.push(replayed);
    }
    out
}

async fn start() -> (Local, Context) {
    let local = Local::start(EXAMPLE_POLICY).await;
    let store = DynamoAuditStore::new(
        aws_sdk_dynamodb::Client::new(&local.sdk),
        &local.stack.spec.ledger_table,
    );
    (local, Context { store })
}

fn ledger(local: &Local) -> DynamoLedger {
    DynamoLedger::new(
        aws_sdk_dynamodb::Client::new(&local.sdk),
        &local.stack.spec.ledger_table,
    )
}

async fn deliver(ctx: &Context, events: Vec<Value>) -> usize {
    let mut written = 0;
    for event in events {
        written += handler::run(ctx, event)
            .await
            .expect("audit records it")
            .written;
    }
    written
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[tokio::test]
async fn a_story_delivered_shuffled_twice_and_replayed_is_one_lineage_in_time_order() {
    let (local, ctx) = start().await;
    let written = deliver(&ctx, shuffled_twice_and_replayed()).await;
    let expected: usize = story()
        .iter()
        .map(|e| AuditRecord::from_event(e).unwrap().subjects.len())
        .sum();
    assert_eq!(written, expected, "one item per (subject, event), no more");

    let lineage = queries::lineage(&ctx.store, Some(&ledger(&local)), V3)
        .await
        .unwrap();
    let types: Vec<&str> = lineage
        .timeline
        .iter()
        .map(|e| e.detail_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "Build Started",
            "SageMaker Model Building Pipeline Execution Status Change",
            "SageMaker Model Package State Change",
            "SageMaker Model Building Pipeline Execution Status Change",
            "Gate Evaluated",
            "Approval Requested",
            "Approval Decided",
            "SageMaker Model Package State Change",
            "Deployment Started",
            "Deployment Succeeded",
            "Drift Detected",
            "CloudWatch Alarm State Change",
            "Rollback Started",
            "Rollback Completed",
            "SageMaker Model Package State Change",
        ]
    );
    let ids: BTreeSet<&str> = lineage
        .timeline
        .iter()
        .map(|e| e.event_id.as_str())
        .collect();
    assert_eq!(ids.len(), lineage.timeline.len(), "no duplicates");
    assert!(
        ids.iter().all(|id| !id.starts_with("replayed-")),
        "the first delivery's id is kept"
    );
    assert!(lineage.timeline.windows(2).all(|w| w[0].at <= w[1].at));
    let build = lineage.build.as_ref().unwrap();
    assert_eq!(build.status.as_deref(), Some("Succeeded"));
    assert_eq!(
        lineage.approvals[1].approver.as_deref(),
        Some("ana@example.com")
    );
    assert_eq!(lineage.deployments[0].strategy.as_deref(), Some("CANARY"));
    assert_eq!(
        lineage.rollbacks[0].alarm.as_deref(),
        Some("payroll-fraud-prod-5xx")
    );

    // The same views as from the story delivered once, in order.
    let in_order: Vec<AuditRecord> = story()
        .iter()
        .map(|e| AuditRecord::from_event(e).unwrap())
        .collect();
    assert_eq!(
        lineage,
        steward::audit::views::Lineage::of(V3, &in_order),
        "arrival order does not matter"
    );
}

#[tokio::test]
async fn served_at_before_during_and_after_a_rollout_and_after_its_rollback() {
    let (local, ctx) = start().await;
    deliver(&ctx, shuffled_twice_and_replayed()).await;
    let ledger = ledger(&local);
    let ask = |t: &'static str| queries::served(&ctx.store, Some(&ledger), ENDPOINT, at(t));

    let before = ask("2026-11-23T09:00:00Z").await.unwrap();
    assert_eq!(before.environment.as_deref(), Some("prod"));
    assert_eq!(before.serving.as_ref().unwrap().model_package_arn, V2);
    assert_eq!(before.rolling_out, None);

    let during = ask("2026-11-23T09:11:00Z").await.unwrap();
    assert_eq!(during.serving.as_ref().unwrap().model_package_arn, V2);
    assert_eq!(during.rolling_out.as_ref().unwrap().model_package_arn, V3);

    let after = ask("2026-11-23T09:15:00Z").await.unwrap();
    let serving = after.serving.as_ref().unwrap();
    assert_eq!(serving.model_package_arn, V3);
    assert_eq!(serving.from, at("2026-11-23T09:12:40Z"));
    assert_eq!(serving.until, Some(at("2026-11-23T09:18:00Z")));
    assert_eq!(
        after.approvals[0].approver.as_deref(),
        Some("ana@example.com")
    );
    assert_eq!(after.approvals[0].channel.as_deref(), Some("link"));
    assert_eq!(after.gate.as_ref().unwrap().passed, Some(true));
    let build = after.build.as_ref().unwrap();
    assert!(build.commit.as_deref().unwrap().starts_with("8e1f3c5a"));
    assert_eq!(
        build.data_uri.as_deref(),
        Some("s3://acme-ml-data/payroll-fraud/transactions/2026-11-23/")
    );

    let rolled_back = ask("2026-11-23T09:20:00Z").await.unwrap();
    let serving = rolled_back.serving.as_ref().unwrap();
    assert_eq!(serving.model_package_arn, V2);
    assert_eq!(serving.how, "rolled-back-to");
}

#[tokio::test]
async fn ten_thousand_records_paginate_in_order() {
    let (local, ctx) = start().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&local.sdk);
    let table = local.stack.spec.ledger_table.clone();
    let group = AuditSubject::group("bulk");
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    // One record a minute, written in reverse order.
    let records: Vec<AuditRecord> = (0..10_000i64)
        .rev()
        .map(|i| {
            AuditRecord::from_event(&json!({
                "id": format!("bulk-{i}"),
                "source": "steward",
                "detail-type": "Build Started",
                "time": (start + Duration::minutes(i)).to_rfc3339(),
                "detail": {"modelPackageGroup": "bulk", "n": i}
            }))
            .unwrap()
        })
        .collect();
    let batches: Vec<Vec<WriteRequest>> = records
        .chunks(25)
        .map(|chunk| {
            chunk
                .iter()
                .map(|r| {
                    let put = PutRequest::builder()
                        .set_item(Some(item_for(r, &group)))
                        .build()
                        .unwrap();
                    WriteRequest::builder().put_request(put).build()
                })
                .collect()
        })
        .collect();
    stream::iter(batches)
        .map(|batch| {
            let dynamo = dynamo.clone();
            let table = table.clone();
            async move {
                let out = dynamo
                    .batch_write_item()
                    .request_items(table, batch)
                    .send()
                    .await
                    .expect("BatchWriteItem");
                assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;

    // Page by page, oldest first, 500 at a time.
    let mut query = Query {
        limit: 500,
        ..Query::default()
    };
    let mut seen: Vec<i64> = Vec::new();
    let mut pages = 0;
    loop {
        let page = ctx.store.page(&group, &query).await.unwrap();
        pages += 1;
        seen.extend(page.records.iter().map(|r| r.detail["n"].as_i64().unwrap()));
        match page.next {
            // The cursor is opaque text: hand it back as a caller would.
            Some(next) => query.cursor = Some(next.to_string().parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(pages, 20);
    assert_eq!(seen, (0..10_000).collect::<Vec<_>>());

    // Newest first, and a time window.
    let newest = ctx
        .store
        .page(
            &group,
            &Query {
                newest_first: true,
                limit: 3,
                ..Query::default()
            },
        )
        .await
        .unwrap();
    let n: Vec<i64> = newest
        .records
        .iter()
        .map(|r| r.detail["n"].as_i64().unwrap())
        .collect();
    assert_eq!(n, [9999, 9998, 9997]);
    let window = all_records(
        &ctx.store,
        &group,
        &Query {
            since: Some(start + Duration::minutes(100)),
            until: Some(start + Duration::minutes(1099)),
            ..Query::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(window.len(), 1000);
    assert_eq!(window[0].detail["n"], 100);
}

#[tokio::test]
async fn an_archive_replay_reaches_audit_and_writes_nothing_new() {
    let (local, ctx) = start().await;
    let events = aws_sdk_eventbridge::Client::new(&local.sdk);
    let bus_arn = events
        .describe_event_bus()
        .name(&local.stack.spec.event_bus)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    // The stack has the template's archive of the steward bus.
    let archive = events
        .describe_archive()
        .archive_name(format!("{}-archive", local.stack.spec.event_bus))
        .send()
        .await
        .unwrap();
    // Steward's events of the story, published as Steward publishes them.
    let steward_events: Vec<Value> = story()
        .into_iter()
        .filter(|e| e["source"] == "steward")
        .collect();
    for e in &steward_events {
        let time = aws_sdk_eventbridge::primitives::DateTime::from_secs(
            at(e["time"].as_str().unwrap()).timestamp(),
        );
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&local.stack.spec.event_bus)
            .source("steward")
            .detail_type(e["detail-type"].as_str().unwrap())
            .detail(e["detail"].to_string())
            .time(time)
            .build();
        let out = events.put_events().entries(entry).send().await.unwrap();
        assert_eq!(out.failed_entry_count(), 0);
    }
    let delivered = local.stack.steward_events(DELIVERY_WAIT).await.unwrap();
    assert_eq!(delivered.len(), steward_events.len());
    let first = deliver(&ctx, delivered).await;
    assert!(first > 0);

    events
        .start_replay()
        .replay_name("steward-audit-replay")
        .event_source_arn(archive.archive_arn.unwrap())
        .event_start_time(aws_sdk_eventbridge::primitives::DateTime::from_secs(0))
        .event_end_time(aws_sdk_eventbridge::primitives::DateTime::from_secs(
            Utc::now().timestamp() + 60,
        ))
        .destination(
            aws_sdk_eventbridge::types::ReplayDestination::builder()
                .arn(&bus_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let replayed = local.stack.steward_events(DELIVERY_WAIT).await.unwrap();
    assert_eq!(replayed.len(), steward_events.len(), "every event replayed");
    assert!(replayed
        .iter()
        .all(|e| e["replay-name"] == "steward-audit-replay"));
    assert_eq!(
        deliver(&ctx, replayed).await,
        0,
        "a replay writes nothing new"
    );
}

/// start-build and audit run in this process; other functions are not part
/// of this test (the router dead-letters what it cannot deliver to them).
fn in_process(
    start_build: Arc<OnceCell<start_build::Context>>,
    audit: Arc<OnceCell<Context>>,
) -> InProcessFn {
    Arc::new(move |function: String, event: Value| {
        let (start_build, audit) = (start_build.clone(), audit.clone());
        Box::pin(async move {
            let not_ready = || InvokeError::Function {
                error_type: "not_ready".into(),
                message: "starting".into(),
            };
            let failed = |error_type: &str, message: String| InvokeError::Function {
                error_type: error_type.into(),
                message,
            };
            match function.as_str() {
                "start-build" => {
                    let ctx = start_build.get().ok_or_else(not_ready)?;
                    start_build::handler::run(ctx, event)
                        .await
                        .map(|o| serde_json::to_value(o).unwrap())
                        .map_err(|e| failed(e.error_type(), e.to_string()))
                }
                "audit" => {
                    let ctx = audit.get().ok_or_else(not_ready)?;
                    handler::run(ctx, event)
                        .await
                        .map(|o| serde_json::to_value(o).unwrap())
                        .map_err(|e| failed(e.error_type(), e.to_string()))
                }
                other => Err(InvokeError::Transport {
                    url: format!("in-process://{other}"),
                    message: "not part of this test".into(),
                }),
            }
        })
    })
}

#[tokio::test]
async fn the_twins_own_events_through_the_router_give_the_models_lineage() {
    let start_slot = Arc::new(OnceCell::new());
    let audit_slot = Arc::new(OnceCell::new());
    let mut options = LocalOptions::new(EXAMPLE_POLICY);
    options.router = Some((
        include_str!("../../template.yaml").to_string(),
        Invoker::in_process(in_process(start_slot.clone(), audit_slot.clone())),
    ));
    let run = LocalRun::start(options).await.unwrap();
    let config = start_build::Config {
        ledger_table: run.stack.spec.ledger_table.clone(),
        event_bus: run.stack.spec.event_bus.clone(),
        policy_parameter: run.stack.spec.policy_parameter.clone(),
        claim_lease: std::time::Duration::from_secs(120),
        notifications_topic: Some(run.stack.notifications_topic_arn.clone()),
    };
    let _ = start_slot.set(
        start_build::Context::connect(&run.sdk, &config)
            .await
            .unwrap(),
    );
    let audit_config = audit::Config {
        ledger_table: run.stack.spec.ledger_table.clone(),
    };
    let _ = audit_slot.set(Context::connect(&run.sdk, &audit_config));

    // Data lands; its marker starts one build; the twin trains and registers.
    let s3 = s3_client(&run.sdk);
    let prefix = "payroll-fraud/transactions/2026-11-24/";
    for (key, body) in [
        (
            format!("{prefix}part-0000.csv"),
            include_bytes!("../../examples/data/transactions.csv").to_vec(),
        ),
        (format!("{prefix}_SUCCESS"), Vec::new()),
    ] {
        s3.put_object()
            .bucket("acme-ml-data")
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
    let sagemaker = aws_sdk_sagemaker::Client::new(&run.sdk);
    let store = &audit_slot.get().unwrap().store;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let model = loop {
        let packages = sagemaker
            .list_model_packages()
            .model_package_group_name("payroll-fraud")
            .send()
            .await
            .unwrap();
        if let Some(arn) = packages
            .model_package_summary_list()
            .first()
            .and_then(|p| p.model_package_arn())
        {
            break arn.to_string();
        }
        assert!(std::time::Instant::now() < deadline, "no model registered");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    // Wait until the audit function has recorded the registration and the
    // run's end (the router delivers asynchronously).
    let lineage = loop {
        let lineage = queries::lineage(store, None::<&queries::NoLedger>, &model)
            .await
            .unwrap();
        let types: Vec<&str> = lineage
            .timeline
            .iter()
            .map(|e| e.detail_type.as_str())
            .collect();
        if types.contains(&"SageMaker Model Package State Change")
            && lineage.build.as_ref().and_then(|b| b.status.as_deref()) == Some("Succeeded")
            && types.contains(&"Build Started")
        {
            break lineage;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "audit lineage incomplete: {types:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let types: Vec<&str> = lineage
        .timeline
        .iter()
        .map(|e| e.detail_type.as_str())
        .collect();
    // Every step, once, in event-time order (Build Started and the run's
    // first status change are stamped by different clocks: either may lead).
    let count = |t: &str| types.iter().filter(|x| **x == t).count();
    assert_eq!(count("Build Started"), 1, "{types:?}");
    assert_eq!(
        count("SageMaker Model Package State Change"),
        1,
        "{types:?}"
    );
    assert!(
        count("SageMaker Model Building Pipeline Execution Status Change") >= 2,
        "{types:?}"
    );
    assert!(lineage.timeline.windows(2).all(|w| w[0].at <= w[1].at));
    let build = lineage.build.as_ref().unwrap();
    assert_eq!(build.trigger.as_deref(), Some("data"));
    assert_eq!(
        build.data_uri.as_deref(),
        Some(format!("s3://acme-ml-data/{prefix}").as_str())
    );
    let registration = lineage.registration.as_ref().unwrap();
    assert_eq!(
        registration.approval_status.as_deref(),
        Some("PendingManualApproval")
    );
    assert_eq!(registration.data_uri, build.data_uri);
    let ids: BTreeSet<&str> = lineage
        .timeline
        .iter()
        .map(|e| e.event_id.as_str())
        .collect();
    assert_eq!(ids.len(), lineage.timeline.len(), "no duplicates");
}
