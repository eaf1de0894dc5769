//! DuckDB over the same live files, through `benches/duckdb_time.py`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use tracelake_collector::IndexStore;

use crate::BenchResult;

/// The `CREATE VIEW` statements of `tracelake duckdb-view` for this index.
pub(crate) async fn duckdb_views(root: &Path) -> BenchResult<String> {
    let store = IndexStore::open(&root.to_string_lossy())?;
    Ok(tracelake_index::symlink::duckdb_views(&store).await?)
}

/// Runs `benches/duckdb_time.py` on a request; its JSON answer.
pub(crate) fn run_duckdb(request: &serde_json::Value) -> BenchResult<serde_json::Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/duckdb_time.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("stdin")?
        .write_all(request.to_string().as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err("DuckDB timing failed (pip install duckdb)".into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}
