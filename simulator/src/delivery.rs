//! CloudWatch Logs delivery: log events become subscription payloads as a
//! subscription filter hands them to a Lambda function.
//!
//! - Events are batched per log group and log stream, over short windows of
//!   simulated time, into `DATA_MESSAGE`s of at most 10,000 events and 1 MB
//!   (each event counted as its UTF-8 bytes plus 26, as CloudWatch counts them).
//! - A message is gzipped and base64'd into the Lambda event
//!   `{"awslogs":{"data":"…"}}`.
//! - Batches arrive in the order they are flushed, which interleaves log groups
//!   out of order; within one stream they stay in order.
//! - An invocation that straddles a window is split across two deliveries.
//! - A few batches are delivered twice (at-least-once), and `CONTROL_MESSAGE`s
//!   arrive now and then.

use std::io::Write as _;
use std::ops::Range;

use base64::Engine as _;
use serde::Serialize;

use crate::clock::{NANOS_PER_MILLI, NANOS_PER_SECOND};
use crate::event::RawEvent;
use crate::event_id::EventId;
use crate::fleet::Fleet;
use crate::rng::SimRng;
use crate::streams::LogStream;

/// Most events in one `DATA_MESSAGE`.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Most bytes in one `DATA_MESSAGE`, counting each event as its length plus 26.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// What CloudWatch adds to each event's length when it counts a batch's size.
pub const EVENT_OVERHEAD_BYTES: usize = 26;
/// The subscription filter name written into every message.
pub const SUBSCRIPTION_FILTER: &str = "tracelake-collector";

/// Knobs of delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryConfig {
    /// Shortest batching window per stream.
    pub min_window_ns: u64,
    /// Longest batching window per stream.
    pub max_window_ns: u64,
    /// Chance that a batch is delivered a second time.
    pub duplicate_rate: f64,
    /// Chance, per data batch, of a `CONTROL_MESSAGE` beside it.
    pub control_rate: f64,
    /// gzip level, 0 to 9.
    pub gzip_level: u32,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            min_window_ns: 2 * NANOS_PER_SECOND,
            max_window_ns: 10 * NANOS_PER_SECOND,
            duplicate_rate: 0.003,
            control_rate: 0.001,
            gzip_level: 1,
        }
    }
}

/// What a delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// A batch's first delivery.
    Data,
    /// A batch delivered again, byte for byte.
    Duplicate,
    /// A `CONTROL_MESSAGE`.
    Control,
}

/// One Lambda invocation of the subscription target.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// What it carries.
    pub kind: DeliveryKind,
    /// The batch it carries, for data and duplicates.
    pub batch: Option<usize>,
    /// The Lambda event JSON: `{"awslogs":{"data":"…"}}`.
    pub payload: Vec<u8>,
}

/// One `DATA_MESSAGE`: a run of one stream's events.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Index of the log stream.
    pub stream: usize,
    /// Its events, as a range of [`Delivered::events`].
    pub events: Range<usize>,
    /// When CloudWatch hands it to the subscription.
    pub flush_ns: u64,
}

/// One delivered event, in stream order.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveredEvent {
    /// The CloudWatch event id.
    pub event_id: String,
    /// Index of the raw event it came from.
    pub raw: usize,
    /// Index of its batch.
    pub batch: usize,
}

/// The result of delivery.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Delivered {
    /// Every event once, grouped by stream and in stream order.
    pub events: Vec<DeliveredEvent>,
    /// Every batch.
    pub batches: Vec<Batch>,
    /// Every delivery, in arrival order.
    pub deliveries: Vec<Delivery>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Message<'a> {
    message_type: &'a str,
    owner: &'a str,
    log_group: &'a str,
    log_stream: &'a str,
    subscription_filters: Vec<&'a str>,
    log_events: Vec<MessageEvent<'a>>,
}

#[derive(Serialize)]
struct MessageEvent<'a> {
    id: &'a str,
    timestamp: u64,
    message: &'a str,
}

/// Why payloads could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// gzip or JSON encoding failed.
    #[error("encoding a subscription payload failed: {0}")]
    Encode(#[from] std::io::Error),
    /// JSON encoding failed.
    #[error("encoding a subscription message as json failed: {0}")]
    Json(#[from] serde_json::Error),
}

fn stream_hash(name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Batches, encodes and orders the deliveries of `events`.
///
/// # Errors
///
/// [`DeliveryError`] when a subscription message cannot be serialised as JSON
/// or gzipped: both write to memory, so this is a bug, not bad input.
pub fn deliver(
    fleet: &Fleet,
    streams: &[LogStream],
    events: &[RawEvent],
    config: &DeliveryConfig,
    rng: &mut SimRng,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Delivered, DeliveryError> {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|i| {
        let event = &events[*i];
        (event.stream, event.timestamp_ns, event.seq)
    });

    let mut delivered = Delivered::default();
    delivered.events.reserve(order.len());
    let mut counter: u64 = 0;
    let mut position = 0;
    while position < order.len() {
        let stream = events[order[position]].stream;
        let hash = u128::from(stream_hash(&streams[stream].name)) << 64;
        let mut last_flush = 0u64;
        while position < order.len() && events[order[position]].stream == stream {
            let window_start = events[order[position]].timestamp_ns;
            let window_end = window_start + rng.between(config.min_window_ns, config.max_window_ns);
            let batch_index = delivered.batches.len();
            let first = delivered.events.len();
            let mut bytes = 0usize;
            while position < order.len() {
                let raw = order[position];
                let event = &events[raw];
                let size = event.message.len() + EVENT_OVERHEAD_BYTES;
                let count = delivered.events.len() - first;
                if event.stream != stream
                    || event.timestamp_ns >= window_end
                    || count >= MAX_BATCH_EVENTS
                    || (count > 0 && bytes + size > MAX_BATCH_BYTES)
                {
                    break;
                }
                bytes += size;
                counter += 1;
                let id = EventId {
                    timestamp_ms: event.timestamp_ns / NANOS_PER_MILLI,
                    low: hash | u128::from(counter),
                };
                delivered.events.push(DeliveredEvent {
                    event_id: id.to_decimal(),
                    raw,
                    batch: batch_index,
                });
                position += 1;
            }
            let flush = (window_end + (rng.log_normal(1.5, 0.5) * NANOS_PER_SECOND as f64) as u64)
                .max(last_flush + NANOS_PER_MILLI);
            last_flush = flush;
            delivered.batches.push(Batch {
                stream,
                events: first..delivered.events.len(),
                flush_ns: flush,
            });
        }
        progress(position, order.len());
    }

    // Encode each batch and schedule its deliveries.
    let mut schedule: Vec<(u64, u64, Delivery)> = Vec::with_capacity(delivered.batches.len() + 16);
    let mut buffers = EncodeBuffers::default();
    let first_flush = delivered
        .batches
        .iter()
        .map(|b| b.flush_ns)
        .min()
        .unwrap_or(0);
    schedule.push((
        first_flush.saturating_sub(NANOS_PER_SECOND),
        rng.next_u64(),
        control_delivery(first_flush.saturating_sub(NANOS_PER_SECOND), config)?,
    ));
    for (batch_index, batch) in delivered.batches.iter().enumerate() {
        let stream = &streams[batch.stream];
        let service = &fleet.services[stream.service];
        let log_events = delivered.events[batch.events.clone()]
            .iter()
            .map(|event| {
                let raw = &events[event.raw];
                MessageEvent {
                    id: &event.event_id,
                    timestamp: raw.timestamp_ns / NANOS_PER_MILLI,
                    message: &raw.message,
                }
            })
            .collect();
        let message = Message {
            message_type: "DATA_MESSAGE",
            owner: &fleet.account_id,
            log_group: &service.log_group,
            log_stream: &stream.name,
            subscription_filters: vec![SUBSCRIPTION_FILTER],
            log_events,
        };
        let payload = encode(&message, config.gzip_level, &mut buffers)?;
        if rng.chance(config.duplicate_rate) {
            let retry = batch.flush_ns + rng.between(30, 180) * NANOS_PER_SECOND;
            schedule.push((
                retry,
                rng.next_u64(),
                Delivery {
                    kind: DeliveryKind::Duplicate,
                    batch: Some(batch_index),
                    payload: payload.clone(),
                },
            ));
        }
        if rng.chance(config.control_rate) {
            schedule.push((
                batch.flush_ns,
                rng.next_u64(),
                control_delivery(batch.flush_ns, config)?,
            ));
        }
        schedule.push((
            batch.flush_ns,
            rng.next_u64(),
            Delivery {
                kind: DeliveryKind::Data,
                batch: Some(batch_index),
                payload,
            },
        ));
        if batch_index % 1024 == 0 {
            progress(batch_index, delivered.batches.len());
        }
    }
    schedule.sort_by_key(|(at, tie, _)| (*at, *tie));
    delivered.deliveries = schedule.into_iter().map(|(_, _, d)| d).collect();
    Ok(delivered)
}

fn control_delivery(at_ns: u64, config: &DeliveryConfig) -> Result<Delivery, DeliveryError> {
    let message = Message {
        message_type: "CONTROL_MESSAGE",
        owner: "CloudwatchLogs",
        log_group: "",
        log_stream: "",
        subscription_filters: Vec::new(),
        log_events: vec![MessageEvent {
            id: "",
            timestamp: at_ns / NANOS_PER_MILLI,
            message: "CWL CONTROL MESSAGE: Checking health of destination Lambda function.",
        }],
    };
    Ok(Delivery {
        kind: DeliveryKind::Control,
        batch: None,
        payload: encode(&message, config.gzip_level, &mut EncodeBuffers::default())?,
    })
}

/// Buffers reused from one batch to the next: a fresh megabyte-sized buffer per
/// batch costs more in page faults and zeroing than the JSON encoding itself.
#[derive(Default)]
struct EncodeBuffers {
    json: Vec<u8>,
    compressed: Vec<u8>,
}

fn encode(
    message: &Message<'_>,
    level: u32,
    buffers: &mut EncodeBuffers,
) -> Result<Vec<u8>, DeliveryError> {
    // Serialising first and compressing in one call avoids running the
    // compressor on each of serde's small writes.
    buffers.json.clear();
    serde_json::to_writer(&mut buffers.json, message)?;
    let mut output = std::mem::take(&mut buffers.compressed);
    output.clear();
    // GzEncoder writes a zero mtime and no file name: the bytes depend on the input only.
    let mut gzip = flate2::write::GzEncoder::new(output, flate2::Compression::new(level.min(9)));
    gzip.write_all(&buffers.json)?;
    let compressed = gzip.finish()?;
    let engine = base64::engine::general_purpose::STANDARD;
    let prefix = "{\"awslogs\":{\"data\":\"";
    let mut payload = String::with_capacity(prefix.len() + compressed.len() * 4 / 3 + 8);
    payload.push_str(prefix);
    engine.encode_string(&compressed, &mut payload);
    payload.push_str("\"}}");
    buffers.compressed = compressed;
    Ok(payload.into_bytes())
}

/// The Lambda event type of a CloudWatch Logs subscription, from `aws_lambda_events`.
pub use aws_lambda_events::cloudwatch_logs::LogsEvent;

/// Reads a payload back with `aws_lambda_events`' own types, as a Lambda
/// runtime would (it decodes and gunzips `awslogs.data`).
///
/// # Errors
///
/// The `serde_json` error when `payload` is not a CloudWatch Logs subscription
/// event (`{"awslogs":{"data":…}}`) or `data` is not base64 of a gzipped
/// subscription message.
pub fn decode_payload(payload: &[u8]) -> Result<LogsEvent, serde_json::Error> {
    serde_json::from_slice(payload)
}
