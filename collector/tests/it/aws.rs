//! `tracelake aws` tooling and the buffered sources end to end, against
//! moto_server (started by each test): subscribe hundreds of log groups to a
//! Kinesis stream, let moto deliver the gzipped payloads, feed the records to
//! the Kinesis handler and read the index back with DuckDB; the same through
//! Firehose → S3 with the S3 handler; backfill; unsubscribe.

use std::collections::BTreeMap;
use std::process::Command;

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::s3::S3Event;
use tracelake_collector::aws::Client;
use tracelake_collector::aws::backfill::{BackfillOptions, backfill};
use tracelake_collector::aws::sdk;
use tracelake_collector::aws::subscribe::{
    GroupAction, Selection, SubscribeOptions, collector_log_group, put_account_policy, subscribe,
    unsubscribe,
};
use tracelake_collector::index::stats::index_stats;
use tracelake_collector::sources::kinesis::handle_kinesis_event;
use tracelake_collector::sources::s3::{ObjectLimits, handle_s3_event};
use tracelake_collector::{Collector, IndexStore};

use super::s3::s3_store;
use super::support::runtime;
use tracelake_testkit::Moto;

const ROLE: &str = "arn:aws:iam::123456789012:role/cwl-to-kinesis";
const STREAM: &str = "2026/11/29/[$LATEST]00112233445566778899aabbccddeeff";

/// Runs a command of `aws_moto.py` and returns its JSON output.
fn moto_helper(moto: &Moto, command: &str, args: serde_json::Value) -> serde_json::Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/aws_moto.py");
    let output = Command::new("python3")
        .arg(script)
        .args([moto.endpoint().as_str(), command, &args.to_string()])
        .output()
        .expect("python3 must be installed (with boto3, which comes with moto)");
    assert!(
        output.status.success(),
        "aws_moto.py {command} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("helper prints json")
}

fn client(moto: &Moto) -> Client {
    let config = sdk::Config::builder()
        .behavior_version(sdk::config::BehaviorVersion::latest())
        .region(sdk::config::Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .http_client(tracelake_collector::aws::https_client())
        .credentials_provider(sdk::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .build();
    Client::from_conf(config)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// `count` events on `STREAM` of `log_group`, one millisecond apart.
fn events(log_group: &str, count: usize, start_ms: i64) -> serde_json::Value {
    let events: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            serde_json::json!({
                "timestamp": start_ms + i as i64,
                "message": format!("{log_group} says hello #{i}"),
            })
        })
        .collect();
    serde_json::json!({"log_group": log_group, "log_stream": STREAM, "events": events})
}

/// Rows of `logs` per log group, read by DuckDB from the index's Parquet files.
fn duckdb_rows_per_group(root: &std::path::Path) -> BTreeMap<String, u64> {
    let script = r#"
import json, sys
try:
    import duckdb
except ImportError as error:
    sys.exit(f"duckdb is not installed for python3 ({error}): pip install duckdb")
glob = sys.argv[1] + "/v1/logs/**/*.parquet"
rows = duckdb.sql(f"select log_group, count(*) from read_parquet('{glob}', hive_partitioning = true) group by 1").fetchall()
print(json.dumps({group: count for group, count in rows}))
"#;
    let output = Command::new("python3")
        .args(["-c", script, root.to_str().expect("utf-8")])
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

fn index_files(root: &std::path::Path) -> Vec<(String, u64)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, u64)>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                let size = entry.metadata().map(|m| m.len()).unwrap_or_default();
                out.push((path.display().to_string(), size));
            }
        }
    }
    let mut files = Vec::new();
    walk(&root.join("v1"), &mut files);
    files.sort();
    files
}

fn count_actions(
    reports: &[tracelake_collector::aws::subscribe::GroupReport],
) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for report in reports {
        let key = match &report.action {
            GroupAction::Excluded { reason } => format!("excluded: {reason}"),
            GroupAction::Conflict { .. } => "conflict".to_owned(),
            other => format!("{other:?}").to_lowercase(),
        };
        *counts.entry(key).or_default() += 1;
    }
    counts
}

#[test]
fn subscribing_150_log_groups_to_kinesis_indexes_what_moto_delivers() {
    let moto = Moto::start();
    let rt = runtime();
    let destination = moto_helper(
        &moto,
        "create_kinesis_stream",
        serde_json::json!({"name": "tracelake-logs"}),
    )["arn"]
        .as_str()
        .expect("arn")
        .to_owned();
    let other_tool = moto_helper(
        &moto,
        "create_kinesis_stream",
        serde_json::json!({"name": "other-tool"}),
    )["arn"]
        .as_str()
        .expect("arn")
        .to_owned();
    let services: Vec<String> = (0..150)
        .map(|i| format!("/aws/lambda/svc-{i:03}"))
        .collect();
    let collector_group = collector_log_group("tracelake-collector");
    let legacy = "/aws/lambda/legacy".to_owned(); // two filters of other tools already
    let shared = "/aws/lambda/shared".to_owned(); // one filter of another tool
    let mut all = services.clone();
    all.extend([collector_group.clone(), legacy.clone(), shared.clone()]);
    moto_helper(
        &moto,
        "create_log_groups",
        serde_json::json!({"names": all, "stream": STREAM}),
    );
    for (group, name) in [
        (&legacy, "datadog"),
        (&legacy, "elastic"),
        (&shared, "other"),
    ] {
        moto_helper(
            &moto,
            "put_foreign_filter",
            serde_json::json!({"log_group": group, "filter_name": name, "destination_arn": other_tool}),
        );
    }

    let client = client(&moto);
    let selection = Selection {
        prefixes: vec!["/aws/lambda/".into()],
        collector_log_groups: vec![collector_group.clone()],
        ..Selection::default()
    };
    let options = SubscribeOptions {
        destination_arn: destination.clone(),
        role_arn: Some(ROLE.into()),
        filter_pattern: String::new(),
        dry_run: false,
    };
    // A dry run changes nothing.
    let dry = rt
        .block_on(subscribe(
            &client,
            &selection,
            &SubscribeOptions {
                dry_run: true,
                ..options.clone()
            },
            &|_, _| {},
        ))
        .expect("dry run");
    assert_eq!(dry.len(), all.len(), "every page of log groups is listed");
    assert!(
        dry.iter()
            .filter(|r| r.action == GroupAction::Subscribed)
            .all(|r| r.dry_run)
    );
    let before = moto_helper(
        &moto,
        "filters",
        serde_json::json!({"names": [&services[0]]}),
    );
    assert_eq!(before[&services[0]], serde_json::json!([]));

    let reports = rt
        .block_on(subscribe(&client, &selection, &options, &|_, _| {}))
        .expect("subscribe");
    let counts = count_actions(&reports);
    assert_eq!(
        counts.get("subscribed"),
        Some(&(services.len() + 1)),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("excluded: the collector's own log group"),
        Some(&1)
    );
    assert_eq!(counts.get("conflict"), Some(&1));
    let conflict = reports
        .iter()
        .find(|r| r.log_group == legacy)
        .expect("legacy");
    assert_eq!(
        conflict.action,
        GroupAction::Conflict {
            filters: vec!["datadog".into(), "elastic".into()]
        }
    );
    let filters = moto_helper(&moto, "filters", serde_json::json!({"names": all}));
    for service in &services {
        assert_eq!(
            filters[service],
            serde_json::json!(["tracelake"]),
            "{service}"
        );
    }
    assert_eq!(filters[&collector_group], serde_json::json!([]));
    assert_eq!(filters[&legacy], serde_json::json!(["datadog", "elastic"]));
    assert_eq!(filters[&shared], serde_json::json!(["other", "tracelake"]));

    // Idempotent: a second run changes nothing.
    let again = rt
        .block_on(subscribe(&client, &selection, &options, &|_, _| {}))
        .expect("subscribe again");
    assert_eq!(
        count_actions(&again).get("unchanged"),
        Some(&(services.len() + 1))
    );

    // Events into ten subscribed groups, the collector's own group and the
    // conflicting one: moto delivers the subscribed ones to the stream.
    let start = now_ms() - 60_000;
    let mut puts: Vec<serde_json::Value> =
        services[..10].iter().map(|g| events(g, 3, start)).collect();
    puts.push(events(&collector_group, 2, start));
    puts.push(events(&legacy, 2, start));
    moto_helper(&moto, "put_log_events", serde_json::json!({"puts": puts}));

    let event: KinesisEvent = serde_json::from_value(moto_helper(
        &moto,
        "read_kinesis_event",
        serde_json::json!({"name": "tracelake-logs"}),
    ))
    .expect("kinesis event");
    assert_eq!(event.records.len(), 10, "one record per delivery");
    let dir = tempfile::tempdir().expect("tempdir");
    let collector =
        Collector::new(IndexStore::open(dir.path().to_str().expect("utf-8")).expect("index"));
    let outcome = rt.block_on(handle_kinesis_event(&collector, event.clone()));
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(outcome.counters.events_in, 30);
    assert_eq!(outcome.counters.events_indexed, 30);

    let expected: BTreeMap<String, u64> = services[..10].iter().map(|g| (g.clone(), 3)).collect();
    assert_eq!(duckdb_rows_per_group(dir.path()), expected);
    // Ten deliveries, one segment: one logs file per hour the events span.
    let files = index_files(dir.path());
    let hours: std::collections::BTreeSet<i64> = (0..3).map(|i| (start + i) / 3_600_000).collect();
    assert_eq!(files.len(), hours.len(), "{files:?}");

    // A retry of the same batch overwrites: same files, same rows.
    let retry = rt.block_on(handle_kinesis_event(&collector, event));
    assert!(retry.response.batch_item_failures.is_empty());
    assert_eq!(index_files(dir.path()).len(), files.len());
    assert_eq!(duckdb_rows_per_group(dir.path()), expected);

    // Unsubscribe removes exactly our filters.
    let removed = rt
        .block_on(unsubscribe(
            &client,
            &selection,
            Some(&destination),
            false,
            &|_, _| {},
        ))
        .expect("unsubscribe");
    assert_eq!(
        count_actions(&removed).get("unsubscribed"),
        Some(&(services.len() + 1))
    );
    let filters = moto_helper(&moto, "filters", serde_json::json!({"names": all}));
    for service in &services {
        assert_eq!(filters[service], serde_json::json!([]), "{service}");
    }
    assert_eq!(filters[&legacy], serde_json::json!(["datadog", "elastic"]));
    assert_eq!(filters[&shared], serde_json::json!(["other"]));

    // The account-level policy excludes the collector by its selection criterion.
    let plan = rt
        .block_on(put_account_policy(
            &client,
            &Selection {
                collector_log_groups: vec![collector_group.clone()],
                ..Selection::default()
            },
            &SubscribeOptions {
                dry_run: true,
                ..options
            },
        ))
        .expect("plan");
    assert_eq!(
        plan.selection_criteria,
        format!("LogGroupName NOT IN [\"{collector_group}\"]")
    );
    let document: serde_json::Value = serde_json::from_str(&plan.policy_document).expect("json");
    assert_eq!(document["DestinationArn"], destination.as_str());
    assert_eq!(document["RoleArn"], ROLE);
}

#[test]
fn firehose_objects_in_s3_are_indexed_by_the_s3_handler() {
    let moto = Moto::start();
    let rt = runtime();
    let delivery = moto_helper(
        &moto,
        "create_firehose_to_s3",
        serde_json::json!({"name": "tracelake-firehose", "bucket": "tracelake-raw", "prefix": "raw/"}),
    )["arn"]
        .as_str()
        .expect("arn")
        .to_owned();
    let group = "/aws/lambda/orders".to_owned();
    moto_helper(
        &moto,
        "create_log_groups",
        serde_json::json!({"names": [&group], "stream": STREAM}),
    );
    let client = client(&moto);
    let reports = rt
        .block_on(subscribe(
            &client,
            &Selection {
                prefixes: vec![group.clone()],
                ..Selection::default()
            },
            &SubscribeOptions {
                destination_arn: delivery,
                role_arn: Some("arn:aws:iam::123456789012:role/cwl-to-firehose".into()),
                filter_pattern: String::new(),
                dry_run: false,
            },
            &|_, _| {},
        ))
        .expect("subscribe");
    assert_eq!(reports[0].action, GroupAction::Subscribed);
    let start = now_ms() - 60_000;
    moto_helper(
        &moto,
        "put_log_events",
        serde_json::json!({"puts": [events(&group, 5, start), events(&group, 4, start + 10)]}),
    );
    let event: S3Event = serde_json::from_value(moto_helper(
        &moto,
        "s3_event",
        serde_json::json!({"bucket": "tracelake-raw", "prefix": "raw/"}),
    ))
    .expect("s3 event");
    assert!(!event.records.is_empty(), "firehose wrote objects");

    moto.create_bucket("tracelake-index");
    let collector = Collector::new(s3_store(&moto, "s3://tracelake-index/prod"));
    let open = |bucket: &str| Ok(s3_store(&moto, &format!("s3://{bucket}")).object_store());
    let counters = rt
        .block_on(handle_s3_event(
            &collector,
            &event,
            &ObjectLimits::default(),
            open,
        ))
        .expect("s3 handler");
    assert_eq!(counters.events_in, 9);
    assert_eq!(counters.events_indexed, 9);
    let logs = |collector: &Collector| -> u64 {
        rt.block_on(index_stats(collector.store()))
            .expect("stats")
            .iter()
            .filter(|p| p.table == "logs")
            .map(|p| p.rows)
            .sum()
    };
    assert_eq!(logs(&collector), 9);
    // S3 retries the notification: the same segments are overwritten.
    rt.block_on(handle_s3_event(
        &collector,
        &event,
        &ObjectLimits::default(),
        open,
    ))
    .expect("retry");
    assert_eq!(logs(&collector), 9);
}

#[test]
fn backfill_indexes_history_once_and_a_second_run_changes_nothing() {
    let moto = Moto::start();
    let rt = runtime();
    let group = "/aws/lambda/history".to_owned();
    moto_helper(
        &moto,
        "create_log_groups",
        serde_json::json!({"names": [&group], "stream": STREAM}),
    );
    let start = now_ms() - 3_600_000;
    moto_helper(
        &moto,
        "put_log_events",
        serde_json::json!({"puts": [events(&group, 7, start)]}),
    );
    let client = client(&moto);
    let dir = tempfile::tempdir().expect("tempdir");
    let collector =
        Collector::new(IndexStore::open(dir.path().to_str().expect("utf-8")).expect("index"));
    let options = BackfillOptions {
        log_group: group.clone(),
        from_ms: Some(start - 1_000),
        to_ms: Some(start + 60_000),
        page_size: 3, // several pages
    };
    let first = rt
        .block_on(backfill(&client, &collector, &options, &|_, _, _| {}))
        .expect("backfill");
    assert_eq!(first.streams, 1);
    assert_eq!(first.counters.events_in, 7);
    assert_eq!(first.counters.events_indexed, 7);
    assert!(first.pages >= 3, "{first:?}");
    assert_eq!(
        duckdb_rows_per_group(dir.path()),
        BTreeMap::from([(group.clone(), 7)])
    );
    let files = index_files(dir.path());

    let second = rt
        .block_on(backfill(&client, &collector, &options, &|_, _, _| {}))
        .expect("backfill again");
    assert_eq!(second.streams_already_done, 1);
    assert_eq!(second.counters.events_in, 0);
    assert_eq!(index_files(dir.path()), files);
    assert_eq!(
        duckdb_rows_per_group(dir.path()),
        BTreeMap::from([(group.clone(), 7)])
    );

    // `--to` is exclusive: the events are 1 ms apart, so a window ending at
    // the fourth event's timestamp holds the first three.
    let other = tempfile::tempdir().expect("tempdir");
    let collector =
        Collector::new(IndexStore::open(other.path().to_str().expect("utf-8")).expect("index"));
    let bounded = BackfillOptions {
        to_ms: Some(start + 3),
        ..options
    };
    let third = rt
        .block_on(backfill(&client, &collector, &bounded, &|_, _, _| {}))
        .expect("bounded backfill");
    assert_eq!(third.counters.events_in, 3, "{third:?}");
    assert_eq!(
        duckdb_rows_per_group(other.path()),
        BTreeMap::from([(group, 3)])
    );
}
