//! Where timestamps come from.
//!
//! A Lambda uses the system clock. The simulator runs a fleet on simulated
//! time: it gives each telemetry a [`ManualClock`] that it sets and advances, and
//! every log timestamp, span start and end, and the time prefix of new trace ids
//! then come from that clock, so the same seed writes the same bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::DateTime;
use chrono::format::{Fixed, Item, Numeric, Pad};

/// A source of wall-clock time.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// `SystemTime::now()`.
    #[default]
    System,
    /// Time that the owner sets and advances.
    Manual(ManualClock),
}

impl Clock {
    /// The current time, in nanoseconds since the Unix epoch.
    pub fn now_unix_nanos(&self) -> u64 {
        match self {
            Clock::System => system_unix_nanos(),
            Clock::Manual(clock) => clock.unix_nanos(),
        }
    }

    /// Whether this is the system clock.
    pub fn is_system(&self) -> bool {
        matches!(self, Clock::System)
    }
}

pub(crate) fn system_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A clock that only moves when told to. Clones share the same time.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tracelake_instrumentation::ManualClock;
///
/// let clock = ManualClock::starting_at(UNIX_EPOCH + Duration::from_secs(1_764_000_000));
/// clock.advance(Duration::from_millis(25));
/// assert_eq!(clock.unix_nanos(), 1_764_000_000_025_000_000);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    unix_nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock showing `time` (the epoch if `time` is before it).
    pub fn starting_at(time: SystemTime) -> ManualClock {
        let clock = ManualClock::default();
        clock.set(time);
        clock
    }

    /// Shows `time` from now on.
    pub fn set(&self, time: SystemTime) {
        let nanos = time
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        self.unix_nanos.store(nanos, Ordering::Relaxed);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.unix_nanos.fetch_add(by, Ordering::Relaxed);
    }

    /// The time shown, in nanoseconds since the Unix epoch.
    pub fn unix_nanos(&self) -> u64 {
        self.unix_nanos.load(Ordering::Relaxed)
    }

    /// The time shown.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.unix_nanos())
    }
}

/// RFC 3339 UTC with microseconds, as chrono's `to_rfc3339_opts(SecondsFormat::Micros,
/// true)` writes it (`%Y-%m-%dT%H:%M:%S%.6fZ`), as chrono formatting items: they
/// write straight into the line's buffer, where `to_rfc3339_opts` returns a new
/// `String` for every line.
const RFC3339_MICROS: [Item<'static>; 13] = [
    Item::Numeric(Numeric::Year, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Month, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Day, Pad::Zero),
    Item::Literal("T"),
    Item::Numeric(Numeric::Hour, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Minute, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Second, Pad::Zero),
    Item::Fixed(Fixed::Nanosecond6),
    Item::Literal("Z"),
];

/// Writes `unix_nanos` as RFC 3339 UTC with microseconds
/// (`2026-11-29T01:02:03.456789Z`, the nanoseconds truncated) into `out`,
/// allocating nothing beyond `out`'s own growth.
pub(crate) fn write_rfc3339_micros(out: &mut String, unix_nanos: u64) {
    // Every u64 of nanoseconds (up to the year 2554) is a valid chrono time.
    let seconds = i64::try_from(unix_nanos / 1_000_000_000).unwrap_or(i64::MAX);
    let nanos = u32::try_from(unix_nanos % 1_000_000_000).unwrap_or(0);
    let time = DateTime::from_timestamp(seconds, nanos)
        .unwrap_or_default()
        .naive_utc();
    // Writing into a String cannot fail, and every item above is valid.
    let _ = time.format_with_items(RFC3339_MICROS.iter()).write_to(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(nanos: u64) -> String {
        let mut out = String::new();
        write_rfc3339_micros(&mut out, nanos);
        out
    }

    #[test]
    fn timestamps_are_rfc3339_with_micros() {
        assert_eq!(format(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            format(1_700_000_000_123_456_789),
            "2023-11-14T22:13:20.123456Z"
        );
        // 2024-02-29 (leap day) and 2100-03-01 (no leap day in 2100).
        assert_eq!(
            format(1_709_164_800_000_000_000),
            "2024-02-29T00:00:00.000000Z"
        );
        assert_eq!(
            format(4_107_542_400_000_001_000),
            "2100-03-01T00:00:00.000001Z"
        );
    }

    /// The same text as chrono's own RFC 3339 rendering at microsecond
    /// precision (which truncates the nanoseconds), and a prefix of its
    /// nanosecond rendering, for times with every sub-second digit set.
    #[test]
    fn timestamps_match_chronos_rfc3339_rendering() {
        use chrono::{SecondsFormat, Utc};
        let cases = [
            0,
            999,
            1_000,
            999_999_999,
            1_700_000_000_123_456_789,
            1_764_377_723_000_000_001,
            1_709_251_199_999_999_999,
            4_107_542_399_999_999_999,
            u64::MAX,
        ];
        for nanos in cases {
            let seconds = i64::try_from(nanos / 1_000_000_000).unwrap();
            let sub_second = u32::try_from(nanos % 1_000_000_000).unwrap();
            let time = DateTime::<Utc>::from_timestamp(seconds, sub_second).unwrap();
            let written = format(nanos);
            assert_eq!(
                written,
                time.to_rfc3339_opts(SecondsFormat::Micros, true),
                "{nanos}"
            );
            let full = time.to_rfc3339_opts(SecondsFormat::Nanos, true);
            assert_eq!(written[..26], full[..26], "{nanos}");
        }
    }

    proptest::proptest! {
        /// Any time a u64 of nanoseconds holds is written as chrono renders it.
        #[test]
        fn any_timestamp_matches_chrono(nanos in proptest::num::u64::ANY) {
            use chrono::{SecondsFormat, Utc};
            let seconds = i64::try_from(nanos / 1_000_000_000).unwrap();
            let sub_second = u32::try_from(nanos % 1_000_000_000).unwrap();
            let time = DateTime::<Utc>::from_timestamp(seconds, sub_second).unwrap();
            proptest::prop_assert_eq!(format(nanos), time.to_rfc3339_opts(SecondsFormat::Micros, true));
        }
    }

    /// Appends to what the buffer holds, as the log layer needs.
    #[test]
    fn timestamps_are_appended() {
        let mut out = String::from("{\"timestamp\":\"");
        write_rfc3339_micros(&mut out, 1_000_001_000);
        assert_eq!(out, "{\"timestamp\":\"1970-01-01T00:00:01.000001Z");
    }

    #[test]
    fn manual_clock_clones_share_time() {
        let clock = ManualClock::starting_at(UNIX_EPOCH + Duration::from_secs(10));
        let other = clock.clone();
        other.advance(Duration::from_millis(1500));
        assert_eq!(Clock::Manual(clock).now_unix_nanos(), 11_500_000_000);
    }
}
