//! The demo index, built in-process as `tracelake demo` builds it.

use std::path::Path;
use std::time::Instant;

use tracelake_collector::sources::files::{FileBatchLimits, FileBatcher};
use tracelake_collector::{Collector, IndexStore};
use tracelake_index::compact::{CompactOptions, compact_hours, hours_needing_compaction};
use tracelake_simulator::{SimulationConfig, simulate};

use crate::{BenchResult, DEMO_RATE};

/// The demo index, as `tracelake demo --no-serve --data DIR` builds it.
pub(crate) async fn build_demo_index(dir: &Path, minutes: f64) -> BenchResult<()> {
    let marker = dir.join("complete");
    if marker.exists() {
        return Ok(());
    }
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let config = SimulationConfig {
        rate: DEMO_RATE,
        minutes,
        ..SimulationConfig::default()
    };
    let run = simulate(&config, &mut |_, _, _| {})?;
    let store = IndexStore::open(&dir.to_string_lossy())?;
    let collector = Collector::new(store.clone());
    let mut batcher = FileBatcher::new(&collector, FileBatchLimits::default());
    for (number, delivery) in run.delivered.deliveries.iter().enumerate() {
        let source = format!("simulated-delivery-{number:07}");
        batcher.add_file(&source, &delivery.payload).await?;
    }
    batcher.finish().await?;
    let hours = hours_needing_compaction(&store).await?;
    compact_hours(&store, &hours, &CompactOptions::default()).await?;
    eprintln!(
        "demo index: {} spans simulated, ingested and compacted in {:.1} s ({})",
        run.summary.spans,
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    std::fs::write(marker, b"")?;
    Ok(())
}
