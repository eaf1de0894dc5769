//! Why rows could not be written.

use crate::store::StoreError;

/// Why rows could not be written.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The rows could not be encoded as Arrow or Parquet (a bug, not bad input).
    #[error("cannot encode {table} rows: {reason}")]
    Encode {
        /// The table.
        table: &'static str,
        /// Why.
        reason: String,
    },
    /// The store refused the write.
    #[error(transparent)]
    Store(#[from] StoreError),
}
