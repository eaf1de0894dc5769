//! Where timestamps come from.
//!
//! A Lambda uses the system clock. The simulator runs a fleet on simulated
//! time: it gives each telemetry a [`ManualClock`] that it sets and advances, and
//! every log timestamp, span start and end, and the time prefix of new trace ids
//! then come from that clock, so the same seed writes the same bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// Writes `unix_nanos` as RFC 3339 UTC with microseconds
/// (`2026-11-29T01:02:03.456789Z`) into `out`.
pub(crate) fn write_rfc3339_micros(out: &mut String, unix_nanos: u64) {
    let seconds = unix_nanos / 1_000_000_000;
    let micros = (unix_nanos % 1_000_000_000) / 1_000;
    let days = seconds / 86_400;
    let second_of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let hour = second_of_day / 3600;
    let minute = (second_of_day % 3600) / 60;
    let second = second_of_day % 60;
    let mut buffer = [0u8; 27];
    put_digits(&mut buffer[0..4], year.clamp(0, 9999) as u64);
    buffer[4] = b'-';
    put_digits(&mut buffer[5..7], month as u64);
    buffer[7] = b'-';
    put_digits(&mut buffer[8..10], day as u64);
    buffer[10] = b'T';
    put_digits(&mut buffer[11..13], hour);
    buffer[13] = b':';
    put_digits(&mut buffer[14..16], minute);
    buffer[16] = b':';
    put_digits(&mut buffer[17..19], second);
    buffer[19] = b'.';
    put_digits(&mut buffer[20..26], micros);
    buffer[26] = b'Z';
    // Every byte written above is ASCII.
    out.push_str(std::str::from_utf8(&buffer).unwrap_or_default());
}

fn put_digits(slot: &mut [u8], mut value: u64) {
    for byte in slot.iter_mut().rev() {
        *byte = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's
/// `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
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

    #[test]
    fn manual_clock_clones_share_time() {
        let clock = ManualClock::starting_at(UNIX_EPOCH + Duration::from_secs(10));
        let other = clock.clone();
        other.advance(Duration::from_millis(1500));
        assert_eq!(Clock::Manual(clock).now_unix_nanos(), 11_500_000_000);
    }
}
