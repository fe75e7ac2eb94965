//! The HTTP surface: /graphql (POST and GET for GraphQL over HTTP, GET for GraphiQL, whose
//! scripts and styles are embedded and served at /graphql/assets/, WebSocket at /graphql/ws for
//! subscriptions), /health and /ready (liveness and readiness probes), and
//! /metrics for Prometheus. Every request gets a request id (`x-request-id`, kept when the client
//! sends a fit one), a tracing span, and metrics. [`serve`] accepts the connections.

mod api_keys;
mod exports;
mod graphiql;
mod graphiql_assets;
mod graphql;
mod media;
mod server;
mod state;
mod ws;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    body::{Body, HttpBody},
    extract::{MatchedPath, Request, State},
    handler::Handler,
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use http_body_util::BodyExt;
use sea_orm::DatabaseConnection;
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::{DeadlineBody, TimeoutError},
    trace::TraceLayer,
};
use tracing::Span;

use crate::{
    config::HttpConfig,
    errors::Code,
    graphql::{build_schema_with, runtime::apq::PersistedQueries},
    observability,
    service::{
        Caller, KeyName,
        auth::{self, KeyCache},
        events::Events,
        retention, rule_refresh,
    },
};

use media::request_error;
pub use server::serve;
pub use state::{AppState, Shared};
use state::{GraphiqlKey, WsLimits};

/// The header that carries a request's id.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The longest request id a client may choose; a longer one is replaced.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The application's router with the default configuration.
pub fn router(db: DatabaseConnection) -> Router {
    router_with(db, &HttpConfig::default())
}

/// The application's router.
pub fn router_with(db: DatabaseConnection, config: &HttpConfig) -> Router {
    observability::init_metrics();
    if cfg!(feature = "bench-without-history") {
        tracing::warn!("built with bench-without-history: no membership change is recorded");
    }
    let graphiql_key = config.graphiql_workspace.map(|workspace| {
        let secret = auth::generate_secret();
        let name = KeyName {
            prefix: auth::shown_prefix(&secret).to_owned(),
            label: "GraphiQL".to_owned(),
        };
        Arc::new(GraphiqlKey {
            hash: auth::hash_of(&secret),
            caller: Caller::with_key(workspace, name),
            secret,
        })
    });
    let events = Events::start(&db);
    let refresher = rule_refresh::start(db.clone(), events.clone(), config.rule_refresh);
    let pruner = config
        .history_retention
        .map(|keep| retention::start(db.clone(), keep, retention::PRUNE_EVERY));
    let state = AppState(Arc::new(Shared {
        _rule_refresh: refresher,
        _pruner: pruner,
        keys: Arc::new(KeyCache::new(&events, config.api_key_cache)),
        schema: build_schema_with(db.clone(), events, config.slow_operation, &config.limits),
        db,
        request_timeout: config.request_timeout,
        ws_key_recheck: config.ws_key_recheck,
        ws_limits: WsLimits::new(config),
        graphiql: graphiql_key,
        persisted: Arc::new(PersistedQueries::new(config.persisted_queries_bytes)),
        metrics_token_hash: config.metrics_token.as_deref().map(auth::hash_of),
        downloads: exports::downloads(),
    }));
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
        .route("/graphql/assets/{name}", get(graphiql_assets::asset))
        .route("/exports/{id}", get(exports::download))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
        // One layer stack (outermost first) rather than one `Router::layer` per middleware:
        // each of those boxes the routes again, and every request cloned each box.
        .layer(
            ServiceBuilder::new()
                // An id the client chose is echoed and written into every log line of the
                // request: one that is too long or holds spaces (which would start forged fields
                // in a text log line), control characters or non-ASCII bytes is replaced by a new
                // one.
                .map_request(drop_unfit_request_id)
                .layer(SetRequestIdLayer::new(X_REQUEST_ID, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
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
                            let span = tracing::info_span!(
                                "request",
                                request_id = %id,
                                method = %observability::method_label(request.method()),
                                path = %request.uri().path(),
                                // The GraphQL operation's name, once known (`OperationLog`).
                                operation = tracing::field::Empty,
                            );
                            crate::traces::continue_trace(&span, request.headers());
                            span
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
                .layer(middleware::from_fn_with_state(
                    config.body_read_timeout,
                    body_deadline,
                ))
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
            X_REQUEST_ID,
            // W3C trace context, so that a browser's trace continues on the server.
            HeaderName::from_static("traceparent"),
            HeaderName::from_static("tracestate"),
        ])
        .expose_headers([X_REQUEST_ID])
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

/// Whether a client's request id may be kept: 1 to [`MAX_REQUEST_ID_LEN`] visible ASCII
/// characters (0x21 to 0x7E: no spaces, control characters or non-ASCII bytes).
fn is_fit_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len()) && id.iter().all(|b| (0x21..=0x7E).contains(b))
}

/// Removes an `x-request-id` that is not fit to keep, so that a new one is made.
fn drop_unfit_request_id(mut request: Request) -> Request {
    let unfit = request
        .headers()
        .get(&X_REQUEST_ID)
        .is_some_and(|id| !is_fit_request_id(id.as_bytes()));
    if unfit {
        request.headers_mut().remove(&X_REQUEST_ID);
    }
    request
}

/// Gives a request's body `timeout` from the end of its headers to arrive whole. A total, not a
/// pause between frames: a client sending a byte a second would never pause long enough. A body
/// that is late gets 408 and its connection is closed.
async fn body_deadline(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    // Most requests (every GET) have no body: no timer, no flag.
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let expired = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&expired);
    let request = request.map(|body| {
        Body::new(DeadlineBody::new(timeout, body).map_err(move |error| {
            if error.is::<TimeoutError>() {
                seen.store(true, Ordering::Relaxed);
            }
            error
        }))
    });
    let response = next.run(request).await;
    if !expired.load(Ordering::Relaxed) {
        return response;
    }
    // Whatever the handler made of the failed read (a bad request, to it), the client was late.
    let mut late = request_error(
        StatusCode::REQUEST_TIMEOUT,
        Code::RequestTimeout,
        &format!(
            "the request body did not arrive within {} s",
            timeout.as_secs()
        ),
    );
    late.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    late
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = observability::method_label(request.method());
    // The route pattern, not the raw path, so unknown paths do not make new series.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [
        ("method", metrics::SharedString::const_str(method)),
        ("route", route.into()),
        ("status", status.into()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
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

/// GET /metrics: the Prometheus text exposition; with a metrics token set, only for requests
/// that carry it (the series name every workspace's operations).
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.metrics_token_hash {
        // `matches` compares hashes in time independent of where they differ.
        if !api_keys::bearer(&headers).is_some_and(|token| auth::matches(token, expected)) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "send the metrics token: Authorization: Bearer <token>\n",
            )
                .into_response();
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        observability::render_metrics(&state.db),
    )
        .into_response()
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
