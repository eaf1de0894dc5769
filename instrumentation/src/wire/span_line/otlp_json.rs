//! The OTLP JSON span line: one `TracesData` object, default-valued fields left out.
//!
//! The encoder is written by hand because the library's cannot leave default
//! fields out. `opentelemetry-proto`'s `with-serde` derives carry their serde
//! attributes in the generated code (only `key_strindex` has a
//! `skip_serializing_if`), so `serde_json` writes every field of every span:
//! empty `traceState`, `parentSpanId`, `schemaUrl`, zero counts, an empty
//! `entityRefs`, about twice the bytes ([`encode_json_line`] is that form).
//! Pruning a `serde_json::Value` afterwards would build a tree per line on the
//! invocation's path. The OTLP JSON mapping (hex ids, 64-bit integers as
//! strings, enums as numbers) is the same, and the decoder is the library's
//! serde: the tests read every line back to the same `TracesData`.

use base64::Engine as _;

use opentelemetry_proto::tonic::trace::v1::TracesData;

/// Writes `data` as one OTLP JSON line, without the trailing newline.
pub fn encode_json_line(data: &TracesData) -> String {
    // Serialising prost types with string keys cannot fail.
    serde_json::to_string(data).unwrap_or_default()
}

/// Writes `data` as one OTLP JSON line, without the trailing newline, leaving
/// out every field that holds its default value (as the OTLP JSON mapping
/// allows). Reads back with `decode_span_line` to the same `TracesData`; the
/// line is about half as long as [`encode_json_line`]'s, which writes every field.
pub fn encode_otlp_json_line(data: &TracesData) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("{\"resourceSpans\":[");
    for (index, resource_spans) in data.resource_spans.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push('{');
        let mut fields = JsonFields::new(&mut out);
        if let Some(resource) = &resource_spans.resource {
            fields.key("resource");
            fields.out.push('{');
            let mut inner = JsonFields::new(fields.out);
            inner.attributes("attributes", &resource.attributes);
            inner.number(
                "droppedAttributesCount",
                u64::from(resource.dropped_attributes_count),
            );
            fields.out.push('}');
        }
        if !resource_spans.scope_spans.is_empty() {
            fields.key("scopeSpans");
            fields.out.push('[');
            for (scope_index, scope_spans) in resource_spans.scope_spans.iter().enumerate() {
                if scope_index > 0 {
                    fields.out.push(',');
                }
                write_scope_spans(fields.out, scope_spans);
            }
            fields.out.push(']');
        }
        fields.text("schemaUrl", &resource_spans.schema_url);
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn write_scope_spans(
    out: &mut String,
    scope_spans: &opentelemetry_proto::tonic::trace::v1::ScopeSpans,
) {
    out.push('{');
    let mut fields = JsonFields::new(out);
    if let Some(scope) = &scope_spans.scope {
        fields.key("scope");
        fields.out.push('{');
        let mut inner = JsonFields::new(fields.out);
        inner.text("name", &scope.name);
        inner.text("version", &scope.version);
        inner.attributes("attributes", &scope.attributes);
        inner.number(
            "droppedAttributesCount",
            u64::from(scope.dropped_attributes_count),
        );
        fields.out.push('}');
    }
    if !scope_spans.spans.is_empty() {
        fields.key("spans");
        fields.out.push('[');
        for (index, span) in scope_spans.spans.iter().enumerate() {
            if index > 0 {
                fields.out.push(',');
            }
            write_span(fields.out, span);
        }
        fields.out.push(']');
    }
    fields.text("schemaUrl", &scope_spans.schema_url);
    out.push('}');
}

fn write_span(out: &mut String, span: &opentelemetry_proto::tonic::trace::v1::Span) {
    out.push('{');
    let mut fields = JsonFields::new(out);
    fields.hex("traceId", &span.trace_id);
    fields.hex("spanId", &span.span_id);
    fields.text("traceState", &span.trace_state);
    fields.hex("parentSpanId", &span.parent_span_id);
    fields.number("flags", u64::from(span.flags));
    fields.text("name", &span.name);
    fields.signed("kind", i64::from(span.kind));
    fields.quoted_number("startTimeUnixNano", span.start_time_unix_nano);
    fields.quoted_number("endTimeUnixNano", span.end_time_unix_nano);
    fields.attributes("attributes", &span.attributes);
    fields.number(
        "droppedAttributesCount",
        u64::from(span.dropped_attributes_count),
    );
    if !span.events.is_empty() {
        fields.key("events");
        fields.out.push('[');
        for (index, event) in span.events.iter().enumerate() {
            if index > 0 {
                fields.out.push(',');
            }
            fields.out.push('{');
            let mut inner = JsonFields::new(fields.out);
            inner.quoted_number("timeUnixNano", event.time_unix_nano);
            inner.text("name", &event.name);
            inner.attributes("attributes", &event.attributes);
            inner.number(
                "droppedAttributesCount",
                u64::from(event.dropped_attributes_count),
            );
            fields.out.push('}');
        }
        fields.out.push(']');
    }
    fields.number("droppedEventsCount", u64::from(span.dropped_events_count));
    if !span.links.is_empty() {
        fields.key("links");
        fields.out.push('[');
        for (index, link) in span.links.iter().enumerate() {
            if index > 0 {
                fields.out.push(',');
            }
            fields.out.push('{');
            let mut inner = JsonFields::new(fields.out);
            inner.hex("traceId", &link.trace_id);
            inner.hex("spanId", &link.span_id);
            inner.text("traceState", &link.trace_state);
            inner.attributes("attributes", &link.attributes);
            inner.number(
                "droppedAttributesCount",
                u64::from(link.dropped_attributes_count),
            );
            inner.number("flags", u64::from(link.flags));
            fields.out.push('}');
        }
        fields.out.push(']');
    }
    fields.number("droppedLinksCount", u64::from(span.dropped_links_count));
    if let Some(status) = &span.status {
        fields.key("status");
        fields.out.push('{');
        let mut inner = JsonFields::new(fields.out);
        inner.text("message", &status.message);
        inner.signed("code", i64::from(status.code));
        fields.out.push('}');
    }
    out.push('}');
}

/// Writes the fields of one JSON object, skipping defaults, with the commas.
struct JsonFields<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> JsonFields<'a> {
    fn new(out: &'a mut String) -> JsonFields<'a> {
        JsonFields { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    fn text(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            self.key(key);
            crate::wire::write_json_string(self.out, value);
        }
    }

    fn number(&mut self, key: &str, value: u64) {
        if value != 0 {
            use std::fmt::Write as _;
            self.key(key);
            let _ = write!(self.out, "{value}");
        }
    }

    fn signed(&mut self, key: &str, value: i64) {
        if value != 0 {
            use std::fmt::Write as _;
            self.key(key);
            let _ = write!(self.out, "{value}");
        }
    }

    /// 64-bit integers are strings in OTLP JSON.
    fn quoted_number(&mut self, key: &str, value: u64) {
        if value != 0 {
            use std::fmt::Write as _;
            self.key(key);
            let _ = write!(self.out, "\"{value}\"");
        }
    }

    /// Trace and span ids are lowercase hex in OTLP JSON.
    fn hex(&mut self, key: &str, bytes: &[u8]) {
        if !bytes.is_empty() {
            use std::fmt::Write as _;
            self.key(key);
            self.out.push('"');
            for byte in bytes {
                let _ = write!(self.out, "{byte:02x}");
            }
            self.out.push('"');
        }
    }

    fn attributes(
        &mut self,
        key: &str,
        attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    ) {
        if attributes.is_empty() {
            return;
        }
        self.key(key);
        write_key_values(self.out, attributes);
    }
}

fn write_key_values(
    out: &mut String,
    attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
) {
    out.push('[');
    for (index, attribute) in attributes.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str("{\"key\":");
        crate::wire::write_json_string(out, &attribute.key);
        if let Some(value) = &attribute.value {
            out.push_str(",\"value\":");
            write_any_value(out, value);
        }
        out.push('}');
    }
    out.push(']');
}

fn write_any_value(out: &mut String, value: &opentelemetry_proto::tonic::common::v1::AnyValue) {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use std::fmt::Write as _;
    match &value.value {
        None => out.push_str("{}"),
        Some(Value::StringValue(text)) => {
            out.push_str("{\"stringValue\":");
            crate::wire::write_json_string(out, text);
            out.push('}');
        }
        Some(Value::BoolValue(flag)) => {
            let _ = write!(out, "{{\"boolValue\":{flag}}}");
        }
        Some(Value::IntValue(number)) => {
            let _ = write!(out, "{{\"intValue\":\"{number}\"}}");
        }
        Some(Value::DoubleValue(number)) => {
            if number.is_finite() {
                let _ = write!(out, "{{\"doubleValue\":{number:?}}}");
            } else {
                // JSON has no NaN or infinity; OTLP JSON spells them as strings.
                let text = if number.is_nan() {
                    "NaN"
                } else if *number > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                let _ = write!(out, "{{\"doubleValue\":\"{text}\"}}");
            }
        }
        Some(Value::ArrayValue(array)) => {
            out.push_str("{\"arrayValue\":{\"values\":[");
            for (index, item) in array.values.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_any_value(out, item);
            }
            out.push_str("]}}");
        }
        Some(Value::KvlistValue(list)) => {
            out.push_str("{\"kvlistValue\":{\"values\":");
            write_key_values(out, &list.values);
            out.push_str("}}");
        }
        Some(Value::BytesValue(bytes)) => {
            out.push_str("{\"bytesValue\":\"");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(bytes));
            out.push_str("\"}");
        }
        Some(_) => out.push_str("{}"),
    }
}
