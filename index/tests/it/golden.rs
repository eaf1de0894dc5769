//! Golden files of format v1 (`index/tests/golden/v1/`): raw segments, a
//! compacted generation and its manifest, written by this code once and
//! checked in. The current code must read them: every later change to the
//! format keeps these tests passing, or it is format v2.
//!
//! `TRACELAKE_BLESS_GOLDEN=1 cargo test -p tracelake-index --test it golden`
//! rewrites them (only for a deliberate format change).

use std::path::PathBuf;

use tracelake_index::IndexStore;
use tracelake_index::compact::{CompactOptions, compact_hour};
use tracelake_index::manifest::{LiveSource, latest_manifest, live_files};
use tracelake_index::schema;

use super::support::*;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Requests 0..3 compacted into generation 1, request 3 a raw segment that
/// arrived after, and request 1 delivered again after compaction (covered).
fn golden_deliveries() -> (Vec<Delivery>, Vec<Delivery>) {
    (deliveries(0..3), deliveries(3..4))
}

fn bless() {
    let dir = golden_dir();
    let _ = std::fs::remove_dir_all(&dir);
    let store = IndexStore::open(dir.to_str().expect("utf-8")).expect("golden dir");
    let (compacted, late) = golden_deliveries();
    runtime().block_on(async {
        ingest(&store, &compacted).await;
        compact_hour(&store, &hour(), &CompactOptions::default())
            .await
            .expect("compacts");
        ingest(&store, &late).await;
        ingest(&store, &compacted[1..2]).await;
        // Symlinks hold absolute paths of the machine that wrote them: not golden.
        let _ = std::fs::remove_dir_all(dir.join("v1").join(schema::SYMLINK));
    });
}

#[test]
fn golden_v1_files_still_read() {
    if std::env::var_os("TRACELAKE_BLESS_GOLDEN").is_some() {
        bless();
    }
    // Read a copy: nothing may write into the checked-in files.
    let copy = tempfile::tempdir().expect("temp dir");
    copy_dir(&golden_dir(), copy.path());
    let store = IndexStore::open(copy.path().to_str().expect("utf-8")).expect("store");
    let (compacted, late) = golden_deliveries();
    let all: Vec<Delivery> = compacted.iter().chain(&late).cloned().collect();
    runtime().block_on(async {
        let manifest = latest_manifest(&store, &hour())
            .await
            .expect("manifest reads")
            .expect("golden manifest");
        assert_eq!(manifest.generation, 1);
        assert_eq!(manifest.table("logs").covered.len(), 3);
        for table in [schema::SPANS, schema::LOGS, schema::INVOCATIONS] {
            let files = live_files(&store, table, &hour()).await.expect("live");
            let sources: Vec<LiveSource> = files.iter().map(|f| f.source).collect();
            assert_eq!(sources, [LiveSource::Compacted, LiveSource::Raw], "{table}");
        }
        assert_reads_exactly(&store, &Expected::of(&all), "golden v1").await;
    });
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).expect("golden files are checked in") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}
