//! Why a telemetry could not be built or installed.

/// Why a telemetry could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The level is neither a level name nor `RUST_LOG` directives.
    #[error("invalid log level {level:?}: {reason}")]
    InvalidLevel {
        /// The level as configured.
        level: String,
        /// What the filter parser said.
        reason: String,
    },
}

/// Why [`init`](crate::init) failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The configuration is invalid.
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
    /// A global tracing subscriber was already installed.
    #[error(
        "a global tracing subscriber is already installed (for example by \
         lambda_runtime::tracing::init_default_subscriber()): remove that call, or keep \
         your own subscriber and add tracelake's layer to it with \
         tracelake_instrumentation::layers() instead of init()"
    )]
    AlreadyInitialized,
}
