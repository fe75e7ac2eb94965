//! Relay cursor paging: forward and backward, page sizes and their limits, cursors, and the
//! connections of segments, Unassigned and searches.
mod common;

use common::TestApp;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const ROSTER_PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
    influencers(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { handle } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        totalCount
    }
}";

/// `prefix0`, `prefix1`, ... for the indices given.
fn names(prefix: &str, indices: impl IntoIterator<Item = usize>) -> Vec<String> {
    indices
        .into_iter()
        .map(|i| format!("{prefix}{i}"))
        .collect()
}

/// The handles of a connection's edges, in order.
fn edge_handles(conn: &Value) -> Vec<String> {
    conn["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("edges in {conn:#}"))
        .iter()
        .map(|e| e["node"]["handle"].as_str().unwrap().to_owned())
        .collect()
}

/// What a page shows, without its cursors: the handles and the two page flags.
fn summary(conn: &Value) -> Value {
    json!({
        "handles": edge_handles(conn),
        "hasNextPage": conn["pageInfo"]["hasNextPage"],
        "hasPreviousPage": conn["pageInfo"]["hasPreviousPage"],
    })
}

fn expected(handles: Vec<String>, has_next: bool, has_previous: bool) -> Value {
    json!({ "handles": handles, "hasNextPage": has_next, "hasPreviousPage": has_previous })
}

async fn roster_page(app: &TestApp, variables: Value) -> Value {
    app.data(ROSTER_PAGE, variables).await["influencers"].clone()
}

/// Pages forward `size` at a time until `hasNextPage` is false (at most `max_pages` pages).
async fn page_forward(app: &TestApp, size: i32, max_pages: usize) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = roster_page(app, json!({ "first": size, "after": after })).await;
        after = page["pageInfo"]["endCursor"].clone();
        let more = page["pageInfo"]["hasNextPage"] == json!(true);
        pages.push(page);
        if !more {
            return pages;
        }
        assert!(pages.len() < max_pages, "paging did not end: {pages:#?}");
    }
}

/// Pages backward from the end `size` at a time until `hasPreviousPage` is false.
async fn page_backward(app: &TestApp, size: i32, max_pages: usize) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut before = Value::Null;
    loop {
        let page = roster_page(app, json!({ "last": size, "before": before })).await;
        before = page["pageInfo"]["startCursor"].clone();
        let more = page["pageInfo"]["hasPreviousPage"] == json!(true);
        pages.push(page);
        if !more {
            return pages;
        }
        assert!(pages.len() < max_pages, "paging did not end: {pages:#?}");
    }
}

/// The `errors` of a response that must have failed with BAD_USER_INPUT and no data.
fn bad_input_error(message: &str, path: Value) -> Value {
    json!({
        "message": message,
        "locations": [{ "line": 1, "column": 3 }],
        "path": path,
        "extensions": { "code": "BAD_USER_INPUT" },
    })
}

async fn create_influencer_named(app: &TestApp, handle: &str, display_name: Option<&str>) {
    let data = app
        .data(
            "mutation($input: CreateInfluencerInput!) { createInfluencer(input: $input) { userErrors { code message } } }",
            json!({ "input": { "handle": handle, "displayName": display_name, "platform": "YOUTUBE" } }),
        )
        .await;
    assert_eq!(
        data["createInfluencer"]["userErrors"],
        json!([]),
        "{handle}"
    );
}

// ---- forward and backward paging over the roster ----

#[tokio::test]
async fn forward_paging_with_first_and_after_visits_every_influencer_once_in_creation_order() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 25).await;

    let pages = page_forward(&app, 10, 5).await;

    assert_eq!(
        pages.iter().map(summary).collect::<Vec<_>>(),
        vec![
            expected(names("inf", 0..10), true, false),
            expected(names("inf", 10..20), true, true),
            expected(names("inf", 20..25), false, true),
        ]
    );
}

#[tokio::test]
async fn backward_paging_with_last_and_before_visits_every_influencer_once_from_the_end() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 25).await;

    let pages = page_backward(&app, 10, 5).await;

    assert_eq!(
        pages.iter().map(summary).collect::<Vec<_>>(),
        vec![
            expected(names("inf", 15..25), false, true),
            expected(names("inf", 5..15), true, true),
            expected(names("inf", 0..5), true, false),
        ]
    );
}

#[tokio::test]
async fn backward_paging_gives_the_same_edges_in_the_same_order_as_forward_paging() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 25).await;

    let forward: Vec<Value> = page_forward(&app, 10, 5)
        .await
        .iter()
        .flat_map(|p| p["edges"].as_array().unwrap().clone())
        .collect();
    let backward: Vec<Value> = page_backward(&app, 10, 5)
        .await
        .iter()
        .rev()
        .flat_map(|p| p["edges"].as_array().unwrap().clone())
        .collect();

    assert_eq!(forward.len(), 25);
    assert_eq!(backward, forward);
}

#[tokio::test]
async fn every_page_reports_the_total_count_of_the_whole_list() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 25).await;

    let totals: Vec<Value> = page_forward(&app, 10, 5)
        .await
        .iter()
        .map(|p| p["totalCount"].clone())
        .collect();

    assert_eq!(totals, vec![json!(25), json!(25), json!(25)]);
}

#[tokio::test]
async fn start_and_end_cursors_are_the_cursors_of_the_first_and_last_edges() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 12).await;
    let first_page = roster_page(&app, json!({ "first": 5 })).await;
    let cursor = first_page["pageInfo"]["endCursor"].clone();

    for variables in [
        json!({ "first": 5 }),
        json!({ "first": 4, "after": cursor }),
        json!({ "last": 3 }),
        json!({ "last": 3, "before": cursor }),
    ] {
        let page = roster_page(&app, variables.clone()).await;
        let edges = page["edges"].as_array().unwrap();
        assert!(!edges.is_empty(), "{variables}: {page:#}");
        assert_eq!(
            json!({
                "startCursor": page["pageInfo"]["startCursor"],
                "endCursor": page["pageInfo"]["endCursor"],
            }),
            json!({
                "startCursor": edges[0]["cursor"],
                "endCursor": edges[edges.len() - 1]["cursor"],
            }),
            "{variables}"
        );
    }
}

#[tokio::test]
async fn each_edge_has_its_own_cursor() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 8).await;

    let page = roster_page(&app, json!({ "first": 8 })).await;
    let mut cursors: Vec<&str> = page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_str().unwrap())
        .collect();
    cursors.sort_unstable();
    cursors.dedup();

    assert_eq!(cursors.len(), 8);
}

#[tokio::test]
async fn after_and_before_together_give_the_items_between_them() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 10).await;
    let all = roster_page(&app, json!({ "first": 10 })).await;
    let cursor_of = |i: usize| all["edges"][i]["cursor"].clone();

    let page = roster_page(
        &app,
        json!({ "first": 10, "after": cursor_of(2), "before": cursor_of(7) }),
    )
    .await;

    assert_eq!(edge_handles(&page), names("inf", 3..7));
}

#[tokio::test]
async fn paging_after_the_last_cursor_gives_an_empty_page_with_items_before_it() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 3).await;
    let all = roster_page(&app, json!({ "first": 3 })).await;

    let page = roster_page(
        &app,
        json!({ "first": 3, "after": all["pageInfo"]["endCursor"] }),
    )
    .await;

    assert_eq!(
        page["pageInfo"],
        json!({ "hasNextPage": false, "hasPreviousPage": true, "startCursor": null, "endCursor": null })
    );
    assert_eq!(page["edges"], json!([]));
}

#[tokio::test]
async fn an_empty_roster_gives_an_empty_page() {
    let app = TestApp::spawn().await;

    let page = roster_page(&app, json!({})).await;

    assert_eq!(
        page,
        json!({
            "edges": [],
            "pageInfo": { "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null },
            "totalCount": 0,
        })
    );
}

// ---- page sizes ----

#[tokio::test]
async fn without_first_or_last_a_page_holds_twenty_items() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 25).await;

    let page = roster_page(&app, json!({})).await;

    assert_eq!(summary(&page), expected(names("inf", 0..20), true, false));
}

#[tokio::test]
async fn first_100_is_accepted() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 3).await;

    let page = roster_page(&app, json!({ "first": 100 })).await;

    assert_eq!(summary(&page), expected(names("inf", 0..3), false, false));
}

#[tokio::test]
async fn last_100_is_accepted() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 3).await;

    let page = roster_page(&app, json!({ "last": 100 })).await;

    assert_eq!(summary(&page), expected(names("inf", 0..3), false, false));
}

#[tokio::test]
async fn first_over_100_is_refused_as_bad_user_input() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 3).await;

    let response = app
        .exec("{ influencers(first: 101) { totalCount } }", json!({}))
        .await;

    assert_eq!(
        response,
        json!({
            "data": null,
            "errors": [bad_input_error("`first` must be at most 100 (got 101)", json!(["influencers"]))],
        })
    );
}

#[tokio::test]
async fn last_over_100_is_refused_as_bad_user_input() {
    let app = TestApp::spawn().await;

    let response = app
        .exec("{ influencers(last: 101) { totalCount } }", json!({}))
        .await;

    assert_eq!(
        response,
        json!({
            "data": null,
            "errors": [bad_input_error("`last` must be at most 100 (got 101)", json!(["influencers"]))],
        })
    );
}

#[tokio::test]
async fn negative_first_is_refused_as_bad_user_input() {
    let app = TestApp::spawn().await;

    let response = app
        .exec("{ influencers(first: -1) { totalCount } }", json!({}))
        .await;

    assert_eq!(
        response,
        json!({
            "data": null,
            "errors": [bad_input_error("`first` must not be negative", json!(["influencers"]))],
        })
    );
}

#[tokio::test]
async fn negative_last_is_refused_as_bad_user_input() {
    let app = TestApp::spawn().await;

    let response = app
        .exec("{ influencers(last: -1) { totalCount } }", json!({}))
        .await;

    assert_eq!(
        response,
        json!({
            "data": null,
            "errors": [bad_input_error("`last` must not be negative", json!(["influencers"]))],
        })
    );
}

#[tokio::test]
async fn first_and_last_together_are_refused_as_bad_user_input() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 3).await;

    let response = app
        .exec(
            "{ influencers(first: 2, last: 2) { totalCount } }",
            json!({}),
        )
        .await;

    assert_eq!(
        response,
        json!({
            "data": null,
            "errors": [bad_input_error("pass `first` or `last`, not both", json!(["influencers"]))],
        })
    );
}

#[tokio::test]
async fn first_0_gives_no_items() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 3).await;

    let page = roster_page(&app, json!({ "first": 0 })).await;

    assert_eq!(
        page,
        json!({
            "edges": [],
            "pageInfo": { "hasNextPage": true, "hasPreviousPage": false, "startCursor": null, "endCursor": null },
            "totalCount": 3,
        })
    );
}

#[tokio::test]
async fn last_0_gives_no_items() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 3).await;

    let page = roster_page(&app, json!({ "last": 0 })).await;

    assert_eq!(
        page,
        json!({
            "edges": [],
            "pageInfo": { "hasNextPage": false, "hasPreviousPage": true, "startCursor": null, "endCursor": null },
            "totalCount": 3,
        })
    );
}

// ---- cursors ----

/// Strings that are not cursors this server handed out.
fn malformed_cursors(app_influencer_id: &str) -> Vec<String> {
    vec![
        "".to_owned(),
        "not a cursor!".to_owned(),
        "Y3Vyc29yOmFiYw".to_owned(),  // base64url("cursor:abc")
        "Y3Vyc29yOg".to_owned(),      // base64url("cursor:")
        "eHl6OjE".to_owned(),         // base64url("xyz:1")
        app_influencer_id.to_owned(), // a global id, not a cursor
    ]
}

#[tokio::test]
async fn a_malformed_after_cursor_is_refused_as_bad_user_input() {
    let app = TestApp::spawn().await;
    let id = app.create_influencer("someone").await;

    for cursor in malformed_cursors(&id) {
        let response = app
            .exec(
                "query($after: String) { influencers(first: 5, after: $after) { totalCount } }",
                json!({ "after": cursor }),
            )
            .await;
        assert_eq!(
            response,
            json!({
                "data": null,
                "errors": [{
                    "message": "`after` is not a valid cursor",
                    "locations": [{ "line": 1, "column": 25 }],
                    "path": ["influencers"],
                    "extensions": { "code": "BAD_USER_INPUT" },
                }],
            }),
            "after: {cursor:?}"
        );
    }
}

#[tokio::test]
async fn a_malformed_before_cursor_is_refused_as_bad_user_input() {
    let app = TestApp::spawn().await;
    let id = app.create_influencer("someone").await;

    for cursor in malformed_cursors(&id) {
        let response = app
            .exec(
                "query($before: String) { influencers(last: 5, before: $before) { totalCount } }",
                json!({ "before": cursor }),
            )
            .await;
        assert_eq!(
            response,
            json!({
                "data": null,
                "errors": [{
                    "message": "`before` is not a valid cursor",
                    "locations": [{ "line": 1, "column": 26 }],
                    "path": ["influencers"],
                    "extensions": { "code": "BAD_USER_INPUT" },
                }],
            }),
            "before: {cursor:?}"
        );
    }
}

#[tokio::test]
async fn a_cursor_of_a_deleted_segment_still_pages_on_from_where_it_was() {
    let app = TestApp::spawn().await;
    for name in ["s0", "s1", "s2", "s3", "s4"] {
        app.create_segment(name).await;
    }
    let query = "query($after: String) { segments(first: 2, after: $after) { nodes { id name } pageInfo { hasNextPage hasPreviousPage endCursor } } }";
    let first = app.data(query, json!({ "after": null })).await["segments"].clone();
    let cursor = first["pageInfo"]["endCursor"].clone();
    let deleted = app
        .data(
            "mutation($id: ID!) { deleteSegment(input: { id: $id }) { userErrors { code } } }",
            json!({ "id": first["nodes"][1]["id"] }),
        )
        .await;
    assert_eq!(deleted["deleteSegment"]["userErrors"], json!([]));

    let next = app.data(query, json!({ "after": cursor })).await["segments"].clone();

    assert_eq!(
        json!({
            "names": next["nodes"].as_array().unwrap().iter().map(|n| n["name"].clone()).collect::<Vec<_>>(),
            "hasNextPage": next["pageInfo"]["hasNextPage"],
            "hasPreviousPage": next["pageInfo"]["hasPreviousPage"],
        }),
        json!({ "names": ["s2", "s3"], "hasNextPage": true, "hasPreviousPage": true })
    );
}

// ---- the connections of segments and Unassigned ----

#[tokio::test]
async fn a_segments_members_page_forward_oldest_influencer_first() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("m", 12).await;
    let segment = app.create_segment("Odd ones").await;
    // Assigned newest first, to show the order is the influencers' age, not the assignment's.
    let odd: Vec<String> = ids.iter().skip(1).step_by(2).rev().cloned().collect();
    app.assign(&odd, &segment).await;
    let query = "query($id: ID!, $after: String) { segment(id: $id) { influencers(first: 4, after: $after) { edges { cursor node { handle } } pageInfo { hasNextPage hasPreviousPage endCursor } totalCount } } }";

    let first = app
        .data(query, json!({ "id": segment, "after": null }))
        .await["segment"]["influencers"]
        .clone();
    let second = app
        .data(
            query,
            json!({ "id": segment, "after": first["pageInfo"]["endCursor"] }),
        )
        .await["segment"]["influencers"]
        .clone();

    assert_eq!(
        vec![summary(&first), summary(&second)],
        vec![
            expected(names("m", [1, 3, 5, 7]), true, false),
            expected(names("m", [9, 11]), false, true),
        ]
    );
    assert_eq!(
        vec![first["totalCount"].clone(), second["totalCount"].clone()],
        vec![json!(6), json!(6)]
    );
}

#[tokio::test]
async fn a_segments_members_page_backward_from_the_newest() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("m", 12).await;
    let segment = app.create_segment("Odd ones").await;
    let odd: Vec<String> = ids.iter().skip(1).step_by(2).cloned().collect();
    app.assign(&odd, &segment).await;
    let query = "query($id: ID!, $before: String) { segment(id: $id) { influencers(last: 4, before: $before) { edges { cursor node { handle } } pageInfo { hasNextPage hasPreviousPage startCursor } } } }";

    let last = app
        .data(query, json!({ "id": segment, "before": null }))
        .await["segment"]["influencers"]
        .clone();
    let earlier = app
        .data(
            query,
            json!({ "id": segment, "before": last["pageInfo"]["startCursor"] }),
        )
        .await["segment"]["influencers"]
        .clone();

    assert_eq!(
        vec![summary(&last), summary(&earlier)],
        vec![
            expected(names("m", [5, 7, 9, 11]), false, true),
            expected(names("m", [1, 3]), true, false),
        ]
    );
}

#[tokio::test]
async fn member_pages_of_many_segments_in_one_query_each_hold_their_own_members() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("m", 6).await;
    let a = app.create_segment("A").await;
    let b = app.create_segment("B").await;
    app.create_segment("Empty").await;
    let c = app.create_segment("C").await;
    app.assign(&ids[0..3], &a).await;
    app.assign(&[ids[4].clone()], &b).await;
    app.assign(&[ids[5].clone(), ids[2].clone(), ids[1].clone()], &c)
        .await;

    let data = app
        .data(
            "{ segments { nodes { name influencers(first: 2) { nodes { handle } pageInfo { hasNextPage hasPreviousPage } totalCount } } } }",
            json!({}),
        )
        .await;

    let page = |handles: &[&str], has_next: bool, total: i64| {
        json!({
            "nodes": handles.iter().map(|h| json!({ "handle": h })).collect::<Vec<_>>(),
            "pageInfo": { "hasNextPage": has_next, "hasPreviousPage": false },
            "totalCount": total,
        })
    };
    assert_eq!(
        data,
        json!({ "segments": { "nodes": [
            { "name": "A", "influencers": page(&["m0", "m1"], true, 3) },
            { "name": "B", "influencers": page(&["m4"], false, 1) },
            { "name": "Empty", "influencers": page(&[], false, 0) },
            { "name": "C", "influencers": page(&["m1", "m2"], true, 3) },
        ] } })
    );
}

#[tokio::test]
async fn unassigned_pages_over_the_influencers_in_no_segment() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("u", 10).await;
    let segment = app.create_segment("Taken").await;
    app.assign(&[ids[0].clone(), ids[3].clone(), ids[6].clone()], &segment)
        .await;
    let query = "query($after: String) { unassigned(first: 3, after: $after) { edges { cursor node { handle } } pageInfo { hasNextPage hasPreviousPage endCursor } totalCount } }";

    let mut pages = Vec::new();
    let mut after = Value::Null;
    for _ in 0..3 {
        let page = app.data(query, json!({ "after": after })).await["unassigned"].clone();
        after = page["pageInfo"]["endCursor"].clone();
        pages.push(page);
    }

    assert_eq!(
        pages.iter().map(summary).collect::<Vec<_>>(),
        vec![
            expected(names("u", [1, 2, 4]), true, false),
            expected(names("u", [5, 7, 8]), true, true),
            expected(names("u", [9]), false, true),
        ]
    );
    assert_eq!(pages[0]["totalCount"], json!(7));
}

#[tokio::test]
async fn unassigned_pages_backward_from_the_newest() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("u", 6).await;
    let segment = app.create_segment("Taken").await;
    app.assign(&[ids[1].clone(), ids[4].clone()], &segment)
        .await;
    let query = "query($before: String) { unassigned(last: 2, before: $before) { edges { cursor node { handle } } pageInfo { hasNextPage hasPreviousPage startCursor } } }";

    let last = app.data(query, json!({ "before": null })).await["unassigned"].clone();
    let earlier = app
        .data(query, json!({ "before": last["pageInfo"]["startCursor"] }))
        .await["unassigned"]
        .clone();

    assert_eq!(
        vec![summary(&last), summary(&earlier)],
        vec![
            expected(names("u", [3, 5]), false, true),
            expected(names("u", [0, 2]), true, false),
        ]
    );
}

// ---- searches ----

async fn segment_names(app: &TestApp, search: &str) -> Value {
    app.data(
        "query($search: String) { segments(search: $search) { nodes { name } totalCount } }",
        json!({ "search": search }),
    )
    .await["segments"]
        .clone()
}

fn named(names: &[&str]) -> Value {
    let nodes: Vec<Value> = names.iter().map(|n| json!({ "name": n })).collect();
    json!({ "nodes": nodes, "totalCount": names.len() })
}

#[tokio::test]
async fn segment_search_matches_a_substring_of_the_name_ignoring_case() {
    let app = TestApp::spawn().await;
    for name in [
        "Alpha Fans",
        "Beta",
        "ALPHA Beta",
        "gamma alphabet",
        "Delta",
    ] {
        app.create_segment(name).await;
    }

    assert_eq!(
        segment_names(&app, "aLpHa").await,
        named(&["Alpha Fans", "ALPHA Beta", "gamma alphabet"])
    );
}

#[tokio::test]
async fn segment_search_treats_percent_as_a_literal_character() {
    let app = TestApp::spawn().await;
    for name in ["100% Organic", "100 Organic", "1000 Organic"] {
        app.create_segment(name).await;
    }

    assert_eq!(
        json!([
            segment_names(&app, "100%").await,
            segment_names(&app, "%").await
        ]),
        json!([named(&["100% Organic"]), named(&["100% Organic"])])
    );
}

#[tokio::test]
async fn segment_search_treats_underscore_as_a_literal_character() {
    let app = TestApp::spawn().await;
    for name in ["top_tier", "topXtier", "top tier"] {
        app.create_segment(name).await;
    }

    assert_eq!(
        json!([
            segment_names(&app, "p_t").await,
            segment_names(&app, "_").await
        ]),
        json!([named(&["top_tier"]), named(&["top_tier"])])
    );
}

#[tokio::test]
async fn segment_search_treats_backslash_as_a_literal_character() {
    let app = TestApp::spawn().await;
    for name in [r"back\slash", "backslash", r"back\%"] {
        app.create_segment(name).await;
    }

    assert_eq!(
        json!([
            segment_names(&app, r"k\s").await,
            segment_names(&app, r"\%").await
        ]),
        json!([named(&[r"back\slash"]), named(&[r"back\%"])])
    );
}

#[tokio::test]
async fn segment_search_results_page_forward_over_the_matches_only() {
    let app = TestApp::spawn().await;
    for name in ["Fit 1", "Other 1", "fit 2", "Other 2", "FIT 3", "Other 3"] {
        app.create_segment(name).await;
    }
    let query = "query($after: String) { segments(search: \"fit\", first: 2, after: $after) { nodes { name } pageInfo { hasNextPage hasPreviousPage endCursor } totalCount } }";

    let first = app.data(query, json!({ "after": null })).await["segments"].clone();
    let second = app
        .data(query, json!({ "after": first["pageInfo"]["endCursor"] }))
        .await["segments"]
        .clone();

    let shape = |page: &Value| {
        json!({
            "nodes": page["nodes"],
            "hasNextPage": page["pageInfo"]["hasNextPage"],
            "hasPreviousPage": page["pageInfo"]["hasPreviousPage"],
            "totalCount": page["totalCount"],
        })
    };
    assert_eq!(
        vec![shape(&first), shape(&second)],
        vec![
            json!({ "nodes": [{ "name": "Fit 1" }, { "name": "fit 2" }], "hasNextPage": true, "hasPreviousPage": false, "totalCount": 3 }),
            json!({ "nodes": [{ "name": "FIT 3" }], "hasNextPage": false, "hasPreviousPage": true, "totalCount": 3 }),
        ]
    );
}

#[tokio::test]
async fn segment_search_results_page_backward_over_the_matches_only() {
    let app = TestApp::spawn().await;
    for name in ["Fit 1", "Other 1", "fit 2", "Other 2", "FIT 3", "Other 3"] {
        app.create_segment(name).await;
    }
    let query = "query($before: String) { segments(search: \"fit\", last: 2, before: $before) { nodes { name } pageInfo { hasNextPage hasPreviousPage startCursor } } }";

    let last = app.data(query, json!({ "before": null })).await["segments"].clone();
    let earlier = app
        .data(query, json!({ "before": last["pageInfo"]["startCursor"] }))
        .await["segments"]
        .clone();

    let shape = |page: &Value| {
        json!({
            "nodes": page["nodes"],
            "hasNextPage": page["pageInfo"]["hasNextPage"],
            "hasPreviousPage": page["pageInfo"]["hasPreviousPage"],
        })
    };
    assert_eq!(
        vec![shape(&last), shape(&earlier)],
        vec![
            json!({ "nodes": [{ "name": "fit 2" }, { "name": "FIT 3" }], "hasNextPage": false, "hasPreviousPage": true }),
            json!({ "nodes": [{ "name": "Fit 1" }], "hasNextPage": true, "hasPreviousPage": false }),
        ]
    );
}

async fn influencer_handles(app: &TestApp, search: &str) -> Value {
    app.data(
        "query($search: String) { influencers(search: $search) { nodes { handle } totalCount } }",
        json!({ "search": search }),
    )
    .await["influencers"]
        .clone()
}

fn handled(handles: &[&str]) -> Value {
    let nodes: Vec<Value> = handles.iter().map(|h| json!({ "handle": h })).collect();
    json!({ "nodes": nodes, "totalCount": handles.len() })
}

#[tokio::test]
async fn influencer_search_matches_handle_or_display_name_ignoring_case() {
    let app = TestApp::spawn().await;
    create_influencer_named(&app, "fitjane", None).await;
    create_influencer_named(&app, "cooking_carl", Some("Carl FITzgerald")).await;
    create_influencer_named(&app, "gamer", Some("Gamer Girl")).await;
    create_influencer_named(&app, "BobFit", Some("Bob")).await;
    create_influencer_named(&app, "plain", None).await;

    assert_eq!(
        influencer_handles(&app, "FIT").await,
        handled(&["fitjane", "cooking_carl", "BobFit"])
    );
}

#[tokio::test]
async fn influencer_search_treats_percent_and_underscore_as_literal_characters() {
    let app = TestApp::spawn().await;
    create_influencer_named(&app, "save50%", None).await;
    create_influencer_named(&app, "save500", None).await;
    create_influencer_named(&app, "deals", Some("50% off")).await;
    create_influencer_named(&app, "a_b", None).await;
    create_influencer_named(&app, "axb", Some("a b c")).await;

    assert_eq!(
        json!([
            influencer_handles(&app, "50%").await,
            influencer_handles(&app, "a_b").await,
        ]),
        json!([handled(&["save50%", "deals"]), handled(&["a_b"])])
    );
}

#[tokio::test]
async fn influencer_search_results_page_forward_over_the_matches_only() {
    let app = TestApp::spawn().await;
    for handle in ["yoga1", "chess1", "yoga2", "chess2", "yoga3"] {
        create_influencer_named(&app, handle, None).await;
    }
    let query = "query($after: String) { influencers(search: \"YOGA\", first: 2, after: $after) { edges { cursor node { handle } } pageInfo { hasNextPage hasPreviousPage endCursor } totalCount } }";

    let first = app.data(query, json!({ "after": null })).await["influencers"].clone();
    let second = app
        .data(query, json!({ "after": first["pageInfo"]["endCursor"] }))
        .await["influencers"]
        .clone();

    assert_eq!(
        vec![summary(&first), summary(&second)],
        vec![
            expected(vec!["yoga1".into(), "yoga2".into()], true, false),
            expected(vec!["yoga3".into()], false, true),
        ]
    );
    assert_eq!(second["totalCount"], json!(3));
}

/// GraphQL spec, "Handling Execution Errors": a refused page of a non-null connection nulls the
/// nearest nullable ancestor (the segment), or all of `data` at the root.
#[tokio::test]
async fn an_oversized_page_nulls_the_nearest_nullable_ancestor() {
    let app = TestApp::spawn().await;
    let segment = app.create_segment("Big").await;
    let response = app
        .exec(
            "query($id: ID!) { segment(id: $id) { name influencers(first: 101) { totalCount } } segments { totalCount } }",
            json!({ "id": segment }),
        )
        .await;
    assert_eq!(
        response["data"],
        json!({ "segment": null, "segments": { "totalCount": 1 } })
    );
    assert_eq!(
        response["errors"][0]["extensions"]["code"],
        json!("BAD_USER_INPUT")
    );

    let response = app
        .exec(
            "{ influencers(first: 101) { totalCount } segments { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(response["data"], serde_json::Value::Null);
    assert_eq!(response["errors"][0]["path"], json!(["influencers"]));
}
