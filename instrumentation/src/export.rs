//! The span exporter: OpenTelemetry spans to OTLP lines on the output.
//!
//! [`LineSpanProcessor`] keeps the spans that end during an invocation and
//! writes them when the invocation is flushed: one `TracesData` line with the
//! resource once and every span after it (split across lines when it would pass
//! the CloudWatch event limit). Spans are written synchronously, on the thread
//! that flushes, so that none waits in memory when the sandbox freezes.

use std::cell::Cell;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue as ProtoKeyValue, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span as ProtoSpan, Status as ProtoStatus, TracesData, span, status,
};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};

use crate::config::{ResourceValue, TelemetryConfig};
use crate::output::Output;
use crate::wire::span_line::{LineOrigin, SpanEncoder};

/// The instrumentation scope name on every span.
pub const SCOPE_NAME: &str = "tracelake-instrumentation";

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
#[derive(Debug)]
pub(crate) struct SpanLines {
    pending: Mutex<Vec<ProtoSpan>>,
    resource: ProtoResource,
    scope: InstrumentationScope,
    /// One encoder (one compressor, reused buffers) for every flush.
    encoder: Mutex<SpanEncoder>,
    output: Output,
    line_limit: usize,
    manual_clock: bool,
}

impl SpanLines {
    pub(crate) fn new(config: &TelemetryConfig, output: Output) -> SpanLines {
        let attributes = config
            .resource()
            .into_iter()
            .map(|(key, value)| ProtoKeyValue {
                key,
                value: Some(match value {
                    ResourceValue::Text(text) => string_value(text),
                    ResourceValue::Int(number) => AnyValue {
                        value: Some(any_value::Value::IntValue(number)),
                    },
                }),
                ..Default::default()
            })
            .collect();
        SpanLines {
            pending: Mutex::new(Vec::new()),
            resource: ProtoResource {
                attributes,
                ..Default::default()
            },
            scope: InstrumentationScope {
                name: SCOPE_NAME.to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                ..Default::default()
            },
            encoder: Mutex::new(span_encoder(config)),
            output,
            line_limit: config.line_limit,
            manual_clock: !config.clock.is_system(),
        }
    }

    fn push(&self, span: ProtoSpan) {
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
            resource_spans: vec![ResourceSpans {
                resource: Some(self.resource.clone()),
                scope_spans: vec![ScopeSpans {
                    scope: Some(self.scope.clone()),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
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

    fn on_end(&self, span: SpanData) {
        let mut proto = convert_span(span);
        if self.lines.manual_clock
            && let Some((start, end)) = ENDING_SPAN_TIMES.with(Cell::take)
        {
            proto.start_time_unix_nano = start;
            proto.end_time_unix_nano = end.max(start);
        }
        self.lines.push(proto);
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

fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn string_value(text: String) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(text)),
    }
}

fn convert_value(value: opentelemetry::Value) -> AnyValue {
    use opentelemetry::{Array, Value};
    let value = match value {
        Value::Bool(flag) => any_value::Value::BoolValue(flag),
        Value::I64(number) => any_value::Value::IntValue(number),
        Value::F64(number) => any_value::Value::DoubleValue(number),
        Value::String(text) => any_value::Value::StringValue(text.into()),
        Value::Array(array) => {
            let values = match array {
                Array::Bool(items) => items
                    .into_iter()
                    .map(|v| convert_value(Value::Bool(v)))
                    .collect(),
                Array::I64(items) => items
                    .into_iter()
                    .map(|v| convert_value(Value::I64(v)))
                    .collect(),
                Array::F64(items) => items
                    .into_iter()
                    .map(|v| convert_value(Value::F64(v)))
                    .collect(),
                Array::String(items) => items
                    .into_iter()
                    .map(|v| convert_value(Value::String(v)))
                    .collect(),
                other => vec![string_value(other.to_string())],
            };
            any_value::Value::ArrayValue(ArrayValue { values })
        }
        other => any_value::Value::StringValue(other.as_str().into_owned()),
    };
    AnyValue { value: Some(value) }
}

fn convert_attributes(attributes: Vec<opentelemetry::KeyValue>) -> Vec<ProtoKeyValue> {
    attributes
        .into_iter()
        .map(|kv| ProtoKeyValue {
            key: kv.key.as_str().to_owned(),
            value: Some(convert_value(kv.value)),
            ..Default::default()
        })
        .collect()
}

/// W3C trace flags plus OTLP's "parent is known / is remote" bits.
fn span_flags(sampled: bool, has_parent: bool, parent_is_remote: bool) -> u32 {
    let mut flags = u32::from(sampled);
    if has_parent {
        flags |= 0x100;
        if parent_is_remote {
            flags |= 0x200;
        }
    }
    flags
}

pub(crate) fn convert_span(span: SpanData) -> ProtoSpan {
    let context = &span.span_context;
    let has_parent = span.parent_span_id != opentelemetry::trace::SpanId::INVALID;
    let kind = match span.span_kind {
        SpanKind::Internal => span::SpanKind::Internal,
        SpanKind::Server => span::SpanKind::Server,
        SpanKind::Client => span::SpanKind::Client,
        SpanKind::Producer => span::SpanKind::Producer,
        SpanKind::Consumer => span::SpanKind::Consumer,
    };
    let status = match &span.status {
        Status::Unset => None,
        Status::Ok => Some(ProtoStatus {
            message: String::new(),
            code: status::StatusCode::Ok as i32,
        }),
        Status::Error { description } => Some(ProtoStatus {
            message: description.to_string(),
            code: status::StatusCode::Error as i32,
        }),
    };
    ProtoSpan {
        trace_id: context.trace_id().to_bytes().to_vec(),
        span_id: context.span_id().to_bytes().to_vec(),
        trace_state: context.trace_state().header(),
        parent_span_id: if has_parent {
            span.parent_span_id.to_bytes().to_vec()
        } else {
            Vec::new()
        },
        flags: span_flags(context.is_sampled(), has_parent, span.parent_span_is_remote),
        name: span.name.into_owned(),
        kind: kind as i32,
        start_time_unix_nano: unix_nanos(span.start_time),
        end_time_unix_nano: unix_nanos(span.end_time),
        attributes: convert_attributes(span.attributes),
        dropped_attributes_count: span.dropped_attributes_count,
        dropped_events_count: span.events.dropped_count,
        events: span
            .events
            .events
            .into_iter()
            .map(|event| span::Event {
                time_unix_nano: unix_nanos(event.timestamp),
                name: event.name.into_owned(),
                attributes: convert_attributes(event.attributes),
                dropped_attributes_count: event.dropped_attributes_count,
            })
            .collect(),
        dropped_links_count: span.links.dropped_count,
        links: span
            .links
            .links
            .into_iter()
            .map(|link| span::Link {
                trace_id: link.span_context.trace_id().to_bytes().to_vec(),
                span_id: link.span_context.span_id().to_bytes().to_vec(),
                trace_state: link.span_context.trace_state().header(),
                attributes: convert_attributes(link.attributes),
                dropped_attributes_count: link.dropped_attributes_count,
                flags: span_flags(
                    link.span_context.is_sampled(),
                    true,
                    link.span_context.is_remote(),
                ) & !0x100
                    | 0x100,
            })
            .collect(),
        status,
    }
}
