//! What every handler shares.

use std::sync::Arc;

use crate::query::QueryEngine;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The query engine.
    pub engine: QueryEngine,
    /// The bearer token every API call must carry, if any.
    pub token: Option<Arc<str>>,
}
