//! Decode: from the bytes CloudWatch Logs delivers to batches of log events.
//!
//! Accepted inputs, told apart by their first bytes and keys:
//! - the Lambda subscription event `{"awslogs":{"data":"<base64 gzip>"}}`;
//! - a decoded subscription payload (`DATA_MESSAGE` or `CONTROL_MESSAGE` JSON);
//! - a Firehose HTTP endpoint request `{"requestId":…,"records":[{"data":…}]}`;
//! - gzipped bytes of any of these (a `.gz` file, a Kinesis or Firehose record);
//! - base64 text of gzipped bytes (as Firehose and Kinesis records are written);
//! - JSON lines holding one of these per line.
//!
//! Unknown fields (`policyLevel`, `extractedFields`, …) are accepted. Every
//! decompression is capped at [`DecodeLimits::max_decompressed_bytes`], so a gzip
//! bomb becomes an error instead of filling memory.
//!
//! Why not `aws_lambda_events`' own deserializer for the Lambda event: its
//! `AwsLogs` gunzips without a bound and rejects keys beside `data`, and moto
//! writes event ids as numbers. The payload types below read the same JSON; a
//! test checks that both read every fixture the same.

mod compression;
mod error;

use serde::Deserialize;
use serde_json::value::RawValue;
use tracelake_instrumentation::wire::gzip::gunzip_capped;

use crate::parse::time::EVENT_TIME_RANGE_MS;
use compression::{base64_decode, trim_ascii};
pub use error::DecodeError;

/// CloudWatch Logs' largest event since April 2025: 1 MB (1,048,576 bytes).
/// Lambda still cuts a stdout line at 256 KB, but other sources (ECS, agents,
/// `PutLogEvents`) send events up to this size.
pub const CLOUDWATCH_MAX_EVENT_BYTES: usize = 1_048_576;

/// The limits that keep hostile input from exhausting memory.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// The most bytes one gzip stream may expand to. CloudWatch caps a
    /// subscription payload at 1 MB compressed (about 6 MB of JSON); 64 MiB leaves
    /// room for honest input and none for a bomb.
    pub max_decompressed_bytes: u64,
    /// The largest log event message indexed; larger ones are quarantined whole.
    /// CloudWatch's own limit, 1 MB, by default ([`CLOUDWATCH_MAX_EVENT_BYTES`]).
    pub max_event_bytes: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_decompressed_bytes: 64 * 1024 * 1024,
            max_event_bytes: CLOUDWATCH_MAX_EVENT_BYTES,
        }
    }
}

/// One CloudWatch log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// CloudWatch's event id (a decimal string; moto writes a number).
    pub id: String,
    /// Milliseconds since the epoch. Decode only lets through times from 1970 to
    /// 2200, so that nanoseconds always fit an `i64`.
    pub timestamp_ms: i64,
    /// The event text.
    pub message: String,
}

impl LogEvent {
    /// The event time in nanoseconds (saturating, for events built by hand).
    pub fn timestamp_ns(&self) -> i64 {
        self.timestamp_ms.saturating_mul(1_000_000)
    }
}

/// An event that could not be indexed, with the reason; it goes to quarantine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedEvent {
    /// The event; for one that did not decode, its JSON as it came.
    pub event: LogEvent,
    /// Why, in words.
    pub reason: String,
}

/// A decoded `DATA_MESSAGE`: the events of one log stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogBatch {
    /// The account that owns the log group.
    pub owner: String,
    /// e.g. `/aws/lambda/checkout`.
    pub log_group: String,
    /// e.g. `2026/11/29/[$LATEST]94fa867e5374431291a7fc14e2f56ae7`.
    pub log_stream: String,
    /// The events, in delivery order.
    pub events: Vec<LogEvent>,
    /// Events of the payload that could not be read, each with its reason: they
    /// are quarantined while the others are indexed.
    pub rejected: Vec<QuarantinedEvent>,
}

impl LogBatch {
    /// Every event the payload held: read and rejected.
    pub fn events_in(&self) -> usize {
        self.events.len() + self.rejected.len()
    }
}

/// What one payload turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Log events to index.
    Data(LogBatch),
    /// CloudWatch checking that the destination is reachable: counted, not indexed.
    Control,
}

/// The result of decoding one payload: the payload, or why it failed with the
/// raw bytes of that payload (so that quarantine keeps exactly what failed).
pub type DecodedPayload = Result<Payload, (DecodeError, Vec<u8>)>;

#[derive(Deserialize)]
struct SubscriptionEvent {
    #[serde(deserialize_with = "string_or_number")]
    id: String,
    timestamp: serde_json::Number,
    message: String,
}

/// Only the id and time of an event, to name one that failed to decode whole.
#[derive(Deserialize, Default)]
struct EventKeys {
    #[serde(default, deserialize_with = "string_or_number")]
    id: String,
    #[serde(default)]
    timestamp: Option<serde_json::Number>,
}

/// An event id as text: CloudWatch writes a string, moto a number (whose
/// text is then the id, as `serde_json` writes that number).
fn string_or_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct Id;
    impl serde::de::Visitor<'_> for Id {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<String, E> {
            Ok(text.to_owned())
        }
        fn visit_string<E: serde::de::Error>(self, text: String) -> Result<String, E> {
            Ok(text)
        }
        fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<String, E> {
            Ok(number.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<String, E> {
            Ok(number.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, number: f64) -> Result<String, E> {
            serde_json::Number::from_f64(number)
                .map(|number| number.to_string())
                .ok_or_else(|| E::custom("an event id that is not a finite number"))
        }
    }
    deserializer.deserialize_any(Id)
}

/// An event's time in milliseconds: a whole number (also written as a float,
/// `1.7e12`) between 1970 and 2200.
fn event_time_ms(timestamp: &serde_json::Number) -> Option<i64> {
    timestamp
        .as_i64()
        .or_else(|| {
            let float = timestamp.as_f64()?;
            (float.fract() == 0.0 && float.abs() < 9.0e15).then_some(float as i64)
        })
        .filter(|ms| EVENT_TIME_RANGE_MS.contains(ms))
}

/// Reads one event of a `logEvents` array on its own, so that one bad event
/// (a message that is not a string, an unpaired UTF-16 surrogate escape, an
/// absurd time, a message over the size limit) is quarantined alone.
fn read_event(raw: &RawValue, limits: &DecodeLimits) -> Result<LogEvent, QuarantinedEvent> {
    let rejected = |reason: String| {
        let keys: EventKeys = serde_json::from_str(raw.get()).unwrap_or_default();
        QuarantinedEvent {
            event: LogEvent {
                id: keys.id,
                timestamp_ms: keys
                    .timestamp
                    .and_then(|number| number.as_i64())
                    .filter(|ms| EVENT_TIME_RANGE_MS.contains(ms))
                    .unwrap_or(0),
                // The event as it came, so that nothing is lost.
                message: raw.get().to_owned(),
            },
            reason,
        }
    };
    let event: SubscriptionEvent = serde_json::from_str(raw.get()).map_err(|error| {
        let text = error.to_string();
        if text.contains("escape") || text.contains("surrogate") {
            // serde_json names the symptom; say what it usually is.
            rejected(format!(
                "unreadable log event: invalid \\u escape (an unpaired utf-16 surrogate?): {text}"
            ))
        } else {
            rejected(format!("unreadable log event: {text}"))
        }
    })?;
    event
        .checked(limits)
        .map_err(|unreadable| match unreadable {
            Unreadable::Time(timestamp) => rejected(format!(
                "log event timestamp {timestamp} is not milliseconds between 1970 and 2200"
            )),
            Unreadable::TooLarge(event) => QuarantinedEvent {
                reason: format!(
                    "event of {} bytes exceeds the {}-byte cloudwatch event limit",
                    event.message.len(),
                    limits.max_event_bytes
                ),
                event,
            },
        })
}

/// Why an event that reads is still not indexed.
enum Unreadable {
    /// Its time, which is not milliseconds between 1970 and 2200.
    Time(serde_json::Number),
    /// Its message is over [`DecodeLimits::max_event_bytes`].
    TooLarge(LogEvent),
}

impl SubscriptionEvent {
    /// The event, when its time is believable and its message within the limit.
    fn checked(self, limits: &DecodeLimits) -> Result<LogEvent, Unreadable> {
        let Some(timestamp_ms) = event_time_ms(&self.timestamp) else {
            return Err(Unreadable::Time(self.timestamp));
        };
        let event = LogEvent {
            id: self.id,
            timestamp_ms,
            message: self.message,
        };
        if event.message.len() > limits.max_event_bytes {
            return Err(Unreadable::TooLarge(event));
        }
        Ok(event)
    }
}

/// The events of a document read in one pass, as log events, when every one
/// is [`SubscriptionEvent::checked`]; `None` sends the document to be read
/// event by event ([`read_event`]), so that a bad one is quarantined as it came.
fn readable_events(events: Vec<SubscriptionEvent>, limits: &DecodeLimits) -> Option<Vec<LogEvent>> {
    events
        .into_iter()
        .map(|event| event.checked(limits).ok())
        .collect()
}

/// An event of a `logEvents` array as first read, to a [`LogEvent`] or the
/// reason it is quarantined.
trait ReadEvent {
    fn read(self, limits: &DecodeLimits) -> Result<LogEvent, QuarantinedEvent>;
}

impl ReadEvent for Box<RawValue> {
    fn read(self, limits: &DecodeLimits) -> Result<LogEvent, QuarantinedEvent> {
        read_event(&self, limits)
    }
}

/// Already read and checked ([`readable_events`]).
impl ReadEvent for LogEvent {
    fn read(self, _: &DecodeLimits) -> Result<LogEvent, QuarantinedEvent> {
        Ok(self)
    }
}

#[derive(Deserialize)]
struct AwsLogsData {
    data: String,
}

#[derive(Deserialize)]
struct FirehoseRecord {
    data: String,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Decodes any accepted input into its payloads. A file of JSON lines or a
/// Firehose request holds several; each succeeds or fails on its own.
pub fn decode_input(bytes: &[u8], limits: &DecodeLimits) -> Vec<DecodedPayload> {
    let mut payloads = Vec::new();
    decode_into(bytes, limits, &mut payloads, 0);
    payloads
}

/// Decodes the `data` string of a Lambda subscription event (base64 of gzip).
pub fn decode_lambda_event_data(data: &str, limits: &DecodeLimits) -> Vec<DecodedPayload> {
    let mut payloads = Vec::new();
    match base64_decode(data.as_bytes()) {
        Ok(gzip) => decode_into(&gzip, limits, &mut payloads, 1),
        Err(error) => payloads.push(Err((error, data.as_bytes().to_vec()))),
    }
    payloads
}

// Nesting: a Firehose record holds base64 gzip of a payload; a gzip file may hold
// JSON lines of Lambda events. Four levels are more than any real input needs.
const MAX_NESTING: u32 = 4;

fn decode_into(bytes: &[u8], limits: &DecodeLimits, out: &mut Vec<DecodedPayload>, depth: u32) {
    if depth > MAX_NESTING {
        out.push(Err((
            DecodeError::Unrecognised("input nested too deeply".into()),
            bytes.to_vec(),
        )));
        return;
    }
    if bytes.starts_with(&GZIP_MAGIC) {
        match gunzip_capped(bytes, limits.max_decompressed_bytes) {
            Ok(inner) => decode_into(&inner, limits, out, depth + 1),
            Err(error) => out.push(Err((error.into(), bytes.to_vec()))),
        }
        return;
    }
    let trimmed = trim_ascii(bytes);
    let trimmed = trimmed.strip_prefix(UTF8_BOM).unwrap_or(trimmed);
    if trimmed.is_empty() {
        return;
    }
    if trimmed[0] != b'{' {
        // Base64 text of gzip or JSON (Firehose or Kinesis records written to a file).
        match base64_decode(trimmed) {
            Ok(decoded)
                if decoded.starts_with(&GZIP_MAGIC)
                    || decoded.trim_ascii_start().starts_with(b"{") =>
            {
                decode_into(&decoded, limits, out, depth + 1)
            }
            Ok(_) => out.push(Err((
                DecodeError::Unrecognised("base64 text of neither gzip nor json".into()),
                bytes.to_vec(),
            ))),
            Err(error) => out.push(Err((error, bytes.to_vec()))),
        }
        return;
    }
    let text = match std::str::from_utf8(trimmed) {
        Ok(text) => text,
        Err(error) => {
            out.push(Err((
                DecodeError::NotUtf8(error.valid_up_to()),
                bytes.to_vec(),
            )));
            return;
        }
    };
    // The common input, one document whose events all read, in one pass; any
    // other (JSON lines, a bad event, a bad document) is read again below,
    // where each document and each event succeeds or fails on its own.
    if let Ok(input) = serde_json::from_str::<AnyInput<SubscriptionEvent>>(text)
        && let Some(input) = input.read_events(limits)
    {
        decode_any_input(input, trimmed, limits, out, depth);
        return;
    }
    // One JSON document, or several (JSON lines). A document that fails stops the
    // stream reader, so the rest is read line by line.
    let mut stream =
        serde_json::Deserializer::from_slice(trimmed).into_iter::<AnyInput<Box<RawValue>>>();
    let mut document_start = 0;
    while let Some(next) = stream.next() {
        match next {
            Ok(input) => {
                let document = trim_ascii(&trimmed[document_start..stream.byte_offset()]);
                document_start = stream.byte_offset();
                decode_any_input(input, document, limits, out, depth);
            }
            Err(error) => {
                let rest = trim_ascii(&trimmed[document_start..]);
                let looks_like_json_lines = rest.split(|byte| *byte == b'\n').any(|line| {
                    let line = trim_ascii(line);
                    line.len() > 2 && line.starts_with(b"{") && line.ends_with(b"}")
                });
                if !looks_like_json_lines {
                    out.push(Err((DecodeError::Json(error), rest.to_vec())));
                    return;
                }
                for line in rest.split(|byte| *byte == b'\n') {
                    let line = trim_ascii(line);
                    if line.is_empty() {
                        continue;
                    }
                    match serde_json::from_slice::<AnyInput<Box<RawValue>>>(line) {
                        Ok(input) => decode_any_input(input, line, limits, out, depth),
                        Err(error) => out.push(Err((DecodeError::Json(error), line.to_vec()))),
                    }
                }
                return;
            }
        }
    }
}

/// Every shape of JSON input, read in one pass; which keys are present tells
/// what it is. `E` is how the events of a `DATA_MESSAGE` are held: typed
/// ([`SubscriptionEvent`], then [`LogEvent`] once all are checked) when the
/// whole document reads, or each as raw JSON, to be read on its own
/// ([`read_event`]).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnyInput<E> {
    awslogs: Option<AwsLogsData>,
    message_type: Option<String>,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    log_group: String,
    #[serde(default)]
    log_stream: String,
    #[serde(default = "Vec::new")]
    log_events: Vec<E>,
    records: Option<Vec<FirehoseRecord>>,
}

impl AnyInput<SubscriptionEvent> {
    /// The same input with its events read ([`readable_events`]), or `None`.
    fn read_events(self, limits: &DecodeLimits) -> Option<AnyInput<LogEvent>> {
        Some(AnyInput {
            log_events: readable_events(self.log_events, limits)?,
            awslogs: self.awslogs,
            message_type: self.message_type,
            owner: self.owner,
            log_group: self.log_group,
            log_stream: self.log_stream,
            records: self.records,
        })
    }
}

fn decode_any_input<E: ReadEvent>(
    input: AnyInput<E>,
    document: &[u8],
    limits: &DecodeLimits,
    out: &mut Vec<DecodedPayload>,
    depth: u32,
) {
    if let Some(awslogs) = input.awslogs {
        match base64_decode(awslogs.data.as_bytes()) {
            Ok(gzip) => decode_into(&gzip, limits, out, depth + 1),
            Err(error) => out.push(Err((error, document.to_vec()))),
        }
    } else if input.message_type.is_some() {
        out.push(payload_of(input, limits).map_err(|error| (error, document.to_vec())));
    } else if let Some(records) = input.records {
        for record in records {
            match base64_decode(record.data.as_bytes()) {
                Ok(decoded) => decode_into(&decoded, limits, out, depth + 1),
                Err(error) => out.push(Err((error, record.data.into_bytes()))),
            }
        }
    } else {
        out.push(Err((
            DecodeError::Unrecognised(
                "json without awslogs, messageType or records: not a cloudwatch logs payload"
                    .into(),
            ),
            document.to_vec(),
        )));
    }
}

/// A decoded subscription payload (`DATA_MESSAGE` or `CONTROL_MESSAGE`).
fn payload_of<E: ReadEvent>(
    message: AnyInput<E>,
    limits: &DecodeLimits,
) -> Result<Payload, DecodeError> {
    match message.message_type.as_deref().unwrap_or_default() {
        "CONTROL_MESSAGE" => Ok(Payload::Control),
        "DATA_MESSAGE" => {
            let mut events = Vec::with_capacity(message.log_events.len());
            let mut rejected = Vec::new();
            for event in message.log_events {
                match event.read(limits) {
                    Ok(event) => events.push(event),
                    Err(quarantined) => rejected.push(quarantined),
                }
            }
            Ok(Payload::Data(LogBatch {
                owner: message.owner,
                log_group: message.log_group,
                log_stream: message.log_stream,
                events,
                rejected,
            }))
        }
        other => Err(DecodeError::UnknownMessageType(other.to_owned())),
    }
}

#[cfg(test)]
mod tests;
