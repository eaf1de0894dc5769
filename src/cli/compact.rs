//! `tracelake compact [--data URL] [--hour YYYY-MM-DDTHH | --since DURATION] [--dry-run]`
//! and `tracelake gc [--data URL] [--grace DURATION]`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tracelake_index::IndexStore;
use tracelake_index::compact::{
    self, CompactOptions, CompactionOutcome, CompactionReport, CompactionStep,
};
use tracelake_index::gc;
use tracelake_index::schema::HourPartition;

/// Arguments of `tracelake compact`.
#[derive(clap::Args)]
pub struct CompactArgs {
    /// Index root: a local directory or s3://bucket/prefix.
    #[arg(long, default_value = super::DEFAULT_DATA)]
    pub data: String,
    /// Compact this hour only (UTC), e.g. 2026-11-29T05.
    #[arg(long, conflicts_with = "since")]
    pub hour: Option<String>,
    /// Compact the hours of the last DURATION (e.g. 6h, 2d) that need it.
    #[arg(long)]
    pub since: Option<humantime::Duration>,
    /// Say what would be compacted, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Memory for the rows of one table of one hour before spilling to disk (MiB).
    #[arg(long, default_value_t = compact::DEFAULT_MEMORY_BUDGET / (1024 * 1024))]
    pub memory_mb: usize,
}

/// Arguments of `tracelake gc`.
#[derive(clap::Args)]
pub struct GcArgs {
    /// Index root: a local directory or s3://bucket/prefix.
    #[arg(long, default_value = super::DEFAULT_DATA)]
    pub data: String,
    /// Keep what stopped being referenced less than this long ago (at least 1h in
    /// production: readers that started before may still be reading it).
    #[arg(long, default_value = "1h")]
    pub grace: humantime::Duration,
    /// Say what would be deleted, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `tracelake compact`.
pub fn run(args: CompactArgs) -> anyhow::Result<()> {
    let store = IndexStore::open_existing(&args.data)
        .with_context(|| format!("cannot open index at {}", args.data))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let hours = runtime.block_on(select_hours(
        &store,
        args.hour.as_deref(),
        args.since.map(Into::into),
    ))?;
    let options = CompactOptions {
        memory_budget_bytes: args.memory_mb.max(1) * 1024 * 1024,
        dry_run: args.dry_run,
        ..CompactOptions::default()
    };
    let reports = runtime.block_on(compact_with_progress(&store, &hours, options, true))?;
    print_compaction_summary(&args.data, &reports, args.dry_run);
    Ok(())
}

/// The hours to compact: one, those of a recent window that need it, or all that need it.
async fn select_hours(
    store: &IndexStore,
    hour: Option<&str>,
    since: Option<Duration>,
) -> anyhow::Result<Vec<HourPartition>> {
    if let Some(hour) = hour {
        return Ok(vec![HourPartition::parse(hour)?]);
    }
    let mut hours = compact::hours_needing_compaction(store)
        .await
        .context("cannot list the hours to compact")?;
    if let Some(since) = since {
        let now_nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        let from = first_hour_since(now_nanos, since);
        hours.retain(|hour| *hour >= from);
    }
    Ok(hours)
}

/// The hour `since` before `now_nanos` falls in; the epoch's for a `since`
/// that reaches before it.
fn first_hour_since(now_nanos: i64, since: Duration) -> HourPartition {
    let since_nanos = i64::try_from(since.as_nanos()).unwrap_or(i64::MAX);
    HourPartition::of_nanos(now_nanos.saturating_sub(since_nanos).max(0))
}

/// Compacts `hours` with a progress bar over their input files.
pub async fn compact_with_progress(
    store: &IndexStore,
    hours: &[HourPartition],
    mut options: CompactOptions,
    show: bool,
) -> anyhow::Result<Vec<CompactionReport>> {
    let progress = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} files {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if !show {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let bar = progress.clone();
    options.on_step = Some(Arc::new(move |step: &CompactionStep| {
        match step {
            CompactionStep::Planned { files, .. } => bar.inc_length(*files),
            CompactionStep::InputRead { .. } => bar.inc(1),
            CompactionStep::OutputWritten { table } => bar.set_message(format!("wrote {table}")),
            _ => {}
        }
        Ok(())
    }));
    let mut reports = Vec::new();
    for hour in hours {
        progress.set_message(hour.to_string());
        let report = compact::compact_hour(store, hour, &options)
            .await
            .with_context(|| format!("cannot compact {hour}"))?;
        reports.push(report);
    }
    progress.finish_and_clear();
    Ok(reports)
}

/// The totals of a compaction run: the figures of the hours this run
/// committed (or, in a dry run, would compact) only. An hour that another
/// compactor committed first wrote nothing live, so its figures are left out
/// and it is counted apart.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CompactionTotals {
    /// Hours this run committed (planned, in a dry run).
    pub hours: usize,
    /// Hours another compactor committed first.
    pub hours_lost_race: usize,
    /// Hours that needed nothing.
    pub hours_up_to_date: usize,
    /// Files written by the committed hours.
    pub files_out: u64,
    /// Figures summed over the committed hours.
    pub figures: tracelake_index::manifest::CompactionFigures,
}

/// Sums the committed (or planned) hours of `reports`.
pub fn compaction_totals(reports: &[CompactionReport]) -> CompactionTotals {
    let mut totals = CompactionTotals::default();
    for report in reports {
        match report.outcome {
            CompactionOutcome::Committed { .. } | CompactionOutcome::Planned => {}
            CompactionOutcome::LostRace { .. } => {
                totals.hours_lost_race += 1;
                continue;
            }
            CompactionOutcome::UpToDate => {
                totals.hours_up_to_date += 1;
                continue;
            }
        }
        let f = &report.figures;
        let total = &mut totals.figures;
        totals.hours += 1;
        totals.files_out += report.files_out;
        total.files_in += f.files_in;
        total.rows_in += f.rows_in;
        total.rows_out += f.rows_out;
        total.duplicates_dropped += f.duplicates_dropped;
        total.links_resolved += f.links_resolved;
        total.bytes_in += f.bytes_in;
        total.bytes_out += f.bytes_out;
    }
    totals
}

/// The last line of the summary: the committed hours' totals, and the hours
/// left to another compactor or already up to date.
pub fn compaction_total_line(totals: &CompactionTotals, dry_run: bool) -> String {
    let t = &totals.figures;
    let mut line = format!(
        "{} {} hour(s): {} files in, {} out; {} rows in, {} out (rows out include the trace_index \
         rebuilt from spans and logs); {} duplicates dropped; {} links resolved (log lines without a trace linked to one); {} bytes in, {} out",
        if dry_run {
            "would compact"
        } else {
            "compacted"
        },
        totals.hours,
        t.files_in,
        totals.files_out,
        t.rows_in,
        t.rows_out,
        t.duplicates_dropped,
        t.links_resolved,
        t.bytes_in,
        t.bytes_out
    );
    if totals.hours_lost_race > 0 {
        line.push_str(&format!(
            "; {} hour(s) left to another compactor that committed them first (not counted)",
            totals.hours_lost_race
        ));
    }
    if totals.hours_up_to_date > 0 {
        line.push_str(&format!(
            "; {} hour(s) already up to date",
            totals.hours_up_to_date
        ));
    }
    line
}

/// Prints what compaction did, hour by hour and in total (the total counts
/// only the hours this run committed: see [`compaction_totals`]).
pub fn print_compaction_summary(data: &str, reports: &[CompactionReport], dry_run: bool) {
    if reports.is_empty() {
        println!("{data}: nothing to compact");
        return;
    }
    println!(
        "{:<14} {:<12} {:>8} {:>6} {:>10} {:>10} {:>10} {:>8} {:>12} {:>12}",
        "hour",
        "outcome",
        "files in",
        "out",
        "rows in",
        "rows out",
        "dupes",
        "links",
        "bytes in",
        "bytes out"
    );
    for report in reports {
        let outcome = match report.outcome {
            CompactionOutcome::UpToDate => "up to date".to_owned(),
            CompactionOutcome::Planned => "would run".to_owned(),
            CompactionOutcome::Committed { generation } => format!("g{generation}"),
            CompactionOutcome::LostRace { generation } => format!("lost g{generation}"),
        };
        let f = &report.figures;
        println!(
            "{:<14} {:<12} {:>8} {:>6} {:>10} {:>10} {:>10} {:>8} {:>12} {:>12}",
            report.hour.to_string(),
            outcome,
            f.files_in,
            report.files_out,
            f.rows_in,
            f.rows_out,
            f.duplicates_dropped,
            f.links_resolved,
            f.bytes_in,
            f.bytes_out
        );
    }
    println!(
        "{}",
        compaction_total_line(&compaction_totals(reports), dry_run)
    );
    let relinked: Vec<String> = reports
        .iter()
        .flat_map(|report| &report.relinked)
        .filter(|r| matches!(r.outcome, CompactionOutcome::Committed { .. }))
        .map(|r| format!("{} ({} links)", r.hour, r.figures.links_resolved))
        .collect();
    if !relinked.is_empty() {
        println!(
            "relinked {} already-compacted neighbour hour(s) with evidence from these: {}",
            relinked.len(),
            relinked.join(", ")
        );
    }
}

/// Runs `tracelake gc`.
pub fn run_gc(args: GcArgs) -> anyhow::Result<()> {
    let store = IndexStore::open_existing(&args.data)
        .with_context(|| format!("cannot open index at {}", args.data))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime
        .block_on(gc::collect_garbage(&store, args.grace.into(), args.dry_run))
        .with_context(|| format!("cannot collect garbage in {}", args.data))?;
    println!(
        "{} {} raw segment(s) and {} compacted file(s), {} bytes, in {} hour(s); {} file(s) wait for the {} grace period",
        if args.dry_run {
            "would delete"
        } else {
            "deleted"
        },
        report.raw_deleted,
        report.compacted_deleted,
        report.bytes_deleted,
        report.hours,
        report.awaiting_grace,
        args.grace
    );
    Ok(())
}

/// Arguments of `tracelake duckdb-view`.
#[derive(clap::Args)]
pub struct DuckdbViewArgs {
    /// Index root: a local directory (DuckDB reads local files).
    #[arg(long, default_value = super::DEFAULT_DATA)]
    pub data: String,
}

/// Runs `tracelake duckdb-view`: prints `CREATE VIEW` statements over the live files.
pub fn run_duckdb_view(args: DuckdbViewArgs) -> anyhow::Result<()> {
    let store = IndexStore::open_existing(&args.data)
        .with_context(|| format!("cannot open index at {}", args.data))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sql = runtime
        .block_on(tracelake_index::symlink::duckdb_views(&store))
        .with_context(|| format!("cannot list the live files of {}", args.data))?;
    print!("{sql}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use tracelake_index::manifest::CompactionFigures;

    use super::*;

    fn report(hour: &str, outcome: CompactionOutcome, rows: u64) -> CompactionReport {
        CompactionReport {
            hour: HourPartition::parse(hour).expect("hour"),
            outcome,
            figures: CompactionFigures {
                files_in: 2,
                rows_in: rows,
                rows_out: rows + 1,
                duplicates_dropped: 1,
                links_resolved: 3,
                bytes_in: 100,
                bytes_out: 50,
            },
            files_out: 4,
            spilled: false,
            peak_buffered_bytes: 0,
            peak_input_fetch_bytes: 0,
            relinked: Vec::new(),
        }
    }

    #[test]
    fn totals_count_only_committed_hours() {
        let reports = [
            report(
                "2026-11-29T01",
                CompactionOutcome::Committed { generation: 2 },
                10,
            ),
            report(
                "2026-11-29T02",
                CompactionOutcome::LostRace { generation: 1 },
                1_000,
            ),
            report(
                "2026-11-29T03",
                CompactionOutcome::LostRace { generation: 3 },
                2_000,
            ),
            report("2026-11-29T04", CompactionOutcome::UpToDate, 0),
        ];
        let totals = compaction_totals(&reports);
        assert_eq!(totals.hours, 1);
        assert_eq!(totals.hours_lost_race, 2);
        assert_eq!(totals.hours_up_to_date, 1);
        assert_eq!(totals.files_out, 4);
        assert_eq!(totals.figures, reports[0].figures);
        let line = compaction_total_line(&totals, false);
        assert!(line.starts_with("compacted 1 hour(s): 2 files in, 4 out; 10 rows in, 11 out"));
        assert!(line.contains("rows out include the trace_index"), "{line}");
        assert!(
            line.contains("2 hour(s) left to another compactor"),
            "{line}"
        );
        assert!(line.contains("1 hour(s) already up to date"), "{line}");
    }

    #[test]
    fn since_reaches_back_from_now_to_the_epoch_at_most() {
        let now = HourPartition::parse("2026-11-29T05")
            .expect("hour")
            .start_nanos()
            + 30 * 60 * 1_000_000_000;
        let hour = |text| HourPartition::parse(text).expect("hour");
        assert_eq!(
            first_hour_since(now, Duration::from_secs(6 * 3_600)),
            hour("2026-11-28T23")
        );
        assert_eq!(first_hour_since(now, Duration::ZERO), hour("2026-11-29T05"));
        assert_eq!(
            first_hour_since(now, Duration::from_secs(u64::MAX)),
            hour("1970-01-01T00")
        );
    }

    #[test]
    fn dry_run_totals_the_planned_hours() {
        let reports = [
            report("2026-11-29T01", CompactionOutcome::Planned, 10),
            report("2026-11-29T02", CompactionOutcome::Planned, 5),
        ];
        let totals = compaction_totals(&reports);
        assert_eq!(totals.hours, 2);
        assert_eq!(totals.figures.rows_in, 15);
        assert_eq!(totals.figures.rows_out, 17);
        let line = compaction_total_line(&totals, true);
        assert!(line.starts_with("would compact 2 hour(s)"), "{line}");
        assert!(!line.contains("another compactor"), "{line}");
    }
}
