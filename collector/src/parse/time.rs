//! Times as log lines write them, and which time a row gets.
//!
//! A line's own time is read with chrono, in every shape seen in Lambda logs:
//! RFC 3339 / ISO 8601 with `T` or a space, `.` or `,` before any number of
//! fractional digits, and `Z`, `±HH:MM`, `±HHMM`, `±HH` or no offset (UTC, the
//! Lambda default); and numeric epochs in seconds, milliseconds, microseconds or
//! nanoseconds (integers, or decimals such as `1795946407.005`), told apart by
//! magnitude.
//!
//! A line's time is a claim, not a fact: [`row_timestamp_ns`] uses it only when
//! it is at least as precise as CloudWatch's millisecond event time and within
//! [`LINE_TIME_WINDOW_NS`] of it. Otherwise the row gets the CloudWatch time,
//! which [`crate::decode`] has already checked to be in range. Nothing here can
//! overflow: every conversion is checked.

use std::borrow::Cow;
use std::sync::LazyLock;

use chrono::format::{self, Item, Parsed, StrftimeItems};
use chrono::{DateTime, Utc};

/// A time read from a line, with how precise the line wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTime {
    /// Nanoseconds since the epoch, UTC.
    pub ns: i64,
    /// The smallest step the line's format can express, in nanoseconds: 1e9 for
    /// whole seconds, 1e6 for milliseconds, 1 for nanoseconds.
    pub precision_ns: i64,
}

/// How far a line's own time may be from its CloudWatch event time and still be
/// believed: 15 minutes. Lambda's log capture stamps an event within moments of
/// the write; a bigger gap means a wrong clock, a wrong unit or a local time
/// written without its offset, and the CloudWatch time is the better guess.
pub const LINE_TIME_WINDOW_NS: i64 = 15 * 60 * 1_000_000_000;

/// CloudWatch event times are milliseconds.
const CLOUDWATCH_PRECISION_NS: i64 = 1_000_000;

/// The earliest and latest CloudWatch event time accepted by decode, in ms:
/// 1970-01-01 to 2200-01-01. Outside it an event's time is absurd, and
/// nanoseconds past 2262 do not fit an `i64`.
pub const EVENT_TIME_RANGE_MS: std::ops::Range<i64> = 0..7_258_118_400_000;

/// The time a row gets: the line's own when it is believable (see the module
/// docs), else the CloudWatch event time.
pub fn row_timestamp_ns(line: Option<LineTime>, cloudwatch_ms: i64) -> i64 {
    let cloudwatch_ns = cloudwatch_ms.saturating_mul(1_000_000);
    match line {
        Some(line)
            if line.precision_ns <= CLOUDWATCH_PRECISION_NS
                && line.ns.abs_diff(cloudwatch_ns) <= LINE_TIME_WINDOW_NS.unsigned_abs() =>
        {
            line.ns
        }
        _ => cloudwatch_ns,
    }
}

/// Parses an ISO 8601 / RFC 3339 time to nanoseconds since the epoch (UTC).
pub fn parse_timestamp_ns(text: &str) -> Option<i64> {
    parse_timestamp(text).map(|time| time.ns)
}

/// Parses an ISO 8601 / RFC 3339 time, with its precision.
pub fn parse_timestamp(text: &str) -> Option<LineTime> {
    let text = text.trim();
    let bytes = text.as_bytes();
    // The date and time are fixed-width; chrono checks every field.
    if bytes.len() < 19 || !text.is_char_boundary(19) || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let (head, tail) = text.split_at(19);
    let fraction_digits = match tail.as_bytes().first() {
        Some(b'.' | b',') => {
            let digits = tail[1..].bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            digits
        }
        _ => 0,
    };
    let (fraction, offset) = tail.split_at(if fraction_digits == 0 {
        0
    } else {
        1 + fraction_digits
    });
    // One shape for chrono: `T` and `.`. Most lines have it already and are
    // parsed in place; the others are copied into it.
    let normal = if bytes[10] == b'T' && !fraction.starts_with(',') {
        Cow::Borrowed(&text[..head.len() + fraction.len()])
    } else {
        let mut copy = String::with_capacity(text.len() + 1);
        copy.push_str(&head[..10]);
        copy.push('T');
        copy.push_str(&head[11..]);
        if fraction_digits > 0 {
            copy.push('.');
            copy.push_str(&fraction[1..]);
        }
        Cow::Owned(copy)
    };
    // What `NaiveDateTime::parse_from_str` and `DateTime::parse_from_str` do,
    // with each format's items parsed once instead of on every call.
    static UTC_ITEMS: LazyLock<Vec<Item<'static>>> =
        LazyLock::new(|| format_items("%Y-%m-%dT%H:%M:%S%.f"));
    static OFFSET_ITEMS: LazyLock<Vec<Item<'static>>> =
        LazyLock::new(|| format_items("%Y-%m-%dT%H:%M:%S%.f%#z"));
    let mut parsed = Parsed::new();
    let ns = match offset {
        "" | "Z" | "z" => {
            format::parse(&mut parsed, &normal, UTC_ITEMS.iter()).ok()?;
            let naive = parsed.to_naive_datetime_with_offset(0).ok()?;
            naive.and_utc().timestamp_nanos_opt()?
        }
        _ => {
            // In shape, the time and its offset are the whole text.
            let with_offset = match normal {
                Cow::Borrowed(_) => Cow::Borrowed(text),
                Cow::Owned(mut copy) => {
                    copy.push_str(offset);
                    Cow::Owned(copy)
                }
            };
            format::parse(&mut parsed, &with_offset, OFFSET_ITEMS.iter()).ok()?;
            parsed.to_datetime().ok()?.timestamp_nanos_opt()?
        }
    };
    Some(LineTime {
        ns,
        precision_ns: precision_of_fraction(fraction_digits),
    })
}

/// The items of a chrono format string (none for an invalid one, which then
/// reads no time: the test of `parse_timestamp` fails loudly).
fn format_items(format: &'static str) -> Vec<Item<'static>> {
    StrftimeItems::new(format).parse().unwrap_or_default()
}

/// 10^(9 − digits) nanoseconds: the step of a fraction written with `digits` digits.
fn precision_of_fraction(digits: usize) -> i64 {
    10_i64.pow(9_u32.saturating_sub(u32::try_from(digits).unwrap_or(9)))
}

/// Reads a numeric epoch as JSON writes it (`1795946407`, `1795946407005`,
/// `1795946407.005`, …). The unit is told by the size of the integer part:
/// up to 11 digits seconds, 12 to 14 milliseconds, 15 to 17 microseconds, 18 or
/// 19 nanoseconds. The caller checks the result against the CloudWatch time
/// ([`row_timestamp_ns`]), so a wrong guess costs the line its own time, never
/// a row in 1970.
pub fn parse_epoch(number_text: &str) -> Option<LineTime> {
    let text = number_text.trim();
    if text.starts_with('-') || text.contains(['e', 'E']) {
        return None;
    }
    let (integer, fraction) = text.split_once('.').unwrap_or((text, ""));
    if integer.is_empty()
        || !integer.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let integer_value: i64 = integer.parse().ok()?;
    // Digits of the unit below the integer's: 9 for seconds, 6 for ms, …
    let unit_digits: u32 = match integer.trim_start_matches('0').len() {
        0..=11 => 9,
        12..=14 => 6,
        15..=17 => 3,
        18 | 19 => 0,
        _ => return None,
    };
    let fraction = &fraction[..fraction.len().min(unit_digits as usize)];
    let fraction_digits = u32::try_from(fraction.len()).ok()?;
    let fraction_ns: i64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<i64>().ok()? * 10_i64.pow(unit_digits - fraction_digits)
    };
    let time = match unit_digits {
        9 => DateTime::<Utc>::from_timestamp(integer_value, 0)?,
        6 => DateTime::<Utc>::from_timestamp_millis(integer_value)?,
        3 => DateTime::<Utc>::from_timestamp_micros(integer_value)?,
        _ => DateTime::<Utc>::from_timestamp_nanos(integer_value),
    };
    let ns = time.timestamp_nanos_opt()?.checked_add(fraction_ns)?;
    Some(LineTime {
        ns,
        precision_ns: 10_i64.pow(unit_digits - fraction_digits),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc3339_ns(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .expect("valid rfc 3339")
            .timestamp_nanos_opt()
            .expect("in range")
    }

    #[test]
    fn formats_seen_in_lambda_logs_parse() {
        let ms = |ns: Option<i64>| ns.map(|n| n / 1_000_000);
        assert_eq!(
            ms(parse_timestamp_ns("2024-05-20T16:29:45.009Z")),
            Some(1_716_222_585_009)
        );
        assert_eq!(
            ms(parse_timestamp_ns("2025-06-04T12:46:22Z")),
            Some(1_749_041_182_000)
        );
        assert_eq!(
            ms(parse_timestamp_ns("2021-05-03 11:47:12,494+0000")),
            Some(1_620_042_432_494)
        );
        assert_eq!(
            parse_timestamp_ns("2021-05-03T13:47:12.494+02:00"),
            parse_timestamp_ns("2021-05-03T11:47:12.494Z")
        );
        assert_eq!(
            parse_timestamp_ns("2021-05-03T13:47:12.494+02"),
            parse_timestamp_ns("2021-05-03T11:47:12.494Z")
        );
        assert_eq!(
            parse_timestamp_ns("2026-11-29T01:02:03.456789Z").map(|n| n % 1_000_000_000),
            Some(456_789_000)
        );
        // Ruby's Logger and Python's default formatter write no offset: UTC on Lambda.
        assert_eq!(
            parse_timestamp_ns("2026-11-29T10:00:00.123456"),
            Some(rfc3339_ns("2026-11-29T10:00:00.123456Z"))
        );
    }

    #[test]
    fn any_number_of_fraction_digits_is_a_decimal_fraction_with_its_precision() {
        // RFC 3339's time-secfrac is a decimal fraction: `.2` is 200 ms, written
        // with a precision of 100 ms, so a row never takes it over CloudWatch's ms.
        let short = parse_timestamp("2026-11-29T10:00:03.2Z").unwrap();
        assert_eq!(short.ns, rfc3339_ns("2026-11-29T10:00:03.200Z"));
        assert_eq!(short.precision_ns, 100_000_000);
        let whole = parse_timestamp("2026-11-29T10:00:03Z").unwrap();
        assert_eq!(whole.precision_ns, 1_000_000_000);
        let nanos = parse_timestamp("2026-11-29T10:00:03.123456789Z").unwrap();
        assert_eq!(nanos.ns, rfc3339_ns("2026-11-29T10:00:03.123456789Z"));
        assert_eq!(nanos.precision_ns, 1);
        let long = parse_timestamp("2026-11-29T10:00:03.1234567891234Z").unwrap();
        assert_eq!(long.ns, rfc3339_ns("2026-11-29T10:00:03.123456789Z"));
        assert_eq!(long.precision_ns, 1);
    }

    #[test]
    fn non_timestamps_are_rejected() {
        for bad in [
            "",
            "2024-05-20",
            "2024-05-20T16:29:4é",
            "2024-05-20T16:29:é5Z",
            "2024-13-20T16:29:45Z",
            "2024-02-30T16:29:45Z",
            "hello world, here is text",
            "2024-05-20T16:29:45.Z",
            "2024-05-20T16:29:45Zjunk",
            "2024-05-20T25:29:45Z",
            "9999999-05-20T16:29:45Z",
        ] {
            assert_eq!(parse_timestamp_ns(bad), None, "{bad}");
        }
    }

    #[test]
    fn epochs_are_told_apart_by_magnitude() {
        let at = rfc3339_ns("2026-11-29T10:00:07Z");
        assert_eq!(
            parse_epoch("1795946407"),
            Some(LineTime {
                ns: at,
                precision_ns: 1_000_000_000
            })
        );
        assert_eq!(
            parse_epoch("1795946407002"),
            Some(LineTime {
                ns: at + 2_000_000,
                precision_ns: 1_000_000
            })
        );
        assert_eq!(
            parse_epoch("1795946407003000"),
            Some(LineTime {
                ns: at + 3_000_000,
                precision_ns: 1_000
            })
        );
        assert_eq!(
            parse_epoch("1795946407004000000"),
            Some(LineTime {
                ns: at + 4_000_000,
                precision_ns: 1
            })
        );
        assert_eq!(
            parse_epoch("1795946407.005"),
            Some(LineTime {
                ns: at + 5_000_000,
                precision_ns: 1_000_000
            })
        );
        for bad in ["-5", "1e9", "abc", "", "12345678901234567890123", "1.2.3"] {
            assert_eq!(parse_epoch(bad), None, "{bad}");
        }
    }

    #[test]
    fn rows_take_the_line_time_only_when_precise_and_near() {
        let cloudwatch_ms = 1_795_946_407_010;
        let cloudwatch_ns = cloudwatch_ms * 1_000_000;
        let near = LineTime {
            ns: cloudwatch_ns - 3_000_000,
            precision_ns: 1_000_000,
        };
        assert_eq!(row_timestamp_ns(Some(near), cloudwatch_ms), near.ns);
        let coarse = LineTime {
            precision_ns: 1_000_000_000,
            ..near
        };
        assert_eq!(row_timestamp_ns(Some(coarse), cloudwatch_ms), cloudwatch_ns);
        let far = LineTime {
            ns: cloudwatch_ns - 3_600_000_000_000,
            ..near
        };
        assert_eq!(row_timestamp_ns(Some(far), cloudwatch_ms), cloudwatch_ns);
        assert_eq!(row_timestamp_ns(None, cloudwatch_ms), cloudwatch_ns);
        let extreme = LineTime {
            ns: i64::MIN,
            precision_ns: 1,
        };
        assert_eq!(row_timestamp_ns(Some(extreme), i64::MAX), i64::MAX);
    }

    proptest::proptest! {
        /// A time already in chrono's shape (`T`, `.`) is parsed in place; the
        /// same time written with a space and a comma is copied into that shape
        /// first. Both must read the same instant and precision.
        #[test]
        fn times_in_shape_read_as_their_copies(
            seconds in 0i64..4_102_444_800,
            fraction in "[0-9]{0,9}",
            offset in proptest::sample::select(vec!["", "Z", "z", "+02:00", "-0530", "+01"]),
        ) {
            let time = DateTime::from_timestamp(seconds, 0).expect("in range");
            let (date, clock) = (time.format("%Y-%m-%d"), time.format("%H:%M:%S"));
            let (dot, comma) = if fraction.is_empty() {
                (String::new(), String::new())
            } else {
                (format!(".{fraction}"), format!(",{fraction}"))
            };
            let in_shape = parse_timestamp(&format!("{date}T{clock}{dot}{offset}"));
            let copied = parse_timestamp(&format!("{date} {clock}{comma}{offset}"));
            proptest::prop_assert!(in_shape.is_some());
            proptest::prop_assert_eq!(in_shape, copied);
        }
    }
}
