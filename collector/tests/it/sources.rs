//! The batched sources (Kinesis, Firehose to S3, Firehose HTTP, directories of
//! files) on real payloads, without AWS: each batch is one set of segments, a
//! retried batch overwrites it, bad input is quarantined and acknowledged.

use std::io::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use tracelake_collector::index::read::read_log_links;
use tracelake_collector::index::stats::index_stats;
use tracelake_collector::index::writer::IndexError;
use tracelake_collector::sources::files::{FileBatchLimits, FileBatcher};
use tracelake_collector::sources::firehose::{FirehoseRequest, handle_firehose_request};
use tracelake_collector::sources::kinesis::handle_kinesis_event;
use tracelake_collector::sources::s3::{
    DeliveredObject, ObjectLimits, ingest_delivered_bytes, ingest_object,
};
use tracelake_collector::{Collector, IndexStore};

use super::support::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn field_fixture(name: &str) -> Vec<u8> {
    let path = fixture_dir()
        .parent()
        .expect("fixtures dir")
        .join("field")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A Kinesis event as Lambda delivers it, one record per payload (each gzipped).
fn kinesis_event(payloads: &[Vec<u8>], first_sequence: u64) -> String {
    let records: Vec<serde_json::Value> = payloads
        .iter()
        .enumerate()
        .map(|(i, payload)| {
            let sequence = format!("4959{:050}", first_sequence + i as u64);
            serde_json::json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "a3b1c2",
                    "sequenceNumber": sequence,
                    "data": base64::engine::general_purpose::STANDARD.encode(payload),
                    "approximateArrivalTimestamp": 1_764_410_400.5
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000002:{sequence}"),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/tracelake-collector",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/tracelake-logs"
            })
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string()
}

/// Every object under `v1/` except quarantine, with its size.
fn index_objects(collector: &Collector) -> Vec<(String, u64)> {
    let store = collector.store();
    let mut objects: Vec<(String, u64)> = runtime()
        .block_on(store.list("v1"))
        .expect("list")
        .into_iter()
        .map(|meta| (store.relative(&meta.location), meta.size))
        .filter(|(path, _)| !path.contains("/quarantine/"))
        .collect();
    objects.sort();
    objects
}

fn total_rows(collector: &Collector, table: &str) -> u64 {
    runtime()
        .block_on(index_stats(collector.store()))
        .expect("stats")
        .iter()
        .filter(|p| p.table == table)
        .map(|p| p.rows)
        .sum()
}

#[test]
fn a_kinesis_batch_is_one_set_of_segments_and_a_retry_overwrites_it() {
    let collector = memory_collector();
    // Two deliveries of the same stream, split mid-invocation: the START line and
    // an untraced line in the first, REPORT with the X-Ray id in the second.
    let group = "/aws/lambda/checkout";
    let stream = "2026/11/29/[$LATEST]0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let request = "6f1c2a3b-4d5e-46f7-8a9b-0c1d2e3f4a5b";
    let messages: Vec<String> = vec![
        format!("START RequestId: {request} Version: $LATEST\n"),
        "cart has 3 items\n".to_owned(),
        format!("END RequestId: {request}\n"),
        format!(
            "REPORT RequestId: {request}\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\nXRAY TraceId: 1-6b0bf7a0-0123456789abcdef01234567\tSegmentId: 0123456789abcdef\tSampled: true\t\n"
        ),
    ];
    let whole = batch_of(group, stream, &messages);
    let mut first = whole.clone();
    first.events.truncate(2);
    let mut second = whole.clone();
    second.events.drain(..2);
    let control = fixture("04_cwl_control_message.json");
    let payloads = vec![
        gzip(&data_message_json(&first)),
        gzip(&control),
        b"definitely not gzip".to_vec(),
        gzip(&data_message_json(&second)),
        // A retried delivery inside the same batch.
        gzip(&data_message_json(&second)),
    ];
    let event: aws_lambda_events::event::kinesis::KinesisEvent =
        serde_json::from_str(&kinesis_event(&payloads, 7)).expect("kinesis event");
    let rt = runtime();
    let outcome = rt.block_on(handle_kinesis_event(&collector, event.clone()));
    assert!(
        outcome.response.batch_item_failures.is_empty(),
        "{outcome:?}"
    );
    let counters = outcome.counters;
    assert_eq!(counters.payloads, 5);
    assert_eq!(counters.control_messages, 1);
    assert_eq!(counters.payloads_quarantined, 1);
    assert_eq!(counters.events_in, 6);
    assert_eq!(counters.events_duplicate, 2);
    assert_eq!(counters.events_indexed, 4);
    assert_eq!(counters.invocation_rows, 1);
    assert!(outcome.segment.starts_with("kinesis-shardId-000000000002-"));

    // One segment: one file per table and hour, whatever the record count.
    let objects = index_objects(&collector);
    assert!(
        objects
            .iter()
            .all(|(path, _)| path.ends_with(&format!("{}.parquet", outcome.segment))),
        "{objects:?}"
    );
    assert_eq!(objects.len(), 2, "logs and invocations: {objects:?}");

    // The untraced line of the first delivery is linked through the REPORT of
    // the second: a link a per-delivery collector cannot make.
    let links = rt
        .block_on(read_log_links(collector.store()))
        .expect("links");
    let cart = links
        .iter()
        .find(|l| l.event_id == whole.events[1].id)
        .expect("cart line indexed");
    assert_eq!(
        cart.trace_id.as_deref(),
        Some("6b0bf7a00123456789abcdef01234567")
    );

    let quarantined = quarantine_records(&collector);
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0]["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("kinesis:tracelake-logs:shardId-000000000002:")),
        "{quarantined:?}"
    );

    // Lambda retries the same batch: the same objects, no new rows.
    let retry = rt.block_on(handle_kinesis_event(&collector, event));
    assert!(retry.response.batch_item_failures.is_empty());
    assert_eq!(retry.segment, outcome.segment);
    assert_eq!(index_objects(&collector).len(), objects.len());
    assert_eq!(total_rows(&collector, "logs"), 4);
    assert_eq!(total_rows(&collector, "invocations"), 1);
}

/// A collector over a directory where every write fails (a file stands where
/// the index's `v1` directory must go), with the directory to keep.
fn unwritable_collector() -> (tempfile::TempDir, Collector) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("v1"), b"in the way").expect("write");
    let store: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(dir.path()).expect("local store"));
    let collector = Collector::new(IndexStore::from_object_store(store, Path::default()));
    (dir, collector)
}

#[test]
fn a_kinesis_batch_that_cannot_be_written_reports_every_record() {
    let (_dir, collector) = unwritable_collector();
    let payload = gzip(&fixture("02_cwl_decoded_data_message.json"));
    let event: aws_lambda_events::event::kinesis::KinesisEvent =
        serde_json::from_str(&kinesis_event(&[payload.clone(), payload], 100))
            .expect("kinesis event");
    let sequences: Vec<String> = event
        .records
        .iter()
        .map(|r| r.kinesis.sequence_number.clone())
        .collect();
    let outcome = runtime().block_on(handle_kinesis_event(&collector, event));
    let failed: Vec<String> = outcome
        .response
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, sequences);
}

/// One payload per group: each full group waits to be written while the next
/// gathers.
fn one_payload_per_group() -> FileBatchLimits {
    FileBatchLimits {
        max_payloads: 1,
        ..FileBatchLimits::default()
    }
}

/// Two copies of a fixture delivery, as two files.
fn two_files() -> Vec<(&'static str, Vec<u8>)> {
    let name = "02_cwl_decoded_data_message.json";
    vec![(name, fixture(name)), (name, fixture(name))]
}

/// Adds `files` to a new batcher and finishes it: the counters and the
/// number of groups written.
fn ingest_files(
    collector: &Collector,
    files: &[(&str, Vec<u8>)],
    limits: FileBatchLimits,
) -> Result<(tracelake_collector::IngestCounters, u64), IndexError> {
    let mut batcher = FileBatcher::new(collector, limits);
    runtime().block_on(async {
        batcher.add_files(files).await?;
        batcher.finish().await
    })
}

/// A full group of files is written only once the next one is full (or at
/// `finish`): a store that refuses its files still fails the ingest.
#[test]
fn files_that_cannot_be_written_fail_the_ingest() {
    let (_dir, collector) = unwritable_collector();
    let result = ingest_files(&collector, &two_files(), one_payload_per_group());
    assert!(matches!(result, Err(IndexError::Store(_))), "{result:?}");
}

/// A payload of the next group that cannot be quarantined fails the ingest
/// while the full group before it waits to be written: that group is written
/// first all the same, as it was when groups were finished one at a time, so
/// the store holds what a working store holds but for the quarantine record.
#[test]
fn a_quarantine_that_fails_still_writes_the_group_before_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("v1")).expect("mkdir");
    std::fs::write(dir.path().join("v1").join("quarantine"), b"in the way").expect("write");
    let store: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(dir.path()).expect("local store"));
    let failing = Collector::new(IndexStore::from_object_store(store, Path::default()));
    let mut files = two_files();
    files[1] = ("not-a-delivery", b"not a delivery".to_vec());
    let result = ingest_files(&failing, &files, one_payload_per_group());
    assert!(matches!(result, Err(IndexError::Store(_))), "{result:?}");
    let working = memory_collector();
    ingest_files(&working, &files, one_payload_per_group()).expect("ingest");
    let written: Vec<(String, u64)> = index_objects(&failing)
        .into_iter()
        .filter(|(path, _)| path != "v1/quarantine")
        .collect();
    assert!(!written.is_empty());
    assert_eq!(written, index_objects(&working));
}

/// A batcher dropped without `finish` writes neither the group waiting to be
/// written nor the one it was gathering, and its task on the rayon pool ends
/// on its own: the drop neither waits nor panics.
#[test]
fn a_batcher_dropped_unfinished_writes_no_segment() {
    let collector = memory_collector();
    let mut batcher = FileBatcher::new(&collector, one_payload_per_group());
    runtime()
        .block_on(batcher.add_files(&two_files()))
        .expect("nothing is written yet");
    drop(batcher);
    assert_eq!(index_objects(&collector), []);
    // The same files, finished, are written.
    let (_, groups) =
        ingest_files(&collector, &two_files(), one_payload_per_group()).expect("ingest");
    assert_eq!(groups, 2);
    assert!(!index_objects(&collector).is_empty());
}

/// Every object of the index with its bytes (quarantine records without the
/// time they were received), and the segment name of its files group
/// (`files-<hash>`) left out of its path; and how many such names there were.
fn unnamed_objects(collector: &Collector) -> (Vec<(String, Vec<u8>)>, u64) {
    let store = collector.store();
    let mut names = std::collections::BTreeSet::new();
    let mut objects: Vec<(String, Vec<u8>)> = runtime().block_on(async {
        let mut objects = Vec::new();
        for meta in store.list("v1").await.expect("list") {
            let path = store.relative(&meta.location);
            let mut bytes = store.get(&path).await.expect("get").to_vec();
            if path.contains("/quarantine/") {
                let mut record: serde_json::Value =
                    serde_json::from_slice(&bytes).expect("quarantine record is json");
                record
                    .as_object_mut()
                    .expect("a quarantine record is an object")
                    .remove("received_at");
                bytes = serde_json::to_vec(&record).expect("json");
            }
            let path = match path.find("/files-") {
                Some(at) => {
                    let (dir, name) = path.split_at(at + "/files-".len());
                    let (hash, rest) = name.split_at(20);
                    names.insert(hash.to_owned());
                    format!("{dir}{rest}")
                }
                None => path,
            };
            objects.push((path, bytes));
        }
        objects
    });
    objects.sort();
    (objects, names.len() as u64)
}

/// `FileBatcher` correlates and encodes a full group on the rayon pool while
/// it gathers the next, and writes it later: the objects and counters are
/// those of a batcher given each group's files on their own (one group,
/// written at `finish`, nothing overlapped). Only the segment names differ: a
/// group's name also covers the file that filled it (that file's empty range),
/// which a batcher given one group never sees. An undecodable payload and an
/// event too large to index put both kinds of quarantine record in the
/// comparison.
#[test]
fn pipelined_groups_write_what_one_group_at_a_time_writes() {
    let simulation = small_simulation();
    let mut files: Vec<(String, Vec<u8>)> = simulation
        .delivered
        .deliveries
        .iter()
        .take(60)
        .enumerate()
        .map(|(number, delivery)| (format!("delivery-{number:02}"), delivery.payload.clone()))
        .collect();
    files.insert(7, ("not-a-delivery".to_owned(), b"not a delivery".to_vec()));
    let huge_line = "x".repeat(1_048_576 + 1);
    let messages = ["before".to_owned(), huge_line, "after".to_owned()];
    let huge = data_message_json(&batch_of("/aws/lambda/huge", "s", &messages));
    files.insert(23, ("huge-line".to_owned(), huge));
    // Each file holds one payload, so the groups are runs of 8 files.
    let per_group = 8;
    let limits = FileBatchLimits {
        max_payloads: per_group,
        ..FileBatchLimits::default()
    };
    let rt = runtime();

    let pipelined = memory_collector();
    let mut batcher = FileBatcher::new(&pipelined, limits);
    let (counters, groups) = rt
        .block_on(async {
            batcher.add_files(&files).await?;
            batcher.finish().await
        })
        .expect("ingest");

    let one_at_a_time = memory_collector();
    let mut expected = tracelake_collector::IngestCounters::default();
    for group in files.chunks(per_group) {
        let mut batcher = FileBatcher::new(&one_at_a_time, limits);
        let (group_counters, written) = rt
            .block_on(async {
                batcher.add_files(group).await?;
                batcher.finish().await
            })
            .expect("ingest");
        assert_eq!(written, 1);
        expected += group_counters;
    }

    assert_eq!(groups, files.len().div_ceil(per_group) as u64);
    assert_eq!(counters, expected);
    assert_eq!(counters.payloads, files.len() as u64);
    assert_eq!(
        (counters.payloads_quarantined, counters.events_quarantined),
        (1, 1),
        "{counters:?}"
    );
    let (objects, names) = unnamed_objects(&pipelined);
    let (expected_objects, expected_names) = unnamed_objects(&one_at_a_time);
    assert_eq!((names, expected_names), (groups, groups));
    assert!(objects.len() > 4 * 2, "{} objects", objects.len());
    assert!(objects == expected_objects, "other objects");
}

#[test]
fn a_firehose_object_of_concatenated_members_is_one_set_of_segments() {
    // Field case 01: two gzip members, the first holding two payloads back to back.
    let object = field_fixture("01_firehose_s3_concatenated_payloads.gz");
    let collector = memory_collector();
    let rt = runtime();
    let counters = rt
        .block_on(ingest_delivered_bytes(
            &collector,
            &object,
            "s3-test",
            "s3://delivery/raw/01.gz",
            &ObjectLimits::default(),
        ))
        .expect("ingest");
    assert_eq!(counters.payloads, 3);
    assert_eq!(
        counters.payloads_quarantined + counters.events_quarantined,
        0
    );
    assert_eq!((counters.log_rows, counters.invocation_rows), (12, 3));
    let objects = index_objects(&collector);
    assert!(objects.iter().all(|(p, _)| p.ends_with("/s3-test.parquet")));
    let links = rt
        .block_on(read_log_links(collector.store()))
        .expect("links");
    let linked = |trace: &str, link: &str| {
        links
            .iter()
            .any(|l| l.trace_id.as_deref() == Some(trace) && l.link.as_deref() == Some(link))
    };
    assert!(linked("6b0bf7a02d017e07fc10d0f9061bfd71", "request_id"));
    assert!(linked("6b0bf7a005da2c888018a460eaf5d6e7", "stream"));

    // Parts: with a tiny log-text budget each member becomes its own part,
    // named the same way on every read.
    let parted = memory_collector();
    let limits = ObjectLimits {
        max_batch_log_bytes: 1,
        ..ObjectLimits::default()
    };
    let parts = rt
        .block_on(ingest_delivered_bytes(
            &parted, &object, "s3-x", "s3://d/k", &limits,
        ))
        .expect("ingest");
    assert_eq!(parts.log_rows, 12);
    let names: std::collections::BTreeSet<String> = index_objects(&parted)
        .into_iter()
        .map(|(p, _)| p.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["s3-x-p001.parquet", "s3-x.parquet"]
    );
}

#[test]
fn a_corrupt_or_oversized_object_is_quarantined_with_its_reason() {
    let collector = memory_collector();
    let rt = runtime();
    let good = gzip(&fixture("02_cwl_decoded_data_message.json"));
    let mut object = good.clone();
    object.extend_from_slice(&good[..good.len() / 2]); // a truncated second member
    let counters = rt
        .block_on(ingest_delivered_bytes(
            &collector,
            &object,
            "s3-corrupt",
            "s3://d/corrupt.gz",
            &ObjectLimits::default(),
        ))
        .expect("ingest");
    assert_eq!(counters.events_indexed, 2);
    assert_eq!(counters.payloads_quarantined, 1);
    let records = quarantine_records(&collector);
    assert!(
        records[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("gzip")),
        "{records:?}"
    );

    // Through an object store: an object over the size cap is not read.
    let bucket: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
    rt.block_on(object_store::ObjectStoreExt::put(
        bucket.as_ref(),
        &Path::from("raw/big.gz"),
        good.clone().into(),
    ))
    .expect("put");
    let object = DeliveredObject {
        bucket: "delivery".into(),
        key: "raw/big.gz".into(),
        etag: Some("\"abc\"".into()),
    };
    let small = ObjectLimits {
        max_object_bytes: 10,
        ..ObjectLimits::default()
    };
    let fresh = memory_collector();
    let counters = rt
        .block_on(ingest_object(&fresh, bucket.as_ref(), &object, &small))
        .expect("ingest");
    assert_eq!((counters.payloads_quarantined, counters.events_in), (1, 0));
    let counters = rt
        .block_on(ingest_object(
            &fresh,
            bucket.as_ref(),
            &object,
            &ObjectLimits::default(),
        ))
        .expect("ingest");
    assert_eq!(counters.events_indexed, 2);
}

#[test]
fn the_firehose_endpoint_follows_the_http_contract() {
    let collector = memory_collector();
    let rt = runtime();
    let body = fixture("14_firehose_http_endpoint_request.json");
    let request_id = "ed1d787c-b9e2-4631-92dc-8e7c9d26d804";
    let request =
        |key: Option<&'static str>, body: &'static [u8], encoding: Option<&'static str>| {
            FirehoseRequest {
                access_key: key,
                request_id: Some(request_id),
                content_encoding: encoding,
                body,
            }
        };
    let body: &'static [u8] = Box::leak(body.into_boxed_slice());
    let denied = rt.block_on(handle_firehose_request(
        &collector,
        Some("s3cret"),
        request(Some("guess"), body, None),
    ));
    assert_eq!(denied.status, 401);
    assert_eq!(denied.body.request_id, request_id);
    assert!(denied.body.error_message.is_some());
    assert_eq!(total_rows(&collector, "logs"), 0);

    let accepted = rt.block_on(handle_firehose_request(
        &collector,
        Some("s3cret"),
        request(Some("s3cret"), body, None),
    ));
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    let json = serde_json::to_value(&accepted.body).expect("json");
    assert_eq!(json["requestId"], request_id);
    assert!(
        json["timestamp"]
            .as_i64()
            .is_some_and(|t| t > 1_700_000_000_000)
    );
    assert!(json.get("errorMessage").is_none());
    assert_eq!(accepted.counters.events_indexed, 2);

    // The same request gzipped (Content-Encoding: gzip) is the same batch.
    let gzipped: &'static [u8] = Box::leak(gzip(body).into_boxed_slice());
    let again = rt.block_on(handle_firehose_request(
        &collector,
        Some("s3cret"),
        request(Some("s3cret"), gzipped, Some("gzip")),
    ));
    assert_eq!(again.status, 200);
    assert_eq!(total_rows(&collector, "logs"), 2);

    let malformed = rt.block_on(handle_firehose_request(
        &collector,
        None,
        request(None, b"{\"records\": 7}", None),
    ));
    assert_eq!(malformed.status, 400);
    let bomb: &'static [u8] = Box::leak(gzip(&vec![b' '; 65 * 1024 * 1024]).into_boxed_slice());
    let too_large = rt.block_on(handle_firehose_request(
        &collector,
        None,
        request(None, bomb, Some("gzip")),
    ));
    assert_eq!(too_large.status, 413);

    let unwritable_dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(unwritable_dir.path().join("v1"), b"in the way").expect("write");
    let store: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(unwritable_dir.path()).expect("local"));
    let broken = Collector::new(IndexStore::from_object_store(store, Path::default()));
    let failed = rt.block_on(handle_firehose_request(
        &broken,
        None,
        request(None, body, None),
    ));
    assert_eq!(failed.status, 500);
    assert!(failed.body.error_message.is_some());
}

#[test]
fn a_directory_of_deliveries_is_batched_and_reingesting_it_changes_nothing() {
    let names = [
        "01_lambda_event_awslogs_wrapper.json",
        "03_cwl_decoded_lambda_report_awsdocs.json",
        "04_cwl_control_message.json",
        "05_cwl_account_level_policy.json",
        "06_cwl_extracted_fields_system.json",
        "14_firehose_http_endpoint_request.json",
    ];
    let collector = memory_collector();
    let rt = runtime();
    let ingest = |limits: FileBatchLimits| {
        let mut batcher = FileBatcher::new(&collector, limits);
        for name in names {
            rt.block_on(batcher.add_file(name, &fixture(name)))
                .expect("add");
        }
        rt.block_on(batcher.finish()).expect("finish")
    };
    let (counters, groups) = ingest(FileBatchLimits::default());
    assert_eq!(groups, 1);
    assert_eq!(counters.events_in, 9);
    assert_eq!(counters.events_indexed, 9);
    assert_eq!(counters.control_messages, 1);
    let first = index_objects(&collector);
    // Six inputs over four log groups and two hours: one file per table and
    // hour, not one per payload.
    let segments: std::collections::BTreeSet<&str> = first
        .iter()
        .map(|(p, _)| p.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(segments.len(), 1, "{first:?}");

    let (again, _) = ingest(FileBatchLimits::default());
    assert_eq!(again, counters);
    assert_eq!(index_objects(&collector), first);
    assert_eq!(total_rows(&collector, "logs"), 9);

    // Smaller groups: more segments, the same rows, and idempotent too.
    let small = FileBatchLimits {
        max_payloads: 2,
        ..FileBatchLimits::default()
    };
    let fresh_collector = memory_collector();
    let mut batcher = FileBatcher::new(&fresh_collector, small);
    for name in names {
        rt.block_on(batcher.add_file(name, &fixture(name)))
            .expect("add");
    }
    let (small_counters, small_groups) = rt.block_on(batcher.finish()).expect("finish");
    assert_eq!(small_groups, counters.payloads.div_ceil(2));
    assert_eq!(small_counters.events_indexed, 9);
}

/// `tracelake ingest <dir>` twice over the same files (decoded on all cores by
/// `FileBatcher::add_files`, in groups smaller than the directory): the second
/// run writes the same segments, so after compaction the index read path sees
/// each event and each span of the simulator's ground truth exactly once, and
/// both runs count every event delivered.
#[test]
fn a_directory_ingested_twice_holds_each_event_once() {
    use std::collections::{BTreeMap, BTreeSet};
    use tracelake_collector::index::read::read_rows;
    use tracelake_collector::index::rows::SpanRow;
    use tracelake_index::compact::{CompactOptions, compact_hours, hours_needing_compaction};
    use tracelake_simulator::delivery::DeliveryKind;
    use tracelake_simulator::event::EventKind;

    let config = tracelake_simulator::SimulationConfig {
        seed: 23,
        services: 24,
        minutes: 1.0,
        delivery: tracelake_simulator::delivery::DeliveryConfig {
            duplicate_rate: 0.05,
            control_rate: 0.02,
            ..Default::default()
        },
        ..tracelake_simulator::SimulationConfig::default()
    };
    let run = tracelake_simulator::simulate(&config, &mut |_, _, _| {}).expect("simulate");
    let input = tempfile::tempdir().expect("tempdir");
    for (number, delivery) in run.delivered.deliveries.iter().enumerate() {
        let path = input.path().join(format!("delivery-{number:05}.json"));
        std::fs::write(path, &delivery.payload).expect("write input");
    }
    // The events each delivery carries (duplicates included), from the simulator.
    let delivered_events: u64 = run
        .delivered
        .deliveries
        .iter()
        .filter_map(|delivery| delivery.batch)
        .map(|batch| run.delivered.batches[batch].events.len() as u64)
        .sum();
    let controls = run
        .delivered
        .deliveries
        .iter()
        .filter(|delivery| delivery.kind == DeliveryKind::Control)
        .count() as u64;
    assert!(
        run.delivered
            .deliveries
            .iter()
            .any(|delivery| delivery.kind == DeliveryKind::Duplicate),
        "the corpus should hold retried deliveries"
    );

    let index = tempfile::tempdir().expect("tempdir");
    let collector =
        Collector::new(IndexStore::open(&index.path().to_string_lossy()).expect("index"));
    let limits = FileBatchLimits {
        max_payloads: 40,
        ..FileBatchLimits::default()
    };
    let rt = runtime();
    let ingest_dir = || {
        let mut paths: Vec<_> = std::fs::read_dir(input.path())
            .expect("list")
            .map(|entry| entry.expect("entry").path())
            .collect();
        paths.sort();
        let files: Vec<(String, Vec<u8>)> = paths
            .iter()
            .map(|path| {
                (
                    path.display().to_string(),
                    std::fs::read(path).expect("read"),
                )
            })
            .collect();
        let mut batcher = FileBatcher::new(&collector, limits);
        // Two windows, as the CLI reads a directory.
        let (head, tail) = files.split_at(files.len() / 2);
        rt.block_on(batcher.add_files(head)).expect("add");
        rt.block_on(batcher.add_files(tail)).expect("add");
        rt.block_on(batcher.finish()).expect("finish")
    };
    let (first, groups) = ingest_dir();
    assert_eq!(groups, (run.delivered.deliveries.len() as u64).div_ceil(40));
    assert_eq!(first.payloads, run.delivered.deliveries.len() as u64);
    assert_eq!(first.control_messages, controls);
    assert_eq!(first.events_in, delivered_events);
    assert_eq!(first.payloads_quarantined, 0);
    assert_eq!(
        first.events_indexed + first.events_quarantined + first.events_duplicate,
        first.events_in
    );
    let objects = index_objects(&collector);
    let (second, _) = ingest_dir();
    assert_eq!(second, first);
    assert_eq!(
        index_objects(&collector),
        objects,
        "the same segments again"
    );

    // One by one, in the same groups: the same segments, byte for byte.
    let one_by_one = memory_collector();
    let mut batcher = FileBatcher::new(&one_by_one, limits);
    for (number, delivery) in run.delivered.deliveries.iter().enumerate() {
        let name = input
            .path()
            .join(format!("delivery-{number:05}.json"))
            .display()
            .to_string();
        rt.block_on(batcher.add_file(&name, &delivery.payload))
            .expect("add");
    }
    assert_eq!(rt.block_on(batcher.finish()).expect("finish").0, first);
    assert_eq!(index_objects(&one_by_one), objects);

    let store = collector.store();
    rt.block_on(async {
        let hours = hours_needing_compaction(store).await?;
        compact_hours(store, &hours, &CompactOptions::default()).await
    })
    .expect("compact");
    let mut log_ids: BTreeMap<String, usize> = BTreeMap::new();
    for link in rt.block_on(read_log_links(store)).expect("read logs") {
        *log_ids.entry(link.event_id).or_default() += 1;
    }
    let expected_logs: BTreeSet<String> = run
        .truth
        .events
        .iter()
        .filter(|event| event.kind != EventKind::SpanLine)
        .map(|event| event.event_id.clone())
        .collect();
    assert_eq!(
        log_ids.keys().cloned().collect::<BTreeSet<_>>(),
        expected_logs
    );
    assert!(log_ids.values().all(|&count| count == 1), "a log row twice");
    let mut span_ids: BTreeMap<(u128, u64), usize> = BTreeMap::new();
    for span in rt
        .block_on(read_rows::<SpanRow>(store))
        .expect("read spans")
    {
        *span_ids
            .entry((span.trace_id.0, span.span_id.0))
            .or_default() += 1;
    }
    let expected_spans: BTreeSet<(u128, u64)> = run
        .truth
        .spans
        .iter()
        .map(|span| (span.trace_id, span.span_id))
        .collect();
    assert_eq!(
        span_ids.keys().copied().collect::<BTreeSet<_>>(),
        expected_spans
    );
    assert!(span_ids.values().all(|&count| count == 1), "a span twice");
}

/// A gzip file read member by member (as `tracelake ingest` reads `.gz` files)
/// says what its content was not as the direct path does: "gzip content: …",
/// not "not json, gzip, or base64 of either" alone, which denied the gzip.
#[test]
fn a_gzip_file_of_something_else_says_it_is_the_content() {
    let collector = memory_collector();
    let file = ("notes.gz", gzip(b"hello, not json\n"));
    let (counters, _) =
        ingest_files(&collector, &[file], FileBatchLimits::default()).expect("ingest");
    assert_eq!(counters.payloads_quarantined, 1);
    let records = quarantine_records(&collector);
    let reason = records[0]["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with("gzip content: not a cloudwatch logs payload"),
        "{reason}"
    );
}

/// A group's files and the quarantine records of its log streams are put at
/// once, as on the direct path: each PUT is a round trip on S3.
#[test]
fn a_groups_files_and_quarantine_records_are_put_at_once() {
    use tracelake_testkit::index::ListingStore;

    let store = Arc::new(ListingStore::new(object_store::memory::InMemory::new()));
    let collector = Collector::new(IndexStore::from_object_store(
        store.clone(),
        Path::default(),
    ));
    let delivery = |stream: &str| {
        let mut messages = fixture_messages("09_node_text_app_logs.jsonl");
        messages.push(UNREADABLE_SPAN_LINE.to_owned());
        data_message_json(&batch_of("/aws/lambda/checkout", stream, &messages))
    };
    let files = [("a", delivery("stream-a")), ("b", delivery("stream-b"))];
    let limits = FileBatchLimits {
        max_payloads: 100,
        max_log_bytes: 1024 * 1024,
    };
    let (counters, groups) = ingest_files(&collector, &files, limits).expect("ingest");
    assert_eq!(
        (groups, counters.events_quarantined),
        (1, 2),
        "{counters:?}"
    );
    let (files, records) = segment_files_and_quarantine_records(&collector);
    assert!(files >= 1, "{files} segment files");
    assert_eq!(records, 2, "a quarantine record per log stream");
    assert_eq!(store.most_puts_in_flight() as u64, files + records);
}
