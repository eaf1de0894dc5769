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
        // Little-endian 64-bit limbs of timestamp_ms << 144 | low (at most 208 bits).
        let mut limbs = [
            self.low as u64,
            (self.low >> 64) as u64,
            self.timestamp_ms << 16,
            self.timestamp_ms >> 48,
        ];
        let mut chunks = Vec::with_capacity(4);
        const CHUNK: u64 = 10_000_000_000_000_000_000; // 10^19
        while limbs.iter().any(|limb| *limb != 0) {
            let mut remainder: u128 = 0;
            for limb in limbs.iter_mut().rev() {
                let value = (remainder << 64) | u128::from(*limb);
                *limb = (value / u128::from(CHUNK)) as u64;
                remainder = value % u128::from(CHUNK);
            }
            chunks.push(remainder as u64);
        }
        match chunks.split_last() {
            None => out.push('0'),
            Some((most, rest)) => {
                out.push_str(&most.to_string());
                for chunk in rest.iter().rev() {
                    out.push_str(&format!("{chunk:019}"));
                }
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
