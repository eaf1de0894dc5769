//! Index: the Parquet tables, how rows become files, and the store they live in.
//!
//! [`schema`] is the one definition of the format; [`writer`] writes segments
//! and quarantine records; [`store`] opens local directories and S3;
//! [`stats`] counts rows per table and partition.

pub mod columns;
pub mod read;
pub mod rows;
pub mod schema;
pub mod stats;
pub mod store;
pub mod writer;

pub use store::{IndexStore, StoreError};
pub use writer::{IndexError, IndexWriter, WrittenRows};
