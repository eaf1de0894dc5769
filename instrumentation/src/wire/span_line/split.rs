//! Lines that fit one CloudWatch event: spans split across lines, a span too
//! large alone shortened and marked.

use opentelemetry_proto::tonic::trace::v1::TracesData;

use super::compact::SpanEncoder;
use super::format::SpanFormat;

/// The attribute set on a span whose attributes or events had to be cut so that
/// its line fits in one CloudWatch event.
pub const TRUNCATED_ATTRIBUTE: &str = "tracelake.truncated";

/// Encodes `data` as lines of at most `limit` bytes each (without newlines).
///
/// Spans are never cut across lines: when the whole does not fit, the spans are
/// split into several `TracesData`, each keeping its resource and scope. A single
/// span too large for a line on its own loses its events and has long string
/// values shortened, and is marked with [`TRUNCATED_ATTRIBUTE`].
pub fn encode_lines(data: &TracesData, format: SpanFormat, limit: usize) -> Vec<String> {
    SpanEncoder::new(format).encode_lines(data, limit)
}

impl SpanEncoder {
    /// Encodes `data` as lines of at most `limit` bytes each; see [`encode_lines`].
    pub fn encode_lines(&mut self, data: &TracesData, limit: usize) -> Vec<String> {
        let mut lines = Vec::new();
        encode_lines_into(data, self, limit, &mut lines);
        lines
    }
}

fn encode_lines_into(
    data: &TracesData,
    encoder: &mut SpanEncoder,
    limit: usize,
    lines: &mut Vec<String>,
) {
    let line = encoder.encode(data);
    if line.len() <= limit {
        lines.push(line);
        return;
    }
    let span_count = count_spans(data);
    if span_count <= 1 {
        let shrunk = shrink_single_span(data, encoder, limit);
        if let Some(line) = shrunk {
            lines.push(line);
        }
        return;
    }
    let (first, second) = split_spans(data, span_count / 2);
    encode_lines_into(&first, encoder, limit, lines);
    encode_lines_into(&second, encoder, limit, lines);
}

fn count_spans(data: &TracesData) -> usize {
    data.resource_spans
        .iter()
        .flat_map(|resource| &resource.scope_spans)
        .map(|scope| scope.spans.len())
        .sum()
}

/// Splits `data` into the first `at` spans and the rest, each half keeping the
/// resource and scope of its spans.
fn split_spans(data: &TracesData, at: usize) -> (TracesData, TracesData) {
    let mut first = TracesData::default();
    let mut second = TracesData::default();
    let mut seen = 0usize;
    for resource in &data.resource_spans {
        let mut first_resource = resource.clone();
        first_resource.scope_spans.clear();
        let mut second_resource = first_resource.clone();
        for scope in &resource.scope_spans {
            let mut first_scope = scope.clone();
            first_scope.spans.clear();
            let mut second_scope = first_scope.clone();
            for span in &scope.spans {
                if seen < at {
                    first_scope.spans.push(span.clone());
                } else {
                    second_scope.spans.push(span.clone());
                }
                seen += 1;
            }
            if !first_scope.spans.is_empty() {
                first_resource.scope_spans.push(first_scope);
            }
            if !second_scope.spans.is_empty() {
                second_resource.scope_spans.push(second_scope);
            }
        }
        if !first_resource.scope_spans.is_empty() {
            first.resource_spans.push(first_resource);
        }
        if !second_resource.scope_spans.is_empty() {
            second.resource_spans.push(second_resource);
        }
    }
    (first, second)
}

fn shrink_single_span(
    data: &TracesData,
    encoder: &mut SpanEncoder,
    limit: usize,
) -> Option<String> {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    let mut data = data.clone();
    // Each pass keeps less; the last keeps only the span's identity.
    for max_value_len in [4096usize, 512, 64, 0] {
        for resource in &mut data.resource_spans {
            for scope in &mut resource.scope_spans {
                for span in &mut scope.spans {
                    span.dropped_events_count += span.events.len() as u32;
                    span.events.clear();
                    if max_value_len == 0 {
                        span.dropped_attributes_count += span.attributes.len() as u32;
                        span.attributes.clear();
                        span.dropped_links_count += span.links.len() as u32;
                        span.links.clear();
                    }
                    for attribute in &mut span.attributes {
                        if let Some(AnyValue {
                            value: Some(any_value::Value::StringValue(text)),
                        }) = &mut attribute.value
                        {
                            truncate_on_char_boundary(text, max_value_len);
                        }
                    }
                    if let Some(status) = &mut span.status {
                        truncate_on_char_boundary(&mut status.message, max_value_len.max(256));
                    }
                    span.attributes.retain(|kv| kv.key != TRUNCATED_ATTRIBUTE);
                    span.attributes.push(KeyValue {
                        key: TRUNCATED_ATTRIBUTE.to_owned(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::BoolValue(true)),
                        }),
                        ..Default::default()
                    });
                }
            }
        }
        let line = encoder.encode(&data);
        if line.len() <= limit {
            return Some(line);
        }
    }
    None
}

fn truncate_on_char_boundary(text: &mut String, max_len: usize) {
    if text.len() <= max_len {
        return;
    }
    let mut end = max_len;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}
