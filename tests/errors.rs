//! How failures reach clients: database faults as a bare INTERNAL_SERVER_ERROR, lookups of ids
//! that name nothing as null, and oversized id lists as BAD_USER_INPUT.
mod common;

use std::future::IntoFuture;

use async_graphql::{Request, Variables};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use common::TestApp;
use pretty_assertions::assert_eq;
use sea_orm::{ConnectionTrait, Statement};
use segments_api::{graphql::build_schema, service::WorkspaceId};
use serde_json::{Value, json};

/// An id in the server's format (`base64url("Kind:n")`) for any text.
fn forged(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// Strings that are not ids the server hands out.
fn malformed_ids() -> Vec<String> {
    vec![
        String::new(),
        "42".to_owned(),
        "not base64!".to_owned(),
        "Segment:1".to_owned(),
        forged("Segment:"),
        forged("Segment:0"),
        forged("Segment:-1"),
        forged("Segment:042"),
        forged("Segment:1:2"),
        forged("Segment:99999999999999999999"),
        forged("Widget:1"),
        forged("segment:1"),
    ]
}

/// Drops the membership table behind the server's back, so that anything touching it fails in
/// the database.
async fn break_memberships(app: &TestApp) {
    app.db
        .execute_unprepared("DROP TABLE segment_membership")
        .await
        .expect("drop segment_membership");
}

/// Fails unless the response carries only the bare internal error: no SQL, no table names, no
/// driver text.
fn assert_reveals_nothing(response: &Value) {
    let errors = response["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("expected errors: {response:#}"));
    assert!(!errors.is_empty(), "{response:#}");
    for error in errors {
        assert_eq!(
            error["message"],
            json!("Internal server error"),
            "{response:#}"
        );
        assert_eq!(
            error["extensions"],
            json!({ "code": "INTERNAL_SERVER_ERROR" }),
            "{response:#}"
        );
    }
    let text = response.to_string().to_lowercase();
    for leak in [
        "select",
        "insert",
        "segment_membership",
        "sqlx",
        "error returned from database",
        "no such table",
        "does not exist",
        "relation",
        "sqlite",
        "postgres",
    ] {
        assert!(
            !text.contains(leak),
            "response reveals {leak:?}: {response:#}"
        );
    }
}

fn internal_error(path: Value, line: u32, column: u32) -> Value {
    json!({
        "message": "Internal server error",
        "locations": [{ "line": line, "column": column }],
        "path": path,
        "extensions": { "code": "INTERNAL_SERVER_ERROR" },
    })
}

// ---- database faults ----

#[tokio::test]
async fn a_database_failure_in_a_query_is_reported_as_an_internal_server_error() {
    let app = TestApp::spawn().await;
    app.create_influencer("solo").await;
    break_memberships(&app).await;

    let response = app
        .exec("{ influencers { nodes { segments { id } } } }", json!({}))
        .await;

    assert_eq!(
        response["errors"],
        json!([internal_error(
            json!(["influencers", "nodes", 0, "segments"]),
            1,
            25
        )])
    );
}

#[tokio::test]
async fn a_database_failure_in_a_query_reveals_no_sql_to_the_client() {
    let app = TestApp::spawn().await;
    app.create_influencers("inf", 3).await;
    break_memberships(&app).await;

    let response = app
        .exec(
            "{ influencers { nodes { handle segments { id } } } }",
            json!({}),
        )
        .await;

    assert_reveals_nothing(&response);
}

#[tokio::test]
async fn a_database_failure_in_a_mutation_is_an_internal_server_error() {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("solo").await;
    let segment = app.create_segment("Target").await;
    break_memberships(&app).await;

    let response = app
        .exec(
            "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg } }) { segment { id } userErrors { code } } }",
            json!({ "ids": [influencer], "seg": segment }),
        )
        .await;

    assert_eq!(
        response,
        json!({
            "data": null,
            "errors": [internal_error(json!(["assignToSegment"]), 1, 37)],
        })
    );
    assert_reveals_nothing(&response);
}

#[tokio::test]
async fn a_mutation_that_fails_in_the_database_writes_nothing() {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("solo").await;
    break_memberships(&app).await;

    let response = app
        .exec(
            "mutation($ids: [ID!]!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: \"Fresh\" } } }) { segment { id } userErrors { code } } }",
            json!({ "ids": [influencer] }),
        )
        .await;

    assert_reveals_nothing(&response);
    assert_eq!(
        app.count_rows("segment").await,
        0,
        "the segment created on the way is rolled back"
    );
}

#[tokio::test]
async fn every_read_of_the_broken_table_fails_with_only_an_internal_server_error() {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("solo").await;
    let segment = app.create_segment("Target").await;
    break_memberships(&app).await;

    for (query, variables) in [
        ("{ unassigned { totalCount } }", json!({})),
        ("{ unassigned { nodes { handle } } }", json!({})),
        ("{ segments { nodes { memberCount } } }", json!({})),
        (
            "query($id: ID!) { segment(id: $id) { influencers { nodes { handle } } } }",
            json!({ "id": segment }),
        ),
        (
            "query($id: ID!) { segment(id: $id) { influencers { totalCount } } }",
            json!({ "id": segment }),
        ),
        (
            "query($id: ID!) { influencer(id: $id) { unassigned } }",
            json!({ "id": influencer }),
        ),
        (
            "query($id: ID!) { node(id: $id) { ... on Influencer { memberships { source } } } }",
            json!({ "id": influencer }),
        ),
    ] {
        let response = app.exec(query, variables).await;
        assert!(response["errors"].is_array(), "{query}: {response:#}");
        assert_reveals_nothing(&response);
    }
}

#[tokio::test]
async fn the_server_keeps_answering_after_a_database_failure() {
    let app = TestApp::spawn().await;
    app.create_influencer("solo").await;
    app.create_segment("Target").await;
    break_memberships(&app).await;
    let failed = app
        .exec("{ influencers { nodes { segments { id } } } }", json!({}))
        .await;
    assert_reveals_nothing(&failed);

    let data = app
        .data(
            "{ influencers { nodes { handle } } segments { nodes { name } } }",
            json!({}),
        )
        .await;

    assert_eq!(
        data,
        json!({
            "influencers": { "nodes": [{ "handle": "solo" }] },
            "segments": { "nodes": [{ "name": "Target" }] },
        })
    );
}

#[tokio::test]
async fn a_database_failure_over_http_is_a_graphql_error_not_a_server_error_status() {
    let app = TestApp::spawn().await;
    app.create_influencer("solo").await;
    let key = app.api_key().await;
    break_memberships(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, segments_api::http::router(app.db.clone())).into_future());

    let response = TestApp::client_with_key(&key)
        .post(format!("http://{addr}/graphql"))
        .json(&json!({ "query": "{ influencers { nodes { segments { id } } } }" }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();

    assert_eq!(
        (status, body["errors"].clone()),
        (
            reqwest::StatusCode::OK,
            json!([internal_error(
                json!(["influencers", "nodes", 0, "segments"]),
                1,
                25
            )]),
        )
    );
    assert_reveals_nothing(&body);
}

// ---- lookups by id ----

#[tokio::test]
async fn node_with_a_malformed_id_is_null() {
    let app = TestApp::spawn().await;
    app.create_influencer("someone").await;
    app.create_segment("Something").await;

    for id in malformed_ids() {
        let response = app
            .exec(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(response, json!({ "data": { "node": null } }), "id {id:?}");
    }
}

#[tokio::test]
async fn segment_and_influencer_with_a_malformed_id_are_null() {
    let app = TestApp::spawn().await;
    app.create_influencer("someone").await;
    app.create_segment("Something").await;

    for id in malformed_ids() {
        let response = app
            .exec(
                "query($id: ID!) { segment(id: $id) { id } influencer(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            response,
            json!({ "data": { "segment": null, "influencer": null } }),
            "id {id:?}"
        );
    }
}

#[tokio::test]
async fn nodes_with_malformed_ids_are_nulls() {
    let app = TestApp::spawn().await;
    app.create_segment("Something").await;
    let ids = malformed_ids();

    let response = app
        .exec(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;

    assert_eq!(
        response,
        json!({ "data": { "nodes": vec![Value::Null; ids.len()] } })
    );
}

#[tokio::test]
async fn segment_with_an_influencer_id_is_null() {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("someone").await;
    app.create_segment("Something").await;

    let response = app
        .exec(
            "query($id: ID!) { segment(id: $id) { id } }",
            json!({ "id": influencer }),
        )
        .await;

    assert_eq!(response, json!({ "data": { "segment": null } }));
}

#[tokio::test]
async fn influencer_with_a_segment_id_is_null() {
    let app = TestApp::spawn().await;
    app.create_influencer("someone").await;
    let segment = app.create_segment("Something").await;

    let response = app
        .exec(
            "query($id: ID!) { influencer(id: $id) { id } }",
            json!({ "id": segment }),
        )
        .await;

    assert_eq!(response, json!({ "data": { "influencer": null } }));
}

#[tokio::test]
async fn campaign_with_a_segment_id_is_null() {
    let app = TestApp::spawn().await;
    let segment = app.create_segment("Something").await;

    let response = app
        .exec(
            "query($id: ID!) { campaign(id: $id) { id } }",
            json!({ "id": segment }),
        )
        .await;

    assert_eq!(response, json!({ "data": { "campaign": null } }));
}

#[tokio::test]
async fn lookups_of_well_formed_ids_of_nothing_are_null() {
    let app = TestApp::spawn().await;
    app.create_influencer("someone").await;
    app.create_segment("Something").await;

    for kind in [
        "Influencer",
        "Segment",
        "Campaign",
        "Automation",
        "EngagementEvent",
    ] {
        let id = forged(&format!("{kind}:987654"));
        let response = app
            .exec(
                "query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } segment(id: $id) { id } influencer(id: $id) { id } campaign(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            response,
            json!({ "data": {
                "node": null,
                "nodes": [null],
                "segment": null,
                "influencer": null,
                "campaign": null,
            } }),
            "{kind}"
        );
    }
}

#[tokio::test]
async fn nodes_answers_each_id_in_the_order_given_with_null_for_ids_of_nothing() {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("someone").await;
    let segment = app.create_segment("Something").await;

    let response = app
        .exec(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Segment { name } ... on Influencer { handle } } }",
            json!({ "ids": [segment, "junk", influencer, forged("Segment:987654"), segment] }),
        )
        .await;

    assert_eq!(
        response,
        json!({ "data": { "nodes": [
            { "__typename": "Segment", "id": segment, "name": "Something" },
            null,
            { "__typename": "Influencer", "id": influencer, "handle": "someone" },
            null,
            { "__typename": "Segment", "id": segment, "name": "Something" },
        ] } })
    );
}

#[tokio::test]
async fn nodes_with_100_ids_is_answered() {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("someone").await;
    let ids = vec![influencer.clone(); 100];

    let response = app
        .exec(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;

    assert_eq!(
        response,
        json!({ "data": { "nodes": vec![json!({ "id": influencer }); 100] } })
    );
}

#[tokio::test]
async fn nodes_with_more_than_100_ids_is_refused_as_bad_user_input() {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("someone").await;
    let ids = vec![influencer; 101];

    let response = app
        .exec(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;

    assert_eq!(
        response,
        json!({
            "data": null,
            "errors": [{
                "message": "at most 100 ids per call (got 101)",
                "locations": [{ "line": 1, "column": 23 }],
                "path": ["nodes"],
                "extensions": { "code": "BAD_USER_INPUT" },
            }],
        })
    );
}

#[tokio::test]
async fn ids_of_another_workspace_look_up_as_null() {
    let app = TestApp::spawn().await;
    app.db
        .execute_unprepared("INSERT INTO workspace (name) VALUES ('Other')")
        .await
        .unwrap();
    let other: i64 = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT MAX(id) AS n FROM workspace",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    assert_ne!(WorkspaceId(other), app.workspace);
    let other_schema = build_schema(app.db.clone());
    let run_in_other = |query: &str| {
        let request = Request::new(query).variables(Variables::from_json(json!({})));
        other_schema.execute(other_schema.scoped(request, WorkspaceId(other), None))
    };
    let created = serde_json::to_value(
        run_in_other(
            "mutation { i: createInfluencer(input: { handle: \"elsewhere\", platform: X }) { influencer { id } } s: createSegment(input: { name: \"Elsewhere\" }) { segment { id } } }",
        )
        .await,
    )
    .unwrap();
    let influencer = created["data"]["i"]["influencer"]["id"].clone();
    let segment = created["data"]["s"]["segment"]["id"].clone();
    assert!(influencer.is_string() && segment.is_string(), "{created:#}");

    let response = app
        .exec(
            "query($i: ID!, $s: ID!) { ni: node(id: $i) { id } ns: node(id: $s) { id } nodes(ids: [$i, $s]) { id } influencer(id: $i) { id } segment(id: $s) { id } }",
            json!({ "i": influencer, "s": segment }),
        )
        .await;

    assert_eq!(
        response,
        json!({ "data": {
            "ni": null,
            "ns": null,
            "nodes": [null, null],
            "influencer": null,
            "segment": null,
        } })
    );
}

#[tokio::test]
async fn a_malformed_id_in_a_mutation_input_is_a_user_error_not_a_top_level_error() {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("someone").await;

    let response = app
        .exec(
            "mutation($ids: [ID!]!) { assignToSegment(input: { influencerIds: $ids, segment: { id: \"junk\" } }) { segment { id } userErrors { field code } } }",
            json!({ "ids": [influencer] }),
        )
        .await;

    assert_eq!(
        response,
        json!({ "data": { "assignToSegment": {
            "segment": null,
            "userErrors": [{ "field": ["input", "segment", "id"], "code": "INVALID" }],
        } } })
    );
}

/// GraphQL spec, "Handling Execution Errors": a failed non-null field makes its parent null, up
/// to the nearest nullable field; the response never leaves out or nulls a non-null field.
#[tokio::test]
async fn a_failed_non_null_field_nulls_its_nearest_nullable_ancestor() {
    let app = TestApp::spawn().await;
    let segment = app.create_segment("Target").await;
    app.create_influencer("solo").await;
    break_memberships(&app).await;

    // Segment.influencers is non-null; `segment` is nullable, so it becomes null. Siblings stay.
    let response = app
        .exec(
            "query($id: ID!) { segment(id: $id) { name influencers { nodes { handle } } } segments { totalCount } }",
            json!({ "id": segment }),
        )
        .await;
    assert_reveals_nothing(&response);
    assert_eq!(
        response["data"],
        json!({ "segment": null, "segments": { "totalCount": 1 } })
    );
    assert_eq!(
        response["errors"][0]["path"],
        json!(["segment", "influencers"])
    );

    // Influencer.segments fails inside [Influencer!]! of a non-null connection under a non-null
    // root field: nothing nullable on the way up, so `data` is null.
    let response = app
        .exec(
            "{ influencers { nodes { handle segments { id } } } }",
            json!({}),
        )
        .await;
    assert_reveals_nothing(&response);
    assert_eq!(response["data"], Value::Null);

    // Through an alias and a fragment, under a nullable `node`.
    let response = app
        .exec(
            "query($id: ID!) { node(id: $id) { ... on Segment { count: memberCount } } ok: segments { totalCount } }",
            json!({ "id": segment }),
        )
        .await;
    assert_reveals_nothing(&response);
    assert_eq!(
        response["data"],
        json!({ "node": null, "ok": { "totalCount": 1 } })
    );
}
