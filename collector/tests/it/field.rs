//! Every case of `../shared/fixtures/field/` (inputs rebuilt from public bug
//! reports), with the expected values written from that directory's README, not
//! from what the parser produces.

use tracelake_collector::correlate::CorrelatedBatch;
use tracelake_collector::decode::{DecodeLimits, LogBatch, Payload, decode_input};
use tracelake_collector::index::rows::{InvocationRow, LogRow};
use tracelake_collector::pipeline::parse_and_correlate as correlate;

use super::support::*;

fn field_fixture(name: &str) -> Vec<u8> {
    let dir = fixture_dir().parent().expect("fixtures dir").join("field");
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The DATA_MESSAGE batches of a field case; anything else fails the test.
fn batches(name: &str) -> Vec<LogBatch> {
    decode_input(&field_fixture(name), &DecodeLimits::default())
        .into_iter()
        .map(|payload| match payload {
            Ok(Payload::Data(batch)) => batch,
            other => panic!("{name}: expected DATA_MESSAGE payloads, got {other:?}"),
        })
        .collect()
}

fn correlated(name: &str) -> CorrelatedBatch {
    let mut all = batches(name);
    assert_eq!(all.len(), 1, "{name}: one payload");
    let batch = all.remove(0);
    assert!(batch.rejected.is_empty(), "{name}: {:?}", batch.rejected);
    correlate(batch, &DecodeLimits::default())
}

fn log_with<'a>(rows: &'a [LogRow], needle: &str) -> &'a LogRow {
    rows.iter()
        .find(|r| r.message.contains(needle))
        .unwrap_or_else(|| panic!("no log containing {needle:?} in {rows:#?}"))
}

fn invocation<'a>(rows: &'a [InvocationRow], request_id: &str) -> &'a InvocationRow {
    rows.iter()
        .find(|r| r.request_id == request_id)
        .unwrap_or_else(|| panic!("no invocation {request_id}"))
}

fn trace_and_link(row: &LogRow) -> (Option<String>, Option<&str>) {
    (
        row.trace_id.map(|id| id.to_string()),
        row.link.map(|link| link.as_str()),
    )
}

/// 2026-11-29T10:00:00Z in ms: every case's times are around 10:00 UTC that day.
const TEN_O_CLOCK_MS: i64 = 1_795_946_400_000;

#[test]
fn field01_firehose_object_with_back_to_back_payloads() {
    let all = batches("01_firehose_s3_concatenated_payloads.gz");
    assert_eq!(
        all.len(),
        3,
        "three DATA_MESSAGE documents in two gzip members"
    );
    let outs: Vec<CorrelatedBatch> = all
        .into_iter()
        .map(|batch| correlate(batch, &DecodeLimits::default()))
        .collect();
    assert_eq!(outs.iter().map(|o| o.logs.len()).sum::<usize>(), 12);
    assert_eq!(outs.iter().map(|o| o.invocations.len()).sum::<usize>(), 3);
    assert!(outs.iter().all(|o| o.quarantined.is_empty()));

    let cart = log_with(&outs[0].logs, "loaded cart 7");
    assert_eq!(
        cart.request_id.as_deref(),
        Some("a02bff2f-31bf-46af-a8b5-8ab4d47a9a78")
    );
    assert_eq!(
        trace_and_link(cart),
        (
            Some("6b0bf7a02d017e07fc10d0f9061bfd71".to_owned()),
            Some("request_id")
        )
    );
    let cache = log_with(&outs[1].logs, "cache warm, 12 keys");
    assert_eq!(
        trace_and_link(cache),
        (
            Some("6b0bf7a005da2c888018a460eaf5d6e7".to_owned()),
            Some("stream")
        )
    );
    let untraced = log_with(&outs[2].logs, "no trace on this one");
    assert_eq!(
        untraced.request_id.as_deref(),
        Some("87a152f4-60ca-46fe-bd3d-b70b0d99ed20")
    );
    assert_eq!(trace_and_link(untraced), (None, None));

    // Through the whole pipeline: nothing quarantined, every event counted.
    let collector = memory_collector();
    let counters = runtime()
        .block_on(collector.ingest(
            &field_fixture("01_firehose_s3_concatenated_payloads.gz"),
            "01",
        ))
        .expect("ingest");
    assert_eq!(counters.payloads, 3);
    assert_eq!(counters.events_in, 12);
    assert_eq!(counters.events_indexed, 12);
    assert_eq!(
        counters.events_quarantined + counters.payloads_quarantined,
        0
    );
    assert_eq!(counters.log_rows, 12);
    assert_eq!(counters.invocation_rows, 3);
}

#[test]
fn field02_node_init_error_with_request_id_undefined() {
    let out = correlated("02_node_init_error_undefined_request_id.json");
    assert_eq!(out.logs.len(), 14);
    assert_eq!(out.invocations.len(), 2);
    let r1 = invocation(&out.invocations, "ebd3dbc5-c771-43d8-9c26-9302612165a0");
    assert_eq!(r1.status.as_str(), "error");
    assert_eq!(r1.error_type.as_deref(), Some("Runtime.ImportModuleError"));
    let r2 = invocation(&out.invocations, "e8c3a785-b7e5-47fc-b199-6b80e05f39ee");
    assert_eq!(r2.status.as_str(), "success");
    assert!(r2.cold_start);
    assert_eq!(r2.init_duration_ms, Some(195.22));

    let undefined: Vec<&LogRow> = out
        .logs
        .iter()
        .filter(|r| r.message.contains("Uncaught Exception"))
        .collect();
    assert_eq!(undefined.len(), 2);
    for row in &undefined {
        assert_eq!(row.request_id, None, "`undefined` is not a request id");
        assert_eq!(row.level.map(|level| level.as_str()), Some("ERROR"));
        assert!(!row.message.contains("undefined\t"));
    }
    // Before START: unlinked. Inside R1: R1's trace, by position.
    assert_eq!(trace_and_link(undefined[0]), (None, None));
    assert_eq!(
        trace_and_link(undefined[1]),
        (
            Some("6b0bf7a0b7f607ff42227d70933b5e0f".to_owned()),
            Some("stream")
        )
    );
    let init_in_r1 = log_with(&out.logs, "Phase: invoke");
    assert_eq!(
        trace_and_link(init_in_r1),
        (
            Some("6b0bf7a0b7f607ff42227d70933b5e0f".to_owned()),
            Some("stream")
        )
    );
    let pool = log_with(&out.logs, "db pool ready in 27 ms");
    assert_eq!(
        trace_and_link(pool),
        (
            Some("6b0bf7a03e7c8e40712b596ba931fe97".to_owned()),
            Some("stream")
        )
    );
}

#[test]
fn field03_python_unhandled_exception_in_text_format() {
    let batch = batches("03_python_uncaught_exception_text.json").remove(0);
    let traceback_event = batch
        .events
        .iter()
        .find(|e| e.message.starts_with("[ERROR] KeyError"))
        .expect("traceback event")
        .message
        .clone();
    let out = correlate(batch, &DecodeLimits::default());
    assert_eq!(out.logs.len(), 6);
    let crash = log_with(&out.logs, "[ERROR] KeyError: 'S'");
    assert_eq!(crash.level.map(|level| level.as_str()), Some("ERROR"));
    assert_eq!(crash.message, traceback_event.trim_end_matches('\n'));
    assert!(
        crash
            .message
            .contains("\nTraceback (most recent call last):\n")
    );
    assert_eq!(
        crash.trace_id.map(|id| id.to_string()).as_deref(),
        Some("6b0bf7a04139d1032089583ea665d5a9")
    );
    assert!(matches!(
        crash.link.map(|link| link.as_str()),
        Some("stream" | "request_id")
    ));
    let warning = log_with(&out.logs, "LAMBDA_WARNING");
    assert_eq!(warning.level.map(|level| level.as_str()), Some("WARN"));
    assert_eq!(warning.link.map(|link| link.as_str()), Some("request_id"));
    // The REPORT names no status: the runtime's crash event is the handler's
    // error (awslambdaric's `log_error`), and names its type.
    let invoked = invocation(&out.invocations, "576cf243-b16c-49c9-b4c5-488f647cb369");
    assert_eq!(invoked.status.to_string(), "error");
    assert_eq!(invoked.error_type.as_deref(), Some("KeyError"));
}

#[test]
fn field04_python_crash_record_keyed_log_level() {
    let out = correlated("04_python_uncaught_exception_json_log_level.json");
    assert_eq!(out.logs.len(), 3);
    let crash = out
        .logs
        .iter()
        .find(|r| r.message.contains("KeyError"))
        .expect("crash row");
    assert_eq!(crash.level.map(|level| level.as_str()), Some("ERROR"));
    assert_eq!(
        crash.request_id.as_deref(),
        Some("0bfd1d7a-8a54-4f33-8628-4b67d110ed94")
    );
    assert_eq!(
        trace_and_link(crash),
        (
            Some("6b0bf7a04f91386e1b2e58846831ce2d".to_owned()),
            Some("request_id")
        )
    );
    assert!(crash.message.contains("'S'"));
    assert!(
        crash
            .attributes
            .iter()
            .any(|(key, value)| key == "stackTrace" && value.contains("line 35, in handler")),
        "the stack trace is kept: {:?}",
        crash.attributes
    );
    // The whole-second `timestamp` must not put app lines before their START.
    let start = log_with(&out.logs, "platform.start");
    assert!(
        out.logs
            .iter()
            .all(|r| r.timestamp_ns >= start.timestamp_ns)
    );
}

#[test]
fn field05_dotnet_levels_trce_to_crit() {
    let out = correlated("05_dotnet_runtime_levels_fail_crit.json");
    assert_eq!(out.logs.len(), 9);
    let app: Vec<&LogRow> = out
        .logs
        .iter()
        .filter(|r| r.format == "dotnet_text")
        .collect();
    assert_eq!(app.len(), 6);
    let levels: Vec<Option<&str>> = app
        .iter()
        .map(|r| r.level.map(|level| level.as_str()))
        .collect();
    assert_eq!(
        levels,
        ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].map(Some)
    );
    let minute = TEN_O_CLOCK_MS + 4_000;
    for (index, row) in app.iter().enumerate() {
        assert_eq!(
            row.request_id.as_deref(),
            Some("25f50c18-9cfc-40db-ab68-8da3c1ea0e94")
        );
        // 2026-11-29T10:00:04.001Z … .006Z, from the lines.
        assert_eq!(row.timestamp_ns, (minute + 1 + index as i64) * 1_000_000);
        assert_eq!(
            trace_and_link(row),
            (
                Some("6b0bf7a0c65c9908416851b646130ded".to_owned()),
                Some("request_id")
            )
        );
        assert!(!row.message.contains("25f50c18"), "{}", row.message);
    }
    assert_eq!(app[0].message, "entering handler");
    assert_eq!(
        app[4].message,
        "charging invoice 42 failed\nSystem.InvalidOperationException: card declined\n   at Billing.Handler.Charge(Invoice invoice) in /src/Billing/Handler.cs:line 42"
    );
}

#[test]
fn field07_pino_lines_name_their_own_otel_trace() {
    let out = correlated("07_pino_otel_trace_id_fields.json");
    let priced = log_with(&out.logs, "cart 7 priced");
    let coupon = log_with(&out.logs, "coupon service 503");
    for (row, level, time_ms) in [
        (priced, "INFO", 1_795_946_406_003_i64),
        (coupon, "ERROR", 1_795_946_406_004),
    ] {
        assert_eq!(
            trace_and_link(row),
            (
                Some("8ed12a364f9bfedd4a7edc321dcaaef9".to_owned()),
                Some("trace_id")
            )
        );
        assert_eq!(
            row.span_id.map(|id| id.to_string()).as_deref(),
            Some("e3bb6f3d57a91383")
        );
        assert_eq!(row.level.map(|level| level.as_str()), Some(level));
        assert_eq!(row.timestamp_ns, time_ms * 1_000_000);
    }
    let node = log_with(&out.logs, "handler done");
    assert_eq!(
        trace_and_link(node),
        (
            Some("6b0bf7a0503cb28b229aad3dc049e1c0".to_owned()),
            Some("request_id")
        )
    );
    let report = invocation(&out.invocations, "6064f7c1-f508-43ea-95ad-cd27df4c9b1b");
    assert_eq!(
        report.trace_id.map(|id| id.to_string()).as_deref(),
        Some("6b0bf7a0503cb28b229aad3dc049e1c0")
    );
}

#[test]
fn field08_epoch_times_in_every_unit() {
    let out = correlated("08_epoch_timestamp_units.json");
    let written_at_ns = (TEN_O_CLOCK_MS + 7_000) * 1_000_000;
    for row in &out.logs {
        assert!(
            row.timestamp_ns.abs_diff(written_at_ns) <= 1_000_000_000,
            "{} at {}",
            row.message,
            row.timestamp_ns
        );
        assert_eq!(
            row.trace_id.map(|id| id.to_string()).as_deref(),
            Some("6b0bf7a09d4bc0c156e8bed2a0294d8f")
        );
    }
    for unit in [
        "unix seconds",
        "unix milliseconds",
        "unix microseconds",
        "unix nanoseconds",
        "float seconds",
    ] {
        assert_eq!(
            log_with(&out.logs, unit).link.map(|link| link.as_str()),
            Some("stream"),
            "{unit}"
        );
    }

    let collector = memory_collector();
    runtime()
        .block_on(collector.ingest(&field_fixture("08_epoch_timestamp_units.json"), "08"))
        .expect("ingest");
    let files = runtime()
        .block_on(collector.store().list("v1/logs"))
        .expect("list");
    assert!(!files.is_empty());
    for file in files {
        assert!(
            file.location.as_ref().contains("dt=2026-11-29/hour=10/"),
            "{}",
            file.location
        );
    }
}

#[test]
fn field10_xray_header_with_lineage_and_no_parent() {
    let out = correlated("10_xray_header_lineage_without_parent.json");
    assert!(out.quarantined.is_empty());
    assert_eq!(out.invocations.len(), 2);
    let r1 = invocation(&out.invocations, "e6401b83-19b9-4d2c-bff0-b19106116d4f");
    assert_eq!(
        r1.trace_id.map(|id| id.to_string()).as_deref(),
        Some("6b0bf7a0cc3e87d862a551d69633be67")
    );
    assert_eq!(r1.sampled, None);
    let r2 = invocation(&out.invocations, "fb374f79-3a53-4098-9bc4-19ad52c665d2");
    assert_eq!(
        r2.trace_id.map(|id| id.to_string()).as_deref(),
        Some("6b0bf7a05f7e47f2a1167eeece6a4714")
    );
    assert_eq!(r2.sampled, Some(false));
    assert_eq!(
        trace_and_link(log_with(&out.logs, "listing 20 products")),
        (
            Some("6b0bf7a0cc3e87d862a551d69633be67".to_owned()),
            Some("request_id")
        )
    );
    assert_eq!(
        trace_and_link(log_with(&out.logs, "listing 3 products")),
        (
            Some("6b0bf7a05f7e47f2a1167eeece6a4714".to_owned()),
            Some("request_id")
        )
    );
}

#[test]
fn field11_an_event_between_256_kb_and_1_mb_is_indexed_whole() {
    let batch = batches("11_event_between_256kb_and_1mb.gz").remove(0);
    let big_event = batch
        .events
        .iter()
        .find(|e| e.message.len() > 256 * 1024)
        .expect("the big event")
        .message
        .clone();
    assert_eq!(big_event.len(), 614_468, "the README's size");
    let collector = memory_collector();
    let counters = runtime()
        .block_on(collector.ingest(&field_fixture("11_event_between_256kb_and_1mb.gz"), "11"))
        .expect("ingest");
    assert_eq!(counters.events_in, 3);
    assert_eq!(counters.events_indexed, 3);
    assert_eq!(counters.events_quarantined, 0);
    assert_eq!(counters.log_rows, 3);
    assert!(quarantine_records(&collector).is_empty());
    let out = correlate(batch, &DecodeLimits::default());
    let big = log_with(&out.logs, "rendered invoice payload");
    // The whole event; only the line's terminating newline is not part of a row's message.
    assert_eq!(format!("{}\n", big.message), big_event);
    assert_eq!(big.level.map(|level| level.as_str()), Some("INFO"));
}

#[test]
fn field12_span_lines_of_a_64_bit_and_an_unpadded_trace() {
    let out = correlated("12_jaeger_short_and_unpadded_trace_ids.json");
    assert_eq!(out.spans.len(), 2);
    let ids: Vec<String> = out.spans.iter().map(|s| s.trace_id.to_string()).collect();
    assert_eq!(
        ids,
        [
            "0000000000000000a7890b687652000e",
            "0ac9e59c5cd0b169a71419360b31161b"
        ]
    );
    assert_eq!(
        out.spans[0].request_id.as_deref(),
        Some("73021815-ff28-430e-862c-2727baf41c80")
    );
    assert!(out.spans.iter().all(|s| s.service == "legacy-gateway"));
}

#[test]
fn every_field_case_is_covered_by_a_test_here() {
    let source = include_str!("field.rs");
    let dir = fixture_dir().parent().expect("fixtures dir").join("field");
    for entry in std::fs::read_dir(&dir).expect("field fixtures") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        if name == "README.md" {
            continue;
        }
        let case = &name[..2];
        assert!(
            source.contains(&format!("fn field{case}_")),
            "field case {name} has no test"
        );
    }
}
