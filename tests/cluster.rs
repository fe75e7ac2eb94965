//! Several server processes on one PostgreSQL database behave as one: a change made through
//! one instance reaches subscribers of every instance, once, through LISTEN/NOTIFY.
//!
//! Needs PostgreSQL (`TEST_DATABASE_URL`), so it is ignored by a plain `cargo test`; `.ci/run`
//! runs it with `--ignored` (SQLite is one process's file, where events stay in process).
mod common;

use std::time::Duration;

use common::{fresh_database_url, graphql_at as graphql, process::ServerProcess, ws::WsClient};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const CHANGES: &str = "subscription { segmentMembershipChanged { change influencer { handle } segment { name } source } }";

fn summary(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let c = &e["data"]["segmentMembershipChanged"];
            format!(
                "{} {} {} {}",
                c["change"].as_str().unwrap(),
                c["influencer"]["handle"].as_str().unwrap(),
                c["segment"]["name"].as_str().unwrap(),
                c["source"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run with TEST_DATABASE_URL and --ignored"]
async fn a_change_made_through_one_instance_reaches_subscribers_of_both() {
    assert!(
        std::env::var("TEST_DATABASE_URL").is_ok(),
        "set TEST_DATABASE_URL to a PostgreSQL server"
    );
    let (url, _) = fresh_database_url().await;
    let a = ServerProcess::start(&[("DATABASE_URL", &url)]);
    let key = a.key.clone().expect("the first instance made the key");
    let b = ServerProcess::start(&[("DATABASE_URL", &url)]);
    assert_eq!(b.key, None, "the second instance found the database set up");

    let mut on_a = WsClient::connect(&a.addr, &key).await;
    on_a.subscribe("a", CHANGES, json!({})).await;
    let mut on_b = WsClient::connect(&b.addr, &key).await;
    on_b.subscribe("b", CHANGES, json!({})).await;
    on_a.sync().await;
    on_b.sync().await;

    // Made through A: an influencer assigned to a segment created on the spot.
    let created = graphql(
        &a.addr,
        &key,
        r#"mutation { createInfluencer(input: { handle: "cross", platform: YOUTUBE }) { influencer { id } } }"#,
        json!({}),
    )
    .await;
    let influencer = created["createInfluencer"]["influencer"]["id"].clone();
    let assigned = graphql(
        &a.addr,
        &key,
        r#"mutation($ids: [ID!]!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: "Shared" } } }) { segment { id } } }"#,
        json!({ "ids": [influencer] }),
    )
    .await;
    let segment = assigned["assignToSegment"]["segment"]["id"].clone();
    let added = vec!["ADDED cross Shared MANUAL".to_owned()];
    assert_eq!(summary(&on_a.events("a", 1).await), added);
    assert_eq!(summary(&on_b.events("b", 1).await), added);

    // Made through B: the removal reaches A's subscriber too, and nobody gets a copy.
    graphql(
        &b.addr,
        &key,
        "mutation($ids: [ID!]!, $seg: ID!) { removeFromSegment(input: { influencerIds: $ids, segmentId: $seg }) { userErrors { code } } }",
        json!({ "ids": [influencer], "seg": segment }),
    )
    .await;
    let removed = vec!["REMOVED cross Shared MANUAL".to_owned()];
    assert_eq!(summary(&on_b.events("b", 1).await), removed);
    assert_eq!(summary(&on_a.events("a", 1).await), removed);
    on_a.assert_quiet(Duration::from_millis(500)).await;
    on_b.assert_quiet(Duration::from_millis(100)).await;
}
