//! CloudWatch Logs event ids.
//!
//! CloudWatch gives each event a 56-digit decimal id. Reading the ids in the
//! fixtures as integers shows their layout: the event's timestamp in
//! milliseconds shifted left by 144 bits, plus 144 lower bits that tell apart
//! events of the same millisecond (fixture 03: `34622316099697884706540976068822859012661220141643892546 >> 144`
//! is its timestamp `1552518348220`). The simulator builds ids the same way, with
//! a hash of the log stream and a per-run sequence number in the lower bits, so
//! ids sort by time and never repeat within a run.

/// A CloudWatch event id: `timestamp_ms << 144 | low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    /// The event's timestamp in epoch milliseconds.
    pub timestamp_ms: u64,
    /// The lower 128 of the 144 lower bits.
    pub low: u128,
}

impl EventId {
    /// Appends the id's decimal digits to `out`.
    pub fn write_decimal(&self, out: &mut String) {
        // Little-endian 32-bit limbs of timestamp_ms << 144 | low. Dividing by 10^9
        // keeps every intermediate value below 2^62, so the divisions are u64
        // divisions by a constant, which compile to multiplications.
        let shifted = u128::from(self.timestamp_ms) << 16;
        let mut limbs = [
            self.low as u32,
            (self.low >> 32) as u32,
            (self.low >> 64) as u32,
            (self.low >> 96) as u32,
            shifted as u32,
            (shifted >> 32) as u32,
            (shifted >> 64) as u32,
        ];
        const CHUNK: u64 = 1_000_000_000;
        let mut chunks = [0u32; 8];
        let mut count = 0;
        let mut top = limbs.len();
        while top > 0 {
            while top > 0 && limbs[top - 1] == 0 {
                top -= 1;
            }
            if top == 0 {
                break;
            }
            let mut remainder: u64 = 0;
            for limb in limbs[..top].iter_mut().rev() {
                let value = (remainder << 32) | u64::from(*limb);
                *limb = (value / CHUNK) as u32;
                remainder = value % CHUNK;
            }
            if count < chunks.len() {
                chunks[count] = remainder as u32;
                count += 1;
            }
        }
        if count == 0 {
            out.push('0');
            return;
        }
        let mut digits = [0u8; 9];
        for (position, chunk) in chunks[..count].iter().rev().enumerate() {
            let mut value = *chunk;
            for digit in digits.iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
            let text = if position == 0 {
                // The leading chunk has no leading zeros.
                let first = digits.iter().position(|d| *d != b'0').unwrap_or(8);
                &digits[first..]
            } else {
                &digits[..]
            };
            for digit in text {
                out.push(char::from(*digit));
            }
        }
    }

    /// The id as CloudWatch writes it.
    pub fn to_decimal(&self) -> String {
        let mut out = String::with_capacity(56);
        self.write_decimal(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_reproduces_fixture_ids() {
        // Fixture 06's id, split into its timestamp and lower bits.
        let fixture_06 = EventId {
            timestamp_ms: 1_725_544_035_523,
            low: 0x191c27075e1081add5bf86037960000,
        };
        assert_eq!(
            fixture_06.to_decimal(),
            "38480917865042697267627490045603633139480491071049695232"
        );
    }

    #[test]
    fn decimal_matches_u128_arithmetic_where_it_fits() {
        for low in [
            0u128,
            1,
            9,
            10,
            999_999_999,
            1_000_000_000,
            u64::MAX as u128,
            u128::MAX,
        ] {
            let id = EventId {
                timestamp_ms: 0,
                low,
            };
            assert_eq!(id.to_decimal(), low.to_string());
        }
        // timestamp_ms << 144 for a small timestamp: 3 * 2^144.
        let id = EventId {
            timestamp_ms: 3,
            low: 0,
        };
        assert_eq!(
            id.to_decimal(),
            "66902235595591869424607154817945084517941248"
        );
    }

    #[test]
    fn ids_are_56_digits_and_sort_by_time() {
        let early = EventId {
            timestamp_ms: 1_795_910_400_000,
            low: u128::MAX,
        };
        let late = EventId {
            timestamp_ms: 1_795_910_400_001,
            low: 0,
        };
        let (a, b) = (early.to_decimal(), late.to_decimal());
        assert_eq!(a.len(), 56);
        assert_eq!(b.len(), 56);
        assert!(a < b);
        assert_eq!(
            EventId {
                timestamp_ms: 0,
                low: 0
            }
            .to_decimal(),
            "0"
        );
        assert_eq!(
            EventId {
                timestamp_ms: 0,
                low: 12345
            }
            .to_decimal(),
            "12345"
        );
    }
}
