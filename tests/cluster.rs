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

/// Runs the binary with `args` on the database at `url`.
fn cli(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(common::process::BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .env("DATABASE_URL", url)
        .output()
        .expect("run segments-api")
}

/// The HTTP status of a small query sent to `addr` with `key`.
async fn status_with(addr: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(key)
        .json(&json!({ "query": "{ viewer { workspace { name } } }" }))
        .send()
        .await
        .expect("POST /graphql")
        .status()
        .as_u16()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run with TEST_DATABASE_URL and --ignored"]
async fn a_key_revoked_on_the_command_line_is_refused_by_every_instance_on_the_next_request() {
    assert!(
        std::env::var("TEST_DATABASE_URL").is_ok(),
        "set TEST_DATABASE_URL to a PostgreSQL server"
    );
    let (url, _) = fresh_database_url().await;
    // Keys are kept for a minute, so only the revocation's own notice can make them stale.
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("API_KEY_CACHE_SECONDS", "60"),
    ];
    let a = ServerProcess::start(&env);
    let b = ServerProcess::start(&env);
    for round in 0..10 {
        let made = cli(
            &url,
            &[
                "api-key",
                "create",
                "--workspace",
                "Default",
                "--label",
                "revoked",
            ],
        );
        assert!(made.status.success(), "{made:?}");
        let key = String::from_utf8_lossy(&made.stdout)
            .lines()
            .find(|line| line.starts_with("sk_"))
            .expect("the new key on stdout")
            .to_owned();
        // Both instances now keep the key as live.
        assert_eq!(status_with(&a.addr, &key).await, 200);
        assert_eq!(status_with(&b.addr, &key).await, 200);

        let revoked = cli(&url, &["api-key", "revoke", &key[..11]]);
        assert!(revoked.status.success(), "{revoked:?}");
        let said = String::from_utf8_lossy(&revoked.stdout);
        assert!(
            said.contains("refused by all 2 running instances"),
            "round {round}: {said}"
        );
        // The very next request, on either instance.
        assert_eq!(status_with(&b.addr, &key).await, 401, "round {round}, B");
        assert_eq!(status_with(&a.addr, &key).await, 401, "round {round}, A");
    }
}

const FEED: &str = "subscription($after: String) { segmentMembershipChanged(after: $after) { id change influencer { handle } segmentName } }";

/// `change handle segment` of each event, and the last event's id.
fn feed(events: &[Value]) -> (Vec<String>, Value) {
    let changes = events
        .iter()
        .map(|e| {
            let c = &e["data"]["segmentMembershipChanged"];
            format!(
                "{} {} {}",
                c["change"].as_str().unwrap(),
                c["influencer"]["handle"].as_str().unwrap(),
                c["segmentName"].as_str().unwrap()
            )
        })
        .collect();
    let last = events.last().expect("an event")["data"]["segmentMembershipChanged"]["id"].clone();
    (changes, last)
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run with TEST_DATABASE_URL and --ignored"]
async fn a_client_resumes_on_a_restarted_instance_and_misses_nothing_made_meanwhile_on_another() {
    assert!(
        std::env::var("TEST_DATABASE_URL").is_ok(),
        "set TEST_DATABASE_URL to a PostgreSQL server"
    );
    let (url, _) = fresh_database_url().await;
    let env = [("DATABASE_URL", url.as_str())];
    let a = ServerProcess::start(&env);
    let key = a.key.clone().expect("the first instance made the key");
    let b = ServerProcess::start(&env);
    let write = |query: &'static str, variables: Value| {
        let (addr, key) = (b.addr.clone(), key.clone());
        async move { graphql(&addr, &key, query, variables).await }
    };
    const CREATE: &str = "mutation($h: String!) { createInfluencer(input: { handle: $h, platform: TIKTOK }) { influencer { id } } }";
    const ASSIGN: &str = "mutation($ids: [ID!]!, $name: String!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: $name } } }) { segment { id } userErrors { code } } }";
    const REMOVE: &str = "mutation($ids: [ID!]!, $s: ID!) { removeFromSegment(input: { influencerIds: $ids, segmentId: $s }) { userErrors { code } } }";
    let mut people = Vec::new();
    for handle in ["kai", "lu", "mo"] {
        let made = write(CREATE, json!({ "h": handle })).await;
        people.push(made["createInfluencer"]["influencer"]["id"].clone());
    }

    // A client on A sees a change made through B.
    let mut client = WsClient::connect(&a.addr, &key).await;
    client.subscribe("feed", FEED, json!({})).await;
    client.sync().await;
    let first = write(ASSIGN, json!({ "ids": [people[0]], "name": "First" })).await;
    let first_segment = first["assignToSegment"]["segment"]["id"].clone();
    let (seen, last) = feed(&client.events("feed", 1).await);
    assert_eq!(seen, ["ADDED kai First"]);

    // A dies (no clean shutdown); B goes on changing memberships.
    drop(client);
    drop(a);
    write(REMOVE, json!({ "ids": [people[0]], "s": first_segment })).await;
    write(
        ASSIGN,
        json!({ "ids": [people[1], people[2]], "name": "Second" }),
    )
    .await;

    // A comes back; the client resubscribes there with the last id it saw.
    let a = ServerProcess::start(&env);
    let mut client = WsClient::connect(&a.addr, &key).await;
    client
        .subscribe("feed", FEED, json!({ "after": last }))
        .await;
    let (missed, _) = feed(&client.events("feed", 3).await);
    assert_eq!(missed[0], "REMOVED kai First");
    let mut second = missed[1..].to_vec();
    second.sort();
    assert_eq!(second, ["ADDED lu Second", "ADDED mo Second"]);
    // Then the live ones, still made through B, once each.
    write(ASSIGN, json!({ "ids": [people[0]], "name": "Third" })).await;
    let (live, _) = feed(&client.events("feed", 1).await);
    assert_eq!(live, ["ADDED kai Third"]);
    client.assert_quiet(Duration::from_millis(500)).await;
}
