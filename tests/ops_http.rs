//! The operational endpoints and layers through the real router and HTTP stack: probes,
//! Prometheus metrics, CORS, compression, request ids.

mod common;

use common::TestApp;
use pretty_assertions::assert_eq;
use segments_api::config::HttpConfig;
use serde_json::{Value, json};

struct Server {
    app: TestApp,
    base: String,
    client: reqwest::Client,
}

impl Server {
    async fn start_with(config: HttpConfig) -> Self {
        let app = TestApp::spawn().await;
        let base = format!("http://{}", app.serve(&config).await);
        let client = TestApp::client_with_key(&app.api_key().await);
        Self { app, base, client }
    }

    async fn start() -> Self {
        Self::start_with(HttpConfig::default()).await
    }

    async fn graphql(&self, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}/graphql", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn preflight(&self, origin: &str) -> reqwest::Response {
        self.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", self.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn health_answers_ok() {
    let server = Server::start().await;
    let response = server.get("/health").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": "ok", "database": "up" })
    );
}

#[tokio::test]
async fn ready_turns_unavailable_when_the_database_goes_away() {
    let server = Server::start().await;
    let response = server.get("/ready").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": "ready", "database": "up" })
    );

    server.app.db.close_by_ref().await.unwrap();
    let response = server.get("/ready").await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": "unavailable", "database": "down" })
    );
    // Liveness does not depend on the database, but says how it is.
    let response = server.get("/health").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": "ok", "database": "down" })
    );
}

#[tokio::test]
async fn metrics_expose_the_named_series_after_queries() {
    let server = Server::start().await;
    server.app.create_segment("Fitness").await;
    let ok = server
        .graphql(json!({
            "query": "query SegmentsTab { segments { nodes { name memberCount } } }",
            "operationName": "SegmentsTab"
        }))
        .await;
    assert_eq!(ok.status(), 200);
    server
        .graphql(json!({ "query": "query TooBig { influencers(first: 500) { totalCount } }", "operationName": "TooBig" }))
        .await;
    let response = server.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"),
    );
    let text = response.text().await.unwrap();
    for series in [
        r#"http_requests_total{method="POST",route="/graphql",status="200"}"#,
        r#"http_request_duration_seconds_bucket{method="POST",route="/graphql",status="200",le="0.1"}"#,
        r#"graphql_operations_total{operation="SegmentsTab",outcome="ok"}"#,
        r#"graphql_operations_total{operation="TooBig",outcome="error"}"#,
        r#"graphql_operation_duration_seconds_bucket{operation="SegmentsTab",le="1"}"#,
        r#"graphql_errors_total{code="BAD_USER_INPUT"}"#,
        r#"dataloader_batch_size_bucket{loader="MemberCount",le="1"}"#,
        r#"db_pool_connections{state="idle"}"#,
        r#"db_pool_connections{state="in_use"}"#,
        "process_resident_memory_bytes",
    ] {
        assert!(
            text.lines().any(|line| line.starts_with(series)),
            "{series} missing from /metrics:\n{text}"
        );
    }
}

#[tokio::test]
async fn cors_preflight_allows_loopback_origins_by_default_and_no_others() {
    let server = Server::start().await;
    let response = server.preflight("http://localhost:5173").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let allowed_headers = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(allowed_headers.contains("content-type") && allowed_headers.contains("authorization"));
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );

    let response = server.preflight("https://evil.example").await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn cors_origins_replace_the_loopback_default() {
    let server = Server::start_with(HttpConfig {
        cors_origins: Some(vec!["https://app.example.com".into()]),
        ..HttpConfig::default()
    })
    .await;
    let response = server.preflight("https://app.example.com").await;
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let response = server.preflight("http://localhost:5173").await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn large_responses_are_compressed_when_the_client_accepts_it() {
    let server = Server::start().await;
    let query = json!({ "query": "{ __schema { types { name description fields { name description } } } }" });
    let plain = server.graphql(query.clone()).await;
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_len = plain.bytes().await.unwrap().len();

    let gzipped = server
        .client
        .post(format!("{}/graphql", server.base))
        .header("accept-encoding", "gzip")
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let body = gzipped.bytes().await.unwrap();
    assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip magic");
    assert!(body.len() * 3 < plain_len, "{} vs {plain_len}", body.len());
}

#[tokio::test]
async fn request_ids_are_kept_or_made() {
    let server = Server::start().await;
    let response = server
        .client
        .get(format!("{}/health", server.base))
        .header("x-request-id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-42");
    let made = server.get("/health").await;
    let id = made.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
}
