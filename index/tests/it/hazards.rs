//! The protocol's scenarios (`protocol`) on the in-memory store and on a local
//! disk, the latter also checked by DuckDB.

use tracelake_index::IndexStore;

use super::protocol::*;
use super::support::*;

fn memory() -> (Option<tempfile::TempDir>, IndexStore) {
    (None, memory_store())
}

fn local() -> (Option<tempfile::TempDir>, IndexStore) {
    let (dir, store) = local_store();
    (Some(dir), store)
}

const OURS: Checker = Checker {
    duckdb: false,
    other: None,
};
const OURS_AND_DUCKDB: Checker = Checker {
    duckdb: true,
    other: None,
};

#[test]
fn crash_at_every_step_in_memory() {
    runtime().block_on(crash_at_every_step(memory, &OURS));
}

#[test]
fn crash_at_every_step_on_local_disk_checked_by_duckdb() {
    runtime().block_on(crash_at_every_step(local, &OURS_AND_DUCKDB));
}

#[test]
fn two_compactors_race_in_memory_and_on_local_disk() {
    let rt = runtime();
    rt.block_on(two_compactors_race(memory_store(), &OURS));
    let (_dir, store) = local_store();
    rt.block_on(two_compactors_race(store, &OURS_AND_DUCKDB));
}

#[test]
fn retried_delivery_after_compaction_and_after_gc() {
    let rt = runtime();
    rt.block_on(retried_delivery(memory_store(), &OURS));
    let (_dir, store) = local_store();
    rt.block_on(retried_delivery(store, &OURS_AND_DUCKDB));
}

#[test]
fn late_data_for_a_compacted_hour() {
    let rt = runtime();
    rt.block_on(late_data(memory_store(), &OURS));
    let (_dir, store) = local_store();
    rt.block_on(late_data(store, &OURS_AND_DUCKDB));
}

#[test]
fn ingest_while_compacting() {
    let rt = runtime();
    rt.block_on(ingest_during_compaction(memory_store(), &OURS));
    let (_dir, store) = local_store();
    rt.block_on(ingest_during_compaction(store, &OURS_AND_DUCKDB));
}

#[test]
fn gc_keeps_files_within_the_grace_period() {
    runtime().block_on(gc_respects_grace_and_symlinks(memory_store()));
}
