//! Timestamps as log lines write them, to nanoseconds since the epoch (UTC).
//!
//! Accepted: `2024-05-20T16:29:45.009Z`, `2025-06-04T12:46:22Z`,
//! `2026-11-29T01:02:03.456789Z`, `2021-05-03 11:47:12,494+0000`,
//! `2021-05-03T11:47:12.494+02:00`, and epoch milliseconds as a JSON number.

/// Parses an ISO 8601 / RFC 3339 time (with `T` or a space, `.` or `,` before
/// the fraction, and `Z`, `±HH:MM`, `±HHMM` or no offset meaning UTC).
pub fn parse_timestamp_ns(text: &str) -> Option<i64> {
    let bytes = text.trim().as_bytes();
    if bytes.len() < 19 {
        return None;
    }
    let year = digits(bytes, 0, 4)?;
    let month = digits(bytes, 5, 2)?;
    let day = digits(bytes, 8, 2)?;
    let hour = digits(bytes, 11, 2)?;
    let minute = digits(bytes, 14, 2)?;
    let second = digits(bytes, 17, 2)?;
    if bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut index = 19;
    let mut fraction_ns: i64 = 0;
    if index < bytes.len() && matches!(bytes[index], b'.' | b',') {
        index += 1;
        let mut scale = 100_000_000;
        let start = index;
        while index < bytes.len() && bytes[index].is_ascii_digit() {
            fraction_ns += i64::from(bytes[index] - b'0') * scale;
            scale /= 10;
            index += 1;
        }
        if index == start {
            return None;
        }
    }
    let offset_seconds: i64 = match bytes.get(index) {
        None => 0,
        Some(b'Z' | b'z') if index + 1 == bytes.len() => 0,
        Some(sign @ (b'+' | b'-')) => {
            let rest = &bytes[index + 1..];
            let (hours, minutes) = match rest.len() {
                5 if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                4 => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                2 => (digits(rest, 0, 2)?, 0),
                _ => return None,
            };
            let offset = hours * 3_600 + minutes * 60;
            if *sign == b'+' { offset } else { -offset }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_seconds;
    seconds.checked_mul(1_000_000_000)?.checked_add(fraction_ns)
}

fn digits(bytes: &[u8], start: usize, len: usize) -> Option<i64> {
    let slice = bytes.get(start..start + len)?;
    let mut value = 0i64;
    for byte in slice {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(byte - b'0');
    }
    Some(value)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

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
            parse_timestamp_ns("2026-11-29T01:02:03.456789Z").map(|n| n % 1_000_000_000),
            Some(456_789_000)
        );
    }

    #[test]
    fn non_timestamps_are_rejected() {
        for bad in [
            "",
            "2024-05-20",
            "2024-13-20T16:29:45Z",
            "hello world, here is text",
            "2024-05-20T16:29:45.Z",
            "2024-05-20T16:29:45Zjunk",
        ] {
            assert_eq!(parse_timestamp_ns(bad), None, "{bad}");
        }
    }
}
