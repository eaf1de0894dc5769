//! Rows to ingest, stores to ingest them into, and readers to check them with.

use std::collections::BTreeMap;
use std::sync::Arc;

use tracelake_index::compact::dedupe::CompactRow;
use tracelake_index::read::read_rows;
use tracelake_index::rows::{
    InvocationRow, InvocationStatus, Link, LogLevel, LogRow, SpanId, SpanKind, SpanRow, StatusCode,
    TraceId,
};
use tracelake_index::schema::HourPartition;
use tracelake_index::{IndexStore, IndexWriter};

/// 2026-11-29T05:00:00Z.
pub fn hour() -> HourPartition {
    HourPartition::parse("2026-11-29T05").expect("valid hour")
}

/// The rows of one delivery: what the collector would write as one segment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    pub name: String,
    pub spans: Vec<SpanRow>,
    pub logs: Vec<LogRow>,
    pub invocations: Vec<InvocationRow>,
}

/// One request of function `f{n % 7}`: two spans, three logs, one
/// invocation, all within the hour. The third log line is unlinked and stays so
/// whatever compaction resolves: no request id, on a stream with no invocation.
pub fn request(n: u64) -> Delivery {
    let start = hour().start_nanos() + (n as i64 % 3_000) * 1_000_000_000 + n as i64;
    let trace_id = TraceId(0x6a2b_0000_0000_0000_0000_0000_0000_0000u128 + u128::from(n) * 7_919);
    let root = SpanId(0x1000 + n * 2);
    let child = SpanId(0x1001 + n * 2);
    let request_id = format!("req-{n:08}");
    let service = format!("f{}", n % 7);
    let log_group: Arc<str> = format!("/aws/lambda/{service}").into();
    let log_stream: Arc<str> = format!("2026/11/29/[$LATEST]{:032x}", n % 5).into();
    let span = |span_id: SpanId, parent: Option<SpanId>, name: &str, offset: i64| SpanRow {
        trace_id,
        span_id,
        parent_span_id: parent,
        name: name.to_owned(),
        kind: if parent.is_none() {
            SpanKind::Server
        } else {
            SpanKind::Client
        },
        service: service.clone(),
        start_time_ns: start + offset,
        end_time_ns: start + offset + 5_000_000,
        status_code: if n.is_multiple_of(11) {
            StatusCode::Error
        } else {
            StatusCode::Unset
        },
        request_id: Some(request_id.clone()),
        faas_name: Some(service.clone()),
        attributes: vec![("http.route".to_owned(), format!("/items/{n}"))],
        log_group: log_group.clone(),
        log_stream: log_stream.clone(),
        ..SpanRow::default()
    };
    let log = |i: u64, linked: bool| LogRow {
        timestamp_ns: start + i as i64 * 1_000,
        trace_id: linked.then_some(trace_id),
        span_id: linked.then_some(root),
        request_id: linked.then(|| request_id.clone()),
        service: Some(service.as_str().into()),
        level: Some(if i == 2 {
            LogLevel::Warn
        } else {
            LogLevel::Info
        }),
        message: format!("request {n} line {i}"),
        attributes: vec![("line".to_owned(), i.to_string())],
        log_group: log_group.clone(),
        log_stream: if linked {
            log_stream.clone()
        } else {
            "2026/11/29/[$LATEST]no-invocation-here".into()
        },
        event_id: format!("{:056}", n * 10 + i),
        format: "tracelake".into(),
        link: linked.then_some(Link::TraceId),
    };
    Delivery {
        name: format!("seg-{n:08}"),
        spans: vec![
            span(root, None, "GET /items", 0),
            span(child, Some(root), "dynamodb.GetItem", 1_000),
        ],
        logs: vec![log(0, true), log(1, true), log(2, false)],
        invocations: vec![InvocationRow {
            request_id: request_id.clone(),
            function: service.clone(),
            function_version: Some("$LATEST".to_owned()),
            log_group: log_group.clone(),
            log_stream: log_stream.clone(),
            start_time_ns: Some(start),
            end_time_ns: start + 9_000_000,
            duration_ms: 9.0,
            billed_duration_ms: Some(10),
            memory_size_mb: Some(128),
            max_memory_used_mb: Some(64),
            init_duration_ms: n.is_multiple_of(13).then_some(120.5),
            cold_start: n.is_multiple_of(13),
            status: InvocationStatus::Success,
            trace_id: Some(trace_id),
            sampled: Some(true),
            ..InvocationRow::default()
        }],
    }
}

/// Requests `range` as one delivery each.
pub fn deliveries(range: std::ops::Range<u64>) -> Vec<Delivery> {
    range.map(request).collect()
}

/// Writes deliveries as the collector does: one segment each.
pub async fn ingest(store: &IndexStore, deliveries: &[Delivery]) {
    let writer = IndexWriter::new(store.clone());
    for delivery in deliveries {
        writer
            .write_rows(
                &delivery.name,
                delivery.spans.clone(),
                delivery.logs.clone(),
                delivery.invocations.clone(),
            )
            .await
            .expect("segment written");
    }
}

/// What readers must see: every row of the deliveries once, by natural key.
#[derive(Debug, PartialEq)]
pub struct Expected {
    pub spans: BTreeMap<(TraceId, SpanId), SpanRow>,
    pub logs: BTreeMap<(Arc<str>, Arc<str>, String), LogRow>,
    pub invocations: BTreeMap<String, InvocationRow>,
}

impl Expected {
    pub fn of(deliveries: &[Delivery]) -> Expected {
        Expected {
            spans: deliveries
                .iter()
                .flat_map(|d| d.spans.iter().cloned())
                .map(|r| (r.natural_key(), r))
                .collect(),
            logs: deliveries
                .iter()
                .flat_map(|d| d.logs.iter().cloned())
                .map(|r| (r.natural_key(), r))
                .collect(),
            invocations: deliveries
                .iter()
                .flat_map(|d| d.invocations.iter().cloned())
                .map(|r| (r.natural_key(), r))
                .collect(),
        }
    }

    /// The natural keys as text, in key order: spans (trace id, span id), logs
    /// (log group, log stream, event id) and invocations (request id), as an
    /// independent reader returns them.
    pub fn keys(&self) -> [Vec<Vec<String>>; 3] {
        [
            self.spans
                .keys()
                .map(|(t, s)| vec![t.to_string(), s.to_string()])
                .collect(),
            self.logs
                .keys()
                .map(|(g, s, e)| vec![g.to_string(), s.to_string(), e.clone()])
                .collect(),
            self.invocations.keys().map(|r| vec![r.clone()]).collect(),
        ]
    }
}

fn keyed<R: CompactRow>(rows: Vec<R>, table: &str) -> BTreeMap<R::Key, R> {
    let count = rows.len();
    let map: BTreeMap<R::Key, R> = rows.into_iter().map(|r| (r.natural_key(), r)).collect();
    assert_eq!(map.len(), count, "{table}: a reader sees duplicate rows");
    map
}

/// Checks with our reader (the live files) that the index holds exactly the
/// expected rows: none missing, none twice, none changed.
pub async fn assert_reads_exactly(store: &IndexStore, expected: &Expected, context: &str) {
    let spans = keyed(read_rows::<SpanRow>(store).await.expect("spans"), "spans");
    let logs = keyed(read_rows::<LogRow>(store).await.expect("logs"), "logs");
    let invocations = keyed(
        read_rows::<InvocationRow>(store)
            .await
            .expect("invocations"),
        "invocations",
    );
    assert_eq!(spans.len(), expected.spans.len(), "{context}: span count");
    assert_eq!(logs.len(), expected.logs.len(), "{context}: log count");
    assert_eq!(
        invocations.len(),
        expected.invocations.len(),
        "{context}: invocation count"
    );
    assert!(spans == expected.spans, "{context}: spans differ");
    assert!(logs == expected.logs, "{context}: logs differ");
    assert!(
        invocations == expected.invocations,
        "{context}: invocations differ"
    );
}

/// Checks with DuckDB, over the views `duckdb_views` prints, that a local
/// index holds exactly the expected keys once each.
pub async fn assert_duckdb_reads_exactly(store: &IndexStore, expected: &Expected, context: &str) {
    let views = tracelake_index::symlink::duckdb_views(store)
        .await
        .expect("views");
    let script = r#"
import duckdb, json, sys
con = duckdb.connect()
con.execute(sys.stdin.read())
def rows(sql):
    return [list(r) for r in con.execute(sql).fetchall()]
print(json.dumps({
    "spans": rows("SELECT trace_id, span_id FROM spans ORDER BY 1, 2"),
    "logs": rows("SELECT log_group, log_stream, event_id FROM logs ORDER BY 1, 2, 3"),
    "invocations": rows("SELECT request_id FROM invocations ORDER BY 1"),
}))
"#;
    let output = run_python(script, &views);
    let value: serde_json::Value = serde_json::from_str(&output).expect("duckdb json");
    let spans: Vec<Vec<String>> = serde_json::from_value(value["spans"].clone()).expect("spans");
    let logs: Vec<Vec<String>> = serde_json::from_value(value["logs"].clone()).expect("logs");
    let invocations: Vec<Vec<String>> =
        serde_json::from_value(value["invocations"].clone()).expect("invocations");
    let [want_spans, want_logs, want_invocations] = expected.keys();
    assert_eq!(spans, want_spans, "{context}: duckdb spans");
    assert_eq!(logs, want_logs, "{context}: duckdb logs");
    assert_eq!(
        invocations, want_invocations,
        "{context}: duckdb invocations"
    );
}

/// Runs a Python script with `stdin` as its input; fails loudly without DuckDB.
pub fn run_python(script: &str, stdin: &str) -> String {
    use std::io::Write as _;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with duckdb must be installed (pip install duckdb)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("python runs");
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// An in-memory store.
pub fn memory_store() -> IndexStore {
    IndexStore::from_object_store(
        Arc::new(object_store::memory::InMemory::new()),
        Default::default(),
    )
}

/// A local store in a fresh directory (kept alive by the returned guard).
pub fn local_store() -> (tempfile::TempDir, IndexStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = IndexStore::open(dir.path().to_str().expect("utf-8 path")).expect("local store");
    (dir, store)
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}
