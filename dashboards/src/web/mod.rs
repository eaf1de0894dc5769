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

#[cfg(test)]
mod tests {
    use super::*;
    use tracelake_index::rows::{InvocationStatus, LogLevel, SpanKind, StatusCode};

    /// The page's own scripts (not the vendored libraries), as text.
    fn scripts() -> Vec<(&'static str, &'static str)> {
        ASSETS
            .iter()
            .filter(|asset| asset.path.ends_with(".js") && !asset.path.starts_with("vendor/"))
            .map(|asset| {
                let text = std::str::from_utf8(asset.body).expect("a UTF-8 script");
                (asset.path, text)
            })
            .collect()
    }

    /// The string literals a property or variable named `name` is compared
    /// with (`name === 'v'`, `!==`), as in `node.status_code === 'error'`.
    fn compared_literals<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let mut values = Vec::new();
        let mut from = 0;
        while let Some(at) = text[from..].find(name) {
            let start = from + at;
            let end = start + name.len();
            from = end;
            if text[..start].chars().next_back().is_some_and(word)
                || text[end..].chars().next().is_some_and(word)
            {
                continue;
            }
            let tail = text[end..].trim_start();
            let Some(value) = ["===", "!=="]
                .iter()
                .find_map(|operator| tail.strip_prefix(operator))
                .and_then(|value| value.trim_start().strip_prefix('\''))
            else {
                continue;
            };
            if let Some(close) = value.find('\'') {
                values.push(&value[..close]);
            }
        }
        values
    }

    /// Every span kind, span status, invocation status and log level the page
    /// compares or offers is one of the index enums' string forms (the API
    /// returns them as such): JavaScript cannot import the Rust enums.
    #[test]
    fn the_pages_column_values_are_the_index_forms() {
        fn forms<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str> {
            all.iter().map(|value| as_str(*value)).collect()
        }
        let spans = forms(SpanKind::ALL, SpanKind::as_str);
        let statuses = forms(StatusCode::ALL, StatusCode::as_str);
        let invocations = forms(InvocationStatus::ALL, InvocationStatus::as_str);
        let levels = forms(LogLevel::ALL, LogLevel::as_str);
        // `status` is the invocation's status, or `error` from the span's.
        let names = [
            ("status_code", &statuses),
            ("invocation_status", &invocations),
            ("status", &invocations),
            ("level", &levels),
            ("kind", &spans),
        ];
        let mut compared = 0;
        for (path, text) in scripts() {
            for (name, forms) in names {
                // The service map's edges have kinds of their own (sync, async).
                if name == "kind" && path == "views/map.js" {
                    continue;
                }
                for value in compared_literals(text, name) {
                    assert!(forms.contains(&value), "{name} === '{value}' in {path}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 0, "the page compares statuses");

        // The log search's level choices.
        let (_, logs) = scripts()
            .into_iter()
            .find(|(path, _)| *path == "views/logs.js")
            .expect("the log search view");
        let select = &logs[logs.find("name: 'level'").expect("the level select")..];
        let list = &select[select.find('[').expect("its options")..];
        let list = &list[1..list.find(']').expect("a closed list")];
        let offered: Vec<&str> = list
            .split(',')
            .map(|value| value.trim().trim_matches('\''))
            .filter(|value| !value.is_empty())
            .collect();
        assert!(!offered.is_empty());
        for level in offered {
            assert!(levels.contains(&level), "level '{level}' in views/logs.js");
        }
    }
}
