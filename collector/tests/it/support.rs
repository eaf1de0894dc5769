//! Shared helpers: fixture paths, batches built from event texts, in-memory stores.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::memory::InMemory;
use object_store::path::Path;
use tracelake_collector::decode::{LogBatch, LogEvent};
use tracelake_collector::{Collector, IndexStore};

/// `shared/fixtures/cloudwatch` beside the repository (the nearest ancestor of
/// this crate that has one). Panics, failing the test loudly, when there is none.
pub fn fixture_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|dir| dir.join("shared/fixtures/cloudwatch"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "no shared/fixtures/cloudwatch beside any ancestor of {}",
                manifest.display()
            )
        })
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("fixture is utf-8")
}

/// The non-comment lines of a `.jsonl` or `.txt` fixture.
pub fn fixture_lines(name: &str) -> Vec<String> {
    fixture_text(name)
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The `message` of every line of a `.jsonl` fixture whose lines carry one.
pub fn fixture_messages(name: &str) -> Vec<String> {
    fixture_lines(name)
        .iter()
        .map(|line| {
            let value: serde_json::Value =
                serde_json::from_str(line).expect("fixture line is json");
            value["message"]
                .as_str()
                .expect("fixture line has a message")
                .to_owned()
        })
        .collect()
}

/// A batch of one stream holding `messages` in order, one millisecond apart.
pub fn batch_of(log_group: &str, log_stream: &str, messages: &[String]) -> LogBatch {
    batch_at(log_group, log_stream, messages, 1_764_378_000_000)
}

/// A batch whose CloudWatch times start at `first_ms`, one millisecond apart: for
/// lines whose own times must be near their CloudWatch times to be believed, as
/// they are in real deliveries.
pub fn batch_at(log_group: &str, log_stream: &str, messages: &[String], first_ms: i64) -> LogBatch {
    LogBatch {
        owner: "123456789012".into(),
        log_group: log_group.into(),
        log_stream: log_stream.into(),
        events: messages
            .iter()
            .enumerate()
            .map(|(i, message)| LogEvent {
                id: format!("{}", 37_000_000_000_000_000u64 + i as u64),
                timestamp_ms: first_ms + i as i64,
                message: message.clone(),
            })
            .collect(),
        ..LogBatch::default()
    }
}

/// The DATA_MESSAGE JSON of a batch, as CloudWatch writes it.
pub fn data_message_json(batch: &LogBatch) -> Vec<u8> {
    let events: Vec<serde_json::Value> = batch
        .events
        .iter()
        .map(|e| serde_json::json!({"id": e.id, "timestamp": e.timestamp_ms, "message": e.message}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "owner": batch.owner,
        "logGroup": batch.log_group,
        "logStream": batch.log_stream,
        "subscriptionFilters": ["tracelake"],
        "logEvents": events,
    }))
    .expect("json")
}

pub fn memory_collector() -> Collector {
    Collector::new(IndexStore::from_object_store(
        Arc::new(InMemory::new()),
        Path::from("index"),
    ))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Every quarantine record in the store, parsed.
pub fn quarantine_records(collector: &Collector) -> Vec<serde_json::Value> {
    let store = collector.store();
    runtime().block_on(async {
        let mut records = Vec::new();
        for object in store.list("v1/quarantine").await.expect("list") {
            let bytes = store
                .get(&store.relative(&object.location))
                .await
                .expect("get");
            records.push(serde_json::from_slice(&bytes).expect("quarantine record is json"));
        }
        records
    })
}

/// Set in a test binary run as a child by [`run_in_child`].
pub const CHILD_ENV: &str = "TRACELAKE_TEST_CHILD";

/// Runs the test `name` (its path in this binary, e.g. `it::s3::x`) again in a
/// child process whose environment holds only `PATH`, [`CHILD_ENV`] and
/// `env`: a test of what the process environment does, without changing this
/// process's (which other tests share). The test checks [`CHILD_ENV`] to know
/// which side it runs on. Returns the child's output.
pub fn run_in_child(name: &str, env: &[(&str, String)]) -> std::process::Output {
    let exe = std::env::current_exe().expect("the test binary");
    let mut command = std::process::Command::new(exe);
    command
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env_clear()
        .env(CHILD_ENV, "1");
    // `env` may give CHILD_ENV a value for the child to read.
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("running 1 test"),
        "the child did not run the test {name}: {stdout}"
    );
    output
}

/// A small simulated run (seed 5: 60 services at 10 requests per second for
/// half a minute), quick in a debug build: the one the runtime tests check
/// and the fuzz harnesses mutate.
pub fn small_simulation() -> tracelake_simulator::Simulation {
    let config = tracelake_simulator::SimulationConfig {
        seed: 5,
        services: 60,
        minutes: 0.5,
        rate: 10.0,
        ..tracelake_simulator::SimulationConfig::default()
    };
    tracelake_simulator::simulate(&config, &mut |_, _, _| {}).expect("the simulation runs")
}

/// A span line whose payload does not decode: the event is quarantined as an
/// "unreadable span line" and the rest of its batch is indexed.
pub const UNREADABLE_SPAN_LINE: &str = r#"{"__otel_otlp_stdout":"0.1.0","content-type":"application/x-protobuf","content-encoding":"gzip","payload":"aGVsbG8=","base64":true}"#;

/// The Parquet files of the index and its quarantine records, counted by
/// `index_stats`: (segment files, quarantine records).
pub fn segment_files_and_quarantine_records(collector: &Collector) -> (u64, u64) {
    let stats = runtime()
        .block_on(tracelake_collector::index::stats::index_stats(
            collector.store(),
        ))
        .expect("stats");
    let files = |quarantine: bool| -> u64 {
        stats
            .iter()
            .filter(|partition| (partition.table == "quarantine") == quarantine)
            .map(|partition| partition.files)
            .sum()
    };
    (files(false), files(true))
}
