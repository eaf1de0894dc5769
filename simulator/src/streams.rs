//! Execution environments and their log streams.
//!
//! Lambda runs one invocation at a time in an execution environment, and each
//! environment writes to its own log stream. A function under concurrent load
//! therefore has several streams. An invocation that finds no idle environment
//! starts a new one: a cold start, with `INIT_START` and `Init Duration`.
//! Environments are recycled after an idle period or a lifetime, and after a
//! timeout or a crash.

use crate::clock::{NANOS_PER_MILLI, NANOS_PER_SECOND};
use crate::fleet::{Fleet, Runtime};
use crate::rng::SimRng;
use crate::traffic::{Outcome, Traffic};

/// One log stream (one execution environment).
#[derive(Debug, Clone, PartialEq)]
pub struct LogStream {
    /// Index of the service.
    pub service: usize,
    /// `2026/11/29/[$LATEST]<32 hex>`.
    pub name: String,
}

struct Environment {
    stream: usize,
    busy_until: u64,
    retire_at: u64,
    broken: bool,
}

/// Assigns every invocation a log stream and marks cold starts.
pub fn assign(fleet: &Fleet, traffic: &mut Traffic, rng: &mut SimRng) -> Vec<LogStream> {
    let mut order: Vec<usize> = (0..traffic.invocations.len()).collect();
    order.sort_by_key(|i| {
        let invocation = &traffic.invocations[*i];
        (invocation.service, invocation.start_ns, *i)
    });
    let mut streams = Vec::new();
    let mut environments: Vec<Environment> = Vec::new();
    let mut current_service = usize::MAX;
    let idle_limit = 6 * 60 * NANOS_PER_SECOND;
    for index in order {
        let invocation = &traffic.invocations[index];
        let service = invocation.service;
        if service != current_service {
            environments.clear();
            current_service = service;
        }
        let runtime = fleet.services[service].runtime;
        let start = invocation.start_ns;
        environments.retain(|env| {
            !env.broken && env.retire_at > start && env.busy_until + idle_limit > start
        });
        // Lambda prefers the most recently used idle environment.
        let idle = environments
            .iter_mut()
            .filter(|env| env.busy_until <= start)
            .max_by_key(|env| (env.busy_until, env.stream));
        let (stream, init_ns) = match idle {
            Some(env) => (env.stream, None),
            None => {
                let init_ms = match runtime {
                    Runtime::RustInstrumented | Runtime::PlainText => rng.log_normal(35.0, 0.4),
                    Runtime::NodeText | Runtime::NodeJson => rng.log_normal(180.0, 0.4),
                    _ => rng.log_normal(300.0, 0.4),
                };
                let stream = streams.len();
                streams.push(LogStream {
                    service,
                    name: format!(
                        "{}/[$LATEST]{:032x}",
                        crate::clock::stream_date(start),
                        rng.next_u128()
                    ),
                });
                environments.push(Environment {
                    stream,
                    busy_until: 0,
                    retire_at: start + rng.between(10, 90) * 60 * NANOS_PER_SECOND,
                    broken: false,
                });
                (
                    stream,
                    Some((init_ms.max(1.0) * NANOS_PER_MILLI as f64) as u64),
                )
            }
        };
        let end = invocation.end_ns();
        let broken = matches!(invocation.outcome, Outcome::Timeout | Outcome::Crash);
        if let Some(env) = environments.iter_mut().find(|env| env.stream == stream) {
            // The platform writes END and REPORT after the handler; keep a gap.
            env.busy_until = end + 5 * NANOS_PER_MILLI;
            env.broken = broken;
        }
        let invocation = &mut traffic.invocations[index];
        invocation.stream = stream;
        invocation.init_ns = init_ns;
    }
    streams
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::DEFAULT_START_NANOS;
    use crate::fleet::FleetConfig;
    use crate::traffic::{TrafficConfig, plan};

    #[test]
    fn one_invocation_at_a_time_per_stream_and_cold_start_first() {
        let mut rng = SimRng::new(21);
        let fleet = Fleet::generate(
            &FleetConfig {
                services: 60,
                ..FleetConfig::default()
            },
            &mut rng,
        );
        let config = TrafficConfig {
            start_ns: DEFAULT_START_NANOS,
            duration_ns: 120 * NANOS_PER_SECOND,
            root_rate_per_second: 30.0,
        };
        let mut traffic = plan(&fleet, &config, &mut rng);
        let streams = assign(&fleet, &mut traffic, &mut rng);
        let mut by_stream: Vec<Vec<usize>> = vec![Vec::new(); streams.len()];
        for (index, invocation) in traffic.invocations.iter().enumerate() {
            assert_eq!(streams[invocation.stream].service, invocation.service);
            by_stream[invocation.stream].push(index);
        }
        let mut several_streams = false;
        let mut warm = 0;
        for list in &mut by_stream {
            list.sort_by_key(|i| traffic.invocations[*i].start_ns);
            let first = &traffic.invocations[list[0]];
            assert!(first.init_ns.is_some(), "a stream starts with a cold start");
            for pair in list.windows(2) {
                let (a, b) = (&traffic.invocations[pair[0]], &traffic.invocations[pair[1]]);
                assert!(a.end_ns() < b.start_ns, "overlap on one stream");
                assert!(b.init_ns.is_none());
                warm += 1;
            }
        }
        for service in 0..fleet.services.len() {
            several_streams |= streams.iter().filter(|s| s.service == service).count() > 1;
        }
        assert!(several_streams);
        assert!(
            warm > traffic.invocations.len() / 2,
            "{warm} warm invocations"
        );
    }
}
