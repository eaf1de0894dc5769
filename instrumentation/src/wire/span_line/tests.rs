//! Unit tests of the span line formats.

use super::*;

/// Length and CRC-32 of the `tracelake-2` dictionary, pinned when the format
/// was released.
const DICTIONARY_LEN: u32 = 1067;
const DICTIONARY_CRC32: u32 = 1_717_584_726;

const OTLP_JSON: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeSpans":[{"scope":{"name":"tracelake"},"spans":[{"traceId":"5759e988bd862e3fe1be46a994272793","spanId":"53995c3f42cd8ad8","parentSpanId":"","name":"GET /cart","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000","attributes":[{"key":"faas.coldstart","value":{"boolValue":true}},{"key":"http.status_code","value":{"intValue":"200"}}],"status":{"code":1}}]}]}]}"#;

#[test]
fn otlp_json_lines_decode() {
    assert!(is_span_line(OTLP_JSON));
    let data = decode_span_line(OTLP_JSON).unwrap();
    let span = &data.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(span.name, "GET /cart");
    assert_eq!(span.trace_id.len(), 16);
    assert_eq!(
        span.end_time_unix_nano - span.start_time_unix_nano,
        250_000_000
    );
    let again = decode_span_line(&encode_json_line(&data)).unwrap();
    assert_eq!(again, data);
}

#[test]
fn envelope_with_gzipped_protobuf_decodes() {
    use std::io::Write as _;
    let data = decode_span_line(OTLP_JSON).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&data.encode_to_vec()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
    let line = format!(
        r#"{{"__otel_otlp_stdout":"0.1.0","source":"checkout","endpoint":"http://localhost:4318/v1/traces","method":"POST","content-type":"application/x-protobuf","content-encoding":"gzip","headers":{{}},"payload":"{payload}","base64":true}}"#
    );
    assert!(is_span_line(&line));
    assert_eq!(decode_span_line(&line).unwrap(), data);
}

fn sample_with_everything() -> TracesData {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::trace::v1::{Status, span};
    let mut data = decode_span_line(OTLP_JSON).unwrap();
    let span = &mut data.resource_spans[0].scope_spans[0].spans[0];
    let value = |v: any_value::Value| Some(AnyValue { value: Some(v) });
    span.attributes.extend([
        KeyValue {
            key: "text \"quoted\"\n".into(),
            value: value(any_value::Value::StringValue("é\u{1}".into())),
            ..Default::default()
        },
        KeyValue {
            key: "ratio".into(),
            value: value(any_value::Value::DoubleValue(0.25)),
            ..Default::default()
        },
        KeyValue {
            key: "whole".into(),
            value: value(any_value::Value::DoubleValue(3.0)),
            ..Default::default()
        },
        KeyValue {
            key: "negative".into(),
            value: value(any_value::Value::IntValue(-7)),
            ..Default::default()
        },
        KeyValue {
            key: "list".into(),
            value: value(any_value::Value::ArrayValue(ArrayValue {
                values: vec![AnyValue {
                    value: Some(any_value::Value::BoolValue(false)),
                }],
            })),
            ..Default::default()
        },
        KeyValue {
            key: "bytes".into(),
            value: value(any_value::Value::BytesValue(vec![0, 255, 7])),
            ..Default::default()
        },
    ]);
    span.parent_span_id = vec![1, 2, 3, 4, 5, 6, 7, 8];
    span.trace_state = "vendor=x".into();
    span.flags = 0x301;
    span.events.push(span::Event {
        time_unix_nano: 5,
        name: "exception".into(),
        attributes: vec![],
        dropped_attributes_count: 1,
    });
    span.links.push(span::Link {
        trace_id: vec![9; 16],
        span_id: vec![8; 8],
        trace_state: String::new(),
        attributes: vec![],
        dropped_attributes_count: 0,
        flags: 0x100,
    });
    span.status = Some(Status {
        message: "boom".into(),
        code: 2,
    });
    span.dropped_links_count = 3;
    data
}

#[test]
fn lean_otlp_json_reads_back_to_the_same_data_and_is_shorter() {
    let data = sample_with_everything();
    let lean = encode_otlp_json_line(&data);
    assert_eq!(decode_span_line(&lean).unwrap(), data);
    assert!(lean.len() < encode_json_line(&data).len());
    // Zero-valued fields and empty lists are left out.
    let plain = decode_span_line(OTLP_JSON).unwrap();
    let lean = encode_otlp_json_line(&plain);
    assert!(!lean.contains("droppedAttributesCount") && !lean.contains("\"events\""));
    assert_eq!(decode_span_line(&lean).unwrap(), plain);
}

#[test]
fn lines_over_the_limit_are_split_never_cut() {
    let mut data = sample_with_everything();
    let template = data.resource_spans[0].scope_spans[0].spans[0].clone();
    let spans = &mut data.resource_spans[0].scope_spans[0].spans;
    for index in 0..50u8 {
        let mut span = template.clone();
        span.span_id = vec![index + 1; 8];
        spans.push(span);
    }
    // Near-identical spans compress well: the compact limit is smaller.
    for (format, limit) in [(SpanFormat::OtlpJson, 2_000), (SpanFormat::Compact, 400)] {
        let lines = encode_lines(&data, format, limit);
        assert!(lines.len() > 1, "{format:?}");
        let mut names = 0;
        for line in &lines {
            assert!(line.len() <= limit, "{format:?} line of {}", line.len());
            let back = decode_span_line(line).unwrap();
            assert_eq!(
                back.resource_spans[0].resource,
                data.resource_spans[0].resource
            );
            names += back.resource_spans[0].scope_spans[0].spans.len();
        }
        assert_eq!(names, 51);
    }
    // One span too large alone is shortened and marked, not dropped.
    let mut huge = decode_span_line(OTLP_JSON).unwrap();
    huge.resource_spans[0].scope_spans[0].spans[0]
        .attributes
        .push(opentelemetry_proto::tonic::common::v1::KeyValue {
            key: "payload".into(),
            value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                value: Some(
                    opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                        "x".repeat(10_000),
                    ),
                ),
            }),
            ..Default::default()
        });
    let lines = encode_lines(&huge, SpanFormat::OtlpJson, 3_000);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains(TRUNCATED_ATTRIBUTE));
    assert_eq!(
        decode_span_line(&lines[0]).unwrap().resource_spans[0].scope_spans[0].spans[0].name,
        "GET /cart"
    );
}

#[test]
fn one_encoder_writes_many_independent_lines() {
    let mut encoder = SpanEncoder::new(SpanFormat::Compact);
    let first = sample_with_everything();
    let second = decode_span_line(OTLP_JSON).unwrap();
    for data in [&first, &second, &first] {
        let line = encoder.encode(data);
        // Each line is a whole deflate stream: read back alone.
        assert_eq!(&decode_span_line(&line).unwrap(), data);
        assert_eq!(line, encode_compact_line(data));
    }
}

fn gzip_envelope(gzipped: &[u8]) -> String {
    let payload = base64::engine::general_purpose::STANDARD.encode(gzipped);
    format!(
        r#"{{"__otel_otlp_stdout":"0.1.0","content-type":"application/x-protobuf","content-encoding":"gzip","payload":"{payload}","base64":true}}"#
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn an_envelope_payload_in_two_gzip_members_is_read_whole() {
    let data = decode_span_line(OTLP_JSON).unwrap();
    let protobuf = data.encode_to_vec();
    let (first, second) = protobuf.split_at(protobuf.len() / 2);
    let mut gzipped = gzip(first);
    gzipped.extend(gzip(second));
    assert_eq!(decode_span_line(&gzip_envelope(&gzipped)).unwrap(), data);
}

/// The envelope reader's cap is the shared gunzip's (`wire::gzip`, tested
/// there with small caps; a 32 MiB bomb takes seconds in a debug build): its
/// two errors keep their span-line names.
#[test]
fn gunzip_errors_become_the_span_line_errors_of_the_envelope() {
    use crate::wire::gzip::GunzipError;
    assert!(matches!(
        SpanLineError::from(GunzipError::TooLarge {
            limit: MAX_ENVELOPE_PAYLOAD_BYTES
        }),
        SpanLineError::TooLarge
    ));
    let invalid = std::io::Error::new(std::io::ErrorKind::InvalidData, "corrupt deflate stream");
    assert!(matches!(
        SpanLineError::from(GunzipError::Invalid(invalid)),
        SpanLineError::Gzip(error) if error.to_string() == "corrupt deflate stream"
    ));
}

#[test]
fn broken_envelopes_are_errors() {
    let bad_base64 = r#"{"__otel_otlp_stdout":"0.1.0","content-type":"application/x-protobuf","content-encoding":"gzip","payload":"!!!","base64":true}"#;
    assert!(matches!(
        decode_span_line(bad_base64),
        Err(SpanLineError::Base64(_))
    ));
    let bad_gzip = r#"{"__otel_otlp_stdout":"0.1.0","content-type":"application/x-protobuf","content-encoding":"gzip","payload":"aGVsbG8=","base64":true}"#;
    assert!(matches!(
        decode_span_line(bad_gzip),
        Err(SpanLineError::Gzip(_))
    ));
    assert!(decode_span_line(r#"{"resourceSpans":[{"#).is_err());
}

fn text_kv(key: &str, value: &str) -> opentelemetry_proto::tonic::common::v1::KeyValue {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

/// A Lambda function's resource as the exporter writes it, with `service`.
fn lambda_sample(service: &str) -> TracesData {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    let mut data = sample_with_everything();
    let resource = data.resource_spans[0].resource.as_mut().unwrap();
    resource.attributes = vec![
        text_kv("service.name", service),
        text_kv("cloud.provider", "aws"),
        text_kv("cloud.platform", "aws_lambda"),
        text_kv("cloud.region", "eu-west-1"),
        text_kv("faas.name", "checkout-prod"),
        text_kv("faas.version", "$LATEST"),
        text_kv("faas.instance", "2026/11/29/[$LATEST]0123456789abcdef"),
        KeyValue {
            key: "faas.max_memory".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(128 << 20)),
            }),
            ..Default::default()
        },
    ];
    data
}

fn sorted_resource(data: &TracesData) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = data.resource_spans[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .map(|kv| (kv.key.clone(), format!("{:?}", kv.value)))
        .collect();
    out.sort();
    out
}

fn keys(data: &TracesData) -> Vec<String> {
    sorted_resource(data)
        .into_iter()
        .map(|(key, _)| key)
        .collect()
}

#[test]
fn compact_lines_leave_out_what_their_origin_implies_and_get_it_back() {
    let origin = LineOrigin::new(
        "/aws/lambda/checkout-prod",
        "2026/11/29/[$LATEST]0123456789abcdef",
    );
    let data = lambda_sample("checkout-prod");
    let mut encoder = SpanEncoder::new(SpanFormat::Compact).with_origin(origin.clone());
    let line = encoder.encode(&data);
    assert!(line.starts_with(r#"{"__otel_otlp_stdout":"tracelake-2","payload":""#));
    assert!(line.len() < encode_compact_line(&data).len());

    // As written: only what the origin does not imply.
    let written = decode_span_line(&line).unwrap();
    assert_eq!(keys(&written), ["cloud.region", "faas.max_memory"]);
    assert_eq!(
        written.resource_spans[0].scope_spans,
        data.resource_spans[0].scope_spans
    );
    // As the collector reads it: the same resource as the writer's, and nothing else changed.
    let restored = decode_span_line_from(&line, &origin).unwrap();
    assert_eq!(sorted_resource(&restored), sorted_resource(&data));
    assert_eq!(
        restored.resource_spans[0].scope_spans,
        data.resource_spans[0].scope_spans
    );
}

#[test]
fn values_the_origin_does_not_imply_are_kept_and_never_overwritten() {
    // A custom log group, a service name of its own, another version.
    let origin = LineOrigin::new("/custom/logs", "2026/11/29/[7]0123456789abcdef");
    let data = lambda_sample("checkout");
    let line = SpanEncoder::new(SpanFormat::Compact)
        .with_origin(origin.clone())
        .encode(&data);
    let written = decode_span_line(&line).unwrap();
    assert_eq!(
        keys(&written),
        [
            "cloud.region",
            "faas.instance",
            "faas.max_memory",
            "faas.name",
            "faas.version",
            "service.name"
        ]
    );
    let restored = decode_span_line_from(&line, &origin).unwrap();
    assert_eq!(sorted_resource(&restored), sorted_resource(&data));
}

#[test]
fn origins_imply_the_lambda_resource() {
    let implied = LineOrigin::new("/aws/lambda/orders", "2026/11/29/[12]abc").implied_resource();
    assert_eq!(
        implied,
        [
            ("cloud.provider", "aws".to_owned()),
            ("cloud.platform", "aws_lambda".to_owned()),
            ("faas.name", "orders".to_owned()),
            ("faas.instance", "2026/11/29/[12]abc".to_owned()),
            ("faas.version", "12".to_owned()),
        ]
    );
    // Not a Lambda log group, not a Lambda stream name: no name, no version.
    let implied = LineOrigin::new("/ecs/orders", "orders/web/abc[1]").implied_resource();
    assert_eq!(implied.len(), 3, "{implied:?}");
    assert_eq!(
        implied[2],
        ("faas.instance", "orders/web/abc[1]".to_owned())
    );
}

#[test]
fn the_protobuf_written_without_the_implied_resource_is_prosts_encoding() {
    let origin = LineOrigin::new("/aws/lambda/checkout-prod", "");
    let mut data = lambda_sample("checkout-prod");
    data.resource_spans[0].schema_url = "https://opentelemetry.io/schemas/1.30.0".into();
    data.resource_spans.push(data.resource_spans[0].clone());
    let mut ours = Vec::new();
    compact::encode_protobuf(&data, Some(&origin), &mut ours);
    let mut expected = data.clone();
    for resource_spans in &mut expected.resource_spans {
        resource_spans
            .resource
            .as_mut()
            .unwrap()
            .attributes
            .retain(|kv| {
                !matches!(
                    kv.key.as_str(),
                    "service.name" | "faas.name" | "cloud.provider" | "cloud.platform"
                )
            });
    }
    assert_eq!(ours, expected.encode_to_vec());
    let mut whole = Vec::new();
    compact::encode_protobuf(&data, None, &mut whole);
    assert_eq!(whole, data.encode_to_vec());
}

/// The dictionary is part of format `tracelake-2`: lines already written
/// need exactly these bytes. A change needs a new version.
#[test]
fn the_tracelake_2_dictionary_is_frozen() {
    let mut crc = flate2::Crc::new();
    crc.update(dictionary::DICTIONARY_V2);
    assert_eq!(
        (crc.amount(), crc.sum()),
        (DICTIONARY_LEN, DICTIONARY_CRC32)
    );
}

#[test]
fn unknown_versions_and_broken_compact_payloads_are_errors() {
    let data = lambda_sample("checkout-prod");
    let line = encode_compact_line(&data);
    let newer = line.replace("tracelake-2", "tracelake-3");
    assert!(matches!(
        decode_span_line(&newer),
        Err(SpanLineError::UnsupportedVersion(version)) if version == "tracelake-3"
    ));
    // Cut short: an error, not a hang or a partial read.
    let payload_start = line.find("payload\":\"").unwrap() + 10;
    let cut = format!("{}\"}}", &line[..payload_start + 40]);
    assert!(matches!(
        decode_span_line(&cut),
        Err(SpanLineError::Deflate(_))
    ));
    let garbage = r#"{"__otel_otlp_stdout":"tracelake-2","payload":"//////////8"}"#;
    assert!(decode_span_line(garbage).is_err());
    let not_base64 = r#"{"__otel_otlp_stdout":"tracelake-2","payload":"!!"}"#;
    assert!(matches!(
        decode_span_line(not_base64),
        Err(SpanLineError::Base64(_))
    ));
}
