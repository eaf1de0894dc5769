//! Writing the current trace context into outgoing carriers.
//!
//! [`OutgoingContext::current`] reads the context of the current span (the
//! invocation span or one of its children). Its methods write it into every
//! carrier that [`extract`](super::extract) reads, so that the next function's
//! invocation span becomes a child of the span that sent the message.
//!
//! ```
//! use tracelake_instrumentation::propagation::inject::OutgoingContext;
//! use tracelake_instrumentation::{Invocation, LineBuffer, Output, Telemetry, TelemetryConfig};
//!
//! let telemetry = Telemetry::new(TelemetryConfig::new("api"), Output::buffer(&LineBuffer::new())).unwrap();
//! let invocation = Invocation::new("r-1").with_xray_header(
//!     "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:0",
//! );
//! let _ = telemetry.in_invocation(&invocation, || -> Result<(), String> {
//!     let outgoing = OutgoingContext::current().expect("inside a span");
//!     let mut headers = http::HeaderMap::new();
//!     outgoing.inject_http_headers(&mut headers);
//!     assert!(headers["traceparent"].to_str().unwrap().starts_with("00-5759e988bd862e3fe1be46a994272793-"));
//!     // Lambda's recursion detection reads Lineage: it rides along.
//!     assert!(headers["x-amzn-trace-id"].to_str().unwrap().ends_with(";Lineage=a87bd80c:0"));
//!     Ok(())
//! });
//! ```

use std::collections::HashMap;

use aws_lambda_events::event::sns::{MessageAttribute, SnsMessage};
use aws_lambda_events::event::sqs::{SqsMessage, SqsMessageAttribute};
use opentelemetry::trace::TraceContextExt as _;
use serde_json::Value;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::registry::{LookupSpan, Registry, SpanData as _};

use crate::logs::LogSpanData;
use crate::propagation::{SQS_XRAY_ATTRIBUTE, TRACEPARENT, TRACESTATE, TraceContext, XRAY_HEADER};
use crate::wire::ids::{SpanId, TraceId, XrayHeader};

/// The context to send on: the trace and the span that sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingContext {
    /// The trace.
    pub trace_id: TraceId,
    /// The sending span.
    pub span_id: SpanId,
    /// The sampling decision.
    pub sampled: bool,
    /// W3C `tracestate` to pass on.
    pub trace_state: Option<String>,
    /// X-Ray header keys to pass on (`Lineage`, unknown keys).
    pub xray_extra: Vec<(String, String)>,
}

impl OutgoingContext {
    /// The context of the current span, with the X-Ray keys of its invocation.
    /// `None` outside any span recorded by a [`Telemetry`](crate::Telemetry).
    pub fn current() -> Option<OutgoingContext> {
        OutgoingContext::of_span(&tracing::Span::current())
    }

    /// The context of `span`.
    pub fn of_span(span: &tracing::Span) -> Option<OutgoingContext> {
        let cx = span.context();
        let otel_span = cx.span();
        let span_context = otel_span.span_context();
        if !span_context.is_valid() {
            return None;
        }
        let trace_state = span_context.trace_state().header();
        let xray_extra = span
            .id()
            .and_then(|id| {
                span.with_subscriber(|(_, dispatch)| {
                    let registry = dispatch.downcast_ref::<Registry>()?;
                    let data = registry.span_data(&id)?;
                    let extensions = data.extensions();
                    let fields = extensions.get::<LogSpanData>()?.invocation.clone()?;
                    fields.xray_extra.clone()
                })
                .flatten()
            })
            .map(|text| parse_extra(&text))
            .unwrap_or_default();
        Some(OutgoingContext {
            trace_id: TraceId(u128::from_be_bytes(span_context.trace_id().to_bytes())),
            span_id: SpanId(u64::from_be_bytes(span_context.span_id().to_bytes())),
            sampled: span_context.is_sampled(),
            trace_state: (!trace_state.is_empty()).then_some(trace_state),
            xray_extra,
        })
    }

    /// As a [`TraceContext`], the form extraction gives.
    pub fn to_trace_context(&self) -> TraceContext {
        TraceContext {
            trace_id: self.trace_id,
            span_id: Some(self.span_id),
            sampled: Some(self.sampled),
            trace_state: self.trace_state.clone(),
            xray_extra: self.xray_extra.clone(),
            source: crate::propagation::ContextSource::W3c,
        }
    }

    /// The W3C `traceparent` value.
    pub fn traceparent(&self) -> String {
        let flags = if self.sampled { "01" } else { "00" };
        format!("00-{}-{}-{}", self.trace_id, self.span_id, flags)
    }

    /// The X-Ray header value, with the extra keys passed on.
    pub fn xray_header(&self) -> String {
        self.xray_header_keeping(&[])
    }

    /// The X-Ray header value; keys of `existing` (a header already on the
    /// carrier) that this context does not carry are kept too.
    fn xray_header_keeping(&self, existing: &[(String, String)]) -> String {
        let mut other = self.xray_extra.clone();
        for (key, value) in existing {
            if !other.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
                other.push((key.clone(), value.clone()));
            }
        }
        // A deferred decision (`Sampled=?`) came in as an extra key: it goes
        // out as it came, and is the only `Sampled` key.
        let deferred = other
            .iter()
            .any(|(key, _)| key.eq_ignore_ascii_case("Sampled"));
        XrayHeader {
            root: self.trace_id,
            parent: Some(self.span_id),
            sampled: (!deferred).then_some(self.sampled),
            other,
        }
        .to_string()
    }

    /// The key/value pairs to send as message attributes or map entries:
    /// `traceparent`, `tracestate` when there is one.
    pub fn w3c_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![(TRACEPARENT, self.traceparent())];
        if let Some(state) = &self.trace_state {
            pairs.push((TRACESTATE, state.clone()));
        }
        pairs
    }

    /// Sets `traceparent`, `tracestate` and `X-Amzn-Trace-Id`. An X-Amzn-Trace-Id
    /// already present keeps its `Lineage` and unknown keys.
    pub fn inject_http_headers(&self, headers: &mut http::HeaderMap) {
        let existing = headers
            .get(XRAY_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| XrayHeader::parse(text).ok())
            .map(|header| header.other)
            .unwrap_or_default();
        for (name, value) in self.w3c_pairs() {
            if let Ok(value) = http::HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        if let Ok(value) = http::HeaderValue::from_str(&self.xray_header_keeping(&existing)) {
            headers.insert(XRAY_HEADER, value);
        }
    }

    /// Sets the `traceparent` (and `tracestate`) message attributes of an SQS
    /// message, and its `AWSTraceHeader` system attribute, which SQS sets from
    /// the sender's X-Ray header.
    pub fn inject_sqs_message(&self, message: &mut SqsMessage) {
        for (name, value) in self.w3c_pairs() {
            let mut attribute = SqsMessageAttribute::default();
            attribute.string_value = Some(value);
            attribute.data_type = Some("String".to_owned());
            message
                .message_attributes
                .insert(name.to_owned(), attribute);
        }
        message
            .attributes
            .insert(SQS_XRAY_ATTRIBUTE.to_owned(), self.xray_header());
    }

    /// Sets the `traceparent` (and `tracestate`) message attributes of an SNS message.
    pub fn inject_sns_message(&self, message: &mut SnsMessage) {
        for (name, value) in self.w3c_pairs() {
            let mut attribute = MessageAttribute::default();
            attribute.data_type = "String".to_owned();
            attribute.value = value;
            message
                .message_attributes
                .insert(name.to_owned(), attribute);
        }
    }

    /// Sets `traceparent` (and `tracestate`) at the top of a JSON object: an
    /// EventBridge `detail`, a Step Functions input, a Kinesis record. Does
    /// nothing to a value that is not an object.
    pub fn inject_json(&self, object: &mut Value) {
        if let Value::Object(map) = object {
            for (name, value) in self.w3c_pairs() {
                map.insert(name.to_owned(), Value::String(value));
            }
        }
    }

    /// Sets `traceparent` (and `tracestate`) as string attributes of a DynamoDB
    /// item in DynamoDB JSON (`{"traceparent": {"S": "…"}}`), so that the stream
    /// record of the write carries it.
    pub fn inject_dynamodb_item(&self, item: &mut serde_json::Map<String, Value>) {
        for (name, value) in self.w3c_pairs() {
            item.insert(name.to_owned(), serde_json::json!({ "S": value }));
        }
    }

    /// Sets `traceparent`, `tracestate` and `X-Amzn-Trace-Id` in a Lambda
    /// `ClientContext.custom` map (direct invoke).
    pub fn inject_client_context(&self, custom: &mut HashMap<String, String>) {
        let existing = custom
            .get(XRAY_HEADER)
            .and_then(|text| XrayHeader::parse(text).ok())
            .map(|header| header.other)
            .unwrap_or_default();
        for (name, value) in self.w3c_pairs() {
            custom.insert(name.to_owned(), value);
        }
        custom.insert(XRAY_HEADER.to_owned(), self.xray_header_keeping(&existing));
    }
}

fn parse_extra(text: &str) -> Vec<(String, String)> {
    text.split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .filter(|(key, _)| !key.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing() -> OutgoingContext {
        OutgoingContext {
            trace_id: TraceId(0x5759e988bd862e3fe1be46a994272793),
            span_id: SpanId(0x53995c3f42cd8ad8),
            sampled: true,
            trace_state: Some("vendor=abc".to_owned()),
            xray_extra: vec![("Lineage".to_owned(), "a87bd80c:0".to_owned())],
        }
    }

    #[test]
    fn an_existing_xray_header_keeps_its_unknown_keys() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            XRAY_HEADER,
            http::HeaderValue::from_static(
                "Root=1-11111111-111111111111111111111111;Lineage=ffffffff:3;Foo=bar",
            ),
        );
        outgoing().inject_http_headers(&mut headers);
        assert_eq!(
            headers[XRAY_HEADER],
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:0;Foo=bar"
        );
        assert_eq!(headers[TRACESTATE], "vendor=abc");
    }

    proptest::proptest! {
        #[test]
        fn traceparent_and_xray_headers_round_trip(
            trace in 1u128..,
            span in 1u64..,
            sampled in proptest::bool::ANY,
            lineage in "[0-9a-f]{8}:[0-9]",
        ) {
            let outgoing = OutgoingContext {
                trace_id: TraceId(trace),
                span_id: SpanId(span),
                sampled,
                trace_state: None,
                xray_extra: vec![("Lineage".to_owned(), lineage)],
            };
            let w3c = TraceContext::from_traceparent(&outgoing.traceparent(), None).unwrap();
            proptest::prop_assert_eq!(w3c.trace_id, outgoing.trace_id);
            proptest::prop_assert_eq!(w3c.span_id, Some(outgoing.span_id));
            proptest::prop_assert_eq!(w3c.sampled, Some(sampled));
            let xray = TraceContext::from_xray(&outgoing.xray_header()).unwrap();
            proptest::prop_assert_eq!(xray.trace_id, outgoing.trace_id);
            proptest::prop_assert_eq!(xray.span_id, Some(outgoing.span_id));
            proptest::prop_assert_eq!(&xray.xray_extra, &outgoing.xray_extra);
            let mut headers = http::HeaderMap::new();
            outgoing.inject_http_headers(&mut headers);
            let extracted = crate::propagation::extract::context_from_headers(&headers).unwrap();
            proptest::prop_assert_eq!(extracted.span_id, Some(outgoing.span_id));
        }
    }

    #[test]
    fn extra_keys_parse_back() {
        assert_eq!(
            parse_extra("Lineage=a:1;Foo=bar;;broken"),
            vec![
                ("Lineage".to_owned(), "a:1".to_owned()),
                ("Foo".to_owned(), "bar".to_owned())
            ]
        );
    }
}
