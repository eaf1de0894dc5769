//! tracelake collector: CloudWatch Logs subscription batches into a
//! trace-correlated Parquet index.
//!
//! The stages follow the data, one module each:
//! [`decode`] (payload bytes → batches of log events) → [`parse`] (each event's
//! text → spans, log fields, platform records) → [`correlate`] (link every line
//! to its trace, build rows) → [`index`] (rows → Parquet through `object_store`).
//! [`pipeline`] runs them for one input and counts what happened in
//! [`counters::IngestCounters`]. [`sources`] gathers the payloads of the
//! buffered paths (Kinesis, Firehose to S3, Firehose HTTP, directories of
//! files) into one set of segments per batch, and [`lambda`] tells the Lambda
//! events apart by their shape.

#![warn(missing_docs)]

#[cfg(feature = "aws")]
pub mod aws;
pub mod correlate;
pub mod counters;
pub mod decode;
pub mod index;
pub mod lambda;
pub mod maintenance;
pub mod parse;
pub mod pipeline;
pub mod sources;

pub use counters::IngestCounters;
pub use index::{IndexStore, IndexWriter};
pub use pipeline::Collector;
