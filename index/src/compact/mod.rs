//! Compaction of one hour (DESIGN.md "Index engine").
//!
//! ```text
//! plan     latest manifest g, raw listing − covered(g)      nothing uncovered → done
//! read     outputs(g) + uncovered raw segments, per table   (+ neighbour hours, for links)
//! merge    dedupe on natural keys, resolve links, sort by (trace_id, time); spill past the budget
//! write    v1/compacted/<table>/dt=…/hour=…/g<g+1>-<run>-000.parquet, trace_index rebuilt
//! commit   create v1/_manifests/dt=…/hour=…/g<g+1>.json with put-if-absent; a loser deletes its outputs
//! publish  v1/_symlink/<table>/dt=…/hour=…/manifest, from the latest manifest
//! ```
//!
//! A crash before the commit leaves orphans that no manifest names, which
//! readers never see and GC deletes; a crash after it leaves a committed
//! generation whose symlinks the next run (or `publish_symlinks`) writes.
//! [`CompactOptions::on_step`] is called at each step; tests make it fail to
//! inject a crash there.
//!
//! One module per concern: `plan` (what an hour's next generation covers),
//! `merge` (read, merge and write an hour's tables, with [`dedupe`], [`spill`],
//! [`links`] and [`trace_summary`]; Parquet in and out in `io`), `relink`
//! (evidence across hours, [`relink_needed`]), `options` (options, steps,
//! report and errors); this module commits and publishes a generation.
//!
//! # Links and `trace_index`
//!
//! - Links, [`links::LinkEvidence`]: `new(&HourPartition)`;
//!   `observe_span(&SpanRow, Origin)`, `observe_invocation(&InvocationRow, Origin)`,
//!   `observe_log(&LogRow, Origin)` for every row read (the live rows of the
//!   hours before and after with `Origin::NeighbourHour`, when
//!   `LinkEvidence::READS_NEIGHBOUR_HOURS`, then this hour's); then
//!   `resolve_invocation(&self, &mut InvocationRow)` on every deduplicated
//!   invocation and `resolve(&self, &mut LogRow) -> bool` on every deduplicated
//!   log row of the hour (it relinks every row that does not name its own
//!   trace; `true` when a row is linked that was not). The order: neighbours
//!   are observed; spans are observed and written; logs are observed (their
//!   sorter kept); invocations are observed, resolved and written; logs are
//!   resolved, sorted and written. Every row is observed before any is resolved.
//! - Traces, [`trace_summary::TraceSummaries`]: `new()`; `observe_span(&SpanRow)`,
//!   `observe_invocation(&InvocationRow)`, `observe_log(&LogRow)` for every row
//!   written, in final form; `finish(self) -> Vec<TraceIndexRow>`, written as
//!   the hour's `trace_index`: a row for every trace with a row in the hour,
//!   those seen only in logs and invocations included.

pub mod dedupe;
mod io;
pub mod links;
mod merge;
mod options;
mod plan;
mod relink;
pub mod spill;
pub mod trace_summary;

pub use options::{
    CompactOptions, CompactionError, CompactionOutcome, CompactionReport, CompactionStep,
    DEFAULT_MEMORY_BUDGET, MAX_ROWS_PER_FILE, StepHook,
};
pub use plan::{HourPlan, InputFile, hours_needing_compaction, needs_compaction, plan_hour};
pub use relink::relink_needed;

use std::collections::{BTreeMap, BTreeSet};

use crate::manifest::{self, CompactionFigures, MANIFEST_FORMAT, Manifest, TableManifest};
use crate::schema::{self, HourPartition};
use crate::store::IndexStore;
use crate::symlink;
use crate::writer::now_rfc3339;

use io::{OutputWriter, run_id};
use merge::write_generation;

/// Compacts one hour: merges its live files into one generation more.
///
/// Links across hours: when it commits, each already-compacted neighbour hour
/// (the hour before and after) whose rows the new evidence links is relinked,
/// a generation more for it ([`CompactionReport::relinked`]). An hour with
/// nothing uncovered is also relinked itself when its neighbours' live rows
/// link some of its rows (a relink a crash cut short); else it is up to date.
/// A relink commits only when it links at least one row, so it converges.
///
/// # Errors
/// [`CompactionError`] when the store, an input or the spill disk fails, or
/// [`CompactOptions::on_step`] stops it. The index stays exact in every case.
pub async fn compact_hour(
    store: &IndexStore,
    hour: &HourPartition,
    options: &CompactOptions,
) -> Result<CompactionReport, CompactionError> {
    compact_planned(store, plan_hour(store, hour).await?, options).await
}

/// [`compact_hour`] on a plan the caller has just made with [`plan_hour`]
/// (to decide whether to compact the hour at all), so that the hour's raw
/// partitions are listed once, not again here. A plan gone stale meanwhile
/// stays exact: the commit is put-if-absent on its next generation, and a
/// raw segment written after the listing stays uncovered for the next run.
///
/// # Errors
/// As [`compact_hour`].
pub async fn compact_planned(
    store: &IndexStore,
    plan: HourPlan,
    options: &CompactOptions,
) -> Result<CompactionReport, CompactionError> {
    let hour = plan.hour.clone();
    let mut report = compact_one(store, plan, options, Mode::Compact).await?;
    if matches!(report.outcome, CompactionOutcome::Committed { .. }) {
        for neighbour in [hour.previous(), hour.next()] {
            if relink_needed(store, &neighbour).await? {
                let plan = plan_hour(store, &neighbour).await?;
                let relinked = compact_one(store, plan, options, Mode::Relink).await?;
                if !matches!(relinked.outcome, CompactionOutcome::UpToDate) {
                    report.relinked.push(relinked);
                }
            }
        }
    }
    Ok(report)
}

/// Why an hour is compacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Its uncovered raw segments, if any (else a relink when one is needed).
    Compact,
    /// Its links, evidence from a neighbour having changed: commits only when
    /// a row is linked that was not (or raw segments arrived meanwhile).
    Relink,
}

/// Compacts one hour (see [`compact_hour`]), without relinking its neighbours.
async fn compact_one(
    store: &IndexStore,
    plan: HourPlan,
    options: &CompactOptions,
    mut mode: Mode,
) -> Result<CompactionReport, CompactionError> {
    let hour = &plan.hour;
    let (files, bytes) = plan.input_totals();
    let mut report = CompactionReport {
        hour: hour.clone(),
        outcome: CompactionOutcome::UpToDate,
        figures: CompactionFigures::default(),
        files_out: 0,
        spilled: false,
        peak_buffered_bytes: 0,
        peak_input_fetch_bytes: 0,
        relinked: Vec::new(),
    };
    if plan.needs_compaction() {
        mode = Mode::Compact;
    } else if mode == Mode::Compact && plan.parent.is_some() && relink_needed(store, hour).await? {
        mode = Mode::Relink;
    }
    if !plan.needs_compaction() && mode == Mode::Compact {
        // A compactor that crashed between its commit and its symlinks left
        // them naming the previous generation: publish them now.
        if !options.dry_run
            && plan.parent.is_some()
            && !symlink::symlinks_current(store, hour).await?
        {
            symlink::publish_symlinks(store, hour).await?;
        }
        return Ok(report);
    }
    if options.dry_run {
        report.outcome = CompactionOutcome::Planned;
        report.figures.files_in = files;
        report.figures.bytes_in = bytes;
        return Ok(report);
    }
    options.step(CompactionStep::Planned { files, bytes })?;

    let spill_root = options.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&spill_root).map_err(|e| CompactionError::Spill {
        path: spill_root.display().to_string(),
        reason: e.to_string(),
    })?;
    let spill = tempfile::Builder::new()
        .prefix("tracelake-compact-")
        .tempdir_in(&spill_root)
        .map_err(|e| CompactionError::Spill {
            path: spill_root.display().to_string(),
            reason: e.to_string(),
        })?;

    let generation = plan.next_generation();
    let run = run_id();
    let mut output = OutputWriter {
        store,
        hour,
        generation,
        run: &run,
        row_group_rows: options.row_group_rows,
        written: Vec::new(),
    };
    let result = write_generation(
        store,
        &plan,
        options,
        spill.path(),
        &mut output,
        &mut report,
    )
    .await;
    let tables = match result {
        Ok((_, added)) if mode == Mode::Relink && added == 0 => {
            // The evidence changed since it was checked (another compactor
            // relinked first): nothing to commit.
            output.delete_all().await?;
            report = CompactionReport {
                figures: CompactionFigures::default(),
                files_out: 0,
                ..report
            };
            return Ok(report);
        }
        Ok((tables, _)) => tables,
        Err(error) => {
            // Outputs without a manifest are never read; GC deletes them. Deleting
            // now is only tidiness, and must not hide the real error.
            if !matches!(error, CompactionError::Stopped { .. }) {
                let _ = output.delete_all().await;
            }
            return Err(error);
        }
    };

    let mut manifest_tables = BTreeMap::new();
    for table in schema::TABLES {
        let mut covered: BTreeSet<String> = plan
            .parent
            .as_ref()
            .map(|m| m.table(table).covered)
            .unwrap_or_default();
        covered.extend(
            plan.uncovered
                .get(table)
                .into_iter()
                .flatten()
                .map(|s| s.name.clone()),
        );
        manifest_tables.insert(
            table.to_owned(),
            TableManifest {
                outputs: tables.get(table).cloned().unwrap_or_default(),
                covered,
            },
        );
    }
    report.files_out = output.written.len() as u64;
    report.figures.bytes_out = output.written.iter().map(|f| f.bytes).sum();
    report.figures.rows_out = output.written.iter().map(|f| f.rows).sum();
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_owned(),
        generation,
        hour: hour.to_string(),
        run: run.clone(),
        created_at: now_rfc3339(),
        tables: manifest_tables,
        figures: report.figures.clone(),
    };
    options.step(CompactionStep::Committing)?;
    if !manifest::commit_manifest(store, hour, &manifest).await? {
        output.delete_all().await?;
        report.outcome = CompactionOutcome::LostRace { generation };
        report.files_out = 0;
        return Ok(report);
    }
    report.outcome = CompactionOutcome::Committed { generation };
    options.step(CompactionStep::Committed { generation })?;
    symlink::publish_symlinks(store, hour).await?;
    options.step(CompactionStep::SymlinksPublished)?;
    tracing::info!(
        target: "tracelake::compact",
        hour = %hour,
        generation,
        files_in = report.figures.files_in,
        files_out = report.files_out,
        rows_in = report.figures.rows_in,
        rows_out = report.figures.rows_out,
        duplicates_dropped = report.figures.duplicates_dropped,
        links_resolved = report.figures.links_resolved,
        relink = mode == Mode::Relink,
        "HourCompacted"
    );
    Ok(report)
}

/// Compacts each hour in turn; see [`compact_hour`].
///
/// # Errors
/// The first hour's [`CompactionError`]; hours before it stay compacted.
pub async fn compact_hours(
    store: &IndexStore,
    hours: &[HourPartition],
    options: &CompactOptions,
) -> Result<Vec<CompactionReport>, CompactionError> {
    let mut reports = Vec::new();
    for hour in hours {
        reports.push(compact_hour(store, hour, options).await?);
    }
    Ok(reports)
}
