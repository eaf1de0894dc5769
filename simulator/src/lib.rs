//! tracelake simulator: a seeded fleet of Lambda services producing the exact
//! CloudWatch Logs subscription payloads the collector receives, with the
//! ground truth to score correlation against.
//!
//! The pipeline follows the data:
//!
//! - [`fleet`]: services, runtimes, log formats and the call graph;
//! - [`traffic`]: root requests and the invocation tree each causes, on a simulated clock;
//! - [`streams`]: execution environments, log streams and cold starts;
//! - [`render`]: every invocation's lines in its runtime's format, and the platform lines;
//!   [`instrumented`] writes the Rust services' lines through the `instrumentation::wire` contract;
//! - [`delivery`]: batching into `DATA_MESSAGE`s, gzip + base64, arrival order,
//!   duplicates and `CONTROL_MESSAGE`s;
//! - [`truth`]: which trace each event belongs to, and scoring an index against it.
//!
//! ```
//! use tracelake_simulator::{SimulationConfig, simulate};
//!
//! let config = SimulationConfig { services: 20, minutes: 0.2, ..SimulationConfig::default() };
//! let run = simulate(&config, &mut |_, _, _| {}).unwrap();
//! assert!(run.summary.events > 0);
//! // Every payload is a Lambda event for a CloudWatch Logs subscription.
//! let event: aws_lambda_events::cloudwatch_logs::LogsEvent =
//!     serde_json::from_slice(&run.delivered.deliveries[0].payload).unwrap();
//! # let _ = event;
//! ```
//!
//! The same configuration gives the same bytes: nothing depends on hash-map
//! order, the wall clock or threads.

pub mod clock;
pub mod delivery;
pub mod event_id;
pub mod fleet;
pub mod instrumented;
pub mod render;
pub mod rng;
pub mod streams;
pub mod traffic;
pub mod truth;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::delivery::{Delivered, DeliveryConfig, DeliveryKind};
use crate::fleet::{Fleet, FleetConfig};
use crate::rng::SimRng;
use crate::streams::LogStream;
use crate::truth::Truth;

/// Everything that defines a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of services.
    pub services: usize,
    /// Simulated minutes of traffic.
    pub minutes: f64,
    /// Root requests per simulated second over the whole fleet.
    pub rate: f64,
    /// Simulated start, epoch nanoseconds.
    pub start_ns: u64,
    /// Fleet knobs other than the service count.
    pub fleet: FleetConfig,
    /// Delivery knobs.
    pub delivery: DeliveryConfig,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            seed: 1,
            services: 300,
            minutes: 10.0,
            rate: 20.0,
            start_ns: clock::DEFAULT_START_NANOS,
            fleet: FleetConfig::default(),
            delivery: DeliveryConfig::default(),
        }
    }
}

/// The phases of a run, for progress reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Building the fleet and planning traffic.
    Planning,
    /// Writing every invocation's lines.
    Rendering,
    /// Batching and encoding payloads.
    Delivering,
}

/// Counts describing a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Services in the fleet.
    pub services: usize,
    /// Services that were invoked at least once.
    pub services_invoked: usize,
    /// Traces started.
    pub traces: usize,
    /// Lambda invocations.
    pub invocations: usize,
    /// Spans written to span lines.
    pub spans: usize,
    /// Log streams.
    pub streams: usize,
    /// CloudWatch log events (each once).
    pub events: usize,
    /// `DATA_MESSAGE` batches.
    pub batches: usize,
    /// Deliveries, including duplicates and control messages.
    pub deliveries: usize,
    /// Duplicate deliveries.
    pub duplicates: usize,
    /// `CONTROL_MESSAGE` deliveries.
    pub control_messages: usize,
    /// Total payload bytes.
    pub payload_bytes: usize,
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The fleet.
    pub fleet: Fleet,
    /// Every log stream.
    pub streams: Vec<LogStream>,
    /// The payloads, in arrival order.
    pub delivered: Delivered,
    /// The ground truth.
    pub truth: Truth,
    /// Counts.
    pub summary: Summary,
}

/// Why a run or writing its output failed.
#[derive(Debug, thiserror::Error)]
pub enum SimulationError {
    /// Building payloads failed.
    #[error(transparent)]
    Delivery(#[from] delivery::DeliveryError),
    /// Writing the output failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Runs a simulation. `progress` receives the phase, work done and work total.
pub fn simulate(
    config: &SimulationConfig,
    progress: &mut dyn FnMut(Phase, usize, usize),
) -> Result<Simulation, SimulationError> {
    let mut root = SimRng::new(config.seed);
    let mut fleet_rng = root.fork(1);
    let mut traffic_rng = root.fork(2);
    let mut stream_rng = root.fork(3);
    let mut render_rng = root.fork(4);
    let mut delivery_rng = root.fork(5);

    progress(Phase::Planning, 0, 1);
    let fleet_config = FleetConfig {
        services: config.services,
        ..config.fleet.clone()
    };
    let fleet = Fleet::generate(&fleet_config, &mut fleet_rng);
    let traffic_config = traffic::TrafficConfig {
        start_ns: config.start_ns,
        duration_ns: (config.minutes.max(0.0) * 60.0 * clock::NANOS_PER_SECOND as f64) as u64,
        root_rate_per_second: config.rate,
    };
    let mut traffic = traffic::plan(&fleet, &traffic_config, &mut traffic_rng);
    let streams = streams::assign(&fleet, &mut traffic, &mut stream_rng);
    progress(Phase::Planning, 1, 1);

    let rendered = render::render(
        &fleet,
        &traffic,
        &streams,
        &mut render_rng,
        &mut |done, total| progress(Phase::Rendering, done, total),
    );
    let delivered = delivery::deliver(
        &fleet,
        &streams,
        &rendered.events,
        &config.delivery,
        &mut delivery_rng,
        &mut |done, total| progress(Phase::Delivering, done, total),
    )?;
    let truth = truth::build(&traffic, &rendered.events, &delivered, rendered.spans);

    let mut invoked = vec![false; fleet.services.len()];
    for invocation in &traffic.invocations {
        invoked[invocation.service] = true;
    }
    let summary = Summary {
        services: fleet.services.len(),
        services_invoked: invoked.iter().filter(|b| **b).count(),
        traces: traffic.traces.len(),
        invocations: traffic.invocations.len(),
        spans: truth.spans.len(),
        streams: streams.len(),
        events: delivered.events.len(),
        batches: delivered.batches.len(),
        deliveries: delivered.deliveries.len(),
        duplicates: count_kind(&delivered, DeliveryKind::Duplicate),
        control_messages: count_kind(&delivered, DeliveryKind::Control),
        payload_bytes: delivered.deliveries.iter().map(|d| d.payload.len()).sum(),
    };
    Ok(Simulation {
        fleet,
        streams,
        delivered,
        truth,
        summary,
    })
}

fn count_kind(delivered: &Delivered, kind: DeliveryKind) -> usize {
    delivered
        .deliveries
        .iter()
        .filter(|d| d.kind == kind)
        .count()
}

/// Deliveries per payload file written by [`Simulation::write_to_dir`].
pub const DELIVERIES_PER_FILE: usize = 1000;

/// What [`Simulation::write_to_dir`] wrote.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WrittenFiles {
    /// The payload files, in delivery order.
    pub payload_files: Vec<PathBuf>,
    /// The truth files.
    pub truth_files: Vec<PathBuf>,
}

impl Simulation {
    /// Writes `DIR/payloads/deliveries-NNNNN.jsonl` (one Lambda event per line,
    /// in arrival order) and `DIR/truth/{log_events,spans,linkability,services}.csv`.
    pub fn write_to_dir(&self, dir: &Path) -> Result<WrittenFiles, SimulationError> {
        let payload_dir = dir.join("payloads");
        let truth_dir = dir.join("truth");
        for path in [&payload_dir, &truth_dir] {
            std::fs::create_dir_all(path).map_err(|source| SimulationError::Write {
                path: path.clone(),
                source,
            })?;
        }
        let mut written = WrittenFiles::default();
        for (number, chunk) in self
            .delivered
            .deliveries
            .chunks(DELIVERIES_PER_FILE)
            .enumerate()
        {
            let path = payload_dir.join(format!("deliveries-{number:05}.jsonl"));
            let mut bytes = Vec::with_capacity(chunk.iter().map(|d| d.payload.len() + 1).sum());
            for delivery in chunk {
                bytes.extend_from_slice(&delivery.payload);
                bytes.push(b'\n');
            }
            write_file(&path, &bytes)?;
            written.payload_files.push(path);
        }
        let files = [
            ("log_events.csv", self.truth.log_events_csv()),
            ("spans.csv", self.truth.spans_csv()),
            ("linkability.csv", self.truth.linkability_csv()),
            ("services.csv", self.services_csv()),
        ];
        for (name, text) in files {
            let path = truth_dir.join(name);
            write_file(&path, text.as_bytes())?;
            written.truth_files.push(path);
        }
        Ok(written)
    }

    /// `truth/services.csv`: one row per service with its runtime and settings.
    pub fn services_csv(&self) -> String {
        let mut out = String::from(
            "service,function_name,log_group,runtime,log_format,xray_active,memory_mb,level\n",
        );
        for service in &self.fleet.services {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                service.name,
                service.function_name,
                service.log_group,
                service.runtime.label(),
                match service.log_format {
                    fleet::LogFormat::Text => "text",
                    fleet::LogFormat::Json => "json",
                },
                service.xray_active,
                service.memory_mb,
                service.level
            ));
        }
        out
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SimulationError> {
    let error = |source| SimulationError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::create(path).map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    Ok(())
}
