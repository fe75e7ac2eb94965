//! The HTTP surface: /graphql (POST and GET for GraphQL over HTTP, GET for GraphiQL, WebSocket
//! at /graphql/ws for subscriptions), /health and /ready (liveness and readiness probes), and
//! /metrics for Prometheus. Every request gets a request id (`x-request-id`, kept when the client
//! sends one), a tracing span, and metrics.

mod api_keys;
mod graphiql;
mod graphql;
mod media;
mod ws;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{MatchedPath, Request, State},
    handler::Handler,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use sea_orm::DatabaseConnection;
use serde_json::json;
use tower::ServiceBuilder;
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
    graphql::{Api, apq::PersistedQueries, build_schema_with},
    observability,
    service::{
        auth::{self, KeyCache},
        events::Events,
    },
};

/// What every handler shares: one allocation, so that the state each request's extractors take
/// is a reference count, not a copy of every field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    pub schema: Api,
    pub db: DatabaseConnection,
    request_timeout: Duration,
    /// How often an open WebSocket's key is checked again.
    ws_key_recheck: Duration,
    /// Message size and write timeout of WebSockets.
    ws_limits: ws::WsLimits,
    /// The key GraphiQL pages served to loopback peers carry, when enabled.
    graphiql: Option<Arc<graphiql::GraphiqlKey>>,
    /// Query texts known by hash (automatic persisted queries).
    persisted: Arc<PersistedQueries>,
    /// Live API keys seen lately.
    keys: Arc<KeyCache>,
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
        Arc::new(graphiql::GraphiqlKey {
            hash: auth::hash_of(&secret),
            secret,
            workspace,
        })
    });
    let events = Events::start(&db);
    let state = AppState(Arc::new(Shared {
        keys: Arc::new(KeyCache::new(&events, config.api_key_cache)),
        schema: build_schema_with(db.clone(), events, config.slow_operation, &config.limits),
        db,
        request_timeout: config.request_timeout,
        ws_key_recheck: config.ws_key_recheck,
        ws_limits: ws::WsLimits::new(config),
        graphiql: graphiql_key,
        persisted: Arc::new(PersistedQueries::new(config.persisted_queries_bytes)),
    }));
    let request_id = HeaderName::from_static("x-request-id");
    let authenticated_graphql = graphql::graphql.layer(middleware::from_fn_with_state(
        state.clone(),
        api_keys::require_api_key,
    ));
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/graphql") }))
        .route(
            "/graphql",
            get(graphql::graphql_get).post(authenticated_graphql),
        )
        .route("/graphql/ws", get(ws::graphql_ws))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
        // One layer stack (outermost first) rather than one `Router::layer` per middleware:
        // each of those boxes the routes again, and every request cloned each box.
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(request_id))
                // A span per request (its id, method, path and, once known, GraphQL
                // operation) and one info line when it is answered.
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
                                // The GraphQL operation's name, once known (`OperationLog`).
                                operation = tracing::field::Empty,
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
                .layer(middleware::from_fn(record_metrics))
                .layer(cors(config.cors_origins.as_deref()))
                .layer(CompressionLayer::new())
                // Enforced on the body stream itself (async-graphql reads bodies on its own,
                // past axum's extractor limit): a larger body gets 413 without being read into
                // memory.
                .layer(RequestBodyLimitLayer::new(config.max_body_bytes)),
        )
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
pub(super) fn request_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
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
