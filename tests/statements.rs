//! The number of SQL statements a request runs depends on the shape of the query, not on how
//! many objects it returns: relations are fetched by DataLoaders in batches, and bulk writes are
//! set-based. Counted through SeaORM's metric callback.

mod common;

use common::TestApp;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const DASHBOARD: &str = "query($n: Int!) {
  segments(first: $n) {
    totalCount
    nodes {
      name
      memberCount
      influencers(first: 10) {
        totalCount
        pageInfo { hasNextPage }
        nodes {
          handle
          unassigned
          segments { name }
          memberships { assignedAt source automation { id } segment { name } }
        }
      }
    }
  }
}";

/// 20 segments of 10 influencers each; every influencer is also in a shared "All" segment.
async fn roster() -> TestApp {
    let app = TestApp::spawn().await;
    let all = app.create_segment("All").await;
    for s in 0..20 {
        let segment = app.create_segment(&format!("S{s:02}")).await;
        let ids = app.create_influencers(&format!("s{s}i"), 10).await;
        app.assign(&ids, &segment).await;
        app.assign(&ids, &all).await;
    }
    app
}

async fn statements_for(app: &TestApp, query: &str, variables: Value) -> (usize, Value) {
    app.take_statement_count();
    let data = app.data(query, variables).await;
    (app.take_statement_count(), data)
}

/// The statements of one operation: those that count members, and the others.
async fn counts_and_others(app: &TestApp, query: &str, variables: Value) -> (usize, usize, Value) {
    app.take_statements();
    let data = app.data(query, variables).await;
    let statements = app.take_statements();
    let counts = statements
        .iter()
        .filter(|s| s.contains(r#"COUNT(*) AS "n" FROM "segment_membership""#))
        .count();
    (counts, statements.len() - counts, data)
}

#[tokio::test]
async fn the_dashboard_query_runs_the_same_few_statements_for_2_and_20_segments() {
    let app = roster().await;
    let (small_counts, small, small_data) =
        counts_and_others(&app, DASHBOARD, json!({ "n": 3 })).await;
    let (large_counts, large, large_data) =
        counts_and_others(&app, DASHBOARD, json!({ "n": 21 })).await;
    // Member counts are one statement per level that asks for them (`memberCount`, then the
    // page's `totalCount`), or none where a slow count was kept (see `count_cache`): which, depends
    // on how long each count took, so they are checked apart.
    for counts in [small_counts, large_counts] {
        assert!(
            (1..=2).contains(&counts),
            "{counts} member-count statements"
        );
    }
    assert_eq!(small_data["segments"]["nodes"].as_array().unwrap().len(), 3);
    let nodes = large_data["segments"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 21);
    // 200 influencers with 400 memberships came back ...
    let returned: usize = nodes[1..]
        .iter()
        .map(|s| s["influencers"]["nodes"].as_array().unwrap().len())
        .sum();
    assert_eq!(returned, 200);
    assert_eq!(
        nodes[1]["influencers"]["nodes"][0]["segments"],
        json!([{ "name": "All" }, { "name": "S00" }])
    );
    // ... through the same statements as 3 segments: one per relation level, not per object.
    assert_eq!(
        small, large,
        "statement count must not grow with the result"
    );
    assert!(large <= 10, "{large} statements");
    println!(
        "dashboard query ({}): {large} SQL statements for 21 segments x 10 influencers",
        common::backend()
    );
}

#[tokio::test]
async fn campaign_audiences_and_recipients_are_batched_too() {
    let app = roster().await;
    let segments = app
        .data("{ segments(first: 21) { nodes { id } } }", json!({}))
        .await;
    let ids: Vec<Value> = segments["segments"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    for i in 0..10 {
        let data = app
            .data(
                "mutation($name: String!, $ids: [ID!]) { createCampaign(input: { name: $name, audienceSegmentIds: $ids }) { userErrors { code } } }",
                json!({ "name": format!("C{i}"), "ids": [ids[1 + i], ids[2 + i]] }),
            )
            .await;
        assert_eq!(data["createCampaign"]["userErrors"], json!([]));
    }
    let query = "query($n: Int!) { campaigns(first: $n) { nodes { name audience { name memberCount } recipients(first: 5) { totalCount nodes { handle segments { name } } } automations { trigger } } } }";
    let (small, _) = statements_for(&app, query, json!({ "n": 2 })).await;
    let (large, data) = statements_for(&app, query, json!({ "n": 10 })).await;
    let first = &data["campaigns"]["nodes"][0];
    assert_eq!(first["recipients"]["totalCount"], json!(20));
    assert_eq!(
        first["audience"],
        json!([{ "name": "S00", "memberCount": 10 }, { "name": "S01", "memberCount": 10 }])
    );
    assert_eq!(small, large);
    println!(
        "campaigns query ({}): {large} SQL statements for 10 campaigns",
        common::backend()
    );
}

#[tokio::test]
async fn bulk_assignment_runs_the_same_statements_for_10_and_1000_ids() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 1000).await;
    let assign = "mutation($ids: [ID!]!, $name: String!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: $name } } }) { segment { memberCount } userErrors { code } } }";
    let (small, small_data) =
        statements_for(&app, assign, json!({ "ids": ids[..10], "name": "Ten" })).await;
    let (large, large_data) =
        statements_for(&app, assign, json!({ "ids": ids, "name": "Thousand" })).await;
    assert_eq!(
        small_data["assignToSegment"]["segment"]["memberCount"],
        json!(10)
    );
    assert_eq!(
        large_data["assignToSegment"]["segment"]["memberCount"],
        json!(1000)
    );
    assert_eq!(small, large, "set-based: no statement per id");
    println!(
        "assignToSegment ({}): {large} SQL statements for 1000 ids",
        common::backend()
    );
}

/// Re-assigning members writes nothing: their rows are read, not locked (on PostgreSQL a row lock
/// is a write), and no insert runs when nobody is new.
#[tokio::test]
async fn re_assigning_members_reads_them_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("r", 1000).await;
    let segment = app.create_segment("Members").await;
    let assign = "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg } }) { addedCount segment { memberCount } userErrors { code } } }";
    let variables = json!({ "ids": ids, "seg": segment });
    let (first, first_data) = statements_for(&app, assign, variables.clone()).await;
    let (again, again_data) = statements_for(&app, assign, variables).await;
    assert_eq!(first_data["assignToSegment"]["addedCount"], json!(1000));
    assert_eq!(again_data["assignToSegment"]["addedCount"], json!(0));
    assert_eq!(
        again_data["assignToSegment"]["segment"]["memberCount"],
        json!(1000)
    );
    // Skipped: the newcomers' lock, the look for the pipeline stages they would leave, the
    // insert, the rules that follow a change, and the history of the change: its positions and
    // its rows, in two statements on SQLite, and on PostgreSQL in one, followed by the
    // notification of the new memberships to other instances.
    let skipped = 6;
    assert_eq!(again, first - skipped, "a re-assignment writes nothing");
}

#[tokio::test]
async fn a_profile_page_is_one_statement_with_or_without_memberships() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("p", 2).await;
    let b = app.create_segment("B").await;
    let a = app.create_segment("A").await;
    app.assign(&ids[..1], &a).await;
    app.assign(&ids[..1], &b).await;
    let profile = "query($id: ID!) { influencer(id: $id) { handle unassigned
        segments { name } memberships { source segment { id name } } } }";

    let (statements, data) = statements_for(&app, profile, json!({ "id": ids[0] })).await;
    let influencer = &data["influencer"];
    assert_eq!(influencer["handle"], json!("p0"));
    assert_eq!(influencer["unassigned"], json!(false));
    // Segment order (B was made first), in both lists.
    assert_eq!(
        influencer["segments"],
        json!([{ "name": "B" }, { "name": "A" }])
    );
    assert_eq!(
        influencer["memberships"],
        json!([
            { "source": "MANUAL", "segment": { "id": b, "name": "B" } },
            { "source": "MANUAL", "segment": { "id": a, "name": "A" } },
        ])
    );
    assert_eq!(statements, 1, "the influencer and its memberships together");

    let (statements, data) = statements_for(&app, profile, json!({ "id": ids[1] })).await;
    assert_eq!(
        data["influencer"],
        json!({ "handle": "p1", "unassigned": true, "segments": [], "memberships": [] })
    );
    assert_eq!(statements, 1);

    // An id of nothing: null, after one statement.
    let gone = "SW5mbHVlbmNlcjo5OTk5OTk"; // Influencer:999999
    let (statements, data) = statements_for(&app, profile, json!({ "id": gone })).await;
    assert_eq!(data["influencer"], Value::Null);
    assert_eq!(statements, 1);

    // Without memberships in the selection, the influencer alone is read.
    let (statements, data) = statements_for(
        &app,
        "query($id: ID!) { influencer(id: $id) { handle } }",
        json!({ "id": ids[0] }),
    )
    .await;
    assert_eq!(data["influencer"]["handle"], json!("p0"));
    assert_eq!(statements, 1);
}

#[tokio::test]
async fn an_update_that_keeps_the_handle_does_not_look_for_a_taken_one() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("u", 2).await;
    let update = "mutation($input: UpdateInfluencerInput!) { updateInfluencer(input: $input) { influencer { handle followerCount } userErrors { code } } }";
    let (kept, data) = statements_for(
        &app,
        update,
        json!({ "input": { "id": ids[0], "followerCount": 5000 } }),
    )
    .await;
    assert_eq!(
        data["updateInfluencer"],
        json!({ "influencer": { "handle": "u0", "followerCount": 5000 }, "userErrors": [] })
    );
    let (renamed, data) = statements_for(
        &app,
        update,
        json!({ "input": { "id": ids[0], "handle": "U0-new" } }),
    )
    .await;
    assert_eq!(data["updateInfluencer"]["userErrors"], json!([]));
    assert_eq!(kept + 1, renamed, "only a new handle is looked up");
    // A new handle that another influencer has is still refused.
    let (_, data) = statements_for(
        &app,
        update,
        json!({ "input": { "id": ids[0], "handle": "u1" } }),
    )
    .await;
    assert_eq!(
        data["updateInfluencer"],
        json!({ "influencer": null, "userErrors": [{ "code": "NAME_TAKEN" }] })
    );
}
