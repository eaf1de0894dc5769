//! Files of deliveries (`tracelake ingest`), batched the way the buffered
//! sources batch them.
//!
//! A file may be anything [`crate::decode`] reads (Lambda events, decoded
//! payloads, Firehose requests, JSON lines of these), an object that Firehose
//! delivered to S3 (gzip members of concatenated payloads, read member by
//! member), or a Kinesis event as Lambda receives it (each record's data a
//! gzipped payload).
//!
//! Consecutive files are gathered into groups of at most
//! [`FileBatchLimits::max_payloads`] payloads and
//! [`FileBatchLimits::max_log_bytes`] of log text, the scale of one Kinesis
//! invocation (10,000 records, 6 MB of base64 gzip). Each group becomes one set
//! of segments named from the contents it holds (a hash of each file and the
//! payload range taken from it), so ingesting the same files again with the
//! same limits overwrites the same objects.
//!
//! A full group is correlated and encoded on the rayon pool while the next
//! group is decoded and gathered, and written (its files put in the store) when
//! the next group is full or at [`FileBatcher::finish`]: at most one group
//! waits, which bounds the memory held to about two groups. The objects written
//! are those of finishing each group before gathering the next; only their
//! order in time differs (an undecodable payload of the next group may be
//! quarantined before the group before it is written).

use aws_lambda_events::event::kinesis::KinesisEvent;
use futures::channel::oneshot;
use sha2::{Digest as _, Sha256};

use super::{Batch, PreparedBatch, batch_segment_name};
use crate::counters::IngestCounters;
use crate::decode::{self, DecodedPayload};
use crate::index::writer::IndexError;
use crate::pipeline::Collector;

/// How large a group of files may grow before it is written.
#[derive(Debug, Clone, Copy)]
pub struct FileBatchLimits {
    /// Payloads per group (a Kinesis invocation carries at most 10,000 records).
    pub max_payloads: usize,
    /// Bytes of log text per group (6 MB of base64 gzip is about 30 MB of text
    /// at the 6–7× ratio subscription payloads compress by).
    pub max_log_bytes: usize,
}

impl Default for FileBatchLimits {
    fn default() -> Self {
        FileBatchLimits {
            max_payloads: 10_000,
            max_log_bytes: 32 * 1024 * 1024,
        }
    }
}

/// Gathers files into groups and writes each group as one set of segments.
///
/// Call [`FileBatcher::finish`]: a batcher dropped before it writes neither
/// its last group nor the full one before it. It waits for the rayon pool, so
/// drive it from outside the pool (as the CLI does): a worker of a one-thread
/// pool would wait for itself.
#[derive(Debug)]
pub struct FileBatcher<'a> {
    collector: &'a Collector,
    limits: FileBatchLimits,
    batch: Option<Batch<'a>>,
    /// The previous group, being correlated and encoded on the rayon pool.
    pending: Option<oneshot::Receiver<PreparedGroup>>,
    /// What the current group holds: file hash and payload range, per file.
    identity: Vec<String>,
    payloads_in_group: usize,
    total: IngestCounters,
    groups: u64,
}

impl<'a> FileBatcher<'a> {
    /// A batcher writing through `collector`.
    pub fn new(collector: &'a Collector, limits: FileBatchLimits) -> FileBatcher<'a> {
        FileBatcher {
            collector,
            limits,
            batch: None,
            pending: None,
            identity: Vec::new(),
            payloads_in_group: 0,
            total: IngestCounters::default(),
            groups: 0,
        }
    }

    /// Adds one file's bytes; `name` names it in logs and quarantine records.
    ///
    /// # Errors
    /// Only when the index cannot be written. A group is written when the
    /// next one is full, so the error may be an earlier file's.
    pub async fn add_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), IndexError> {
        let mut range = FileRange::new(bytes);
        for payloads in payload_chunks(bytes, self.collector) {
            self.add_payloads(name, &mut range, payloads).await?;
        }
        self.identity.push(range.finish());
        Ok(())
    }

    /// Adds several files, decoding them on all cores, then gathering their
    /// payloads in the order given: the groups, and so the segments written,
    /// are the same as [`FileBatcher::add_file`] one file at a time makes.
    ///
    /// A file larger than [`PARALLEL_FILE_BYTES`] (an object of many gzip
    /// members) is read member by member as `add_file` does, which bounds the
    /// memory it takes.
    ///
    /// # Errors
    /// Only when the index cannot be written (as [`FileBatcher::add_file`]).
    pub async fn add_files<N, B>(&mut self, files: &[(N, B)]) -> Result<(), IndexError>
    where
        N: AsRef<str> + Sync,
        B: AsRef<[u8]> + Sync,
    {
        use rayon::prelude::*;
        let collector = self.collector;
        let decoded: Vec<Option<(FileRange, Vec<Vec<DecodedPayload>>)>> = files
            .par_iter()
            .map(|(_, bytes)| {
                let bytes = bytes.as_ref();
                (bytes.len() <= PARALLEL_FILE_BYTES).then(|| {
                    (
                        FileRange::new(bytes),
                        payload_chunks(bytes, collector).collect(),
                    )
                })
            })
            .collect();
        for ((name, bytes), decoded) in files.iter().zip(decoded) {
            let name = name.as_ref();
            let Some((mut range, chunks)) = decoded else {
                self.add_file(name, bytes.as_ref()).await?;
                continue;
            };
            for payloads in chunks {
                self.add_payloads(name, &mut range, payloads).await?;
            }
            self.identity.push(range.finish());
        }
        Ok(())
    }

    async fn add_payloads(
        &mut self,
        name: &str,
        range: &mut FileRange,
        payloads: Vec<DecodedPayload>,
    ) -> Result<(), IndexError> {
        for payload in payloads {
            if self.is_full() {
                self.identity.push(range.finish());
                self.flush().await?;
                range.start = range.position;
            }
            let batch = self.batch.get_or_insert_with(|| {
                Batch::new(self.collector, String::new(), format!("files:{name}"))
            });
            if let Err(error) = batch.add(vec![payload], name).await {
                // A payload that cannot be quarantined fails the ingest; the
                // group before it is written first, as it was before this
                // group began when groups were finished one at a time.
                self.write_pending().await?;
                return Err(error);
            }
            self.payloads_in_group += 1;
            range.position += 1;
        }
        Ok(())
    }

    fn is_full(&self) -> bool {
        self.batch.as_ref().is_some_and(|batch| {
            self.payloads_in_group >= self.limits.max_payloads
                || batch.log_text_bytes() >= self.limits.max_log_bytes
        })
    }

    /// Hands the current group to the rayon pool to be correlated and encoded,
    /// after writing the group before it.
    async fn flush(&mut self) -> Result<(), IndexError> {
        let identity = std::mem::take(&mut self.identity);
        self.payloads_in_group = 0;
        let Some(mut batch) = self.batch.take() else {
            return Ok(());
        };
        let parts: Vec<&str> = identity.iter().map(String::as_str).collect();
        batch.segment = batch_segment_name("files", "", &parts);
        let gathered = batch.into_gathered();
        self.write_pending().await?;
        let (sender, receiver) = oneshot::channel();
        rayon::spawn(move || {
            let prepared =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| gathered.prepare()));
            // The receiver is gone only when the batcher was dropped unfinished.
            let _ = sender.send(prepared);
        });
        self.pending = Some(receiver);
        Ok(())
    }

    /// Waits for the group handed to the pool, and writes it.
    async fn write_pending(&mut self) -> Result<(), IndexError> {
        let Some(receiver) = self.pending.take() else {
            return Ok(());
        };
        let prepared = match receiver.await {
            Ok(Ok(prepared)) => prepared?,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // The task sends before it ends, and a panic is sent too.
            Err(oneshot::Canceled) => unreachable!("a group's task ended without its result"),
        };
        self.total += prepared.write(self.collector).await?.0;
        self.groups += 1;
        Ok(())
    }

    /// Writes the last group and returns the counters of every file added and
    /// the number of groups written.
    ///
    /// # Errors
    /// Only when the index cannot be written.
    pub async fn finish(mut self) -> Result<(IngestCounters, u64), IndexError> {
        self.flush().await?;
        self.write_pending().await?;
        Ok((self.total, self.groups))
    }
}

/// A group correlated and encoded on the rayon pool, or the panic that stopped it.
type PreparedGroup = std::thread::Result<Result<PreparedBatch, IndexError>>;

/// Files up to this size are decoded whole by [`FileBatcher::add_files`], on
/// all cores; larger ones are read member by member.
pub const PARALLEL_FILE_BYTES: usize = 8 * 1024 * 1024;

/// A file's identity within a group: a hash of its bytes and the range of its
/// payloads the group holds.
struct FileRange {
    hash: String,
    start: usize,
    position: usize,
}

impl FileRange {
    fn new(bytes: &[u8]) -> FileRange {
        FileRange {
            hash: Sha256::digest(bytes)[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            start: 0,
            position: 0,
        }
    }

    fn finish(&self) -> String {
        format!("{}:{}-{}", self.hash, self.start, self.position)
    }
}

/// A file's payloads, in chunks that bound memory: one chunk per gzip member of
/// a delivered object, per record of a Kinesis event, or the whole file.
fn payload_chunks<'b>(
    bytes: &'b [u8],
    collector: &'b Collector,
) -> Box<dyn Iterator<Item = Vec<DecodedPayload>> + 'b> {
    let limits = *collector.limits();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Box::new(super::members::member_payloads(bytes, &limits));
    }
    if let Some(event) = as_kinesis_event(bytes) {
        return Box::new(
            event
                .records
                .into_iter()
                .map(move |record| decode::decode_input(&record.kinesis.data.0, &limits)),
        );
    }
    Box::new(std::iter::once(decode::decode_input(bytes, &limits)))
}

/// A Kinesis event as Lambda receives it: `{"Records":[{"eventSource":"aws:kinesis",…}]}`.
fn as_kinesis_event(bytes: &[u8]) -> Option<KinesisEvent> {
    let head = &bytes[..bytes.len().min(4096)];
    let looks_like = head.windows(9).any(|w| w == b"\"Records\"")
        && head.windows(13).any(|w| w == b"\"aws:kinesis\"");
    if !looks_like {
        return None;
    }
    serde_json::from_slice::<KinesisEvent>(bytes).ok()
}
