//! What a compaction is told ([`CompactOptions`]), what it reports
//! ([`CompactionReport`], [`CompactionStep`]) and how it fails
//! ([`CompactionError`]).

use std::path::PathBuf;
use std::sync::Arc;

use crate::manifest::{CompactionFigures, ManifestError};
use crate::schema::HourPartition;
use crate::store::StoreError;
use crate::writer::ROW_GROUP_ROWS;

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
    /// Rows per row group of the compacted files ([`ROW_GROUP_ROWS`] by
    /// default). Compaction reads its inputs a row group at a time, so this
    /// also bounds what one input holds in memory while it is read.
    pub row_group_rows: usize,
    /// Progress and fault injection.
    pub on_step: Option<StepHook>,
}

impl Default for CompactOptions {
    fn default() -> CompactOptions {
        CompactOptions {
            memory_budget_bytes: DEFAULT_MEMORY_BUDGET,
            spill_dir: None,
            dry_run: false,
            row_group_rows: ROW_GROUP_ROWS,
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
            .field("row_group_rows", &self.row_group_rows)
            .field("on_step", &self.on_step.is_some())
            .finish()
    }
}

impl CompactOptions {
    pub(crate) fn step(&self, step: CompactionStep) -> Result<(), CompactionError> {
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
    /// The most bytes of row data fetched from one input file at once (its
    /// footer aside): inputs are read a row group at a time, so this is about
    /// the largest input row group's size, however large the file.
    pub peak_input_fetch_bytes: u64,
    /// The already-compacted neighbour hours this compaction relinked: each
    /// committed a generation more because this hour's rows linked some of
    /// their rows (see "Links across hours" in docs/index.md).
    pub relinked: Vec<CompactionReport>,
}
