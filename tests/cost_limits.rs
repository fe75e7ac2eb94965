mod common;

// Cost and rate limits per API key, through the real HTTP and WebSocket stacks: every response
// reports what it cost and what its key has left; a request whose points are a moment away waits
// for them; a key that spends its budget is held a second, then throttled (HTTP 429,
// `Retry-After`, code THROTTLED), and runs nothing until the bucket refills; keys are
// independent; WebSocket operations draw from the same bucket; the price is exactly the
// complexity the complexity limit checks, and a query over that limit costs nothing.

use std::{num::NonZeroU32, time::Duration};

use common::{TestApp, ws::WsClient};
use pretty_assertions::assert_eq;
use reqwest::{StatusCode, header};
use segments_api::{
    config::HttpConfig,
    graphql::runtime::{cost::CostBudget, limits::Limits},
};
use serde_json::{Value, json};

/// Costs 1 + 100 × (nodes 1 + id 1 + name 1) = 301 points: the segments connection's page size
/// times what each item selects.
const PAGE_OF_100: &str = "{ segments(first: 100) { nodes { id name } } }";
const PAGE_OF_100_COST: u64 = 301;

/// The default server configuration with a cost budget of (points, restored a second), or none,
/// and this complexity limit.
fn config(budget: Option<(u32, u32)>, max_complexity: usize) -> HttpConfig {
    HttpConfig {
        limits: Limits {
            max_complexity,
            cost_budget: budget.map(|(available, restore)| CostBudget {
                maximum_available: NonZeroU32::new(available).unwrap(),
                restore_rate: NonZeroU32::new(restore).unwrap(),
            }),
            ..Limits::default()
        },
        ..HttpConfig::default()
    }
}

struct Server {
    app: TestApp,
    addr: String,
}

impl Server {
    async fn start(budget: Option<(u32, u32)>, max_complexity: usize) -> Self {
        let app = TestApp::spawn().await;
        let config = config(budget, max_complexity);
        config.limits.consistent().expect("consistent limits");
        let addr = app.serve(&config).await;
        Self { app, addr }
    }

    /// A server with these limits, even when `Limits::consistent` refuses them.
    async fn start_unchecked(budget: Option<(u32, u32)>, max_complexity: usize) -> Self {
        let app = TestApp::spawn().await;
        let config = config(budget, max_complexity);
        let addr = app.serve(&config).await;
        Self { app, addr }
    }

    /// Sends `query` with `key`; the status, the `Retry-After` header and the body.
    async fn send(&self, key: &str, query: &str) -> (StatusCode, Option<String>, Value) {
        let response = TestApp::client_with_key(key)
            .post(format!("http://{}/graphql", self.addr))
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("POST /graphql");
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|value| value.to_str().unwrap().to_owned());
        (
            status,
            retry_after,
            response.json().await.expect("JSON body"),
        )
    }
}

fn available(body: &Value) -> u64 {
    body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        .as_u64()
        .unwrap_or_else(|| panic!("no currentlyAvailable in {body}"))
}

#[tokio::test]
async fn every_response_reports_its_cost_and_what_its_key_has_left() {
    let server = Server::start(Some((100_000, 10_000)), 100_000).await;
    let key = server.app.api_key().await;
    let (status, retry_after, body) = server.send(&key, PAGE_OF_100).await;
    assert_eq!((status, retry_after), (StatusCode::OK, None));
    assert_eq!(
        body["extensions"]["cost"],
        json!({
            "requestedQueryCost": PAGE_OF_100_COST,
            "throttleStatus": {
                "maximumAvailable": 100_000,
                // A new key's bucket is full; this request took its cost.
                "currentlyAvailable": 100_000 - PAGE_OF_100_COST,
                "restoreRate": 10_000,
            },
        })
    );
    // Mutations are metered too: one field of the mutation, its payload's selection.
    let (status, _, body) = server
        .send(
            &key,
            r#"mutation { createSegment(input: { name: "Fitness" }) { segment { id } } }"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 3);
}

#[tokio::test]
async fn a_key_that_spends_its_budget_is_throttled_runs_nothing_and_refills() {
    // 1,000 points, 50 restored a second: three pages of 100 leave about 100.
    let server = Server::start(Some((1_000, 50)), 1_000).await;
    let key = server.app.api_key().await;
    for _ in 0..3 {
        let (status, _, body) = server.send(&key, PAGE_OF_100).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let segments_before = server.app.count_rows("segment").await;
    let asked = std::time::Instant::now();
    let (status, retry_after, body) = server
        .send(
            &key,
            // 1 + 1 + 1 + 301 points: more than is left.
            r#"mutation { createSegment(input: { name: "Throttled" }) { segment { id influencers(first: 100) { nodes { id handle } } } } }"#,
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Its points were seconds away: it was held for a second, then refused.
    assert!(
        asked.elapsed() >= Duration::from_millis(900),
        "{:?}",
        asked.elapsed()
    );
    assert!(
        body.get("data").is_none(),
        "a throttled request runs nothing: {body}"
    );
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "THROTTLED", "{body}");
    let wait = error["extensions"]["retryAfterSeconds"].as_u64().unwrap();
    assert_eq!(retry_after, Some(wait.to_string()));
    assert!(
        (2..=4).contains(&wait),
        "about 160 points are missing after the hold, at 50 a second: {wait}"
    );
    let left = available(&body);
    assert!(
        left < body["extensions"]["cost"]["requestedQueryCost"]
            .as_u64()
            .unwrap()
    );
    assert_eq!(
        server.app.count_rows("segment").await,
        segments_before,
        "the throttled mutation wrote nothing"
    );

    // After the time it was told, the same request runs.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let (status, retry_after, body) = server.send(&key, PAGE_OF_100).await;
    assert_eq!((status, retry_after), (StatusCode::OK, None), "{body}");
    assert!(body["data"]["segments"]["nodes"].is_array());
}

#[tokio::test]
async fn a_request_whose_points_are_a_moment_away_waits_for_them_and_runs() {
    // 250 restored a second: three pages leave about 100 points (more when they were slow), and
    // the 200 or fewer the fourth page lacks come within the hold.
    let server = Server::start(Some((1_000, 250)), 1_000).await;
    let key = server.app.api_key().await;
    for _ in 0..3 {
        let (status, _, _) = server.send(&key, PAGE_OF_100).await;
        assert_eq!(status, StatusCode::OK);
    }
    let asked = std::time::Instant::now();
    let (status, retry_after, body) = server.send(&key, PAGE_OF_100).await;
    assert_eq!((status, retry_after), (StatusCode::OK, None), "{body}");
    assert!(body["data"]["segments"]["nodes"].is_array(), "{body}");
    // However long the three pages took, at least 50 points were missing: 200 ms at 250 a second.
    assert!(
        asked.elapsed() >= Duration::from_millis(150),
        "it waited for its points: {:?}",
        asked.elapsed()
    );
    assert!(available(&body) < PAGE_OF_100_COST, "{body}");
}

#[tokio::test]
async fn keys_have_budgets_of_their_own() {
    let server = Server::start(Some((1_000, 1)), 1_000).await;
    let (flooding, other) = (server.app.api_key().await, server.app.api_key().await);
    let mut throttled = false;
    for _ in 0..5 {
        let (status, _, _) = server.send(&flooding, PAGE_OF_100).await;
        throttled |= status == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(throttled, "the first key spent its budget");
    let (status, _, body) = server.send(&other, PAGE_OF_100).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(available(&body), 1_000 - PAGE_OF_100_COST);
}

#[tokio::test]
async fn websocket_operations_draw_from_the_same_bucket() {
    let server = Server::start(Some((1_000, 1)), 1_000).await;
    let key = server.app.api_key().await;
    let mut ws = WsClient::connect(&server.addr, &key).await;

    // A query over the WebSocket is charged and says so.
    ws.subscribe("q1", PAGE_OF_100, json!({})).await;
    let answer = ws.events("q1", 1).await.remove(0);
    assert_eq!(
        answer["extensions"]["cost"]["requestedQueryCost"],
        PAGE_OF_100_COST
    );
    assert_eq!(available(&answer), 1_000 - PAGE_OF_100_COST);
    ws.next_message(Duration::from_secs(5)).await; // complete

    // HTTP sees what the WebSocket spent.
    let (status, _, body) = server.send(&key, PAGE_OF_100).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(available(&body), 1_000 - 2 * PAGE_OF_100_COST);
    let (status, _, _) = server.send(&key, PAGE_OF_100).await;
    assert_eq!(status, StatusCode::OK);

    // The bucket is nearly empty: the WebSocket is refused a query, and a subscription that
    // costs more than is left (1 + 1 + 1 + 10 × (1 + 10 × 2) = 214 points).
    for (id, query) in [
        ("q2", PAGE_OF_100),
        (
            "s1",
            "subscription { segmentMembershipChanged { id influencer { segments { influencers(first: 10) { nodes { id } } } } } }",
        ),
    ] {
        ws.subscribe(id, query, json!({})).await;
        let message = ws
            .next_message(Duration::from_secs(5))
            .await
            .expect("an answer");
        let errors = if message["type"] == "error" {
            message["payload"].clone()
        } else {
            message["payload"]["errors"].clone()
        };
        assert_eq!(errors[0]["extensions"]["code"], "THROTTLED", "{message}");
        assert!(
            errors[0]["extensions"]["retryAfterSeconds"]
                .as_u64()
                .unwrap()
                > 0
        );
        let done = ws
            .next_message(Duration::from_secs(5))
            .await
            .expect("complete");
        assert_eq!(
            (&done["id"], &done["type"]),
            (&json!(id), &json!("complete"))
        );
    }
}

#[tokio::test]
async fn the_price_is_the_complexity_the_limit_checks_and_a_refused_query_costs_nothing() {
    // With the limit at the query's price it runs; one below, it is refused as too complex.
    let at_price = Server::start(Some((1_000, 1)), PAGE_OF_100_COST as usize).await;
    let key = at_price.app.api_key().await;
    let (status, _, body) = at_price.send(&key, PAGE_OF_100).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["extensions"]["cost"]["requestedQueryCost"],
        PAGE_OF_100_COST
    );

    let below = Server::start(Some((1_000, 1)), PAGE_OF_100_COST as usize - 1).await;
    let key = below.app.api_key().await;
    let (status, _, body) = below.send(&key, PAGE_OF_100).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX");
    // Nothing was taken for it.
    let (_, _, body) = below
        .send(&key, "{ segments(first: 1) { nodes { id } } }")
        .await;
    assert_eq!(available(&body), 1_000 - 3);
}

#[tokio::test]
async fn a_request_that_costs_more_than_a_full_budget_is_refused_at_once_as_too_complex() {
    // Limits `Limits::consistent` refuses (the binary does not start with them); a server built
    // with them anyway never tells a client to wait for what can never come.
    let server = Server::start_unchecked(Some((100, 10)), 1_000).await;
    let key = server.app.api_key().await;
    let asked = std::time::Instant::now();
    let (status, retry_after, body) = server.send(&key, PAGE_OF_100).await;
    assert_eq!(
        (status, retry_after),
        (StatusCode::BAD_REQUEST, None),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{body}"
    );
    assert!(
        asked.elapsed() < Duration::from_millis(900),
        "it was not held"
    );
}

#[tokio::test]
async fn a_request_that_does_not_validate_gets_its_errors_and_costs_nothing() {
    // One point restored a second: a charge would show.
    let server = Server::start(Some((1_000, 1)), 1_000).await;
    let key = server.app.api_key().await;
    let (status, _, body) = server
        .send(&key, "{ segments(first: 100) { nodes { id nope } } }")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    let (_, _, body) = server
        .send(&key, "{ segments(first: 1) { nodes { id } } }")
        .await;
    assert_eq!(available(&body), 1_000 - 3);
}

#[tokio::test]
async fn without_cost_limits_nothing_is_metered() {
    let server = Server::start(None, 1_000).await;
    let key = server.app.api_key().await;
    for _ in 0..10 {
        let (status, _, body) = server.send(&key, PAGE_OF_100).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["extensions"].get("cost").is_none(), "{body}");
    }
}

#[test]
fn a_budget_smaller_than_the_most_complex_query_is_refused() {
    let limits = Limits {
        max_complexity: 5_000,
        cost_budget: Some(CostBudget {
            maximum_available: NonZeroU32::new(4_999).unwrap(),
            restore_rate: NonZeroU32::new(100).unwrap(),
        }),
        ..Limits::default()
    };
    let error = limits.consistent().unwrap_err();
    assert!(error.contains("COST_MAXIMUM_AVAILABLE"), "{error}");
    assert!(Limits::default().consistent().is_ok());
}
