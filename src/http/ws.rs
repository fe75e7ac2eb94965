//! GraphQL over WebSocket (`graphql-transport-ws`) at /graphql/ws, authenticated at
//! `connection_init`.

mod protocol;

use std::{
    pin::pin,
    str::FromStr,
    sync::{Arc, Mutex},
    task::Poll,
    time::Duration,
};

use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use futures_util::{
    SinkExt, Stream, StreamExt,
    future::{Either, select},
    stream::SplitStream,
};

use self::protocol::{ProtocolGuard, Violation, close_reason};
use super::{
    api_keys::{authenticate, bearer},
    state::AppState,
};
use crate::graphql::runtime::ConnectionLimits;

/// How a connection's writing ended.
#[derive(Debug)]
enum Written {
    /// async-graphql finished and everything it sent was written.
    Done,
    /// The socket failed: the client went away.
    Failed,
    /// A message waited longer than the write timeout: the client stopped reading.
    TimedOut,
}

/// GET /graphql/ws: subscriptions (and queries and mutations) over WebSocket, with the
/// `graphql-transport-ws` protocol of graphql-ws clients (and the older `graphql-ws`). The key
/// comes in the upgrade's Authorization header or, from browsers (which cannot set headers on a
/// WebSocket), in the `connection_init` payload: `{"Authorization": "Bearer <key>"}`.
pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let header_token = bearer(&headers).map(str::to_owned);
    let transport_ws = negotiated(&headers) == Some(WebSocketProtocols::GraphQLWS);
    let limits = state.ws_limits;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // A larger frame is refused from its header, before its payload is read.
        .max_message_size(limits.max_message_bytes)
        .max_frame_size(limits.max_message_bytes)
        .on_upgrade(move |socket| async move {
            let schema = state.schema.clone();
            let connections = metrics::gauge!("graphql_ws_connections");
            connections.increment(1.0);
            let (mut socket_sink, stream) = socket.split();
            // The protocol's rules async-graphql does not keep (graphql-transport-ws only: the
            // older protocol is left as async-graphql serves it).
            let guard = transport_ws.then(|| Arc::new(Mutex::new(ProtocolGuard::default())));
            let (violation_tx, violation) = tokio::sync::oneshot::channel();
            let incoming = checked(stream, guard.clone(), violation_tx);
            // async-graphql writes into a channel, not the socket, so that this handler can still
            // close the socket with a code of its own when async-graphql's part is dropped.
            let (outgoing, mut to_socket) = futures_channel::mpsc::channel::<Message>(16);
            let sink = outgoing.with(move |message: Message| {
                std::future::ready(Ok::<_, futures_channel::mpsc::SendError>(outbound(
                    message,
                    guard.as_deref(),
                )))
            });
            // The key a connection was accepted with, once it has been.
            let (accepted_tx, mut accepted) = tokio::sync::watch::channel(None::<String>);
            let init_state = state.clone();
            let serve = GraphQLWebSocket::new_with_pair(sink, incoming, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let state = init_state;
                    let token = header_token.or_else(|| init_token(&payload));
                    let caller = authenticate(&state, token.as_deref())
                        .await
                        .map_err(|_| async_graphql::Error::new(REFUSED_KEY))?;
                    accepted_tx.send_replace(token);
                    // Each operation gets its own loader from `Api::execute_stream`, which also
                    // applies the connection's limits.
                    let mut data = Data::default();
                    data.insert(caller);
                    data.insert(ConnectionLimits::new(
                        limits.request_timeout,
                        limits.max_subscriptions,
                    ));
                    Ok(data)
                })
                .serve();
            let key_check = async {
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
                    Err(_) => return Violation::new(4408, "Connection initialisation timeout"),
                };
                // A key revoked while its socket is open stops working there too.
                loop {
                    tokio::time::sleep(state.ws_key_recheck).await;
                    if let Err(refused) = authenticate(&state, Some(&token)).await
                        && refused.status() == StatusCode::UNAUTHORIZED
                    {
                        return Violation::new(4403, "Forbidden: the API key was revoked");
                    }
                }
            };
            // Every write is bounded: a client that stops reading would otherwise hold the
            // connection, its subscriptions and their queued events forever.
            let writer = async {
                while let Some(message) = to_socket.next().await {
                    match tokio::time::timeout(limits.write_timeout, socket_sink.send(message))
                        .await
                    {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => return Written::Failed,
                        Err(_) => return Written::TimedOut,
                    }
                }
                Written::Done
            };
            // The connection ends when either side does: async-graphql (its channel then closes,
            // and the writer writes what is left), or the writer (async-graphql may be waiting on
            // a full channel, and would wait forever).
            let served = async {
                match select(pin!(serve), pin!(writer)).await {
                    Either::Left(((), writer)) => writer.await,
                    Either::Right((written, _)) => written,
                }
            };
            let closing = tokio::select! {
                written = served => {
                    match written {
                        Written::Done => {}
                        Written::Failed => tracing::debug!("WebSocket client went away"),
                        Written::TimedOut => tracing::info!(
                            timeout_seconds = limits.write_timeout.as_secs_f64(),
                            "WebSocket closed: the client stopped reading"
                        ),
                    }
                    None
                }
                closing = key_check => Some(closing),
                Ok(violation) = violation => Some(violation),
            };
            if let Some(Violation { code, reason }) = closing {
                tracing::info!(code, reason, "WebSocket closed");
                let close = socket_sink.send(close_frame(code, &reason));
                let _ = tokio::time::timeout(limits.write_timeout, close).await;
            }
            connections.decrement(1.0);
        })
}

/// The WebSocket protocol the upgrade settles on, found as `GraphQLProtocol` finds it (the first
/// known one the client offers).
fn negotiated(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|name| WebSocketProtocols::from_str(name.trim()).ok())
}

/// The client's messages as async-graphql reads them, checked first: a message over the size
/// limit (for either protocol) or against the protocol's rules (`guard`, for
/// graphql-transport-ws) is reported on `violation` and nothing more is read, so that the
/// connection closes with the code for it.
fn checked(
    mut stream: SplitStream<WebSocket>,
    guard: Option<Arc<Mutex<ProtocolGuard>>>,
    violation: tokio::sync::oneshot::Sender<Violation>,
) -> impl Stream<Item = Result<Message, axum::Error>> {
    let mut violation = Some(violation);
    futures_util::stream::poll_fn(move |cx| {
        if violation.is_none() {
            return Poll::Pending;
        }
        let item = std::task::ready!(stream.poll_next_unpin(cx));
        let verdict = match (&item, &guard) {
            (Some(Ok(Message::Text(text))), Some(guard)) => {
                lock(guard).client_message(text.as_bytes())
            }
            (Some(Ok(Message::Binary(bytes))), Some(guard)) => lock(guard).client_message(bytes),
            (Some(Err(error)), _) if too_large(error) => {
                Err(Violation::new(1009, "Message too big"))
            }
            _ => Ok(()),
        };
        match verdict {
            Ok(()) => Poll::Ready(item),
            Err(found) => {
                if let Some(report) = violation.take() {
                    let _ = report.send(found);
                }
                Poll::Pending
            }
        }
    })
}

/// async-graphql's messages on their way to the socket: noted by the protocol guard, with the
/// protocol's close codes where async-graphql uses others.
fn outbound(message: Message, guard: Option<&Mutex<ProtocolGuard>>) -> Message {
    match message {
        Message::Text(text) => {
            if let Some(guard) = guard {
                lock(guard).server_message(text.as_str());
            }
            Message::Text(text)
        }
        // async-graphql closes a refused connection_init with 1002 (protocol error); the
        // protocol's code for a refused key is 4403 Forbidden, which clients do not retry.
        Message::Close(Some(frame)) if frame.reason == REFUSED_KEY => {
            close_frame(4403, "Forbidden")
        }
        // Any other 1002 is a message async-graphql could not read (the guard passed it, but
        // its payload is not a GraphQL request): the protocol's 4400.
        Message::Close(Some(frame)) if frame.code == 1002 && guard.is_some() => close_frame(
            4400,
            &close_reason(format!("Invalid message: {}", frame.reason)),
        ),
        other => other,
    }
}

/// The guard's state, also after a panic elsewhere while it was held (it stays consistent:
/// every change is one field).
fn lock(guard: &Mutex<ProtocolGuard>) -> std::sync::MutexGuard<'_, ProtocolGuard> {
    guard
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether a read failed because the client's message or frame is larger than allowed.
fn too_large(error: &axum::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|inner| inner.downcast_ref::<tungstenite::Error>())
        .is_some_and(|inner| matches!(inner, tungstenite::Error::Capacity(_)))
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
