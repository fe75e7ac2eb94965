//! The rules of the `graphql-transport-ws` protocol that async-graphql does not enforce itself,
//! as a state machine fed with each message in either direction.
//!
//! The protocol (<https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md>) closes the
//! socket with:
//! - 4400 for a message that is not a valid client message (not JSON, an unknown `type`, a
//!   `subscribe` or `complete` without a string `id`);
//! - 4401 Unauthorized for a `subscribe` before the connection was acknowledged;
//! - 4409 `Subscriber for <id> already exists` for a `subscribe` whose id is that of an
//!   operation still running;
//! - 4429 `Too many initialisation requests` for a second `connection_init`.
//!
//! A workaround: async-graphql's `WebSocket` stream
//! (<https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/http/websocket.rs>) closes
//! with 1011 for a `subscribe` before the acknowledgement and 1002 for an invalid message, and
//! silently replaces an operation whose id is reused. The test
//! `upstream_still_closes_with_codes_of_its_own` fails once it closes as the protocol says,
//! when the rules it then keeps can go from here.

use std::{borrow::Cow, collections::HashSet};

use serde::Deserialize;

/// Why the connection is closed, as a WebSocket close code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Violation {
    /// The close code.
    pub code: u16,
    /// The close reason, at most 123 bytes.
    pub reason: String,
}

impl Violation {
    /// A violation closing with `code`; `reason` is cut to fit a close frame.
    pub(super) fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: close_reason(reason.into()),
        }
    }

    /// 4400: the protocol's code for a message it does not allow.
    pub(super) fn invalid(detail: &str) -> Self {
        Self::new(4400, format!("Invalid message: {detail}"))
    }
}

/// A close frame's reason is at most 123 bytes (a control frame's payload is at most 125, two of
/// them the code): longer ones are cut at a character boundary.
pub(super) fn close_reason(mut reason: String) -> String {
    const MAX: usize = 123;
    if reason.len() > MAX {
        let mut end = MAX;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

/// The parts of a message the rules look at; the payload is skipped unread.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
}

/// One connection's protocol state.
#[derive(Debug, Default)]
pub(super) struct ProtocolGuard {
    /// A `connection_init` was received.
    init_received: bool,
    /// The server sent `connection_ack`. async-graphql reads no message while it decides on a
    /// `connection_init`, so a `subscribe` sent right behind one is read after the answer and is
    /// judged by it.
    acknowledged: bool,
    /// Operations started and not yet completed by either side.
    running: HashSet<String>,
}

impl ProtocolGuard {
    /// Checks a message from the client before async-graphql reads it.
    pub(super) fn client_message(&mut self, message: &[u8]) -> Result<(), Violation> {
        let invalid = || Violation::invalid("not a JSON object with a string `type`");
        // serde would also read a struct from an array (`["subscribe", "1"]`).
        if message.trim_ascii_start().first() != Some(&b'{') {
            return Err(invalid());
        }
        let envelope: Envelope = serde_json::from_slice(message).map_err(|_| invalid())?;
        let id = || {
            envelope
                .id
                .as_deref()
                .ok_or_else(|| Violation::invalid("no `id`"))
        };
        match &*envelope.kind {
            "connection_init" => {
                if std::mem::replace(&mut self.init_received, true) {
                    return Err(Violation::new(4429, "Too many initialisation requests"));
                }
            }
            "subscribe" => {
                let id = id()?;
                if !self.acknowledged {
                    return Err(Violation::new(4401, "Unauthorized"));
                }
                if !self.running.insert(id.to_owned()) {
                    return Err(Violation::new(
                        4409,
                        format!("Subscriber for {id} already exists"),
                    ));
                }
            }
            "complete" => {
                self.running.remove(id()?);
            }
            "ping" | "pong" => {}
            _ => return Err(Violation::invalid("unknown `type`")),
        }
        Ok(())
    }

    /// Notes a message from the server on its way to the client.
    pub(super) fn server_message(&mut self, message: &str) {
        // `next` messages are most of the traffic and change nothing here: skip them unparsed
        // (async-graphql writes `type` first).
        if message.starts_with(r#"{"type":"next""#) {
            return;
        }
        let Ok(envelope) = serde_json::from_str::<Envelope>(message) else {
            return;
        };
        match (&*envelope.kind, envelope.id) {
            ("connection_ack", _) => self.acknowledged = true,
            ("complete" | "error", Some(id)) => {
                self.running.remove(&*id);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn client(guard: &mut ProtocolGuard, message: serde_json::Value) -> Result<(), u16> {
        guard
            .client_message(message.to_string().as_bytes())
            .map_err(|violation| violation.code)
    }

    fn subscribe(id: &str) -> serde_json::Value {
        json!({ "id": id, "type": "subscribe", "payload": { "query": "{ __typename }" } })
    }

    /// A guard past `connection_init` and `connection_ack`.
    fn acknowledged() -> ProtocolGuard {
        let mut guard = ProtocolGuard::default();
        client(
            &mut guard,
            json!({ "type": "connection_init", "payload": {} }),
        )
        .unwrap();
        guard.server_message(r#"{"type":"connection_ack"}"#);
        guard
    }

    #[tokio::test]
    async fn upstream_still_closes_with_codes_of_its_own() {
        use async_graphql::{
            EmptyMutation, EmptySubscription, Object, Schema,
            http::{WebSocket, WebSocketProtocols, WsMessage},
        };
        use futures_util::{StreamExt, stream};

        struct Query;

        #[Object]
        impl Query {
            async fn a(&self) -> i32 {
                1
            }
        }

        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let close = |messages: Vec<String>| {
            let schema = schema.clone();
            async move {
                let mut socket = WebSocket::new(
                    schema,
                    stream::iter(messages),
                    WebSocketProtocols::GraphQLWS,
                );
                match socket.next().await {
                    Some(WsMessage::Close(code, _)) => code,
                    other => panic!("not a close: {other:?}"),
                }
            }
        };
        assert_eq!(
            close(vec![subscribe("1").to_string()]).await,
            1011,
            "async-graphql now closes a subscribe before the acknowledgement otherwise"
        );
        assert_eq!(
            close(vec!["not json".to_owned()]).await,
            1002,
            "async-graphql now closes on an invalid message otherwise"
        );
    }

    #[test]
    fn subscribe_needs_the_acknowledgement() {
        let mut guard = ProtocolGuard::default();
        assert_eq!(client(&mut guard, subscribe("1")), Err(4401));
        let mut guard = ProtocolGuard::default();
        client(&mut guard, json!({ "type": "connection_init" })).unwrap();
        assert_eq!(client(&mut guard, subscribe("1")), Err(4401));
        guard.server_message(r#"{"type":"connection_ack"}"#);
        assert_eq!(client(&mut guard, subscribe("1")), Ok(()));
    }

    #[test]
    fn a_second_connection_init_is_refused() {
        let mut guard = acknowledged();
        assert_eq!(
            client(&mut guard, json!({ "type": "connection_init" })),
            Err(4429)
        );
    }

    #[test]
    fn an_id_is_free_again_once_either_side_completes_it() {
        let mut guard = acknowledged();
        client(&mut guard, subscribe("1")).unwrap();
        assert_eq!(client(&mut guard, subscribe("1")), Err(4409));
        // Results do not end an operation; the server's `complete` does.
        guard.server_message(r#"{"type":"next","id":"1","payload":{"data":{}}}"#);
        assert_eq!(client(&mut guard, subscribe("1")), Err(4409));
        guard.server_message(r#"{"type":"complete","id":"1"}"#);
        assert_eq!(client(&mut guard, subscribe("1")), Ok(()));
        // So does the server's `error`, and the client's `complete`.
        guard.server_message(r#"{"type":"error","id":"1","payload":[]}"#);
        assert_eq!(client(&mut guard, subscribe("1")), Ok(()));
        client(&mut guard, json!({ "id": "1", "type": "complete" })).unwrap();
        assert_eq!(client(&mut guard, subscribe("1")), Ok(()));
        // Other ids are unaffected.
        assert_eq!(client(&mut guard, subscribe("2")), Ok(()));
        assert_eq!(client(&mut guard, subscribe("2")), Err(4409));
    }

    #[test]
    fn invalid_messages_are_4400() {
        for message in [
            &b"not json"[..],
            b"[]",
            br#"["connection_init"]"#,
            br#"["subscribe","1",{"query":"{ a }"}]"#,
            br#"{"id":"1"}"#,
            br#"{"type":5}"#,
            br#"{"type":"shout"}"#,
            br#"{"type":"next","id":"1","payload":{}}"#,
            br#"{"type":"subscribe","payload":{"query":"{ a }"}}"#,
            br#"{"type":"subscribe","id":1,"payload":{"query":"{ a }"}}"#,
            br#"{"type":"complete"}"#,
        ] {
            let mut guard = acknowledged();
            let verdict = guard.client_message(message).map_err(|v| v.code);
            assert_eq!(verdict, Err(4400), "{}", String::from_utf8_lossy(message));
        }
        // Pings and pongs are allowed at any time.
        let mut guard = ProtocolGuard::default();
        assert_eq!(client(&mut guard, json!({ "type": "ping" })), Ok(()));
        assert_eq!(
            client(&mut guard, json!({ "type": "pong", "payload": {} })),
            Ok(())
        );
    }

    #[test]
    fn a_long_id_gives_a_reason_that_fits_a_close_frame() {
        let mut guard = acknowledged();
        let id = "é".repeat(200);
        client(&mut guard, subscribe(&id)).unwrap();
        let violation = guard
            .client_message(subscribe(&id).to_string().as_bytes())
            .unwrap_err();
        assert_eq!(violation.code, 4409);
        assert!(violation.reason.len() <= 123);
        assert!(violation.reason.starts_with("Subscriber for éé"));
    }
}
