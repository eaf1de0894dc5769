//! The index on S3, through a local endpoint that speaks the real protocol
//! (moto_server), and the Lambda handler against it.

use tracelake_collector::index::read::read_log_links;
use tracelake_collector::index::stats::index_stats;
use tracelake_collector::lambda::{SubscriptionEvent, handle_subscription_event};
use tracelake_collector::{Collector, IndexStore};
use tracelake_testkit::Moto;

use super::support::*;

/// The index store at `url` (`s3://bucket/prefix`) on `moto`.
pub fn s3_store(moto: &Moto, url: &str) -> IndexStore {
    IndexStore::open_with_options(url, moto.object_store_options()).expect("s3 store")
}

#[test]
fn the_lambda_handler_writes_the_index_to_s3() {
    let moto = Moto::start();
    moto.create_bucket("tracelake-index");
    let collector = Collector::new(s3_store(&moto, "s3://tracelake-index/prod/tracelake"));
    let rt = runtime();

    let event: SubscriptionEvent =
        serde_json::from_slice(&fixture("01_lambda_event_awslogs_wrapper.json"))
            .expect("lambda event");
    let counters = rt
        .block_on(handle_subscription_event(&collector, event, "req-1"))
        .expect("handler succeeds");
    assert_eq!((counters.events_in, counters.log_rows), (2, 2));
    let report = rt
        .block_on(collector.ingest(&fixture("03_cwl_decoded_lambda_report_awsdocs.json"), "03"))
        .expect("ingest");
    assert_eq!(report.invocation_rows, 1);

    // Bad input is acknowledged (Ok) and quarantined on S3.
    let bad = SubscriptionEvent {
        awslogs: tracelake_collector::lambda::SubscriptionData {
            data: "not base64 !!".to_owned(),
        },
    };
    let bad_counters = rt
        .block_on(handle_subscription_event(&collector, bad, "req-2"))
        .expect("bad input is acknowledged");
    assert_eq!(bad_counters.payloads_quarantined, 1);

    let stats = rt
        .block_on(index_stats(collector.store()))
        .expect("stats over s3");
    let rows = |table: &str| {
        stats
            .iter()
            .filter(|s| s.table == table)
            .map(|s| s.rows)
            .sum::<u64>()
    };
    assert_eq!(rows("logs"), 3);
    assert_eq!(rows("invocations"), 1);
    assert_eq!(rows("quarantine"), 1);
    let objects = rt
        .block_on(collector.store().list("v1/logs"))
        .expect("list");
    assert!(objects.iter().all(|o| {
        o.location
            .as_ref()
            .starts_with("prod/tracelake/v1/logs/dt=")
    }));
    let links = rt
        .block_on(read_log_links(collector.store()))
        .expect("read back");
    assert_eq!(links.len(), 3);
}

#[test]
fn the_lambda_handler_fails_so_lambda_retries_when_the_store_cannot_be_written() {
    let moto = Moto::start();
    let collector = Collector::new(s3_store(&moto, "s3://no-such-bucket/tracelake"));
    let event: SubscriptionEvent =
        serde_json::from_slice(&fixture("01_lambda_event_awslogs_wrapper.json"))
            .expect("lambda event");
    let result = runtime().block_on(handle_subscription_event(&collector, event, "req-3"));
    let error = result.expect_err("a failed write is an error");
    assert!(error.to_string().contains("object store error"), "{error}");
}

/// `--data s3://…` with nothing but the standard variables: a local endpoint
/// over plain HTTP (`AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`) must be used as the
/// variables say, whatever bounds the store puts on requests.
#[test]
fn an_s3_index_takes_endpoint_and_plain_http_from_the_environment() {
    const URL: &str = "s3://from-env/tracelake";
    if std::env::var_os(CHILD_ENV).is_some() {
        // The child: only the environment says where S3 is.
        let store = IndexStore::open(URL).expect("open from the environment");
        runtime()
            .block_on(store.put("v1/hello.txt", bytes::Bytes::from_static(b"from env")))
            .expect("put through the endpoint from AWS_ENDPOINT_URL over http");
        return;
    }
    let moto = Moto::start();
    moto.create_bucket("from-env");
    let output = run_in_child(
        "it::s3::an_s3_index_takes_endpoint_and_plain_http_from_the_environment",
        &[
            ("AWS_ENDPOINT_URL", moto.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_ACCESS_KEY_ID", Moto::ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", Moto::SECRET_ACCESS_KEY.to_owned()),
            ("AWS_REGION", Moto::REGION.to_owned()),
        ],
    );
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The object is in moto, read with explicit options.
    let bytes = runtime()
        .block_on(s3_store(&moto, URL).get("v1/hello.txt"))
        .expect("the child's object is in moto");
    assert_eq!(&bytes[..], b"from env");
}

/// A delivery's files, its quarantine record included, are put at once, not
/// one after another: on S3 each PUT is a network round trip, and the Lambda
/// is billed while it waits (docs/BENCHMARKS.md, "The Lambda path against S3").
#[test]
fn a_deliverys_files_are_put_at_once() {
    use std::sync::Arc;
    use tracelake_testkit::index::ListingStore;

    let store = Arc::new(ListingStore::new(object_store::memory::InMemory::new()));
    let collector = Collector::new(IndexStore::from_object_store(
        store.clone(),
        Default::default(),
    ));
    let mut messages = fixture_messages("07_lambda_platform_text.jsonl");
    messages.extend(fixture_messages("09_node_text_app_logs.jsonl"));
    // A span line that cannot be read: the delivery also writes a quarantine record.
    messages.push(UNREADABLE_SPAN_LINE.to_owned());
    let delivery = data_message_json(&batch_of("/aws/lambda/checkout", "stream", &messages));
    let counters = runtime()
        .block_on(collector.ingest(&delivery, "put-at-once"))
        .expect("ingest");
    assert!(
        counters.log_rows > 0 && counters.invocation_rows > 0 && counters.events_quarantined == 1,
        "{counters:?}"
    );
    let (files, records) = segment_files_and_quarantine_records(&collector);
    assert!(files >= 2, "{files} segment files");
    assert_eq!(records, 1);
    assert_eq!(store.most_puts_in_flight() as u64, files + records);
}
