//! A `graphql-transport-ws` client over a real WebSocket, for subscription tests.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a connection attempt ended, when it did not get `connection_ack`.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

impl WsClient {
    /// Opens `ws://addr/graphql/ws` with `graphql-transport-ws`, sends `connection_init` with
    /// `payload` (and the upgrade request's headers), and waits for `connection_ack`.
    pub async fn connect_with(
        addr: &str,
        headers: &[(&str, &str)],
        payload: Value,
    ) -> Result<Self, Closed> {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        for (name, value) in headers {
            request.headers_mut().insert(
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let (socket, response) = connect_async(request).await.expect("WebSocket upgrade");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        let mut client = Self { socket };
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        match client.next_raw(Duration::from_secs(10)).await {
            Some(Message::Text(text)) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(message["type"], "connection_ack", "{message}");
                Ok(client)
            }
            Some(Message::Close(frame)) => Err(frame
                .map(|f| Closed {
                    code: f.code.into(),
                    reason: f.reason.to_string(),
                })
                .unwrap_or(Closed {
                    code: 1005,
                    reason: String::new(),
                })),
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    /// Connects with the key in the `connection_init` payload, as browsers do.
    pub async fn connect(addr: &str, key: &str) -> Self {
        Self::connect_with(
            addr,
            &[],
            json!({ "Authorization": format!("Bearer {key}") }),
        )
        .await
        .expect("connection accepted")
    }

    /// Opens `ws://addr/graphql/ws` with `graphql-transport-ws` and sends nothing yet.
    pub async fn open(addr: &str) -> Self {
        let (socket, _) = connect_async(transport_ws_request(addr))
            .await
            .expect("WebSocket upgrade");
        Self { socket }
    }

    /// Like [`WsClient::open`], on a TCP connection whose receive buffer is `receive_buffer`
    /// bytes: a client that does not read then holds up the server's writes after little data.
    pub async fn open_with_receive_buffer(addr: &str, receive_buffer: u32) -> Self {
        let tcp = tokio::net::TcpSocket::new_v4().unwrap();
        tcp.set_recv_buffer_size(receive_buffer).unwrap();
        let stream = tcp
            .connect(addr.parse().expect("a socket address"))
            .await
            .expect("TCP connect");
        let (socket, _) = tokio_tungstenite::client_async(
            transport_ws_request(addr),
            MaybeTlsStream::Plain(stream),
        )
        .await
        .expect("WebSocket upgrade");
        Self { socket }
    }

    /// Sends `connection_init` with the key in its payload and waits for `connection_ack`.
    pub async fn init(&mut self, key: &str) {
        self.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {key}") } }))
            .await;
        let message = self
            .next_message(Duration::from_secs(10))
            .await
            .expect("an answer to connection_init");
        assert_eq!(message["type"], "connection_ack", "{message}");
    }

    /// Sends one text frame as it is (not necessarily JSON, nor a protocol message). A failure
    /// is returned, not a panic: the server may close the connection while a large frame is
    /// still being written.
    pub async fn send_text(
        &mut self,
        text: String,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        self.socket.send(Message::Text(text.into())).await
    }

    /// Reads until the server closes the connection and returns the close frame's code, skipping
    /// any other message (1005 when the frame had no code; `None` when the connection ended
    /// without a close frame or nothing came within `wait`).
    pub async fn close_code(&mut self, wait: Duration) -> Option<u16> {
        let read = async {
            while let Some(message) = self.socket.next().await {
                match message {
                    Ok(Message::Close(frame)) => {
                        return Some(frame.map_or(1005, |f| u16::from(f.code)));
                    }
                    Ok(_) => continue,
                    Err(_) => return None,
                }
            }
            None
        };
        tokio::time::timeout(wait, read).await.ok().flatten()
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
    }

    /// Starts an operation under `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }

    /// Runs a trivial query on this connection and waits for its answer. The server reads a
    /// connection's messages in order, so subscriptions sent before it have been started by
    /// then; tests also leave the server a moment to finish registering them.
    pub async fn sync(&mut self) {
        self.subscribe("sync", "{ __typename }", json!({})).await;
        loop {
            let message = self
                .next_message(Duration::from_secs(10))
                .await
                .expect("an answer to the sync query");
            assert_eq!(message["id"], "sync", "unexpected message {message}");
            if message["type"] == "complete" {
                break;
            }
        }
        self.assert_quiet(Duration::from_millis(100)).await;
    }

    /// Stops an operation.
    pub async fn complete(&mut self, id: &str) {
        self.send(json!({ "id": id, "type": "complete" })).await;
    }

    async fn next_raw(&mut self, wait: Duration) -> Option<Message> {
        loop {
            match tokio::time::timeout(wait, self.socket.next()).await {
                Err(_) => return None,
                Ok(None) => return None,
                Ok(Some(Err(error))) => panic!("WebSocket error: {error}"),
                // Pings are the transport's, not the protocol's.
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(Some(Ok(message))) => return Some(message),
            }
        }
    }

    /// The next protocol message (`next`, `error`, `complete`, `ping`...) within `wait`, answering
    /// the protocol's pings; `None` when none came.
    pub async fn next_message(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match self.next_raw(wait).await? {
                Message::Text(text) => {
                    let message: Value = serde_json::from_str(&text).unwrap();
                    if message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(message);
                }
                Message::Close(frame) => {
                    return Some(
                        json!({ "type": "closed", "code": frame.map(|f| u16::from(f.code)) }),
                    );
                }
                other => panic!("unexpected WebSocket message {other:?}"),
            }
        }
    }

    /// The payloads of the next `n` `next` messages for operation `id` (panics on anything else).
    pub async fn events(&mut self, id: &str, n: usize) -> Vec<Value> {
        let mut events = Vec::with_capacity(n);
        while events.len() < n {
            let message = self
                .next_message(Duration::from_secs(15))
                .await
                .unwrap_or_else(|| panic!("only {} of {n} events arrived", events.len()));
            assert_eq!(message["type"], "next", "{message}");
            assert_eq!(message["id"], id, "{message}");
            events.push(message["payload"].clone());
        }
        events
    }

    /// Runs a query or mutation as operation `id` and returns its `data`, after its `complete`
    /// (panics on errors).
    pub async fn data(&mut self, id: &str, query: &str, variables: Value) -> Value {
        self.subscribe(id, query, variables).await;
        let answer = self.events(id, 1).await.remove(0);
        let done = self.next_message(Duration::from_secs(10)).await;
        assert_eq!(
            done.as_ref().map(|m| m["type"].clone()),
            Some(json!("complete"))
        );
        assert!(answer.get("errors").is_none(), "{answer}");
        answer["data"].clone()
    }

    /// Asserts that nothing arrives within `wait`.
    pub async fn assert_quiet(&mut self, wait: Duration) {
        if let Some(message) = self.next_message(wait).await {
            panic!("expected no message, got {message}");
        }
    }
}

/// The upgrade request for `ws://addr/graphql/ws` with `graphql-transport-ws`.
fn transport_ws_request(addr: &str) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    request
}
