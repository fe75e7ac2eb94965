//! Creating, renaming, describing and deleting segments, and the rules on their names.

mod common;

use common::TestApp;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { name description memberCount } userErrors { field message code } } }";
const UPDATE: &str = "mutation($input: UpdateSegmentInput!) { updateSegment(input: $input) { segment { id name description } userErrors { field code } } }";
const DELETE: &str = "mutation($id: ID!) { deleteSegment(input: { id: $id }) { deletedSegmentId userErrors { field code } } }";

async fn segment_names(app: &TestApp) -> Vec<String> {
    let data = app
        .data(
            "{ segments(first: 100) { totalCount nodes { name } } }",
            json!({}),
        )
        .await;
    let names: Vec<String> = data["segments"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(data["segments"]["totalCount"], json!(names.len()));
    names
}

fn codes(payload: &Value) -> Vec<(Value, String)> {
    payload["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].clone(), e["code"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_created_segment_is_listed_at_once_with_trimmed_name() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            CREATE,
            json!({ "input": { "name": "  Fitness Creators ", "description": "Gym and running" } }),
        )
        .await;
    assert_eq!(
        data,
        json!({ "createSegment": {
            "segment": { "name": "Fitness Creators", "description": "Gym and running", "memberCount": 0 },
            "userErrors": []
        }})
    );
    assert_eq!(segment_names(&app).await, vec!["Fitness Creators"]);
}

#[tokio::test]
async fn segment_names_must_be_one_to_eighty_characters() {
    let app = TestApp::spawn().await;
    for bad in ["", "   ", &"x".repeat(81)] {
        let data = app.data(CREATE, json!({ "input": { "name": bad } })).await;
        assert_eq!(data["createSegment"]["segment"], Value::Null);
        assert_eq!(
            codes(&data["createSegment"]),
            vec![(json!(["input", "name"]), "INVALID".to_owned())],
            "{bad:?}"
        );
    }
    // 80 characters, multi-byte ones included, is fine.
    let name = "é".repeat(80);
    let data = app.data(CREATE, json!({ "input": { "name": name } })).await;
    assert_eq!(data["createSegment"]["userErrors"], json!([]));
    assert_eq!(app.count_rows("segment").await, 1);
}

#[tokio::test]
async fn segment_names_are_unique_ignoring_case() {
    let app = TestApp::spawn().await;
    app.create_segment("UGC Creators").await;
    let data = app
        .data(CREATE, json!({ "input": { "name": " ugc CREATORS" } }))
        .await;
    assert_eq!(data["createSegment"]["segment"], Value::Null);
    assert_eq!(
        codes(&data["createSegment"]),
        vec![(json!(["input", "name"]), "NAME_TAKEN".to_owned())]
    );
    let message = data["createSegment"]["userErrors"][0]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("ugc CREATORS"), "{message}");
    assert_eq!(segment_names(&app).await, vec!["UGC Creators"]);
}

#[tokio::test]
async fn a_description_over_500_characters_is_refused() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            CREATE,
            json!({ "input": { "name": "Ok", "description": "d".repeat(501) } }),
        )
        .await;
    assert_eq!(
        codes(&data["createSegment"]),
        vec![(json!(["input", "description"]), "INVALID".to_owned())]
    );
    assert_eq!(app.count_rows("segment").await, 0);
}

#[tokio::test]
async fn rename_and_describe_then_clear_the_description() {
    let app = TestApp::spawn().await;
    let id = app.create_segment("Tier 1").await;
    let data = app
        .data(
            UPDATE,
            json!({ "input": { "id": id, "name": "Tier One", "description": "Top creators" } }),
        )
        .await;
    assert_eq!(
        data["updateSegment"],
        json!({ "segment": { "id": id, "name": "Tier One", "description": "Top creators" }, "userErrors": [] })
    );
    // Omitting a field keeps it; null clears the description.
    let data = app
        .data(
            UPDATE,
            json!({ "input": { "id": id, "description": null } }),
        )
        .await;
    assert_eq!(
        data["updateSegment"]["segment"],
        json!({ "id": id, "name": "Tier One", "description": null })
    );
}

#[tokio::test]
async fn renaming_to_a_taken_name_is_refused_but_changing_case_of_own_name_is_not() {
    let app = TestApp::spawn().await;
    app.create_segment("Beauty").await;
    let id = app.create_segment("Gaming").await;
    let data = app
        .data(UPDATE, json!({ "input": { "id": id, "name": "BEAUTY" } }))
        .await;
    assert_eq!(
        data["updateSegment"],
        json!({ "segment": null, "userErrors": [{ "field": ["input", "name"], "code": "NAME_TAKEN" }] })
    );
    let data = app
        .data(UPDATE, json!({ "input": { "id": id, "name": "GAMING" } }))
        .await;
    assert_eq!(data["updateSegment"]["segment"]["name"], json!("GAMING"));
    assert_eq!(segment_names(&app).await, vec!["Beauty", "GAMING"]);
}

#[tokio::test]
async fn update_with_an_invalid_name_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = app.create_segment("Gaming").await;
    let data = app
        .data(
            UPDATE,
            json!({ "input": { "id": id, "name": " ", "description": "new" } }),
        )
        .await;
    assert_eq!(
        data["updateSegment"],
        json!({ "segment": null, "userErrors": [{ "field": ["input", "name"], "code": "INVALID" }] })
    );
    let data = app
        .data(
            "query($id: ID!) { segment(id: $id) { name description } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data,
        json!({ "segment": { "name": "Gaming", "description": null } })
    );
}

#[tokio::test]
async fn update_and_delete_of_bad_ids_are_user_errors() {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("ana").await;
    let segment = app.create_segment("Gaming").await;
    app.data(DELETE, json!({ "id": segment })).await;
    for (id, code) in [
        ("garbage", "INVALID"),
        (influencer.as_str(), "INVALID"),
        (segment.as_str(), "NOT_FOUND"),
    ] {
        let data = app
            .data(UPDATE, json!({ "input": { "id": id, "name": "X" } }))
            .await;
        assert_eq!(
            data["updateSegment"],
            json!({ "segment": null, "userErrors": [{ "field": ["input", "id"], "code": code }] }),
            "update {id}"
        );
        let data = app.data(DELETE, json!({ "id": id })).await;
        assert_eq!(
            data["deleteSegment"],
            json!({ "deletedSegmentId": null, "userErrors": [{ "field": ["input", "id"], "code": code }] }),
            "delete {id}"
        );
    }
}

#[tokio::test]
async fn a_deleted_segment_is_gone_and_its_name_is_free_again() {
    let app = TestApp::spawn().await;
    let id = app.create_segment("Travel").await;
    app.create_segment("Food").await;
    let data = app.data(DELETE, json!({ "id": id })).await;
    assert_eq!(
        data["deleteSegment"],
        json!({ "deletedSegmentId": id, "userErrors": [] })
    );
    assert_eq!(segment_names(&app).await, vec!["Food"]);
    let data = app
        .data(
            "query($id: ID!) { segment(id: $id) { id } node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data, json!({ "segment": null, "node": null }));
    app.create_segment("travel").await;
}

#[tokio::test]
async fn segments_search_matches_names_ignoring_case() {
    let app = TestApp::spawn().await;
    for name in ["Fitness", "Fit Moms", "Gaming", "UGC fitness"] {
        app.create_segment(name).await;
    }
    let data = app
        .data(
            r#"{ segments(search: "FIT") { totalCount nodes { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data,
        json!({ "segments": { "totalCount": 3, "nodes": [
            { "name": "Fitness" }, { "name": "Fit Moms" }, { "name": "UGC fitness" }
        ] } })
    );
}
