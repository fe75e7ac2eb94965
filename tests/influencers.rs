//! Adding influencers to the roster, and the rules on their fields.

mod common;

use common::TestApp;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CreateInfluencerInput!) { createInfluencer(input: $input) { influencer { handle displayName email platform niche followerCount unassigned segments { id } } userErrors { field code } } }";

#[tokio::test]
async fn an_influencer_is_created_with_every_field_and_starts_unassigned() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            CREATE,
            json!({ "input": {
                "handle": " @Ana.Fit ", "displayName": "Ana", "email": "ana@example.com",
                "platform": "TIKTOK", "niche": "fitness", "followerCount": 52000
            } }),
        )
        .await;
    assert_eq!(
        data["createInfluencer"],
        json!({
            "influencer": {
                "handle": "Ana.Fit", "displayName": "Ana", "email": "ana@example.com",
                "platform": "TIKTOK", "niche": "fitness", "followerCount": 52000,
                "unassigned": true, "segments": []
            },
            "userErrors": []
        })
    );
    assert_eq!(app.unassigned_handles().await, vec!["Ana.Fit"]);
}

#[tokio::test]
async fn optional_fields_may_be_left_out() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            CREATE,
            json!({ "input": { "handle": "bo", "platform": "X", "email": "  " } }),
        )
        .await;
    assert_eq!(
        data["createInfluencer"]["influencer"],
        json!({
            "handle": "bo", "displayName": null, "email": null, "platform": "X",
            "niche": null, "followerCount": null, "unassigned": true, "segments": []
        })
    );
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            CREATE,
            json!({ "input": {
                "handle": "two words", "displayName": "d".repeat(201), "email": "not-an-email",
                "platform": "YOUTUBE", "niche": "n".repeat(81), "followerCount": -1
            } }),
        )
        .await;
    assert_eq!(
        data["createInfluencer"],
        json!({
            "influencer": null,
            "userErrors": [
                { "field": ["input", "handle"], "code": "INVALID" },
                { "field": ["input", "displayName"], "code": "INVALID" },
                { "field": ["input", "email"], "code": "INVALID" },
                { "field": ["input", "niche"], "code": "INVALID" },
                { "field": ["input", "followerCount"], "code": "INVALID" }
            ]
        })
    );
    assert_eq!(app.count_rows("influencer").await, 0);
}

#[tokio::test]
async fn a_handle_is_unique_per_platform_ignoring_case() {
    let app = TestApp::spawn().await;
    let create = |handle: &str, platform: &str| json!({ "input": { "handle": handle, "platform": platform } });
    app.data(CREATE, create("ana", "INSTAGRAM")).await;
    let taken = app.data(CREATE, create("@ANA", "INSTAGRAM")).await;
    assert_eq!(
        taken["createInfluencer"],
        json!({ "influencer": null, "userErrors": [{ "field": ["input", "handle"], "code": "NAME_TAKEN" }] })
    );
    let other_platform = app.data(CREATE, create("ana", "TIKTOK")).await;
    assert_eq!(other_platform["createInfluencer"]["userErrors"], json!([]));
    assert_eq!(app.count_rows("influencer").await, 2);
}

#[tokio::test]
async fn an_unknown_platform_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let response = app
        .exec(
            CREATE,
            json!({ "input": { "handle": "ana", "platform": "MYSPACE" } }),
        )
        .await;
    assert_eq!(response["data"], Value::Null);
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("MYSPACE"),
        "{response}"
    );
    assert_eq!(app.count_rows("influencer").await, 0);
}

#[tokio::test]
async fn the_roster_lists_influencers_oldest_first_and_searches_handle_and_name() {
    let app = TestApp::spawn().await;
    for (handle, name) in [("ana", "Ana Fit"), ("bo", "Bo Games"), ("cy", "FITNESS Cy")] {
        app.data(
            CREATE,
            json!({ "input": { "handle": handle, "displayName": name, "platform": "INSTAGRAM" } }),
        )
        .await;
    }
    let all = app
        .data("{ influencers { totalCount nodes { handle } } }", json!({}))
        .await;
    assert_eq!(
        all,
        json!({ "influencers": { "totalCount": 3, "nodes": [{ "handle": "ana" }, { "handle": "bo" }, { "handle": "cy" }] } })
    );
    let found = app
        .data(
            r#"{ influencers(search: "fit") { totalCount nodes { handle } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        found,
        json!({ "influencers": { "totalCount": 2, "nodes": [{ "handle": "ana" }, { "handle": "cy" }] } })
    );
}
