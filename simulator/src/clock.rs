//! Simulated time: nanoseconds since the Unix epoch, and the text forms the
//! runtimes print them in.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike as _, Timelike as _, Utc};

/// Nanoseconds in a millisecond.
pub const NANOS_PER_MILLI: u64 = 1_000_000;
/// Nanoseconds in a second.
pub const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// 2026-11-29T00:00:00Z, the default start of a simulated run.
pub const DEFAULT_START_NANOS: u64 = 1_795_910_400 * NANOS_PER_SECOND;

/// A UTC time from epoch nanoseconds; chrono does the calendar.
///
/// Simulated times fit an `i64` of nanoseconds (until 2262); a later time
/// saturates rather than wrapping.
fn utc(nanos: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(i64::try_from(nanos).unwrap_or(i64::MAX))
}

/// `YYYY-MM-DD` + `separator` + `hh:mm:ss`, the part every format shares.
/// The fields come from chrono; writing them directly keeps this off the
/// strftime parser, which rendering would otherwise run for every line.
fn date_time(out: &mut String, t: &DateTime<Utc>, date_sep: char, separator: char) {
    let _ = write!(
        out,
        "{:04}{date_sep}{:02}{date_sep}{:02}{separator}{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
}

/// `2026-11-29T01:02:03.456Z`: Node and Python runtime text, Lambda JSON records.
pub fn rfc3339_millis(out: &mut String, nanos: u64) {
    let t = utc(nanos);
    date_time(out, &t, '-', 'T');
    let _ = write!(out, ".{:03}Z", t.nanosecond() / 1_000_000);
}

/// `2026-11-29T01:02:03.456789Z`: tracelake's own log lines.
pub fn rfc3339_micros(out: &mut String, nanos: u64) {
    let t = utc(nanos);
    date_time(out, &t, '-', 'T');
    let _ = write!(out, ".{:06}Z", t.nanosecond() / 1_000);
}

/// `2026-11-29T01:02:03Z`: the Python runtime's JSON formatter (no fraction).
pub fn rfc3339_seconds(out: &mut String, nanos: u64) {
    date_time(out, &utc(nanos), '-', 'T');
    out.push('Z');
}

/// `2026-11-29 01:02:03,456+0000`: Powertools for AWS Lambda (Python) Logger.
pub fn powertools_python(out: &mut String, nanos: u64) {
    let t = utc(nanos);
    date_time(out, &t, '-', ' ');
    let _ = write!(out, ",{:03}+0000", t.nanosecond() / 1_000_000);
}

/// `2026/11/29 01:02:03`: Go's `log` package, the plain-text runtimes.
pub fn go_log(out: &mut String, nanos: u64) {
    date_time(out, &utc(nanos), '/', ' ');
}

/// `2026/11/29`: the date prefix of a Lambda log stream name.
pub fn stream_date(nanos: u64) -> String {
    utc(nanos).format("%Y/%m/%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: fn(&mut String, u64), nanos: u64) -> String {
        let mut out = String::new();
        f(&mut out, nanos);
        out
    }

    #[test]
    fn formats_match_the_fixtures() {
        // 1552518348220 ms is the REPORT event timestamp of fixture 03: 2019-03-13T23:05:48.220Z.
        let nanos = 1_552_518_348_220 * NANOS_PER_MILLI + 123_456;
        assert_eq!(text(rfc3339_millis, nanos), "2019-03-13T23:05:48.220Z");
        assert_eq!(text(rfc3339_micros, nanos), "2019-03-13T23:05:48.220123Z");
        assert_eq!(text(rfc3339_seconds, nanos), "2019-03-13T23:05:48Z");
        assert_eq!(
            text(powertools_python, nanos),
            "2019-03-13 23:05:48,220+0000"
        );
        assert_eq!(stream_date(nanos), "2019/03/13");
        assert_eq!(text(go_log, nanos), "2019/03/13 23:05:48");
    }

    #[test]
    fn default_start_and_leap_days() {
        assert_eq!(
            text(rfc3339_seconds, DEFAULT_START_NANOS),
            "2026-11-29T00:00:00Z"
        );
        // 2024-02-29T12:00:00Z
        assert_eq!(
            text(rfc3339_seconds, 1_709_208_000 * NANOS_PER_SECOND),
            "2024-02-29T12:00:00Z"
        );
        assert_eq!(text(rfc3339_seconds, 0), "1970-01-01T00:00:00Z");
    }
}
