//! S3 object events: CloudWatch Logs → Firehose → S3 → the collector.
//!
//! Firehose writes the records it buffered (1–128 MB) into one object. With a
//! CloudWatch Logs source each record is a gzipped subscription payload, so the
//! object is a sequence of gzip members; one member may hold several payloads
//! written back to back (`…]}{"messageType"…`). The object is read as a byte
//! stream and its members are decompressed as the bytes arrive, each capped at
//! [`crate::decode::DecodeLimits::max_decompressed_bytes`]: memory holds one chunk of the
//! object and one member, never the whole object, and a gzip bomb stops at the
//! cap. A corrupt member is quarantined with its reason and its bytes (up to
//! 8 MiB), and the members after it are read: the splitter looks for the next
//! gzip header (`members`).
//!
//! An object becomes one set of segments named from its bucket, key and ETag
//! (S3 retries an event notification, and the same object then overwrites the
//! same segments). An object whose log text passes
//! [`ObjectLimits::max_batch_log_bytes`] is written in parts `-p001`, `-p002`, …,
//! the same parts on every retry.

use std::collections::VecDeque;
use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use bytes::Bytes;
use futures::{Stream, StreamExt as _};
use object_store::{ObjectStore, ObjectStoreExt as _, path::Path};

use super::{Batch, batch_segment_name, members};
use crate::counters::IngestCounters;
use crate::index::store::StoreError;
use crate::index::writer::IndexError;
use crate::pipeline::Collector;

/// Caps on one delivered object.
#[derive(Debug, Clone, Copy)]
pub struct ObjectLimits {
    /// The largest object read; Firehose's largest S3 buffer is 128 MiB. A
    /// larger object is quarantined by reference (bucket, key, size).
    pub max_object_bytes: u64,
    /// Log text gathered before a part is written, which bounds memory.
    pub max_batch_log_bytes: usize,
}

impl Default for ObjectLimits {
    fn default() -> Self {
        ObjectLimits {
            max_object_bytes: 256 * 1024 * 1024,
            max_batch_log_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Why an S3 event could not be handled. Bad content is not an error (it is
/// quarantined); these are failures that a retry may fix.
#[derive(Debug, thiserror::Error)]
pub enum S3SourceError {
    /// The bucket could not be opened.
    #[error("cannot open bucket {bucket}: {source}")]
    Open {
        /// The bucket.
        bucket: String,
        #[source]
        /// The store's error.
        source: StoreError,
    },
    /// The object could not be read.
    #[error("cannot read s3://{bucket}/{key}: {source}")]
    Read {
        /// The bucket.
        bucket: String,
        /// The object's key.
        key: String,
        #[source]
        /// The store's error.
        source: object_store::Error,
    },
    /// The index could not be written.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// One object named by an S3 event record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveredObject {
    /// The bucket.
    pub bucket: String,
    /// The key, URL-decoded (S3 events encode keys like form values).
    pub key: String,
    /// The ETag from the event, if any.
    pub etag: Option<String>,
}

/// The objects an S3 event names; records without a bucket or key are skipped
/// with a warning (they name nothing to read).
pub fn delivered_objects(event: &S3Event) -> Vec<DeliveredObject> {
    let mut objects = Vec::new();
    for record in &event.records {
        let bucket = record.s3.bucket.name.clone().unwrap_or_default();
        let key = record.s3.object.key.as_deref().map(url_decode_key);
        match key {
            Some(key) if !bucket.is_empty() && !key.is_empty() => objects.push(DeliveredObject {
                bucket,
                key,
                etag: record.s3.object.e_tag.clone(),
            }),
            _ => {
                tracing::warn!(target: "tracelake::collector", bucket = %bucket, "S3RecordWithoutObject")
            }
        }
    }
    objects
}

/// S3 event keys are encoded like form values: `+` is a space, `%XX` a byte.
fn url_decode_key(key: &str) -> String {
    let with_spaces = key.replace('+', " ");
    url::form_urlencoded::parse(format!("k={}", with_spaces.replace('&', "%26")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Handles an S3 event: reads every object it names and writes its segments.
/// `open_bucket` opens a bucket by name (with the Lambda's credentials).
///
/// # Errors
/// When a bucket or object cannot be read or the index cannot be written: the
/// invocation fails and S3's retry reprocesses the event, overwriting the same
/// segments.
pub async fn handle_s3_event(
    collector: &Collector,
    event: &S3Event,
    limits: &ObjectLimits,
    open_bucket: impl Fn(&str) -> Result<Arc<dyn ObjectStore>, StoreError>,
) -> Result<IngestCounters, S3SourceError> {
    let mut total = IngestCounters::default();
    for object in delivered_objects(event) {
        // A "folder" made in the S3 console is a 0-byte object whose key ends
        // in `/`: no delivery, so not an empty input to quarantine either.
        if object.key.ends_with('/') {
            tracing::info!(target: "tracelake::collector", bucket = %object.bucket, key = %object.key, "S3FolderMarkerSkipped");
            continue;
        }
        if is_inside_index(collector, &object) {
            tracing::warn!(target: "tracelake::collector", bucket = %object.bucket, key = %object.key, "S3ObjectInsideIndexSkipped");
            continue;
        }
        let store = open_bucket(&object.bucket).map_err(|source| S3SourceError::Open {
            bucket: object.bucket.clone(),
            source,
        })?;
        total += ingest_object(collector, store.as_ref(), &object, limits).await?;
    }
    Ok(total)
}

/// An event for an object the collector itself wrote (a notification
/// configured on the whole index bucket) would feed the index into itself.
fn is_inside_index(collector: &Collector, object: &DeliveredObject) -> bool {
    let Some(rest) = collector.store().url().strip_prefix("s3://") else {
        return false;
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_matches('/');
    let index_root = if prefix.is_empty() {
        "v1/".to_owned()
    } else {
        format!("{prefix}/v1/")
    };
    bucket == object.bucket && object.key.starts_with(&index_root)
}

/// Reads one object from `store` as a stream and ingests it.
///
/// # Errors
/// When the object cannot be read or the index cannot be written.
pub async fn ingest_object(
    collector: &Collector,
    store: &dyn ObjectStore,
    object: &DeliveredObject,
    limits: &ObjectLimits,
) -> Result<IngestCounters, S3SourceError> {
    let read_error = |source| S3SourceError::Read {
        bucket: object.bucket.clone(),
        key: object.key.clone(),
        source,
    };
    let Some(path) = object_path(&object.key) else {
        // Reading would fail on every retry of the event: keep its name.
        let etag = object.etag.as_deref().unwrap_or_default();
        let reason = "the object store cannot name this key (an empty, `.` or `..` \
                      segment, a control character, or a leading `/`); not read";
        return quarantine_unread(collector, object, etag, reason).await;
    };
    let result = store.get(&path).await.map_err(read_error)?;
    let etag = object
        .etag
        .clone()
        .or_else(|| result.meta.e_tag.clone())
        .unwrap_or_default();
    let size = result.meta.size;
    if size > limits.max_object_bytes {
        let reason = format!(
            "object of {size} bytes is larger than the {} byte limit; not read",
            limits.max_object_bytes
        );
        return quarantine_unread(collector, object, &etag, &reason).await;
    }
    let segment = object_segment_name(&object.bucket, &object.key, etag.trim_matches('"'));
    let source = object_source(object);
    match ingest_chunks(collector, result.into_stream(), &segment, &source, limits).await {
        Ok(counters) => Ok(counters),
        Err(ChunkError::Read(error)) => Err(read_error(error)),
        Err(ChunkError::Index(error)) => Err(S3SourceError::Index(error)),
    }
}

/// Quarantines an object that is not read, by reference: its `s3://` name is
/// the record's bytes, under the segment name its delivery would have had.
async fn quarantine_unread(
    collector: &Collector,
    object: &DeliveredObject,
    etag: &str,
    reason: &str,
) -> Result<IngestCounters, S3SourceError> {
    let segment = object_segment_name(&object.bucket, &object.key, etag.trim_matches('"'));
    let source = object_source(object);
    let mut batch = Batch::new(collector, segment, source.clone());
    batch.quarantine(&source, reason, source.as_bytes()).await?;
    Ok(batch.finish().await?)
}

/// An object's name as a source: `s3://bucket/key`.
fn object_source(object: &DeliveredObject) -> String {
    format!("s3://{}/{}", object.bucket, object.key)
}

/// The path of the object at exactly `key`. `Path::from` would
/// percent-encode non-ASCII letters and `%`, `#`, `[`, `~`, … in the key and
/// so ask for another object; `Path::parse` keeps the key, and refuses one
/// that no path can name (an empty, `.` or `..` segment, a control
/// character), and drops a leading `/`, which S3 keeps.
fn object_path(key: &str) -> Option<Path> {
    Path::parse(key).ok().filter(|path| path.as_ref() == key)
}

/// The segment name of a delivered object: its bucket, key and ETag.
pub fn object_segment_name(bucket: &str, key: &str, etag: &str) -> String {
    let file = key.rsplit('/').next().unwrap_or(key);
    batch_segment_name("s3", file, &[bucket, key, etag])
}

/// Ingests the bytes of a delivered object (or any file of concatenated gzip
/// members or concatenated payloads) as segment `segment` and its parts.
///
/// # Errors
/// Only when the index cannot be written.
pub async fn ingest_delivered_bytes(
    collector: &Collector,
    bytes: &[u8],
    segment: &str,
    source: &str,
    limits: &ObjectLimits,
) -> Result<IngestCounters, IndexError> {
    // Copied a chunk at a time, as the object store would hand them over.
    let chunks = futures::stream::iter(
        bytes
            .chunks(members::CHUNK_BYTES)
            .map(|chunk| Ok::<_, std::convert::Infallible>(Bytes::copy_from_slice(chunk))),
    );
    match ingest_chunks(collector, chunks, segment, source, limits).await {
        Ok(counters) => Ok(counters),
        Err(ChunkError::Index(error)) => Err(error),
        Err(ChunkError::Read(never)) => match never {},
    }
}

/// Why [`ingest_chunks`] stopped.
enum ChunkError<E> {
    /// The next chunk could not be read.
    Read(E),
    /// The index could not be written.
    Index(IndexError),
}

/// Ingests a delivery that arrives as a stream of chunks, decompressing each
/// gzip member as its bytes arrive; a part is written each time the log text
/// gathered passes [`ObjectLimits::max_batch_log_bytes`].
async fn ingest_chunks<S, E>(
    collector: &Collector,
    mut chunks: S,
    segment: &str,
    source: &str,
    limits: &ObjectLimits,
) -> Result<IngestCounters, ChunkError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut splitter = members::MemberSplitter::new(*collector.limits());
    let mut members = VecDeque::new();
    let mut total = IngestCounters::default();
    let mut part = 0usize;
    let mut batch = Batch::new(collector, segment.to_owned(), source.to_owned());
    let mut member_number = 0usize;
    loop {
        let chunk = chunks.next().await.transpose().map_err(ChunkError::Read)?;
        match &chunk {
            Some(bytes) => splitter.push(bytes, &mut members),
            None => splitter.finish(&mut members),
        }
        while let Some(payloads) = members.pop_front() {
            if batch.log_text_bytes() >= limits.max_batch_log_bytes {
                total += batch.finish().await.map_err(ChunkError::Index)?;
                part += 1;
                batch = Batch::new(
                    collector,
                    format!("{segment}-p{part:03}"),
                    source.to_owned(),
                );
            }
            batch
                .add(payloads, &format!("{source}#member{member_number}"))
                .await
                .map_err(ChunkError::Index)?;
            member_number += 1;
        }
        if chunk.is_none() {
            break;
        }
    }
    total += batch.finish().await.map_err(ChunkError::Index)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::DecodeLimits;
    use crate::sources::members::tests::{gzip, payload};

    #[test]
    fn event_keys_are_url_decoded() {
        assert_eq!(
            url_decode_key("raw/2026/11/29/10/tracelake-1-2026-11-29-10-00-00-a%3Db+c"),
            "raw/2026/11/29/10/tracelake-1-2026-11-29-10-00-00-a=b c"
        );
        assert_eq!(url_decode_key("a%2Bb&c"), "a+b&c");
    }

    fn in_memory_collector(limits: DecodeLimits) -> (Collector, Arc<dyn ObjectStore>) {
        let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let index = crate::IndexStore::from_object_store(store.clone(), Path::from("index"));
        (Collector::with_limits(index, limits), store)
    }

    /// Puts `object` in an in-memory bucket, ingests it with members capped at
    /// 8 KiB, and returns the counters, the quarantine reasons and the paths
    /// written.
    fn ingest_in_memory(
        object: Vec<u8>,
        max_batch_log_bytes: usize,
    ) -> (IngestCounters, Vec<String>, Vec<String>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let limits = DecodeLimits {
            max_decompressed_bytes: 8 * 1024,
            ..DecodeLimits::default()
        };
        let (collector, store) = in_memory_collector(limits);
        let key = "raw/2026/11/29/10/tracelake-1";
        runtime
            .block_on(store.put(&Path::from(key), object.into()))
            .unwrap();
        let object_limits = ObjectLimits {
            max_object_bytes: 1024 * 1024,
            max_batch_log_bytes,
        };
        let delivered = DeliveredObject {
            bucket: "raw-bucket".into(),
            key: key.into(),
            etag: Some("\"e1\"".into()),
        };
        let counters = runtime
            .block_on(ingest_object(
                &collector,
                store.as_ref(),
                &delivered,
                &object_limits,
            ))
            .unwrap();
        let mut reasons = Vec::new();
        for object in runtime
            .block_on(collector.store().list("v1/quarantine"))
            .unwrap()
        {
            let bytes = runtime
                .block_on(async { store.get(&object.location).await?.bytes().await })
                .unwrap();
            let record: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            reasons.push(record["reason"].as_str().unwrap_or_default().to_owned());
        }
        let paths = runtime
            .block_on(collector.store().list("v1"))
            .unwrap()
            .iter()
            .map(|o| o.location.to_string())
            .collect();
        (counters, reasons, paths)
    }

    #[test]
    fn an_object_far_bigger_than_the_member_cap_is_streamed_with_exact_counters() {
        let members = 40;
        let events_per_member = 20;
        let mut object = Vec::new();
        let mut decompressed = 0;
        for member in 0..members {
            let text = payload(&format!("/aws/lambda/fn-{member}"), events_per_member, 200);
            decompressed += text.len();
            object.extend(gzip(text.as_bytes()));
        }
        // A bomb member at the end stops at the cap and is quarantined.
        object.extend(gzip(&vec![b' '; 64 * 1024]));
        // The object decompresses to over 20 times the cap on one member.
        assert!(decompressed > 20 * 8 * 1024, "{decompressed}");
        // Parts of about a quarter of the object.
        let (counters, reasons, paths) = ingest_in_memory(object, 10 * events_per_member * 200);
        let events = (members * events_per_member) as u64;
        assert_eq!(counters.payloads, members as u64 + 1);
        assert_eq!(counters.payloads_quarantined, 1);
        assert_eq!(counters.events_in, events);
        assert_eq!(counters.events_indexed, events);
        assert_eq!(counters.events_quarantined, 0);
        assert_eq!(reasons, ["gzip stream expands past 8192 bytes"]);
        assert!(paths.iter().any(|p| p.contains("-p003")), "{paths:?}");
    }

    /// An empty object (an upload of nothing, or a delivery cut to nothing) is
    /// counted and kept as an empty input, as an empty file is.
    #[test]
    fn an_empty_object_is_quarantined_as_empty_input() {
        let (counters, reasons, _) = ingest_in_memory(Vec::new(), 1024);
        assert_eq!(counters.payloads, 1, "{counters:?}");
        assert_eq!(counters.payloads_quarantined, 1, "{counters:?}");
        assert_eq!(counters.events_in, 0);
        assert_eq!(reasons, ["empty input"]);
    }

    /// A folder marker (`raw/2026/`, made by the S3 console) is skipped, while
    /// an empty object under it is an empty input.
    #[test]
    fn a_folder_marker_is_skipped_and_an_empty_object_is_not() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (collector, bucket) = in_memory_collector(DecodeLimits::default());
        for key in ["raw/2026/", "raw/2026/empty"] {
            runtime
                .block_on(bucket.put(&Path::from(key), Vec::new().into()))
                .unwrap();
        }
        // The fields S3 sends (its notification's shape, as in the AWS tests).
        let record = |key: &str| {
            serde_json::json!({
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventTime": "2026-12-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "A1"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {},
                "s3": {
                    "s3SchemaVersion": "1.0", "configurationId": "raw",
                    "bucket": {"name": "raw-bucket", "ownerIdentity": {"principalId": "A1"}, "arn": "arn:aws:s3:::raw-bucket"},
                    "object": {"key": key, "size": 0, "sequencer": "00"},
                },
            })
        };
        let event: S3Event = serde_json::from_value(
            serde_json::json!({"Records": [record("raw/2026/"), record("raw/2026/empty")]}),
        )
        .expect("s3 event");
        let counters = runtime
            .block_on(handle_s3_event(
                &collector,
                &event,
                &ObjectLimits::default(),
                |_| Ok(bucket.clone()),
            ))
            .expect("handled");
        assert_eq!(
            (counters.payloads, counters.payloads_quarantined),
            (1, 1),
            "{counters:?}"
        );
    }

    #[test]
    fn a_corrupt_member_is_quarantined_with_its_reason_and_counters_stay_exact() {
        let mut object = Vec::new();
        for member in 0..3 {
            object.extend(gzip(
                payload(&format!("/aws/lambda/ok-{member}"), 5, 10).as_bytes(),
            ));
        }
        let mut corrupt = gzip(payload("/aws/lambda/bad", 4, 10).as_bytes());
        let crc = corrupt.len() - 8;
        corrupt[crc] ^= 0xff;
        object.extend(&corrupt);
        // The members after the corrupt one are still read.
        for member in 3..5 {
            object.extend(gzip(
                payload(&format!("/aws/lambda/ok-{member}"), 5, 10).as_bytes(),
            ));
        }
        let (counters, reasons, _) = ingest_in_memory(object, 64 * 1024 * 1024);
        assert_eq!(counters.payloads, 6);
        assert_eq!(counters.payloads_quarantined, 1);
        assert_eq!(counters.events_in, 25);
        assert_eq!(counters.events_indexed, 25);
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].starts_with("invalid gzip stream"), "{reasons:?}");
    }
}
