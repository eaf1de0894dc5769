//! Rows to Arrow record batches and back, one function per table and direction,
//! matching [`crate::schema`]: [`encode`] writes batches from rows, [`decode`]
//! reads rows back from batches.

pub mod decode;
pub mod encode;

pub use decode::{
    RowsError, invocations_from_batch, logs_from_batch, spans_from_batch, trace_index_from_batch,
};
pub use encode::{invocations_batch, logs_batch, spans_batch, trace_index_batch};
