//! GraphQL over WebSocket (`graphql-transport-ws`) at /graphql/ws, authenticated at
//! `connection_init`.

use std::{sync::Arc, time::Duration};

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message},
    },
    response::Response,
};
use futures_util::{SinkExt, StreamExt};

use crate::graphql::loaders::AppLoader;

use super::{
    AppState,
    api_keys::{authenticate, bearer},
};

/// GET /graphql/ws: subscriptions (and queries and mutations) over WebSocket, with the
/// `graphql-transport-ws` protocol of graphql-ws clients (and the older `graphql-ws`). The key
/// comes in the upgrade's Authorization header or, from browsers (which cannot set headers on a
/// WebSocket), in the `connection_init` payload: `{"Authorization": "Bearer <key>"}`.
pub(super) async fn graphql_ws(
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
