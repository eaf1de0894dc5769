//! One event of a `logEvents` array: read typed with the rest of its payload
//! when every event of the payload is as it should be, or on its own from its
//! raw JSON, so that one bad event is quarantined alone, as it came.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::limits::DecodeLimits;
use crate::parse::time::EVENT_TIME_RANGE_MS;

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

#[derive(Deserialize)]
pub(super) struct SubscriptionEvent {
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
            Unreadable::TooLarge(event, reason) => QuarantinedEvent { event, reason },
        })
}

/// Why an event that reads is still not indexed.
enum Unreadable {
    /// Its time, which is not milliseconds between 1970 and 2200.
    Time(serde_json::Number),
    /// Its message is over [`DecodeLimits::max_event_bytes`], and the reason.
    TooLarge(LogEvent, String),
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
        if let Some(reason) = limits.oversized_event(event.message.len()) {
            return Err(Unreadable::TooLarge(event, reason));
        }
        Ok(event)
    }
}

/// The events of a document read in one pass, as log events, when every one
/// is [`SubscriptionEvent::checked`]; `None` sends the document to be read
/// event by event ([`read_event`]), so that a bad one is quarantined as it came.
pub(super) fn readable_events(
    events: Vec<SubscriptionEvent>,
    limits: &DecodeLimits,
) -> Option<Vec<LogEvent>> {
    events
        .into_iter()
        .map(|event| event.checked(limits).ok())
        .collect()
}

/// An event of a `logEvents` array as first read, to a [`LogEvent`] or the
/// reason it is quarantined.
pub(super) trait ReadEvent {
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
