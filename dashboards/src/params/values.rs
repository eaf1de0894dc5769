//! The value types of request parameters, each with one text form read by
//! `FromStr`: the API deserialises them from the query string, the CLI reads
//! them with clap (`value_parser!` picks `FromStr`), so `1500ms` means the same
//! on both sides. Every error names the offending value.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::DateTime;
use tracelake_index::rows::{LogLevel, SpanKind};
use tracelake_instrumentation::wire::ids::TraceId;

/// Implements `Deserialize` through `FromStr`, so that a query-string value
/// and a command-line value go through the same parser.
macro_rules! deserialize_from_str {
    ($type:ty) => {
        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A duration in nanoseconds, written the humantime way, which reads Go
/// durations as Jaeger and Grafana send them (`250ms`, `1.5s`, `2h45m`, `10us`,
/// `10µs`) and a few longer forms (`1day`, `2h 30min`). Never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DurationNs(pub i64);

impl FromStr for DurationNs {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // Go writes µs with the Greek mu as often as with the micro sign.
        let normalised = text.trim().replace('\u{3bc}', "\u{b5}");
        let duration = humantime::parse_duration(&normalised).map_err(|error| {
            format!("invalid duration {text:?} ({error}; expected e.g. 250ms, 1.5s, 2h45m)")
        })?;
        i64::try_from(duration.as_nanos())
            .map(DurationNs)
            .map_err(|_| format!("duration {text:?} is out of range"))
    }
}
deserialize_from_str!(DurationNs);

/// A RED or histogram bucket width: whole seconds that divide a day, so that
/// buckets line up with hours and days. `1500ms` is refused, not cut to 1 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketSeconds(i64);

impl BucketSeconds {
    /// The width in seconds.
    pub fn seconds(self) -> i64 {
        self.0
    }
}

impl Default for BucketSeconds {
    /// One minute.
    fn default() -> Self {
        BucketSeconds(60)
    }
}

impl FromStr for BucketSeconds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let DurationNs(nanos) = text.parse()?;
        if nanos <= 0 || nanos % 1_000_000_000 != 0 {
            return Err(format!(
                "bucket must be a positive whole number of seconds, got {text:?}"
            ));
        }
        let seconds = nanos / 1_000_000_000;
        if !divides_a_day(seconds) {
            return Err(format!(
                "bucket must divide a day evenly (e.g. 1m, 5m, 1h), got {text:?}"
            ));
        }
        Ok(BucketSeconds(seconds))
    }
}
deserialize_from_str!(BucketSeconds);

/// Whether a bucket of `seconds` divides a day evenly (1 to 86,400 s): the
/// one rule for RED and histogram buckets, which [`BucketSeconds`] applies
/// when parsing and the query engine applies to the width it is given.
pub(crate) fn divides_a_day(seconds: i64) -> bool {
    (1..=86_400).contains(&seconds) && 86_400 % seconds == 0
}

/// A point in time in nanoseconds since the epoch, written as RFC 3339 or as
/// integer epoch milliseconds (what Grafana's `${__from}` gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimestampNs(pub i64);

impl FromStr for TimestampNs {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if let Ok(millis) = trimmed.parse::<i64>() {
            return millis
                .checked_mul(1_000_000)
                .map(TimestampNs)
                .ok_or_else(|| format!("time {text:?} is out of range"));
        }
        DateTime::parse_from_rfc3339(trimmed)
            .ok()
            .and_then(|time| time.timestamp_nanos_opt())
            .map(TimestampNs)
            .ok_or_else(|| format!("time must be RFC 3339 or epoch milliseconds, got {text:?}"))
    }
}
deserialize_from_str!(TimestampNs);

/// A name used as an exact filter (service, operation, function, request id):
/// at most 512 bytes and free of control characters. Quotes and SQL are
/// harmless (every value is bound), but a 1 MB service name is a bad request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(pub String);

impl Name {
    /// Longest name accepted, in bytes.
    pub const MAX_BYTES: usize = 512;
}

impl FromStr for Name {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() > Name::MAX_BYTES || text.chars().any(char::is_control) {
            return Err(format!(
                "names are at most {} bytes without control characters, got {:?}",
                Name::MAX_BYTES,
                text.chars().take(40).collect::<String>()
            ));
        }
        Ok(Name(text.to_owned()))
    }
}
deserialize_from_str!(Name);

/// An optional [`Name`] as the string the queries take.
pub fn name_str(name: &Option<Name>) -> Option<&str> {
    name.as_ref().map(|name| name.0.as_str())
}

/// A span attribute equality, `key:value` (Jaeger's `tag=` form) or
/// `key=value`: whichever separator comes first splits it, so values may hold
/// either (`http.url=http://host/a`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    /// The attribute key.
    pub key: String,
    /// The value it must equal.
    pub value: String,
}

impl FromStr for TagFilter {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let split = text
            .find([':', '='])
            .filter(|&at| at > 0)
            .ok_or_else(|| format!("tag must be key:value or key=value, got {text:?}"))?;
        let (key, value) = (&text[..split], &text[split + 1..]);
        Ok(TagFilter {
            key: key.parse::<Name>()?.0,
            value: value.parse::<Name>()?.0,
        })
    }
}
deserialize_from_str!(TagFilter);

/// Attribute equalities as one JSON object of strings (Jaeger's `tags=`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagMap(pub Vec<TagFilter>);

impl FromStr for TagMap {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let map: BTreeMap<String, String> = serde_json::from_str(text)
            .map_err(|_| format!("expected a JSON object of strings, got {text:?}"))?;
        map.into_iter()
            .map(|(key, value)| {
                Ok(TagFilter {
                    key: key.parse::<Name>()?.0,
                    value: value.parse::<Name>()?.0,
                })
            })
            .collect::<Result<_, String>>()
            .map(TagMap)
    }
}
deserialize_from_str!(TagMap);

/// A span kind filter: the index's [`SpanKind`], in any case (`SERVER`,
/// `server`), with or without the `SPAN_KIND_` prefix of the OTLP enum's names
/// (`SPAN_KIND_SERVER`, what Jaeger v3 clients send).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanKindFilter(pub SpanKind);

impl FromStr for SpanKindFilter {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        let name = lower.strip_prefix("span_kind_").unwrap_or(&lower);
        SpanKind::parse(name).map(SpanKindFilter).ok_or_else(|| {
            format!(
                "span kind must be one of {} (any case, SPAN_KIND_ prefix optional), got {text:?}",
                one_of(SpanKind::ALL.iter().map(|kind| kind.as_str()))
            )
        })
    }
}
deserialize_from_str!(SpanKindFilter);

/// A log level filter: the index's [`LogLevel`], in any case (`error`, `ERROR`);
/// `WARNING` and `CRITICAL` read as the index spells them (`WARN`, `FATAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelFilter(pub LogLevel);

impl FromStr for LevelFilter {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let upper = text.trim().to_ascii_uppercase();
        let level = match upper.as_str() {
            "WARNING" => Some(LogLevel::Warn),
            "CRITICAL" => Some(LogLevel::Fatal),
            other => LogLevel::parse(other),
        };
        level.map(LevelFilter).ok_or_else(|| {
            format!(
                "level must be one of {}, got {text:?}",
                one_of(LogLevel::ALL.iter().map(|level| level.as_str()))
            )
        })
    }
}
deserialize_from_str!(LevelFilter);

/// A trace id in any form a user or Jaeger/Grafana sends (X-Ray, 32 hex, 16
/// hex, leading zeros dropped; either case), normalised to 32 lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceIdFilter(pub String);

impl FromStr for TraceIdFilter {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TraceId::parse_any(text)
            .map(|id| TraceIdFilter(id.to_string()))
            .map_err(|_| format!("invalid trace id {text:?}"))
    }
}
deserialize_from_str!(TraceIdFilter);

fn one_of<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_whole_seconds_dividing_a_day() {
        assert_eq!(
            "1m".parse::<BucketSeconds>().map(BucketSeconds::seconds),
            Ok(60)
        );
        assert_eq!(
            "1h".parse::<BucketSeconds>().map(BucketSeconds::seconds),
            Ok(3600)
        );
        assert_eq!(
            "24h".parse::<BucketSeconds>().map(BucketSeconds::seconds),
            Ok(86_400)
        );
        for bad in ["1500ms", "0s", "0", "-1m", "7s", "25h", "soon", ""] {
            assert!(bad.parse::<BucketSeconds>().is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_read_go_forms() {
        let nanos = |text: &str| text.parse::<DurationNs>().map(|DurationNs(ns)| ns);
        assert_eq!(nanos("100ms"), Ok(100_000_000));
        assert_eq!(nanos("1.5s"), Ok(1_500_000_000));
        assert_eq!(nanos("2h45m"), Ok((2 * 3600 + 45 * 60) * 1_000_000_000));
        assert_eq!(nanos("10us"), Ok(10_000));
        assert_eq!(nanos("10\u{b5}s"), Ok(10_000));
        assert_eq!(nanos("10\u{3bc}s"), Ok(10_000));
        assert_eq!(nanos("0"), Ok(0));
        assert_eq!(nanos("0s"), Ok(0));
        for bad in ["100", "ms", "-1s", "fast", "", "'; DROP TABLE spans; --"] {
            assert!(nanos(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_split_at_the_first_separator() {
        let tag: TagFilter = "http.url=http://host/a".parse().expect("tag");
        assert_eq!(
            (tag.key.as_str(), tag.value.as_str()),
            ("http.url", "http://host/a")
        );
        let tag: TagFilter = "q:a=b".parse().expect("tag");
        assert_eq!((tag.key.as_str(), tag.value.as_str()), ("q", "a=b"));
        assert!("novalue".parse::<TagFilter>().is_err());
        assert!(":x".parse::<TagFilter>().is_err());
        let map: TagMap = r#"{"a":"1","b":"2"}"#.parse().expect("map");
        assert_eq!(map.0.len(), 2);
        assert!("notjson".parse::<TagMap>().is_err());
    }

    #[test]
    fn kinds_and_levels_are_the_index_enums() {
        assert_eq!("SERVER".parse(), Ok(SpanKindFilter(SpanKind::Server)));
        assert_eq!(
            "SPAN_KIND_CONSUMER".parse(),
            Ok(SpanKindFilter(SpanKind::Consumer))
        );
        assert_eq!(
            "span_kind_client".parse(),
            Ok(SpanKindFilter(SpanKind::Client))
        );
        assert!("SPAN_KIND_UNSPECIFIED".parse::<SpanKindFilter>().is_err());
        assert!("SPAN_KIND_".parse::<SpanKindFilter>().is_err());
        assert!("sideways".parse::<SpanKindFilter>().is_err());
        assert_eq!("warning".parse(), Ok(LevelFilter(LogLevel::Warn)));
        assert_eq!("error".parse(), Ok(LevelFilter(LogLevel::Error)));
        assert!("loud".parse::<LevelFilter>().is_err());
    }

    #[test]
    fn times_in_rfc3339_or_milliseconds() {
        assert_eq!(
            "1970-01-01T00:00:01Z".parse(),
            Ok(TimestampNs(1_000_000_000))
        );
        assert_eq!("1500".parse(), Ok(TimestampNs(1_500_000_000)));
        assert!("yesterday".parse::<TimestampNs>().is_err());
    }
}
