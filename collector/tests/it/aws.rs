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
use tracelake_collector::aws::account_policy::put_account_policy;
use tracelake_collector::aws::backfill::{BackfillOptions, backfill};
use tracelake_collector::aws::sdk;
use tracelake_collector::aws::subscribe::{
    GroupAction, Selection, SubscribeOptions, collector_log_group, subscribe, unsubscribe,
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
    chrono::Utc::now().timestamp_millis()
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

/// Log group `group` with `count` events on `STREAM` from `start_ms`.
fn log_group_with_events(moto: &Moto, group: &str, count: usize, start_ms: i64) {
    moto_helper(
        moto,
        "create_log_groups",
        serde_json::json!({"names": [group], "stream": STREAM}),
    );
    moto_helper(
        moto,
        "put_log_events",
        serde_json::json!({"puts": [events(group, count, start_ms)]}),
    );
}

/// A fresh moto holding log group `group` with events from an hour ago.
struct History {
    moto: Moto,
    client: Client,
    group: String,
    start: i64,
}

/// `count` events on `STREAM` of `group`, one millisecond apart from an hour ago.
fn history(group: &str, count: usize) -> History {
    let moto = Moto::start();
    let start = now_ms() - 3_600_000;
    log_group_with_events(&moto, group, count, start);
    let client = client(&moto);
    History {
        moto,
        client,
        group: group.to_owned(),
        start,
    }
}

impl History {
    /// The server, a client of it, the log group and the first event's time.
    fn parts(&self) -> (&Moto, &Client, &String, i64) {
        (&self.moto, &self.client, &self.group, self.start)
    }

    /// Backfill options for the minute of the events, in pages of `page_size`.
    fn window(&self, page_size: i32) -> BackfillOptions {
        BackfillOptions {
            page_size,
            ..BackfillOptions::new(
                self.group.clone(),
                Some(self.start - 1_000),
                Some(self.start + 60_000),
            )
        }
    }
}

/// A collector over an index in a new temporary directory.
fn local_collector() -> (tempfile::TempDir, Collector) {
    let dir = tempfile::tempdir().expect("tempdir");
    let collector =
        Collector::new(IndexStore::open(dir.path().to_str().expect("utf-8")).expect("index"));
    (dir, collector)
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
    let (dir, collector) = local_collector();
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

/// The S3 event for every object under `raw/` of bucket `tracelake-raw`.
fn raw_objects_event(moto: &Moto) -> S3Event {
    serde_json::from_value(moto_helper(
        moto,
        "s3_event",
        serde_json::json!({"bucket": "tracelake-raw", "prefix": "raw/"}),
    ))
    .expect("s3 event")
}

/// A collector whose index is `s3://tracelake-index/prod` in moto.
fn s3_index_collector(moto: &Moto) -> Collector {
    moto.create_bucket("tracelake-index");
    Collector::new(s3_store(moto, "s3://tracelake-index/prod"))
}

/// The S3 handler on `event`, reading the delivery buckets in moto; a
/// failure shows what moto answered.
fn handle_in_moto(
    moto: &Moto,
    rt: &tokio::runtime::Runtime,
    collector: &Collector,
    event: &S3Event,
) -> tracelake_collector::IngestCounters {
    let open = |bucket: &str| Ok(s3_store(moto, &format!("s3://{bucket}")).object_store());
    rt.block_on(handle_s3_event(
        collector,
        event,
        &ObjectLimits::default(),
        open,
    ))
    .unwrap_or_else(|error| panic!("s3 handler: {error}\n{}", moto.log()))
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
    let event = raw_objects_event(&moto);
    assert!(!event.records.is_empty(), "firehose wrote objects");

    let collector = s3_index_collector(&moto);
    let counters = handle_in_moto(&moto, &rt, &collector, &event);
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
    handle_in_moto(&moto, &rt, &collector, &event);
    assert_eq!(logs(&collector), 9);
}

/// Field case 01 (three payloads, 12 events) put at each of `keys` in bucket
/// `tracelake-raw`, as Firehose writes its objects, and the S3 event naming them.
fn firehose_objects_at(moto: &Moto, keys: &[&str]) -> S3Event {
    moto.create_bucket("tracelake-raw");
    let fixture = super::support::fixture_dir()
        .parent()
        .expect("fixtures dir")
        .join("field/01_firehose_s3_concatenated_payloads.gz");
    let objects: Vec<serde_json::Value> = keys
        .iter()
        .map(|key| serde_json::json!({"key": key, "file": fixture}))
        .collect();
    moto_helper(
        moto,
        "put_objects",
        serde_json::json!({"bucket": "tracelake-raw", "objects": objects}),
    );
    raw_objects_event(moto)
}

/// S3 keys may hold any character; Firehose's custom prefixes put log group
/// names (`#`), dates (`=`) and whatever a user writes in them. The object is
/// read at its exact key, and a key that the object store cannot name (an
/// empty segment: `raw//…`) is quarantined by reference instead of failing
/// the invocation on every retry.
#[test]
fn firehose_objects_are_read_whatever_their_keys_hold() {
    let moto = Moto::start();
    let rt = runtime();
    let event = firehose_objects_at(
        &moto,
        &[
            "raw/group=/aws/lambda/orders#blue/2026/11/29/10/tracelake-1-[é] ~50%.gz",
            "raw//tracelake-1-after-an-empty-prefix.gz",
        ],
    );
    assert_eq!(event.records.len(), 2);

    let collector = s3_index_collector(&moto);
    let counters = handle_in_moto(&moto, &rt, &collector, &event);
    // Field case 01: three payloads, 12 events; the second object is named
    // in quarantine, not read.
    assert_eq!(counters.events_indexed, 12, "{counters:?}");
    assert_eq!(counters.payloads_quarantined, 1, "{counters:?}");
    let store = collector.store();
    let quarantined = rt
        .block_on(store.list("v1/quarantine"))
        .expect("list quarantine");
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    let record = rt
        .block_on(store.get(&store.relative(&quarantined[0].location)))
        .expect("quarantine record");
    let record = String::from_utf8_lossy(&record);
    assert!(
        record.contains("raw//tracelake-1-after-an-empty-prefix.gz"),
        "{record}"
    );
}

#[test]
fn backfill_indexes_history_once_and_a_second_run_changes_nothing() {
    let history = history("/aws/lambda/history", 7);
    let (client, group, start) = (&history.client, history.group.clone(), history.start);
    let rt = runtime();
    let (dir, collector) = local_collector();
    let options = history.window(3); // several pages
    let first = rt
        .block_on(backfill(client, &collector, &options, &|_, _, _| {}))
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
        .block_on(backfill(client, &collector, &options, &|_, _, _| {}))
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
        .block_on(backfill(client, &collector, &bounded, &|_, _, _| {}))
        .expect("bounded backfill");
    assert_eq!(third.counters.events_in, 3, "{third:?}");
    assert_eq!(
        duckdb_rows_per_group(other.path()),
        BTreeMap::from([(group, 3)])
    );
}

/// The progress bar's count is of the events read: a set of segments is
/// written only every 10,000 pages, so a count of the events written stayed
/// at 0 for the whole reading of most log groups.
#[test]
fn backfill_progress_counts_the_events_read() {
    let history = history("/aws/lambda/progress", 5);
    let client = &history.client;
    let rt = runtime();
    let (_dir, collector) = local_collector();
    let options = history.window(2);
    let counts = std::cell::RefCell::new(Vec::new());
    let report = rt
        .block_on(backfill(client, &collector, &options, &|_, _, events| {
            counts.borrow_mut().push(events);
        }))
        .expect("backfill");
    assert_eq!(report.segments, 1, "{report:?}");
    let counts = counts.into_inner();
    // Pages of 2, 2 and 1 events, then the stream done.
    assert_eq!(counts[..3], [2, 4, 5], "{counts:?}");
    assert_eq!(counts.last(), Some(&5), "{counts:?}");
}

/// Events of a log group as CloudWatch holds them (id, timestamp, message),
/// read back through FilterLogEvents.
fn cloudwatch_events(
    rt: &tokio::runtime::Runtime,
    client: &Client,
    log_group: &str,
) -> Vec<(String, i64, String)> {
    let page = rt
        .block_on(client.filter_log_events().log_group_name(log_group).send())
        .expect("FilterLogEvents");
    assert!(page.next_token().is_none(), "one page expected");
    page.events()
        .iter()
        .map(|e| {
            (
                e.event_id().expect("id").to_owned(),
                e.timestamp().expect("timestamp"),
                e.message().expect("message").to_owned(),
            )
        })
        .collect()
}

#[test]
fn backfill_over_live_deliveries_leaves_each_event_once_for_readers() {
    let moto = Moto::start();
    let rt = runtime();
    let group = "/aws/lambda/overlap".to_owned();
    let start = now_ms() - 2 * 3_600_000;
    log_group_with_events(&moto, &group, 10, start);
    let client = client(&moto);
    let all = cloudwatch_events(&rt, &client, &group);
    assert_eq!(all.len(), 10);

    // The live path delivered the first six events, with CloudWatch's ids,
    // before the backfill ran.
    let (dir, collector) = local_collector();
    let live: Vec<serde_json::Value> = all[..6]
        .iter()
        .map(|(id, timestamp, message)| {
            serde_json::json!({"id": id, "timestamp": timestamp, "message": message})
        })
        .collect();
    let payload = serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": group,
        "logStream": STREAM,
        "subscriptionFilters": ["tracelake"],
        "logEvents": live,
    });
    let delivered = rt
        .block_on(collector.ingest(payload.to_string().as_bytes(), "live"))
        .expect("live delivery");
    assert_eq!(delivered.events_indexed, 6);

    // A backfill of an overlapping window: all ten events.
    let options = BackfillOptions {
        page_size: 4,
        ..BackfillOptions::new(group.clone(), Some(start - 1_000), Some(start + 60_000))
    };
    let report = rt
        .block_on(backfill(&client, &collector, &options, &|_, _, _| {}))
        .expect("backfill");
    assert_eq!(report.counters.events_indexed, 10, "{report:?}");
    assert!(!report.hours_compacted.is_empty(), "{report:?}");
    // The raw segments hold the six overlapping events twice ...
    assert_eq!(
        duckdb_rows_per_group(dir.path()),
        BTreeMap::from([(group.clone(), 16)])
    );
    // ... and a reader of the index sees each event once.
    assert_each_event_read_once(&rt, &collector, &all);
}

/// A reader of the index sees each of the events `all` (as
/// [`cloudwatch_events`] gives them) once, and no other.
fn assert_each_event_read_once(
    rt: &tokio::runtime::Runtime,
    collector: &Collector,
    all: &[(String, i64, String)],
) {
    use tracelake_collector::index::read::read_rows;
    use tracelake_collector::index::rows::LogRow;

    let rows: Vec<LogRow> = rt
        .block_on(read_rows::<LogRow>(collector.store()))
        .expect("read the index");
    let mut read: Vec<(String, String)> = rows
        .iter()
        .map(|row| (row.event_id.clone(), row.message.clone()))
        .collect();
    read.sort();
    let mut expected: Vec<(String, String)> = all
        .iter()
        .map(|(id, _, message)| (id.clone(), message.clone()))
        .collect();
    expected.sort();
    assert_eq!(read, expected);
}

#[test]
fn backfill_batches_pages_into_segments_and_skips_streams_before_the_window() {
    let moto = Moto::start();
    let rt = runtime();
    let group = "/aws/lambda/many-streams".to_owned();
    moto_helper(
        &moto,
        "create_log_groups",
        serde_json::json!({"names": [&group], "stream": "old"}),
    );
    let recent = ["recent-a", "recent-b", "recent-c"];
    moto_helper(
        &moto,
        "create_log_streams",
        serde_json::json!({"log_group": &group, "streams": recent}),
    );
    let now = now_ms();
    let stream_events = |stream: &str, count: usize, start_ms: i64| {
        let mut put = events(&group, count, start_ms);
        put["log_stream"] = serde_json::json!(stream);
        put["events"]
            .as_array_mut()
            .expect("events")
            .iter_mut()
            .for_each(|e| {
                let message = format!("{stream}: {}", e["message"].as_str().expect("message"));
                e["message"] = serde_json::json!(message);
            });
        put
    };
    let mut puts = vec![stream_events("old", 4, now - 5 * 3_600_000)];
    for (i, stream) in recent.iter().enumerate() {
        puts.push(stream_events(stream, 5, now - 3_600_000 + 100 * i as i64));
    }
    moto_helper(&moto, "put_log_events", serde_json::json!({"puts": puts}));
    let client = client(&moto);
    let (dir, collector) = local_collector();
    // Pages of two events: 3 per recent stream (2 + 2 + 1), 9 in all; four
    // pages per set of segments: 3 sets.
    let options = BackfillOptions {
        page_size: 2,
        segment_limits: tracelake_collector::sources::files::FileBatchLimits {
            max_payloads: 4,
            max_log_bytes: 1 << 20,
        },
        ..BackfillOptions::new(group.clone(), Some(now - 2 * 3_600_000), Some(now))
    };
    let report = rt
        .block_on(backfill(&client, &collector, &options, &|_, _, _| {}))
        .expect("backfill");
    assert_eq!(report.streams, 4, "{report:?}");
    assert_eq!(report.streams_before_window, 1, "{report:?}");
    assert_eq!(report.streams_read, 3, "{report:?}");
    assert!(report.pages >= 9, "{report:?}");
    assert_eq!(report.counters.events_in, 15, "{report:?}");
    assert_eq!(report.segments, 3, "{report:?}");
    // The raw log files of the index: three segment names, whatever hours
    // they span.
    let segments: std::collections::BTreeSet<String> = index_files(dir.path())
        .iter()
        .filter(|(path, _)| path.contains("/v1/logs/"))
        .map(|(path, _)| {
            std::path::Path::new(path)
                .file_stem()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(segments.len(), 3, "{segments:?}");
    assert_eq!(
        duckdb_rows_per_group(dir.path()),
        BTreeMap::from([(group, 15)])
    );
}

/// A log group deleted while a backfill reads it takes its events with it: the
/// pages read before the failing call are the only copy left, so they are
/// written, checkpointed and compacted before the error is returned.
#[test]
fn a_log_group_deleted_during_a_backfill_keeps_what_was_read() {
    use tracelake_collector::aws::AwsError;

    let history = history("/aws/lambda/vanishing", 4);
    let (moto, client, group, start) = history.parts();
    let rt = runtime();
    // Streams are read in name order: STREAM ("2026/…") before "second".
    moto_helper(
        moto,
        "create_log_streams",
        serde_json::json!({"log_group": &group, "streams": ["second"]}),
    );
    let mut second = events(group, 3, start + 100);
    second["log_stream"] = serde_json::json!("second");
    moto_helper(
        moto,
        "put_log_events",
        serde_json::json!({"puts": [second]}),
    );
    let (dir, collector) = local_collector();
    let options = history.window(2);
    // Called after each page with the streams done: the group goes once the
    // first stream is read, before the second is asked for.
    let deleted = std::cell::Cell::new(false);
    let delete_after_first_stream = |done: u64, _: u64, _: u64| {
        if done == 1 && !deleted.replace(true) {
            moto_helper(
                moto,
                "delete_log_group",
                serde_json::json!({"log_group": &group}),
            );
        }
    };
    let result = rt.block_on(backfill(
        client,
        &collector,
        &options,
        &delete_after_first_stream,
    ));
    assert!(deleted.get(), "the group was deleted mid-run");
    match result {
        Err(AwsError::Api {
            operation: "FilterLogEvents",
            message,
            ..
        }) => assert!(message.contains("ResourceNotFoundException"), "{message}"),
        other => panic!("expected FilterLogEvents to fail, got {other:?}"),
    }
    // The first stream's four events are in the index, compacted ...
    assert_eq!(
        duckdb_rows_per_group(dir.path()),
        BTreeMap::from([(group.clone(), 4)])
    );
    let stats = rt.block_on(index_stats(collector.store())).expect("stats");
    let logs: Vec<_> = stats.iter().filter(|p| p.table == "logs").collect();
    assert!(!logs.is_empty(), "{stats:?}");
    assert!(
        logs.iter().all(|p| p.rows == 4 && p.raw_files == 0),
        "{logs:?}"
    );
    // ... and the checkpoint says that stream is done, with nothing left to
    // compact.
    let checkpoints: Vec<serde_json::Value> = std::fs::read_dir(dir.path().join("v1/_backfill"))
        .expect("a checkpoint was written")
        .map(|entry| {
            let path = entry.expect("entry").path();
            serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json")
        })
        .collect();
    assert_eq!(checkpoints.len(), 1);
    assert_eq!(checkpoints[0]["done_streams"], serde_json::json!([STREAM]));
    assert_eq!(checkpoints[0]["hours_to_compact"], serde_json::json!([]));
}

/// A resumed stream does not start from the page token the interrupted run
/// kept: FilterLogEvents' tokens expire after 24 hours, and a token the
/// server no longer knows reads as the end of the stream (moto answers it
/// with an empty page and no token, as AWS does), which marked the stream
/// done with the rest of its events unread. Here the token goes stale
/// because the group is re-created with the same events (new event ids).
#[test]
fn a_resumed_backfill_reads_the_rest_of_a_stream_whose_page_token_went_stale() {
    use tracelake_collector::index::read::read_rows;
    use tracelake_collector::index::rows::LogRow;

    let history = history("/aws/lambda/resumed", 5);
    let (moto, client, group, start) = history.parts();
    let rt = runtime();
    let (_dir, collector) = local_collector();
    // Pages of two events, each written and checkpointed on its own.
    let options = BackfillOptions {
        segment_limits: tracelake_collector::sources::files::FileBatchLimits {
            max_payloads: 1,
            max_log_bytes: 1 << 20,
        },
        ..history.window(2)
    };
    // The run is cut after the first page: the group goes.
    let deleted = std::cell::Cell::new(false);
    let cut_after_first_page = |_: u64, _: u64, _: u64| {
        if !deleted.replace(true) {
            moto_helper(
                moto,
                "delete_log_group",
                serde_json::json!({"log_group": &group}),
            );
        }
    };
    rt.block_on(backfill(
        client,
        &collector,
        &options,
        &cut_after_first_page,
    ))
    .expect_err("the group was deleted");
    log_group_with_events(moto, group, 5, start);
    let resumed = rt
        .block_on(backfill(client, &collector, &options, &|_, _, _| {}))
        .expect("resumed backfill");
    assert!(resumed.counters.events_in >= 3, "{resumed:?}");
    let rows: Vec<LogRow> = rt
        .block_on(read_rows::<LogRow>(collector.store()))
        .expect("read the index");
    let messages: std::collections::BTreeSet<String> =
        rows.iter().map(|row| row.message.clone()).collect();
    let expected: std::collections::BTreeSet<String> =
        (0..5).map(|i| format!("{group} says hello #{i}")).collect();
    assert_eq!(messages, expected);
}

/// `--data s3://<typo>/…`: reading an object of a missing bucket answers
/// 404 like a missing checkpoint, so the store is first written when the
/// first set of segments is full (10,000 pages). The backfill finds out
/// before it reads a page.
#[test]
fn a_backfill_into_a_missing_bucket_fails_before_reading_a_page() {
    let moto = Moto::start();
    let rt = runtime();
    let group = "/aws/lambda/history".to_owned();
    let start = now_ms() - 3_600_000;
    log_group_with_events(&moto, &group, 3, start);
    let client = client(&moto);
    let collector = Collector::new(s3_store(&moto, "s3://no-such-bucket/tracelake"));
    let options = BackfillOptions::new(group, Some(start - 1_000), Some(start + 60_000));
    let pages_read = std::cell::Cell::new(0u64);
    let result = rt.block_on(backfill(&client, &collector, &options, &|_, _, _| {
        pages_read.set(pages_read.get() + 1);
    }));
    let error = result.expect_err("the bucket does not exist");
    // What the CLI prints: the error and its causes.
    let mut printed = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        printed.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    assert!(printed.contains("NoSuchBucket"), "{printed}");
    assert_eq!(pages_read.get(), 0, "no page is read: {printed}");
}

#[test]
fn a_failing_log_group_is_reported_and_the_others_are_still_handled() {
    use tracelake_collector::aws::subscribe::{failures, status};

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
    let groups: Vec<String> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|n| format!("/aws/lambda/{n}"))
        .collect();
    moto_helper(
        &moto,
        "create_log_groups",
        serde_json::json!({"names": &groups, "stream": STREAM}),
    );
    let client = client(&moto);
    let selection = Selection::default();
    // Deletes `victim` once the first group is done: it was listed, and is
    // gone when its turn comes.
    let delete_after_first = |victim: &str| {
        let victim = victim.to_owned();
        let moto = &moto;
        move |done: usize, _total: usize| {
            if done == 1 {
                moto_helper(
                    moto,
                    "delete_log_group",
                    serde_json::json!({"log_group": victim}),
                );
            }
        }
    };
    let options = SubscribeOptions {
        destination_arn: destination.clone(),
        role_arn: Some(ROLE.into()),
        filter_pattern: String::new(),
        dry_run: false,
    };
    let actions = |reports: &[tracelake_collector::aws::subscribe::GroupReport]| {
        reports
            .iter()
            .map(|r| {
                let action = match &r.action {
                    GroupAction::Failed { error } => {
                        assert!(
                            error.contains("ResourceNotFoundException"),
                            "{}: {error}",
                            r.log_group
                        );
                        "failed".to_owned()
                    }
                    other => format!("{other:?}").to_lowercase(),
                };
                (r.log_group.clone(), action)
            })
            .collect::<Vec<_>>()
    };

    let reports = rt
        .block_on(subscribe(
            &client,
            &selection,
            &options,
            &delete_after_first(&groups[1]),
        ))
        .expect("listing works");
    assert_eq!(
        actions(&reports),
        [
            (groups[0].clone(), "subscribed".to_owned()),
            (groups[1].clone(), "failed".to_owned()),
            (groups[2].clone(), "subscribed".to_owned()),
            (groups[3].clone(), "subscribed".to_owned()),
            (groups[4].clone(), "subscribed".to_owned()),
        ]
    );
    assert_eq!(failures(&reports), 1);

    let statuses = rt
        .block_on(status(&client, &selection, &delete_after_first(&groups[2])))
        .expect("listing works");
    let read: Vec<(String, Option<String>, bool)> = statuses
        .iter()
        .map(|s| {
            (
                s.log_group.clone(),
                s.destination_arn.clone(),
                s.error
                    .as_deref()
                    .is_some_and(|e| e.contains("ResourceNotFoundException")),
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (groups[0].clone(), Some(destination.clone()), false),
            (groups[2].clone(), None, true),
            (groups[3].clone(), Some(destination.clone()), false),
            (groups[4].clone(), Some(destination.clone()), false),
        ]
    );

    let reports = rt
        .block_on(unsubscribe(
            &client,
            &selection,
            None,
            false,
            &delete_after_first(&groups[3]),
        ))
        .expect("listing works");
    assert_eq!(
        actions(&reports),
        [
            (groups[0].clone(), "unsubscribed".to_owned()),
            (groups[3].clone(), "failed".to_owned()),
            (groups[4].clone(), "unsubscribed".to_owned()),
        ]
    );
    assert_eq!(failures(&reports), 1);
}

/// Without a region, or without credentials, `client_from_env` says so in one
/// line before any call (no endpoint is running here at all).
#[test]
fn a_shell_without_region_or_credentials_gets_one_clear_line() {
    use super::support::{CHILD_ENV, run_in_child};
    use tracelake_collector::aws::{AwsError, client_from_env};

    if let Some(expected) = std::env::var_os(CHILD_ENV) {
        let expected = expected.to_string_lossy().into_owned();
        match runtime().block_on(client_from_env()) {
            Err(AwsError::Setup(message)) => {
                assert!(message.starts_with(&expected), "{message}");
                assert!(!message.contains('\n'), "one line: {message}");
                println!("setup error: {message}");
            }
            Err(other) => panic!("expected a setup error, got {other}"),
            Ok(_) => panic!("expected a setup error, got a client"),
        }
        return;
    }
    let home = tempfile::tempdir().expect("an empty home");
    let nowhere = home.path().join("absent").display().to_string();
    let bare = [
        ("HOME", home.path().display().to_string()),
        ("AWS_CONFIG_FILE", nowhere.clone()),
        ("AWS_SHARED_CREDENTIALS_FILE", nowhere),
    ];
    let name = "it::aws::a_shell_without_region_or_credentials_gets_one_clear_line";
    let mut no_region = bare.to_vec();
    no_region.push((CHILD_ENV, "no AWS region: set AWS_REGION".to_owned()));
    let mut no_credentials = bare.to_vec();
    no_credentials.extend([
        ("AWS_REGION", "eu-west-1".to_owned()),
        (CHILD_ENV, "no AWS credentials".to_owned()),
    ]);
    for env in [no_region, no_credentials] {
        let output = run_in_child(name, &env);
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A run cut in the middle of a millisecond's events (more of them than a page
/// holds) resumes from that millisecond: the events of it written already are
/// read again and the compaction that ends the run drops them, so a reader
/// sees every event of the stream once, none lost at the cut.
#[test]
fn a_backfill_cut_inside_a_millisecond_resumes_with_each_event_once() {
    let moto = Moto::start();
    let group = "/aws/lambda/same-millisecond".to_owned();
    moto_helper(
        &moto,
        "create_log_groups",
        serde_json::json!({"names": [&group], "stream": STREAM}),
    );
    // One event, five in the next millisecond, one after.
    let start = now_ms() - 3_600_000;
    let times = [0, 1, 1, 1, 1, 1, 2];
    let events: Vec<serde_json::Value> = times
        .iter()
        .enumerate()
        .map(|(i, offset)| serde_json::json!({"timestamp": start + offset, "message": format!("event #{i}")}))
        .collect();
    moto_helper(
        &moto,
        "put_log_events",
        serde_json::json!({"puts": [{"log_group": &group, "log_stream": STREAM, "events": events}]}),
    );
    let client = client(&moto);
    let all = cloudwatch_events(&runtime(), &client, &group);
    assert_eq!(all.len(), times.len());
    let (_dir, collector) = local_collector();
    // Pages of two events, each written and checkpointed on its own.
    let options = BackfillOptions {
        page_size: 2,
        segment_limits: tracelake_collector::sources::files::FileBatchLimits {
            max_payloads: 1,
            max_log_bytes: 1 << 20,
        },
        ..BackfillOptions::new(group.clone(), Some(start - 1_000), Some(start + 60_000))
    };
    // The run dies after its second page (#2 and #3, inside the millisecond
    // of #1 … #5), once that page is written and checkpointed.
    let pages = std::cell::Cell::new(0);
    let die_after_second_page = |_: u64, _: u64, _: u64| {
        pages.set(pages.get() + 1);
        assert!(pages.get() < 2, "the run dies here");
    };
    let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime().block_on(backfill(
            &client,
            &collector,
            &options,
            &die_after_second_page,
        ))
    }));
    assert!(died.is_err(), "the first run was cut");
    let rt = runtime();
    let resumed = rt
        .block_on(backfill(&client, &collector, &options, &|_, _, _| {}))
        .expect("resumed backfill");
    assert!(!resumed.hours_compacted.is_empty(), "{resumed:?}");
    assert_each_event_read_once(&rt, &collector, &all);
}

/// S3 events encode keys like form values: a space is `+`, a `+` is `%2B`.
/// Each object is read at the key it was written at, not at a key with `+`
/// for space or the other way round.
#[test]
fn s3_keys_with_spaces_and_plus_signs_are_read_at_their_keys() {
    let moto = Moto::start();
    let rt = runtime();
    let event = firehose_objects_at(
        &moto,
        &[
            "raw/2026/11/29/10/a b.gz",
            "raw/2026/11/29/10/a+b.gz",
            "raw/2026/11/29/10/50%+off & more=yes?.gz",
        ],
    );
    assert_eq!(event.records.len(), 3);
    assert!(
        event
            .records
            .iter()
            .any(|r| r.s3.object.key.as_deref() == Some("raw/2026/11/29/10/a+b.gz")),
        "the key of `a b.gz` is encoded as S3 encodes it"
    );
    let collector = s3_index_collector(&moto);
    let counters = handle_in_moto(&moto, &rt, &collector, &event);
    // Field case 01: three payloads, 12 events, per object.
    assert_eq!(counters.events_indexed, 36, "{counters:?}");
    assert_eq!(counters.payloads_quarantined, 0, "{counters:?}");
}
