//! The span exporter: OpenTelemetry spans to OTLP lines on the output.
//!
//! [`LineSpanProcessor`] keeps the spans that end during an invocation and
//! writes them when the invocation is flushed: one `TracesData` line with the
//! resource once and every span after it (split across lines when it would pass
//! the CloudWatch event limit). Spans are written synchronously, on the thread
//! that flushes, so that none waits in memory when the sandbox freezes.
//!
//! Each span becomes OTLP through `opentelemetry-proto`'s transform of the
//! SDK's [`SpanData`] (`transform::trace`), with one adjustment
//! ([`otlp_resource_spans`]). The resource and this crate's scope are made OTLP
//! once, when the exporter is built, not at every flush.

use std::cell::Cell;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope as OtlpScope, KeyValue as OtlpKeyValue, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span as OtlpSpan, TracesData, status,
};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};

use crate::config::{ResourceValue, TelemetryConfig};
use crate::output::Output;
use crate::wire::span_line::{LineOrigin, SpanEncoder};

/// The instrumentation scope name on every span.
pub const SCOPE_NAME: &str = "tracelake-instrumentation";

/// The instrumentation scope of the tracer whose spans this crate writes.
pub(crate) fn instrumentation_scope() -> opentelemetry::InstrumentationScope {
    opentelemetry::InstrumentationScope::builder(SCOPE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// Spans kept before a flush is forced, whatever the invocation is doing.
const MAX_BUFFERED_SPANS: usize = 2048;

thread_local! {
    /// Start and end, on a manual clock, of the span that is ending on this
    /// thread: set by the timing layer just before the OpenTelemetry layer ends
    /// the span, read by [`LineSpanProcessor::on_end`] in the same call stack.
    static ENDING_SPAN_TIMES: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
}

pub(crate) fn set_ending_span_times(start: u64, end: u64) {
    ENDING_SPAN_TIMES.with(|slot| slot.set(Some((start, end))));
}

/// The state shared by the processor (inside the tracer provider) and the
/// [`Telemetry`](crate::Telemetry) that flushes it.
///
/// Spans wait as the SDK's [`SpanData`] and become OTLP at the flush through
/// `opentelemetry-proto`'s transform ([`otlp_resource_spans`]).
#[derive(Debug)]
pub(crate) struct SpanLines {
    pending: Mutex<Vec<SpanData>>,
    /// The resource, already OTLP: written once per line.
    resource: Resource,
    /// This crate's scope (every span of our tracer has it) and its OTLP form.
    scope: (opentelemetry::InstrumentationScope, OtlpScope),
    /// One encoder (one compressor, reused buffers) for every flush.
    encoder: Mutex<SpanEncoder>,
    output: Output,
    line_limit: usize,
    manual_clock: bool,
}

impl SpanLines {
    pub(crate) fn new(config: &TelemetryConfig, output: Output) -> SpanLines {
        // Our resource values are strings and ints: they are moved into their
        // OTLP form directly (through `opentelemetry::KeyValue` and the
        // transform's `Attributes`, each key and value was copied twice more,
        // which showed in the cost of building a telemetry).
        let attributes = config
            .resource()
            .into_iter()
            .map(|(key, value)| OtlpKeyValue {
                key,
                value: Some(AnyValue {
                    value: Some(match value {
                        ResourceValue::Text(text) => any_value::Value::StringValue(text),
                        ResourceValue::Int(number) => any_value::Value::IntValue(number),
                    }),
                }),
                ..Default::default()
            })
            .collect();
        let scope = instrumentation_scope();
        let otlp_scope = OtlpScope::from((&scope, None));
        SpanLines {
            pending: Mutex::new(Vec::new()),
            resource: Resource {
                attributes,
                ..Default::default()
            },
            scope: (scope, otlp_scope),
            encoder: Mutex::new(span_encoder(config)),
            output,
            line_limit: config.line_limit,
            manual_clock: !config.clock.is_system(),
        }
    }

    fn push(&self, span: SpanData) {
        let full = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.push(span);
            pending.len() >= MAX_BUFFERED_SPANS
        };
        if full {
            self.flush();
        }
    }

    /// Writes every pending span; returns how many.
    pub(crate) fn flush(&self) -> usize {
        let spans =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        if spans.is_empty() {
            return 0;
        }
        let count = spans.len();
        let data = TracesData {
            resource_spans: vec![otlp_resource_spans(spans, &self.resource, &self.scope)],
        };
        // The newline is part of the limit: Lambda splits on it.
        let lines = self
            .encoder
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .encode_lines(&data, self.line_limit.saturating_sub(1));
        let lines: Vec<Vec<u8>> = lines
            .into_iter()
            .map(|line| {
                let mut bytes = line.into_bytes();
                bytes.push(b'\n');
                bytes
            })
            .collect();
        self.output.write_lines(lines.iter().map(Vec::as_slice));
        count
    }
}

/// `spans` as OTLP: the resource once, a `ScopeSpans` per instrumentation
/// scope (`ours` first), each span converted by `opentelemetry-proto`'s
/// transform (`From<SpanData>`).
///
/// The grouping is the transform's `group_spans_by_resource_and_scope`, done
/// here with the resource and our scope built once: the transform's hashes
/// every span's scope and rebuilds the scope and resource at every flush,
/// which showed in the cost per invocation.
///
/// One adjustment: the transform writes an unset status as a `Status` with
/// code `UNSET`; it is left out instead (an absent status means unset in
/// OTLP), as before the transform was used, so lines are no longer than needed.
fn otlp_resource_spans(
    spans: Vec<SpanData>,
    resource: &Resource,
    ours: &(opentelemetry::InstrumentationScope, OtlpScope),
) -> ResourceSpans {
    let mut scope_spans = vec![ScopeSpans {
        scope: Some(ours.1.clone()),
        spans: Vec::with_capacity(spans.len()),
        schema_url: ours.0.schema_url().unwrap_or_default().to_owned(),
    }];
    // The scopes of other tracers, in the order of `scope_spans[1..]`.
    let mut others: Vec<opentelemetry::InstrumentationScope> = Vec::new();
    for span in spans {
        let index = if span.instrumentation_scope == ours.0 {
            0
        } else if let Some(other) = others
            .iter()
            .position(|scope| *scope == span.instrumentation_scope)
        {
            other + 1
        } else {
            let scope = span.instrumentation_scope.clone();
            scope_spans.push(ScopeSpans {
                scope: Some(OtlpScope::from((&scope, None))),
                spans: Vec::new(),
                schema_url: scope.schema_url().unwrap_or_default().to_owned(),
            });
            others.push(scope);
            scope_spans.len() - 1
        };
        let mut otlp = OtlpSpan::from(span);
        if otlp.status.as_ref().is_some_and(|status| {
            status.code == status::StatusCode::Unset as i32 && status.message.is_empty()
        }) {
            otlp.status = None;
        }
        scope_spans[index].spans.push(otlp);
    }
    scope_spans.retain(|scope_spans| !scope_spans.spans.is_empty());
    ResourceSpans {
        resource: Some(resource.clone()),
        scope_spans,
        schema_url: String::new(),
    }
}

/// The encoder of this function's span lines. In Lambda (a log group or stream
/// is known) compact lines leave out what the collector restores from them.
fn span_encoder(config: &TelemetryConfig) -> SpanEncoder {
    let encoder = SpanEncoder::new(config.span_format);
    if config.log_group.is_none() && config.log_stream.is_none() {
        return encoder;
    }
    encoder.with_origin(LineOrigin::new(
        config.log_group.clone().unwrap_or_default(),
        config.log_stream.clone().unwrap_or_default(),
    ))
}

/// The OpenTelemetry span processor that feeds [`SpanLines`].
#[derive(Debug)]
pub(crate) struct LineSpanProcessor {
    pub(crate) lines: Arc<SpanLines>,
}

impl SpanProcessor for LineSpanProcessor {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, mut span: SpanData) {
        if self.lines.manual_clock
            && let Some((start, end)) = ENDING_SPAN_TIMES.with(Cell::take)
        {
            span.start_time = UNIX_EPOCH + Duration::from_nanos(start);
            span.end_time = UNIX_EPOCH + Duration::from_nanos(end.max(start));
        }
        self.lines.push(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.lines.flush();
        self.lines.output.flush();
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        self.force_flush()
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use opentelemetry::trace::{
        Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry::{Array, KeyValue, StringValue, Value};
    use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
    use opentelemetry_proto::tonic::trace::v1::{Span, span};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;
    use crate::output::LineBuffer;
    use crate::wire::span_line::{SpanFormat, decode_span_line};

    /// W3C `sampled`, and OTLP's `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK` and
    /// `SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK` (trace.proto).
    const SAMPLED: u32 = 0x01;
    const HAS_IS_REMOTE: u32 = 0x100;
    const IS_REMOTE: u32 = 0x200;

    fn nanos(time: SystemTime) -> u64 {
        u64::try_from(time.duration_since(UNIX_EPOCH).unwrap().as_nanos()).unwrap()
    }

    fn context(trace: u128, span: u64, remote: bool, state: &str) -> SpanContext {
        SpanContext::new(
            TraceId::from(trace),
            SpanId::from(span),
            TraceFlags::SAMPLED,
            remote,
            TraceState::from_key_value([("vendor", state)]).unwrap(),
        )
    }

    /// A child of a remote parent with every field OTLP carries set.
    fn full_span() -> SpanData {
        let start = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        let mut events = SpanEvents::default();
        events.events = vec![Event::new(
            "exception",
            start + Duration::from_millis(5),
            vec![KeyValue::new("exception.message", "boom")],
            1,
        )];
        events.dropped_count = 2;
        let mut links = SpanLinks::default();
        links.links = vec![Link::new(
            context(0xaa, 0xbb, true, "linked"),
            vec![KeyValue::new("messaging.message.id", "m-1")],
            4,
        )];
        links.dropped_count = 3;
        SpanData {
            span_context: context(
                0x5759_e988_bd86_2e3f_e1be_46a9_9427_2793,
                0x42,
                false,
                "own",
            ),
            parent_span_id: SpanId::from(0x41),
            parent_span_is_remote: true,
            span_kind: SpanKind::Server,
            name: "GET /cart".into(),
            start_time: start,
            end_time: start + Duration::from_millis(250),
            attributes: vec![
                KeyValue::new("faas.coldstart", true),
                KeyValue::new("http.response.status_code", 200_i64),
                KeyValue::new("ratio", 0.5),
                KeyValue::new("http.route", "/cart"),
                KeyValue::new(
                    "tags",
                    Value::Array(Array::String(vec![StringValue::from("a"), "b".into()])),
                ),
            ],
            dropped_attributes_count: 7,
            events,
            links,
            status: Status::error("payment declined"),
            instrumentation_scope: instrumentation_scope(),
        }
    }

    /// A root span of a service's own trace, status unset.
    fn root_span() -> SpanData {
        let mut span = full_span();
        span.span_context = context(0x1234, 0x99, false, "root");
        span.parent_span_id = SpanId::INVALID;
        span.parent_span_is_remote = false;
        span.events = SpanEvents::default();
        span.links = SpanLinks::default();
        span.status = Status::Unset;
        span
    }

    fn any_value(value: &Value) -> AnyValue {
        let value = match value {
            Value::Bool(flag) => any_value::Value::BoolValue(*flag),
            Value::I64(number) => any_value::Value::IntValue(*number),
            Value::F64(number) => any_value::Value::DoubleValue(*number),
            Value::String(text) => any_value::Value::StringValue(text.as_str().to_owned()),
            Value::Array(Array::String(items)) => {
                any_value::Value::ArrayValue(opentelemetry_proto::tonic::common::v1::ArrayValue {
                    values: items
                        .iter()
                        .map(|item| any_value(&Value::String(item.clone())))
                        .collect(),
                })
            }
            other => panic!("no expectation for {other:?}"),
        };
        AnyValue { value: Some(value) }
    }

    fn assert_attributes(
        written: &[opentelemetry_proto::tonic::common::v1::KeyValue],
        source: &[KeyValue],
    ) {
        assert_eq!(written.len(), source.len());
        for (written, source) in written.iter().zip(source) {
            assert_eq!(written.key, source.key.as_str());
            assert_eq!(written.value.as_ref(), Some(&any_value(&source.value)));
        }
    }

    /// Checks every OTLP field of `written` against the `SpanData` it came from.
    fn assert_span_matches(written: &Span, source: &SpanData) {
        let context = &source.span_context;
        assert_eq!(written.trace_id, context.trace_id().to_bytes());
        assert_eq!(written.span_id, context.span_id().to_bytes());
        assert_eq!(written.trace_state, context.trace_state().header());
        let has_parent = source.parent_span_id != SpanId::INVALID;
        if has_parent {
            assert_eq!(written.parent_span_id, source.parent_span_id.to_bytes());
        } else {
            assert!(written.parent_span_id.is_empty());
        }
        let remote = if source.parent_span_is_remote {
            IS_REMOTE
        } else {
            0
        };
        assert_eq!(written.flags, SAMPLED | HAS_IS_REMOTE | remote);
        assert_eq!(written.name, source.name);
        let kind = match source.span_kind {
            SpanKind::Server => span::SpanKind::Server,
            ref other => panic!("no expectation for {other:?}"),
        };
        assert_eq!(written.kind, kind as i32);
        assert_eq!(written.start_time_unix_nano, nanos(source.start_time));
        assert_eq!(written.end_time_unix_nano, nanos(source.end_time));
        assert_attributes(&written.attributes, &source.attributes);
        assert_eq!(
            written.dropped_attributes_count,
            source.dropped_attributes_count
        );

        assert_eq!(written.events.len(), source.events.len());
        for (event, expected) in written.events.iter().zip(source.events.iter()) {
            assert_eq!(event.name, expected.name);
            assert_eq!(event.time_unix_nano, nanos(expected.timestamp));
            assert_attributes(&event.attributes, &expected.attributes);
            assert_eq!(
                event.dropped_attributes_count,
                expected.dropped_attributes_count
            );
        }
        assert_eq!(written.dropped_events_count, source.events.dropped_count);

        assert_eq!(written.links.len(), source.links.len());
        for (link, expected) in written.links.iter().zip(source.links.iter()) {
            let linked = &expected.span_context;
            assert_eq!(link.trace_id, linked.trace_id().to_bytes());
            assert_eq!(link.span_id, linked.span_id().to_bytes());
            assert_eq!(link.trace_state, linked.trace_state().header());
            let remote = if linked.is_remote() { IS_REMOTE } else { 0 };
            assert_eq!(link.flags, SAMPLED | HAS_IS_REMOTE | remote);
            assert_attributes(&link.attributes, &expected.attributes);
            assert_eq!(
                link.dropped_attributes_count,
                expected.dropped_attributes_count
            );
        }
        assert_eq!(written.dropped_links_count, source.links.dropped_count);

        match &source.status {
            Status::Unset => assert_eq!(written.status, None),
            Status::Error { description } => {
                let status = written.status.as_ref().expect("an error status is written");
                assert_eq!(status.code, status::StatusCode::Error as i32);
                assert_eq!(status.message, description.as_ref());
            }
            Status::Ok => {
                let status = written.status.as_ref().expect("an ok status is written");
                assert_eq!(status.code, status::StatusCode::Ok as i32);
            }
        }
    }

    #[test]
    fn exported_spans_carry_every_field_of_their_span_data_in_both_formats() {
        for format in [SpanFormat::OtlpJson, SpanFormat::Compact] {
            let mut config = TelemetryConfig::new("checkout");
            config.span_format = format;
            let buffer = LineBuffer::new();
            let lines = Arc::new(SpanLines::new(&config, Output::buffer(&buffer)));
            let processor = LineSpanProcessor {
                lines: Arc::clone(&lines),
            };
            let sources = [full_span(), root_span()];
            for source in &sources {
                processor.on_end(source.clone());
            }
            assert_eq!(lines.flush(), 2);

            let written = buffer.take_lines();
            assert_eq!(written.len(), 1, "{format:?}: {written:?}");
            let data = decode_span_line(&written[0]).unwrap();
            assert_eq!(data.resource_spans.len(), 1);
            let resource_spans = &data.resource_spans[0];
            let resource = resource_spans.resource.as_ref().unwrap();
            let service = resource
                .attributes
                .iter()
                .find(|attribute| attribute.key == "service.name")
                .and_then(|attribute| attribute.value.as_ref());
            let expected = AnyValue {
                value: Some(any_value::Value::StringValue("checkout".into())),
            };
            assert_eq!(service, Some(&expected), "{format:?}");
            assert_eq!(resource_spans.scope_spans.len(), 1);
            let scope_spans = &resource_spans.scope_spans[0];
            let scope = scope_spans.scope.as_ref().unwrap();
            assert_eq!(scope.name, SCOPE_NAME);
            assert_eq!(scope.version, env!("CARGO_PKG_VERSION"));
            assert_eq!(scope_spans.spans.len(), sources.len());
            for (span, source) in scope_spans.spans.iter().zip(&sources) {
                assert_span_matches(span, source);
            }
        }
    }

    #[test]
    fn a_flush_of_only_another_tracers_spans_writes_only_its_scope() {
        let config = TelemetryConfig::new("checkout");
        let buffer = LineBuffer::new();
        let lines = SpanLines::new(&config, Output::buffer(&buffer));
        let mut other = root_span();
        other.instrumentation_scope = opentelemetry::InstrumentationScope::builder("orders-db")
            .with_schema_url("https://opentelemetry.io/schemas/1.26.0")
            .build();
        lines.push(other.clone());
        lines.push(other);
        lines.flush();

        let data = decode_span_line(&buffer.take_lines()[0]).unwrap();
        let scope_spans = &data.resource_spans[0].scope_spans;
        assert_eq!(scope_spans.len(), 1);
        assert_eq!(scope_spans[0].scope.as_ref().unwrap().name, "orders-db");
        assert_eq!(
            scope_spans[0].schema_url,
            "https://opentelemetry.io/schemas/1.26.0"
        );
        assert_eq!(scope_spans[0].spans.len(), 2);
    }

    #[test]
    fn spans_of_another_tracer_are_written_under_their_own_scope() {
        let config = TelemetryConfig::new("checkout");
        let buffer = LineBuffer::new();
        let lines = SpanLines::new(&config, Output::buffer(&buffer));
        let mut other = root_span();
        other.instrumentation_scope = opentelemetry::InstrumentationScope::builder("orders-db")
            .with_version("2.1.0")
            .build();
        lines.push(root_span());
        lines.push(other);
        lines.flush();

        let data = decode_span_line(&buffer.take_lines()[0]).unwrap();
        let scopes: Vec<(String, String, usize)> = data.resource_spans[0]
            .scope_spans
            .iter()
            .map(|scope_spans| {
                let scope = scope_spans.scope.clone().unwrap_or_default();
                (scope.name, scope.version, scope_spans.spans.len())
            })
            .collect();
        assert_eq!(
            scopes,
            [
                (
                    SCOPE_NAME.to_owned(),
                    env!("CARGO_PKG_VERSION").to_owned(),
                    1
                ),
                ("orders-db".to_owned(), "2.1.0".to_owned(), 1),
            ]
        );
    }
}
