//! The web UI: static assets embedded in the binary, served at `/` and
//! `/assets/…`. The page talks to the JSON API under `/api/tracelake/`.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $content_type:literal) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!("../../web/", $path)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("ui.js", "text/javascript; charset=utf-8"),
    asset!("views/search.js", "text/javascript; charset=utf-8"),
    asset!("views/trace.js", "text/javascript; charset=utf-8"),
    asset!("views/map.js", "text/javascript; charset=utf-8"),
    asset!("views/services.js", "text/javascript; charset=utf-8"),
    asset!("views/logs.js", "text/javascript; charset=utf-8"),
    asset!("views/correlation.js", "text/javascript; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!(
        "vendor/uplot/uPlot.iife.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("vendor/uplot/uPlot.min.css", "text/css; charset=utf-8"),
    asset!("vendor/uplot/LICENSE", "text/plain; charset=utf-8"),
    asset!(
        "vendor/cytoscape/cytoscape.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("vendor/cytoscape/LICENSE", "text/plain; charset=utf-8"),
    asset!(
        "vendor/cytoscape-dagre/cytoscape-dagre.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!(
        "vendor/cytoscape-dagre/LICENSE",
        "text/plain; charset=utf-8"
    ),
];

/// The routes of the UI.
pub fn router() -> Router {
    Router::new()
        .route("/", get(|| async { serve_asset("index.html") }))
        .route("/assets/{*path}", get(asset_handler))
}

async fn asset_handler(Path(path): Path<String>) -> Response {
    // Paths are looked up in a fixed table, so nothing outside it can be read;
    // traversal attempts still get a clear 400 rather than a 404.
    if path
        .split(['/', '\\'])
        .any(|segment| segment == ".." || segment == ".")
        || path.contains('\0')
    {
        return error(StatusCode::BAD_REQUEST, "invalid asset path");
    }
    serve_asset(&path)
}

fn serve_asset(path: &str) -> Response {
    match ASSETS.iter().find(|asset| asset.path == path) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
                ),
            ],
            asset.body,
        )
            .into_response(),
        None => error(StatusCode::NOT_FOUND, "no such asset"),
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": message, "status": status.as_u16()})),
    )
        .into_response()
}
