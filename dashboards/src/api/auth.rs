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
            .and_then(|value| value.strip_prefix("Bearer "));
        let authorised = given.is_some_and(|given| same_token(given.as_bytes(), token.as_bytes()));
        if !authorised {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing or wrong bearer token".to_owned(),
            )
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
