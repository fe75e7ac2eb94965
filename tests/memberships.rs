//! Sorting the roster: assigning and removing influencers, the derived Unassigned folder, bulk
//! limits, and the rule that a refused mutation writes nothing.

mod common;

use common::TestApp;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const ASSIGN_NEW: &str = "mutation($ids: [ID!]!, $name: String!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: $name } } }) { segment { name memberCount } influencers { handle } userErrors { field code } } }";
const REMOVE: &str = "mutation($ids: [ID!]!, $seg: ID!) { removeFromSegment(input: { influencerIds: $ids, segmentId: $seg }) { segment { memberCount } influencers { handle } userErrors { field code } } }";

async fn handles_of_segment(app: &TestApp, id: &str) -> Vec<String> {
    let data = app
        .data(
            "query($id: ID!) { segment(id: $id) { memberCount influencers(first: 100) { totalCount nodes { handle } } } }",
            json!({ "id": id }),
        )
        .await;
    let segment = &data["segment"];
    assert_eq!(segment["memberCount"], segment["influencers"]["totalCount"]);
    segment["influencers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["handle"].as_str().unwrap().to_owned())
        .collect()
}

async fn segment_names_of(app: &TestApp, influencer: &str) -> Vec<String> {
    let data = app
        .data(
            "query($id: ID!) { influencer(id: $id) { segments { name } } }",
            json!({ "id": influencer }),
        )
        .await;
    data["influencer"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn new_influencers_are_unassigned_until_assigned_and_never_listed_twice() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 3).await;
    assert_eq!(app.unassigned_handles().await, vec!["c0", "c1", "c2"]);

    let fitness = app.create_segment("Fitness").await;
    let gaming = app.create_segment("Gaming").await;
    app.assign(&ids[..1], &fitness).await;
    app.assign(&ids[..1], &gaming).await;
    assert_eq!(app.unassigned_handles().await, vec!["c1", "c2"]);
    assert_eq!(
        segment_names_of(&app, &ids[0]).await,
        vec!["Fitness", "Gaming"]
    );
}

#[tokio::test]
async fn assigning_returns_the_segment_and_the_named_influencers() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 3).await;
    let segment = app.create_segment("Fitness").await;
    let payload = app
        .assign(&[ids[2].clone(), ids[0].clone(), ids[2].clone()], &segment)
        .await;
    assert_eq!(
        payload,
        json!({
            "segment": { "id": segment },
            "influencers": [{ "id": ids[2] }, { "id": ids[0] }],
            "userErrors": []
        })
    );
    assert_eq!(handles_of_segment(&app, &segment).await, vec!["c0", "c2"]);
}

#[tokio::test]
async fn assigning_twice_changes_nothing() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 2).await;
    let segment = app.create_segment("Fitness").await;
    app.assign(&ids, &segment).await;
    let before = app
        .data(
            "query($id: ID!) { influencer(id: $id) { memberships { assignedAt source } } }",
            json!({ "id": ids[0] }),
        )
        .await;
    let again = app.assign(&ids, &segment).await;
    assert_eq!(again["userErrors"], json!([]));
    let after = app
        .data(
            "query($id: ID!) { influencer(id: $id) { memberships { assignedAt source } } }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(before, after, "the first membership is kept as it was");
    assert_eq!(app.count_rows("segment_membership").await, 2);
}

#[tokio::test]
async fn memberships_say_when_and_how_they_were_made() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 1).await;
    let segment = app.create_segment("Fitness").await;
    app.assign(&ids, &segment).await;
    let data = app
        .data(
            "query($id: ID!) { influencer(id: $id) { unassigned memberships { segment { name } influencer { handle } assignedAt source automation { id } } } }",
            json!({ "id": ids[0] }),
        )
        .await;
    let membership = &data["influencer"]["memberships"][0];
    let assigned_at = membership["assignedAt"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(assigned_at).is_ok() && assigned_at.ends_with('Z'),
        "{assigned_at}"
    );
    assert_eq!(
        data["influencer"],
        json!({
            "unassigned": false,
            "memberships": [{
                "segment": { "name": "Fitness" },
                "influencer": { "handle": "c0" },
                "assignedAt": assigned_at,
                "source": "MANUAL",
                "automation": null
            }]
        })
    );
}

#[tokio::test]
async fn a_segment_can_be_created_in_the_assigning_call() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 2).await;
    let data = app
        .data(ASSIGN_NEW, json!({ "ids": ids, "name": " Priority " }))
        .await;
    assert_eq!(
        data["assignToSegment"],
        json!({
            "segment": { "name": "Priority", "memberCount": 2 },
            "influencers": [{ "handle": "c0" }, { "handle": "c1" }],
            "userErrors": []
        })
    );
    assert_eq!(app.unassigned_handles().await, Vec::<String>::new());
}

#[tokio::test]
async fn an_unknown_influencer_fails_the_whole_call_and_creates_no_segment() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 2).await;
    app.create_segment("Temp").await;
    // An id of the right type that names nothing: a deleted influencer is simulated by an id
    // minted for a row that does not exist.
    let missing = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("Influencer:999999")
    };
    let data = app
        .data(
            ASSIGN_NEW,
            json!({ "ids": [ids[0], missing, ids[1]], "name": "Priority" }),
        )
        .await;
    assert_eq!(
        data["assignToSegment"],
        json!({
            "segment": null,
            "influencers": null,
            "userErrors": [{ "field": ["input", "influencerIds", "1"], "code": "NOT_FOUND" }]
        })
    );
    assert_eq!(
        app.count_rows("segment").await,
        1,
        "only the pre-existing segment"
    );
    assert_eq!(app.count_rows("segment_membership").await, 0);
}

#[tokio::test]
async fn malformed_and_wrong_type_ids_are_user_errors_naming_their_position() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 1).await;
    let segment = app.create_segment("Fitness").await;
    let data = app
        .data(
            "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg } }) { segment { id } userErrors { field code } } }",
            json!({ "ids": [ids[0], "not-an-id", segment], "seg": ids[0] }),
        )
        .await;
    assert_eq!(
        data["assignToSegment"],
        json!({
            "segment": null,
            "userErrors": [
                { "field": ["input", "influencerIds", "1"], "code": "INVALID" },
                { "field": ["input", "influencerIds", "2"], "code": "INVALID" },
                { "field": ["input", "segment", "id"], "code": "INVALID" }
            ]
        })
    );
    assert_eq!(app.count_rows("segment_membership").await, 0);
}

#[tokio::test]
async fn an_unknown_segment_is_not_found() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 1).await;
    let segment = app.create_segment("Fitness").await;
    app.data(
        "mutation($id: ID!) { deleteSegment(input: { id: $id }) { deletedSegmentId } }",
        json!({ "id": segment }),
    )
    .await;
    let payload = app.assign(&ids, &segment).await;
    assert_eq!(
        payload["userErrors"],
        json!([{ "field": ["input", "segment", "id"], "message": "no segment has this id", "code": "NOT_FOUND" }])
    );
}

#[tokio::test]
async fn an_inline_segment_with_a_taken_name_is_refused() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 1).await;
    app.create_segment("Priority").await;
    let data = app
        .data(ASSIGN_NEW, json!({ "ids": ids, "name": "PRIORITY" }))
        .await;
    assert_eq!(
        data["assignToSegment"]["userErrors"],
        json!([{ "field": ["input", "segment", "create", "name"], "code": "NAME_TAKEN" }])
    );
    assert_eq!(app.count_rows("segment_membership").await, 0);
}

#[tokio::test]
async fn a_segment_ref_must_have_exactly_one_field() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 1).await;
    let segment = app.create_segment("Fitness").await;
    let response = app
        .exec(
            "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg, create: { name: \"X\" } } }) { segment { id } } }",
            json!({ "ids": ids, "seg": segment }),
        )
        .await;
    assert!(response["errors"].is_array(), "{response}");
    assert_eq!(app.count_rows("segment").await, 1);
    assert_eq!(app.count_rows("segment_membership").await, 0);
}

#[tokio::test]
async fn more_than_ten_thousand_ids_is_too_many_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 1).await;
    let too_many: Vec<Value> = (0..10_001).map(|_| json!(ids[0])).collect();
    let data = app
        .data(ASSIGN_NEW, json!({ "ids": too_many, "name": "Bulk" }))
        .await;
    assert_eq!(
        data["assignToSegment"]["userErrors"],
        json!([{ "field": ["input", "influencerIds"], "code": "TOO_MANY" }])
    );
    assert_eq!(app.count_rows("segment").await, 0);
}

#[tokio::test]
async fn ten_thousand_ids_are_assigned_in_one_call() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 3).await;
    // 10,000 ids (the three influencers, repeated) are accepted and deduplicated.
    let many: Vec<Value> = (0..10_000).map(|i| json!(ids[i % 3])).collect();
    let data = app
        .data(ASSIGN_NEW, json!({ "ids": many, "name": "Bulk" }))
        .await;
    assert_eq!(data["assignToSegment"]["userErrors"], json!([]));
    assert_eq!(data["assignToSegment"]["segment"]["memberCount"], json!(3));
}

#[tokio::test]
async fn removing_the_last_membership_makes_an_influencer_unassigned_again() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 2).await;
    let fitness = app.create_segment("Fitness").await;
    let gaming = app.create_segment("Gaming").await;
    app.assign(&ids, &fitness).await;
    app.assign(&ids[..1], &gaming).await;

    let data = app
        .data(REMOVE, json!({ "ids": ids, "seg": fitness }))
        .await;
    assert_eq!(
        data["removeFromSegment"],
        json!({
            "segment": { "memberCount": 0 },
            "influencers": [{ "handle": "c0" }, { "handle": "c1" }],
            "userErrors": []
        })
    );
    // c0 is still in Gaming; c1 is in nothing.
    assert_eq!(app.unassigned_handles().await, vec!["c1"]);
    assert_eq!(segment_names_of(&app, &ids[0]).await, vec!["Gaming"]);

    // Removing someone who is not a member changes nothing.
    let data = app
        .data(REMOVE, json!({ "ids": [ids[1]], "seg": gaming }))
        .await;
    assert_eq!(data["removeFromSegment"]["userErrors"], json!([]));
    assert_eq!(handles_of_segment(&app, &gaming).await, vec!["c0"]);
}

#[tokio::test]
async fn remove_with_bad_ids_is_refused_and_removes_nothing() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 1).await;
    let segment = app.create_segment("Fitness").await;
    app.assign(&ids, &segment).await;
    let data = app
        .data(REMOVE, json!({ "ids": [ids[0], "junk"], "seg": segment }))
        .await;
    assert_eq!(
        data["removeFromSegment"]["userErrors"],
        json!([{ "field": ["input", "influencerIds", "1"], "code": "INVALID" }])
    );
    let data = app.data(REMOVE, json!({ "ids": ids, "seg": ids[0] })).await;
    assert_eq!(
        data["removeFromSegment"]["userErrors"],
        json!([{ "field": ["input", "segmentId"], "code": "INVALID" }])
    );
    assert_eq!(handles_of_segment(&app, &segment).await, vec!["c0"]);
}

#[tokio::test]
async fn deleting_a_segment_returns_members_in_no_other_segment_to_unassigned() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("c", 3).await;
    let fitness = app.create_segment("Fitness").await;
    let gaming = app.create_segment("Gaming").await;
    app.assign(&ids[..2], &fitness).await;
    app.assign(&ids[1..2], &gaming).await;
    assert_eq!(app.unassigned_handles().await, vec!["c2"]);

    app.data(
        "mutation($id: ID!) { deleteSegment(input: { id: $id }) { userErrors { code } } }",
        json!({ "id": fitness }),
    )
    .await;
    assert_eq!(app.unassigned_handles().await, vec!["c0", "c2"]);
    assert_eq!(segment_names_of(&app, &ids[1]).await, vec!["Gaming"]);
    assert_eq!(app.count_rows("segment_membership").await, 1);
}
