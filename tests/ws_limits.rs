//! The limits of HTTP hold over the WebSocket (`/graphql/ws`) too: a query or mutation gets the
//! request deadline (`REQUEST_TIMEOUT`, its transaction rolled back, the socket kept open),
//! subscriptions do not, and one connection runs at most `max_ws_subscriptions` subscriptions
//! at once (one more is refused with `TOO_MANY_SUBSCRIPTIONS`, the socket kept open). Over a
//! real WebSocket to the router served in process, and to the binary for its settings.
mod common;

use std::{collections::BTreeSet, time::Duration};

use common::{TestApp, process::ServerProcess, ws::WsClient};
use pretty_assertions::assert_eq;
use sea_orm::{ConnectionTrait, TransactionTrait};
use segments_api::config::HttpConfig;
use serde_json::{Value, json};

const CHANGES: &str = "subscription { segmentMembershipChanged { change influencerId } }";

const RENAME: &str = "mutation($id: ID!, $handle: String!) { updateInfluencer(input: { id: $id, handle: $handle }) { influencer { handle } userErrors { code } } }";

const HANDLE: &str = "query($id: ID!) { influencer(id: $id) { handle } }";

const ASSIGN: &str = "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg } }) { userErrors { code } } }";

/// The payload of a `next` refusing an operation with `code` and `message`.
fn refused(code: &str, message: &str) -> Value {
    json!({ "data": null, "errors": [{ "message": message, "extensions": { "code": code } }] })
}

const TIMED_OUT: &str = "the request took longer than the server allows and was cancelled";

/// The application served in process with `config`, and a key for it.
async fn serve(config: HttpConfig) -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let addr = app.serve(&config).await;
    let key = app.api_key().await;
    (app, addr, key)
}

/// The next protocol message, which must come within 15 s (without its `extensions.cost`).
async fn next(ws: &mut WsClient) -> Value {
    common::without_cost(
        ws.next_message(Duration::from_secs(15))
            .await
            .expect("a message from the server"),
    )
}

/// The answer to an operation that ends at once: its one `next` payload, then its `complete`.
async fn answer(ws: &mut WsClient, id: &str) -> Value {
    let message = next(ws).await;
    assert_eq!(
        (&message["type"], &message["id"]),
        (&json!("next"), &json!(id)),
        "{message}"
    );
    let done = next(ws).await;
    assert_eq!(done, json!({ "id": id, "type": "complete" }));
    message["payload"].clone()
}

#[tokio::test]
async fn a_mutation_held_past_the_deadline_gets_request_timeout_and_the_socket_goes_on() {
    let (app, addr, key) = serve(HttpConfig {
        request_timeout: Duration::from_secs(1),
        ..HttpConfig::default()
    })
    .await;
    let alice = app.create_influencer("alice").await;
    let segment = app.create_segment("Later").await;
    let mut ws = WsClient::connect(&addr, &key).await;
    // A subscription running through it all: subscriptions are long-lived and have no deadline.
    ws.subscribe("live", CHANGES, json!({})).await;
    ws.sync().await;

    // Another transaction holds alice's row (on SQLite: the write lock), so the rename waits
    // until the deadline passes.
    let blocker = app.db.begin().await.unwrap();
    blocker
        .execute_unprepared("UPDATE influencer SET handle = handle WHERE handle = 'alice'")
        .await
        .unwrap();
    ws.subscribe("late", RENAME, json!({ "id": alice, "handle": "late" }))
        .await;
    assert_eq!(
        answer(&mut ws, "late").await,
        refused("REQUEST_TIMEOUT", TIMED_OUT)
    );
    blocker.rollback().await.unwrap();

    // The socket still answers, and the cancelled rename was rolled back.
    let data = ws.data("read", HANDLE, json!({ "id": alice })).await;
    assert_eq!(data, json!({ "influencer": { "handle": "alice" } }));
    // Writes on the socket go on, and the subscription hears them.
    let data = ws
        .data("rename", RENAME, json!({ "id": alice, "handle": "alicia" }))
        .await;
    assert_eq!(
        data,
        json!({ "updateInfluencer": { "influencer": { "handle": "alicia" }, "userErrors": [] } })
    );
    ws.subscribe("assign", ASSIGN, json!({ "ids": [alice], "seg": segment }))
        .await;
    // The event may come before or after the mutation's own answer.
    let mut messages = Vec::new();
    for _ in 0..3 {
        messages.push(next(&mut ws).await);
    }
    messages.sort_by_key(|m| (m["id"].to_string(), m["type"].to_string()));
    assert_eq!(
        messages,
        vec![
            json!({ "id": "assign", "type": "complete" }),
            json!({ "id": "assign", "type": "next", "payload": { "data": { "assignToSegment": { "userErrors": [] } } } }),
            json!({ "id": "live", "type": "next", "payload": { "data": { "segmentMembershipChanged": { "change": "ADDED", "influencerId": alice } } } }),
        ]
    );
    let data = app.data(HANDLE, json!({ "id": alice })).await;
    assert_eq!(data, json!({ "influencer": { "handle": "alicia" } }));
}

#[tokio::test]
async fn mutations_over_the_deadline_are_cancelled_and_write_nothing() {
    let (app, addr, key) = serve(HttpConfig {
        request_timeout: Duration::ZERO,
        ..HttpConfig::default()
    })
    .await;
    let alice = app.create_influencer("alice").await;
    let mutation = "mutation($ids: [ID!]!, $name: String!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: $name } } }) { segment { name } userErrors { code } } }";
    let mut ws = WsClient::connect(&addr, &key).await;

    // Many at once on one socket, as over HTTP: whether the deadline is noticed before or after
    // the commit is a race (the timer ticks by the millisecond, so a few may finish: those get
    // their segment). Every operation answered REQUEST_TIMEOUT ("cancelled") must have written
    // nothing, and every operation is answered.
    let names: Vec<String> = (0..60).map(|attempt| format!("Late {attempt}")).collect();
    for name in &names {
        ws.subscribe(name, mutation, json!({ "ids": [alice], "name": name }))
            .await;
    }
    let mut answered = BTreeSet::new();
    let mut cancelled = Vec::new();
    while answered.len() < names.len() {
        let message = next(&mut ws).await;
        let name = message["id"].as_str().expect("an operation id").to_owned();
        match message["type"].as_str() {
            Some("next") if message["payload"].get("errors").is_some() => {
                assert_eq!(
                    message["payload"],
                    refused("REQUEST_TIMEOUT", TIMED_OUT),
                    "{name}"
                );
                cancelled.push(name);
            }
            Some("next") => assert_eq!(
                message["payload"],
                json!({ "data": { "assignToSegment": { "segment": { "name": name }, "userErrors": [] } } })
            ),
            Some("complete") => assert!(answered.insert(name.clone()), "{name} completed twice"),
            _ => panic!("unexpected message {message}"),
        }
    }
    assert!(!cancelled.is_empty(), "some operations time out");
    let segments = app
        .data("{ segments(first: 100) { nodes { name } } }", json!({}))
        .await;
    let written: Vec<&str> = segments["segments"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .filter(|name| cancelled.iter().any(|c| c == name))
        .collect();
    assert_eq!(
        written,
        Vec::<&str>::new(),
        "operations answered REQUEST_TIMEOUT (\"cancelled\") committed their segment"
    );
}

#[tokio::test]
async fn a_connection_runs_at_most_its_cap_of_subscriptions() {
    let (app, addr, key) = serve(HttpConfig {
        max_ws_subscriptions: 3,
        ..HttpConfig::default()
    })
    .await;
    let too_many = refused(
        "TOO_MANY_SUBSCRIPTIONS",
        "too many subscriptions on one WebSocket connection (at most 3 at once); complete one first",
    );
    let mut ws = WsClient::connect(&addr, &key).await;
    for id in ["s1", "s2", "s3"] {
        ws.subscribe(id, CHANGES, json!({})).await;
    }
    ws.sync().await;
    // The fourth is refused; the socket stays open and still runs queries (which take no slot).
    ws.subscribe("s4", CHANGES, json!({})).await;
    assert_eq!(answer(&mut ws, "s4").await, too_many);
    let data = ws.data("q", "{ __typename }", json!({})).await;
    assert_eq!(data, json!({ "__typename": "Query" }));

    // The cap is per connection: another one has slots of its own.
    let mut other = WsClient::connect(&addr, &key).await;
    for id in ["o1", "o2", "o3"] {
        other.subscribe(id, CHANGES, json!({})).await;
    }
    other.sync().await;

    // Completing one frees its slot.
    ws.complete("s1").await;
    assert_eq!(
        next(&mut ws).await,
        json!({ "id": "s1", "type": "complete" })
    );
    ws.subscribe("s5", CHANGES, json!({})).await;
    ws.sync().await;
    ws.subscribe("s6", CHANGES, json!({})).await;
    assert_eq!(answer(&mut ws, "s6").await, too_many);

    // So does a subscription that the server ends (here: one that does not validate).
    ws.complete("s5").await;
    assert_eq!(
        next(&mut ws).await,
        json!({ "id": "s5", "type": "complete" })
    );
    for id in ["bad1", "bad2"] {
        ws.subscribe(id, "subscription { nothingHere }", json!({}))
            .await;
        let payload = answer(&mut ws, id).await;
        assert_eq!(
            payload["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{payload}"
        );
    }
    ws.subscribe("s7", CHANGES, json!({})).await;
    ws.sync().await;

    // The three running subscriptions hear a change; the refused and completed ones do not.
    let alice = app.create_influencer("alice").await;
    let segment = app.create_segment("Capped").await;
    common::graphql_at(
        &addr,
        &key,
        ASSIGN,
        json!({ "ids": [alice], "seg": segment }),
    )
    .await;
    let mut heard = BTreeSet::new();
    for _ in 0..3 {
        let message = next(&mut ws).await;
        assert_eq!(message["type"], "next", "{message}");
        heard.insert(message["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        heard,
        BTreeSet::from(["s2".to_owned(), "s3".to_owned(), "s7".to_owned()])
    );
    ws.assert_quiet(Duration::from_millis(300)).await;
    let mut heard = BTreeSet::new();
    for _ in 0..3 {
        let message = next(&mut other).await;
        assert_eq!(message["type"], "next", "{message}");
        heard.insert(message["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        heard,
        BTreeSet::from(["o1".to_owned(), "o2".to_owned(), "o3".to_owned()])
    );
}

#[tokio::test]
async fn the_binary_reads_the_subscription_cap_from_the_environment() {
    let (url, sqlite_dir) = common::fresh_database_url().await;
    let mut env = vec![("MAX_WS_SUBSCRIPTIONS", "1")];
    // On SQLite the process makes its own file.
    if sqlite_dir.is_none() {
        env.push(("DATABASE_URL", &url));
    }
    let server = ServerProcess::start(&env);
    let key = server.key.clone().expect("a first start makes a key");
    let mut ws = WsClient::connect(&server.addr, &key).await;
    ws.subscribe("s1", CHANGES, json!({})).await;
    ws.subscribe("s2", CHANGES, json!({})).await;
    assert_eq!(
        answer(&mut ws, "s2").await,
        refused(
            "TOO_MANY_SUBSCRIPTIONS",
            "too many subscriptions on one WebSocket connection (at most 1 at once); complete one first",
        )
    );
    ws.complete("s1").await;
    assert_eq!(
        next(&mut ws).await,
        json!({ "id": "s1", "type": "complete" })
    );
    ws.subscribe("s3", CHANGES, json!({})).await;
    ws.sync().await;
}
