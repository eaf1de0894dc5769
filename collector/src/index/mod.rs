//! Index: the Parquet tables, how rows become files, and the store they live in.
//!
//! The format is defined once, in the `tracelake-index` crate; this module
//! re-exports it so that `collector::index::…` paths keep working.

pub use tracelake_index::*;
