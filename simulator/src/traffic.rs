//! Traffic: root requests arriving at the entry points, and the tree of
//! invocations each one causes, timed on the simulated clock.
//!
//! Invocations are planned depth first, so a caller always has a smaller index
//! than its callees: rendering in index order can hand each callee the trace
//! context its caller propagated.

use crate::clock::{NANOS_PER_MILLI, NANOS_PER_SECOND};
use crate::fleet::{EdgeKind, Fleet, MAX_LEVEL};
use crate::rng::SimRng;

/// Most services one trace touches.
pub const MAX_TRACE_INVOCATIONS: usize = 40;

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The handler returned normally.
    Success,
    /// The handler returned an error (logged, span status error).
    Error,
    /// The function ran until its timeout (`Status: timeout`).
    Timeout,
    /// The runtime process died (`Status: error`, `Runtime.ExitError`).
    Crash,
}

/// What started an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A root request from outside the fleet through API Gateway.
    ApiRoot,
    /// A hop from another service.
    Hop(EdgeKind),
}

/// A hop an invocation makes.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCall {
    /// Index of the edge in the caller's service.
    pub edge: usize,
    /// Index of the callee's invocation.
    pub callee: usize,
    /// When the call (or publish) starts.
    pub send_ns: u64,
    /// When the caller has the response (HTTP) or the publish is acknowledged.
    pub done_ns: u64,
}

/// One Lambda invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// Index of its trace.
    pub trace: usize,
    /// Index of its service in the fleet.
    pub service: usize,
    /// What started it.
    pub trigger: Trigger,
    /// The caller's invocation and the index of the call in it.
    pub parent: Option<(usize, usize)>,
    /// When the handler starts (`START`).
    pub start_ns: u64,
    /// Handler time (`Duration` of REPORT).
    pub duration_ns: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Outgoing hops, in time order.
    pub calls: Vec<PlannedCall>,
    /// The Lambda request id (a UUID's 128 bits).
    pub request_id: u128,
    /// Index of its log stream, set by [`crate::streams`].
    pub stream: usize,
    /// The init duration when this invocation started a new execution environment.
    pub init_ns: Option<u64>,
}

impl Invocation {
    /// When the handler ends.
    pub fn end_ns(&self) -> u64 {
        self.start_ns + self.duration_ns
    }
}

/// One trace: a root request and everything it caused.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// The 128-bit trace id; its first 32 bits are the root's epoch seconds, as X-Ray's.
    pub trace_id: u128,
    /// Index of the root invocation.
    pub root: usize,
    /// Number of invocations.
    pub invocations: usize,
}

/// Parameters of the traffic.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficConfig {
    /// Simulated start, epoch nanoseconds.
    pub start_ns: u64,
    /// Simulated length of the run.
    pub duration_ns: u64,
    /// Root requests per simulated second, over the whole fleet.
    pub root_rate_per_second: f64,
}

/// All planned traffic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    /// Every trace, in root start order.
    pub traces: Vec<Trace>,
    /// Every invocation, depth first within each trace.
    pub invocations: Vec<Invocation>,
}

/// Plans the traffic of a run.
pub fn plan(fleet: &Fleet, config: &TrafficConfig, rng: &mut SimRng) -> Traffic {
    let mut traffic = Traffic::default();
    let weights: Vec<f64> = fleet
        .entry_points
        .iter()
        .map(|i| fleet.services[*i].entry_weight)
        .collect();
    if fleet.entry_points.is_empty() || config.root_rate_per_second <= 0.0 {
        return traffic;
    }
    let mean_gap_ns = NANOS_PER_SECOND as f64 / config.root_rate_per_second;
    let end_ns = config.start_ns + config.duration_ns;
    let mut now = config.start_ns as f64;
    loop {
        now += rng.exponential(mean_gap_ns);
        let start = now as u64;
        if start >= end_ns {
            break;
        }
        let entry = fleet.entry_points[rng.weighted(&weights)];
        let budget = (2.0 + rng.log_normal(5.0, 0.8)).min(MAX_TRACE_INVOCATIONS as f64) as usize;
        let seconds = (start / NANOS_PER_SECOND) as u128;
        let random = rng.next_u128() & ((1u128 << 96) - 1);
        let trace_index = traffic.traces.len();
        let root = traffic.invocations.len();
        let mut planner = Planner {
            fleet,
            rng,
            invocations: &mut traffic.invocations,
            trace: trace_index,
            budget: budget.max(2),
            used: 0,
        };
        planner.invoke(entry, Trigger::ApiRoot, None, start, 0);
        let invocations = traffic.invocations.len() - root;
        traffic.traces.push(Trace {
            trace_id: (seconds << 96) | random.max(1),
            root,
            invocations,
        });
    }
    traffic
}

struct Planner<'a> {
    fleet: &'a Fleet,
    rng: &'a mut SimRng,
    invocations: &'a mut Vec<Invocation>,
    trace: usize,
    budget: usize,
    used: usize,
}

fn millis(ms: f64) -> u64 {
    (ms.max(0.0) * NANOS_PER_MILLI as f64) as u64
}

impl Planner<'_> {
    fn invoke(
        &mut self,
        service_index: usize,
        trigger: Trigger,
        parent: Option<(usize, usize)>,
        start_ns: u64,
        depth: u8,
    ) -> usize {
        let fleet = self.fleet;
        let service = &fleet.services[service_index];
        self.used += 1;
        let index = self.invocations.len();
        let request_id = self.rng.next_u128();
        let roll = self.rng.unit();
        let mut outcome = if roll < service.timeout_rate {
            Outcome::Timeout
        } else if roll < service.timeout_rate + service.crash_rate {
            Outcome::Crash
        } else if roll < service.timeout_rate + service.crash_rate + service.error_rate {
            Outcome::Error
        } else {
            Outcome::Success
        };
        self.invocations.push(Invocation {
            trace: self.trace,
            service: service_index,
            trigger,
            parent,
            start_ns,
            duration_ns: 0,
            outcome,
            calls: Vec::new(),
            request_id,
            stream: 0,
            init_ns: None,
        });

        let work = self
            .rng
            .log_normal(service.median_work_ms, service.work_sigma)
            .max(0.3);
        let timeout_ns = millis(service.timeout_ms as f64);
        let mut cursor = start_ns + millis(work * 0.4);
        let mut calls = Vec::new();
        if matches!(outcome, Outcome::Success | Outcome::Error) && depth < MAX_LEVEL {
            // A root request always reaches at least one other service.
            let forced = (depth == 0 && !service.edges.is_empty())
                .then(|| self.rng.below(service.edges.len() as u64) as usize);
            for (edge_index, edge) in service.edges.iter().enumerate() {
                if self.used >= self.budget || cursor >= start_ns + timeout_ns {
                    break;
                }
                if forced != Some(edge_index) && !self.rng.chance(edge.probability) {
                    continue;
                }
                let send_ns = cursor + millis(self.rng.log_normal(1.5, 0.5));
                let call_slot = calls.len();
                calls.push(PlannedCall {
                    edge: edge_index,
                    callee: usize::MAX,
                    send_ns,
                    done_ns: send_ns,
                });
                // The callee starts after the network or the queue.
                let callee_start = send_ns
                    + millis(match edge.kind {
                        EdgeKind::Http | EdgeKind::LambdaInvoke => self.rng.log_normal(4.0, 0.4),
                        EdgeKind::Sqs => self.rng.log_normal(25.0, 0.8),
                        EdgeKind::Sns => self.rng.log_normal(40.0, 0.6),
                        EdgeKind::EventBridge => self.rng.log_normal(250.0, 0.5),
                        EdgeKind::Kinesis => self.rng.log_normal(600.0, 0.6),
                        EdgeKind::StepFunctions => self.rng.log_normal(80.0, 0.5),
                    });
                let callee = self.invoke(
                    edge.target,
                    Trigger::Hop(edge.kind),
                    Some((index, call_slot)),
                    callee_start,
                    depth + 1,
                );
                let done_ns = if edge.kind.is_sync() {
                    let callee_end = self.invocations[callee].end_ns();
                    callee_end + millis(self.rng.log_normal(3.0, 0.4))
                } else {
                    send_ns + millis(self.rng.log_normal(8.0, 0.5))
                };
                calls[call_slot].callee = callee;
                calls[call_slot].done_ns = done_ns;
                cursor = done_ns;
            }
        }
        let mut end_ns = cursor + millis(work * 0.6);
        match outcome {
            Outcome::Timeout => end_ns = start_ns + timeout_ns,
            Outcome::Crash => end_ns = start_ns + millis(work * 0.5),
            Outcome::Success | Outcome::Error if end_ns > start_ns + timeout_ns => {
                outcome = Outcome::Timeout;
                end_ns = start_ns + timeout_ns;
            }
            Outcome::Success | Outcome::Error => {}
        }
        let invocation = &mut self.invocations[index];
        invocation.duration_ns = (end_ns - start_ns).max(NANOS_PER_MILLI / 10);
        invocation.outcome = outcome;
        invocation.calls = calls;
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::DEFAULT_START_NANOS;
    use crate::fleet::FleetConfig;

    fn traffic(seed: u64) -> (Fleet, Traffic) {
        let mut rng = SimRng::new(seed);
        let fleet = Fleet::generate(&FleetConfig::default(), &mut rng);
        let config = TrafficConfig {
            start_ns: DEFAULT_START_NANOS,
            duration_ns: 60 * NANOS_PER_SECOND,
            root_rate_per_second: 20.0,
        };
        let traffic = plan(&fleet, &config, &mut rng);
        (fleet, traffic)
    }

    #[test]
    fn traces_have_2_to_40_invocations_and_depth_at_most_8() {
        let (_, traffic) = traffic(11);
        assert!(traffic.traces.len() > 1000, "{}", traffic.traces.len());
        let mut largest = 0;
        for trace in &traffic.traces {
            assert!((1..=MAX_TRACE_INVOCATIONS).contains(&trace.invocations));
            largest = largest.max(trace.invocations);
        }
        assert!(largest >= 20, "largest trace has {largest} invocations");
        let multi = traffic.traces.iter().filter(|t| t.invocations >= 2).count();
        assert!(
            multi * 10 > traffic.traces.len() * 9,
            "{multi} multi-service traces"
        );
        for invocation in &traffic.invocations {
            let mut depth = 0;
            let mut at = invocation.parent;
            while let Some((parent, _)) = at {
                depth += 1;
                at = traffic.invocations[parent].parent;
            }
            assert!(depth <= usize::from(MAX_LEVEL));
        }
    }

    #[test]
    fn callers_come_first_and_sync_callers_wait_for_callees() {
        let (fleet, traffic) = traffic(12);
        for (index, invocation) in traffic.invocations.iter().enumerate() {
            for call in &invocation.calls {
                assert!(call.callee > index);
                let callee = &traffic.invocations[call.callee];
                assert_eq!(callee.parent.map(|p| p.0), Some(index));
                assert!(callee.start_ns > call.send_ns);
                let kind = fleet.services[invocation.service].edges[call.edge].kind;
                if kind.is_sync() && invocation.outcome != Outcome::Timeout {
                    assert!(callee.end_ns() <= invocation.end_ns());
                }
            }
            let service = &fleet.services[invocation.service];
            assert!(invocation.duration_ns <= service.timeout_ms * NANOS_PER_MILLI);
        }
        let outcomes: std::collections::BTreeSet<_> = traffic
            .invocations
            .iter()
            .map(|i| format!("{:?}", i.outcome))
            .collect();
        assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    }
}
