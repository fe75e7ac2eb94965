//! The HTTP surface: POST /graphql answers queries, GET /graphql serves GraphiQL, /health and
//! /ready are the liveness and readiness probes, /metrics is for Prometheus. Every request gets a
//! request id (`x-request-id`, kept when the client sends one), a tracing span, and metrics.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql::{Data, ParseRequestError};
use async_graphql_axum::{
    GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket, rejection::GraphQLRejection,
};
use axum::{
    Extension, Json, Router,
    extract::{
        ConnectInfo, MatchedPath, Request, State, WebSocketUpgrade,
        ws::{CloseFrame, Message},
    },
    handler::Handler,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use futures_util::{SinkExt, StreamExt};
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
    graphql::{
        AppSchema,
        apq::{ApqError, PersistedQueries},
        build_schema_with,
        limits::{ReadOnly, with_code},
        loaders::AppLoader,
        scoped_request,
    },
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
    /// Query texts known by hash (automatic persisted queries).
    persisted: Arc<PersistedQueries>,
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
        persisted: Arc::new(PersistedQueries::new(config.persisted_queries_bytes)),
    };
    let request_id = HeaderName::from_static("x-request-id");
    let authenticated_graphql = graphql.layer(middleware::from_fn_with_state(
        state.clone(),
        require_api_key,
    ));
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/graphql") }))
        .route("/graphql", get(graphql_get).post(authenticated_graphql))
        .route("/graphql/ws", get(graphql_ws))
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

/// The workspace of a live API key, or the response that refuses the request.
async fn authenticate(state: &AppState, token: Option<&str>) -> Result<WorkspaceId, Response> {
    let Some(token) = token else {
        return Err(request_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "send an API key: Authorization: Bearer <key>",
        ));
    };
    if let Some(key) = state
        .graphiql
        .as_ref()
        .filter(|key| auth::matches(token, &key.hash))
    {
        return Ok(key.workspace);
    }
    match auth::authenticate(&state.db, token).await {
        Ok(Some(workspace)) => Ok(workspace),
        Ok(None) => Err(request_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "the API key is unknown or revoked",
        )),
        Err(error) => {
            tracing::error!(error = %error, "API key lookup failed");
            // Whatever the fault, no key can be checked: the service is unavailable.
            Err(request_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "the service is unavailable; try again shortly",
            ))
        }
    }
}

/// Lets a request through only with a live API key, and tells the handler its workspace. A
/// middleware, so that a request without a key is refused before its body is read.
async fn require_api_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    match authenticate(&state, bearer(request.headers())).await {
        Ok(workspace) => {
            request.extensions_mut().insert(workspace);
            next.run(request).await
        }
        Err(refused) => refused,
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

/// POST /graphql: a query or mutation as JSON.
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
    let Some(media) = ResponseMedia::negotiate(&headers) else {
        return not_acceptable();
    };
    let request = match request {
        Ok(request) => request.into_inner(),
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
    execute(&state, workspace, media, request).await
}

/// GET /graphql: with a `query` (or a persisted query's hash) in the URL, runs a query; mutations
/// are refused with 405. Without one, it is a browser asking for GraphiQL.
async fn graphql_get(State(state): State<AppState>, request: Request) -> Response {
    let query_string = request.uri().query().unwrap_or_default().to_owned();
    let asks_graphql = query_string.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or_default();
        name == "query" || name == "extensions"
    });
    if !asks_graphql {
        return graphiql(&state, &request).into_response();
    }
    let headers = request.headers();
    let workspace = match authenticate(&state, bearer(headers)).await {
        Ok(workspace) => workspace,
        Err(refused) => return refused,
    };
    let Some(media) = ResponseMedia::negotiate(headers) else {
        return not_acceptable();
    };
    let graphql_request = match parse_url_request(&query_string) {
        Ok(parsed) => parsed,
        Err(error) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the URL does not carry a GraphQL request ({error})"),
            );
        }
    };
    execute(&state, workspace, media, graphql_request.data(ReadOnly)).await
}

/// A GraphQL request from URL parameters: `query`, `operationName`, and `variables` and
/// `extensions` as JSON. (async-graphql's own parser expects `operation_name`.)
fn parse_url_request(query_string: &str) -> Result<async_graphql::Request, String> {
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(default)]
        query: String,
        #[serde(rename = "operationName")]
        operation_name: Option<String>,
        variables: Option<String>,
        extensions: Option<String>,
    }
    let params: Params = serde_urlencoded::from_str(query_string).map_err(|e| e.to_string())?;
    let mut request = async_graphql::Request::new(params.query);
    if let Some(name) = params.operation_name.filter(|name| !name.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables.filter(|v| !v.is_empty()) {
        let json = serde_json::from_str(&variables).map_err(|e| format!("variables: {e}"))?;
        request = request.variables(async_graphql::Variables::from_json(json));
    }
    if let Some(extensions) = params.extensions.filter(|v| !v.is_empty()) {
        request.extensions =
            serde_json::from_str(&extensions).map_err(|e| format!("extensions: {e}"))?;
    }
    Ok(request)
}

/// Runs a request for a workspace within the request deadline, and answers it in `media`.
async fn execute(
    state: &AppState,
    workspace: WorkspaceId,
    media: ResponseMedia,
    mut request: async_graphql::Request,
) -> Response {
    // Not a GraphQL request at all (a misspelt `query`, say): a malformed request, whatever
    // the media type.
    if request.query.trim().is_empty() && !request.extensions.contains_key("persistedQuery") {
        return request_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the request has no `query` (nor a persisted query's hash)",
        );
    }
    if let Err(error) = state.persisted.resolve(&mut request) {
        let response = async_graphql::Response::from_errors(vec![with_code(
            async_graphql::ServerError::new(error.to_string(), None),
            error.code(),
        )]);
        let status = match error {
            ApqError::Malformed | ApqError::HashMismatch => StatusCode::BAD_REQUEST,
            ApqError::NotFound => media.request_error_status(),
        };
        return media.respond(response, status);
    }
    let request = scoped_request(request, &state.db, workspace);
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
    // A request that never ran (it did not parse, validate, or fit the limits) is a request
    // error; a mutation sent by GET is refused as such.
    let status = if !never_ran(&response) {
        StatusCode::OK
    } else if response
        .errors
        .iter()
        .any(|e| has_code(e, "METHOD_NOT_ALLOWED"))
    {
        StatusCode::METHOD_NOT_ALLOWED
    } else {
        media.request_error_status()
    };
    let mut http = media.respond(response, status);
    if status == StatusCode::METHOD_NOT_ALLOWED {
        http.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    http
}

/// Whether a response is a request error: no data, and only errors about the request itself.
fn never_ran(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

fn has_code(error: &async_graphql::ServerError, code: &str) -> bool {
    error
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("code"))
        .is_some_and(|value| *value == async_graphql::Value::from(code))
}

/// The media type of a GraphQL response, from the request's `Accept` (GraphQL over HTTP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ResponseMedia {
    /// `application/graphql-response+json`: HTTP status codes tell request errors (400) apart.
    GraphqlResponse,
    /// `application/json`, the legacy type: every well-formed request gets 200.
    Json,
}

impl ResponseMedia {
    /// The best type the client accepts; `application/json` when it says nothing (or `*/*`), and
    /// `None` when it accepts neither.
    fn negotiate(headers: &axum::http::HeaderMap) -> Option<Self> {
        let accept: Vec<&str> = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        if accept.iter().all(|value| value.trim().is_empty()) {
            return Some(Self::Json);
        }
        // (q, specific, media): the highest q wins; then a named type over a wildcard; then
        // graphql-response+json over json.
        let mut best: Option<(f32, bool, Self)> = None;
        for range in accept.iter().flat_map(|value| value.split(',')) {
            let mut parts = range.split(';');
            let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let candidate = match name.as_str() {
                "application/graphql-response+json" => (q, true, Self::GraphqlResponse),
                "application/json" => (q, true, Self::Json),
                "application/*" | "*/*" => (q, false, Self::Json),
                _ => continue,
            };
            if candidate.0 <= 0.0 {
                continue;
            }
            let rank = |(q, specific, media): (f32, bool, Self)| {
                (q, specific, media == Self::GraphqlResponse)
            };
            if best.is_none_or(|b| rank(candidate) > rank(b)) {
                best = Some(candidate);
            }
        }
        best.map(|(_, _, media)| media)
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }

    /// The status of a request that could not run (parse, validation, limits, variables).
    fn request_error_status(self) -> StatusCode {
        match self {
            Self::GraphqlResponse => StatusCode::BAD_REQUEST,
            Self::Json => StatusCode::OK,
        }
    }

    /// The response with this status. A request that never ran has no `data` entry at all (the
    /// spec's "request error"), not `"data": null`.
    fn respond(self, response: async_graphql::Response, status: StatusCode) -> Response {
        let mut http = if never_ran(&response) {
            let mut body = serde_json::to_value(&response).unwrap_or_default();
            if let Some(fields) = body.as_object_mut() {
                fields.remove("data");
            }
            Json(body).into_response()
        } else {
            GraphQLResponse::from(response).into_response()
        };
        *http.status_mut() = status;
        http.headers_mut()
            .insert(header::CONTENT_TYPE, self.content_type());
        http
    }
}

fn not_acceptable() -> Response {
    request_error(
        StatusCode::NOT_ACCEPTABLE,
        "NOT_ACCEPTABLE",
        "accept application/graphql-response+json or application/json",
    )
}

/// GET /graphql/ws: subscriptions (and queries and mutations) over WebSocket, with the
/// `graphql-transport-ws` protocol of graphql-ws clients (and the older `graphql-ws`). The key
/// comes in the upgrade's Authorization header or, from browsers (which cannot set headers on a
/// WebSocket), in the `connection_init` payload: `{"Authorization": "Bearer <key>"}`.
async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    headers: axum::http::HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let header_token = bearer(&headers).map(str::to_owned);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let schema = state.schema.clone();
            let connections = metrics::gauge!("graphql_ws_connections");
            connections.increment(1.0);
            let (sink, stream) = socket.split();
            // async-graphql closes a refused connection_init with 1002 (protocol error); the
            // protocol's code for a refused key is 4403 Forbidden, which clients do not retry.
            let sink = sink.with(|message: Message| {
                std::future::ready(Ok::<_, axum::Error>(match message {
                    Message::Close(Some(frame)) if frame.reason == REFUSED_KEY => {
                        Message::Close(Some(CloseFrame {
                            code: 4403,
                            reason: "Forbidden".into(),
                        }))
                    }
                    other => other,
                }))
            });
            let initialised = Arc::new(tokio::sync::Notify::new());
            let init_seen = initialised.clone();
            let serve = GraphQLWebSocket::new_with_pair(sink, stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    init_seen.notify_one();
                    let token = header_token.or_else(|| init_token(&payload));
                    let workspace = authenticate(&state, token.as_deref())
                        .await
                        .map_err(|_| async_graphql::Error::new(REFUSED_KEY))?;
                    let mut data = Data::default();
                    data.insert(workspace);
                    data.insert(AppLoader::data_loader(state.db.clone(), workspace));
                    Ok(data)
                })
                .serve();
            // A socket that never says who it is would be held open for nothing: without a
            // connection_init in time it is dropped (the protocol's own rule).
            let init_deadline = async {
                if tokio::time::timeout(CONNECTION_INIT_TIMEOUT, initialised.notified())
                    .await
                    .is_ok()
                {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = serve => {}
                () = init_deadline => {
                    tracing::info!("WebSocket closed: no connection_init in time");
                }
            }
            connections.decrement(1.0);
        })
}

/// How long a new WebSocket has to send `connection_init`.
const CONNECTION_INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a WebSocket connection was refused at `connection_init`.
const REFUSED_KEY: &str = "the API key is missing, unknown or revoked";

/// The key in a `connection_init` payload: `Authorization` (or `authorization`) as
/// `Bearer <key>`, or `apiKey`.
fn init_token(payload: &serde_json::Value) -> Option<String> {
    let field = |name: &str| payload.get(name).and_then(|v| v.as_str());
    if let Some(value) = field("Authorization").or_else(|| field("authorization")) {
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    field("apiKey").map(|key| key.trim().to_owned())
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

/// GraphiQL. Served to a loopback peer of a server that has an in-memory key, the page sends it,
/// on HTTP and in the WebSocket's `connection_init`.
fn graphiql(state: &AppState, request: &Request) -> Html<String> {
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
        .subscription_endpoint("/graphql/ws")
        .title("segments-api");
    if let Some(value) = authorization.as_deref() {
        page = page
            .header("Authorization", value)
            .ws_connection_param("Authorization", value);
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
