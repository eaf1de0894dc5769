//! Helpers for tests that write an index (feature `index`).
//!
//! [`delivery_rows`] and [`write_delivery`] make the rows of one raw delivery
//! (a span and a log line) and write them as one raw segment of each table.
//! [`ListingStore`] wraps an object store and records every listing asked of
//! it, so that a test can count the LIST requests a job would send to S3, and
//! the most PUTs it had in flight at once:
//!
//! ```
//! use std::sync::Arc;
//! use tracelake_testkit::index::ListingStore;
//!
//! let store = Arc::new(ListingStore::new(object_store::memory::InMemory::new()));
//! let index = tracelake_index::IndexStore::from_object_store(store.clone(), Default::default());
//! // … run the job on `index` …
//! assert!(store.listed().is_empty());
//! ```

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;

use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};
use tracelake_index::IndexWriter;
use tracelake_index::rows::{LogRow, SpanId, SpanRow, TraceId};

/// The rows of raw delivery `n`: one span of `service` (`GET /`, 1 µs long)
/// and one plain log line (`line {n}`, event id `n`), both at `start_ns`, in
/// log group `/aws/lambda/checkout`, stream `s`. Trace and span id are
/// `n + 1` (never 0), so that deliveries never share a trace.
pub fn delivery_rows(n: u64, start_ns: i64, service: &str) -> (Vec<SpanRow>, Vec<LogRow>) {
    let span = SpanRow {
        trace_id: TraceId(u128::from(n) + 1),
        span_id: SpanId(n + 1),
        name: "GET /".to_owned(),
        service: service.to_owned(),
        start_time_ns: start_ns,
        end_time_ns: start_ns + 1_000,
        log_group: "/aws/lambda/checkout".into(),
        log_stream: "s".into(),
        ..SpanRow::default()
    };
    let log = LogRow {
        timestamp_ns: start_ns,
        message: format!("line {n}"),
        log_group: "/aws/lambda/checkout".into(),
        log_stream: "s".into(),
        event_id: n.to_string(),
        format: "plain".into(),
        ..LogRow::default()
    };
    (vec![span], vec![log])
}

/// Writes [`delivery_rows`] as segment `seg-{n}`: a spans, a logs and a
/// `trace_index` raw segment, as the collector writes one delivery.
///
/// # Panics
/// When the writer fails: a test helper.
pub async fn write_delivery(writer: &IndexWriter, n: u64, start_ns: i64, service: &str) {
    let (spans, logs) = delivery_rows(n, start_ns, service);
    writer
        .write_rows(&format!("seg-{n}"), spans, logs, Vec::new())
        .await
        .expect("delivery written");
}

/// An object store that records the prefix of every listing (recursive or
/// by delimiter, each a LIST request or more on S3) and the most PUTs in
/// flight at once, and passes every call on.
#[derive(Debug)]
pub struct ListingStore {
    inner: Arc<dyn ObjectStore>,
    listed: Mutex<Vec<String>>,
    puts_in_flight: AtomicUsize,
    most_puts_in_flight: AtomicUsize,
}

impl ListingStore {
    /// Wraps `inner`.
    pub fn new(inner: impl ObjectStore) -> ListingStore {
        ListingStore {
            inner: Arc::new(inner),
            listed: Mutex::new(Vec::new()),
            puts_in_flight: AtomicUsize::new(0),
            most_puts_in_flight: AtomicUsize::new(0),
        }
    }

    /// The most PUTs that were in flight at once so far. Each PUT yields to
    /// the executor once before it is passed on, so PUTs a caller starts
    /// together overlap here even on a store that answers at once.
    pub fn most_puts_in_flight(&self) -> usize {
        self.most_puts_in_flight.load(Ordering::SeqCst)
    }

    /// The prefixes listed so far, in order (`""` for the whole store).
    pub fn listed(&self) -> Vec<String> {
        self.listed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets the listings recorded so far.
    pub fn clear(&self) {
        self.listed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn record(&self, prefix: Option<&Path>) {
        self.listed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(prefix.map_or_else(String::new, ToString::to_string));
    }
}

/// One PUT in flight, counted out when dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl fmt::Display for ListingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ListingStore({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for ListingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let now = self.puts_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_puts_in_flight.fetch_max(now, Ordering::SeqCst);
        // Counted out when the PUT ends or is dropped unfinished.
        let _in_flight = InFlight(&self.puts_in_flight);
        let mut yielded = false;
        futures::future::poll_fn(|context| {
            if yielded {
                return Poll::Ready(());
            }
            yielded = true;
            context.waker().wake_by_ref();
            Poll::Pending
        })
        .await;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.record(prefix);
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.record(prefix);
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.record(prefix);
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
