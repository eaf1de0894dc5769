//! Stream order: positions on a log stream (CloudWatch event ids as numbers),
//! and the invocations running on a stream between their platform markers.

use std::collections::HashMap;

use super::platform::Marker;

/// A position on a log stream: the event id as a 256-bit number, most
/// significant limb first (so that the derived order is numeric order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Position(pub(super) [u64; 4]);

impl Position {
    /// Reads a decimal CloudWatch event id; `None` when it is not a decimal
    /// number below 2^256.
    pub(super) fn parse(event_id: &str) -> Option<Position> {
        if event_id.is_empty() || !event_id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Little-endian limbs while multiplying.
        let mut limbs = [0u64; 4];
        for digit in event_id.bytes() {
            let mut carry = u128::from(digit - b'0');
            for limb in &mut limbs {
                let value = u128::from(*limb) * 10 + carry;
                *limb = value as u64;
                carry = value >> 64;
            }
            if carry != 0 {
                return None;
            }
        }
        Some(Position([limbs[3], limbs[2], limbs[1], limbs[0]]))
    }
}

/// The start of a running interval: before everything, or at a `START`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Begin {
    Open,
    At(Position),
}

/// The end of a running interval: at an `END`/`REPORT`, or after everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum End {
    At(Position),
    Open,
}

pub(super) fn begins_before(begin: Begin, position: Position) -> bool {
    match begin {
        Begin::Open => true,
        Begin::At(at) => at < position,
    }
}

pub(super) fn ends_after(end: End, position: Position) -> bool {
    match end {
        End::Open => true,
        End::At(at) => position < at,
    }
}

/// Whether an interval beginning at `begin` starts before one ending at `end` ends.
pub(super) fn begin_before_end(begin: Begin, end: End) -> bool {
    match (begin, end) {
        (Begin::Open, _) | (_, End::Open) => true,
        (Begin::At(begin), End::At(end)) => begin < end,
    }
}

#[derive(Debug, Default)]
pub(super) struct StreamEvidence {
    /// Platform markers: position, interned request, what it says.
    pub(super) markers: Vec<(Position, u32, Marker)>,
    /// Per request, the first and last position of a non-platform line naming it.
    pub(super) named: HashMap<u32, (Position, Position)>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Interval {
    begin: Begin,
    end: End,
    request: u32,
    ambiguous: bool,
}

/// The invocations running on one stream, in stream order.
#[derive(Debug, Default)]
pub(super) struct StreamIntervals {
    /// Unambiguous intervals: disjoint, sorted.
    clear: Vec<Interval>,
}

impl StreamIntervals {
    pub(super) fn build(evidence: &StreamEvidence) -> StreamIntervals {
        let named = &evidence.named;
        let mut markers = evidence.markers.clone();
        markers.sort_unstable();
        markers.dedup();

        // One interval per request: from its START to its first END/REPORT.
        let mut intervals: Vec<Interval> = Vec::new();
        let mut interval_of: HashMap<u32, usize> = HashMap::new();
        let mut open: HashMap<u32, Position> = HashMap::new();
        for (index, &(position, request, marker)) in markers.iter().enumerate() {
            match marker {
                Marker::Start => {
                    if !interval_of.contains_key(&request) {
                        open.entry(request).or_insert(position);
                    }
                }
                Marker::Stop => {
                    if let Some(start) = open.remove(&request) {
                        interval_of.insert(request, intervals.len());
                        intervals.push(Interval {
                            begin: Begin::At(start),
                            end: End::At(position),
                            request,
                            ambiguous: false,
                        });
                    } else if !interval_of.contains_key(&request)
                        && markers[..index].iter().all(|&(_, earlier, marker)| {
                            earlier == request && marker == Marker::Stop
                        })
                    {
                        // The stream's first platform line ends a request whose
                        // START came before what was observed: it was running
                        // from the beginning.
                        interval_of.insert(request, intervals.len());
                        intervals.push(Interval {
                            begin: Begin::Open,
                            end: End::At(position),
                            request,
                            ambiguous: false,
                        });
                    }
                }
            }
        }
        // Still running when the observed stream ends (a START is never
        // opened for a request that already has an interval).
        for (request, start) in open {
            intervals.push(Interval {
                begin: Begin::At(start),
                end: End::Open,
                request,
                ambiguous: false,
            });
        }
        intervals.sort_unstable_by_key(|interval| (interval.begin, interval.end, interval.request));
        let interval_of: HashMap<u32, usize> = intervals
            .iter()
            .enumerate()
            .map(|(index, interval)| (interval.request, index))
            .collect();

        // Two invocations running at once: neither links by position.
        for i in 0..intervals.len() {
            for j in i + 1..intervals.len() {
                if !begin_before_end(intervals[j].begin, intervals[i].end) {
                    break;
                }
                intervals[i].ambiguous = true;
                intervals[j].ambiguous = true;
            }
        }
        let clear: Vec<Interval> = intervals
            .iter()
            .copied()
            .filter(|interval| !interval.ambiguous)
            .collect();

        // A platform line or a named line of another request inside an
        // invocation: a concurrent runtime, neither links by position.
        let mut suspects: Vec<(u32, Position, Position)> = markers
            .iter()
            .map(|&(position, request, _)| (request, position, position))
            .collect();
        // A request's named lines after its own END/REPORT are late output
        // (Node work left running after the handler returned), not a
        // concurrent request: only those up to its end are suspects.
        suspects.extend(named.iter().filter_map(|(&request, &(first, last))| {
            let own_end = interval_of
                .get(&request)
                .and_then(|&index| match intervals[index].end {
                    End::At(end) => Some(end),
                    End::Open => None,
                });
            match own_end {
                Some(end) if first > end => None,
                Some(end) if last > end => Some((request, first, end)),
                _ => Some((request, first, last)),
            }
        }));
        for (request, first, last) in suspects {
            let from = clear.partition_point(|interval| !ends_after(interval.end, first));
            for interval in &clear[from..] {
                // Sorted and disjoint: every interval from `from` on ends after
                // `first`; those that also begin before `last` overlap [first, last].
                if !begins_before(interval.begin, last) {
                    break;
                }
                if interval.request != request {
                    if let Some(&index) = interval_of.get(&interval.request) {
                        intervals[index].ambiguous = true;
                    }
                    if let Some(&index) = interval_of.get(&request) {
                        intervals[index].ambiguous = true;
                    }
                }
            }
        }
        StreamIntervals {
            clear: intervals
                .into_iter()
                .filter(|interval| !interval.ambiguous)
                .collect(),
        }
    }

    /// The one request running at `position`, if exactly one was.
    pub(super) fn running_at(&self, position: Position) -> Option<u32> {
        let index = self
            .clear
            .partition_point(|interval| !ends_after(interval.end, position));
        let interval = self.clear.get(index)?;
        begins_before(interval.begin, position).then_some(interval.request)
    }
}
