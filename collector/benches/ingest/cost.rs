//! What a pass costs: wall and CPU seconds, and its peak heap.

use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::alloc::*;

/// Seconds on the CPU of one `schedstat` file (Linux; 0 elsewhere).
pub(crate) fn schedstat_seconds(path: &std::path::Path) -> f64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// CPU seconds of the calling thread: what a pass costs on a machine shared
/// with other builds, where wall time also counts the waits for a core.
pub(crate) fn thread_cpu() -> f64 {
    schedstat_seconds(std::path::Path::new("/proc/thread-self/schedstat"))
}

/// CPU seconds of every live thread of the process (the rayon pool included).
pub(crate) fn process_cpu() -> f64 {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(Result::ok)
                .map(|task| schedstat_seconds(&task.path().join("schedstat")))
                .sum()
        })
        .unwrap_or(0.0)
}

/// A pass's cost: wall seconds and CPU seconds (all threads).
#[derive(Clone, Copy)]
pub(crate) struct Cost {
    pub(crate) wall: f64,
    pub(crate) cpu: f64,
}

/// Runs `pass` and returns its result, its cost and its peak heap above
/// what was live before it.
pub(crate) fn measured<T>(pass: impl FnOnce() -> T) -> (T, Cost, usize) {
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let (started, cpu) = (Instant::now(), process_cpu());
    let out = pass();
    let cost = Cost {
        wall: started.elapsed().as_secs_f64(),
        cpu: process_cpu() - cpu,
    };
    (out, cost, PEAK.load(Ordering::Relaxed) - baseline)
}
