//! Links across hours after compaction: an already-compacted hour is relinked
//! when the next hour brings its trace evidence later (docs/index.md, "Links
//! across hours").

use tracelake_index::compact::{
    CompactOptions, CompactionOutcome, compact_hour, compact_hours, hours_needing_compaction,
};
use tracelake_index::manifest::latest_manifest;
use tracelake_index::read::read_rows;
use tracelake_index::rows::{InvocationRow, InvocationStatus, Link, LogRow, TraceId};
use tracelake_index::schema::HourPartition;

use super::support::*;

const REQUEST: &str = "8f5b2e31-4c1d-4a7e-9b0f-2d6c8e1a3f57";
const XRAY_TRACE: &str = "1-6749a1b3-cc1229a4dfbeae1043928548";
const GROUP: &str = "/aws/lambda/checkout";
const STREAM: &str = "2026/11/29/[$LATEST]0f3c5a7e9b1d4f6a8c2e0b4d6f8a1c3e";

/// The trace the REPORT line names, read from the X-Ray id's hex digits.
fn xray_trace() -> TraceId {
    let hex: String = XRAY_TRACE.split('-').skip(1).collect();
    TraceId(u128::from_str_radix(&hex, 16).expect("hex trace id"))
}

fn line(at_ns: i64, position: u64, format: &'static str, message: String, request: bool) -> LogRow {
    LogRow {
        timestamp_ns: at_ns,
        request_id: request.then(|| REQUEST.to_owned()),
        message,
        log_group: GROUP.into(),
        log_stream: STREAM.into(),
        // CloudWatch event ids: 56 digits, ascending along the stream.
        event_id: format!("{:056}", 38_000_000_000 + position),
        format: format.into(),
        ..LogRow::default()
    }
}

/// e1 at 06:59:59.9: the `START` and a plain line of the request. e2 at
/// 07:00:00.05: another line, `END`, and the `REPORT` naming the X-Ray trace.
fn deliveries() -> (Delivery, Delivery) {
    let six = HourPartition::parse("2026-11-29T06").expect("hour");
    let seven = HourPartition::parse("2026-11-29T07").expect("hour");
    let e1_at = six.start_nanos() + 3_599_900_000_000;
    let e2_at = seven.start_nanos() + 50_000_000;
    let e1 = Delivery {
        name: "e1".to_owned(),
        logs: vec![
            line(
                e1_at,
                1,
                "lambda_platform_text",
                format!("START RequestId: {REQUEST} Version: $LATEST"),
                true,
            ),
            line(
                e1_at + 1_000_000,
                2,
                "plain",
                "charging card".to_owned(),
                false,
            ),
        ],
        ..Delivery::default()
    };
    let e2 = Delivery {
        name: "e2".to_owned(),
        logs: vec![
            line(e2_at, 3, "plain", "card charged".to_owned(), false),
            line(
                e2_at + 1_000_000,
                4,
                "lambda_platform_text",
                format!("END RequestId: {REQUEST}"),
                true,
            ),
            line(
                e2_at + 2_000_000,
                5,
                "lambda_platform_text",
                format!(
                    "REPORT RequestId: {REQUEST}\tDuration: 151.20 ms\tBilled Duration: 152 ms\t\
                     Memory Size: 128 MB\tMax Memory Used: 64 MB\t\n\
                     XRAY TraceId: {XRAY_TRACE}\tSegmentId: 1a2b3c4d5e6f7a8b\tSampled: true"
                ),
                true,
            ),
        ],
        invocations: vec![InvocationRow {
            request_id: REQUEST.to_owned(),
            function: "checkout".to_owned(),
            log_group: GROUP.into(),
            log_stream: STREAM.into(),
            start_time_ns: None,
            end_time_ns: e2_at + 2_000_000,
            duration_ms: 151.2,
            billed_duration_ms: Some(152),
            memory_size_mb: Some(128),
            max_memory_used_mb: Some(64),
            status: InvocationStatus::Success,
            trace_id: Some(xray_trace()),
            sampled: Some(true),
            ..InvocationRow::default()
        }],
        ..Delivery::default()
    };
    (e1, e2)
}

/// What `tracelake ingest` does per delivery: write it, compact the hours it left uncovered.
async fn ingest_and_compact(store: &tracelake_index::IndexStore, delivery: Delivery) {
    ingest(store, &[delivery]).await;
    let hours = hours_needing_compaction(store).await.expect("hours");
    compact_hours(store, &hours, &CompactOptions::default())
        .await
        .expect("compacts");
}

async fn generation(store: &tracelake_index::IndexStore, hour: &str) -> u64 {
    let hour = HourPartition::parse(hour).expect("hour");
    latest_manifest(store, &hour)
        .await
        .expect("manifest")
        .expect("compacted")
        .generation
}

#[test]
fn a_compacted_hour_is_relinked_when_the_next_hour_brings_its_trace() {
    let rt = runtime();
    rt.block_on(async {
        let (_dir, store) = local_store();
        let (e1, e2) = deliveries();
        let start_at = e1.logs[0].timestamp_ns;
        let e1_events: Vec<String> = e1.logs.iter().map(|l| l.event_id.clone()).collect();

        ingest_and_compact(&store, e1).await;
        let logs: Vec<LogRow> = read_rows(&store).await.expect("logs");
        assert!(
            logs.iter().all(|l| l.trace_id.is_none()),
            "hour 06 alone names no trace: {logs:?}"
        );
        assert_eq!(generation(&store, "2026-11-29T06").await, 1);

        ingest_and_compact(&store, e2).await;
        let trace = xray_trace();
        let logs: Vec<LogRow> = read_rows(&store).await.expect("logs");
        assert_eq!(logs.len(), 5, "every line once: {logs:?}");
        for log in &logs {
            assert_eq!(
                log.trace_id,
                Some(trace),
                "line {:?} ({}) is linked to the REPORT's trace",
                log.message,
                log.event_id
            );
        }
        let early: Vec<&LogRow> = logs
            .iter()
            .filter(|l| e1_events.contains(&l.event_id))
            .collect();
        assert_eq!(early.len(), 2);
        let start = early
            .iter()
            .find(|l| l.message.starts_with("START"))
            .expect("START");
        assert_eq!(start.link, Some(Link::RequestId));
        let plain = early
            .iter()
            .find(|l| l.message == "charging card")
            .expect("line");
        assert_eq!(plain.link, Some(Link::Stream));
        let invocations: Vec<InvocationRow> = read_rows(&store).await.expect("invocations");
        assert_eq!(invocations.len(), 1);
        assert_eq!(invocations[0].trace_id, Some(trace));
        assert_eq!(invocations[0].start_time_ns, Some(start_at));
        assert_eq!(
            generation(&store, "2026-11-29T06").await,
            2,
            "hour 06 relinked"
        );
        assert_eq!(generation(&store, "2026-11-29T07").await, 1);

        // Converged: another run over both hours commits nothing.
        assert!(
            hours_needing_compaction(&store)
                .await
                .expect("hours")
                .is_empty()
        );
        for hour in ["2026-11-29T06", "2026-11-29T07"] {
            let report = compact_hour(
                &store,
                &HourPartition::parse(hour).expect("hour"),
                &CompactOptions::default(),
            )
            .await
            .expect("compacts");
            assert_eq!(report.outcome, CompactionOutcome::UpToDate, "{hour}");
            assert!(report.relinked.is_empty(), "{hour}");
        }
        assert_eq!(generation(&store, "2026-11-29T06").await, 2);
        assert_eq!(generation(&store, "2026-11-29T07").await, 1);
    });
}
