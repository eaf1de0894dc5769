//! Running the HTTP server: [`Server::bind`] then [`Server::run`], or [`serve`]
//! for the whole thing until Ctrl-C.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::api::{AppState, router};
use crate::query::{DEFAULT_SERVE_LIVE_FILES_TTL, EngineOptions, QueryEngine, QueryError};

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The index: a directory or an `s3://` / `file://` URL.
    pub data: String,
    /// The address to listen on; 127.0.0.1 unless the user asks otherwise.
    pub addr: SocketAddr,
    /// When set, every API call needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Query engine settings (Lambda price, trace windows).
    pub engine: EngineOptions,
}

impl ServeOptions {
    /// Serves `data` on 127.0.0.1:7070 without a token, with the engine's
    /// defaults and the live-file listings kept for
    /// [`DEFAULT_SERVE_LIVE_FILES_TTL`] (as `tracelake serve`).
    pub fn new(data: impl Into<String>) -> ServeOptions {
        ServeOptions {
            data: data.into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 7070)),
            token: None,
            engine: EngineOptions {
                live_files_ttl: DEFAULT_SERVE_LIVE_FILES_TTL,
                ..EngineOptions::default()
            },
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The index could not be opened.
    #[error(transparent)]
    Index(#[from] QueryError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("server failed: {0}")]
    Run(std::io::Error),
}

/// A bound server, not yet accepting connections.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: axum::Router,
}

impl Server {
    /// Opens the index and binds the address (port 0 picks a free port).
    ///
    /// # Errors
    ///
    /// [`ServeError::Index`] with the errors of [`QueryEngine::open`];
    /// [`ServeError::Bind`] when the address cannot be bound (in use, not local,
    /// no permission).
    pub async fn bind(options: ServeOptions) -> Result<Server, ServeError> {
        let engine = QueryEngine::open(&options.data, options.engine.clone()).await?;
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: options.addr,
                source,
            })?;
        let state = AppState {
            engine,
            token: options.token.map(Arc::from),
        };
        Ok(Server {
            listener,
            app: router(state),
        })
    }

    /// The address actually bound.
    ///
    /// # Errors
    ///
    /// [`ServeError::Run`] when the OS cannot tell the listener's address.
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        self.listener.local_addr().map_err(ServeError::Run)
    }

    /// Serves until `shutdown` completes.
    ///
    /// # Errors
    ///
    /// [`ServeError::Run`] when accepting connections fails at the OS level; a
    /// failed request is an HTTP error, not an error here.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServeError::Run)
    }
}

/// Serves the dashboards for `options` until Ctrl-C. This is what `tracelake
/// serve` and `tracelake demo` call.
///
/// # Errors
///
/// The errors of [`Server::bind`] and [`Server::run`].
pub async fn serve(options: ServeOptions) -> Result<(), ServeError> {
    let server = Server::bind(options).await?;
    let addr = server.local_addr()?;
    tracing::info!(%addr, "DashboardsServing");
    println!("tracelake dashboards at http://{addr}/ (Ctrl-C to stop)");
    server
        .run(async {
            // If the signal handler cannot be installed, serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await
}
