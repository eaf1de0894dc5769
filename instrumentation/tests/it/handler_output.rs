//! What a handler run through a telemetry writes.

use std::time::{Duration, UNIX_EPOCH};

use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use tracelake_instrumentation::{
    Clock, InitializationType, Invocation, LineBuffer, ManualClock, Output, SpanFormat, Telemetry,
    TelemetryConfig, Trigger,
};

use super::support::{attributes, hex, read};

const XRAY: &str =
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:0";

fn config() -> TelemetryConfig {
    TelemetryConfig::new("checkout")
        .with_function("checkout-prod", "7")
        .with_log_stream("2026/11/29/[7]0123456789abcdef")
        .with_region("eu-west-1")
        .with_memory_mb(256)
}

fn telemetry(config: TelemetryConfig) -> (Telemetry, LineBuffer) {
    let buffer = LineBuffer::new();
    let telemetry = Telemetry::new(config, Output::buffer(&buffer)).expect("telemetry");
    (telemetry, buffer)
}

fn handler() -> Result<u32, String> {
    tracing::info!(order = 42, "received order");
    let _load = tracing::info_span!("load cart", cart.items = 3).entered();
    tracing::warn!(latency_ms = 12.5, "slow cart store");
    Ok(7)
}

#[test]
fn a_wrapped_handler_writes_valid_spans_and_linked_log_lines() {
    let (telemetry, buffer) = telemetry(config());
    let invocation = Invocation::new("req-1")
        .with_xray_header(XRAY)
        .with_invoked_arn("arn:aws:lambda:eu-west-1:123456789012:function:checkout-prod")
        .with_trigger(Trigger::Http)
        .with_span_name("POST /orders");
    assert_eq!(telemetry.in_invocation(&invocation, handler), Ok(7));

    let written = read(&buffer.take_lines());
    assert_eq!(written.logs.len(), 2);
    assert_eq!(written.spans.len(), 2);
    let root = written.span_named("POST /orders");
    let child = written.span_named("load cart");

    // The invocation continues the X-Ray trace, under the X-Ray segment.
    assert_eq!(hex(&root.trace_id), "5759e988bd862e3fe1be46a994272793");
    assert_eq!(hex(&root.parent_span_id), "53995c3f42cd8ad8");
    assert_eq!(root.kind, SpanKind::Server as i32);
    assert_eq!(child.trace_id, root.trace_id);
    assert_eq!(child.parent_span_id, root.span_id);
    assert_eq!(child.kind, SpanKind::Internal as i32);

    let root_attributes = attributes(root);
    assert_eq!(root_attributes["faas.trigger"], "http");
    assert_eq!(root_attributes["faas.invocation_id"], "req-1");
    assert_eq!(root_attributes["faas.coldstart"], "true");
    assert_eq!(root_attributes["cloud.account.id"], "123456789012");
    assert_eq!(
        root_attributes["aws.lambda.invoked_arn"],
        "arn:aws:lambda:eu-west-1:123456789012:function:checkout-prod"
    );
    assert_eq!(attributes(child)["cart.items"], "3");

    let resource = &written.resource[0];
    assert_eq!(resource["service.name"], "checkout");
    assert_eq!(resource["faas.name"], "checkout-prod");
    assert_eq!(resource["faas.version"], "7");
    assert_eq!(resource["faas.instance"], "2026/11/29/[7]0123456789abcdef");
    assert_eq!(
        resource["faas.max_memory"],
        (256u64 * 1024 * 1024).to_string()
    );
    assert_eq!(resource["cloud.provider"], "aws");
    assert_eq!(resource["cloud.region"], "eu-west-1");

    // Each log line names the span it was written in.
    let first = &written.logs[0];
    assert_eq!(first["message"], "received order");
    assert_eq!(first["level"], "INFO");
    assert_eq!(first["order"], 42);
    assert_eq!(first["span_id"], hex(&root.span_id));
    assert_eq!(first["trace_id"], "5759e988bd862e3fe1be46a994272793");
    assert_eq!(
        first["xray_trace_id"],
        "1-5759e988-bd862e3fe1be46a994272793"
    );
    assert_eq!(first["request_id"], "req-1");
    assert_eq!(first["function_request_id"], "req-1");
    assert_eq!(first["service"], "checkout");
    let second = &written.logs[1];
    assert_eq!(second["level"], "WARN");
    assert_eq!(second["span_id"], hex(&child.span_id));
    assert_eq!(second["latency_ms"], 12.5);
    assert_eq!(second["request_id"], "req-1");
}

#[test]
fn cold_start_is_set_on_the_first_on_demand_invocation_only() {
    let (telemetry, buffer) = telemetry(config());
    for request in ["a", "b", "c"] {
        let _ = telemetry.in_invocation(&Invocation::new(request), handler);
    }
    let written = read(&buffer.take_lines());
    let flags: Vec<String> = written
        .spans
        .iter()
        .filter(|span| span.kind == SpanKind::Server as i32)
        .map(|span| attributes(span)["faas.coldstart"].clone())
        .collect();
    assert_eq!(flags, vec!["true", "false", "false"]);

    // Provisioned concurrency: init was off any request's path. SnapStart:
    // the restore is on the first request's path.
    for (init, expected) in [
        (
            InitializationType::ProvisionedConcurrency,
            ["false", "false"],
        ),
        (InitializationType::SnapStart, ["true", "false"]),
        (InitializationType::Other, ["false", "false"]),
    ] {
        let (telemetry, buffer) = self::telemetry(config().with_initialization_type(init));
        for request in ["a", "b"] {
            let _ = telemetry.in_invocation(&Invocation::new(request), handler);
        }
        let written = read(&buffer.take_lines());
        let flags: Vec<String> = written
            .spans
            .iter()
            .filter(|span| span.kind == SpanKind::Server as i32)
            .map(|span| attributes(span)["faas.coldstart"].clone())
            .collect();
        assert_eq!(flags, expected, "{init:?}");
    }
}

#[test]
fn errors_and_panics_are_recorded_and_no_span_is_lost() {
    let (telemetry, buffer) = telemetry(config());
    let failed: Result<(), String> = telemetry.in_invocation(&Invocation::new("err"), || {
        let _child = tracing::info_span!("charge card").entered();
        Err("card declined".to_owned())
    });
    assert_eq!(failed, Err("card declined".to_owned()));
    let written = read(&buffer.take_lines());
    assert_eq!(written.spans.len(), 2);
    let root = written.span_named("checkout-prod");
    let status = root.status.as_ref().expect("status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "card declined");
    assert_eq!(root.events[0].name, "exception");

    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        telemetry.in_invocation(&Invocation::new("boom"), || -> Result<(), String> {
            let _child = tracing::info_span!("parse body").entered();
            tracing::info!("about to fail");
            panic!("index out of range")
        })
    }));
    assert!(panicked.is_err());
    let written = read(&buffer.take_lines());
    assert_eq!(written.names().len(), 2, "{:?}", written.names());
    let root = written.span_named("checkout-prod");
    let status = root.status.as_ref().expect("status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert!(status.message.contains("index out of range"));
    let exception = attributes_of_event(&root.events[0]);
    assert_eq!(exception["exception.type"], "panic");
    assert_eq!(written.logs[0]["request_id"], "boom");
}

fn attributes_of_event(
    event: &opentelemetry_proto::tonic::trace::v1::span::Event,
) -> std::collections::HashMap<String, String> {
    event
        .attributes
        .iter()
        .map(|kv| (kv.key.clone(), super::support::attribute_text(&kv.value)))
        .collect()
}

#[test]
fn an_async_handler_is_wrapped_the_same_way() {
    let (telemetry, buffer) = telemetry(config());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let answer: Result<u8, String> = runtime.block_on(telemetry.in_invocation_async(
        &Invocation::new("async-1").with_xray_header(XRAY),
        async {
            tracing::info!("inside");
            tokio::task::yield_now().await;
            let span = tracing::info_span!("await db");
            tracing::Instrument::instrument(async { tracing::info!("querying") }, span).await;
            Ok(1)
        },
    ));
    assert_eq!(answer, Ok(1));
    let written = read(&buffer.take_lines());
    assert_eq!(written.spans.len(), 2);
    let root = written.span_named("checkout-prod");
    let child = written.span_named("await db");
    assert_eq!(child.parent_span_id, root.span_id);
    assert_eq!(written.logs[1]["span_id"], hex(&child.span_id));
    assert_eq!(written.logs[1]["request_id"], "async-1");
}

fn exhausted_pool() -> Result<u8, String> {
    panic!("pool exhausted")
}

#[test]
fn an_async_handler_s_error_and_panic_are_recorded_as_a_sync_one_s() {
    let (telemetry, buffer) = telemetry(config());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let failed: Result<u8, String> = runtime.block_on(telemetry.in_invocation_async(
        &Invocation::new("async-err"),
        async {
            tokio::task::yield_now().await;
            Err("card declined".to_owned())
        },
    ));
    assert_eq!(failed, Err("card declined".to_owned()));
    let written = read(&buffer.take_lines());
    let root = written.span_named("checkout-prod");
    assert_eq!(
        root.status.as_ref().expect("status").message,
        "card declined"
    );
    let exception = attributes_of_event(&root.events[0]);
    assert_eq!(exception["exception.type"], std::any::type_name::<String>());

    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(
            telemetry.in_invocation_async(&Invocation::new("async-boom"), async {
                let span = tracing::info_span!("await db");
                tracing::Instrument::instrument(tokio::task::yield_now(), span).await;
                tracing::info!("about to fail");
                exhausted_pool()
            }),
        )
    }));
    let payload = panicked.expect_err("the panic is resumed");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"pool exhausted"));
    let written = read(&buffer.take_lines());
    assert_eq!(written.names().len(), 2, "{:?}", written.names());
    let root = written.span_named("checkout-prod");
    let status = root.status.as_ref().expect("status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert!(
        status.message.contains("pool exhausted"),
        "{}",
        status.message
    );
    assert_eq!(
        attributes_of_event(&root.events[0])["exception.type"],
        "panic"
    );
    assert_eq!(written.logs[0]["request_id"], "async-boom");
}

#[test]
fn compact_lines_carry_the_same_spans_in_fewer_bytes() {
    let run = |format: SpanFormat| {
        let (telemetry, buffer) = telemetry(config().with_span_format(format).with_id_seed(9));
        let _ = telemetry.in_invocation(&Invocation::new("c").with_xray_header(XRAY), handler);
        read(&buffer.take_lines())
    };
    let json = run(SpanFormat::OtlpJson);
    let compact = run(SpanFormat::Compact);
    assert!(compact.span_lines[0].starts_with("{\"__otel_otlp_stdout\""));
    assert_eq!(json.names(), compact.names());
    assert_eq!(json.spans[0].trace_id, compact.spans[0].trace_id);
    assert!(compact.span_lines[0].len() < json.span_lines[0].len());
}

#[test]
fn a_new_trace_gets_a_time_prefixed_id_and_a_manual_clock_makes_runs_repeat() {
    let start = UNIX_EPOCH + Duration::from_secs(1_764_000_000);
    let run = || {
        let clock = ManualClock::starting_at(start);
        let (telemetry, buffer) = telemetry(
            config()
                .with_clock(Clock::Manual(clock.clone()))
                .with_id_seed(1234),
        );
        let _ = telemetry.in_invocation(&Invocation::new("m"), || -> Result<(), String> {
            clock.advance(Duration::from_millis(3));
            let _child = tracing::info_span!("work").entered();
            tracing::info!("working");
            clock.advance(Duration::from_millis(20));
            Ok(())
        });
        buffer.take_lines()
    };
    let first = run();
    assert_eq!(first, run(), "same seed and clock, same bytes");
    let written = read(&first);
    let root = written.span_named("checkout-prod");
    assert!(root.parent_span_id.is_empty());
    assert_eq!(
        &hex(&root.trace_id)[..8],
        format!("{:08x}", 1_764_000_000u32)
    );
    assert_eq!(root.start_time_unix_nano, 1_764_000_000_000_000_000);
    assert_eq!(root.end_time_unix_nano, 1_764_000_000_023_000_000);
    let child = written.span_named("work");
    assert_eq!(
        child.end_time_unix_nano - child.start_time_unix_nano,
        20_000_000
    );
    assert_eq!(written.logs[0]["timestamp"], "2025-11-24T16:00:00.003000Z");
}

#[test]
fn a_huge_batch_is_split_into_lines_under_the_limit() {
    let (telemetry, buffer) = telemetry(config().with_line_limit(4096));
    let _ = telemetry.in_invocation(&Invocation::new("big"), || -> Result<(), String> {
        for index in 0..200 {
            let _span =
                tracing::info_span!("step", index, note = "x".repeat(100).as_str()).entered();
        }
        Ok(())
    });
    let lines = buffer.take_lines();
    assert!(lines.len() > 5);
    assert!(lines.iter().all(|line| line.len() < 4096));
    let written = read(&lines);
    assert_eq!(written.spans.len(), 201);
}

#[test]
fn log_level_filters_lines_but_not_spans() {
    let (warn_only, buffer) = telemetry(config().with_level("WARN"));
    let _ = warn_only.in_invocation(&Invocation::new("lvl"), handler);
    let written = read(&buffer.take_lines());
    assert_eq!(written.logs.len(), 1);
    assert_eq!(written.logs[0]["level"], "WARN");
    assert_eq!(written.spans.len(), 2);

    let (directives, buffer) = telemetry(config().with_level("info,it::handler_output=error"));
    let _ = directives.in_invocation(&Invocation::new("lvl"), handler);
    assert_eq!(read(&buffer.take_lines()).logs.len(), 0);

    assert!(Telemetry::new(config().with_level("=[bad"), Output::stdout()).is_err());
}

#[test]
fn telemetries_in_one_process_keep_their_own_output() {
    let (a, a_buffer) = telemetry(TelemetryConfig::new("a"));
    let (b, b_buffer) = telemetry(TelemetryConfig::new("b"));
    let _ = a.in_invocation(&Invocation::new("1"), || -> Result<(), String> {
        tracing::info!("from a");
        let _ = b.in_invocation(&Invocation::new("2"), || -> Result<(), String> {
            tracing::info!("from b");
            Ok(())
        });
        tracing::info!("from a again");
        Ok(())
    });
    let a_written = read(&a_buffer.take_lines());
    let b_written = read(&b_buffer.take_lines());
    assert_eq!(a_written.logs.len(), 2);
    assert!(a_written.logs.iter().all(|line| line["service"] == "a"));
    assert_eq!(b_written.logs.len(), 1);
    assert_eq!(b_written.logs[0]["request_id"], "2");
    assert_eq!(a_written.logs[1]["request_id"], "1");
}

/// Two environments restored from one SnapStart snapshot hold the same id
/// generator state (here: the same seed and clock). On-demand twins repeat each
/// other's ids; SnapStart twins reseed at their first invocation and do not.
#[test]
fn snapstart_twins_do_not_repeat_each_others_ids() {
    use tracelake_instrumentation::{Clock, ManualClock};
    let twin_ids = |init: InitializationType| {
        let ids: Vec<Vec<u8>> = (0..2)
            .map(|_| {
                let clock = ManualClock::starting_at(
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000),
                );
                let (telemetry, buffer) = telemetry(
                    config()
                        .with_initialization_type(init)
                        .with_clock(Clock::Manual(clock))
                        .with_id_seed(7),
                );
                let _ = telemetry.in_invocation(&Invocation::new("a"), handler);
                let written = read(&buffer.take_lines());
                written.span_named("checkout-prod").trace_id.clone()
            })
            .collect();
        ids
    };
    let on_demand = twin_ids(InitializationType::OnDemand);
    assert_eq!(on_demand[0], on_demand[1], "same state, same ids");
    let snap_start = twin_ids(InitializationType::SnapStart);
    assert_ne!(snap_start[0], snap_start[1]);
}
