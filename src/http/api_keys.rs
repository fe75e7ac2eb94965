//! API keys on HTTP requests: `Authorization: Bearer <key>` names the workspace a request acts for.

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::Response,
};

use crate::{
    errors::Code,
    service::{Caller, auth},
};

use super::{media::request_error, state::AppState};

/// The token of an `Authorization: Bearer <token>` header.
pub(super) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The caller a live API key stands for, or the response that refuses the request.
pub(super) async fn authenticate(
    state: &AppState,
    token: Option<&str>,
) -> Result<Caller, Response> {
    let Some(token) = token else {
        return Err(request_error(
            StatusCode::UNAUTHORIZED,
            Code::Unauthenticated,
            "send an API key: Authorization: Bearer <key>",
        ));
    };
    if let Some(key) = state
        .graphiql
        .as_ref()
        .filter(|key| auth::matches(token, &key.hash))
    {
        return Ok(key.caller.clone());
    }
    match state.keys.authenticate(&state.db, token).await {
        Ok(Some(caller)) => Ok(caller),
        Ok(None) => Err(request_error(
            StatusCode::UNAUTHORIZED,
            Code::Unauthenticated,
            "the API key is unknown or revoked",
        )),
        Err(error) => {
            tracing::error!(error = %error, "API key lookup failed");
            // Whatever the fault, no key can be checked: the service is unavailable.
            Err(request_error(
                StatusCode::SERVICE_UNAVAILABLE,
                Code::ServiceUnavailable,
                "the service is unavailable; try again shortly",
            ))
        }
    }
}

/// Lets a request through only with a live API key, and tells the handler who it acts as. A
/// middleware, so that a request without a key is refused before its body is read.
pub(super) async fn require_api_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    match authenticate(&state, bearer(request.headers())).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(refused) => refused,
    }
}
