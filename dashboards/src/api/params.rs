//! Reading request parameters: repeatable query-string keys, times in the units
//! each API uses, and Go durations. Every reader returns a message naming the
//! offending parameter and value, for a 400.

use chrono::DateTime;

/// A query string as ordered key/value pairs (keys may repeat).
#[derive(Debug, Clone, Default)]
pub struct QueryString(Vec<(String, String)>);

impl QueryString {
    /// Parses `a=1&b=2` (percent-decoded); `None` gives an empty query.
    pub fn parse(raw: Option<&str>) -> QueryString {
        QueryString(
            raw.map(|raw| {
                url::form_urlencoded::parse(raw.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    /// The first non-empty value of the first key present among `names`.
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|name| {
            self.0
                .iter()
                .find(|(key, value)| key == name && !value.is_empty())
                .map(|(_, value)| value.as_str())
        })
    }

    /// Every non-empty value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// An integer parameter.
    pub fn int(&self, names: &[&str]) -> Result<Option<i64>, String> {
        match self.get(names) {
            None => Ok(None),
            Some(text) => text
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("{} must be an integer, got {text:?}", first(names))),
        }
    }

    /// A boolean parameter (`true`/`false`/`1`/`0`).
    pub fn bool(&self, names: &[&str]) -> Result<bool, String> {
        match self.get(names) {
            None => Ok(false),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(text) => Err(format!(
                "{} must be true or false, got {text:?}",
                first(names)
            )),
        }
    }
}

fn first<'a>(names: &[&'a str]) -> &'a str {
    names.first().copied().unwrap_or("parameter")
}

/// Parses a Go duration (`300ms`, `1.5s`, `2h45m`, `10us`, `10µs`) into nanoseconds.
pub fn parse_go_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("invalid duration {text:?} (expected e.g. 100ms, 1.5s, 2m)");
    let mut rest = text.trim();
    let negative = rest.starts_with('-');
    rest = rest.trim_start_matches(['-', '+']);
    if rest.is_empty() {
        return Err(invalid());
    }
    if rest == "0" {
        return Ok(0);
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        if number_end == 0 {
            return Err(invalid());
        }
        let number: f64 = rest[..number_end].parse().map_err(|_| invalid())?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos_per_unit = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(invalid()),
        };
        total += number * nanos_per_unit;
        rest = &rest[unit_end..];
    }
    if !total.is_finite() || total > i64::MAX as f64 {
        return Err(invalid());
    }
    let nanos = total.round() as i64;
    Ok(if negative { -nanos } else { nanos })
}

/// A RED bucket width, parsed once from a Go duration for the API
/// (`bucket=`) and the CLI (`--bucket`): whole seconds that divide a day, so
/// that buckets line up with hours and days. `1500ms` is refused, not cut to
/// 1 s.
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

impl std::str::FromStr for BucketSeconds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let nanos = parse_go_duration(text)?;
        if nanos <= 0 || nanos % 1_000_000_000 != 0 {
            return Err(format!(
                "bucket must be a positive whole number of seconds, got {text:?}"
            ));
        }
        let seconds = nanos / 1_000_000_000;
        if seconds > 86_400 || 86_400 % seconds != 0 {
            return Err(format!(
                "bucket must divide a day evenly (e.g. 1m, 5m, 1h), got {text:?}"
            ));
        }
        Ok(BucketSeconds(seconds))
    }
}

/// Jaeger v1 `start`/`end`: microseconds since the epoch, though Grafana sometimes
/// sends milliseconds. Values below 10^14 (year 5138 in ms, 1973 in µs) are read
/// as milliseconds. Returns nanoseconds.
pub fn parse_jaeger_epoch(name: &str, text: &str) -> Result<i64, String> {
    let value: i64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{name} must be an integer epoch in microseconds, got {text:?}"))?;
    if value < 0 {
        return Err(format!("{name} must not be negative, got {text:?}"));
    }
    let nanos = if value < 100_000_000_000_000 {
        value.checked_mul(1_000_000)
    } else {
        value.checked_mul(1_000)
    };
    nanos.ok_or_else(|| format!("{name} is out of range: {text:?}"))
}

/// An RFC 3339 time, or an integer epoch in milliseconds. Returns nanoseconds.
pub fn parse_time(name: &str, text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(millis) = text.parse::<i64>() {
        return millis
            .checked_mul(1_000_000)
            .ok_or_else(|| format!("{name} is out of range: {text:?}"));
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|time| time.timestamp_nanos_opt())
        .ok_or_else(|| format!("{name} must be RFC 3339 or epoch milliseconds, got {text:?}"))
}

/// A trace id in any form a user or Jaeger/Grafana sends (X-Ray, 32 hex, 16 hex,
/// leading zeros dropped; either case), normalised to 32 lowercase hex digits.
pub fn parse_trace_id(text: &str) -> Result<String, String> {
    tracelake_instrumentation::wire::ids::TraceId::parse_any(text)
        .map(|id| id.to_string())
        .map_err(|_| format!("invalid trace id {text:?}"))
}

/// A name used as an exact filter (service, operation, level, …): bounded in
/// length and free of control characters. Quotes and SQL are harmless here (every
/// value is bound), but a 1 MB service name is still a bad request.
pub fn parse_name(name: &str, text: &str) -> Result<String, String> {
    if text.len() > 512 || text.chars().any(char::is_control) {
        return Err(format!("{name} is too long or has control characters"));
    }
    Ok(text.to_owned())
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
        for bad in ["1500ms", "0s", "-1m", "7s", "25h", "soon", ""] {
            assert!(bad.parse::<BucketSeconds>().is_err(), "{bad}");
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("100ms"), Ok(100_000_000));
        assert_eq!(parse_go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(
            parse_go_duration("2h45m"),
            Ok((2 * 3600 + 45 * 60) * 1_000_000_000)
        );
        assert_eq!(parse_go_duration("10us"), Ok(10_000));
        assert_eq!(parse_go_duration("10µs"), Ok(10_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert!(parse_go_duration("100").is_err());
        assert!(parse_go_duration("1.5 s").is_err());
        assert!(parse_go_duration("ms").is_err());
        assert!(parse_go_duration("1d").is_err());
        assert!(parse_go_duration("'; DROP TABLE spans; --").is_err());
    }

    #[test]
    fn jaeger_epochs_accept_micro_and_milliseconds() {
        assert_eq!(
            parse_jaeger_epoch("start", "1706678909209712"),
            Ok(1_706_678_909_209_712_000)
        );
        assert_eq!(
            parse_jaeger_epoch("start", "1706678909209"),
            Ok(1_706_678_909_209_000_000)
        );
        assert!(parse_jaeger_epoch("start", "-5").is_err());
        assert!(parse_jaeger_epoch("start", "soon").is_err());
    }

    #[test]
    fn times_in_rfc3339_or_milliseconds() {
        assert_eq!(
            parse_time("from", "1970-01-01T00:00:01Z"),
            Ok(1_000_000_000)
        );
        assert_eq!(parse_time("from", "1500"), Ok(1_500_000_000));
        assert!(parse_time("from", "yesterday").is_err());
    }

    #[test]
    fn repeated_keys() {
        let query = QueryString::parse(Some("traceID=a&traceID=b&tag=x%3Ay&empty="));
        assert_eq!(query.all("traceID"), vec!["a", "b"]);
        assert_eq!(query.get(&["tag"]), Some("x:y"));
        assert_eq!(query.get(&["empty"]), None);
    }
}
