//! What other engines read: Hive symlink manifests for Athena, Trino and
//! Spark, and `CREATE VIEW` statements for DuckDB, both over the live files.
//!
//! `v1/_symlink/<table>/dt=…/hour=…/manifest` holds one URI per line, the live
//! files of that table and hour when compaction last committed it. Late data
//! that arrives after reaches these readers at the next compaction.

use bytes::Bytes;

use crate::manifest::{self, ManifestError};
use crate::schema::{self, HourPartition};
use crate::store::IndexStore;

/// Writes the symlink manifests of every table of an hour from its latest
/// manifest (never from an older one, so a slow compactor cannot publish a
/// generation that a newer one replaced).
///
/// # Errors
/// [`ManifestError`] when the store fails.
pub async fn publish_symlinks(
    store: &IndexStore,
    hour: &HourPartition,
) -> Result<(), ManifestError> {
    let latest = manifest::latest_manifest(store, hour).await?;
    for table in schema::TABLES {
        let set = manifest::live_set_with(store, table, hour, latest.clone()).await?;
        let mut text = String::new();
        for file in &set.files {
            text.push_str(&store.uri(&file.path));
            text.push('\n');
        }
        store
            .put(&schema::symlink_path(table, hour), Bytes::from(text))
            .await?;
    }
    Ok(())
}

/// Whether every table's symlink manifest names exactly the live files of the hour.
///
/// # Errors
/// [`ManifestError`] when the store fails.
pub async fn symlinks_current(
    store: &IndexStore,
    hour: &HourPartition,
) -> Result<bool, ManifestError> {
    let latest = manifest::latest_manifest(store, hour).await?;
    for table in schema::TABLES {
        let live: Vec<String> = manifest::live_set_with(store, table, hour, latest.clone())
            .await?
            .files
            .into_iter()
            .map(|f| f.path)
            .collect();
        if symlinked_paths(store, table, hour).await? != live {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The relative paths a published symlink manifest names (empty if none).
///
/// # Errors
/// [`ManifestError`] when the store fails.
pub async fn symlinked_paths(
    store: &IndexStore,
    table: &str,
    hour: &HourPartition,
) -> Result<Vec<String>, ManifestError> {
    let Some(bytes) = store
        .get_if_exists(&schema::symlink_path(table, hour))
        .await?
    else {
        return Ok(Vec::new());
    };
    let base = store.uri("");
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| line.trim().strip_prefix(&base).map(str::to_owned))
        .collect())
}

/// The live files of every table over every hour: `(table, relative paths)`.
///
/// # Errors
/// [`ManifestError`] when the store fails.
pub async fn live_files_by_table(
    store: &IndexStore,
) -> Result<Vec<(&'static str, Vec<String>)>, ManifestError> {
    let hours = manifest::hours(store).await?;
    let mut tables = Vec::new();
    for table in schema::TABLES {
        let mut paths = Vec::new();
        for hour in &hours {
            for file in manifest::live_files(store, table, hour).await? {
                paths.push(file.path);
            }
        }
        tables.push((table, paths));
    }
    Ok(tables)
}

fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// DuckDB `CREATE VIEW` statements, one per table, over the live files of a
/// local index, with the `dt` and `hour` columns from the paths, both as text
/// as in the DataFusion tables (DuckDB would otherwise guess `dt` as a date and
/// `hour` as a number when every hour present is 10 or later, so that the
/// dashboards' SQL, e.g. `hour = '05'`, would not run the same on both). A table
/// with no live file gets a view with its columns and no row.
///
/// # Errors
/// [`ManifestError`] when the store fails.
pub async fn duckdb_views(store: &IndexStore) -> Result<String, ManifestError> {
    let mut sql = String::new();
    for (table, paths) in live_files_by_table(store).await? {
        if paths.is_empty() {
            let columns: Vec<String> = schema::schema_of(table)
                .map(|s| {
                    s.fields()
                        .iter()
                        .map(|f| format!("NULL AS \"{}\"", f.name()))
                        .collect()
                })
                .unwrap_or_default();
            sql.push_str(&format!(
                "CREATE OR REPLACE VIEW {table} AS SELECT {}, NULL AS dt, NULL AS hour WHERE false;\n",
                columns.join(", ")
            ));
            continue;
        }
        let files: Vec<String> = paths
            .iter()
            .map(|p| {
                let uri = store.uri(p);
                sql_string(uri.strip_prefix("file://").unwrap_or(&uri))
            })
            .collect();
        sql.push_str(&format!(
            "CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet([{}], hive_partitioning = true, hive_types = {{'dt': VARCHAR, 'hour': VARCHAR}}, union_by_name = true);\n",
            files.join(", ")
        ));
    }
    Ok(sql)
}
