//! Concurrent writes keep the invariants: one segment per name, one membership per pair, and no
//! database error reaches a client.

mod common;

use std::sync::Arc;

use common::TestApp;
use pretty_assertions::assert_eq;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_make_exactly_one_segment() {
    let app = Arc::new(TestApp::spawn().await);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            // Same name, different case.
            let name = if i % 2 == 0 { "Priority" } else { "PRIORITY" };
            tokio::spawn(async move {
                app.exec(
                    "mutation($name: String!) { createSegment(input: { name: $name }) { segment { id } userErrors { code } } }",
                    json!({ "name": name }),
                )
                .await
            })
        })
        .collect();
    let mut created = 0;
    let mut taken = 0;
    for task in tasks {
        let response = task.await.unwrap();
        assert!(response.get("errors").is_none(), "{response}");
        let payload = &response["data"]["createSegment"];
        if payload["segment"].is_object() {
            created += 1;
        } else {
            assert_eq!(payload["userErrors"], json!([{ "code": "NAME_TAKEN" }]));
            taken += 1;
        }
    }
    assert_eq!((created, taken), (1, 19));
    assert_eq!(app.count_rows("segment").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_assignments_of_the_same_influencers_make_one_membership_each() {
    let app = Arc::new(TestApp::spawn().await);
    let ids = app.create_influencers("c", 5).await;
    let segment = app.create_segment("Fitness").await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (app, ids, segment) = (app.clone(), ids.clone(), segment.clone());
            tokio::spawn(async move { app.assign(&ids, &segment).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap()["userErrors"], json!([]));
    }
    assert_eq!(app.count_rows("segment_membership").await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_of_one_external_id_record_one_event_and_one_assignment() {
    let app = Arc::new(TestApp::spawn().await);
    let influencer = app.create_influencer("ana").await;
    let campaign = app
        .data(
            "mutation { createCampaign(input: { name: \"Launch\" }) { campaign { id } } }",
            json!({}),
        )
        .await["createCampaign"]["campaign"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.data(
        "mutation($c: ID!) { addAutomation(input: { campaignId: $c, trigger: EMAIL_REPLIED, assignToSegment: { create: { name: \"Replied\" } } }) { userErrors { code } } }",
        json!({ "c": campaign }),
    )
    .await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, influencer, campaign) = (app.clone(), influencer.clone(), campaign.clone());
            tokio::spawn(async move {
                app.exec(
                    "mutation($c: ID!, $i: ID!) { recordEngagement(input: { campaignId: $c, influencerId: $i, kind: EMAIL_REPLIED, externalId: \"delivery-1\" }) { event { id } assignedSegments { name } duplicate userErrors { code } } }",
                    json!({ "c": campaign, "i": influencer }),
                )
                .await
            })
        })
        .collect();
    let mut event_ids = std::collections::HashSet::new();
    let mut assigned = 0;
    let mut firsts = 0;
    for task in tasks {
        let response = task.await.unwrap();
        assert!(response.get("errors").is_none(), "{response}");
        let payload = &response["data"]["recordEngagement"];
        assert_eq!(payload["userErrors"], json!([]));
        event_ids.insert(payload["event"]["id"].as_str().unwrap().to_owned());
        assigned += payload["assignedSegments"].as_array().unwrap().len();
        if payload["duplicate"] == json!(false) {
            firsts += 1;
        }
    }
    assert_eq!((event_ids.len(), firsts, assigned), (1, 1, 1));
    assert_eq!(app.count_rows("engagement_event").await, 1);
    assert_eq!(app.count_rows("segment_membership").await, 1);
}
