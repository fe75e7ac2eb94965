//! GraphQL over WebSocket (`graphql-transport-ws`) at /graphql/ws, authenticated at
//! `connection_init`.

use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message},
    },
    http::StatusCode,
    response::Response,
};
use futures_util::{SinkExt, StreamExt};

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
            let (mut socket_sink, stream) = socket.split();
            // async-graphql writes into a channel, not the socket, so that this handler can still
            // close the socket with a code of its own when async-graphql's part is dropped.
            let (outgoing, mut to_socket) = futures_channel::mpsc::channel::<Message>(16);
            // async-graphql closes a refused connection_init with 1002 (protocol error); the
            // protocol's code for a refused key is 4403 Forbidden, which clients do not retry.
            let sink = outgoing.with(|message: Message| {
                std::future::ready(Ok::<_, futures_channel::mpsc::SendError>(match message {
                    Message::Close(Some(frame)) if frame.reason == REFUSED_KEY => {
                        close_frame(4403, "Forbidden")
                    }
                    other => other,
                }))
            });
            // The key a connection was accepted with, once it has been.
            let (accepted_tx, mut accepted) = tokio::sync::watch::channel(None::<String>);
            let init_state = state.clone();
            let serve = GraphQLWebSocket::new_with_pair(sink, stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let state = init_state;
                    let token = header_token.or_else(|| init_token(&payload));
                    let workspace = authenticate(&state, token.as_deref())
                        .await
                        .map_err(|_| async_graphql::Error::new(REFUSED_KEY))?;
                    accepted_tx.send_replace(token);
                    // Each operation gets its own loader from `Api::execute_stream`.
                    let mut data = Data::default();
                    data.insert(workspace);
                    Ok(data)
                })
                .serve();
            let guard = async {
                // A socket that never says who it is would be held open for nothing: without a
                // connection_init in time it is dropped (the protocol's own rule).
                let init = accepted.wait_for(Option::is_some);
                let outcome = tokio::time::timeout(CONNECTION_INIT_TIMEOUT, init)
                    .await
                    .map(|seen| seen.map(|token| token.clone().unwrap_or_default()));
                let token = match outcome {
                    Ok(Ok(token)) => token,
                    // The init was refused: `serve` closes the socket itself.
                    Ok(Err(_)) => return std::future::pending().await,
                    Err(_) => return (4408, "Connection initialisation timeout"),
                };
                // A key revoked while its socket is open stops working there too.
                loop {
                    tokio::time::sleep(state.ws_key_recheck).await;
                    if let Err(refused) = authenticate(&state, Some(&token)).await
                        && refused.status() == StatusCode::UNAUTHORIZED
                    {
                        return (4403, "Forbidden: the API key was revoked");
                    }
                }
            };
            let writer = async {
                while let Some(message) = to_socket.next().await {
                    if socket_sink.send(message).await.is_err() {
                        break;
                    }
                }
            };
            let closing = tokio::select! {
                _ = futures_util::future::join(serve, writer) => None,
                closing = guard => Some(closing),
            };
            if let Some((code, reason)) = closing {
                tracing::info!(reason, "WebSocket closed");
                let _ = socket_sink.send(close_frame(code, reason)).await;
            }
            connections.decrement(1.0);
        })
}

fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
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
