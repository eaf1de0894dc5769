//! The measured passes: the floor (decode and JSON parse only), the Lambda
//! entry point and the `tracelake ingest` batcher.

use base64::Engine as _;
use tracelake_collector::sources::files::{FileBatchLimits, FileBatcher};
use tracelake_collector::{Collector, IngestCounters};

pub(crate) fn floor(payloads: &[Vec<u8>]) -> u64 {
    let mut events = 0u64;
    for payload in payloads {
        let wrapper: serde_json::Value = serde_json::from_slice(payload).expect("json");
        let data = wrapper["awslogs"]["data"].as_str().expect("data");
        let gzip = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64");
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzip[..]), &mut json)
            .expect("gunzip");
        let value: serde_json::Value = serde_json::from_slice(&json).expect("json");
        events += value["logEvents"].as_array().map_or(0, |a| a.len() as u64);
    }
    events
}

pub(crate) fn ingest_all(collector: &Collector, payloads: &[Vec<u8>]) -> IngestCounters {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut total = IngestCounters::default();
    for payload in payloads {
        total += runtime
            .block_on(collector.ingest(payload, "bench"))
            .expect("ingest");
    }
    total
}

/// The `tracelake ingest` path: `FileBatcher::add_files` over windows of
/// 1,024 files (decoded on all cores, as the CLI reads a directory).
pub(crate) fn batch_files(
    runtime: &tokio::runtime::Runtime,
    collector: &Collector,
    payloads: &[Vec<u8>],
    prefix: &str,
) -> (IngestCounters, u64) {
    runtime.block_on(async {
        let mut batcher = FileBatcher::new(collector, FileBatchLimits::default());
        let files: Vec<(String, &[u8])> = payloads
            .iter()
            .enumerate()
            .map(|(number, payload)| (format!("{prefix}-{number}"), payload.as_slice()))
            .collect();
        for window in files.chunks(1024) {
            batcher.add_files(window).await.expect("ingest");
        }
        batcher.finish().await.expect("ingest")
    })
}

/// The decompressed `DATA_MESSAGE` JSON bytes of Lambda subscription events.
pub(crate) fn json_bytes_of(payloads: &[Vec<u8>]) -> usize {
    let mut bytes = 0;
    for payload in payloads {
        let wrapper: serde_json::Value = serde_json::from_slice(payload).expect("json");
        let data = wrapper["awslogs"]["data"].as_str().expect("data");
        let gzip = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64");
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzip[..]), &mut json)
            .expect("gunzip");
        bytes += json.len();
    }
    bytes
}
