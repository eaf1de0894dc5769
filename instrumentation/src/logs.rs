//! The JSON log layer: every `tracing` event becomes one [`LogLine`](crate::wire::log_line::LogLine)
//! on the output, linked to the span and invocation it happened in.
//!
//! The layer writes the JSON itself, into a reused buffer, rather than going
//! through `serde`: a Lambda writes many lines per invocation, and the
//! simulator writes hundreds of thousands per second.

use std::fmt::{self, Write as _};
use std::sync::{Arc, OnceLock};

use opentelemetry::trace::TraceContextExt as _;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::clock::{Clock, write_rfc3339_micros};
use crate::output::Output;
use crate::wire::log_line::keys;

mod line_buffers;

pub(crate) use crate::wire::write_json_string;
use line_buffers::{LineBuffers, with_line_buffers};

/// The span field that marks an invocation span and carries its request id.
pub(crate) const INVOCATION_ID_FIELD: &str =
    opentelemetry_semantic_conventions::attribute::FAAS_INVOCATION_ID;
/// The span field that carries the X-Ray header keys to pass on (`Lineage`, …).
pub(crate) const XRAY_EXTRA_FIELD: &str = "tracelake.xray_extra";

/// The span field of `lambda_runtime`'s own span around each invocation.
const RUNTIME_REQUEST_ID_FIELD: &str = "requestId";

/// How many finished invocations [`RecentInvocations`] remembers.
const RECENT_INVOCATIONS: usize = 32;

/// The ids of the invocations that finished last, so that the lines
/// `lambda_runtime` writes about an invocation after our span has ended (the
/// handler's error, a panic) still carry its trace and request id.
#[derive(Debug, Default)]
pub(crate) struct RecentInvocations {
    finished: std::sync::Mutex<std::collections::VecDeque<(String, SpanIds)>>,
}

impl RecentInvocations {
    pub(crate) fn push(&self, request_id: &str, trace: u128, span: u64) {
        let mut finished = self
            .finished
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if finished.len() == RECENT_INVOCATIONS {
            finished.pop_front();
        }
        finished.push_back((request_id.to_owned(), SpanIds { trace, span }));
    }

    fn find(&self, request_id: &str) -> Option<SpanIds> {
        let finished = self
            .finished
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        finished
            .iter()
            .rev()
            .find(|(id, _)| id == request_id)
            .map(|(_, ids)| *ids)
    }

    fn last(&self) -> Option<(String, SpanIds)> {
        let finished = self
            .finished
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        finished.back().cloned()
    }
}

/// What an invocation span tells the lines written inside it.
#[derive(Debug, Default)]
pub(crate) struct InvocationFields {
    /// The request id as it came, when the span is `lambda_runtime`'s own
    /// (whose ids are found in [`RecentInvocations`]).
    pub(crate) runtime_request_id: Option<String>,
    /// The request id, already a JSON string (quoted and escaped).
    pub(crate) request_id_json: Option<String>,
    /// X-Ray header keys other than Root, Parent and Sampled.
    pub(crate) xray_extra: Option<String>,
}

/// The ids of a span, in the hex forms a log line carries.
#[derive(Debug, Clone, Copy)]
struct SpanIds {
    trace: u128,
    span: u64,
}

/// Per-span data the log layer keeps in the registry.
#[derive(Debug, Default)]
pub(crate) struct LogSpanData {
    pub(crate) invocation: Option<Arc<InvocationFields>>,
    ids: OnceLock<Option<SpanIds>>,
}

pub(crate) struct JsonLogLayer {
    service_json: String,
    output: Output,
    clock: Clock,
    dispatch: OnceLock<tracing::dispatcher::WeakDispatch>,
    recent: Arc<RecentInvocations>,
}

impl JsonLogLayer {
    pub(crate) fn new(
        service_name: &str,
        output: Output,
        clock: Clock,
        recent: Arc<RecentInvocations>,
    ) -> JsonLogLayer {
        let mut service_json = String::with_capacity(service_name.len() + 2);
        write_json_string(&mut service_json, service_name);
        JsonLogLayer {
            service_json,
            output,
            clock,
            dispatch: OnceLock::new(),
            recent,
        }
    }

    fn dispatch(&self) -> Option<Dispatch> {
        self.dispatch.get().and_then(|weak| weak.upgrade())
    }

    /// The OpenTelemetry ids of span `id`, started if need be, cached.
    fn ids_of<S>(&self, id: &Id, ctx: &Context<'_, S>) -> Option<SpanIds>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let span = ctx.span(id)?;
        if let Some(cached) = span
            .extensions()
            .get::<LogSpanData>()
            .and_then(|data| data.ids.get().copied())
        {
            return cached;
        }
        // No extension lock may be held here: starting the span takes them.
        let dispatch = self.dispatch()?;
        let ids = tracing_opentelemetry::get_otel_context(id, &dispatch).and_then(|cx| {
            let span = cx.span();
            let context = span.span_context();
            context.is_valid().then(|| SpanIds {
                trace: u128::from_be_bytes(context.trace_id().to_bytes()),
                span: u64::from_be_bytes(context.span_id().to_bytes()),
            })
        });
        if let Some(data) = span.extensions().get::<LogSpanData>() {
            let _ = data.ids.set(ids);
        }
        ids
    }
}

impl<S> tracing_subscriber::Layer<S> for JsonLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut visitor = InvocationVisitor::default();
        attrs.record(&mut visitor);
        let invocation = if visitor.request_id.is_some() {
            let request_id_json = visitor.request_id.as_deref().map(|id| {
                let mut json = String::with_capacity(id.len() + 2);
                write_json_string(&mut json, id);
                json
            });
            Some(Arc::new(InvocationFields {
                runtime_request_id: None,
                request_id_json,
                xray_extra: visitor.xray_extra,
            }))
        } else if let Some(request_id) = visitor
            .runtime_request_id
            .filter(|_| attrs.metadata().target().starts_with("lambda_runtime"))
        {
            let mut json = String::with_capacity(request_id.len() + 2);
            write_json_string(&mut json, &request_id);
            Some(Arc::new(InvocationFields {
                runtime_request_id: Some(request_id),
                request_id_json: Some(json),
                xray_extra: None,
            }))
        } else {
            span.parent().and_then(|parent| {
                parent
                    .extensions()
                    .get::<LogSpanData>()
                    .and_then(|data| data.invocation.clone())
            })
        };
        span.extensions_mut().insert(LogSpanData {
            invocation,
            ids: OnceLock::new(),
        });
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let span = ctx.event_span(event);
        let mut ids = None;
        let mut invocation = None;
        if let Some(span) = &span {
            invocation = span
                .extensions()
                .get::<LogSpanData>()
                .and_then(|data| data.invocation.clone());
            for ancestor in span.scope() {
                ids = self.ids_of(&ancestor.id(), &ctx);
                if ids.is_some() {
                    break;
                }
            }
        }
        // lambda_runtime reports a handler's error or panic after our span has
        // ended: inside its own span (which names the request), or in no span
        // at all when its tracing layer is not used (then the invocation that
        // just finished is the one, as the runtime runs one at a time).
        if ids.is_none() {
            if let Some(request_id) = invocation
                .as_ref()
                .and_then(|fields| fields.runtime_request_id.as_deref())
            {
                ids = self.recent.find(request_id);
            } else if span.is_none()
                && event.metadata().target().starts_with("lambda_runtime")
                && let Some((request_id, last)) = self.recent.last()
            {
                ids = Some(last);
                let mut json = String::with_capacity(request_id.len() + 2);
                write_json_string(&mut json, &request_id);
                invocation = Some(Arc::new(InvocationFields {
                    runtime_request_id: Some(request_id),
                    request_id_json: Some(json),
                    xray_extra: None,
                }));
            }
        }
        with_line_buffers(|buffers| {
            self.format(event, ids, invocation.as_deref(), buffers);
            self.output.write_line(buffers.line.as_bytes());
        });
    }
}

impl JsonLogLayer {
    fn format(
        &self,
        event: &Event<'_>,
        ids: Option<SpanIds>,
        invocation: Option<&InvocationFields>,
        buffers: &mut LineBuffers,
    ) {
        let LineBuffers {
            line,
            message,
            fields,
        } = buffers;
        line.push('{');
        push_key(line, keys::TIMESTAMP);
        line.push('"');
        write_rfc3339_micros(line, self.clock.now_unix_nanos());
        line.push_str("\",");
        push_key(line, keys::LEVEL);
        line.push('"');
        line.push_str(level_name(event.metadata().level()));
        line.push_str("\",");
        push_key(line, keys::MESSAGE);
        let mut visitor = JsonFieldVisitor { message, fields };
        event.record(&mut visitor);
        write_json_string(line, visitor.message);
        if let Some(ids) = ids {
            line.push(',');
            push_key(line, keys::TRACE_ID);
            let _ = write!(line, "\"{:032x}\",", ids.trace);
            push_key(line, keys::SPAN_ID);
            let _ = write!(line, "\"{:016x}\"", ids.span);
        }
        let request_id = invocation.and_then(|fields| fields.request_id_json.as_deref());
        if let Some(request_id) = request_id {
            line.push(',');
            push_key(line, keys::REQUEST_ID);
            line.push_str(request_id);
        }
        line.push(',');
        push_key(line, keys::SERVICE);
        line.push_str(&self.service_json);
        if let Some(ids) = ids {
            line.push(',');
            push_key(line, keys::XRAY_TRACE_ID);
            write_xray_trace_id(line, ids.trace);
        }
        if let Some(request_id) = request_id {
            line.push(',');
            push_key(line, keys::FUNCTION_REQUEST_ID);
            line.push_str(request_id);
        }
        line.push_str(visitor.fields);
        line.push_str("}\n");
    }
}

/// Writes `trace` in X-Ray's form, quoted (`"1-5759e988-bd862e3fe1be46a994272793"`:
/// its first 32 bits, then the other 96), straight into the line.
fn write_xray_trace_id(line: &mut String, trace: u128) {
    let (epoch, random) = (trace >> 96, trace & ((1u128 << 96) - 1));
    let _ = write!(line, "\"1-{epoch:08x}-{random:024x}\"");
}

/// Writes `"key":`.
fn push_key(line: &mut String, key: &str) {
    line.push('"');
    line.push_str(key);
    line.push_str("\":");
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARN",
        Level::ERROR => "ERROR",
    }
}

#[derive(Default)]
struct InvocationVisitor {
    request_id: Option<String>,
    xray_extra: Option<String>,
    runtime_request_id: Option<String>,
}

impl Visit for InvocationVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            INVOCATION_ID_FIELD => self.request_id = Some(value.to_owned()),
            XRAY_EXTRA_FIELD => self.xray_extra = Some(value.to_owned()),
            RUNTIME_REQUEST_ID_FIELD => self.runtime_request_id = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            INVOCATION_ID_FIELD => self.request_id = Some(format!("{value:?}")),
            XRAY_EXTRA_FIELD => self.xray_extra = Some(format!("{value:?}")),
            RUNTIME_REQUEST_ID_FIELD => self.runtime_request_id = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

/// Collects an event's message and its other fields as `,"key":value` JSON,
/// into the thread's reused [`LineBuffers`].
struct JsonFieldVisitor<'b> {
    message: &'b mut String,
    fields: &'b mut String,
}

impl JsonFieldVisitor<'_> {
    fn key(&mut self, field: &Field) {
        let name = field.name();
        self.fields.push(',');
        if keys::ALL.contains(&name) {
            let mut prefixed = String::with_capacity(name.len() + 6);
            prefixed.push_str("field.");
            prefixed.push_str(name);
            write_json_string(self.fields, &prefixed);
        } else {
            write_json_string(self.fields, name);
        }
        self.fields.push(':');
    }
}

impl Visit for JsonFieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
            return;
        }
        self.key(field);
        write_json_string(self.fields, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
            return;
        }
        self.key(field);
        let text = format!("{value:?}");
        write_json_string(self.fields, &text);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.key(field);
        let _ = write!(self.fields, "{value}");
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        let _ = write!(self.fields, "{value}");
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.key(field);
        let _ = write!(self.fields, "{value}");
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.key(field);
        let _ = write!(self.fields, "{value}");
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.key(field);
        if value.is_finite() {
            let _ = write!(self.fields, "{value}");
        } else {
            // JSON has no NaN or infinity.
            write_json_string(self.fields, &value.to_string());
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        self.fields.push_str(if value { "true" } else { "false" });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.key(field);
        let text = value.to_string();
        write_json_string(self.fields, &text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xray_trace_ids_split_the_32_hex_digits_after_the_eighth() {
        for trace in [
            0x5759_e988_bd86_2e3f_e1be_46a9_9427_2793_u128,
            0x0000_0001_0000_0000_0000_0000_0000_00ff,
            1,
            u128::MAX,
        ] {
            let hex = format!("{trace:032x}");
            let mut line = String::from("x");
            write_xray_trace_id(&mut line, trace);
            assert_eq!(line, format!("x\"1-{}-{}\"", &hex[..8], &hex[8..]));
        }
    }

    #[test]
    fn json_strings_escape_what_json_requires() {
        let mut out = String::new();
        write_json_string(&mut out, "a\"b\\c\nd\u{1}e\u{7f}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001e\u007fé""#);
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}e\u{7f}é");
    }
}
