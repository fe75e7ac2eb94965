mod common;

// Authentication through the real HTTP stack: POST /graphql needs a live API key of a workspace,
// refusals are 401 with a Bearer challenge and reach no resolver, a key sees its own workspace
// only, and the GraphiQL page carries an in-memory key only when configured to and only for a
// loopback peer.

use std::{
    future::IntoFuture,
    net::SocketAddr,
    time::{Duration, Instant},
};

use common::TestApp;
use pretty_assertions::assert_eq;
use reqwest::{StatusCode, header};
use segments_api::{
    config::HttpConfig,
    graphql::schema::ids::{Kind, encode},
    http::router_with,
    service::{
        WorkspaceId,
        auth::{create_key, create_workspace, revoke_key},
    },
};
use serde_json::{Value, json};

const CREATE_SEGMENT: &str = r#"mutation { createSegment(input: { name: "Intruders" }) { segment { name } userErrors { code } } }"#;
const NO_KEY: &str = "send an API key: Authorization: Bearer <key>";
const BAD_KEY: &str = "the API key is unknown or revoked";

/// The application served on an ephemeral loopback port, as `serve` does it.
struct Server {
    app: TestApp,
    base: String,
    plain: reqwest::Client,
}

impl Server {
    /// Serves the router made with the configuration `config` gives for the app.
    async fn start_with(
        config: impl FnOnce(&TestApp) -> HttpConfig,
        with_peer_address: bool,
    ) -> Self {
        let app = TestApp::spawn().await;
        let config = config(&app);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = router_with(app.db.clone(), &config);
        if with_peer_address {
            tokio::spawn(
                axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .into_future(),
            );
        } else {
            tokio::spawn(axum::serve(listener, router).into_future());
        }
        Self {
            app,
            base,
            plain: reqwest::Client::new(),
        }
    }

    async fn start() -> Self {
        Self::start_with(|_| HttpConfig::default(), true).await
    }

    /// A server that trusts a live key for `kept` before looking it up again.
    async fn keeping_keys_for(kept: Duration) -> Self {
        Self::start_with(
            |_| HttpConfig {
                api_key_cache: kept,
                ..Default::default()
            },
            true,
        )
        .await
    }

    /// Sends a query with `key` until the server refuses it; how long that took.
    async fn time_until_refused(&self, key: &str, limit: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let (status, _) = self.graphql(key, "{ viewer { id } }", json!({})).await;
            if status == StatusCode::UNAUTHORIZED {
                return started.elapsed();
            }
            assert_eq!(status, StatusCode::OK);
            assert!(
                started.elapsed() < limit,
                "the key still works after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a query with exactly this Authorization header (or none).
    async fn post(
        &self,
        authorization: Option<&str>,
        query: &str,
        variables: Value,
    ) -> reqwest::Response {
        let mut request = self
            .plain
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        request.send().await.expect("POST /graphql")
    }

    /// POSTs a query with `key` as bearer token; returns status and JSON body.
    async fn graphql(&self, key: &str, query: &str, variables: Value) -> (StatusCode, Value) {
        let response = self
            .post(Some(&format!("Bearer {key}")), query, variables)
            .await;
        let status = response.status();
        (
            status,
            common::without_cost(response.json().await.expect("JSON body")),
        )
    }

    async fn graphiql_page(&self) -> String {
        let response = self
            .plain
            .get(self.url("/graphql"))
            .send()
            .await
            .expect("GET /graphql");
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.expect("page")
    }
}

/// Asserts a 401 with a Bearer challenge and the GraphQL-shaped UNAUTHENTICATED body.
async fn assert_unauthenticated(response: reqwest::Response, message: &str, what: &str) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(
        response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok()),
        Some("Bearer"),
        "{what}"
    );
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(
        body,
        json!({ "errors": [{ "message": message, "extensions": { "code": "UNAUTHENTICATED" } }] }),
        "{what}"
    );
}

/// Sends the createSegment mutation with each header; each must be refused and write nothing.
async fn assert_each_refused_and_writes_nothing(server: &Server, cases: &[(Option<String>, &str)]) {
    for (authorization, message) in cases {
        let what = format!("Authorization: {authorization:?}");
        let response = server
            .post(authorization.as_deref(), CREATE_SEGMENT, json!({}))
            .await;
        assert_unauthenticated(response, message, &what).await;
        assert_eq!(
            server.app.count_rows("segment").await,
            0,
            "{what} wrote a segment"
        );
    }
}

#[tokio::test]
async fn a_request_without_an_authorization_header_is_refused_and_writes_nothing() {
    let server = Server::start().await;
    assert_each_refused_and_writes_nothing(&server, &[(None, NO_KEY)]).await;
}

#[tokio::test]
async fn a_non_bearer_scheme_is_refused_and_writes_nothing() {
    let server = Server::start().await;
    let key = server.app.api_key().await;
    assert_each_refused_and_writes_nothing(
        &server,
        &[
            (Some("Basic dXNlcjpwYXNzd29yZA==".to_owned()), NO_KEY),
            // A live key, but not as a bearer token.
            (Some(format!("Token {key}")), NO_KEY),
            (Some(key.clone()), NO_KEY),
            (Some("Bearer".to_owned()), NO_KEY),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_malformed_key_is_refused_and_writes_nothing() {
    let server = Server::start().await;
    let key = server.app.api_key().await;
    let mut bad_char = key.clone();
    bad_char.replace_range(10..11, "!");
    assert_each_refused_and_writes_nothing(
        &server,
        &[
            (Some("Bearer not-a-key".to_owned()), BAD_KEY),
            (Some("Bearer sk_short".to_owned()), BAD_KEY),
            // The shown prefix of a live key is not the key.
            (Some(format!("Bearer {}", &key[..11])), BAD_KEY),
            (Some(format!("Bearer {key}x")), BAD_KEY),
            (Some(format!("Bearer pk_{}", &key[3..])), BAD_KEY),
            (Some(format!("Bearer {bad_char}")), BAD_KEY),
            (Some(format!("Bearer {key} {key}")), BAD_KEY),
        ],
    )
    .await;
}

#[tokio::test]
async fn an_unknown_well_formed_key_is_refused_and_writes_nothing() {
    let server = Server::start().await;
    let unknown = format!("sk_{}", "A".repeat(43));
    assert_each_refused_and_writes_nothing(
        &server,
        &[(Some(format!("Bearer {unknown}")), BAD_KEY)],
    )
    .await;
}

#[tokio::test]
async fn a_revoked_key_is_refused_from_then_on_and_writes_nothing() {
    let server = Server::keeping_keys_for(Duration::from_millis(200)).await;
    let key = server.app.api_key().await;
    let (status, body) = server
        .graphql(&key, "{ viewer { workspace { name } } }", json!({}))
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({ "data": { "viewer": { "workspace": { "name": "Default" } } } })
        ),
        "the key works before it is revoked"
    );

    revoke_key(&server.app.db, &key)
        .await
        .expect("revoke the key");

    server
        .time_until_refused(&key, Duration::from_secs(3))
        .await;
    assert_each_refused_and_writes_nothing(&server, &[(Some(format!("Bearer {key}")), BAD_KEY)])
        .await;
}

/// Live keys are kept in memory, so a request does not look its key up again. On PostgreSQL a
/// revocation reaches every instance at once (NOTIFY), however long keys are kept; on SQLite the
/// server cannot be told, and a kept key works until its time is up.
#[tokio::test]
async fn a_kept_key_goes_at_once_on_postgresql_and_when_its_time_is_up_on_sqlite() {
    let kept = Duration::from_secs(2);
    let server = Server::keeping_keys_for(kept).await;
    let key = server.app.api_key().await;
    let (status, _) = server.graphql(&key, "{ viewer { id } }", json!({})).await;
    assert_eq!(status, StatusCode::OK, "the key works and is now kept");

    revoke_key(&server.app.db, &key)
        .await
        .expect("revoke the key");
    let took = server.time_until_refused(&key, kept * 3).await;
    if common::backend() == "postgres" {
        assert!(took < kept / 2, "refused after {took:?}");
    } else {
        assert!(
            took >= kept * 3 / 4,
            "refused after {took:?}: the key was not kept"
        );
    }
}

#[tokio::test]
async fn a_key_revoked_by_its_prefix_is_refused() {
    let server = Server::keeping_keys_for(Duration::from_millis(200)).await;
    let key = server.app.api_key().await;
    revoke_key(&server.app.db, &key[..11])
        .await
        .expect("revoke the key by its shown prefix");
    server
        .time_until_refused(&key, Duration::from_secs(3))
        .await;
    assert_each_refused_and_writes_nothing(&server, &[(Some(format!("Bearer {key}")), BAD_KEY)])
        .await;
}

#[tokio::test]
async fn the_same_mutation_with_a_live_key_does_write() {
    // The control for the refusals above: the mutation they send does write when allowed to.
    let server = Server::start().await;
    let key = server.app.api_key().await;
    let (status, body) = server.graphql(&key, CREATE_SEGMENT, json!({})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({ "data": { "createSegment": { "segment": { "name": "Intruders" }, "userErrors": [] } } })
        )
    );
    assert_eq!(server.app.count_rows("segment").await, 1);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let server = Server::start().await;
    let key = server.app.api_key().await;
    let response = server
        .post(
            Some(&format!("bearer {key}")),
            "{ viewer { workspace { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        common::without_cost(response.json::<Value>().await.unwrap()),
        json!({ "data": { "viewer": { "workspace": { "name": "Default" } } } })
    );
}

#[tokio::test]
async fn a_live_key_names_its_workspace_as_the_viewer() {
    let server = Server::start().await;
    let key = server.app.api_key().await;
    let (status, body) = server
        .graphql(&key, "{ viewer { workspace { id name } } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "data": { "viewer": { "workspace": {
            "id": encode(Kind::Workspace, server.app.workspace.0).0,
            "name": "Default",
        } } } })
    );
}

#[tokio::test]
async fn a_key_of_another_workspace_sees_only_that_workspace() {
    let server = Server::start().await;
    let db = &server.app.db;
    let default_key = server.app.api_key().await;
    let other = create_workspace(db, "Other Brand")
        .await
        .expect("create a workspace");
    let other_ws = WorkspaceId(other.id);
    let other_key = create_key(db, other_ws, "other")
        .await
        .expect("create a key")
        .secret;

    // The default workspace: one segment with one member.
    let mine = server.app.create_segment("Mine").await;
    let alice = server.app.create_influencer("alice").await;
    server.app.assign(std::slice::from_ref(&alice), &mine).await;

    // The other workspace makes its own segment, through its key.
    let (status, created) = server
        .graphql(
            &other_key,
            r#"mutation { createSegment(input: { name: "Theirs" }) { segment { id } userErrors { code } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let theirs = created["data"]["createSegment"]["segment"]["id"]
        .as_str()
        .expect("segment id")
        .to_owned();

    let overview = "{ viewer { workspace { id name } } segments { totalCount nodes { name } } \
                    influencers { totalCount } unassigned { totalCount } }";
    let (status, body) = server.graphql(&other_key, overview, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "data": {
            "viewer": { "workspace": { "id": encode(Kind::Workspace, other.id).0, "name": "Other Brand" } },
            "segments": { "totalCount": 1, "nodes": [{ "name": "Theirs" }] },
            "influencers": { "totalCount": 0 },
            "unassigned": { "totalCount": 0 },
        } })
    );
    let (_, body) = server.graphql(&default_key, overview, json!({})).await;
    assert_eq!(
        body,
        json!({ "data": {
            "viewer": { "workspace": { "id": encode(Kind::Workspace, server.app.workspace.0).0, "name": "Default" } },
            "segments": { "totalCount": 1, "nodes": [{ "name": "Mine" }] },
            "influencers": { "totalCount": 1 },
            "unassigned": { "totalCount": 0 },
        } })
    );

    // Lookups by id of the default workspace's objects find nothing.
    let (_, body) = server
        .graphql(
            &other_key,
            "query($s: ID!, $i: ID!) { segment(id: $s) { name } influencer(id: $i) { handle } \
             node(id: $s) { id } nodes(ids: [$s, $i]) { id } }",
            json!({ "s": mine, "i": alice }),
        )
        .await;
    assert_eq!(
        body,
        json!({ "data": { "segment": null, "influencer": null, "node": null, "nodes": [null, null] } })
    );

    // Writes aimed at them are refused and change nothing.
    let before = (
        server.app.count_rows("segment").await,
        server.app.count_rows("segment_membership").await,
    );
    let (_, body) = server
        .graphql(
            &other_key,
            "mutation($s: ID!) { deleteSegment(input: { id: $s }) { deletedSegmentId userErrors { code } } }",
            json!({ "s": mine }),
        )
        .await;
    assert_eq!(
        body,
        json!({ "data": { "deleteSegment": { "deletedSegmentId": null, "userErrors": [{ "code": "NOT_FOUND" }] } } })
    );
    let (_, body) = server
        .graphql(
            &other_key,
            "mutation($i: ID!, $s: ID!) { assignToSegment(input: { influencerIds: [$i], segment: { id: $s } }) \
             { segment { id } userErrors { code } } }",
            json!({ "i": alice, "s": theirs }),
        )
        .await;
    assert_eq!(
        body,
        json!({ "data": { "assignToSegment": { "segment": null, "userErrors": [{ "code": "NOT_FOUND" }] } } })
    );
    let (_, body) = server
        .graphql(
            &other_key,
            r#"mutation($s: ID!) { updateSegment(input: { id: $s, name: "Hijacked" }) { segment { name } userErrors { code } } }"#,
            json!({ "s": mine }),
        )
        .await;
    assert_eq!(
        body,
        json!({ "data": { "updateSegment": { "segment": null, "userErrors": [{ "code": "NOT_FOUND" }] } } })
    );
    assert_eq!(
        (
            server.app.count_rows("segment").await,
            server.app.count_rows("segment_membership").await,
        ),
        before
    );
    let (_, body) = server
        .graphql(
            &default_key,
            "{ segments { nodes { name memberCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body,
        json!({ "data": { "segments": { "nodes": [{ "name": "Mine", "memberCount": 1 }] } } })
    );
}

/// The key a GraphiQL page carries, if any.
fn key_in_page(html: &str) -> Option<String> {
    let start = html.find("Bearer sk_")? + "Bearer ".len();
    Some(
        html[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect(),
    )
}

#[tokio::test]
async fn graphiql_for_a_loopback_peer_carries_a_working_in_memory_key() {
    let server = Server::start_with(
        |app| HttpConfig {
            graphiql_workspace: Some(app.workspace),
            ..HttpConfig::default()
        },
        true,
    )
    .await;
    let keys_before = server.app.count_rows("api_key").await;

    let html = server.graphiql_page().await;
    assert!(html.contains("Bearer sk_"), "{html}");
    let key = key_in_page(&html).expect("a key in the page");
    assert_eq!(key.len(), 46, "{key}");

    let (status, body) = server
        .graphql(&key, "{ viewer { workspace { name } } }", json!({}))
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({ "data": { "viewer": { "workspace": { "name": "Default" } } } })
        )
    );
    // The same key every time, and never stored.
    assert_eq!(key_in_page(&server.graphiql_page().await), Some(key));
    assert_eq!(server.app.count_rows("api_key").await, keys_before);
}

#[tokio::test]
async fn graphiql_without_a_configured_workspace_carries_no_key() {
    let server = Server::start().await;
    let html = server.graphiql_page().await;
    assert!(html.to_lowercase().contains("graphiql"), "{html}");
    assert!(!html.contains("sk_"), "{html}");
    assert!(!html.contains("Bearer"), "{html}");
}

#[tokio::test]
async fn graphiql_carries_no_key_when_the_peer_address_is_unknown() {
    // Served without connect info, the router cannot tell a loopback peer from any other.
    let server = Server::start_with(
        |app| HttpConfig {
            graphiql_workspace: Some(app.workspace),
            ..HttpConfig::default()
        },
        false,
    )
    .await;
    let html = server.graphiql_page().await;
    assert!(html.to_lowercase().contains("graphiql"), "{html}");
    assert!(!html.contains("sk_"), "{html}");
}

#[tokio::test]
async fn graphiql_gives_no_key_to_a_page_requested_under_a_foreign_host_name() {
    // DNS rebinding: a web page on evil.example re-points its own name at 127.0.0.1, loads
    // http://evil.example:PORT/graphql from the developer's browser (a loopback peer, and same
    // origin for the attacker's script), and reads the key out of the page.
    let server = Server::start_with(
        |app| HttpConfig {
            graphiql_workspace: Some(app.workspace),
            ..HttpConfig::default()
        },
        true,
    )
    .await;
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let response = server
        .plain
        .get(server.url("/graphql"))
        .header(header::HOST, format!("evil.example:{port}"))
        .send()
        .await
        .expect("GET /graphql");
    let status = response.status();
    let html = response.text().await.unwrap();
    assert!(
        !html.contains("sk_"),
        "status {status}: the page for Host: evil.example carries a key"
    );
}
