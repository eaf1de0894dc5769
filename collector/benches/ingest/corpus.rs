//! The large-batch corpus: deterministic Lambda subscription events in the
//! line formats of `../shared/fixtures/cloudwatch`.

use std::io::Write as _;

use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, TracesData};
use tracelake_instrumentation::wire::{ids::TraceId, span_line};

/// A small deterministic generator (xorshift64*).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub(crate) fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

pub(crate) fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

pub(crate) fn iso(ms: i64) -> String {
    let seconds = ms / 1000;
    let (h, m, s) = ((seconds / 3600) % 24, (seconds / 60) % 60, seconds % 60);
    format!("2025-11-29T{h:02}:{m:02}:{s:02}.{:03}Z", ms % 1000)
}

/// The events of one invocation on a stream, in the runtime's own formats.
pub(crate) fn invocation(
    rng: &mut Rng,
    service: &str,
    runtime: u64,
    start_ms: i64,
    events: &mut Vec<(i64, String)>,
) {
    let request_id = rng.uuid();
    let trace =
        TraceId(u128::from(rng.next()) << 64 | u128::from(rng.next()) | (0x6929_0000u128 << 96));
    let trace_hex = trace.to_string();
    let mut t = start_ms;
    events.push((
        t,
        format!("START RequestId: {request_id} Version: $LATEST\n"),
    ));
    let lines = 3 + rng.below(8);
    for i in 0..lines {
        t += 1 + rng.below(20) as i64;
        let amount = rng.below(100_000);
        let line = match runtime {
            0 => format!(
                r#"{{"timestamp":"{}","level":"INFO","message":"charged card {i} of {amount} cents","trace_id":"{trace_hex}","span_id":"{:016x}","request_id":"{request_id}","service":"{service}","xray_trace_id":"{}","function_request_id":"{request_id}","order_id":"o-{amount}","attempt":{i}}}"#,
                iso(t),
                rng.next() | 1,
                trace.to_xray()
            ),
            1 => format!(
                "{}\t{request_id}\tINFO\tprocessed item {i} with total {amount}\n",
                iso(t)
            ),
            2 => format!(
                "[INFO]\t{}\t{request_id}\tNo data changes in the table address {amount}\n",
                iso(t)
            ),
            3 => format!(
                r#"{{"level":"INFO","location":"collect.handler:{i}","message":"Collecting payment {amount}","timestamp":"2025-11-29 01:00:00,{:03}+0000","service":"{service}","cold_start":false,"function_name":"{service}","function_memory_size":128,"function_arn":"arn:aws:lambda:eu-west-1:123456789012:function:{service}","function_request_id":"{request_id}","xray_trace_id":"{}"}}"#,
                t % 1000,
                trace.to_xray()
            ),
            _ => format!("uninstrumented output line {i}: value={amount}\n"),
        };
        events.push((t, line));
    }
    if runtime == 0 {
        let spans = (0..6)
            .map(|i| Span {
                trace_id: trace.0.to_be_bytes().to_vec(),
                span_id: (rng.next() | 1).to_be_bytes().to_vec(),
                parent_span_id: if i == 0 {
                    Vec::new()
                } else {
                    (rng.next() | 1).to_be_bytes().to_vec()
                },
                name: if i == 0 {
                    format!("{service} invoke")
                } else {
                    format!("GET /items/{i}")
                },
                kind: if i == 0 { 2 } else { 3 },
                start_time_unix_nano: (start_ms as u64) * 1_000_000 + i,
                end_time_unix_nano: (t as u64) * 1_000_000,
                attributes: if i == 0 {
                    vec![
                        kv("faas.invocation_id", &request_id),
                        kv("faas.trigger", "http"),
                        kv("cloud.account.id", "123456789012"),
                    ]
                } else {
                    vec![
                        kv("http.request.method", "GET"),
                        kv("server.address", "api.internal"),
                    ]
                },
                status: Some(Status {
                    code: 1,
                    ..Status::default()
                }),
                ..Span::default()
            })
            .collect();
        let data = TracesData {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", service),
                        kv("faas.name", service),
                        kv("cloud.region", "eu-west-1"),
                    ],
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        };
        events.push((t, span_line::encode_json_line(&data)));
    }
    t += 1;
    events.push((t, format!("END RequestId: {request_id}\n")));
    events.push((
        t,
        format!(
            "REPORT RequestId: {request_id}\tDuration: {}.{:02} ms\tBilled Duration: {} ms\tMemory Size: 128 MB\tMax Memory Used: {} MB\t\nXRAY TraceId: {}\tSegmentId: {:016x}\tSampled: true\t\n",
            t - start_ms,
            rng.below(100),
            t - start_ms + 1,
            60 + rng.below(60),
            trace.to_xray(),
            rng.next()
        ),
    ));
}

/// One Lambda subscription event holding `target_events` events of one stream.
pub(crate) fn lambda_event(rng: &mut Rng, index: usize, target_events: usize) -> (Vec<u8>, usize) {
    lambda_event_padded(rng, index, target_events, 0)
}

/// Like [`lambda_event`], with `padding` random hex digits appended to each
/// plain or runtime line (stack traces, payload dumps: text that compresses
/// about as badly as real logs do).
pub(crate) fn lambda_event_padded(
    rng: &mut Rng,
    index: usize,
    target_events: usize,
    padding: usize,
) -> (Vec<u8>, usize) {
    let service = format!("svc-{:03}", index % 300);
    let runtime = (index % 10).min(4) as u64; // half ours, the rest spread over formats
    let mut events = Vec::new();
    let mut t = 1_764_378_000_000 + index as i64 * 10;
    while events.len() < target_events {
        let line_format = if runtime == 0 { 0 } else { rng.below(5) };
        invocation(rng, &service, line_format, t, &mut events);
        t = events.last().map_or(t, |(time, _)| *time) + 5;
    }
    events.truncate(target_events);
    if padding > 0 {
        for (_, message) in events.iter_mut().filter(|(_, m)| !m.starts_with('{')) {
            let hex: String = (0..padding / 16)
                .map(|_| format!("{:016x}", rng.next()))
                .collect();
            message.insert_str(message.trim_end().len(), &format!(" detail={hex}"));
        }
    }
    let log_events: Vec<serde_json::Value> = events
        .iter()
        .enumerate()
        .map(|(i, (time, message))| {
            serde_json::json!({"id": format!("{}", 37_000_000_000_000_000_000u128 + (index * 100_000 + i) as u128), "timestamp": time, "message": message})
        })
        .collect();
    let json = serde_json::to_vec(&serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": format!("/aws/lambda/{service}"),
        "logStream": format!("2025/11/29/[$LATEST]{:032x}", rng.next()),
        "subscriptionFilters": ["tracelake"],
        "logEvents": log_events,
    }))
    .expect("json");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&json).expect("gzip");
    let compressed = gzip.finish().expect("gzip");
    let data = base64::engine::general_purpose::STANDARD.encode(compressed);
    (
        format!(r#"{{"awslogs":{{"data":"{data}"}}}}"#).into_bytes(),
        json.len(),
    )
}
