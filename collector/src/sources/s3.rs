//! S3 object events: CloudWatch Logs → Firehose → S3 → the collector.
//!
//! Firehose writes the records it buffered (1–128 MB) into one object. With a
//! CloudWatch Logs source each record is a gzipped subscription payload, so the
//! object is a sequence of gzip members; one member may hold several payloads
//! written back to back (`…]}{"messageType"…`). The object is read member by
//! member, each member capped at [`DecodeLimits::max_decompressed_bytes`], so a
//! large object never expands in memory at once and a gzip bomb stops at the cap.
//!
//! An object becomes one set of segments named from its bucket, key and ETag
//! (S3 retries an event notification, and the same object then overwrites the
//! same segments). An object whose log text passes
//! [`ObjectLimits::max_batch_log_bytes`] is written in parts `-p001`, `-p002`, …,
//! the same parts on every retry.

use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use object_store::{ObjectStore, ObjectStoreExt as _, path::Path};

use super::{Batch, batch_segment_name};
use crate::counters::IngestCounters;
use crate::decode::{self, DecodeLimits, DecodedPayload};
use crate::index::store::StoreError;
use crate::index::writer::IndexError;
use crate::pipeline::Collector;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

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

/// Reads one object from `store` and ingests it.
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
    let path = Path::from(object.key.as_str());
    let result = store.get(&path).await.map_err(read_error)?;
    let etag = object
        .etag
        .clone()
        .or_else(|| result.meta.e_tag.clone())
        .unwrap_or_default();
    let etag = etag.trim_matches('"').to_owned();
    let segment = object_segment_name(&object.bucket, &object.key, &etag);
    let source = format!("s3://{}/{}", object.bucket, object.key);
    let size = result.meta.size;
    if size > limits.max_object_bytes {
        let mut batch = Batch::new(collector, segment, source.clone());
        let reason = format!(
            "object of {size} bytes is larger than the {} byte limit; not read",
            limits.max_object_bytes
        );
        batch
            .quarantine(&source, &reason, source.as_bytes())
            .await?;
        return Ok(batch.finish().await?);
    }
    let bytes = result.bytes().await.map_err(read_error)?;
    Ok(ingest_delivered_bytes(collector, &bytes, &segment, &source, limits).await?)
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
    let mut total = IngestCounters::default();
    let mut part = 0usize;
    let mut batch = Batch::new(collector, segment.to_owned(), source.to_owned());
    let mut members = member_payloads(bytes, collector.limits()).peekable();
    let mut member_number = 0usize;
    while let Some(payloads) = members.next() {
        batch
            .add(payloads, &format!("{source}#member{member_number}"))
            .await?;
        member_number += 1;
        if batch.log_text_bytes() >= limits.max_batch_log_bytes && members.peek().is_some() {
            total += batch.finish().await?;
            part += 1;
            batch = Batch::new(
                collector,
                format!("{segment}-p{part:03}"),
                source.to_owned(),
            );
        }
    }
    total += batch.finish().await?;
    Ok(total)
}

/// The most bytes of an undecodable tail kept in its quarantine record.
const QUARANTINE_KEEP_BYTES: usize = 8 * 1024 * 1024;

/// The payloads of delivered bytes, one gzip member at a time (each capped at
/// `max_decompressed_bytes`). Bytes that are not gzip are read as one input; a
/// corrupt member ends the sequence with an error that keeps the rest (up to
/// 8 MiB), since without a member boundary it cannot be split.
pub(crate) fn member_payloads<'b>(
    bytes: &'b [u8],
    limits: &DecodeLimits,
) -> impl Iterator<Item = Vec<DecodedPayload>> + 'b {
    GzipMembers {
        rest: bytes,
        limits: *limits,
    }
}

struct GzipMembers<'b> {
    rest: &'b [u8],
    limits: DecodeLimits,
}

impl Iterator for GzipMembers<'_> {
    type Item = Vec<DecodedPayload>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.trim_ascii().is_empty() {
            return None;
        }
        if !self.rest.starts_with(&GZIP_MAGIC) {
            let rest = std::mem::take(&mut self.rest);
            return Some(decode::decode_input(rest, &self.limits));
        }
        // One member at a time, so that a corrupt member quarantines only
        // itself and what follows, not the members already read.
        let mut decoder = flate2::bufread::GzDecoder::new(self.rest);
        let cap = self.limits.max_decompressed_bytes;
        match decode::read_capped(&mut decoder, cap, 0) {
            Ok(out) => {
                self.rest = decoder.into_inner();
                Some(decode::decode_input(&out, &self.limits))
            }
            Err(error) => {
                let rest = std::mem::take(&mut self.rest);
                let kept = rest[..rest.len().min(QUARANTINE_KEEP_BYTES)].to_vec();
                Some(vec![Err((error, kept))])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_are_url_decoded() {
        assert_eq!(
            url_decode_key("raw/2026/11/29/10/tracelake-1-2026-11-29-10-00-00-a%3Db+c"),
            "raw/2026/11/29/10/tracelake-1-2026-11-29-10-00-00-a=b c"
        );
        assert_eq!(url_decode_key("a%2Bb&c"), "a+b&c");
    }

    #[test]
    fn members_split_at_their_boundaries_and_a_bomb_stops_at_the_cap() {
        use std::io::Write as _;
        let gzip = |text: &[u8]| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(text).unwrap();
            encoder.finish().unwrap()
        };
        let payload = |group: &str| {
            format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"{group}","logStream":"s","logEvents":[{{"id":"1","timestamp":5,"message":"hi"}}]}}"#
            )
        };
        let object = [
            gzip(format!("{}{}", payload("a"), payload("b")).as_bytes()),
            gzip(payload("c").as_bytes()),
            gzip(&vec![b' '; 4096]),
        ]
        .concat();
        let limits = DecodeLimits {
            max_decompressed_bytes: 1024,
            ..DecodeLimits::default()
        };
        let members: Vec<_> = member_payloads(&object, &limits).collect();
        assert_eq!(members.len(), 3);
        let groups = |member: &Vec<DecodedPayload>| -> Vec<String> {
            member
                .iter()
                .map(|p| match p {
                    Ok(decode::Payload::Data(batch)) => batch.log_group.clone(),
                    other => format!("{other:?}"),
                })
                .collect()
        };
        assert_eq!(groups(&members[0]), ["a", "b"]);
        assert_eq!(groups(&members[1]), ["c"]);
        assert!(matches!(
            members[2][..],
            [Err((decode::DecodeError::TooLarge { limit: 1024 }, _))]
        ));
    }
}
