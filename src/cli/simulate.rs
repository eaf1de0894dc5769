//! `tracelake simulate --out DIR [--services N] [--minutes M] [--seed S] [--rate R]`

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use tracelake_simulator::{Phase, Simulation, SimulationConfig, simulate};

/// Arguments of `tracelake simulate`.
#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Directory to write `payloads/` (JSON lines of Lambda events) and `truth/` (CSV) into.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

impl SimulateArgs {
    /// The simulation to run: the benchmark fleet's traffic unless `--rate` is given.
    pub fn simulation_config(&self) -> SimulationConfig {
        self.fleet.config(SimulationConfig::default().rate)
    }
}

/// The fleet and traffic options shared by `simulate` and `demo`.
#[derive(clap::Args, Clone, Debug)]
pub struct FleetArgs {
    /// Number of services in the fleet.
    #[arg(long, default_value_t = 300)]
    pub services: usize,
    /// Simulated minutes of traffic.
    #[arg(long, default_value_t = 10.0)]
    pub minutes: f64,
    /// Seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Root requests per simulated second, over the whole fleet [default: 20;
    /// `tracelake demo`: 5 unless --full].
    #[arg(long)]
    pub rate: Option<f64>,
}

impl FleetArgs {
    /// The simulation these options describe, at `default_rate` root requests
    /// per second unless `--rate` was given.
    pub fn config(&self, default_rate: f64) -> SimulationConfig {
        SimulationConfig {
            seed: self.seed,
            services: self.services,
            minutes: self.minutes,
            rate: self.rate.unwrap_or(default_rate),
            ..SimulationConfig::default()
        }
    }
}

/// Runs a simulation with a progress bar per phase.
pub fn simulate_with_progress(config: &SimulationConfig) -> anyhow::Result<Simulation> {
    let bar = indicatif::ProgressBar::new(1).with_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} {msg:<22} [{bar:40}] {pos}/{len}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut current = None;
    let simulation = simulate(config, &mut |phase, done, total| {
        if current != Some(phase) {
            current = Some(phase);
            bar.set_message(match phase {
                Phase::Planning => "planning traffic",
                Phase::Rendering => "running invocations",
                Phase::Delivering => "delivering batches",
            });
            bar.set_position(0);
        }
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .context("simulation failed")?;
    bar.finish_and_clear();
    Ok(simulation)
}

/// Runs the command.
pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let simulation = simulate_with_progress(&args.simulation_config())?;
    let simulated = started.elapsed();
    let written = simulation
        .write_to_dir(&args.out)
        .with_context(|| format!("cannot write the simulation to {}", args.out.display()))?;
    let s = &simulation.summary;
    println!(
        "simulated {} services for {} minutes (seed {}) in {:.1} s",
        s.services,
        args.fleet.minutes,
        args.fleet.seed,
        simulated.as_secs_f64()
    );
    println!("  traces                {:>10}", s.traces);
    println!("  invocations           {:>10}", s.invocations);
    println!("  spans                 {:>10}", s.spans);
    println!("  log streams           {:>10}", s.streams);
    println!("  log events            {:>10}", s.events);
    println!("  batches               {:>10}", s.batches);
    println!(
        "  deliveries            {:>10}  ({} duplicates, {} control messages)",
        s.deliveries, s.duplicates, s.control_messages
    );
    println!("  payload bytes         {:>10}", s.payload_bytes);
    println!(
        "wrote {} payload files to {} and the truth to {}",
        written.payload_files.len(),
        args.out.join("payloads").display(),
        args.out.join("truth").display()
    );
    println!(
        "ingest with: tracelake ingest {}",
        args.out.join("payloads").display()
    );
    Ok(())
}
