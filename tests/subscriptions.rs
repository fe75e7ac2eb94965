//! Live membership updates over a real WebSocket (`graphql-transport-ws` at `/graphql/ws`),
//! on the router served by axum. On PostgreSQL the events travel through LISTEN/NOTIFY; on SQLite
//! in process. Every change below is made over HTTP, as clients make them.
mod common;

use std::time::Duration;

use common::{TestApp, ws::WsClient};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const CHANGES: &str = "subscription($segmentId: ID) {
  segmentMembershipChanged(segmentId: $segmentId) {
    change influencerId influencer { handle } segmentId segment { name } source
    automation { id trigger } at
  }
}";

/// The application on an ephemeral local port.
struct Server {
    app: TestApp,
    addr: String,
    key: String,
}

impl Server {
    async fn start() -> Self {
        Self::start_with(segments_api::config::HttpConfig::default()).await
    }

    async fn start_with(config: segments_api::config::HttpConfig) -> Self {
        let app = TestApp::spawn().await;
        let addr = app.serve(&config).await;
        let key = app.api_key().await;
        Self { app, addr, key }
    }

    /// Runs an operation over HTTP; returns `data`, failing on any error.
    async fn graphql(&self, query: &str, variables: Value) -> Value {
        common::graphql_at(&self.addr, &self.key, query, variables).await
    }

    async fn assign(&self, ids: &[String], segment: &str) -> Value {
        self.graphql(
            "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg } }) { userErrors { code } } }",
            json!({ "ids": ids, "seg": segment }),
        )
        .await["assignToSegment"]["userErrors"]
            .clone()
    }

    async fn remove(&self, ids: &[String], segment: &str) -> Value {
        self.graphql(
            "mutation($ids: [ID!]!, $seg: ID!) { removeFromSegment(input: { influencerIds: $ids, segmentId: $seg }) { userErrors { code } } }",
            json!({ "ids": ids, "seg": segment }),
        )
        .await["removeFromSegment"]["userErrors"]
            .clone()
    }

    /// A subscriber whose subscription is live once this returns.
    async fn subscriber(&self, segment: Option<&str>) -> WsClient {
        let mut ws = WsClient::connect(&self.addr, &self.key).await;
        ws.subscribe("1", CHANGES, json!({ "segmentId": segment }))
            .await;
        ws.sync().await;
        ws
    }
}

fn changes(events: &[Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| {
            let c = &e["data"]["segmentMembershipChanged"];
            (
                c["change"].as_str().unwrap().to_owned(),
                c["influencer"]["handle"]
                    .as_str()
                    .unwrap_or("<deleted>")
                    .to_owned(),
                c["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn triple(change: &str, handle: &str, source: &str) -> (String, String, String) {
    (change.into(), handle.into(), source.into())
}

#[tokio::test]
async fn assignments_and_removals_reach_subscribers_as_they_commit() {
    let server = Server::start().await;
    let ids = server.app.create_influencers("live", 3).await;
    let segment = server.app.create_segment("Gamers").await;
    let mut ws = server.subscriber(None).await;

    assert_eq!(server.assign(&ids[..2], &segment).await, json!([]));
    let added = ws.events("1", 2).await;
    assert_eq!(
        changes(&added),
        vec![
            triple("ADDED", "live0", "MANUAL"),
            triple("ADDED", "live1", "MANUAL")
        ]
    );
    let first = &added[0]["data"]["segmentMembershipChanged"];
    assert_eq!(first["influencerId"], json!(ids[0]));
    assert_eq!(first["segmentId"], json!(segment));
    assert_eq!(first["segment"]["name"], "Gamers");
    assert_eq!(first["automation"], Value::Null);
    assert!(first["at"].as_str().unwrap().ends_with('Z'), "{first}");

    // Assigning members again changes nothing, so nothing is sent; the new member is.
    assert_eq!(server.assign(&ids, &segment).await, json!([]));
    assert_eq!(
        changes(&ws.events("1", 1).await),
        vec![triple("ADDED", "live2", "MANUAL")]
    );

    assert_eq!(server.remove(&ids[1..2], &segment).await, json!([]));
    assert_eq!(
        changes(&ws.events("1", 1).await),
        vec![triple("REMOVED", "live1", "MANUAL")]
    );
    ws.assert_quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn deleting_a_segment_or_an_influencer_ends_its_memberships_for_subscribers() {
    let server = Server::start().await;
    let ids = server.app.create_influencers("gone", 3).await;
    let segment = server.app.create_segment("Doomed").await;
    server.assign(&ids, &segment).await;
    let mut ws = server.subscriber(None).await;

    let deleted = server
        .graphql(
            "mutation($id: ID!) { deleteInfluencer(input: { id: $id }) { deletedInfluencerId } }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(
        deleted["deleteInfluencer"]["deletedInfluencerId"],
        json!(ids[0])
    );
    let event = ws.events("1", 1).await;
    assert_eq!(
        changes(&event),
        vec![triple("REMOVED", "<deleted>", "MANUAL")]
    );
    assert_eq!(
        event[0]["data"]["segmentMembershipChanged"]["influencerId"],
        json!(ids[0])
    );

    server
        .graphql(
            "mutation($id: ID!) { deleteSegment(input: { id: $id }) { deletedSegmentId } }",
            json!({ "id": segment }),
        )
        .await;
    let events = ws.events("1", 2).await;
    assert_eq!(
        changes(&events),
        vec![
            triple("REMOVED", "gone1", "MANUAL"),
            triple("REMOVED", "gone2", "MANUAL")
        ]
    );
    for event in &events {
        let change = &event["data"]["segmentMembershipChanged"];
        assert_eq!(change["segmentId"], json!(segment));
        assert_eq!(change["segment"], Value::Null, "the segment is gone");
    }
}

#[tokio::test]
async fn an_automation_assignment_reaches_subscribers_with_its_automation() {
    let server = Server::start().await;
    let influencer = server.app.create_influencer("replier").await;
    let campaign = server
        .graphql(
            r#"mutation { createCampaign(input: { name: "Launch" }) { campaign { id } } }"#,
            json!({}),
        )
        .await["createCampaign"]["campaign"]["id"]
        .clone();
    let automation = server
        .graphql(
            r#"mutation($c: ID!) { addAutomation(input: { campaignId: $c, trigger: EMAIL_REPLIED, assignToSegment: { create: { name: "Warm leads" } } }) { automation { id segment { id } } userErrors { code } } }"#,
            json!({ "c": campaign }),
        )
        .await["addAutomation"]["automation"]
        .clone();
    let warm = automation["segment"]["id"].as_str().unwrap().to_owned();
    // Subscribed to the automation's segment only.
    let mut ws = server.subscriber(Some(&warm)).await;

    let other = server.app.create_segment("Elsewhere").await;
    server
        .assign(std::slice::from_ref(&influencer), &other)
        .await;
    server
        .graphql(
            "mutation($c: ID!, $i: ID!) { recordEngagement(input: { campaignId: $c, influencerId: $i, kind: EMAIL_REPLIED }) { assignedSegments { id } } }",
            json!({ "c": campaign, "i": influencer }),
        )
        .await;

    let events = ws.events("1", 1).await;
    assert_eq!(
        changes(&events),
        vec![triple("ADDED", "replier", "AUTOMATION")]
    );
    let change = &events[0]["data"]["segmentMembershipChanged"];
    assert_eq!(change["segment"]["name"], "Warm leads");
    assert_eq!(
        change["automation"],
        json!({ "id": automation["id"], "trigger": "EMAIL_REPLIED" })
    );
    // The assignment to the other segment was not sent to this segment's subscriber.
    ws.assert_quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_write_that_is_refused_sends_nothing() {
    let server = Server::start().await;
    let ids = server.app.create_influencers("maybe", 2).await;
    let segment = server.app.create_segment("Careful").await;
    let mut ws = server.subscriber(None).await;

    // One unknown id: the whole assignment is refused and nothing committed.
    let mut with_unknown = ids.clone();
    with_unknown.push(
        segments_api::graphql::schema::ids::encode(
            segments_api::graphql::schema::ids::Kind::Influencer,
            999_999,
        )
        .to_string(),
    );
    let errors = server.assign(&with_unknown, &segment).await;
    assert_ne!(errors, json!([]));
    ws.assert_quiet(Duration::from_millis(300)).await;

    assert_eq!(server.assign(&ids[..1], &segment).await, json!([]));
    assert_eq!(
        changes(&ws.events("1", 1).await),
        vec![triple("ADDED", "maybe0", "MANUAL")]
    );
}

#[tokio::test]
async fn a_bulk_assignment_sends_one_event_per_new_membership() {
    let server = Server::start().await;
    // Past one NOTIFY payload's worth of ids, so the batch travels in several.
    let n = 700;
    let handles: Vec<String> = (0..n).map(|i| format!("bulk{i:04}")).collect();
    let mut ids = Vec::new();
    for chunk in handles.chunks(100) {
        let inputs: Vec<Value> = chunk
            .iter()
            .map(|h| json!({ "handle": h, "platform": "TIKTOK" }))
            .collect();
        for input in inputs {
            let data = server
                .app
                .data(
                    "mutation($input: CreateInfluencerInput!) { createInfluencer(input: $input) { influencer { id } } }",
                    json!({ "input": input }),
                )
                .await;
            ids.push(
                data["createInfluencer"]["influencer"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    let segment = server.app.create_segment("Everyone").await;
    let mut ws = server.subscriber(Some(&segment)).await;

    assert_eq!(server.assign(&ids, &segment).await, json!([]));
    let events = ws.events("1", n).await;
    let mut got: Vec<String> = changes(&events).into_iter().map(|(_, h, _)| h).collect();
    got.sort();
    assert_eq!(got, handles);
    ws.assert_quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn another_workspaces_changes_never_reach_a_subscriber() {
    let server = Server::start().await;
    // Workspace B, with its own key, subscribes to everything and to A's segment by id.
    let b = segments_api::service::auth::create_workspace(&server.app.db, "Other agency")
        .await
        .unwrap();
    let b_key = segments_api::service::auth::create_key(
        &server.app.db,
        segments_api::service::WorkspaceId(b.id),
        "test",
    )
    .await
    .unwrap()
    .secret;
    let a_ids = server.app.create_influencers("a", 2).await;
    let a_segment = server.app.create_segment("A's folder").await;
    let mut b_all = WsClient::connect(&server.addr, &b_key).await;
    b_all.subscribe("all", CHANGES, json!({})).await;
    let mut b_targeted = WsClient::connect(&server.addr, &b_key).await;
    b_targeted
        .subscribe("a", CHANGES, json!({ "segmentId": a_segment }))
        .await;
    let mut a = server.subscriber(None).await;
    b_all.sync().await;
    b_targeted.sync().await;

    assert_eq!(server.assign(&a_ids, &a_segment).await, json!([]));
    assert_eq!(a.events("1", 2).await.len(), 2);
    server.remove(&a_ids, &a_segment).await;
    assert_eq!(a.events("1", 2).await.len(), 2);
    b_all.assert_quiet(Duration::from_millis(500)).await;
    b_targeted.assert_quiet(Duration::from_millis(100)).await;

    // B's own change does reach B: the silence above was not a dead connection.
    let b_data = common::graphql_at(
        &server.addr,
        &b_key,
        r#"mutation { createInfluencer(input: { handle: "b0", platform: X }) { influencer { id } } }"#,
        json!({}),
    )
    .await;
    let b_influencer = b_data["createInfluencer"]["influencer"]["id"].clone();
    let b_assigned = common::graphql_at(
        &server.addr,
        &b_key,
        r#"mutation($ids: [ID!]!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: "B's folder" } } }) { userErrors { code } } }"#,
        json!({ "ids": [b_influencer] }),
    )
    .await;
    assert_eq!(b_assigned["assignToSegment"]["userErrors"], json!([]));
    let events = b_all.events("all", 1).await;
    assert_eq!(changes(&events), vec![triple("ADDED", "b0", "MANUAL")]);
    a.assert_quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_connection_needs_a_live_key() {
    let server = Server::start().await;
    for payload in [
        json!({}),
        json!({ "Authorization": "Bearer sk_not_a_real_key_at_all_0000000000000000000" }),
        json!({ "Authorization": format!("Basic {}", server.key) }),
        json!({ "apiKey": "" }),
    ] {
        let refused = WsClient::connect_with(&server.addr, &[], payload.clone())
            .await
            .err()
            .unwrap_or_else(|| panic!("accepted {payload}"));
        assert_eq!(refused.code, 4403, "{payload}");
    }
    // The key may also come as `apiKey`, or in the upgrade request's header (non-browser clients).
    WsClient::connect_with(&server.addr, &[], json!({ "apiKey": server.key }))
        .await
        .expect("apiKey accepted");
    let bearer = format!("Bearer {}", server.key);
    let mut by_header =
        WsClient::connect_with(&server.addr, &[("authorization", &bearer)], json!({}))
            .await
            .expect("header accepted");
    // Queries work over the socket too, in the key's workspace.
    by_header
        .subscribe("q", "{ viewer { workspace { name } } }", json!({}))
        .await;
    let message = by_header
        .next_message(Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        message["payload"]["data"]["viewer"]["workspace"]["name"],
        "Default"
    );
}

#[tokio::test]
async fn a_malformed_segment_id_is_an_error_and_unsubscribing_stops_events() {
    let server = Server::start().await;
    let mut ws = WsClient::connect(&server.addr, &server.key).await;
    ws.subscribe("bad", CHANGES, json!({ "segmentId": "not-an-id" }))
        .await;
    // The resolver's error (graphql-ws sends those in `next`), then the end of the operation.
    let message = ws.next_message(Duration::from_secs(5)).await.unwrap();
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    let message = ws.next_message(Duration::from_secs(5)).await.unwrap();
    assert_eq!(message, json!({ "id": "bad", "type": "complete" }));

    let ids = server.app.create_influencers("stop", 2).await;
    let segment = server.app.create_segment("Stops").await;
    ws.subscribe("1", CHANGES, json!({})).await;
    ws.sync().await;
    server.assign(&ids[..1], &segment).await;
    assert_eq!(ws.events("1", 1).await.len(), 1);
    ws.complete("1").await;
    let message = ws.next_message(Duration::from_secs(5)).await.unwrap();
    assert_eq!(message, json!({ "id": "1", "type": "complete" }));
    server.assign(&ids[1..], &segment).await;
    ws.assert_quiet(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn a_socket_that_never_sends_connection_init_is_closed() {
    let server = Server::start().await;
    let mut request = format!("ws://{}/graphql/ws", server.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let started = std::time::Instant::now();
    // The server closes the connection after its 10 s init timeout, with the protocol's 4408.
    let end = tokio::time::timeout(Duration::from_secs(20), async {
        use futures_util::StreamExt;
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await;
    assert_eq!(end.expect("closed within 20 s"), Some(4408));
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "closed too early"
    );
}

#[tokio::test]
async fn revoking_a_key_closes_its_open_sockets() {
    let server = Server::start_with(segments_api::config::HttpConfig {
        ws_key_recheck: Duration::from_millis(200),
        api_key_cache: Duration::from_millis(200),
        ..Default::default()
    })
    .await;
    let other_key = server.app.api_key().await;
    let mut revoked = server.subscriber(None).await;
    let mut kept = WsClient::connect(&server.addr, &other_key).await;
    kept.subscribe("1", CHANGES, json!({})).await;
    kept.sync().await;
    segments_api::service::auth::revoke_key(&server.app.db, &server.key)
        .await
        .unwrap();
    // Within a few checks the revoked key's socket ends; the other key's stays and still hears.
    let closed = revoked.next_message(Duration::from_secs(5)).await;
    assert_eq!(closed, Some(json!({ "type": "closed", "code": 4403 })));
    let ids = server.app.create_influencers("still", 1).await;
    let segment = server.app.create_segment("Still here").await;
    common::graphql_at(
        &server.addr,
        &other_key,
        "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg } }) { userErrors { code } } }",
        json!({ "ids": ids, "seg": segment }),
    )
    .await;
    assert_eq!(kept.events("1", 1).await.len(), 1);
}

#[tokio::test]
async fn subscriptions_are_held_to_the_request_limits() {
    let server = Server::start().await;
    let mut ws = WsClient::connect(&server.addr, &server.key).await;
    let aliases: String = (0..31)
        .map(|i| format!("a{i}: segmentMembershipChanged {{ change }} "))
        .collect();
    ws.subscribe("wide", &format!("subscription {{ {aliases} }}"), json!({}))
        .await;
    let message = ws.next_message(Duration::from_secs(5)).await.unwrap();
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"],
        "TOO_MANY_ALIASES"
    );
    let message = ws.next_message(Duration::from_secs(5)).await.unwrap();
    assert_eq!(message, json!({ "id": "wide", "type": "complete" }));
}

#[tokio::test]
async fn operations_on_one_socket_each_read_the_memberships_as_they_are() {
    let server = Server::start().await;
    let ids = server.app.create_influencers("sock", 1).await;
    let segment = server.app.create_segment("Later").await;
    let mut ws = WsClient::connect(&server.addr, &server.key).await;
    // A profile read with its memberships in one statement...
    let profile = ws
        .data(
            "q1",
            "query($id: ID!) { influencer(id: $id) { segments { name } } }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(profile["influencer"]["segments"], json!([]));
    // ... then a write on the same socket, and reads through the loader: all see the write.
    let assigned = ws
        .data(
        "m1",
        "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg } }) { influencers { segments { name } } userErrors { code } } }",
        json!({ "ids": ids, "seg": segment }),
    )
    .await;
    assert_eq!(
        assigned["assignToSegment"]["influencers"],
        json!([{ "segments": [{ "name": "Later" }] }])
    );
    let roster = ws
        .data(
            "q2",
            "{ influencers(first: 5) { nodes { unassigned segments { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        roster["influencers"]["nodes"],
        json!([{ "unassigned": false, "segments": [{ "name": "Later" }] }])
    );
}

#[tokio::test]
async fn changes_by_filter_and_by_rule_reach_subscribers_whole_with_their_source() {
    let server = Server::start().await;
    // Thousands of influencers: their events travel in many bounded notifications on
    // PostgreSQL, each batch at most a few thousand ids.
    let seeded = segments_api::cli::seed::seed(&server.app.db, server.app.workspace, 3_000)
        .await
        .expect("seed");
    let roster = seeded.influencers as usize;
    const SOURCES: &str =
        "subscription { segmentMembershipChanged { change influencerId segment { name } source } }";
    let mut ws = WsClient::connect(&server.addr, &server.key).await;
    ws.subscribe("1", SOURCES, json!({})).await;
    ws.sync().await;

    let everyone = server
        .graphql(
            "mutation { assignToSegment(input: { filter: {}, segment: { create: { name: \"Everyone\" } } }) { segment { id } addedCount userErrors { code } } }",
            json!({}),
        )
        .await["assignToSegment"]
        .clone();
    assert_eq!(everyone["addedCount"], roster, "{everyone}");
    let events = ws.events("1", roster).await;
    let mut added = std::collections::BTreeSet::new();
    for event in &events {
        let change = &event["data"]["segmentMembershipChanged"];
        assert_eq!(
            (
                &change["change"],
                &change["segment"]["name"],
                &change["source"]
            ),
            (&json!("ADDED"), &json!("Everyone"), &json!("MANUAL"))
        );
        added.insert(change["influencerId"].as_str().unwrap().to_owned());
    }
    assert_eq!(added.len(), roster, "each influencer once");

    let tiktok = server
        .graphql(
            "{ influencers(filter: { platformIn: [TIKTOK] }) { totalCount } }",
            json!({}),
        )
        .await["influencers"]["totalCount"]
        .as_u64()
        .unwrap() as usize;
    let made = server
        .graphql(
            "mutation($all: ID!) { createSegment(input: { name: \"TikTok\", rule: { inAnySegment: [$all], platformIn: [TIKTOK] } }) { segment { memberCount } userErrors { code } } }",
            json!({ "all": everyone["segment"]["id"] }),
        )
        .await;
    assert_eq!(made["createSegment"]["segment"]["memberCount"], tiktok);
    for event in ws.events("1", tiktok).await {
        let change = &event["data"]["segmentMembershipChanged"];
        assert_eq!(
            (
                &change["change"],
                &change["segment"]["name"],
                &change["source"]
            ),
            (&json!("ADDED"), &json!("TikTok"), &json!("RULE"))
        );
    }
    ws.assert_quiet(Duration::from_millis(300)).await;
}
