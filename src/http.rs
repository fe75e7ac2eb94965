//! The HTTP surface: POST /graphql answers queries, GET /graphql serves GraphiQL, /health and
//! /ready are the liveness and readiness probes, /metrics is for Prometheus. Every request gets a
//! request id (`x-request-id`, kept when the client sends one), a tracing span, and metrics.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use async_graphql::ParseRequestError;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse, rejection::GraphQLRejection};
use axum::{
    Extension, Json, Router,
    extract::{ConnectInfo, MatchedPath, Request, State},
    handler::Handler,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use sea_orm::DatabaseConnection;
use serde_json::json;
use tower_http::{
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};
use tracing::Span;

use crate::{
    config::HttpConfig,
    graphql::{AppSchema, build_schema_with, scoped_request},
    observability,
    service::{DEADLINE, Deadline, WorkspaceId, auth},
};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    request_timeout: Duration,
    /// The key GraphiQL pages served to loopback peers carry, when enabled.
    graphiql: Option<Arc<GraphiqlKey>>,
}

/// A key that lives only in this process's memory, for the GraphiQL page of a server on a
/// loopback address: a developer opens the page and it works, with no key to paste.
struct GraphiqlKey {
    secret: String,
    hash: String,
    workspace: WorkspaceId,
}

/// The application's router with the default configuration.
pub fn router(db: DatabaseConnection) -> Router {
    router_with(db, &HttpConfig::default())
}

/// The application's router.
pub fn router_with(db: DatabaseConnection, config: &HttpConfig) -> Router {
    observability::init_metrics();
    let graphiql_key = config.graphiql_workspace.map(|workspace| {
        let secret = auth::generate_secret();
        Arc::new(GraphiqlKey {
            hash: auth::hash_of(&secret),
            secret,
            workspace,
        })
    });
    let state = AppState {
        schema: build_schema_with(db.clone(), config.slow_operation, &config.limits),
        db,
        request_timeout: config.request_timeout,
        graphiql: graphiql_key,
    };
    let request_id = HeaderName::from_static("x-request-id");
    let authenticated_graphql = graphql.layer(middleware::from_fn_with_state(
        state.clone(),
        require_api_key,
    ));
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/graphql") }))
        .route("/graphql", get(graphiql).post(authenticated_graphql))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
        // Enforced on the body stream itself (async-graphql reads bodies on its own, past
        // axum's extractor limit): a larger body gets 413 without being read into memory.
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(CompressionLayer::new())
        .layer(cors(config.cors_origins.as_deref()))
        .layer(middleware::from_fn(record_metrics))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        request_id = %id,
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                })
                .on_request(())
                .on_response(|response: &Response, latency: Duration, _span: &Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_secs_f64() * 1000.0,
                        "request finished"
                    );
                })
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// CORS for SPA clients: POST with JSON and an Authorization header from allowed origins.
fn cors(origins: Option<&[String]>) -> CorsLayer {
    let allow = match origins {
        Some(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o.trim().trim_end_matches('/')).ok()),
        ),
        None => AllowOrigin::predicate(|origin, _| is_loopback_origin(origin)),
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(Duration::from_secs(3600))
}

/// `http(s)://localhost`, `127.0.0.1` or `[::1]`, any port: development front ends.
fn is_loopback_origin(origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => rest.split(':').next().unwrap_or_default(),
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    // The route pattern, not the raw path, so unknown paths do not make new series.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A GraphQL-shaped error response with `extensions.code`, for failures before execution.
fn request_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Lets a request through only with a live API key, and tells the handler its workspace.
async fn require_api_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer(request.headers()) else {
        return request_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "send an API key: Authorization: Bearer <key>",
        );
    };
    let in_memory = state
        .graphiql
        .as_ref()
        .filter(|key| auth::matches(token, &key.hash))
        .map(|key| key.workspace);
    let workspace = match in_memory {
        Some(workspace) => Some(workspace),
        None => match auth::authenticate(&state.db, token).await {
            Ok(found) => found,
            Err(error) => {
                tracing::error!(error = %error, "API key lookup failed");
                // Whatever the fault, no key can be checked: the service is unavailable.
                return request_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "the service is unavailable; try again shortly",
                );
            }
        },
    };
    match workspace {
        Some(workspace) => {
            request.extensions_mut().insert(workspace);
            next.run(request).await
        }
        None => request_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "the API key is unknown or revoked",
        ),
    }
}

/// Whether a POST body is declared as JSON, the one request media type of GraphQL over HTTP.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

async fn graphql(
    State(state): State<AppState>,
    Extension(workspace): Extension<WorkspaceId>,
    headers: axum::http::HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    if !is_json(&headers) {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request as Content-Type: application/json",
        );
    }
    let request = match request {
        Ok(request) => request,
        Err(GraphQLRejection(ParseRequestError::PayloadTooLarge)) => {
            return request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "the request body is larger than the server accepts",
            );
        }
        Err(GraphQLRejection(error)) => {
            let detail = match error {
                ParseRequestError::InvalidRequest(e) => e.to_string(),
                ParseRequestError::UnsupportedBatch => "batched requests are not accepted".into(),
                other => other.to_string(),
            };
            return request_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not a GraphQL request ({detail})"),
            );
        }
    };
    let request = scoped_request(request.into_inner(), &state.db, workspace);
    // Past the deadline the execution is dropped, which rolls back its open transaction. A
    // write that already committed is never reported as cancelled: see `service::Deadline`.
    let deadline = Arc::new(Deadline::default());
    let execution = DEADLINE.scope(deadline.clone(), state.schema.execute(request));
    tokio::pin!(execution);
    let response = tokio::select! {
        response = &mut execution => response,
        () = tokio::time::sleep(state.request_timeout) => {
            if deadline.expire() {
                tracing::warn!(
                    timeout_ms = state.request_timeout.as_millis() as u64,
                    "request timed out"
                );
                return request_error(
                    StatusCode::REQUEST_TIMEOUT,
                    "REQUEST_TIMEOUT",
                    "the request took longer than the server allows and was cancelled",
                );
            }
            execution.await
        }
    };
    // A request that never ran (it did not parse, validate, or fit the limits) is a client error.
    let refused = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let mut http = GraphQLResponse::from(response).into_response();
    if refused {
        *http.status_mut() = StatusCode::BAD_REQUEST;
    }
    http
}

/// Whether the Host a page was asked for names this machine. The GraphiQL key goes only to
/// such pages: a page fetched under a foreign name that resolves to 127.0.0.1 (DNS rebinding),
/// or through a proxy, gets none.
fn host_is_loopback(headers: &axum::http::HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// GraphiQL. Served to a loopback peer of a server that has an in-memory key, the page sends it.
async fn graphiql(State(state): State<AppState>, request: Request) -> impl IntoResponse {
    let peer_is_loopback = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback())
        && host_is_loopback(request.headers());
    let authorization = state
        .graphiql
        .as_ref()
        .filter(|_| peer_is_loopback)
        .map(|key| format!("Bearer {}", key.secret));
    let mut page = GraphiQLSource::build()
        .endpoint("/graphql")
        .title("segments-api");
    if let Some(value) = authorization.as_deref() {
        page = page.header("Authorization", value);
    }
    Html(page.finish())
}

/// Liveness: the process answers (always 200, so an orchestrator does not restart a server
/// whose database is away), and says whether the database answers too.
async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    let database = match tokio::time::timeout(Duration::from_secs(1), state.db.ping()).await {
        Ok(Ok(())) => "up",
        _ => "down",
    };
    Json(json!({ "status": "ok", "database": database }))
}

/// Readiness: the database answers.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": "up" })),
        ),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "down" })),
            )
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        observability::render_metrics(&state.db),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_host_names_get_the_graphiql_key() {
        let host = |value: &'static str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static(value));
            host_is_loopback(&headers)
        };
        for ok in [
            "localhost:8000",
            "127.0.0.1:8000",
            "[::1]:8000",
            "LOCALHOST",
            "127.0.0.2",
        ] {
            assert!(host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8000",
            "localhost.evil.example",
            "10.0.0.1:8000",
            "example.com",
        ] {
            assert!(!host(bad), "{bad}");
        }
    }

    #[test]
    fn loopback_origins_are_recognised() {
        for ok in [
            "http://localhost:3000",
            "https://127.0.0.1",
            "http://[::1]:5173",
            "http://localhost",
        ] {
            assert!(is_loopback_origin(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in [
            "http://localhost.evil.com",
            "https://example.com",
            "null",
            "localhost:3000",
        ] {
            assert!(!is_loopback_origin(&HeaderValue::from_static(bad)), "{bad}");
        }
    }
}
