//! WebSocket hardening at /graphql/ws: a client that disconnects or stops reading while the server
//! writes to it, messages over the body limit, and the close codes of the graphql-transport-ws
//! protocol (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md).
mod common;

use std::time::{Duration, Instant};

use common::{TestApp, process::ServerProcess, ws::WsClient};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

/// The application on an ephemeral local port, in this process.
async fn serve() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let addr = app
        .serve(&segments_api::config::HttpConfig::default())
        .await;
    let key = app.api_key().await;
    (app, addr, key)
}

/// A socket past `connection_ack`.
async fn initialised(addr: &str, key: &str) -> WsClient {
    let mut ws = WsClient::open(addr).await;
    ws.init(key).await;
    ws
}

const CHANGES: &str = "subscription { segmentMembershipChanged { change influencerId } }";

#[tokio::test]
async fn subscribe_before_connection_init_closes_with_4401() {
    let (_app, addr, key) = serve().await;
    let mut ws = WsClient::open(&addr).await;
    ws.subscribe("1", "{ __typename }", json!({})).await;
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4401));

    // A subscribe sent right behind connection_init, without waiting for the ack, is read once
    // the init is accepted (the server reads a connection's messages in order).
    let mut ws = WsClient::open(&addr).await;
    let init = json!({ "type": "connection_init", "payload": { "apiKey": key } });
    ws.send_text(init.to_string()).await.expect("sent");
    ws.subscribe("1", "{ __typename }", json!({})).await;
    let ack = ws.next_message(Duration::from_secs(5)).await;
    assert_eq!(ack, Some(json!({ "type": "connection_ack" })));
    let answer = ws.events("1", 1).await.remove(0);
    assert_eq!(
        common::without_cost(answer),
        json!({ "data": { "__typename": "Query" } })
    );
}

#[tokio::test]
async fn reusing_the_id_of_a_running_subscription_closes_with_4409() {
    let (_app, addr, key) = serve().await;
    let mut ws = initialised(&addr, &key).await;
    // The id of an operation that has completed may be used again.
    for _ in 0..2 {
        let data = ws.data("q", "{ __typename }", json!({})).await;
        assert_eq!(data, json!({ "__typename": "Query" }));
    }
    // So may the id of a subscription the client completed.
    ws.subscribe("1", CHANGES, json!({})).await;
    ws.sync().await;
    ws.complete("1").await;
    let message = ws.next_message(Duration::from_secs(5)).await.unwrap();
    assert_eq!(message, json!({ "id": "1", "type": "complete" }));
    ws.subscribe("1", CHANGES, json!({})).await;
    ws.sync().await;
    // Not the id of one still running.
    ws.subscribe("1", CHANGES, json!({})).await;
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4409));
}

#[tokio::test]
async fn an_unparseable_or_unknown_message_closes_with_4400() {
    let (_app, addr, key) = serve().await;
    let invalid = [
        "{ not json".to_owned(),
        json!({ "type": "shout" }).to_string(),
        json!(["connection_init"]).to_string(),
        // A server's message, from a client.
        json!({ "id": "1", "type": "next", "payload": {} }).to_string(),
        // A subscribe without its id, with an id that is not a string, with a malformed payload.
        json!({ "type": "subscribe", "payload": { "query": "{ __typename }" } }).to_string(),
        json!({ "id": 1, "type": "subscribe", "payload": { "query": "{ __typename }" } })
            .to_string(),
        json!({ "id": "1", "type": "subscribe", "payload": { "query": 5 } }).to_string(),
        json!({ "type": "complete" }).to_string(),
    ];
    for message in invalid {
        let mut ws = initialised(&addr, &key).await;
        ws.send_text(message.clone()).await.expect("sent");
        assert_eq!(
            ws.close_code(Duration::from_secs(5)).await,
            Some(4400),
            "{message}"
        );
    }
    // Before connection_init too.
    let mut ws = WsClient::open(&addr).await;
    ws.send_text("{ not json".to_owned()).await.expect("sent");
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4400));
}

#[tokio::test]
async fn a_second_connection_init_closes_with_4429() {
    let (_app, addr, key) = serve().await;
    let mut ws = initialised(&addr, &key).await;
    let init = json!({ "type": "connection_init", "payload": { "apiKey": key } });
    ws.send_text(init.to_string()).await.expect("sent");
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4429));
}

/// A `subscribe` message of exactly `bytes` bytes: a trivial query, padded with a variable it
/// does not use.
fn subscribe_of_size(id: &str, bytes: usize) -> String {
    let frame = |pad: &str| {
        json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": "{ __typename }", "variables": { "pad": pad } },
        })
        .to_string()
    };
    let padding = bytes - frame("").len();
    let message = frame(&"x".repeat(padding));
    assert_eq!(message.len(), bytes);
    message
}

#[tokio::test]
async fn a_message_over_the_body_limit_closes_the_socket_with_1009() {
    let (_app, addr, key) = serve().await;
    let limit = segments_api::config::HttpConfig::default().max_body_bytes;

    // The largest message allowed is served as usual.
    let mut ws = initialised(&addr, &key).await;
    ws.send_text(subscribe_of_size("fits", limit))
        .await
        .expect("sent");
    let answer = ws.events("fits", 1).await.remove(0);
    assert_eq!(
        common::without_cost(answer),
        json!({ "data": { "__typename": "Query" } })
    );
    let done = ws.next_message(Duration::from_secs(10)).await;
    assert_eq!(done, Some(json!({ "id": "fits", "type": "complete" })));

    // One byte more, or a 3 MB message, closes the connection with 1009 (Message Too Big, RFC
    // 6455) as soon as its frame header is read.
    for size in [limit + 1, 3_000_000] {
        let mut ws = initialised(&addr, &key).await;
        // The server may close while the frame is still being written; the close frame arrives
        // all the same.
        let _ = ws.send_text(subscribe_of_size("big", size)).await;
        assert_eq!(
            ws.close_code(Duration::from_secs(10)).await,
            Some(1009),
            "{size} bytes"
        );
    }
}

// ---- a client that stops reading, in a server process of its own (for its gauge) ----

/// The real binary with `env`, on its own database (the configured backend).
async fn server_process(env: &[(&str, &str)]) -> (ServerProcess, String) {
    let (url, sqlite_dir) = common::fresh_database_url().await;
    let mut env = env.to_vec();
    // On SQLite the process makes its own file.
    if sqlite_dir.is_none() {
        env.push(("DATABASE_URL", &url));
    }
    let server = ServerProcess::start(&env);
    let key = server.key.clone().expect("a first start makes a key");
    (server, key)
}

/// `graphql_ws_connections` as GET /metrics reports it.
async fn open_sockets(addr: &str) -> f64 {
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("graphql_ws_connections "))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

/// Waits up to `wait` for `graphql_ws_connections` to reach `n`; returns the last value seen.
async fn wait_for_open_sockets(addr: &str, n: f64, wait: Duration) -> f64 {
    let started = Instant::now();
    loop {
        let seen = open_sockets(addr).await;
        if seen == n || started.elapsed() > wait {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A subscriber whose every event is about 15 KB (the segment's 500-character description,
/// 29 times), that reads nothing once subscribed; and the influencer and segment ids whose
/// assignments and removals feed it.
async fn heavy_subscriber(addr: &str, key: &str) -> (WsClient, Vec<String>, String) {
    let graphql =
        |query: &'static str, variables: Value| common::graphql_at(addr, key, query, variables);
    let segment = graphql(
        "mutation($d: String!) { createSegment(input: { name: \"Heavy\", description: $d }) { segment { id } } }",
        json!({ "d": "d".repeat(500) }),
    )
    .await["createSegment"]["segment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut influencers = Vec::new();
    for i in 0..60 {
        let created = graphql(
            "mutation($h: String!) { createInfluencer(input: { handle: $h, platform: INSTAGRAM }) { influencer { id } } }",
            json!({ "h": format!("heavy{i}") }),
        )
        .await;
        influencers.push(
            created["createInfluencer"]["influencer"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let descriptions: String = (0..29).map(|i| format!("d{i}: description ")).collect();
    let query = format!(
        "subscription {{ segmentMembershipChanged {{ change segment {{ {descriptions} }} }} }}"
    );
    // A small receive buffer, so that the server's writes block after a few megabytes.
    let mut ws = WsClient::open_with_receive_buffer(addr, 4096).await;
    ws.init(key).await;
    ws.subscribe("heavy", &query, json!({})).await;
    ws.sync().await;
    (ws, influencers, segment)
}

/// Assigns the influencers to the segment and removes them again, `rounds` times: 2 × rounds ×
/// 60 events of about 15 KB each for the heavy subscriber (`rounds` = 10: about 18 MB, more than
/// the socket buffers on both sides hold).
async fn churn(addr: &str, key: &str, influencers: &[String], segment: &str, rounds: usize) {
    for _ in 0..rounds {
        for mutation in [
            "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg } }) { userErrors { code } } }",
            "mutation($ids: [ID!]!, $seg: ID!) { removeFromSegment(input: { influencerIds: $ids, segmentId: $seg }) { userErrors { code } } }",
        ] {
            common::graphql_at(
                addr,
                key,
                mutation,
                json!({ "ids": influencers, "seg": segment }),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn a_client_that_disconnects_while_the_server_is_blocked_writing_to_it_is_let_go() {
    // The default write timeout (30 s) is far longer than the wait below: the connection must
    // end because its client went away, not because a write timed out.
    let (server, key) = server_process(&[]).await;
    let addr = server.addr.clone();
    let (ws, influencers, segment) = heavy_subscriber(&addr, &key).await;
    assert_eq!(open_sockets(&addr).await, 1.0);

    churn(&addr, &key, &influencers, &segment, 10).await;
    // Let the server write until the socket's buffers are full, then go away without reading
    // (the unread data makes the client's side reset the connection).
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(ws);

    assert_eq!(
        wait_for_open_sockets(&addr, 0.0, Duration::from_secs(10)).await,
        0.0,
        "the connection (and its subscription) outlived its client"
    );
    // The server still serves subscribers.
    let mut again = WsClient::connect(&addr, &key).await;
    assert_eq!(
        again.data("q", "{ __typename }", json!({})).await,
        json!({ "__typename": "Query" })
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_after_the_write_timeout() {
    let (server, key) = server_process(&[("WS_WRITE_TIMEOUT_SECONDS", "1")]).await;
    let addr = server.addr.clone();
    let (ws, influencers, segment) = heavy_subscriber(&addr, &key).await;
    assert_eq!(open_sockets(&addr).await, 1.0);

    churn(&addr, &key, &influencers, &segment, 10).await;
    // The client is still connected, but reads nothing: after a write has waited 1 s the server
    // drops the connection.
    assert_eq!(
        wait_for_open_sockets(&addr, 0.0, Duration::from_secs(15)).await,
        0.0,
        "a client that reads nothing held its connection open"
    );
    drop(ws);
}
