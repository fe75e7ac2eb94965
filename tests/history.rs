//! The membership history: every route that makes or ends a membership records who did it, in
//! the same transaction; the history outlives the influencer and the segment; it pages both ways
//! by cursor; and a cursor from elsewhere is refused. Changes are made over HTTP with an API key,
//! as clients make them, so the key is the actor.
mod common;

use std::collections::BTreeSet;

use futures_util::StreamExt;

use async_graphql::{Request, Variables};
use common::TestApp;
use pretty_assertions::assert_eq;
use segments_api::service::{WorkspaceId, auth::create_workspace};
use serde_json::{Value, json};

/// The application served on a local port, with an API key labelled "test".
struct Server {
    app: TestApp,
    addr: String,
    key: String,
}

impl Server {
    async fn start() -> Self {
        let app = TestApp::spawn().await;
        let addr = app
            .serve(&segments_api::config::HttpConfig::default())
            .await;
        let key = app.api_key().await;
        Self { app, addr, key }
    }

    /// Runs an operation over HTTP with the key; returns `data`, failing on any error.
    async fn graphql(&self, query: &str, variables: Value) -> Value {
        common::graphql_at(&self.addr, &self.key, query, variables).await
    }

    /// Runs an operation over HTTP; returns the whole response.
    async fn response(&self, query: &str, variables: Value) -> Value {
        TestApp::client_with_key(&self.key)
            .post(format!("http://{}/graphql", self.addr))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON body")
    }

    async fn assign(&self, ids: &[&str], segment: &str) {
        let data = self
            .graphql(
                "mutation($ids: [ID!]!, $s: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $s } }) { userErrors { code } } }",
                json!({ "ids": ids, "s": segment }),
            )
            .await;
        assert_eq!(data["assignToSegment"]["userErrors"], json!([]));
    }

    async fn remove(&self, ids: &[&str], segment: &str) {
        let data = self
            .graphql(
                "mutation($ids: [ID!]!, $s: ID!) { removeFromSegment(input: { influencerIds: $ids, segmentId: $s }) { userErrors { code } } }",
                json!({ "ids": ids, "s": segment }),
            )
            .await;
        assert_eq!(data["removeFromSegment"]["userErrors"], json!([]));
    }
}

const CHANGE: &str = "id change influencerId influencer { handle } segmentId segment { name } \
    segmentName source automation { id } actor { kind apiKeyPrefix apiKeyLabel automation { id } \
    event { id } } at";

/// `(change, influencer handle, segment name kept, source, actor kind)` of each change.
fn summary(changes: &Value) -> Vec<(String, String, String, String, String)> {
    changes
        .as_array()
        .expect("a list of changes")
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_owned(),
                c["influencer"]["handle"]
                    .as_str()
                    .unwrap_or("(deleted)")
                    .to_owned(),
                c["segmentName"].as_str().unwrap().to_owned(),
                c["source"].as_str().unwrap().to_owned(),
                c["actor"]["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn row(
    change: &str,
    handle: &str,
    segment: &str,
    source: &str,
    actor: &str,
) -> (String, String, String, String, String) {
    (
        change.into(),
        handle.into(),
        segment.into(),
        source.into(),
        actor.into(),
    )
}

#[tokio::test]
async fn every_route_records_its_changes_with_who_made_them() {
    let server = Server::start().await;
    let ana = server.app.create_influencer("ana").await;
    let ben = server.app.create_influencer("ben").await;
    let leads = server.app.create_segment("Leads").await;

    // A person, through the API with a key.
    server.assign(&[&ana, &ben], &leads).await;
    server.remove(&[&ben], &leads).await;
    // An automation, fired by an engagement.
    let campaign = server.app.create_campaign("Launch").await;
    let automation = server
        .graphql(
            r#"mutation($c: ID!) { addAutomation(input: { campaignId: $c, trigger: EMAIL_REPLIED, assignToSegment: { create: { name: "Warm" } } }) { automation { id } } }"#,
            json!({ "c": campaign }),
        )
        .await["addAutomation"]["automation"]["id"]
        .clone();
    let event = server
        .graphql(
            "mutation($c: ID!, $i: ID!) { recordEngagement(input: { campaignId: $c, influencerId: $i, kind: EMAIL_REPLIED }) { event { id } } }",
            json!({ "c": campaign, "i": ana }),
        )
        .await["recordEngagement"]["event"]["id"]
        .clone();
    // A rule: both are on Instagram.
    let made = server
        .graphql(
            r#"mutation { createSegment(input: { name: "Insta", rule: { platformIn: [INSTAGRAM] } }) { segment { id } userErrors { code } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(made["createSegment"]["userErrors"], json!([]));
    let insta = made["createSegment"]["segment"]["id"].clone();
    // Deleting the segment ends its memberships: the system did that, not the key.
    common::delete_segment(&server.app, &leads).await;

    let data = server
        .graphql(
            &format!("{{ membershipChanges(first: 50) {{ totalCount nodes {{ {CHANGE} }} }} }}"),
            json!({}),
        )
        .await;
    let changes = &data["membershipChanges"]["nodes"];
    let mut got = summary(changes);
    // Within one statement's changes the order is the history's own; compare those as sets.
    got[0..2].sort();
    got[4..6].sort();
    assert_eq!(
        got,
        vec![
            row("ADDED", "ana", "Leads", "MANUAL", "API_KEY"),
            row("ADDED", "ben", "Leads", "MANUAL", "API_KEY"),
            row("REMOVED", "ben", "Leads", "MANUAL", "API_KEY"),
            row("ADDED", "ana", "Warm", "AUTOMATION", "AUTOMATION"),
            row("ADDED", "ana", "Insta", "RULE", "RULE"),
            row("ADDED", "ben", "Insta", "RULE", "RULE"),
            row("REMOVED", "ana", "Leads", "MANUAL", "SYSTEM"),
        ]
    );
    assert_eq!(data["membershipChanges"]["totalCount"], 7);

    // The key is named by its prefix and label; the secret is nowhere.
    let by_key = &changes[0]["actor"];
    assert_eq!(by_key["apiKeyLabel"], "test");
    assert_eq!(
        by_key["apiKeyPrefix"].as_str().unwrap(),
        &server.key[..11],
        "{by_key}"
    );
    assert!(!changes.to_string().contains(&server.key));
    // The automation's change names the automation and the event that fired it.
    let automated = &changes[3];
    assert_eq!(automated["automation"]["id"], automation);
    assert_eq!(automated["actor"]["automation"]["id"], automation);
    assert_eq!(automated["actor"]["event"]["id"], event);
    assert_eq!(automated["actor"]["apiKeyPrefix"], Value::Null);
    // The deleted segment is gone, its id and name are not.
    let ended = &changes[6];
    assert_eq!(ended["segment"], Value::Null);
    assert_eq!(ended["segmentId"], json!(leads));
    // Ids are distinct, and every change is stamped.
    let ids: BTreeSet<&str> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 7);
    assert!(
        changes
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["at"].is_string())
    );

    // The same history, by influencer and by segment (a deleted segment's too).
    let ana_history = server
        .graphql(
            "query($i: ID!) { node(id: $i) { ... on Influencer { history { totalCount nodes { change segmentName } } } } }",
            json!({ "i": ana }),
        )
        .await;
    assert_eq!(
        ana_history["node"]["history"],
        json!({ "totalCount": 4, "nodes": [
            { "change": "ADDED", "segmentName": "Leads" },
            { "change": "ADDED", "segmentName": "Warm" },
            { "change": "ADDED", "segmentName": "Insta" },
            { "change": "REMOVED", "segmentName": "Leads" },
        ] })
    );
    let insta_history = server
        .graphql(
            "query($s: ID!) { segment(id: $s) { history { totalCount } } }",
            json!({ "s": insta }),
        )
        .await;
    assert_eq!(insta_history["segment"]["history"]["totalCount"], 2);
    let of_leads = server
        .graphql(
            "query($s: ID!) { membershipChanges(segmentId: $s) { totalCount } }",
            json!({ "s": leads }),
        )
        .await;
    assert_eq!(of_leads["membershipChanges"]["totalCount"], 4);

    // Deleting the influencer keeps its history; its changes name it by id only.
    let deleted = server
        .graphql(
            "mutation($i: ID!) { deleteInfluencer(input: { id: $i }) { userErrors { code } } }",
            json!({ "i": ana }),
        )
        .await;
    assert_eq!(deleted["deleteInfluencer"]["userErrors"], json!([]));
    let after = server
        .graphql(
            &format!("{{ membershipChanges(first: 50) {{ nodes {{ {CHANGE} }} }} }}"),
            json!({}),
        )
        .await;
    let after = after["membershipChanges"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    // Ana left Warm and Insta when she was deleted.
    assert_eq!(after.len(), 9);
    let mut last_two = summary(&json!(after[7..]));
    last_two.sort();
    assert_eq!(
        last_two,
        vec![
            row("REMOVED", "(deleted)", "Insta", "RULE", "SYSTEM"),
            row("REMOVED", "(deleted)", "Warm", "AUTOMATION", "SYSTEM"),
        ]
    );
    assert!(
        after
            .iter()
            .all(|c| c["influencerId"] != json!(ana) || c["influencer"].is_null())
    );
}

#[tokio::test]
async fn a_refused_write_records_nothing() {
    let server = Server::start().await;
    let ana = server.app.create_influencer("ana").await;
    let leads = server.app.create_segment("Leads").await;
    let unknown = common::unknown_id(segments_api::graphql::schema::ids::Kind::Influencer);
    let refused = server
        .graphql(
            "mutation($ids: [ID!]!, $s: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $s } }) { userErrors { code } } }",
            json!({ "ids": [ana, unknown], "s": leads }),
        )
        .await;
    assert_eq!(
        refused["assignToSegment"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    assert_eq!(server.app.count_rows("segment_membership_change").await, 0);
    // Assigning members again changes nothing, and records nothing.
    server.assign(&[&ana], &leads).await;
    server.assign(&[&ana], &leads).await;
    assert_eq!(server.app.count_rows("segment_membership_change").await, 1);
}

/// Every change's id, paging with `first` and `after` to the end.
async fn forward(server: &Server, size: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = server
            .graphql(
                "query($n: Int!, $after: String) { membershipChanges(first: $n, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }",
                json!({ "n": size, "after": after }),
            )
            .await;
        let page = &data["membershipChanges"];
        for edge in page["edges"].as_array().unwrap() {
            // A change's id is its cursor.
            assert_eq!(edge["cursor"], edge["node"]["id"]);
            seen.push(edge["cursor"].as_str().unwrap().to_owned());
        }
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        if page["pageInfo"]["hasNextPage"] == false {
            return seen;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// Every change's id, paging with `last` and `before` to the start.
async fn backward(server: &Server, size: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut before = Value::Null;
    loop {
        let data = server
            .graphql(
                "query($n: Int!, $before: String) { membershipChanges(last: $n, before: $before) { edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor } } }",
                json!({ "n": size, "before": before }),
            )
            .await;
        let page = &data["membershipChanges"];
        let mut edges: Vec<String> = page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["cursor"].as_str().unwrap().to_owned())
            .collect();
        edges.append(&mut seen);
        seen = edges;
        assert_eq!(page["pageInfo"]["hasNextPage"], !before.is_null());
        if page["pageInfo"]["hasPreviousPage"] == false {
            return seen;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
}

#[tokio::test]
async fn the_history_pages_both_ways_by_cursor() {
    let server = Server::start().await;
    let ids = server.app.create_influencers("p", 9).await;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let segment = server.app.create_segment("Paged").await;
    // 23 changes in 7 writes of different sizes.
    server.assign(&ids[..4], &segment).await;
    server.remove(&ids[..2], &segment).await;
    server.assign(&ids, &segment).await;
    server.remove(&ids[5..], &segment).await;
    server.assign(&ids[8..], &segment).await;
    let all = forward(&server, 100).await;
    assert_eq!(all.len(), 4 + 2 + 7 + 4 + 1);
    for size in [1, 5, 7] {
        assert_eq!(forward(&server, size).await, all, "first: {size}");
        assert_eq!(backward(&server, size).await, all, "last: {size}");
    }
}

/// The test workspace's history and another workspace with one change of its own, whose
/// cursor (also its id) is returned.
async fn two_histories() -> (Server, String) {
    let server = Server::start().await;
    let ana = server.app.create_influencer("ana").await;
    let leads = server.app.create_segment("Leads").await;
    server.assign(&[&ana], &leads).await;
    server.remove(&[&ana], &leads).await;
    let other = WorkspaceId(
        create_workspace(&server.app.db, "Other")
            .await
            .expect("workspace")
            .id,
    );
    let as_other = |query: &str, variables: Value| {
        let request = Request::new(query).variables(Variables::from_json(variables));
        server
            .app
            .schema
            .execute(server.app.schema.scoped(request, other, None))
    };
    let made = serde_json::to_value(
        as_other(
            r#"mutation { createInfluencer(input: { handle: "zed", platform: TIKTOK }) { influencer { id } } }"#,
            json!({}),
        )
        .await,
    )
    .unwrap();
    let zed = made["data"]["createInfluencer"]["influencer"]["id"].clone();
    let assigned = serde_json::to_value(
        as_other(
            r#"mutation($i: ID!) { assignToSegment(input: { influencerIds: [$i], segment: { create: { name: "Theirs" } } }) { userErrors { code } } }"#,
            json!({ "i": zed }),
        )
        .await,
    )
    .unwrap();
    assert_eq!(assigned["data"]["assignToSegment"]["userErrors"], json!([]));
    // The other workspace sees its own one change, numbered from its own start.
    let theirs = serde_json::to_value(
        as_other(
            "{ membershipChanges { edges { cursor node { id segmentName } } } }",
            json!({}),
        )
        .await,
    )
    .unwrap();
    let edges = &theirs["data"]["membershipChanges"]["edges"];
    assert_eq!(edges.as_array().unwrap().len(), 1, "{theirs}");
    assert_eq!(edges[0]["node"]["segmentName"], "Theirs");
    assert_eq!(edges[0]["cursor"], edges[0]["node"]["id"]);
    let cursor = edges[0]["cursor"].as_str().unwrap().to_owned();
    (server, cursor)
}

#[tokio::test]
async fn cursors_from_elsewhere_are_refused_and_show_nothing() {
    let (server, their_cursor) = two_histories().await;
    let ours = server
        .graphql("{ membershipChanges { edges { cursor } } }", json!({}))
        .await;
    let our_first = ours["membershipChanges"]["edges"][0]["cursor"].clone();
    // Their first position is ours too, but their cursor names their workspace.
    assert_ne!(json!(their_cursor), our_first);

    let history = "query($after: String, $before: String) { membershipChanges(after: $after, before: $before) { edges { node { segmentName } } } }";
    for (argument, cursor) in [
        ("after", their_cursor.as_str()),
        ("before", their_cursor.as_str()),
        ("after", "not a cursor"),
        // A cursor of another connection (the roster's).
        ("after", "Y3Vyc29yOjE"),
        ("after", ""),
    ] {
        let response = server.response(history, json!({ argument: cursor })).await;
        assert_eq!(
            response["data"],
            Value::Null,
            "{argument} {cursor}: {response}"
        );
        assert_eq!(
            response["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{argument} {cursor}: {response}"
        );
        assert!(!response.to_string().contains("Theirs"));
    }
    // The same for the histories of an influencer and a segment.
    let response = server
        .response(
            "query($after: String) { influencers { nodes { history(after: $after) { totalCount } } } }",
            json!({ "after": their_cursor }),
        )
        .await;
    assert_eq!(
        response["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{response}"
    );
}

#[tokio::test]
async fn a_since_and_a_segment_narrow_the_history() {
    let server = Server::start().await;
    let ids = server.app.create_influencers("s", 3).await;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let one = server.app.create_segment("One").await;
    let two = server.app.create_segment("Two").await;
    server.assign(&ids, &one).await;
    let first = server
        .graphql("{ membershipChanges(last: 1) { nodes { at } } }", json!({}))
        .await["membershipChanges"]["nodes"][0]["at"]
        .clone();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    server.assign(&ids[..2], &two).await;
    server.remove(&ids[..1], &one).await;

    let count = |variables: Value| {
        let server = &server;
        async move {
            server
                .graphql(
                    "query($s: ID, $since: DateTime) { membershipChanges(segmentId: $s, since: $since) { totalCount nodes { segmentName } } }",
                    variables,
                )
                .await["membershipChanges"]["totalCount"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(count(json!({})).await, 6);
    assert_eq!(count(json!({ "s": one })).await, 4);
    assert_eq!(count(json!({ "s": two })).await, 2);
    assert_eq!(count(json!({ "since": first })).await, 6);
    assert_eq!(count(json!({ "since": between.to_rfc3339() })).await, 3);
    assert_eq!(
        count(json!({ "s": one, "since": between.to_rfc3339() })).await,
        1
    );
    let response = server
        .response(
            "{ membershipChanges(segmentId: \"nope\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        response["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{response}"
    );
}

// ---- the live feed, over a real WebSocket ----

const FEED: &str = "subscription($after: String) { segmentMembershipChanged(after: $after) { id change influencer { handle } segmentName actor { kind } } }";

/// `(change, handle, segment)` of each event, and the events' ids.
fn events_of(events: &[Value]) -> (Vec<(String, String, String)>, Vec<String>) {
    let changes = events
        .iter()
        .map(|e| {
            let c = &e["data"]["segmentMembershipChanged"];
            (
                c["change"].as_str().unwrap().to_owned(),
                c["influencer"]["handle"].as_str().unwrap().to_owned(),
                c["segmentName"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let ids = events
        .iter()
        .map(|e| {
            e["data"]["segmentMembershipChanged"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    (changes, ids)
}

fn change(kind: &str, handle: &str, segment: &str) -> (String, String, String) {
    (kind.into(), handle.into(), segment.into())
}

#[tokio::test]
async fn a_client_that_resubscribes_with_its_last_cursor_misses_nothing_and_sees_nothing_twice() {
    let server = Server::start().await;
    let ids = server.app.create_influencers("f", 3).await;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let one = server.app.create_segment("One").await;
    let two = server.app.create_segment("Two").await;
    // Before anyone listens.
    server.assign(&ids[..1], &one).await;

    let mut ws = common::ws::WsClient::connect(&server.addr, &server.key).await;
    ws.subscribe("live", FEED, json!({})).await;
    ws.sync().await;
    server.assign(&ids[1..], &one).await;
    let (mut seen, first_ids) = events_of(&ws.events("live", 2).await);
    seen.sort();
    assert_eq!(
        seen,
        vec![change("ADDED", "f1", "One"), change("ADDED", "f2", "One")]
    );
    // The client goes away; changes go on without it.
    ws.complete("live").await;
    if let Some(message) = ws.next_message(std::time::Duration::from_millis(200)).await {
        assert_eq!(message, json!({ "id": "live", "type": "complete" }));
    }
    server.remove(&ids[..1], &one).await;
    server.assign(&ids[..1], &two).await;

    // Back, with the last id it saw: first what it missed, in order, then live ones.
    let last = first_ids.last().unwrap();
    ws.subscribe("again", FEED, json!({ "after": last })).await;
    let (missed, missed_ids) = events_of(&ws.events("again", 2).await);
    assert_eq!(
        missed,
        vec![change("REMOVED", "f0", "One"), change("ADDED", "f0", "Two")]
    );
    server.assign(&ids[2..], &two).await;
    let (live, live_ids) = events_of(&ws.events("again", 1).await);
    assert_eq!(live, vec![change("ADDED", "f2", "Two")]);
    ws.assert_quiet(std::time::Duration::from_millis(200)).await;

    // The ids the client saw are the history's, each once, in its order.
    let history = server
        .graphql(
            "{ membershipChanges(first: 50) { nodes { id } } }",
            json!({}),
        )
        .await;
    let all: Vec<String> = history["membershipChanges"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    let delivered: Vec<String> = [first_ids, missed_ids, live_ids].concat();
    assert_eq!(delivered, all[1..].to_vec());
}

#[tokio::test]
async fn another_instance_resumes_a_feed_where_the_first_left_off() {
    let server = Server::start().await;
    let ids = server.app.create_influencers("i", 2).await;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let one = server.app.create_segment("One").await;
    server.assign(&ids[..1], &one).await;
    let first = server
        .graphql("{ membershipChanges { nodes { id } } }", json!({}))
        .await["membershipChanges"]["nodes"][0]["id"]
        .clone();
    server.assign(&ids[1..], &one).await;

    // A second instance on the same database: its own event hub and caches.
    let other = server.app.another_instance();
    let other_addr = other
        .serve(&segments_api::config::HttpConfig::default())
        .await;
    let mut ws = common::ws::WsClient::connect(&other_addr, &server.key).await;
    ws.subscribe("feed", FEED, json!({ "after": first })).await;
    let (caught_up, _) = events_of(&ws.events("feed", 1).await);
    assert_eq!(caught_up, vec![change("ADDED", "i1", "One")]);
    // Changes made on the first instance reach the second one's subscriber: through NOTIFY on
    // PostgreSQL. On SQLite one process owns the database, and each instance's hub hears its
    // own writes only; the history still has them for the next catch-up.
    if common::backend() == "postgres" {
        server.remove(&ids, &one).await;
        let (live, _) = events_of(&ws.events("feed", 2).await);
        let mut live = live;
        live.sort();
        assert_eq!(
            live,
            vec![
                change("REMOVED", "i0", "One"),
                change("REMOVED", "i1", "One")
            ]
        );
    }
}

#[tokio::test]
async fn a_subscription_refuses_a_cursor_from_elsewhere() {
    let (server, their_id) = two_histories().await;
    let mut ws = common::ws::WsClient::connect(&server.addr, &server.key).await;
    for (n, after) in [json!(their_id), json!("garbage")].into_iter().enumerate() {
        let id = format!("s{n}");
        ws.subscribe(&id, FEED, json!({ "after": after })).await;
        let message = ws
            .next_message(std::time::Duration::from_secs(10))
            .await
            .expect("an answer");
        assert_eq!(message["id"], json!(id), "{message}");
        let error = if message["type"] == "error" {
            message["payload"][0].clone()
        } else {
            // An error in a `next`, which a `complete` follows.
            let done = ws.next_message(std::time::Duration::from_secs(10)).await;
            assert_eq!(done, Some(json!({ "id": id, "type": "complete" })));
            message["payload"]["errors"][0].clone()
        };
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{message}");
        assert!(!message.to_string().contains("Theirs"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_number_their_changes_in_commit_order_with_no_gap() {
    let server = Server::start().await;
    let ids = server.app.create_influencers("c", 4).await;
    let segments = [
        server.app.create_segment("A").await,
        server.app.create_segment("B").await,
        server.app.create_segment("C").await,
    ];
    let mut ws = common::ws::WsClient::connect(&server.addr, &server.key).await;
    ws.subscribe("feed", FEED, json!({})).await;
    ws.sync().await;

    // 60 writes, 8 at a time, assigning and removing the same influencers in the same segments.
    let writes = (0..60).map(|n| {
        let server = &server;
        let (ids, segment) = (&ids, &segments[n % 3]);
        async move {
            let some: Vec<&str> = ids
                .iter()
                .skip(n % 2)
                .step_by(1 + n % 3)
                .map(String::as_str)
                .collect();
            if n % 4 == 3 {
                server.remove(&some, segment).await;
            } else {
                server.assign(&some, segment).await;
            }
        }
    });
    futures_util::stream::iter(writes)
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;

    // The history numbers every change 1, 2, 3... with no gap.
    let mut changes = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = server
            .graphql(
                "query($after: String) { membershipChanges(first: 100, after: $after) { nodes { id change influencerId segmentId } pageInfo { hasNextPage endCursor } } }",
                json!({ "after": after }),
            )
            .await;
        let page = &data["membershipChanges"];
        changes.extend(page["nodes"].as_array().unwrap().iter().cloned());
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let positions: Vec<i64> = changes
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap();
            let text = String::from_utf8(
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, id)
                    .unwrap(),
            )
            .unwrap();
            text.rsplit(':').next().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(positions, (1..=changes.len() as i64).collect::<Vec<_>>());

    // Replaying it gives the memberships as they are: a pair is ADDED only when absent and
    // REMOVED only when present, which holds only when the order is the order of commits.
    let mut members = BTreeSet::new();
    for c in &changes {
        let pair = (
            c["influencerId"].clone().to_string(),
            c["segmentId"].to_string(),
        );
        let fresh = match c["change"].as_str().unwrap() {
            "ADDED" => members.insert(pair),
            _ => members.remove(&pair),
        };
        assert!(fresh, "{c} does not follow from the changes before it");
    }
    let mut actual = BTreeSet::new();
    for segment in &segments {
        let data = server
            .graphql(
                "query($s: ID!) { segment(id: $s) { influencers(first: 100) { nodes { id } } } }",
                json!({ "s": segment }),
            )
            .await;
        for node in data["segment"]["influencers"]["nodes"].as_array().unwrap() {
            actual.insert((node["id"].to_string(), json!(segment).to_string()));
        }
    }
    assert_eq!(members, actual);

    // The live feed delivered the same changes, in the same order, once each.
    let events = ws.events("feed", changes.len()).await;
    let delivered: Vec<&Value> = events
        .iter()
        .map(|e| &e["data"]["segmentMembershipChanged"]["id"])
        .collect();
    let recorded: Vec<&Value> = changes.iter().map(|c| &c["id"]).collect();
    assert_eq!(delivered, recorded);
    ws.assert_quiet(std::time::Duration::from_millis(200)).await;
}

#[tokio::test]
async fn pruning_deletes_old_changes_in_batches_and_their_cursors_stop_resuming() {
    use sea_orm::{ConnectionTrait, sea_query::Query};
    let server = Server::start().await;
    segments_api::cli::seed::seed(&server.app.db, server.app.workspace, 1_500)
        .await
        .expect("seed");
    // One write that records more changes than a pruning batch holds.
    let made = server
        .graphql(
            r#"mutation { createSegment(input: { name: "Everyone", rule: { platformIn: [INSTAGRAM, TIKTOK, YOUTUBE, TWITCH, X, OTHER] } }) { userErrors { code } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(made["createSegment"]["userErrors"], json!([]));
    let old = server.app.count_rows("segment_membership_change").await;
    assert!(old > 1_500, "{old}");
    let oldest = server
        .graphql(
            "{ membershipChanges(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await["membershipChanges"]["nodes"][0]["id"]
        .clone();
    // Those changes were made ten days ago.
    let ten_days_ago = chrono::Utc::now() - chrono::Duration::days(10);
    let aged = Query::update()
        .table(sea_orm::sea_query::Alias::new("segment_membership_change"))
        .value(sea_orm::sea_query::Alias::new("at"), ten_days_ago)
        .to_owned();
    server.app.db.execute(&aged).await.expect("age the history");
    let ana = server.app.create_influencer("ana").await;
    let fresh = server.app.create_segment("Fresh").await;
    server.assign(&[&ana], &fresh).await;

    let cutoff = chrono::Utc::now() - chrono::Duration::days(1);
    let pruned = segments_api::service::retention::prune(&server.app.db, cutoff)
        .await
        .expect("prune");
    assert_eq!(pruned, old as u64);
    let left = server
        .graphql(
            "{ membershipChanges { totalCount nodes { id segmentName } } }",
            json!({}),
        )
        .await;
    // Ana's two: the rule that takes everyone took her in, then the assignment.
    assert_eq!(left["membershipChanges"]["totalCount"], 2);
    assert_eq!(
        left["membershipChanges"]["nodes"][0]["segmentName"],
        "Everyone"
    );
    assert_eq!(
        left["membershipChanges"]["nodes"][1]["segmentName"],
        "Fresh"
    );
    // Positions go on after pruning: the new change is numbered after the pruned ones.
    let next = left["membershipChanges"]["nodes"][0]["id"].clone();
    assert_ne!(next, oldest);
    // A pruned change is no place to resume from, by query or subscription.
    let response = server
        .response(
            "query($after: String) { membershipChanges(after: $after) { totalCount } }",
            json!({ "after": oldest }),
        )
        .await;
    assert_eq!(
        response["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{response}"
    );
    let mut ws = common::ws::WsClient::connect(&server.addr, &server.key).await;
    ws.subscribe("gone", FEED, json!({ "after": oldest })).await;
    let message = ws
        .next_message(std::time::Duration::from_secs(10))
        .await
        .expect("an answer");
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{message}"
    );
    // A second pruning finds nothing more to delete.
    assert_eq!(
        segments_api::service::retention::prune(&server.app.db, cutoff)
            .await
            .expect("prune"),
        0
    );
}

#[tokio::test]
async fn pruning_stops_at_the_first_change_to_keep_so_the_history_left_has_no_gap() {
    use sea_orm::{
        ConnectionTrait,
        sea_query::{Alias, Expr, ExprTrait, Query},
    };
    let server = Server::start().await;
    let ana = server.app.create_influencer("ana").await;
    for name in ["First", "Second", "Third"] {
        let segment = server.app.create_segment(name).await;
        server.assign(&[&ana], &segment).await;
    }
    let age = |names: &[&str]| {
        Query::update()
            .table(Alias::new("segment_membership_change"))
            .value(
                Alias::new("at"),
                chrono::Utc::now() - chrono::Duration::days(10),
            )
            .and_where(Expr::col(Alias::new("segment_name")).is_in(names.iter().copied()))
            .to_owned()
    };
    let names = || async {
        server
            .graphql("{ membershipChanges { nodes { segmentName } } }", json!({}))
            .await["membershipChanges"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|node| node["segmentName"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let prune = || async {
        let cutoff = chrono::Utc::now() - chrono::Duration::days(1);
        segments_api::service::retention::prune(&server.app.db, cutoff)
            .await
            .expect("prune")
    };
    // The third change is as old as the first, but comes after the second, which is not: it
    // stays until the second goes, so a reader resuming from the second misses nothing.
    server
        .app
        .db
        .execute(&age(&["First", "Third"]))
        .await
        .expect("age");
    assert_eq!(prune().await, 1);
    assert_eq!(names().await, ["Second", "Third"]);
    server.app.db.execute(&age(&["Second"])).await.expect("age");
    assert_eq!(prune().await, 2);
    assert_eq!(names().await, Vec::<String>::new());
}
