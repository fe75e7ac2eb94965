mod common;

// Bad input at the HTTP boundary: malformed bodies and requests, wrong content types, oversized
// queries, hostile fragments, wrong operation names, variables and ids. Each gets a 4xx or a
// GraphQL error, never a 5xx, and the server answers a good request afterwards.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use common::TestApp;
use pretty_assertions::assert_eq;
use reqwest::{StatusCode, header};
use segments_api::{
    graphql::schema::ids::{Kind, encode},
    http::router,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const GOOD: &str = "{ viewer { workspace { name } } }";

struct Server {
    app: TestApp,
    addr: String,
    key: String,
    client: reqwest::Client,
}

impl Server {
    async fn start() -> Self {
        let app = TestApp::spawn().await;
        let addr = app.serve(&Default::default()).await;
        let key = app.api_key().await;
        let client = TestApp::client_with_key(&key);
        Self {
            app,
            addr,
            key,
            client,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    /// POSTs raw bytes with this Content-Type (or none); returns status and body text.
    async fn post_raw(&self, content_type: Option<&str>, body: Vec<u8>) -> (StatusCode, String) {
        let mut request = self.client.post(self.url()).body(body);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let response = request.send().await.expect("POST /graphql");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    async fn post_json(&self, body: &Value) -> (StatusCode, Value) {
        let (status, text) = self
            .post_raw(Some("application/json"), serde_json::to_vec(body).unwrap())
            .await;
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{status}: a JSON body, got {text:?}"));
        (status, common::without_cost(body))
    }

    async fn graphql(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        self.post_json(&json!({ "query": query, "variables": variables }))
            .await
    }

    /// The server still answers a good request correctly.
    async fn assert_still_serves(&self) {
        let (status, body) = self.graphql(GOOD, json!({})).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::OK,
                json!({ "data": { "viewer": { "workspace": { "name": "Default" } } } })
            ),
            "the server answers a good request afterwards"
        );
    }

    /// Writes raw bytes on a fresh connection, closes the writing half, and returns what the
    /// server answered (the status line's code, if any, and the whole text).
    async fn raw_exchange(&self, request: &[u8]) -> (Option<u16>, String) {
        let mut stream = tokio::net::TcpStream::connect(&self.addr)
            .await
            .expect("connect");
        // The server may close early on bad input; a failed write is an answer too.
        let _ = stream.write_all(request).await;
        let _ = stream.shutdown().await;
        let mut answer = Vec::new();
        // A reset connection is an answer too; only silence fails.
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
            .await
            .expect("the server answers or closes the connection within 10 s");
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok());
        (status, text)
    }
}

fn assert_client_error(status: StatusCode, what: &str, body: &str) {
    assert!(
        status.is_client_error(),
        "{what}: expected a 4xx, got {status}: {}",
        &body[..body.len().min(500)]
    );
}

/// Whether a body is a GraphQL error response: no data (or null) and at least one error with a
/// message.
fn is_graphql_error(body: &Value) -> bool {
    body.get("data").is_none_or(Value::is_null)
        && body["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty() && e.iter().all(|e| e["message"].is_string()))
}

#[tokio::test]
async fn malformed_json_gets_a_400() {
    let server = Server::start().await;
    for body in [
        &br#"{"query": "{ viewer "#[..],
        br#"{query: "{ viewer { workspace { name } } }"}"#,
        br#"{"query": "{ viewer { workspace { name } } }",}"#,
        b"not json at all",
        b"\xff\xfe\x00garbage",
        br#"{"query": "\ud800"}"#,
        br#""{ viewer { workspace { name } } }""#,
        b"null",
        b"42",
        br#"{"query": null}"#,
        br#"{"query": 42}"#,
        br#"{"query": ["{ viewer { workspace { name } } }"]}"#,
        br#"{"variables": {}}"#,
        br#"{"query": "{ viewer { workspace { name } } }", "operationName": 7}"#,
        br#"{"query": "{ viewer { workspace { name } } }", "variables": [1, 2]}"#,
    ] {
        let what = String::from_utf8_lossy(body).into_owned();
        let (status, text) = server
            .post_raw(Some("application/json"), body.to_vec())
            .await;
        assert_client_error(status, &what, &text);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {text}");
    }
    assert_eq!(server.app.count_rows("segment").await, 0);
    server.assert_still_serves().await;
}

#[tokio::test]
async fn deeply_nested_json_variables_get_a_400() {
    let server = Server::start().await;
    let nested = format!(
        r#"{{"query": "query($s: String) {{ segments(search: $s) {{ totalCount }} }}", "variables": {{"s": {}1{}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (status, text) = server
        .post_raw(Some("application/json"), nested.into_bytes())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    server.assert_still_serves().await;
}

#[tokio::test]
async fn a_malformed_body_gets_a_graphql_shaped_error_with_a_code() {
    // Every other refusal before execution is `{"errors":[{"message", "extensions":{"code"}}]}`
    // (see `request_error`); a body that is not a GraphQL request should be too, not a Rust
    // debug string.
    let server = Server::start().await;
    let (status, text) = server
        .post_raw(
            Some("application/json"),
            br#"{"query": "{ viewer "#.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body, got {text:?}"));
    assert!(is_graphql_error(&body), "{body:#}");
    assert!(
        body["errors"][0]["extensions"]["code"].is_string(),
        "{body:#}"
    );
}

#[tokio::test]
async fn an_empty_body_gets_a_400_or_without_a_content_type_a_415() {
    let server = Server::start().await;
    for (content_type, expected) in [
        (Some("application/json"), StatusCode::BAD_REQUEST),
        (None, StatusCode::UNSUPPORTED_MEDIA_TYPE),
    ] {
        let (status, text) = server.post_raw(content_type, Vec::new()).await;
        assert_eq!(status, expected, "{content_type:?}: {text}");
    }
    server.assert_still_serves().await;
}

#[tokio::test]
async fn a_text_plain_body_is_refused() {
    let server = Server::start().await;
    // A GraphQL document sent as text: not a JSON request.
    let (status, text) = server
        .post_raw(Some("text/plain"), GOOD.as_bytes().to_vec())
        .await;
    assert_client_error(status, "text/plain query text", &text);

    // A JSON request mislabelled text/plain: the GraphQL-over-HTTP spec has the server refuse
    // media types it does not support (415), rather than guess. (The bearer key already stops
    // cross-site form posts, so this is about strictness, not CSRF.)
    let mutation = json!({ "query": r#"mutation { createSegment(input: { name: "Plain" }) { segment { id } } }"# });
    let (status, text) = server
        .post_raw(Some("text/plain"), serde_json::to_vec(&mutation).unwrap())
        .await;
    let written = server.app.count_rows("segment").await;
    assert_client_error(status, "JSON labelled text/plain", &text);
    assert_eq!(written, 0, "{text}");
    server.assert_still_serves().await;
}

#[tokio::test]
async fn a_10_mb_query_gets_413() {
    let server = Server::start().await;
    // 10 MB of comment in front of a mutation: few tokens, so only the body limit can stop it.
    let query = format!(
        "#{}\nmutation {{ createSegment(input: {{ name: \"Huge\" }}) {{ segment {{ id }} }} }}",
        "x".repeat(10 * 1024 * 1024)
    );
    let (status, text) = server
        .post_raw(
            Some("application/json"),
            serde_json::to_vec(&json!({ "query": query })).unwrap(),
        )
        .await;
    let written = server.app.count_rows("segment").await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        &text[..text.len().min(300)]
    );
    assert_eq!(written, 0);

    // 10 MB of tokens.
    let query = format!("{{ {}}}", "__typename ".repeat(1024 * 1024));
    let (status, text) = server
        .post_raw(
            Some("application/json"),
            serde_json::to_vec(&json!({ "query": query })).unwrap(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        &text[..text.len().min(300)]
    );
    server.assert_still_serves().await;
}

#[tokio::test]
async fn cyclic_fragments_are_refused() {
    let server = Server::start().await;
    server.app.create_segment("Fitness").await;
    for query in [
        "{ segments { nodes { ...A } } } fragment A on Segment { ...B } fragment B on Segment { ...A }",
        "{ segments { nodes { ...A } } } fragment A on Segment { name ...A }",
        "{ segments { nodes { ...A } } } fragment A on Segment { influencers { nodes { segments { ...A } } } }",
    ] {
        let (status, body) = server.graphql(query, json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body:#}");
        assert!(is_graphql_error(&body), "{query}: {body:#}");
    }
    server.assert_still_serves().await;
}

#[tokio::test]
async fn deeply_nested_fragments_and_selections_are_refused() {
    let server = Server::start().await;
    // A chain of 100 fragments, each spreading the next.
    let mut query = String::from("{ segments { nodes { ...F0 } } }");
    for i in 0..100 {
        query.push_str(&format!(" fragment F{i} on Segment {{ ...F{} }}", i + 1));
    }
    query.push_str(" fragment F100 on Segment { name }");
    // Selections and list values nested thousands deep (each within the token limit).
    let selections = format!("{{ {}id{} }}", "a { ".repeat(3000), " }".repeat(3000));
    let values = format!(
        "{{ segments(search: {}\"x\"{}) {{ totalCount }} }}",
        "[".repeat(4900),
        "]".repeat(4900)
    );
    let objects = format!(
        "{{ segments(search: {}\"x\"{}) {{ totalCount }} }}",
        "{a: ".repeat(2400),
        "}".repeat(2400)
    );
    for query in [query, selections, values, objects] {
        let (status, body) = server.graphql(&query, json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}", &query[..80]);
        assert!(is_graphql_error(&body), "{}", &query[..80]);
    }
    server.assert_still_serves().await;
}

/// `fragment Fi on Segment { ...Fi+1 ...Fi+1 }`: `n` fragments of a few tokens each that expand
/// to 2^n spreads.
fn fragment_bomb(n: usize) -> String {
    let mut query = String::from("{ segments(first: 1) { nodes { ...F0 } } }");
    for i in 0..n {
        query.push_str(&format!(
            " fragment F{i} on Segment {{ ...F{} ...F{} }}",
            i + 1,
            i + 1
        ));
    }
    query.push_str(&format!(" fragment F{n} on Segment {{ id }}"));
    query
}

#[test]
fn a_fragment_bomb_is_refused_quickly() {
    // 40 fragments, about 1 KB and 400 tokens: well within every size limit, yet 2^40 spreads
    // when expanded. It must be refused without expanding it (the request deadline cannot
    // interrupt work that never yields).
    //
    // The server runs on its own thread and runtime, so that this test can give up on it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = TestApp::spawn().await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tx.send((addr, app.api_key().await)).unwrap();
            axum::serve(listener, router(app.db.clone())).await.unwrap();
        });
    });
    let (addr, key) = rx.recv().expect("the server started");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let client = TestApp::client_with_key(&key);
        let url = format!("http://{addr}/graphql");
        let small = fragment_bomb(8);
        let response = client
            .post(&url)
            .json(&json!({ "query": small }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "a small fan-out is fine");

        let bomb = fragment_bomb(40);
        assert!(bomb.len() < 2000, "{}", bomb.len());
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            client.post(&url).json(&json!({ "query": bomb })).send(),
        )
        .await
        .expect("an answer to a 2 KB query within 10 s")
        .unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
        assert!(is_graphql_error(&body), "{body:#}");

        let response = client
            .post(&url)
            .json(&json!({ "query": GOOD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    });
}

#[tokio::test]
async fn an_unknown_operation_name_is_refused() {
    let server = Server::start().await;
    let two = "query A { viewer { workspace { name } } } mutation B { createSegment(input: { name: \"B\" }) { segment { id } } }";
    for (body, message) in [
        (
            json!({ "query": "query A { viewer { workspace { name } } }", "operationName": "B" }),
            r#"Unknown operation named "B""#,
        ),
        (
            json!({ "query": two, "operationName": "C" }),
            r#"Unknown operation named "C""#,
        ),
        (
            json!({ "query": two }),
            "Operation name required in request.",
        ),
        (
            json!({ "query": two, "operationName": "" }),
            r#"Unknown operation named """#,
        ),
    ] {
        let (status, response) = server.post_json(&body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {response}");
        assert_eq!(response["data"], Value::Null, "{body}: {response}");
        assert_eq!(
            response["errors"][0]["message"],
            json!(message),
            "{body}: {response}"
        );
        assert_eq!(
            response["errors"][0]["extensions"]["code"],
            json!("OPERATION_RESOLUTION_FAILURE"),
            "{body}: {response}"
        );
    }
    assert_eq!(server.app.count_rows("segment").await, 0);
    server.assert_still_serves().await;
}

#[tokio::test]
async fn a_subscription_sent_over_http_is_refused_with_where_to_send_it() {
    let server = Server::start().await;
    let (status, response) = server
        .graphql(
            "subscription { segmentMembershipChanged { change } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{response}");
    assert_eq!(response["data"], Value::Null, "{response}");
    assert_eq!(response["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("/graphql/ws"),
        "{response}"
    );
    server.assert_still_serves().await;
}

#[tokio::test]
async fn variables_of_the_wrong_type_are_refused() {
    let server = Server::start().await;
    let page = "query($first: Int) { segments(first: $first) { totalCount } }";
    let create =
        "mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id } } }";
    let platform = "mutation($p: Platform!) { createInfluencer(input: { handle: \"x\", platform: $p }) { influencer { id } } }";
    for (query, variables) in [
        (page, json!({ "first": "ten" })),
        (page, json!({ "first": 1.5 })),
        (page, json!({ "first": 10_000_000_000_i64 })),
        (page, json!({ "first": [1] })),
        (page, json!({ "first": { "n": 1 } })),
        (page, json!({ "first": true })),
        (create, json!({})),
        (create, json!({ "input": null })),
        (create, json!({ "input": "Gamers" })),
        (create, json!({ "input": { "name": 5 } })),
        (create, json!({ "input": { "nam": "Gamers" } })),
        (create, json!({ "input": { "name": "Gamers", "extra": 1 } })),
        (platform, json!({ "p": "MYSPACE" })),
        (platform, json!({ "p": "instagram" })),
        (platform, json!({ "p": 0 })),
    ] {
        let (status, body) = server.graphql(query, variables.clone()).await;
        assert!(
            status == StatusCode::OK || status.is_client_error(),
            "{variables}: {status}"
        );
        assert!(is_graphql_error(&body), "{variables}: {body:#}");
    }
    assert_eq!(server.app.count_rows("segment").await, 0);
    assert_eq!(server.app.count_rows("influencer").await, 0);
    server.assert_still_serves().await;
}

/// Ids of every wrong shape, for a Segment argument.
fn wrong_ids(influencer: &str) -> Vec<Value> {
    let b64 = |s: &str| json!(URL_SAFE_NO_PAD.encode(s));
    vec![
        json!(""),
        json!(" "),
        json!(42),
        json!(-1),
        b64("garbage"),
        json!("!!!not base64***"),
        json!("Segment:1"),
        b64("Segment:"),
        b64("Segment:0"),
        b64("Segment:-1"),
        b64("Segment:01"),
        b64("Segment:1.0"),
        b64("Segment: 1"),
        b64("Segment:99999999999999999999999"),
        b64("Segment:9223372036854775807"),
        b64("segment:1"),
        b64("Bogus:1"),
        json!(encode(Kind::Campaign, 1).0),
        json!(encode(Kind::Workspace, 1).0),
        json!(influencer),
        json!("💥"),
        json!("\u{0}"),
        json!("A".repeat(100_000)),
    ]
}

#[tokio::test]
async fn ids_of_every_wrong_shape_find_nothing_in_queries() {
    let server = Server::start().await;
    server.app.create_segment("Fitness").await;
    let influencer = server.app.create_influencer("alice").await;
    for id in wrong_ids(&influencer) {
        let what = id.to_string();
        let what = &what[..what.len().min(60)];
        let (status, body) = server
            .graphql(
                "query($id: ID!) { segment(id: $id) { name } node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        // An influencer, or the viewer's own workspace, is a node, but not a segment.
        let workspace = encode(Kind::Workspace, server.app.workspace.0).0;
        let expected_node = if id.as_str() == Some(&influencer) || id.as_str() == Some(&workspace) {
            json!({ "id": id })
        } else {
            Value::Null
        };
        assert_eq!(
            body,
            json!({ "data": { "segment": null, "node": expected_node } }),
            "{what}"
        );
    }
    let (status, body) = server
        .graphql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": wrong_ids("x")[..18] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "data": { "nodes": vec![Value::Null; 18] } }));
    server.assert_still_serves().await;
}

#[tokio::test]
async fn ids_of_every_wrong_shape_are_refused_by_mutations_which_write_nothing() {
    let server = Server::start().await;
    let fitness = server.app.create_segment("Fitness").await;
    let influencer = server.app.create_influencer("alice").await;
    let before = (
        server.app.count_rows("segment").await,
        server.app.count_rows("segment_membership").await,
    );
    for id in wrong_ids(&influencer) {
        let what = id.to_string();
        let what = &what[..what.len().min(60)];
        let (status, body) = server
            .graphql(
                "mutation($id: ID!) { deleteSegment(input: { id: $id }) { deletedSegmentId userErrors { field code } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        let payload = &body["data"]["deleteSegment"];
        assert_eq!(payload["deletedSegmentId"], Value::Null, "{what}: {body}");
        let code = payload["userErrors"][0]["code"].as_str();
        assert!(
            matches!(code, Some("INVALID" | "NOT_FOUND")),
            "{what}: {body}"
        );
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!(["input", "id"]),
            "{what}"
        );

        // The same id among influencers to assign: refused by its position, nothing assigned.
        if id.as_str() == Some(&influencer) {
            continue;
        }
        let (status, body) = server
            .graphql(
                "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg } }) { segment { id } userErrors { field code } } }",
                json!({ "ids": [influencer, id], "seg": fitness }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        let payload = &body["data"]["assignToSegment"];
        assert_eq!(payload["segment"], Value::Null, "{what}: {body}");
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!(["input", "influencerIds", "1"]),
            "{what}: {body}"
        );
    }
    assert_eq!(
        (
            server.app.count_rows("segment").await,
            server.app.count_rows("segment_membership").await,
        ),
        before
    );
    server.assert_still_serves().await;
}

#[tokio::test]
async fn ids_of_the_wrong_json_type_are_refused() {
    let server = Server::start().await;
    for id in [Value::Null, json!(true), json!(1.5), json!([]), json!({})] {
        let (status, body) = server
            .graphql(
                "query($id: ID!) { segment(id: $id) { name } }",
                json!({ "id": id }),
            )
            .await;
        assert!(
            status == StatusCode::OK || status.is_client_error(),
            "{id}: {status}"
        );
        assert!(is_graphql_error(&body), "{id}: {body:#}");
    }
    server.assert_still_serves().await;
}

#[tokio::test]
async fn malformed_http_requests_get_a_4xx_or_a_closed_connection() {
    let server = Server::start().await;
    let auth = format!("Authorization: Bearer {}\r\n", server.key);
    let body = br#"{"query":"{ viewer { workspace { name } } }"}"#;
    let huge_header = format!("X-Big: {}\r\n", "a".repeat(200_000));
    let requests: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"GARBAGE\r\n\r\n".to_vec()),
        ("binary", vec![0, 159, 146, 150, 255, 0, 13, 10, 13, 10]),
        (
            "bad version",
            b"POST /graphql HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(),
        ),
        (
            "header without colon",
            format!("POST /graphql HTTP/1.1\r\nHost: x\r\n{auth}Broken header\r\n\r\n").into_bytes(),
        ),
        (
            "non-numeric content-length",
            format!("POST /graphql HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: abc\r\n\r\n")
                .into_bytes(),
        ),
        (
            "two content-lengths",
            format!(
                "POST /graphql HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes()
            .into_iter()
            .chain(body.iter().copied())
            .collect(),
        ),
        (
            "content-length and chunked together",
            format!(
                "POST /graphql HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            )
            .into_bytes(),
        ),
        (
            "bad chunk size",
            format!(
                "POST /graphql HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
            )
            .into_bytes(),
        ),
        (
            "body shorter than content-length",
            format!(
                "POST /graphql HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            )
            .into_bytes()
            .into_iter()
            .chain(body.iter().copied())
            .collect(),
        ),
        (
            "200 KB header",
            format!("POST /graphql HTTP/1.1\r\nHost: x\r\n{auth}{huge_header}\r\n").into_bytes(),
        ),
        (
            "NUL in a header",
            format!("POST /graphql HTTP/1.1\r\nHost: x\r\n{auth}X-A: a\0b\r\n\r\n").into_bytes(),
        ),
        (
            "non-UTF-8 authorization",
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
        ),
    ];
    for (what, request) in requests {
        let (status, text) = server.raw_exchange(&request).await;
        if let Some(status) = status {
            assert!(
                (400..500).contains(&status),
                "{what}: {}",
                &text[..text.len().min(300)]
            );
        }
    }
    server.assert_still_serves().await;
}
