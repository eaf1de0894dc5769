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
pub mod links;
pub mod spill;
pub mod trace_summary;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStoreExt as _;
use object_store::buffered::BufWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::async_writer::AsyncArrowWriter;

use crate::manifest::{
    self, CompactionFigures, LiveSource, MANIFEST_FORMAT, Manifest, ManifestError, OutputFile,
    RawSegment, TableManifest,
};
use crate::rows::{InvocationRow, LogRow, SpanRow, TraceId, TraceIndexRow};
use crate::schema::{self, HourPartition};
use crate::store::{IndexStore, StoreError};
use crate::symlink;
use crate::writer::{ROW_GROUP_ROWS, now_nanos, now_rfc3339, writer_properties};

use dedupe::CompactRow;
use links::{LinkEvidence, Origin};
use spill::{SortedRows, TableSorter};
use trace_summary::TraceSummaries;

/// The default memory budget for the rows of one table of one hour: 512 MiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 512 * 1024 * 1024;

/// Rows per compacted file; a larger hour is split by trace id range
/// (the files follow each other in sort order).
pub const MAX_ROWS_PER_FILE: usize = 32 * ROW_GROUP_ROWS;

/// Why a compaction failed. Whatever the step, the index stays readable and
/// exact: nothing is deleted, and outputs without a manifest are never read.
#[derive(Debug, thiserror::Error)]
pub enum CompactionError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A manifest could not be read or written.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// An input file is not readable Parquet of its table.
    #[error("cannot read {path}: {reason}")]
    Input {
        /// Path relative to the root.
        path: String,
        /// Why.
        reason: String,
    },
    /// An output could not be encoded or written.
    #[error("cannot write {path}: {reason}")]
    Output {
        /// Path relative to the root.
        path: String,
        /// Why.
        reason: String,
    },
    /// The local spill directory failed.
    #[error("cannot spill to {path}: {reason}")]
    Spill {
        /// The local path.
        path: String,
        /// Why.
        reason: String,
    },
    /// [`CompactOptions::on_step`] stopped the compaction (a test's injected crash).
    #[error("compaction stopped at {step}")]
    Stopped {
        /// The step it stopped at.
        step: String,
    },
}

/// A point in a compaction, reported to [`CompactOptions::on_step`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompactionStep {
    /// Inputs listed: the work is known.
    Planned {
        /// Files to read.
        files: u64,
        /// Their bytes.
        bytes: u64,
    },
    /// One input file read.
    InputRead {
        /// Its path.
        path: String,
    },
    /// The outputs of one table are written (not yet committed).
    OutputWritten {
        /// The table.
        table: &'static str,
    },
    /// Every output is written; the manifest is next.
    Committing,
    /// The manifest is created: the new generation is live.
    Committed {
        /// Its generation.
        generation: u64,
    },
    /// The symlink manifests name the new generation's files.
    SymlinksPublished,
}

impl std::fmt::Display for CompactionStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompactionStep::Planned { .. } => f.write_str("planned"),
            CompactionStep::InputRead { path } => write!(f, "input read ({path})"),
            CompactionStep::OutputWritten { table } => write!(f, "output written ({table})"),
            CompactionStep::Committing => f.write_str("committing"),
            CompactionStep::Committed { generation } => write!(f, "committed (g{generation})"),
            CompactionStep::SymlinksPublished => f.write_str("symlinks published"),
        }
    }
}

/// Called at each step; an `Err` stops the compaction there, as a crash would.
pub type StepHook = Arc<dyn Fn(&CompactionStep) -> Result<(), String> + Send + Sync>;

/// How to compact.
#[derive(Clone)]
pub struct CompactOptions {
    /// About how many bytes of rows one table may hold in memory before spilling.
    pub memory_budget_bytes: usize,
    /// Where to spill (a fresh directory is made inside); the system temp dir by default.
    pub spill_dir: Option<PathBuf>,
    /// Plan only: report what would be read, write nothing.
    pub dry_run: bool,
    /// Progress and fault injection.
    pub on_step: Option<StepHook>,
}

impl Default for CompactOptions {
    fn default() -> CompactOptions {
        CompactOptions {
            memory_budget_bytes: DEFAULT_MEMORY_BUDGET,
            spill_dir: None,
            dry_run: false,
            on_step: None,
        }
    }
}

impl std::fmt::Debug for CompactOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompactOptions")
            .field("memory_budget_bytes", &self.memory_budget_bytes)
            .field("spill_dir", &self.spill_dir)
            .field("dry_run", &self.dry_run)
            .field("on_step", &self.on_step.is_some())
            .finish()
    }
}

impl CompactOptions {
    fn step(&self, step: CompactionStep) -> Result<(), CompactionError> {
        match &self.on_step {
            Some(hook) => hook(&step).map_err(|reason| CompactionError::Stopped {
                step: format!("{step}: {reason}"),
            }),
            None => Ok(()),
        }
    }
}

/// How a compaction of an hour ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompactionOutcome {
    /// Every raw segment of the hour is already covered.
    UpToDate,
    /// A dry run: this is what would be read.
    Planned,
    /// The new generation is live.
    Committed {
        /// Its generation.
        generation: u64,
    },
    /// Another compactor committed this generation first; our outputs were deleted.
    LostRace {
        /// The generation both tried to commit.
        generation: u64,
    },
}

/// What one compaction of one hour did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionReport {
    /// The hour.
    pub hour: HourPartition,
    /// How it ended.
    pub outcome: CompactionOutcome,
    /// Files, rows, duplicates, links and bytes.
    pub figures: CompactionFigures,
    /// Files written.
    pub files_out: u64,
    /// Whether some table spilled to disk.
    pub spilled: bool,
    /// The largest estimate of rows held in memory at once, over the tables.
    pub peak_buffered_bytes: u64,
}

/// One file compaction reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Path relative to the root.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// What compacting an hour would read and cover.
#[derive(Debug, Clone)]
pub struct HourPlan {
    /// The hour.
    pub hour: HourPartition,
    /// Its latest manifest, the parent of the next generation.
    pub parent: Option<Manifest>,
    /// Per table: the parent's outputs and the uncovered raw segments.
    pub inputs: BTreeMap<&'static str, Vec<InputFile>>,
    /// Per table: the raw segments the next generation newly covers.
    pub uncovered: BTreeMap<&'static str, Vec<RawSegment>>,
}

impl HourPlan {
    /// Whether there is anything to compact: a raw segment no manifest covers.
    pub fn needs_compaction(&self) -> bool {
        self.uncovered.values().any(|segments| !segments.is_empty())
    }

    /// Files and bytes the compaction reads (`trace_index` is rebuilt, not read).
    pub fn input_totals(&self) -> (u64, u64) {
        self.inputs
            .iter()
            .filter(|(table, _)| **table != schema::TRACE_INDEX)
            .flat_map(|(_, files)| files)
            .fold((0, 0), |(files, bytes), f| (files + 1, bytes + f.bytes))
    }

    /// The generation the compaction would commit.
    pub fn next_generation(&self) -> u64 {
        self.parent.as_ref().map_or(1, |m| m.generation + 1)
    }
}

/// Reads the latest manifest and the raw listing of an hour.
///
/// # Errors
/// [`CompactionError`] when the store fails or the manifest is unreadable.
pub async fn plan_hour(
    store: &IndexStore,
    hour: &HourPartition,
) -> Result<HourPlan, CompactionError> {
    let parent = manifest::latest_manifest(store, hour).await?;
    let mut inputs = BTreeMap::new();
    let mut uncovered = BTreeMap::new();
    for table in schema::TABLES {
        let set = manifest::live_set_with(store, table, hour, parent.clone()).await?;
        let mut table_inputs = Vec::new();
        let mut table_uncovered = Vec::new();
        let raw = manifest::raw_segments(store, table, hour).await?;
        for file in set.files {
            if file.source == LiveSource::Raw
                && let Some(segment) = raw.iter().find(|s| s.path == file.path)
            {
                table_uncovered.push(segment.clone());
            }
            table_inputs.push(InputFile {
                path: file.path,
                bytes: file.bytes,
            });
        }
        inputs.insert(table, table_inputs);
        uncovered.insert(table, table_uncovered);
    }
    Ok(HourPlan {
        hour: hour.clone(),
        parent,
        inputs,
        uncovered,
    })
}

/// Hours with raw segments that no manifest covers, ascending.
///
/// # Errors
/// [`CompactionError`] when the store fails or a manifest is unreadable.
pub async fn hours_needing_compaction(
    store: &IndexStore,
) -> Result<Vec<HourPartition>, CompactionError> {
    let mut hours = Vec::new();
    for hour in manifest::hours(store).await? {
        let parent = manifest::latest_manifest(store, &hour).await?;
        let mut needed = false;
        for table in schema::TABLES {
            let raw = manifest::raw_segments(store, table, &hour).await?;
            if raw
                .iter()
                .any(|s| !parent.as_ref().is_some_and(|m| m.covers(table, &s.name)))
            {
                needed = true;
                break;
            }
        }
        if needed {
            hours.push(hour);
        }
    }
    Ok(hours)
}

/// A unique id for one compaction run: 16 hex digits from the clock and a
/// randomly seeded hasher (`std`'s `RandomState` is seeded per process).
fn run_id() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_i64(now_nanos());
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    format!("{:016x}", hasher.finish())
}

/// Streams the rows of one Parquet file of the store. The file's bytes are
/// fetched whole (one file at a time); its rows are decoded a batch at a time.
async fn read_rows<R: CompactRow>(
    store: &IndexStore,
    file: &InputFile,
    mut each: impl FnMut(R) -> Result<(), CompactionError>,
) -> Result<u64, CompactionError> {
    let input_error = |reason: String| CompactionError::Input {
        path: file.path.clone(),
        reason,
    };
    let bytes = store.get(&file.path).await?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|builder| builder.with_batch_size(8192).build())
        .map_err(|e| input_error(e.to_string()))?;
    let mut rows = 0;
    for batch in reader {
        let batch = batch.map_err(|e| input_error(e.to_string()))?;
        for row in R::from_batch(&batch).map_err(|e| input_error(e.to_string()))? {
            rows += 1;
            each(row)?;
        }
    }
    Ok(rows)
}

/// Writes sorted rows as one or more compacted files of a table.
struct OutputWriter<'a> {
    store: &'a IndexStore,
    hour: &'a HourPartition,
    generation: u64,
    run: &'a str,
    written: Vec<OutputFile>,
}

impl OutputWriter<'_> {
    fn path(&self, table: &str, sequence: usize) -> String {
        format!(
            "{}/g{:06}-{}-{sequence:03}.parquet",
            schema::compacted_dir(table, self.hour),
            self.generation,
            self.run
        )
    }

    async fn write<R: CompactRow>(
        &mut self,
        mut rows: SortedRows<R>,
        mut observe: impl FnMut(&R),
    ) -> Result<Vec<OutputFile>, CompactionError> {
        let mut files = Vec::new();
        let mut sequence = 0;
        let mut pending: Option<R> = rows.next_row()?;
        while pending.is_some() {
            let path = self.path(R::TABLE, sequence);
            sequence += 1;
            let output_error = |reason: String| CompactionError::Output {
                path: path.clone(),
                reason,
            };
            let schema = schema::schema_of(R::TABLE)
                .ok_or_else(|| output_error("unknown table".to_owned()))?;
            let sink = BufWriter::new(self.store.object_store(), self.store.path(&path));
            let mut writer = AsyncArrowWriter::try_new(
                sink,
                schema,
                Some(writer_properties(R::TABLE, ROW_GROUP_ROWS)),
            )
            .map_err(|e| output_error(e.to_string()))?;
            let mut file_rows = 0usize;
            let mut batch: Vec<R> = Vec::with_capacity(8192);
            let (mut min_trace, mut max_trace): (Option<TraceId>, Option<TraceId>) = (None, None);
            while let Some(row) = pending.take() {
                observe(&row);
                if let Some(trace_id) = row.trace_id() {
                    min_trace = min_trace.min(Some(trace_id)).or(Some(trace_id));
                    max_trace = max_trace.max(Some(trace_id));
                }
                batch.push(row);
                file_rows += 1;
                if batch.len() == 8192 {
                    let encoded = R::to_batch(&batch).map_err(|e| output_error(e.to_string()))?;
                    writer
                        .write(&encoded)
                        .await
                        .map_err(|e| output_error(e.to_string()))?;
                    batch.clear();
                }
                pending = rows.next_row()?;
                if file_rows >= MAX_ROWS_PER_FILE {
                    break;
                }
            }
            if !batch.is_empty() {
                let encoded = R::to_batch(&batch).map_err(|e| output_error(e.to_string()))?;
                writer
                    .write(&encoded)
                    .await
                    .map_err(|e| output_error(e.to_string()))?;
            }
            writer
                .close()
                .await
                .map_err(|e| output_error(e.to_string()))?;
            let bytes = self
                .store
                .object_store()
                .head(&self.store.path(&path))
                .await
                .map_err(|e| output_error(e.to_string()))?
                .size;
            let file = OutputFile {
                path,
                rows: file_rows as u64,
                bytes,
                min_trace_id: min_trace.map(|id| id.to_string()),
                max_trace_id: max_trace.map(|id| id.to_string()),
            };
            self.written.push(file.clone());
            files.push(file);
        }
        Ok(files)
    }

    async fn delete_all(&self) -> Result<(), StoreError> {
        for file in &self.written {
            self.store.delete(&file.path).await?;
        }
        Ok(())
    }
}

/// Per-table work: read every input into a sorter, feeding the link evidence.
async fn sort_table<R: CompactRow>(
    store: &IndexStore,
    plan: &HourPlan,
    options: &CompactOptions,
    spill_dir: &std::path::Path,
    figures: &mut CompactionFigures,
    mut observe: impl FnMut(&R),
) -> Result<TableSorter<R>, CompactionError> {
    let inputs = plan.inputs.get(R::TABLE).cloned().unwrap_or_default();
    // Parquet of these tables holds about 8 times its size in rows.
    let expected: u64 = inputs.iter().map(|f| f.bytes).sum::<u64>() * 8;
    let mut sorter = TableSorter::new(options.memory_budget_bytes, spill_dir, expected as usize);
    for file in &inputs {
        let rows = read_rows::<R>(store, file, |row| {
            observe(&row);
            sorter.push(row)
        })
        .await?;
        figures.files_in += 1;
        figures.rows_in += rows;
        figures.bytes_in += file.bytes;
        options.step(CompactionStep::InputRead {
            path: file.path.clone(),
        })?;
    }
    Ok(sorter)
}

/// Feeds the live spans, invocations and logs of a neighbour hour to the evidence.
async fn observe_neighbour(
    store: &IndexStore,
    hour: &HourPartition,
    evidence: &mut LinkEvidence,
) -> Result<(), CompactionError> {
    for table in [schema::SPANS, schema::INVOCATIONS, schema::LOGS] {
        for file in manifest::live_files(store, table, hour).await? {
            let input = InputFile {
                path: file.path,
                bytes: file.bytes,
            };
            match table {
                schema::SPANS => {
                    read_rows::<SpanRow>(store, &input, |row| {
                        evidence.observe_span(&row, Origin::NeighbourHour);
                        Ok(())
                    })
                    .await?
                }
                schema::INVOCATIONS => {
                    read_rows::<InvocationRow>(store, &input, |row| {
                        evidence.observe_invocation(&row, Origin::NeighbourHour);
                        Ok(())
                    })
                    .await?
                }
                _ => {
                    read_rows::<LogRow>(store, &input, |row| {
                        evidence.observe_log(&row, Origin::NeighbourHour);
                        Ok(())
                    })
                    .await?
                }
            };
        }
    }
    Ok(())
}

/// Compacts one hour: merges its live files into one generation more.
///
/// # Errors
/// [`CompactionError`] when the store, an input or the spill disk fails, or
/// [`CompactOptions::on_step`] stops it. The index stays exact in every case.
pub async fn compact_hour(
    store: &IndexStore,
    hour: &HourPartition,
    options: &CompactOptions,
) -> Result<CompactionReport, CompactionError> {
    let plan = plan_hour(store, hour).await?;
    let (files, bytes) = plan.input_totals();
    let mut report = CompactionReport {
        hour: hour.clone(),
        outcome: CompactionOutcome::UpToDate,
        figures: CompactionFigures::default(),
        files_out: 0,
        spilled: false,
        peak_buffered_bytes: 0,
    };
    if !plan.needs_compaction() {
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
        Ok(tables) => tables,
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
        "HourCompacted"
    );
    Ok(report)
}

/// Reads, merges and writes every table; returns the outputs per table.
async fn write_generation(
    store: &IndexStore,
    plan: &HourPlan,
    options: &CompactOptions,
    spill_dir: &std::path::Path,
    output: &mut OutputWriter<'_>,
    report: &mut CompactionReport,
) -> Result<BTreeMap<&'static str, Vec<OutputFile>>, CompactionError> {
    let hour = &plan.hour;
    let mut evidence = LinkEvidence::new(hour);
    if LinkEvidence::READS_NEIGHBOUR_HOURS {
        observe_neighbour(store, &hour.previous(), &mut evidence).await?;
        observe_neighbour(store, &hour.next(), &mut evidence).await?;
    }
    let mut summaries = TraceSummaries::new();
    let mut tables = BTreeMap::new();
    let mut figures = CompactionFigures::default();

    let sorter = sort_table::<SpanRow>(store, plan, options, spill_dir, &mut figures, |row| {
        evidence.observe_span(row, Origin::ThisHour)
    })
    .await?;
    report.spilled |= sorter.spilled();
    let sorted = sorter.finish(|_| false)?;
    figures.duplicates_dropped += sorted.duplicates_dropped;
    report.peak_buffered_bytes = report
        .peak_buffered_bytes
        .max(sorted.peak_buffered_bytes as u64);
    let files = output
        .write(sorted, |row: &SpanRow| summaries.observe_span(row))
        .await?;
    tables.insert(schema::SPANS, files);
    options.step(CompactionStep::OutputWritten {
        table: schema::SPANS,
    })?;

    // Every log row is observed before invocations and logs are linked: an
    // invocation takes the trace its REPORT, START and lines name.
    let log_sorter = sort_table::<LogRow>(store, plan, options, spill_dir, &mut figures, |row| {
        evidence.observe_log(row, Origin::ThisHour)
    })
    .await?;
    report.spilled |= log_sorter.spilled();

    let sorter =
        sort_table::<InvocationRow>(store, plan, options, spill_dir, &mut figures, |row| {
            evidence.observe_invocation(row, Origin::ThisHour)
        })
        .await?;
    report.spilled |= sorter.spilled();
    let sorted = sorter.finish(|row| {
        evidence.resolve_invocation(row);
        false
    })?;
    figures.duplicates_dropped += sorted.duplicates_dropped;
    report.peak_buffered_bytes = report
        .peak_buffered_bytes
        .max(sorted.peak_buffered_bytes as u64);
    let files = output
        .write(sorted, |row: &InvocationRow| {
            summaries.observe_invocation(row)
        })
        .await?;
    tables.insert(schema::INVOCATIONS, files);
    options.step(CompactionStep::OutputWritten {
        table: schema::INVOCATIONS,
    })?;

    // Every row that does not name its own trace is linked again from the
    // hour's evidence (a link made at ingest may be contradicted by another batch).
    let sorted = log_sorter.finish(|row| evidence.resolve(row))?;
    figures.duplicates_dropped += sorted.duplicates_dropped;
    figures.links_resolved += sorted.links_resolved;
    report.peak_buffered_bytes = report
        .peak_buffered_bytes
        .max(sorted.peak_buffered_bytes as u64);
    let files = output
        .write(sorted, |row: &LogRow| summaries.observe_log(row))
        .await?;
    tables.insert(schema::LOGS, files);
    options.step(CompactionStep::OutputWritten {
        table: schema::LOGS,
    })?;

    let trace_rows = summaries.finish();
    let mut sorter = TableSorter::<TraceIndexRow>::new(usize::MAX, spill_dir, 0);
    for row in trace_rows {
        sorter.push(row)?;
    }
    let sorted = sorter.finish(|_| false)?;
    let files = output.write(sorted, |_: &TraceIndexRow| {}).await?;
    tables.insert(schema::TRACE_INDEX, files);
    options.step(CompactionStep::OutputWritten {
        table: schema::TRACE_INDEX,
    })?;

    report.figures = figures;
    Ok(tables)
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
