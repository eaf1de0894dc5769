//! Trace and span ids for the spans this crate starts.
//!
//! A trace started here gets an X-Ray-compatible id: its first 32 bits are the
//! epoch seconds of its start, the other 96 are random. The index uses that
//! prefix to bound a trace-by-id lookup in time (DESIGN.md, "Trace ids"), and
//! X-Ray accepts the id as it is. Ids that arrive in an incoming context are
//! kept: the SDK asks this generator only for traces with no valid parent.

use std::cell::Cell;
use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry::trace::{SpanId, TraceId};
use rand::rngs::SmallRng;
use rand::{RngCore as _, SeedableRng as _};

use crate::clock::Clock;

thread_local! {
    /// A trace id that the next root span started on this thread must use: an
    /// incoming X-Ray header can name a trace without naming a parent segment,
    /// which OpenTelemetry cannot express as a parent context.
    static NEXT_TRACE_ID: Cell<Option<u128>> = const { Cell::new(None) };
}

/// Runs `f` with `trace_id` as the id of any root span it starts, on this thread.
pub(crate) fn with_next_trace_id<R>(trace_id: Option<u128>, f: impl FnOnce() -> R) -> R {
    let previous = NEXT_TRACE_ID.with(|slot| slot.replace(trace_id));
    let result = f();
    NEXT_TRACE_ID.with(|slot| slot.set(previous));
    result
}

/// An OpenTelemetry [`IdGenerator`](opentelemetry_sdk::trace::IdGenerator) that
/// writes X-Ray-compatible, time-prefixed trace ids.
///
/// ```
/// use opentelemetry_sdk::trace::IdGenerator as _;
/// use tracelake_instrumentation::{Clock, XrayIdGenerator};
///
/// let generator = XrayIdGenerator::seeded(Clock::System, 7);
/// let id = u128::from_be_bytes(generator.new_trace_id().to_bytes());
/// let seconds = (id >> 96) as u64;
/// let now = std::time::SystemTime::now()
///     .duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
/// assert!(now - seconds < 5);
/// ```
#[derive(Debug)]
pub struct XrayIdGenerator {
    clock: Clock,
    /// Shared with the telemetry, which reseeds it after a SnapStart restore.
    rng: Arc<Mutex<SmallRng>>,
}

/// Reseeds an [`XrayIdGenerator`] from fresh entropy.
///
/// Every execution environment restored from one SnapStart snapshot starts
/// with the same memory, so with the same generator state: without a reseed
/// they would all give the same ids.
#[derive(Debug, Clone)]
pub(crate) struct Reseeder {
    rng: Arc<Mutex<SmallRng>>,
}

impl Reseeder {
    /// Replaces the generator's state with one drawn from the OS now, after
    /// the restore.
    pub(crate) fn reseed(&self) {
        *self.rng.lock().unwrap_or_else(PoisonError::into_inner) = os_seeded();
    }
}

/// A generator state drawn from the OS. Should the OS refuse, a seed from
/// the time in nanoseconds and the process id (std's hasher keys, drawn
/// before a SnapStart snapshot, only add mixing).
fn os_seeded() -> SmallRng {
    SmallRng::try_from_os_rng().unwrap_or_else(|_| {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(crate::clock::system_unix_nanos());
        hasher.write_u32(std::process::id());
        SmallRng::seed_from_u64(hasher.finish())
    })
}

impl XrayIdGenerator {
    /// A generator seeded from the OS.
    pub fn new(clock: Clock) -> XrayIdGenerator {
        XrayIdGenerator {
            clock,
            rng: Arc::new(Mutex::new(os_seeded())),
        }
    }

    /// A generator whose ids repeat for the same seed and the same clock
    /// readings (in one build: `rand`'s `SmallRng`).
    pub fn seeded(clock: Clock, seed: u64) -> XrayIdGenerator {
        XrayIdGenerator {
            clock,
            rng: Arc::new(Mutex::new(SmallRng::seed_from_u64(seed))),
        }
    }

    fn next_u64(&self) -> u64 {
        self.rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_u64()
    }

    pub(crate) fn reseeder(&self) -> Reseeder {
        Reseeder {
            rng: self.rng.clone(),
        }
    }

    /// A new time-prefixed trace id, as a number.
    pub fn new_trace_id_u128(&self) -> u128 {
        let seconds = (self.clock.now_unix_nanos() / 1_000_000_000) as u32;
        let random = (u128::from(self.next_u64()) << 32) | u128::from(self.next_u64() >> 32);
        let id = (u128::from(seconds) << 96) | (random & ((1u128 << 96) - 1));
        if id == 0 { 1 } else { id }
    }

    /// A new non-zero span id, as a number.
    pub fn new_span_id_u64(&self) -> u64 {
        loop {
            let id = self.next_u64();
            if id != 0 {
                return id;
            }
        }
    }
}

impl opentelemetry_sdk::trace::IdGenerator for XrayIdGenerator {
    fn new_trace_id(&self) -> TraceId {
        let forced = NEXT_TRACE_ID.with(|slot| slot.take());
        TraceId::from(forced.unwrap_or_else(|| self.new_trace_id_u128()))
    }

    fn new_span_id(&self) -> SpanId {
        SpanId::from(self.new_span_id_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use opentelemetry_sdk::trace::IdGenerator as _;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn trace_ids_carry_the_clock_seconds() {
        let clock = ManualClock::starting_at(UNIX_EPOCH + Duration::from_secs(0x5759_e988));
        let generator = XrayIdGenerator::seeded(Clock::Manual(clock), 1);
        let id = crate::wire::ids::TraceId(generator.new_trace_id_u128());
        assert_eq!(id.xray_epoch_seconds(), Some(0x5759_e988));
        assert!(id.to_xray().starts_with("1-5759e988-"));
    }

    #[test]
    fn seeded_generators_repeat_and_differ_by_seed() {
        let a = XrayIdGenerator::seeded(Clock::System, 42);
        let b = XrayIdGenerator::seeded(Clock::System, 42);
        let c = XrayIdGenerator::seeded(Clock::System, 43);
        let a_ids: Vec<u64> = (0..5).map(|_| a.new_span_id_u64()).collect();
        let b_ids: Vec<u64> = (0..5).map(|_| b.new_span_id_u64()).collect();
        let c_ids: Vec<u64> = (0..5).map(|_| c.new_span_id_u64()).collect();
        assert_eq!(a_ids, b_ids);
        assert_ne!(a_ids, c_ids);
        let mut unique = a_ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 5);
    }

    #[test]
    fn a_reseed_leaves_the_sequence_of_an_identical_twin() {
        // Two generators in the same state: two sandboxes restored from one snapshot.
        let restored_a = XrayIdGenerator::seeded(Clock::System, 42);
        let restored_b = XrayIdGenerator::seeded(Clock::System, 42);
        restored_a.reseeder().reseed();
        restored_b.reseeder().reseed();
        let a: Vec<u64> = (0..4).map(|_| restored_a.new_span_id_u64()).collect();
        let b: Vec<u64> = (0..4).map(|_| restored_b.new_span_id_u64()).collect();
        let unseeded: Vec<u64> = {
            let twin = XrayIdGenerator::seeded(Clock::System, 42);
            (0..4).map(|_| twin.new_span_id_u64()).collect()
        };
        assert_ne!(a, b);
        assert_ne!(a, unseeded);
    }

    #[test]
    fn a_forced_trace_id_is_used_once() {
        let generator = XrayIdGenerator::seeded(Clock::System, 1);
        let first = with_next_trace_id(Some(77), || {
            let first = generator.new_trace_id();
            let second = generator.new_trace_id();
            assert_ne!(second, TraceId::from(77u128));
            first
        });
        assert_eq!(first, TraceId::from(77u128));
    }
}
