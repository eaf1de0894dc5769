//! Simulated time: nanoseconds since the Unix epoch, and the text forms the
//! runtimes print them in.

use std::fmt::Write as _;

/// Nanoseconds in a millisecond.
pub const NANOS_PER_MILLI: u64 = 1_000_000;
/// Nanoseconds in a second.
pub const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// 2026-11-29T00:00:00Z, the default start of a simulated run.
pub const DEFAULT_START_NANOS: u64 = 1_795_910_400 * NANOS_PER_SECOND;

/// A UTC calendar time split into its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilTime {
    /// Year, e.g. 2026.
    pub year: i64,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of the month, 1 to 31.
    pub day: u32,
    /// Hour, 0 to 23.
    pub hour: u32,
    /// Minute, 0 to 59.
    pub minute: u32,
    /// Second, 0 to 59.
    pub second: u32,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl CivilTime {
    /// Splits epoch nanoseconds into calendar fields (proleptic Gregorian, UTC).
    pub fn from_epoch_nanos(nanos: u64) -> CivilTime {
        let seconds = nanos / NANOS_PER_SECOND;
        let days = (seconds / 86_400) as i64;
        let second_of_day = (seconds % 86_400) as u32;
        // Days to civil date, after Howard Hinnant's `civil_from_days`.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        CivilTime {
            year,
            month,
            day,
            hour: second_of_day / 3600,
            minute: second_of_day / 60 % 60,
            second: second_of_day % 60,
            nanos: (nanos % NANOS_PER_SECOND) as u32,
        }
    }
}

/// `2026-11-29T01:02:03.456Z`: Node and Python runtime text, Lambda JSON records.
pub fn rfc3339_millis(out: &mut String, nanos: u64) {
    let t = CivilTime::from_epoch_nanos(nanos);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.nanos / 1_000_000
    );
}

/// `2026-11-29T01:02:03.456789Z`: tracelake's own log lines.
pub fn rfc3339_micros(out: &mut String, nanos: u64) {
    let t = CivilTime::from_epoch_nanos(nanos);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.nanos / 1_000
    );
}

/// `2026-11-29T01:02:03Z`: the Python runtime's JSON formatter (no fraction).
pub fn rfc3339_seconds(out: &mut String, nanos: u64) {
    let t = CivilTime::from_epoch_nanos(nanos);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    );
}

/// `2026-11-29 01:02:03,456+0000`: Powertools for AWS Lambda (Python) Logger.
pub fn powertools_python(out: &mut String, nanos: u64) {
    let t = CivilTime::from_epoch_nanos(nanos);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}+0000",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.nanos / 1_000_000
    );
}

/// `2026/11/29`: the date prefix of a Lambda log stream name.
pub fn stream_date(nanos: u64) -> String {
    let t = CivilTime::from_epoch_nanos(nanos);
    format!("{:04}/{:02}/{:02}", t.year, t.month, t.day)
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
