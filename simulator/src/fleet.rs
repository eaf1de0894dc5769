//! The fleet: services, their runtimes and log formats, and the call graph.
//!
//! Services sit on levels 0 to 7. Level 0 holds the API entry points; every edge
//! goes from a lower level to a higher one, so a call chain is at most 8 deep and
//! has no cycle. Upper levels call mostly over HTTP (synchronously); lower levels
//! mostly hand work on through SQS, SNS, EventBridge, Kinesis and Step Functions.
//! Services with no outgoing edge are the workers at the leaves.

use crate::names::{DOMAINS, ENTRY_ROLES, LEAF_ROLES, MID_ROLES, TEAMS};
use crate::rng::SimRng;

/// The deepest level; call chains are at most `MAX_LEVEL + 1` services long.
pub const MAX_LEVEL: u8 = 7;

/// What a service is written in and how it logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    /// A Rust Lambda linking tracelake-instrumentation: JSON log lines with trace ids, and span lines.
    RustInstrumented,
    /// Node.js with the default text format: `ts\trequestId\tLEVEL\tmessage`.
    NodeText,
    /// Node.js with Lambda's JSON log format: `{"timestamp","level","requestId","message"}`.
    NodeJson,
    /// Python with the default text format: `[LEVEL]\tts\trequestId\tmessage`.
    PythonText,
    /// Python with Lambda's JSON log format.
    PythonJson,
    /// Python logging through Powertools for AWS Lambda's Logger.
    Powertools,
    /// An uninstrumented custom-runtime binary printing plain text (Go's `log` format).
    PlainText,
}

impl Runtime {
    /// A short name for docs and summaries.
    pub fn label(self) -> &'static str {
        match self {
            Runtime::RustInstrumented => "rust-instrumented",
            Runtime::NodeText => "node-text",
            Runtime::NodeJson => "node-json",
            Runtime::PythonText => "python-text",
            Runtime::PythonJson => "python-json",
            Runtime::Powertools => "python-powertools",
            Runtime::PlainText => "plain-text",
        }
    }

    /// The Lambda runtime identifier printed in `INIT_START`.
    pub fn runtime_version(self) -> &'static str {
        match self {
            Runtime::RustInstrumented | Runtime::PlainText => "provided:al2023.v98",
            Runtime::NodeText | Runtime::NodeJson => "nodejs:22.v51",
            Runtime::PythonText | Runtime::PythonJson | Runtime::Powertools => "python:3.13.v43",
        }
    }

    /// Every runtime, in a fixed order.
    pub const ALL: [Runtime; 7] = [
        Runtime::RustInstrumented,
        Runtime::NodeText,
        Runtime::NodeJson,
        Runtime::PythonText,
        Runtime::PythonJson,
        Runtime::Powertools,
        Runtime::PlainText,
    ];
}

/// Lambda's `LoggingConfig.LogFormat`: how the platform lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `START RequestId: …`, `REPORT RequestId: …\tDuration: …`.
    Text,
    /// `{"time":…,"type":"platform.report","record":{…}}`.
    Json,
}

/// How one service hands work to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeKind {
    /// A synchronous HTTP call (API Gateway or Function URL); the caller waits.
    Http,
    /// A message on an SQS queue.
    Sqs,
    /// A notification on an SNS topic.
    Sns,
    /// An event on an EventBridge bus.
    EventBridge,
    /// A record on a Kinesis stream.
    Kinesis,
    /// A task state of a Step Functions state machine.
    StepFunctions,
}

impl EdgeKind {
    /// Whether the caller waits for the callee.
    pub fn is_sync(self) -> bool {
        self == EdgeKind::Http
    }

    /// The OpenTelemetry `faas.trigger` of the callee.
    pub fn faas_trigger(self) -> &'static str {
        match self {
            EdgeKind::Http => "http",
            EdgeKind::Sqs | EdgeKind::Sns | EdgeKind::EventBridge => "pubsub",
            EdgeKind::Kinesis => "datasource",
            EdgeKind::StepFunctions => "other",
        }
    }

    /// The `messaging.system` / short name used in log lines and span names.
    pub fn label(self) -> &'static str {
        match self {
            EdgeKind::Http => "http",
            EdgeKind::Sqs => "aws_sqs",
            EdgeKind::Sns => "aws_sns",
            EdgeKind::EventBridge => "eventbridge",
            EdgeKind::Kinesis => "kinesis",
            EdgeKind::StepFunctions => "stepfunctions",
        }
    }
}

/// One possible hop from a service to another.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// Index of the callee in [`Fleet::services`].
    pub target: usize,
    /// How the work travels.
    pub kind: EdgeKind,
    /// The chance that one invocation of the caller takes this edge.
    pub probability: f64,
    /// The route, queue, topic, bus, stream or state machine the hop goes through.
    pub channel: String,
}

/// One Lambda function of the fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The service name (`service.name`), unique in the fleet.
    pub name: String,
    /// The Lambda function name.
    pub function_name: String,
    /// `/aws/lambda/<function>`.
    pub log_group: String,
    /// What it runs and how it logs.
    pub runtime: Runtime,
    /// How its platform lines are written.
    pub log_format: LogFormat,
    /// Whether X-Ray active tracing is on (`XRAY TraceId` in REPORT).
    pub xray_active: bool,
    /// Whether a Rust service writes spans in the compact envelope
    /// (`TRACELAKE_SPAN_FORMAT=compact`) instead of OTLP JSON.
    pub compact_spans: bool,
    /// Configured memory.
    pub memory_mb: u32,
    /// Configured timeout.
    pub timeout_ms: u64,
    /// Median of its own work per invocation.
    pub median_work_ms: f64,
    /// Shape of the log-normal work time: larger is more skewed.
    pub work_sigma: f64,
    /// Chance that an invocation fails with a handled error.
    pub error_rate: f64,
    /// Chance that an invocation hangs until its timeout.
    pub timeout_rate: f64,
    /// Chance that the runtime process dies (`Status: error`, `Runtime.ExitError`).
    pub crash_rate: f64,
    /// Level in the call graph, 0 for entry points.
    pub level: u8,
    /// Outgoing hops.
    pub edges: Vec<Edge>,
    /// Relative share of root requests (entry points only).
    pub entry_weight: f64,
}

/// Knobs of the fleet and its behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetConfig {
    /// Number of services.
    pub services: usize,
    /// Multiplies every service's error rate.
    pub error_rate_scale: f64,
    /// Multiplies every service's timeout rate.
    pub timeout_rate_scale: f64,
    /// Share of Rust services writing the compact span format.
    pub compact_span_share: f64,
    /// AWS region of the fleet.
    pub region: String,
    /// AWS account id of the fleet.
    pub account_id: String,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            services: 300,
            error_rate_scale: 1.0,
            timeout_rate_scale: 1.0,
            compact_span_share: 0.15,
            region: "us-east-1".to_owned(),
            account_id: "123456789012".to_owned(),
        }
    }
}

/// The generated fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// Every service, entry points first.
    pub services: Vec<Service>,
    /// Indices of the entry points (level 0).
    pub entry_points: Vec<usize>,
    /// AWS region.
    pub region: String,
    /// AWS account id.
    pub account_id: String,
}

impl Service {
    /// The team owning the service's domain (its name's first word), or
    /// `platform` for a name outside the known domains.
    pub fn team(&self) -> &'static str {
        let domain = self.name.split('-').next().unwrap_or_default();
        TEAMS
            .iter()
            .find(|(_, domains)| domains.contains(&domain))
            .map_or("platform", |(team, _)| team)
    }
}

impl Fleet {
    /// Builds a fleet of `config.services` services (at least 2) from `rng`.
    pub fn generate(config: &FleetConfig, rng: &mut SimRng) -> Fleet {
        let count = config.services.max(2);
        let entry_count = (count / 12).clamp(1, count - 1);
        let level_weights = [0.22, 0.2, 0.17, 0.14, 0.11, 0.09, 0.07];

        let mut levels: Vec<u8> = Vec::with_capacity(count);
        levels.extend(std::iter::repeat_n(0u8, entry_count));
        for _ in entry_count..count {
            levels.push(1 + rng.weighted(&level_weights) as u8);
        }
        levels[entry_count..].sort_unstable();
        // Every level between 1 and the deepest present level must hold a service,
        // or edges from the level above would have nowhere to go.
        let deepest = levels.last().copied().unwrap_or(0);

        let mut used_names = std::collections::BTreeSet::new();
        let mut services = Vec::with_capacity(count);
        for (index, level) in levels.iter().copied().enumerate() {
            let domain = DOMAINS[rng.below(DOMAINS.len() as u64) as usize];
            let roles: &[&str] = if level == 0 {
                &ENTRY_ROLES
            } else if level >= 5 {
                &LEAF_ROLES
            } else {
                &MID_ROLES
            };
            let role = roles[rng.below(roles.len() as u64) as usize];
            let mut name = format!("{domain}-{role}");
            let mut suffix = 2;
            while used_names.contains(&name) {
                name = format!("{domain}-{role}-{suffix}");
                suffix += 1;
            }
            used_names.insert(name.clone());
            services.push(new_service(index, name, level, config, rng));
        }

        let by_level: Vec<Vec<usize>> = (0..=MAX_LEVEL)
            .map(|level| (0..count).filter(|i| levels[*i] == level).collect())
            .collect();
        let mut has_caller = vec![false; count];
        for index in 0..count {
            let level = levels[index];
            if level >= deepest {
                continue;
            }
            let degree = if level == 0 {
                rng.between(2, 5)
            } else if rng.chance(0.2) {
                0 // a worker in the middle of the graph
            } else {
                rng.between(1, 3)
            };
            for _ in 0..degree {
                let jump = [1u8, 1, 1, 1, 1, 1, 1, 2, 2, 3][rng.below(10) as usize];
                let target_level = (level + jump).min(deepest);
                let Some(&target) = rng.pick(&by_level[usize::from(target_level)]) else {
                    continue;
                };
                if services[index]
                    .edges
                    .iter()
                    .any(|e: &Edge| e.target == target)
                {
                    continue;
                }
                let kind = edge_kind(level, rng);
                has_caller[target] = true;
                let edge = new_edge(&services[target].name, target, kind, rng);
                services[index].edges.push(edge);
            }
        }
        // Every service below the entry points gets at least one caller, so that all
        // of them see traffic.
        for index in entry_count..count {
            if has_caller[index] {
                continue;
            }
            let level = levels[index];
            let callers: Vec<usize> = (0..count)
                .filter(|c| levels[*c] < level && levels[*c] + 3 >= level)
                .collect();
            let caller = rng
                .pick(&callers)
                .copied()
                .unwrap_or_else(|| rng.below(entry_count as u64) as usize);
            let kind = edge_kind(levels[caller], rng);
            let mut edge = new_edge(&services[index].name, index, kind, rng);
            edge.probability = edge.probability.max(0.6);
            services[caller].edges.push(edge);
            has_caller[index] = true;
        }
        for service in &mut services {
            service.edges.sort_by_key(|edge| edge.target);
        }
        Fleet {
            services,
            entry_points: by_level[0].clone(),
            region: config.region.clone(),
            account_id: config.account_id.clone(),
        }
    }

    /// The function's ARN.
    pub fn function_arn(&self, service: &Service) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, service.function_name
        )
    }
}

fn edge_kind(caller_level: u8, rng: &mut SimRng) -> EdgeKind {
    let http_share = match caller_level {
        0 => 0.85,
        1 | 2 => 0.5,
        _ => 0.25,
    };
    if rng.chance(http_share) {
        return EdgeKind::Http;
    }
    [
        EdgeKind::Sqs,
        EdgeKind::Sns,
        EdgeKind::EventBridge,
        EdgeKind::Kinesis,
        EdgeKind::StepFunctions,
    ][rng.weighted(&[35.0, 15.0, 20.0, 15.0, 15.0])]
}

fn new_edge(target_name: &str, target: usize, kind: EdgeKind, rng: &mut SimRng) -> Edge {
    let resource = target_name.split('-').next().unwrap_or(target_name);
    let channel = match kind {
        EdgeKind::Http => {
            let verb = ["GET", "GET", "GET", "POST", "PUT", "DELETE"][rng.below(6) as usize];
            format!("{verb} /{resource}/{{id}}")
        }
        EdgeKind::Sqs => format!("{target_name}-queue"),
        EdgeKind::Sns => format!("{resource}-events-topic"),
        EdgeKind::EventBridge => format!("{resource}-bus"),
        EdgeKind::Kinesis => format!("{resource}-stream"),
        EdgeKind::StepFunctions => format!("{resource}-workflow"),
    };
    Edge {
        target,
        kind,
        probability: 0.35 + rng.unit() * 0.55,
        channel,
    }
}

fn new_service(
    index: usize,
    name: String,
    level: u8,
    config: &FleetConfig,
    rng: &mut SimRng,
) -> Service {
    let runtime = Runtime::ALL[rng.weighted(&[60.0, 7.0, 6.0, 8.0, 3.0, 7.0, 9.0])];
    let log_format = match runtime {
        Runtime::NodeJson | Runtime::PythonJson => LogFormat::Json,
        Runtime::RustInstrumented if rng.chance(0.3) => LogFormat::Json,
        _ => LogFormat::Text,
    };
    let xray_active = match runtime {
        Runtime::RustInstrumented => rng.chance(0.35),
        Runtime::PlainText => rng.chance(0.5),
        _ => rng.chance(0.85),
    };
    let compact_spans =
        runtime == Runtime::RustInstrumented && rng.chance(config.compact_span_share);
    let memory_mb =
        [128, 256, 512, 1024, 1769, 3008][rng.weighted(&[3.0, 4.0, 4.0, 3.0, 1.0, 1.0])];
    let median_work_ms = match level {
        0 => rng.log_normal(25.0, 0.5),
        _ => rng.log_normal(40.0, 0.9),
    }
    .clamp(2.0, 1500.0);
    let timeout_ms = [3_000u64, 6_000, 10_000, 15_000, 30_000]
        .into_iter()
        .find(|t| *t as f64 > median_work_ms * 40.0)
        .unwrap_or(30_000);
    Service {
        function_name: format!("{name}-fn{index:03}"),
        log_group: format!("/aws/lambda/{name}-fn{index:03}"),
        name,
        runtime,
        log_format,
        xray_active,
        compact_spans,
        memory_mb,
        timeout_ms,
        median_work_ms,
        work_sigma: 0.4 + rng.unit() * 0.6,
        error_rate: (0.002 + rng.exponential(0.01)).min(0.15) * config.error_rate_scale,
        timeout_rate: rng.exponential(0.001).min(0.02) * config.timeout_rate_scale,
        crash_rate: rng.exponential(0.0005).min(0.01) * config.error_rate_scale,
        level,
        edges: Vec::new(),
        entry_weight: if level == 0 {
            rng.log_normal(1.0, 0.8)
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_has_exactly_one_team() {
        for domain in DOMAINS {
            let owners: Vec<&str> = TEAMS
                .iter()
                .filter(|(_, domains)| domains.contains(&domain))
                .map(|(team, _)| *team)
                .collect();
            assert_eq!(owners.len(), 1, "{domain}: {owners:?}");
        }
        let fleet = fleet(60, 7);
        let teams: std::collections::BTreeSet<&str> =
            fleet.services.iter().map(Service::team).collect();
        assert!(teams.len() > 1, "a fleet spans several teams: {teams:?}");
    }

    fn fleet(services: usize, seed: u64) -> Fleet {
        let config = FleetConfig {
            services,
            ..FleetConfig::default()
        };
        Fleet::generate(&config, &mut SimRng::new(seed))
    }

    #[test]
    fn names_are_unique_and_edges_go_down_the_levels() {
        let fleet = fleet(300, 42);
        assert_eq!(fleet.services.len(), 300);
        let names: std::collections::BTreeSet<_> =
            fleet.services.iter().map(|s| s.name.clone()).collect();
        assert_eq!(names.len(), 300);
        for service in &fleet.services {
            assert!(service.level <= MAX_LEVEL);
            for edge in &service.edges {
                assert!(fleet.services[edge.target].level > service.level);
            }
        }
    }

    #[test]
    fn every_non_entry_service_has_a_caller_and_entries_fan_out() {
        let fleet = fleet(120, 9);
        let mut called = vec![false; fleet.services.len()];
        for service in &fleet.services {
            for edge in &service.edges {
                called[edge.target] = true;
            }
        }
        for (index, service) in fleet.services.iter().enumerate() {
            if service.level > 0 {
                assert!(called[index], "{} has no caller", service.name);
            } else {
                assert!(!service.edges.is_empty(), "{} has no callee", service.name);
            }
        }
    }

    #[test]
    fn the_mix_holds_every_runtime_and_mostly_rust() {
        let fleet = fleet(300, 1);
        let rust = fleet
            .services
            .iter()
            .filter(|s| s.runtime == Runtime::RustInstrumented)
            .count();
        assert!(rust > 150, "only {rust} rust services");
        for runtime in Runtime::ALL {
            assert!(
                fleet.services.iter().any(|s| s.runtime == runtime),
                "{runtime:?}"
            );
        }
        let kinds: std::collections::BTreeSet<_> = fleet
            .services
            .iter()
            .flat_map(|s| s.edges.iter().map(|e| e.kind))
            .collect();
        assert_eq!(kinds.len(), 6, "{kinds:?}");
    }

    #[test]
    fn same_seed_same_fleet() {
        assert_eq!(fleet(80, 5), fleet(80, 5));
        assert_ne!(fleet(80, 5), fleet(80, 6));
    }
}
