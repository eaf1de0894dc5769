//! tracelake-index: the index, format v1 (DESIGN.md "Index" and "Index engine").
//!
//! The collector writes it, dashboards read it, and this crate is the one
//! definition both share:
//!
//! - [`rows`]: typed rows of the four tables, with enums for the closed sets of
//!   values (span kind, status code, level, link, invocation status);
//! - [`schema`]: the Arrow schema of each table, the layout, and
//!   [`schema::HourPartition`], the one hour partition function;
//! - [`columns`]: rows to Arrow record batches;
//! - [`writer`]: rows to Parquet segments, and quarantine records;
//! - [`store`]: the object store the index lives in (local, in-memory, S3);
//! - [`manifest`]: manifests, and [`manifest::live_files`], the list of live
//!   files of a table and hour that every reader uses;
//! - [`compact`]: compaction of an hour into one generation more;
//! - [`gc`]: deleting what no manifest references, after a grace period;
//! - [`symlink`]: Hive symlink manifests and DuckDB views over the live files;
//! - [`read`] and [`stats`]: reading rows and counts back without a query engine.
//!
//! It does not depend on DataFusion nor on the collector.

#![warn(missing_docs)]

pub mod columns;
pub mod compact;
pub mod gc;
pub mod manifest;
pub mod read;
pub mod rows;
pub mod schema;
pub mod stats;
pub mod store;
pub mod symlink;
pub mod writer;

pub use store::{IndexStore, S3Limits, StoreError};
pub use writer::{IndexError, IndexWriter, WrittenRows};
