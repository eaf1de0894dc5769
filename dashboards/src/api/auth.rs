//! The optional bearer token every `/api` route needs.

use subtle::ConstantTimeEq;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::*;
use super::state::AppState;

/// Constant-time comparison (`subtle`), so the token cannot be guessed byte
/// by byte. Only the length leaks, as with any such comparison.
pub(crate) fn same_token(given: &[u8], expected: &[u8]) -> bool {
    given.ct_eq(expected).into()
}

/// The token of an `Authorization: Bearer <token>` value; the scheme is read
/// in any case, as HTTP authentication schemes are (RFC 9110, 11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("Bearer")
        .then(|| token.trim_start_matches(' '))
}

pub(crate) async fn require_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = &state.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token);
        let authorised = given.is_some_and(|given| same_token(given.as_bytes(), token.as_bytes()));
        if !authorised {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing or wrong bearer token".to_owned(),
            )
            .for_path(request.uri().path())
            .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            return response;
        }
    }
    next.run(request).await
}
