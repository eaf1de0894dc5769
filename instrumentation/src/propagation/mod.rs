//! Trace context carried in and out of a Lambda.
//!
//! - [`TraceContext`] is one incoming or outgoing context, read from a W3C
//!   `traceparent` (plus `tracestate`) or from an X-Ray header;
//! - [`extract`] reads the context of every trigger event;
//! - [`inject`] writes the current context into outgoing carriers.
//!
//! How an event's context and the Lambda's own X-Ray context combine is decided
//! in [`Invocation`](crate::Invocation): see docs/instrumentation.md.

pub mod extract;
pub mod inject;

use crate::wire::ids::{SpanId, TraceId, XrayHeader};

/// The W3C trace context header.
pub const TRACEPARENT: &str = "traceparent";
/// The W3C vendor state header.
pub const TRACESTATE: &str = "tracestate";
/// The X-Ray trace header (HTTP form).
pub const XRAY_HEADER: &str = "X-Amzn-Trace-Id";
/// The SQS system attribute that carries the sender's X-Ray header.
pub const SQS_XRAY_ATTRIBUTE: &str = "AWSTraceHeader";

/// Where a context was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextSource {
    /// A W3C `traceparent`.
    W3c,
    /// An X-Ray header.
    Xray,
}

/// One trace context: the trace, the caller's span, and what rides along.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// The trace.
    pub trace_id: TraceId,
    /// The caller's span; `None` when an X-Ray header names no `Parent`.
    pub span_id: Option<SpanId>,
    /// The caller's sampling decision, when it said.
    pub sampled: Option<bool>,
    /// W3C `tracestate`, as received.
    pub trace_state: Option<String>,
    /// X-Ray header keys besides Root, Parent and Sampled (`Lineage`, unknown
    /// keys), kept so that outgoing headers carry them on.
    pub xray_extra: Vec<(String, String)>,
    /// Where it was read from.
    pub source: ContextSource,
}

impl TraceContext {
    /// Reads a W3C `traceparent` (`00-{trace}-{span}-{flags}`), with an optional
    /// `tracestate`. Version `ff`, all-zero ids, uppercase hex and malformed text
    /// are `None`;
    /// unknown versions are read by their first four fields, as W3C asks.
    pub fn from_traceparent(traceparent: &str, tracestate: Option<&str>) -> Option<TraceContext> {
        let text = traceparent.trim();
        let mut parts = text.split('-');
        let version = parts.next()?;
        let trace = parts.next()?;
        let span = parts.next()?;
        let flags = parts.next()?;
        let rest = parts.next();
        // Every field is lowercase hex (W3C `HEXDIGLC`): a value with an
        // uppercase digit, a sign or a space is invalid, and W3C says to ignore it.
        let lower_hex = |field: &str| {
            field
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if version.len() != 2 || version == "ff" || (version == "00" && rest.is_some()) {
            return None;
        }
        if trace.len() != 32 || span.len() != 16 || flags.len() != 2 {
            return None;
        }
        if ![version, trace, span, flags].into_iter().all(lower_hex) {
            return None;
        }
        let trace_id = TraceId::parse(trace).ok()?;
        let span_id = SpanId::parse(span).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        let trace_state = tracestate
            .map(str::trim)
            .filter(|state| !state.is_empty())
            .map(str::to_owned);
        Some(TraceContext {
            trace_id,
            span_id: Some(span_id),
            sampled: Some(flags & 1 == 1),
            trace_state,
            xray_extra: Vec::new(),
            source: ContextSource::W3c,
        })
    }

    /// Reads an X-Ray header (`Root=…;Parent=…;Sampled=…;Lineage=…`).
    pub fn from_xray(header: &str) -> Option<TraceContext> {
        XrayHeader::parse(header).ok().map(TraceContext::from)
    }

    /// The W3C `traceparent` value, when there is a span to name.
    pub fn traceparent(&self) -> Option<String> {
        let span_id = self.span_id?;
        let flags = if self.sampled.unwrap_or(true) {
            "01"
        } else {
            "00"
        };
        Some(format!("00-{}-{}-{}", self.trace_id, span_id, flags))
    }

    /// The X-Ray header value, with the extra keys kept.
    pub fn xray_header(&self) -> String {
        XrayHeader {
            root: self.trace_id,
            parent: self.span_id,
            sampled: self.sampled,
            other: self.xray_extra.clone(),
        }
        .to_string()
    }

    /// The OpenTelemetry span context of the caller, when there is a span to name.
    pub(crate) fn to_span_context(&self) -> Option<opentelemetry::trace::SpanContext> {
        use opentelemetry::trace::{SpanContext, TraceFlags, TraceState};
        let span_id = self.span_id?;
        let flags = if self.sampled.unwrap_or(true) {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::NOT_SAMPLED
        };
        let state = self
            .trace_state
            .as_deref()
            .and_then(|text| text.parse::<TraceState>().ok())
            .unwrap_or_default();
        Some(SpanContext::new(
            opentelemetry::trace::TraceId::from(self.trace_id.0),
            opentelemetry::trace::SpanId::from(span_id.0),
            flags,
            true,
            state,
        ))
    }

    /// Whether two contexts name the same caller.
    pub fn same_caller(&self, other: &TraceContext) -> bool {
        self.trace_id == other.trace_id && self.span_id == other.span_id
    }
}

impl From<XrayHeader> for TraceContext {
    fn from(header: XrayHeader) -> TraceContext {
        TraceContext {
            trace_id: header.root,
            span_id: header.parent,
            sampled: header.sampled,
            trace_state: None,
            xray_extra: header.other,
            source: ContextSource::Xray,
        }
    }
}

/// Reads a context from a `traceparent`/`tracestate` pair if there is a valid
/// one, else from an X-Ray header.
pub fn context_from(
    traceparent: Option<&str>,
    tracestate: Option<&str>,
    xray: Option<&str>,
) -> Option<TraceContext> {
    traceparent
        .and_then(|value| TraceContext::from_traceparent(value, tracestate))
        .or_else(|| xray.and_then(TraceContext::from_xray))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_parses_and_rejects_bad_values() {
        let context = TraceContext::from_traceparent(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            Some("congo=t61rcWkgMzE"),
        )
        .unwrap();
        assert_eq!(
            context.trace_id.to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(context.sampled, Some(true));
        assert_eq!(context.trace_state.as_deref(), Some("congo=t61rcWkgMzE"));
        assert_eq!(
            context.traceparent().unwrap(),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        );
        for bad in [
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "garbage",
            // W3C: lowercase hex only (`HEXDIGLC`), in every field.
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-+1",
            "00-0af7651916cd43dd8448eb211c80319c- b7ad6b716920333-01",
            "0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ] {
            assert!(TraceContext::from_traceparent(bad, None).is_none(), "{bad}");
        }
        // A future version may carry more fields.
        assert!(
            TraceContext::from_traceparent(
                "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-more",
                None
            )
            .is_some()
        );
    }

    #[test]
    fn traceparent_wins_over_xray() {
        let context = context_from(
            Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            None,
            Some("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
        )
        .unwrap();
        assert_eq!(context.source, ContextSource::W3c);
        let xray = context_from(
            Some("not a traceparent"),
            None,
            Some("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a1b2c3d4:1"),
        )
        .unwrap();
        assert_eq!(xray.source, ContextSource::Xray);
        assert_eq!(
            xray.xray_header(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a1b2c3d4:1"
        );
    }
}
