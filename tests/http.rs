//! The API through the real HTTP stack: the router served by axum on a local port, spoken to with
//! an HTTP client.
mod common;

use common::TestApp;
use pretty_assertions::assert_eq;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

/// The application served on an ephemeral local port.
struct Server {
    app: TestApp,
    base: String,
    client: reqwest::Client,
}

impl Server {
    async fn start() -> Self {
        let app = TestApp::spawn().await;
        let addr = app.serve(&Default::default()).await;
        let client = TestApp::client_with_key(&app.api_key().await);
        Self {
            app,
            base: format!("http://{addr}"),
            client,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a GraphQL request body; returns the status and the body as JSON.
    async fn post_json(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&body)
            .send()
            .await
            .expect("POST /graphql");
        let status = response.status();
        let body = response.json::<Value>().await.expect("JSON body");
        (status, common::without_cost(body))
    }

    async fn graphql(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        self.post_json(json!({ "query": query, "variables": variables }))
            .await
    }
}

#[tokio::test]
async fn a_segment_created_over_http_is_listed_by_a_later_query() {
    let server = Server::start().await;

    let (status, created) = server
        .graphql(
            r#"mutation { createSegment(input: { name: "Gamers", description: "Play all day" }) { segment { id name description } userErrors { code } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = created["data"]["createSegment"]["segment"]["id"].clone();
    assert!(id.is_string(), "segment id in {created:#}");
    assert_eq!(
        created,
        json!({ "data": { "createSegment": {
            "segment": { "id": id, "name": "Gamers", "description": "Play all day" },
            "userErrors": [],
        } } })
    );

    let (status, listed) = server
        .graphql("{ segments { totalCount nodes { id name } } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed,
        json!({ "data": { "segments": {
            "totalCount": 1,
            "nodes": [{ "id": id, "name": "Gamers" }],
        } } })
    );
}

#[tokio::test]
async fn variables_sent_over_http_reach_the_query() {
    let server = Server::start().await;
    server.app.create_segment("Fitness").await;
    server.app.create_segment("Cooking").await;

    let (status, body) = server
        .graphql(
            "query Find($search: String, $first: Int) { segments(search: $search, first: $first) { nodes { name } } }",
            json!({ "search": "FIT", "first": 5 }),
        )
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "data": { "segments": { "nodes": [{ "name": "Fitness" }] } } })
    );
}

#[tokio::test]
async fn variables_sent_over_http_reach_a_mutation_input() {
    let server = Server::start().await;

    let (status, body) = server
        .graphql(
            "mutation($input: CreateInfluencerInput!) { createInfluencer(input: $input) { influencer { handle displayName platform followerCount } userErrors { code } } }",
            json!({ "input": {
                "handle": "@jane",
                "displayName": "Jane Doe",
                "platform": "TIKTOK",
                "followerCount": 1200,
            } }),
        )
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "data": { "createInfluencer": {
            "influencer": {
                "handle": "jane",
                "displayName": "Jane Doe",
                "platform": "TIKTOK",
                "followerCount": 1200,
            },
            "userErrors": [],
        } } })
    );
}

#[tokio::test]
async fn the_operation_named_by_operation_name_is_the_one_run() {
    let server = Server::start().await;
    server.app.create_segment("Only").await;

    let (status, body) = server
        .post_json(json!({
            "query": "query Count { segments { totalCount } } query Names { segments { nodes { name } } }",
            "operationName": "Names",
        }))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "data": { "segments": { "nodes": [{ "name": "Only" }] } } })
    );
}

#[tokio::test]
async fn a_syntax_error_is_answered_with_a_graphql_errors_array_and_no_data() {
    let server = Server::start().await;

    let (status, body) = server
        .graphql("{ segments { nodes { name } ", json!({}))
        .await;

    assert!(
        !status.is_server_error(),
        "a malformed query is not a server fault: {status} {body:#}"
    );
    assert_eq!(body["data"], Value::Null, "{body:#}");
    let errors = body["errors"].as_array().expect("an errors array");
    assert_eq!(errors.len(), 1, "{body:#}");
    let message = errors[0]["message"].as_str().expect("an error message");
    assert!(!message.is_empty(), "{body:#}");
}

#[tokio::test]
async fn the_server_keeps_answering_after_a_syntax_error() {
    let server = Server::start().await;
    let (_, broken) = server.graphql("query {", json!({})).await;
    assert!(broken["errors"].is_array(), "{broken:#}");

    let (status, body) = server
        .graphql("{ segments { totalCount } }", json!({}))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "data": { "segments": { "totalCount": 0 } } }));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_client_error_not_a_server_error() {
    let server = Server::start().await;

    let response = server
        .client
        .post(server.url("/graphql"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{ this is not json")
        .send()
        .await
        .expect("POST /graphql");

    assert!(
        response.status().is_client_error(),
        "status {}",
        response.status()
    );
}

#[tokio::test]
async fn get_graphql_serves_the_graphiql_page() {
    let server = Server::start().await;

    let response = server
        .client
        .get(server.url("/graphql"))
        .send()
        .await
        .expect("GET /graphql");

    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().await.expect("body");
    assert!(html.to_lowercase().contains("graphiql"), "{html}");
}

#[tokio::test]
async fn the_graphiql_page_loads_its_scripts_and_styles_from_the_server_without_a_key() {
    let server = Server::start().await;
    let html = server
        .client
        .get(server.url("/graphql"))
        .send()
        .await
        .expect("GET /graphql")
        .text()
        .await
        .expect("body");
    let mut urls = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let value = &html[at + attribute.len()..];
            urls.push(value[..value.find('"').expect("a closing quote")].to_owned());
        }
    }
    let assets: Vec<&String> = urls.iter().filter(|u| !u.starts_with("data:")).collect();
    assert_eq!(
        assets.len(),
        6,
        "GraphiQL's and the Explorer's scripts and styles, React and React DOM: {urls:?}"
    );
    // Assets are public, like the page: a browser asks for them with no key.
    let anonymous = reqwest::Client::new();
    let get = async |path: &str| anonymous.get(server.url(path)).send().await.expect("GET");
    for url in assets {
        assert!(url.starts_with("/graphql/assets/"), "{url}");
        let response = get(url).await;
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let (content_type, etag) = (header(header::CONTENT_TYPE), header(header::ETAG));
        let expected = if url.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(content_type.starts_with(expected), "{url}: {content_type}");
        assert!(etag.starts_with('"'), "{url}: {etag:?}");
        let name = url.trim_start_matches("/graphql/assets/");
        let file = std::fs::read(format!(
            "{}/assets/graphiql/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("the embedded file");
        assert!(
            response.bytes().await.expect("body") == file,
            "{url} serves its file"
        );
        let again = anonymous
            .get(server.url(url))
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .expect("GET");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{url}");
        assert!(again.bytes().await.expect("body").is_empty());
    }
    let licences = get("/graphql/assets/LICENSES.txt").await;
    assert_eq!(licences.status(), StatusCode::OK);
    assert!(licences.text().await.expect("body").contains("MIT License"));
    for missing in [
        "/graphql/assets/nothing.js",
        "/graphql/assets/..%2FCargo.toml",
    ] {
        assert_eq!(
            get(missing).await.status(),
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

#[tokio::test]
async fn get_root_redirects_to_graphql() {
    let server = Server::start().await;

    let response = server
        .client
        .get(server.url("/"))
        .send()
        .await
        .expect("GET /");

    assert!(
        response.status().is_redirection(),
        "status {}",
        response.status()
    );
    assert_eq!(
        response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok()),
        Some("/graphql")
    );
}
