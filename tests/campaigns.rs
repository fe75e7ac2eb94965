mod common;

// Campaigns, their audiences and recipients, automations, and recording engagement, through the
// GraphQL schema.

use common::{TestApp, delete_segment, memberships, unknown_id, without_messages};
use pretty_assertions::assert_eq;
use segments_api::graphql::schema::ids::Kind;
use serde_json::{Value, json};

// ---- operations ----

const CREATE_CAMPAIGN: &str = "mutation($input: CreateCampaignInput!) {
    createCampaign(input: $input) {
        campaign { id name status audience { id name } automations { id } }
        userErrors { field message code }
    }
}";

const RECIPIENTS: &str =
    "query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    campaign(id: $id) {
        recipients(first: $first, after: $after, last: $last, before: $before) {
            totalCount
            nodes { handle }
            edges { cursor node { handle } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        }
    }
}";

const ADD_AUTOMATION: &str = "mutation($input: AddAutomationInput!) {
    addAutomation(input: $input) {
        automation {
            id trigger action enabled createdAt
            segment { id name }
            campaign { id name }
        }
        userErrors { field message code }
    }
}";

const RECORD_ENGAGEMENT: &str = "mutation($input: RecordEngagementInput!) {
    recordEngagement(input: $input) {
        event { id kind occurredAt externalId campaign { id } influencer { id } }
        assignedSegments { id name }
        duplicate
        userErrors { field message code }
    }
}";

const AUTOMATIONS_OF: &str = "query($id: ID!) {
    campaign(id: $id) {
        automations { id trigger action enabled segment { id name } campaign { id } }
    }
}";

// ---- helpers ----

async fn create_campaign(app: &TestApp, input: Value) -> Value {
    app.data(CREATE_CAMPAIGN, json!({ "input": input })).await["createCampaign"].clone()
}

async fn new_campaign(app: &TestApp, name: &str, audience: &[&str]) -> String {
    let payload =
        create_campaign(app, json!({ "name": name, "audienceSegmentIds": audience })).await;
    assert_eq!(payload["userErrors"], json!([]), "{name}");
    payload["campaign"]["id"].as_str().unwrap().to_owned()
}

async fn add_automation(app: &TestApp, input: Value) -> Value {
    app.data(ADD_AUTOMATION, json!({ "input": input })).await["addAutomation"].clone()
}

async fn new_automation(app: &TestApp, campaign: &str, trigger: &str, segment: &str) -> String {
    let payload = add_automation(
        app,
        json!({ "campaignId": campaign, "trigger": trigger, "assignToSegment": { "id": segment } }),
    )
    .await;
    assert_eq!(payload["userErrors"], json!([]));
    payload["automation"]["id"].as_str().unwrap().to_owned()
}

async fn record(app: &TestApp, input: Value) -> Value {
    app.data(RECORD_ENGAGEMENT, json!({ "input": input })).await["recordEngagement"].clone()
}

async fn record_kind(app: &TestApp, campaign: &str, influencer: &str, kind: &str) -> Value {
    let payload = record(
        app,
        json!({ "campaignId": campaign, "influencerId": influencer, "kind": kind }),
    )
    .await;
    assert_eq!(payload["userErrors"], json!([]));
    payload
}

async fn recipients(app: &TestApp, campaign: &str, paging: Value) -> Value {
    let mut variables = paging;
    variables["id"] = json!(campaign);
    app.data(RECIPIENTS, variables).await["campaign"]["recipients"].clone()
}

fn handles(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["handle"].as_str().unwrap().to_owned())
        .collect()
}

/// Rows of every table a campaign, automation or engagement writes to.
async fn row_counts(app: &TestApp) -> Value {
    let mut counts = serde_json::Map::new();
    for table in [
        "campaign",
        "campaign_audience",
        "segment",
        "automation",
        "engagement_event",
        "segment_membership",
    ] {
        counts.insert(table.to_owned(), json!(app.count_rows(table).await));
    }
    Value::Object(counts)
}

/// A campaign with one automation: on `trigger`, assign to a segment named "Engaged".
struct Fixture {
    app: TestApp,
    campaign: String,
    segment: String,
    automation: String,
    influencer: String,
}

async fn campaign_with_automation(trigger: &str) -> Fixture {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("ana").await;
    let segment = app.create_segment("Engaged").await;
    let campaign = new_campaign(&app, "Spring launch", &[]).await;
    let automation = new_automation(&app, &campaign, trigger, &segment).await;
    Fixture {
        app,
        campaign,
        segment,
        automation,
        influencer,
    }
}

// ---- createCampaign ----

#[tokio::test]
async fn create_campaign_is_draft_with_its_audience_segments() {
    let app = TestApp::spawn().await;
    let fitness = app.create_segment("Fitness").await;
    let travel = app.create_segment("Travel").await;
    let food = app.create_segment("Food").await;

    let payload = create_campaign(
        &app,
        json!({ "name": "Spring launch", "audienceSegmentIds": [fitness, travel, food] }),
    )
    .await;

    let id = payload["campaign"]["id"]
        .as_str()
        .expect("a campaign id")
        .to_owned();
    assert_eq!(
        payload,
        json!({
            "campaign": {
                "id": id,
                "name": "Spring launch",
                "status": "DRAFT",
                "audience": [
                    { "id": fitness, "name": "Fitness" },
                    { "id": travel, "name": "Travel" },
                    { "id": food, "name": "Food" },
                ],
                "automations": [],
            },
            "userErrors": [],
        })
    );
}

#[tokio::test]
async fn created_campaign_reads_back_by_id_and_in_campaigns() {
    let app = TestApp::spawn().await;
    let fitness = app.create_segment("Fitness").await;
    let travel = app.create_segment("Travel").await;
    let id = new_campaign(&app, "Spring launch", &[&fitness, &travel]).await;

    let data = app
        .data(
            "query($id: ID!) {
                campaign(id: $id) { id name status audience { id } }
                campaigns(first: 10) { totalCount nodes { id name } }
            }",
            json!({ "id": id }),
        )
        .await;

    assert_eq!(
        data,
        json!({
            "campaign": {
                "id": id,
                "name": "Spring launch",
                "status": "DRAFT",
                "audience": [{ "id": fitness }, { "id": travel }],
            },
            "campaigns": { "totalCount": 1, "nodes": [{ "id": id, "name": "Spring launch" }] },
        })
    );
    assert_eq!(app.count_rows("campaign_audience").await, 2);
}

#[tokio::test]
async fn create_campaign_without_audience_has_an_empty_audience() {
    let app = TestApp::spawn().await;

    let payload = create_campaign(&app, json!({ "name": "Solo" })).await;

    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["campaign"]["audience"], json!([]));
    assert_eq!(payload["campaign"]["status"], json!("DRAFT"));
    assert_eq!(app.count_rows("campaign").await, 1);
    assert_eq!(app.count_rows("campaign_audience").await, 0);
}

#[tokio::test]
async fn create_campaign_lists_a_segment_named_twice_once() {
    let app = TestApp::spawn().await;
    let fitness = app.create_segment("Fitness").await;

    let payload = create_campaign(
        &app,
        json!({ "name": "Twice", "audienceSegmentIds": [fitness, fitness] }),
    )
    .await;

    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(
        payload["campaign"]["audience"],
        json!([{ "id": fitness, "name": "Fitness" }])
    );
    assert_eq!(app.count_rows("campaign_audience").await, 1);
}

#[tokio::test]
async fn create_campaign_trims_the_name() {
    let app = TestApp::spawn().await;

    let payload = create_campaign(&app, json!({ "name": "  Spring launch \t" })).await;

    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["campaign"]["name"], json!("Spring launch"));
}

#[tokio::test]
async fn create_campaign_accepts_a_name_of_120_characters() {
    let app = TestApp::spawn().await;
    let name = "é".repeat(120);

    let payload = create_campaign(&app, json!({ "name": name })).await;

    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["campaign"]["name"], json!(name));
}

/// Runs a createCampaign that must be refused with exactly `expected` errors and write nothing.
async fn assert_create_campaign_refused(app: &TestApp, input: Value, expected: Value) {
    let before = row_counts(app).await;
    let payload = create_campaign(app, input).await;
    assert_eq!(
        without_messages(payload),
        json!({ "campaign": null, "userErrors": expected })
    );
    assert_eq!(row_counts(app).await, before, "nothing was written");
    assert_eq!(app.count_rows("campaign").await, 0);
    assert_eq!(app.count_rows("campaign_audience").await, 0);
}

#[tokio::test]
async fn create_campaign_refuses_an_empty_name() {
    let app = TestApp::spawn().await;
    let fitness = app.create_segment("Fitness").await;
    assert_create_campaign_refused(
        &app,
        json!({ "name": "", "audienceSegmentIds": [fitness] }),
        json!([{ "field": ["input", "name"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn create_campaign_refuses_a_whitespace_only_name() {
    let app = TestApp::spawn().await;
    let fitness = app.create_segment("Fitness").await;
    assert_create_campaign_refused(
        &app,
        json!({ "name": " \t\n ", "audienceSegmentIds": [fitness] }),
        json!([{ "field": ["input", "name"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn create_campaign_refuses_a_name_over_120_characters() {
    let app = TestApp::spawn().await;
    let fitness = app.create_segment("Fitness").await;
    assert_create_campaign_refused(
        &app,
        json!({ "name": "x".repeat(121), "audienceSegmentIds": [fitness] }),
        json!([{ "field": ["input", "name"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn create_campaign_refuses_an_unknown_segment_naming_its_index() {
    let app = TestApp::spawn().await;
    let fitness = app.create_segment("Fitness").await;
    let travel = app.create_segment("Travel").await;
    assert_create_campaign_refused(
        &app,
        json!({
            "name": "Spring launch",
            "audienceSegmentIds": [fitness, unknown_id(Kind::Segment), travel],
        }),
        json!([{ "field": ["input", "audienceSegmentIds", "1"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn create_campaign_refuses_a_deleted_segment() {
    let app = TestApp::spawn().await;
    let fitness = app.create_segment("Fitness").await;
    let gone = app.create_segment("Gone").await;
    delete_segment(&app, &gone).await;
    assert_create_campaign_refused(
        &app,
        json!({ "name": "Spring launch", "audienceSegmentIds": [fitness, gone] }),
        json!([{ "field": ["input", "audienceSegmentIds", "1"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn create_campaign_refuses_a_malformed_segment_id() {
    let app = TestApp::spawn().await;
    let fitness = app.create_segment("Fitness").await;
    assert_create_campaign_refused(
        &app,
        json!({ "name": "Spring launch", "audienceSegmentIds": [fitness, "not-an-id"] }),
        json!([{ "field": ["input", "audienceSegmentIds", "1"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn create_campaign_refuses_an_influencer_id_as_a_segment() {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("ana").await;
    let fitness = app.create_segment("Fitness").await;
    assert_create_campaign_refused(
        &app,
        json!({ "name": "Spring launch", "audienceSegmentIds": [influencer, fitness] }),
        json!([{ "field": ["input", "audienceSegmentIds", "0"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn create_campaign_refuses_more_than_10000_audience_ids() {
    let app = TestApp::spawn().await;
    let fitness = app.create_segment("Fitness").await;
    assert_create_campaign_refused(
        &app,
        json!({ "name": "Spring launch", "audienceSegmentIds": vec![fitness; 10_001] }),
        json!([{ "field": ["input", "audienceSegmentIds"], "code": "TOO_MANY" }]),
    )
    .await;
}

#[tokio::test]
async fn create_campaign_reports_a_bad_name_and_an_unknown_segment_together() {
    let app = TestApp::spawn().await;
    assert_create_campaign_refused(
        &app,
        json!({ "name": "  ", "audienceSegmentIds": [unknown_id(Kind::Segment)] }),
        json!([
            { "field": ["input", "name"], "code": "INVALID" },
            { "field": ["input", "audienceSegmentIds", "0"], "code": "NOT_FOUND" },
        ]),
    )
    .await;
}

// ---- Campaign.recipients ----

/// Influencers h0..h5 (oldest first); Fitness = {h0, h2, h3}, Travel = {h3, h1}, Food = {h4}
/// (not in the audience), h5 in no segment. The campaign's audience is Fitness and Travel.
async fn campaign_with_overlapping_audience(app: &TestApp) -> String {
    let h = app.create_influencers("h", 6).await;
    let fitness = app.create_segment("Fitness").await;
    let travel = app.create_segment("Travel").await;
    let food = app.create_segment("Food").await;
    app.assign(&[h[3].clone(), h[2].clone(), h[0].clone()], &fitness)
        .await;
    app.assign(&[h[3].clone(), h[1].clone()], &travel).await;
    app.assign(&[h[4].clone()], &food).await;
    new_campaign(app, "Spring launch", &[&fitness, &travel]).await
}

#[tokio::test]
async fn recipients_are_each_audience_member_once_oldest_first() {
    let app = TestApp::spawn().await;
    let campaign = campaign_with_overlapping_audience(&app).await;

    let page = recipients(&app, &campaign, json!({ "first": 10 })).await;

    assert_eq!(handles(&page), ["h0", "h1", "h2", "h3"]);
    assert_eq!(page["totalCount"], json!(4));
    assert_eq!(page["pageInfo"]["hasNextPage"], json!(false));
    assert_eq!(page["pageInfo"]["hasPreviousPage"], json!(false));
}

#[tokio::test]
async fn recipients_page_forward_with_first_and_after() {
    let app = TestApp::spawn().await;
    let campaign = campaign_with_overlapping_audience(&app).await;

    let first = recipients(&app, &campaign, json!({ "first": 3 })).await;
    assert_eq!(handles(&first), ["h0", "h1", "h2"]);
    assert_eq!(first["totalCount"], json!(4));
    assert_eq!(first["pageInfo"]["hasNextPage"], json!(true));
    assert_eq!(first["pageInfo"]["hasPreviousPage"], json!(false));
    let edges = first["edges"].as_array().unwrap();
    assert_eq!(first["pageInfo"]["startCursor"], edges[0]["cursor"]);
    assert_eq!(first["pageInfo"]["endCursor"], edges[2]["cursor"]);

    let after = first["pageInfo"]["endCursor"].clone();
    let second = recipients(&app, &campaign, json!({ "first": 3, "after": after })).await;
    assert_eq!(handles(&second), ["h3"]);
    assert_eq!(second["totalCount"], json!(4), "totalCount ignores paging");
    assert_eq!(second["pageInfo"]["hasNextPage"], json!(false));
    assert_eq!(second["pageInfo"]["hasPreviousPage"], json!(true));
}

#[tokio::test]
async fn recipients_page_backward_with_last_and_before() {
    let app = TestApp::spawn().await;
    let campaign = campaign_with_overlapping_audience(&app).await;

    let last = recipients(&app, &campaign, json!({ "last": 2 })).await;
    assert_eq!(handles(&last), ["h2", "h3"]);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], json!(true));
    assert_eq!(last["pageInfo"]["hasNextPage"], json!(false));

    let before = last["pageInfo"]["startCursor"].clone();
    let earlier = recipients(&app, &campaign, json!({ "last": 2, "before": before })).await;
    assert_eq!(handles(&earlier), ["h0", "h1"]);
    assert_eq!(earlier["pageInfo"]["hasPreviousPage"], json!(false));
    assert_eq!(earlier["pageInfo"]["hasNextPage"], json!(true));
}

#[tokio::test]
async fn campaign_without_audience_has_no_recipients() {
    let app = TestApp::spawn().await;
    let h = app.create_influencers("h", 2).await;
    let fitness = app.create_segment("Fitness").await;
    app.assign(&h, &fitness).await;
    let campaign = new_campaign(&app, "Nobody", &[]).await;

    let page = recipients(&app, &campaign, json!({ "first": 10 })).await;

    assert_eq!(
        page,
        json!({
            "totalCount": 0,
            "nodes": [],
            "edges": [],
            "pageInfo": {
                "hasNextPage": false,
                "hasPreviousPage": false,
                "startCursor": null,
                "endCursor": null,
            },
        })
    );
}

#[tokio::test]
async fn campaign_whose_audience_segments_are_empty_has_no_recipients() {
    let app = TestApp::spawn().await;
    app.create_influencers("h", 2).await;
    let empty = app.create_segment("Empty").await;
    let campaign = new_campaign(&app, "Nobody yet", &[&empty]).await;

    let page = recipients(&app, &campaign, json!({ "first": 10 })).await;

    assert_eq!(page["totalCount"], json!(0));
    assert_eq!(page["nodes"], json!([]));
}

#[tokio::test]
async fn recipients_follow_later_assignments_to_audience_segments() {
    let app = TestApp::spawn().await;
    let h = app.create_influencers("h", 3).await;
    let fitness = app.create_segment("Fitness").await;
    let campaign = new_campaign(&app, "Spring launch", &[&fitness]).await;

    app.assign(&[h[2].clone(), h[0].clone()], &fitness).await;
    let page = recipients(&app, &campaign, json!({ "first": 10 })).await;

    assert_eq!(handles(&page), ["h0", "h2"]);
    assert_eq!(page["totalCount"], json!(2));
}

#[tokio::test]
async fn deleting_an_audience_segment_drops_it_and_its_members_from_the_campaign() {
    let app = TestApp::spawn().await;
    let h = app.create_influencers("h", 3).await;
    let fitness = app.create_segment("Fitness").await;
    let travel = app.create_segment("Travel").await;
    app.assign(&[h[0].clone(), h[1].clone()], &fitness).await;
    app.assign(&[h[1].clone(), h[2].clone()], &travel).await;
    let campaign = new_campaign(&app, "Spring launch", &[&fitness, &travel]).await;

    delete_segment(&app, &travel).await;

    let data = app
        .data(
            "query($id: ID!) { campaign(id: $id) { audience { id } recipients(first: 10) { totalCount nodes { handle } } } }",
            json!({ "id": campaign }),
        )
        .await;
    assert_eq!(
        data["campaign"],
        json!({
            "audience": [{ "id": fitness }],
            "recipients": { "totalCount": 2, "nodes": [{ "handle": "h0" }, { "handle": "h1" }] },
        })
    );
}

// ---- addAutomation ----

#[tokio::test]
async fn add_automation_to_an_existing_segment_is_enabled_and_assigns_to_it() {
    let app = TestApp::spawn().await;
    let engaged = app.create_segment("Engaged").await;
    let campaign = new_campaign(&app, "Spring launch", &[]).await;

    let payload = add_automation(
        &app,
        json!({ "campaignId": campaign, "trigger": "EMAIL_REPLIED", "assignToSegment": { "id": engaged } }),
    )
    .await;

    let automation = &payload["automation"];
    let id = automation["id"]
        .as_str()
        .expect("an automation id")
        .to_owned();
    let created_at = automation["createdAt"]
        .as_str()
        .expect("createdAt")
        .to_owned();
    assert!(
        chrono::DateTime::parse_from_rfc3339(&created_at).is_ok() && created_at.ends_with('Z'),
        "createdAt is RFC 3339 in UTC: {created_at}"
    );
    assert_eq!(
        payload,
        json!({
            "automation": {
                "id": id,
                "trigger": "EMAIL_REPLIED",
                "action": "ASSIGN_TO_SEGMENT",
                "enabled": true,
                "createdAt": created_at,
                "segment": { "id": engaged, "name": "Engaged" },
                "campaign": { "id": campaign, "name": "Spring launch" },
            },
            "userErrors": [],
        })
    );
    assert_eq!(app.count_rows("automation").await, 1);
    assert_eq!(app.count_rows("segment").await, 1);
}

#[tokio::test]
async fn add_automation_can_create_its_segment_in_the_same_step() {
    let app = TestApp::spawn().await;
    let campaign = new_campaign(&app, "Spring launch", &[]).await;

    let payload = add_automation(
        &app,
        json!({
            "campaignId": campaign,
            "trigger": "LINK_CLICKED",
            "assignToSegment": { "create": { "name": "  Clicked  ", "description": "Clicked a link" } },
        }),
    )
    .await;

    assert_eq!(payload["userErrors"], json!([]));
    let segment = payload["automation"]["segment"]["id"]
        .as_str()
        .expect("a segment")
        .to_owned();
    assert_eq!(payload["automation"]["segment"]["name"], json!("Clicked"));
    assert_eq!(payload["automation"]["enabled"], json!(true));
    let data = app
        .data(
            "{ segments(first: 10) { totalCount nodes { id name description memberCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["segments"],
        json!({
            "totalCount": 1,
            "nodes": [{ "id": segment, "name": "Clicked", "description": "Clicked a link", "memberCount": 0 }],
        })
    );
}

/// Runs an addAutomation that must be refused with exactly `expected` errors and write nothing.
async fn assert_add_automation_refused(app: &TestApp, input: Value, expected: Value) {
    let before = row_counts(app).await;
    let payload = add_automation(app, input).await;
    assert_eq!(
        without_messages(payload),
        json!({ "automation": null, "userErrors": expected })
    );
    assert_eq!(row_counts(app).await, before, "nothing was written");
}

#[tokio::test]
async fn add_automation_to_an_unknown_campaign_is_not_found_and_creates_no_segment() {
    let app = TestApp::spawn().await;
    new_campaign(&app, "Spring launch", &[]).await;
    let segments_before = app.count_rows("segment").await;

    assert_add_automation_refused(
        &app,
        json!({
            "campaignId": unknown_id(Kind::Campaign),
            "trigger": "EMAIL_OPENED",
            "assignToSegment": { "create": { "name": "Openers" } },
        }),
        json!([{ "field": ["input", "campaignId"], "code": "NOT_FOUND" }]),
    )
    .await;

    assert_eq!(app.count_rows("segment").await, segments_before);
    let data = app
        .data(
            "{ segments(search: \"Openers\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["segments"]["totalCount"], json!(0));
}

#[tokio::test]
async fn add_automation_with_a_segment_id_as_campaign_is_invalid() {
    let app = TestApp::spawn().await;
    let engaged = app.create_segment("Engaged").await;

    assert_add_automation_refused(
        &app,
        json!({ "campaignId": engaged, "trigger": "EMAIL_OPENED", "assignToSegment": { "id": engaged } }),
        json!([{ "field": ["input", "campaignId"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn add_automation_to_an_unknown_segment_is_not_found() {
    let app = TestApp::spawn().await;
    let campaign = new_campaign(&app, "Spring launch", &[]).await;

    assert_add_automation_refused(
        &app,
        json!({
            "campaignId": campaign,
            "trigger": "EMAIL_OPENED",
            "assignToSegment": { "id": unknown_id(Kind::Segment) },
        }),
        json!([{ "field": ["input", "assignToSegment", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn add_automation_refuses_an_inline_name_taken_ignoring_case() {
    let app = TestApp::spawn().await;
    app.create_segment("Engaged").await;
    let campaign = new_campaign(&app, "Spring launch", &[]).await;

    assert_add_automation_refused(
        &app,
        json!({
            "campaignId": campaign,
            "trigger": "EMAIL_REPLIED",
            "assignToSegment": { "create": { "name": "ENGAGED" } },
        }),
        json!([{ "field": ["input", "assignToSegment", "create", "name"], "code": "NAME_TAKEN" }]),
    )
    .await;
}

#[tokio::test]
async fn add_automation_refuses_an_empty_inline_name() {
    let app = TestApp::spawn().await;
    let campaign = new_campaign(&app, "Spring launch", &[]).await;

    assert_add_automation_refused(
        &app,
        json!({
            "campaignId": campaign,
            "trigger": "EMAIL_REPLIED",
            "assignToSegment": { "create": { "name": "   " } },
        }),
        json!([{ "field": ["input", "assignToSegment", "create", "name"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn add_automation_reports_an_unknown_campaign_and_a_taken_name_together() {
    let app = TestApp::spawn().await;
    app.create_segment("Engaged").await;

    assert_add_automation_refused(
        &app,
        json!({
            "campaignId": unknown_id(Kind::Campaign),
            "trigger": "EMAIL_REPLIED",
            "assignToSegment": { "create": { "name": "engaged" } },
        }),
        json!([
            { "field": ["input", "campaignId"], "code": "NOT_FOUND" },
            { "field": ["input", "assignToSegment", "create", "name"], "code": "NAME_TAKEN" },
        ]),
    )
    .await;
}

#[tokio::test]
async fn campaign_automations_lists_them_oldest_first() {
    let app = TestApp::spawn().await;
    let openers = app.create_segment("Openers").await;
    let campaign = new_campaign(&app, "Spring launch", &[]).await;
    let other = new_campaign(&app, "Other", &[]).await;
    let first = new_automation(&app, &campaign, "EMAIL_OPENED", &openers).await;
    new_automation(&app, &other, "EMAIL_OPENED", &openers).await;
    let second = add_automation(
        &app,
        json!({
            "campaignId": campaign,
            "trigger": "EMAIL_REPLIED",
            "assignToSegment": { "create": { "name": "Repliers" } },
        }),
    )
    .await;
    assert_eq!(second["userErrors"], json!([]));
    let second_id = second["automation"]["id"].clone();
    let repliers = second["automation"]["segment"]["id"].clone();

    let data = app.data(AUTOMATIONS_OF, json!({ "id": campaign })).await;

    assert_eq!(
        data["campaign"]["automations"],
        json!([
            {
                "id": first,
                "trigger": "EMAIL_OPENED",
                "action": "ASSIGN_TO_SEGMENT",
                "enabled": true,
                "segment": { "id": openers, "name": "Openers" },
                "campaign": { "id": campaign },
            },
            {
                "id": second_id,
                "trigger": "EMAIL_REPLIED",
                "action": "ASSIGN_TO_SEGMENT",
                "enabled": true,
                "segment": { "id": repliers, "name": "Repliers" },
                "campaign": { "id": campaign },
            },
        ])
    );
}

// ---- recordEngagement ----

#[tokio::test]
async fn record_engagement_with_a_matching_automation_reports_the_assigned_segment() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;

    let payload = record(
        &f.app,
        json!({ "campaignId": f.campaign, "influencerId": f.influencer, "kind": "EMAIL_REPLIED" }),
    )
    .await;

    let event_id = payload["event"]["id"]
        .as_str()
        .expect("an event id")
        .to_owned();
    let occurred_at = payload["event"]["occurredAt"].clone();
    assert_eq!(
        payload,
        json!({
            "event": {
                "id": event_id,
                "kind": "EMAIL_REPLIED",
                "occurredAt": occurred_at,
                "externalId": null,
                "campaign": { "id": f.campaign },
                "influencer": { "id": f.influencer },
            },
            "assignedSegments": [{ "id": f.segment, "name": "Engaged" }],
            "duplicate": false,
            "userErrors": [],
        })
    );
    assert_eq!(f.app.count_rows("engagement_event").await, 1);
}

#[tokio::test]
async fn record_engagement_takes_the_assigned_influencer_out_of_unassigned() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    f.app.create_influencer("ben").await;
    assert_eq!(f.app.unassigned_handles().await, ["ana", "ben"]);

    record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;

    assert_eq!(f.app.unassigned_handles().await, ["ben"]);
    let data = f
        .app
        .data(
            "query($id: ID!) { segment(id: $id) { memberCount influencers { nodes { handle } } } }",
            json!({ "id": f.segment }),
        )
        .await;
    assert_eq!(
        data["segment"],
        json!({ "memberCount": 1, "influencers": { "nodes": [{ "handle": "ana" }] } })
    );
}

#[tokio::test]
async fn membership_made_by_an_automation_names_the_automation() {
    let f = campaign_with_automation("LINK_CLICKED").await;

    record_kind(&f.app, &f.campaign, &f.influencer, "LINK_CLICKED").await;

    assert_eq!(
        memberships(&f.app, &f.influencer).await,
        json!({
            "unassigned": false,
            "memberships": [{
                "segment": { "id": f.segment },
                "source": "AUTOMATION",
                "automation": { "id": f.automation },
            }],
        })
    );
}

#[tokio::test]
async fn record_engagement_of_a_kind_without_automation_assigns_nothing() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;

    let payload = record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_OPENED").await;

    assert_eq!(payload["assignedSegments"], json!([]));
    assert_eq!(payload["duplicate"], json!(false));
    assert_eq!(payload["event"]["kind"], json!("EMAIL_OPENED"));
    assert_eq!(
        f.app.count_rows("engagement_event").await,
        1,
        "the event is still recorded"
    );
    assert_eq!(f.app.count_rows("segment_membership").await, 0);
    assert_eq!(f.app.unassigned_handles().await, ["ana"]);
}

#[tokio::test]
async fn record_engagement_on_another_campaign_does_not_run_this_campaigns_automation() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    let other = new_campaign(&f.app, "Other", &[]).await;

    let payload = record_kind(&f.app, &other, &f.influencer, "EMAIL_REPLIED").await;

    assert_eq!(payload["assignedSegments"], json!([]));
    assert_eq!(f.app.count_rows("segment_membership").await, 0);
    assert_eq!(f.app.unassigned_handles().await, ["ana"]);
}

#[tokio::test]
async fn record_engagement_for_an_existing_member_assigns_nothing_new() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    f.app
        .assign(std::slice::from_ref(&f.influencer), &f.segment)
        .await;

    let payload = record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;

    assert_eq!(payload["assignedSegments"], json!([]));
    assert_eq!(
        memberships(&f.app, &f.influencer).await["memberships"],
        json!([{ "segment": { "id": f.segment }, "source": "MANUAL", "automation": null }]),
        "the manual membership is left as it was"
    );
}

#[tokio::test]
async fn record_engagement_a_second_time_assigns_nothing_new() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    let first = record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;
    assert_eq!(
        first["assignedSegments"],
        json!([{ "id": f.segment, "name": "Engaged" }])
    );

    let second = record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;

    assert_eq!(second["assignedSegments"], json!([]));
    assert_eq!(second["duplicate"], json!(false));
    assert_ne!(second["event"]["id"], first["event"]["id"]);
    assert_eq!(f.app.count_rows("engagement_event").await, 2);
    assert_eq!(f.app.count_rows("segment_membership").await, 1);
}

#[tokio::test]
async fn two_automations_for_one_trigger_assign_to_both_segments() {
    let f = campaign_with_automation("EMAIL_OPENED").await;
    let warm = f.app.create_segment("Warm leads").await;
    let second = new_automation(&f.app, &f.campaign, "EMAIL_OPENED", &warm).await;
    let other = f.app.create_segment("Repliers").await;
    new_automation(&f.app, &f.campaign, "EMAIL_REPLIED", &other).await;

    let payload = record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_OPENED").await;

    assert_eq!(
        payload["assignedSegments"],
        json!([{ "id": f.segment, "name": "Engaged" }, { "id": warm, "name": "Warm leads" }])
    );
    assert_eq!(
        memberships(&f.app, &f.influencer).await,
        json!({
            "unassigned": false,
            "memberships": [
                { "segment": { "id": f.segment }, "source": "AUTOMATION", "automation": { "id": f.automation } },
                { "segment": { "id": warm }, "source": "AUTOMATION", "automation": { "id": second } },
            ],
        })
    );
}

#[tokio::test]
async fn two_automations_of_one_segment_make_one_membership_naming_the_first() {
    let f = campaign_with_automation("EMAIL_OPENED").await;
    new_automation(&f.app, &f.campaign, "EMAIL_OPENED", &f.segment).await;

    let payload = record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_OPENED").await;

    assert_eq!(
        payload["assignedSegments"],
        json!([{ "id": f.segment, "name": "Engaged" }])
    );
    assert_eq!(
        memberships(&f.app, &f.influencer).await,
        json!({
            "unassigned": false,
            "memberships": [
                { "segment": { "id": f.segment }, "source": "AUTOMATION", "automation": { "id": f.automation } },
            ],
        })
    );
}

#[tokio::test]
async fn an_engagement_runs_the_same_statements_for_one_automation_and_for_three() {
    let f = campaign_with_automation("EMAIL_OPENED").await;
    let statements = |kind: &'static str, influencer: String| {
        let app = &f.app;
        let campaign = f.campaign.clone();
        async move {
            app.take_statement_count();
            record_kind(app, &campaign, &influencer, kind).await;
            app.take_statement_count()
        }
    };
    let one = statements("EMAIL_OPENED", f.influencer.clone()).await;
    for name in ["Second", "Third"] {
        let segment = f.app.create_segment(name).await;
        new_automation(&f.app, &f.campaign, "EMAIL_OPENED", &segment).await;
    }
    let another = f.app.create_influencer("another").await;
    let three = statements("EMAIL_OPENED", another.clone()).await;
    let payload = memberships(&f.app, &another).await;
    assert_eq!(payload["memberships"].as_array().unwrap().len(), 3);
    // The payload's `assignedSegments` included: one batch, not a segment at a time.
    assert_eq!(one, three, "set-based: no statement per automation");
}

#[tokio::test]
async fn record_engagement_lists_only_segments_newly_assigned() {
    let f = campaign_with_automation("EMAIL_OPENED").await;
    let warm = f.app.create_segment("Warm leads").await;
    new_automation(&f.app, &f.campaign, "EMAIL_OPENED", &warm).await;
    f.app
        .assign(std::slice::from_ref(&f.influencer), &f.segment)
        .await;

    let payload = record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_OPENED").await;

    assert_eq!(
        payload["assignedSegments"],
        json!([{ "id": warm, "name": "Warm leads" }])
    );
}

#[tokio::test]
async fn record_engagement_with_a_repeated_external_id_returns_the_first_event() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    let input = json!({
        "campaignId": f.campaign,
        "influencerId": f.influencer,
        "kind": "EMAIL_REPLIED",
        "externalId": "msg-42",
    });
    let first = record(&f.app, input.clone()).await;
    assert_eq!(first["userErrors"], json!([]));
    assert_eq!(first["duplicate"], json!(false));
    assert_eq!(first["event"]["externalId"], json!("msg-42"));

    let again = record(&f.app, input).await;

    assert_eq!(
        again,
        json!({
            "event": first["event"],
            "assignedSegments": [],
            "duplicate": true,
            "userErrors": [],
        })
    );
    assert_eq!(f.app.count_rows("engagement_event").await, 1);
}

#[tokio::test]
async fn record_engagement_repeat_runs_no_automation_again() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    let input = json!({
        "campaignId": f.campaign,
        "influencerId": f.influencer,
        "kind": "EMAIL_REPLIED",
        "externalId": "msg-42",
    });
    record(&f.app, input.clone()).await;
    let removed = f
        .app
        .data(
            "mutation($ids: [ID!]!, $seg: ID!) { removeFromSegment(input: { influencerIds: $ids, segmentId: $seg }) { userErrors { code } } }",
            json!({ "ids": [f.influencer], "seg": f.segment }),
        )
        .await;
    assert_eq!(removed["removeFromSegment"]["userErrors"], json!([]));
    assert_eq!(f.app.unassigned_handles().await, ["ana"]);

    let again = record(&f.app, input).await;

    assert_eq!(again["duplicate"], json!(true));
    assert_eq!(again["assignedSegments"], json!([]));
    assert_eq!(
        f.app.unassigned_handles().await,
        ["ana"],
        "not assigned again"
    );
    assert_eq!(f.app.count_rows("segment_membership").await, 0);
}

#[tokio::test]
async fn record_engagement_without_external_id_is_never_a_duplicate() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;

    let first = record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_OPENED").await;
    let second = record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_OPENED").await;

    assert_eq!(first["duplicate"], json!(false));
    assert_eq!(second["duplicate"], json!(false));
    assert_ne!(first["event"]["id"], second["event"]["id"]);
    assert_eq!(f.app.count_rows("engagement_event").await, 2);
}

#[tokio::test]
async fn record_engagement_echoes_occurred_at_in_utc() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;

    let payload = record(
        &f.app,
        json!({
            "campaignId": f.campaign,
            "influencerId": f.influencer,
            "kind": "EMAIL_OPENED",
            "occurredAt": "2026-01-02T03:04:05+02:00",
        }),
    )
    .await;

    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(
        payload["event"]["occurredAt"],
        json!("2026-01-02T01:04:05Z")
    );
}

#[tokio::test]
async fn stored_occurred_at_reads_back_in_utc_to_the_microsecond() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    let payload = record(
        &f.app,
        json!({
            "campaignId": f.campaign,
            "influencerId": f.influencer,
            "kind": "EMAIL_OPENED",
            "occurredAt": "2026-01-02T03:04:05.123456789-05:30",
        }),
    )
    .await;
    assert_eq!(payload["userErrors"], json!([]));

    let data = f
        .app
        .data(
            "query($id: ID!) { node(id: $id) { ... on EngagementEvent { occurredAt } } }",
            json!({ "id": payload["event"]["id"] }),
        )
        .await;

    assert_eq!(
        data["node"]["occurredAt"],
        json!("2026-01-02T08:34:05.123456Z")
    );
}

#[tokio::test]
async fn record_engagement_without_occurred_at_uses_the_time_of_recording() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);

    let payload = record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_OPENED").await;

    let after = chrono::Utc::now() + chrono::Duration::seconds(1);
    let text = payload["event"]["occurredAt"].as_str().expect("occurredAt");
    assert!(text.ends_with('Z'), "in UTC: {text}");
    let occurred = chrono::DateTime::parse_from_rfc3339(text).expect("RFC 3339");
    assert!(
        before <= occurred && occurred <= after,
        "{text} is between {before} and {after}"
    );
}

/// Runs a recordEngagement that must be refused with exactly `expected` errors and write nothing.
async fn assert_record_refused(app: &TestApp, input: Value, expected: Value) {
    let before = row_counts(app).await;
    let payload = record(app, input).await;
    assert_eq!(
        without_messages(payload),
        json!({ "event": null, "assignedSegments": null, "duplicate": false, "userErrors": expected })
    );
    assert_eq!(row_counts(app).await, before, "nothing was written");
    assert_eq!(app.count_rows("engagement_event").await, 0);
}

#[tokio::test]
async fn record_engagement_for_an_unknown_campaign_is_not_found() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    assert_record_refused(
        &f.app,
        json!({
            "campaignId": unknown_id(Kind::Campaign),
            "influencerId": f.influencer,
            "kind": "EMAIL_REPLIED",
            "externalId": "msg-1",
        }),
        json!([{ "field": ["input", "campaignId"], "code": "NOT_FOUND" }]),
    )
    .await;
    assert_eq!(f.app.unassigned_handles().await, ["ana"]);
}

#[tokio::test]
async fn record_engagement_for_an_unknown_influencer_is_not_found() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    assert_record_refused(
        &f.app,
        json!({
            "campaignId": f.campaign,
            "influencerId": unknown_id(Kind::Influencer),
            "kind": "EMAIL_REPLIED",
        }),
        json!([{ "field": ["input", "influencerId"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn record_engagement_reports_unknown_campaign_and_influencer_together() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    assert_record_refused(
        &f.app,
        json!({
            "campaignId": unknown_id(Kind::Campaign),
            "influencerId": unknown_id(Kind::Influencer),
            "kind": "EMAIL_REPLIED",
        }),
        json!([
            { "field": ["input", "campaignId"], "code": "NOT_FOUND" },
            { "field": ["input", "influencerId"], "code": "NOT_FOUND" },
        ]),
    )
    .await;
}

#[tokio::test]
async fn record_engagement_refuses_ids_of_the_wrong_type() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    assert_record_refused(
        &f.app,
        json!({
            "campaignId": f.influencer,
            "influencerId": f.campaign,
            "kind": "EMAIL_REPLIED",
        }),
        json!([
            { "field": ["input", "campaignId"], "code": "INVALID" },
            { "field": ["input", "influencerId"], "code": "INVALID" },
        ]),
    )
    .await;
}

#[tokio::test]
async fn record_engagement_refuses_an_external_id_over_200_characters() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    assert_record_refused(
        &f.app,
        json!({
            "campaignId": f.campaign,
            "influencerId": f.influencer,
            "kind": "EMAIL_REPLIED",
            "externalId": "x".repeat(201),
        }),
        json!([{ "field": ["input", "externalId"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn deleting_the_segment_of_an_automation_disables_it() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;

    delete_segment(&f.app, &f.segment).await;

    let data = f
        .app
        .data(AUTOMATIONS_OF, json!({ "id": f.campaign }))
        .await;
    assert_eq!(
        data["campaign"]["automations"],
        json!([{
            "id": f.automation,
            "trigger": "EMAIL_REPLIED",
            "action": "ASSIGN_TO_SEGMENT",
            "enabled": false,
            "segment": null,
            "campaign": { "id": f.campaign },
        }])
    );
}

#[tokio::test]
async fn record_engagement_after_the_automations_segment_was_deleted_assigns_nothing() {
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    delete_segment(&f.app, &f.segment).await;

    let payload = record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;

    assert_eq!(payload["assignedSegments"], json!([]));
    assert_eq!(f.app.count_rows("engagement_event").await, 1);
    assert_eq!(f.app.count_rows("segment_membership").await, 0);
    assert_eq!(
        memberships(&f.app, &f.influencer).await,
        json!({ "unassigned": true, "memberships": [] })
    );
}

#[tokio::test]
async fn deleting_an_automations_segment_removes_only_the_memberships_in_it() {
    // The membership made by the automation goes with its segment; one in another segment stays.
    let f = campaign_with_automation("EMAIL_REPLIED").await;
    let keep = f.app.create_segment("Keep").await;
    f.app
        .assign(std::slice::from_ref(&f.influencer), &keep)
        .await;
    record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;

    delete_segment(&f.app, &f.segment).await;

    assert_eq!(
        memberships(&f.app, &f.influencer).await,
        json!({
            "unassigned": false,
            "memberships": [{ "segment": { "id": keep }, "source": "MANUAL", "automation": null }],
        })
    );
}

// ---- node / nodes ----

#[tokio::test]
async fn node_returns_an_automation_by_id() {
    let f = campaign_with_automation("LINK_CLICKED").await;

    let data = f
        .app
        .data(
            "query($id: ID!) { node(id: $id) { __typename id ... on Automation { trigger action enabled segment { id } campaign { id } } } }",
            json!({ "id": f.automation }),
        )
        .await;

    assert_eq!(
        data["node"],
        json!({
            "__typename": "Automation",
            "id": f.automation,
            "trigger": "LINK_CLICKED",
            "action": "ASSIGN_TO_SEGMENT",
            "enabled": true,
            "segment": { "id": f.segment },
            "campaign": { "id": f.campaign },
        })
    );
}

#[tokio::test]
async fn node_returns_an_engagement_event_by_id() {
    let f = campaign_with_automation("LINK_CLICKED").await;
    let payload = record(
        &f.app,
        json!({
            "campaignId": f.campaign,
            "influencerId": f.influencer,
            "kind": "LINK_CLICKED",
            "occurredAt": "2026-03-04T05:06:07Z",
            "externalId": "click-1",
        }),
    )
    .await;
    let event = payload["event"]["id"]
        .as_str()
        .expect("an event")
        .to_owned();

    let data = f
        .app
        .data(
            "query($id: ID!) { node(id: $id) { __typename id ... on EngagementEvent { kind occurredAt externalId campaign { id } influencer { handle } } } }",
            json!({ "id": event }),
        )
        .await;

    assert_eq!(
        data["node"],
        json!({
            "__typename": "EngagementEvent",
            "id": event,
            "kind": "LINK_CLICKED",
            "occurredAt": "2026-03-04T05:06:07Z",
            "externalId": "click-1",
            "campaign": { "id": f.campaign },
            "influencer": { "handle": "ana" },
        })
    );
}

#[tokio::test]
async fn nodes_returns_automations_and_events_in_order_with_null_for_unknown_ids() {
    let f = campaign_with_automation("EMAIL_OPENED").await;
    let event =
        record_kind(&f.app, &f.campaign, &f.influencer, "EMAIL_OPENED").await["event"]["id"]
            .clone();

    let data = f
        .app
        .data(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Automation { trigger } ... on EngagementEvent { kind } } }",
            json!({ "ids": [
                event,
                unknown_id(Kind::Automation),
                f.automation,
                unknown_id(Kind::EngagementEvent),
            ] }),
        )
        .await;

    assert_eq!(
        data["nodes"],
        json!([
            { "__typename": "EngagementEvent", "id": event, "kind": "EMAIL_OPENED" },
            null,
            { "__typename": "Automation", "id": f.automation, "trigger": "EMAIL_OPENED" },
            null,
        ])
    );
}

#[tokio::test]
async fn node_of_an_unknown_automation_is_null() {
    let app = TestApp::spawn().await;

    let data = app
        .data(
            "query($id: ID!) { node(id: $id) { id ... on Automation { trigger } } }",
            json!({ "id": unknown_id(Kind::Automation) }),
        )
        .await;

    assert_eq!(data, json!({ "node": null }));
}
