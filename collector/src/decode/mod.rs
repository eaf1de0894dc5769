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
mod event;
mod limits;

use serde::Deserialize;
use serde_json::value::RawValue;
use tracelake_instrumentation::wire::gzip::gunzip_capped;

use compression::{base64_decode, trim_ascii};
pub use error::DecodeError;
pub use event::{LogEvent, QuarantinedEvent};
use event::{ReadEvent, SubscriptionEvent, readable_events};
pub use limits::{CLOUDWATCH_MAX_EVENT_BYTES, DecodeLimits};

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
            Ok(inner) => decode_gzip_content_into(&inner, limits, out, depth + 1),
            Err(error) => out.push(Err((error.into(), bytes.to_vec()))),
        }
        return;
    }
    let trimmed = trim_ascii(bytes);
    let trimmed = trimmed.strip_prefix(UTF8_BOM).unwrap_or(trimmed);
    if trimmed.is_empty() {
        // Kept with a reason like any bad input, never dropped unseen: an empty
        // file, record or `awslogs.data` is counted as a payload quarantined.
        out.push(Err((DecodeError::Empty, bytes.to_vec())));
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
            // Not JSON, and not base64 of what we read either: say so first,
            // since "invalid base64" misleads about plain text ("hello").
            decoded => {
                let error = match (json_value_kind(trimmed), decoded) {
                    // Valid JSON that is not an object (`null` is valid base64 too).
                    (Some(kind), _) => DecodeError::JsonNotAnObject(kind),
                    (None, Ok(decoded)) => DecodeError::NotAPayload(format!(
                        "as base64 it is {} bytes of something else",
                        decoded.len()
                    )),
                    (None, Err(error)) => DecodeError::NotAPayload(error.to_string()),
                };
                out.push(Err((error, bytes.to_vec())));
            }
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
    // stream reader, so the rest is read line by line. Each document's payloads
    // are kept with the document, whose line the reasons of those that fail
    // name (counted only then).
    let mut documents: Vec<(&[u8], Vec<DecodedPayload>)> = Vec::new();
    // Read from the input's first line, blank lines before the first document
    // included (not a byte-order mark), so that serde's line numbers in a
    // reason are the input's, as the line it begins with is.
    let start = trimmed.as_ptr().addr() - bytes.as_ptr().addr();
    let from = if bytes[..start].is_ascii() { 0 } else { start };
    let readable = &bytes[from..start + trimmed.len()];
    let mut stream =
        serde_json::Deserializer::from_slice(readable).into_iter::<AnyInput<Box<RawValue>>>();
    let mut document_start = 0;
    while let Some(next) = stream.next() {
        match next {
            Ok(input) => {
                let document = trim_ascii(&readable[document_start..stream.byte_offset()]);
                document_start = stream.byte_offset();
                let mut payloads = Vec::new();
                decode_any_input(input, document, limits, &mut payloads, depth);
                documents.push((document, payloads));
            }
            Err(error) => {
                let rest = trim_ascii(&readable[document_start..]);
                let looks_like_json_lines = rest.split(|byte| *byte == b'\n').any(|line| {
                    let line = trim_ascii(line);
                    line.len() > 2 && line.starts_with(b"{") && line.ends_with(b"}")
                });
                if !looks_like_json_lines {
                    let failed = vec![Err((DecodeError::Json(error), rest.to_vec()))];
                    documents.push((rest, failed));
                    break;
                }
                for line in rest.split(|byte| *byte == b'\n') {
                    let line = trim_ascii(line);
                    if line.is_empty() {
                        continue;
                    }
                    let mut payloads = Vec::new();
                    match serde_json::from_slice::<AnyInput<Box<RawValue>>>(line) {
                        Ok(input) => decode_any_input(input, line, limits, &mut payloads, depth),
                        Err(error) => {
                            payloads.push(Err((DecodeError::Json(error), line.to_vec())));
                        }
                    }
                    documents.push((line, payloads));
                }
                break;
            }
        }
    }
    // A reason says which line failed only when there are several to tell apart.
    let several = documents.len() > 1;
    let mut lines = LineCounter::new(bytes);
    for (document, payloads) in documents {
        out.extend(payloads.into_iter().map(|payload| match payload {
            Err((error, kept)) if several => Err((error.on_line(lines.line_of(document)), kept)),
            payload => payload,
        }));
    }
}

/// Decodes what a gzip member decompressed to (`sources::members` reads them
/// one at a time), as [`decode_input`] decodes the content of a gzip input.
pub(crate) fn decode_gzip_content(content: &[u8], limits: &DecodeLimits) -> Vec<DecodedPayload> {
    let mut payloads = Vec::new();
    decode_gzip_content_into(content, limits, &mut payloads, 1);
    payloads
}

fn decode_gzip_content_into(
    content: &[u8],
    limits: &DecodeLimits,
    out: &mut Vec<DecodedPayload>,
    depth: u32,
) {
    let start = out.len();
    decode_into(content, limits, out, depth);
    // What the whole content was not is said of the content: "not json, gzip,
    // or base64 of either" alone would deny the gzip.
    for payload in &mut out[start..] {
        if let Err((error, kept)) = payload
            && matches!(
                error,
                DecodeError::Empty | DecodeError::NotAPayload(_) | DecodeError::JsonNotAnObject(_)
            )
            && *kept == content
        {
            let whole = std::mem::replace(error, DecodeError::Empty);
            *error = DecodeError::GzipContent(Box::new(whole));
        }
    }
}

/// The kind of JSON value `text` is, when it is one whole JSON value that is
/// not an object; read only for inputs already found to be no payload.
fn json_value_kind(text: &[u8]) -> Option<&'static str> {
    serde_json::from_slice::<serde::de::IgnoredAny>(text).ok()?;
    Some(match text.first()? {
        b'[' => "array",
        b'"' => "string",
        b't' | b'f' => "boolean",
        b'n' => "null",
        _ => "number",
    })
}

/// The 1-based line of an input that each part of it starts on, for parts
/// met in order (each newline is counted once).
struct LineCounter<'b> {
    input: &'b [u8],
    counted_to: usize,
    line: usize,
}

impl<'b> LineCounter<'b> {
    fn new(input: &'b [u8]) -> LineCounter<'b> {
        LineCounter {
            input,
            counted_to: 0,
            line: 1,
        }
    }

    /// The line `part`, a slice of the input at or after the last part, starts on.
    fn line_of(&mut self, part: &[u8]) -> usize {
        let start = part
            .as_ptr()
            .addr()
            .wrapping_sub(self.input.as_ptr().addr());
        debug_assert!(start <= self.input.len(), "a part of the input");
        let start = start.min(self.input.len());
        if start > self.counted_to {
            let newlines = self.input[self.counted_to..start]
                .iter()
                .filter(|byte| **byte == b'\n')
                .count();
            self.line += newlines;
            self.counted_to = start;
        }
        self.line
    }
}

/// Every shape of JSON input, read in one pass; which keys are present tells
/// what it is. `E` is how the events of a `DATA_MESSAGE` are held: typed
/// ([`SubscriptionEvent`], then [`LogEvent`] once all are checked) when the
/// whole document reads, or each as raw JSON, to be read on its own
/// (`event::read_event`).
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
