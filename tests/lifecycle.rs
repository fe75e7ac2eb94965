mod common;

// Editing and deleting influencers, campaigns and automations, through the GraphQL schema: what
// an update changes and keeps, what it refuses (writing nothing), and what a delete takes with it
// and leaves behind.

use common::{TestApp, delete_segment, memberships, unknown_id, without_messages};
use pretty_assertions::assert_eq;
use segments_api::graphql::schema::ids::Kind;
use serde_json::{Value, json};

// ---- operations ----

const CREATE_INFLUENCER: &str = "mutation($input: CreateInfluencerInput!) {
    createInfluencer(input: $input) { influencer { id } userErrors { field message code } }
}";

const UPDATE_INFLUENCER: &str = "mutation($input: UpdateInfluencerInput!) {
    updateInfluencer(input: $input) {
        influencer { id handle displayName email platform niche followerCount }
        userErrors { field message code }
    }
}";

const INFLUENCER: &str = "query($id: ID!) {
    influencer(id: $id) { id handle displayName email platform niche followerCount }
}";

const DELETE_INFLUENCER: &str = "mutation($input: DeleteInfluencerInput!) {
    deleteInfluencer(input: $input) { deletedInfluencerId userErrors { field message code } }
}";

const CREATE_CAMPAIGN: &str = "mutation($input: CreateCampaignInput!) {
    createCampaign(input: $input) { campaign { id } userErrors { field message code } }
}";

const UPDATE_CAMPAIGN: &str = "mutation($input: UpdateCampaignInput!) {
    updateCampaign(input: $input) {
        campaign { id name status audience { id name } }
        userErrors { field message code }
    }
}";

const CAMPAIGN: &str = "query($id: ID!) {
    campaign(id: $id) {
        id name status audience { id name }
        recipients(first: 100) { totalCount nodes { handle } }
    }
}";

const DELETE_CAMPAIGN: &str = "mutation($input: DeleteCampaignInput!) {
    deleteCampaign(input: $input) { deletedCampaignId userErrors { field message code } }
}";

const ADD_AUTOMATION: &str = "mutation($input: AddAutomationInput!) {
    addAutomation(input: $input) { automation { id } userErrors { field message code } }
}";

const UPDATE_AUTOMATION: &str = "mutation($input: UpdateAutomationInput!) {
    updateAutomation(input: $input) {
        automation { id trigger action enabled segment { id name } campaign { id } }
        userErrors { field message code }
    }
}";

const AUTOMATIONS_OF: &str = "query($id: ID!) {
    campaign(id: $id) {
        automations { id trigger action enabled segment { id name } campaign { id } }
    }
}";

const DELETE_AUTOMATION: &str = "mutation($input: DeleteAutomationInput!) {
    deleteAutomation(input: $input) { deletedAutomationId userErrors { field message code } }
}";

const RECORD_ENGAGEMENT: &str = "mutation($input: RecordEngagementInput!) {
    recordEngagement(input: $input) {
        event { id }
        assignedSegments { id name }
        duplicate
        userErrors { field message code }
    }
}";

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id } }";

/// Everything a client can read about the workspace: what a refused mutation must leave as it was.
const WORLD: &str = "{
    influencers(first: 100) {
        totalCount
        nodes {
            id handle displayName email platform niche followerCount createdAt unassigned
            memberships { segment { id } source automation { id } }
        }
    }
    unassigned(first: 100) { totalCount nodes { id } }
    segments(first: 100) {
        totalCount
        nodes { id name description memberCount influencers(first: 100) { nodes { id } } }
    }
    campaigns(first: 100) {
        totalCount
        nodes {
            id name status createdAt
            audience { id }
            recipients(first: 100) { totalCount nodes { id } }
            automations { id trigger action enabled createdAt segment { id } }
        }
    }
}";

// ---- helpers ----

async fn world(app: &TestApp) -> Value {
    app.data(WORLD, json!({})).await
}

/// Rows of every table the mutations under test write to.
async fn row_counts(app: &TestApp) -> Value {
    let mut counts = serde_json::Map::new();
    for table in [
        "influencer",
        "segment",
        "segment_membership",
        "campaign",
        "campaign_audience",
        "automation",
        "engagement_event",
    ] {
        counts.insert(table.to_owned(), json!(app.count_rows(table).await));
    }
    Value::Object(counts)
}

/// Runs `mutation` (whose payload field is `name`) with `input`; it must be refused with exactly
/// `expected` user errors, `payload_field` null, and nothing readable or stored changed.
async fn assert_refused(
    app: &TestApp,
    mutation: &str,
    name: &str,
    payload_field: &str,
    input: Value,
    expected: Value,
) {
    let world_before = world(app).await;
    let rows_before = row_counts(app).await;

    let payload = app.data(mutation, json!({ "input": input })).await[name].clone();

    assert_eq!(
        without_messages(payload),
        json!({ payload_field: null, "userErrors": expected })
    );
    assert_eq!(row_counts(app).await, rows_before, "no rows written");
    assert_eq!(world(app).await, world_before, "nothing changed");
}

async fn create_influencer_with(app: &TestApp, input: Value) -> String {
    let data = app.data(CREATE_INFLUENCER, json!({ "input": input })).await;
    assert_eq!(data["createInfluencer"]["userErrors"], json!([]));
    data["createInfluencer"]["influencer"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// "ana" on Instagram with every field filled in.
async fn create_ana(app: &TestApp) -> String {
    create_influencer_with(
        app,
        json!({
            "handle": "ana",
            "platform": "INSTAGRAM",
            "displayName": "Ana",
            "email": "ana@example.com",
            "niche": "fitness",
            "followerCount": 1000,
        }),
    )
    .await
}

/// What `create_ana` made, as the influencer fields of UPDATE_INFLUENCER / INFLUENCER read it.
fn ana(id: &str) -> Value {
    json!({
        "id": id,
        "handle": "ana",
        "displayName": "Ana",
        "email": "ana@example.com",
        "platform": "INSTAGRAM",
        "niche": "fitness",
        "followerCount": 1000,
    })
}

async fn update_influencer(app: &TestApp, input: Value) -> Value {
    app.data(UPDATE_INFLUENCER, json!({ "input": input })).await["updateInfluencer"].clone()
}

async fn read_influencer(app: &TestApp, id: &str) -> Value {
    app.data(INFLUENCER, json!({ "id": id })).await["influencer"].clone()
}

async fn delete_influencer(app: &TestApp, id: &str) -> Value {
    app.data(DELETE_INFLUENCER, json!({ "input": { "id": id } }))
        .await["deleteInfluencer"]
        .clone()
}

async fn new_campaign(app: &TestApp, name: &str, audience: &[&str]) -> String {
    let data = app
        .data(
            CREATE_CAMPAIGN,
            json!({ "input": { "name": name, "audienceSegmentIds": audience } }),
        )
        .await;
    assert_eq!(data["createCampaign"]["userErrors"], json!([]), "{name}");
    data["createCampaign"]["campaign"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn update_campaign(app: &TestApp, input: Value) -> Value {
    app.data(UPDATE_CAMPAIGN, json!({ "input": input })).await["updateCampaign"].clone()
}

async fn read_campaign(app: &TestApp, id: &str) -> Value {
    app.data(CAMPAIGN, json!({ "id": id })).await["campaign"].clone()
}

async fn delete_campaign(app: &TestApp, id: &str) -> Value {
    app.data(DELETE_CAMPAIGN, json!({ "input": { "id": id } }))
        .await["deleteCampaign"]
        .clone()
}

async fn new_automation(app: &TestApp, campaign: &str, trigger: &str, segment: &str) -> String {
    let data = app
        .data(
            ADD_AUTOMATION,
            json!({ "input": {
                "campaignId": campaign,
                "trigger": trigger,
                "assignToSegment": { "id": segment },
            } }),
        )
        .await;
    assert_eq!(data["addAutomation"]["userErrors"], json!([]));
    data["addAutomation"]["automation"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn update_automation(app: &TestApp, input: Value) -> Value {
    app.data(UPDATE_AUTOMATION, json!({ "input": input })).await["updateAutomation"].clone()
}

async fn automations_of(app: &TestApp, campaign: &str) -> Value {
    app.data(AUTOMATIONS_OF, json!({ "id": campaign })).await["campaign"]["automations"].clone()
}

async fn delete_automation(app: &TestApp, id: &str) -> Value {
    app.data(DELETE_AUTOMATION, json!({ "input": { "id": id } }))
        .await["deleteAutomation"]
        .clone()
}

/// Records `kind` by `influencer` for `campaign`, which must succeed; returns the payload.
async fn record(app: &TestApp, campaign: &str, influencer: &str, kind: &str) -> Value {
    let payload = app
        .data(
            RECORD_ENGAGEMENT,
            json!({ "input": { "campaignId": campaign, "influencerId": influencer, "kind": kind } }),
        )
        .await["recordEngagement"]
        .clone();
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["duplicate"], json!(false));
    payload
}

async fn node(app: &TestApp, id: &str) -> Value {
    app.data(NODE, json!({ "id": id })).await["node"].clone()
}

/// A segment's name, member count and members' handles.
async fn segment_members(app: &TestApp, segment: &str) -> Value {
    app.data(
        "query($id: ID!) { segment(id: $id) { name memberCount influencers(first: 100) { totalCount nodes { handle } } } }",
        json!({ "id": segment }),
    )
    .await["segment"]
        .clone()
}

async fn segment_names(app: &TestApp) -> Value {
    app.data("{ segments(first: 100) { nodes { name } } }", json!({}))
        .await["segments"]["nodes"]
        .clone()
}

/// A campaign "Spring launch" with one automation: on EMAIL_REPLIED, assign to "Engaged".
/// "ana" exists and is in no segment.
struct Fixture {
    app: TestApp,
    campaign: String,
    segment: String,
    automation: String,
    influencer: String,
}

async fn campaign_with_automation() -> Fixture {
    let app = TestApp::spawn().await;
    let influencer = app.create_influencer("ana").await;
    let segment = app.create_segment("Engaged").await;
    let campaign = new_campaign(&app, "Spring launch", &[]).await;
    let automation = new_automation(&app, &campaign, "EMAIL_REPLIED", &segment).await;
    Fixture {
        app,
        campaign,
        segment,
        automation,
        influencer,
    }
}

impl Fixture {
    /// The automation as UPDATE_AUTOMATION / AUTOMATIONS_OF read it, with these changes.
    fn automation_json(&self, trigger: &str, enabled: bool, segment: Value) -> Value {
        json!({
            "id": self.automation,
            "trigger": trigger,
            "action": "ASSIGN_TO_SEGMENT",
            "enabled": enabled,
            "segment": segment,
            "campaign": { "id": self.campaign },
        })
    }

    fn engaged(&self) -> Value {
        json!({ "id": self.segment, "name": "Engaged" })
    }
}

// ---- updateInfluencer ----

#[tokio::test]
async fn update_influencer_changes_the_given_fields_and_keeps_the_omitted_ones() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;

    let payload = update_influencer(
        &app,
        json!({ "id": id, "displayName": "Ana Fit", "followerCount": 2500 }),
    )
    .await;

    let expected = json!({
        "id": id,
        "handle": "ana",
        "displayName": "Ana Fit",
        "email": "ana@example.com",
        "platform": "INSTAGRAM",
        "niche": "fitness",
        "followerCount": 2500,
    });
    assert_eq!(
        without_messages(payload),
        json!({ "influencer": expected, "userErrors": [] })
    );
    assert_eq!(read_influencer(&app, &id).await, expected);
}

#[tokio::test]
async fn update_influencer_changes_handle_platform_email_and_niche() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;

    let payload = update_influencer(
        &app,
        json!({
            "id": id,
            "handle": " @Ana.Fit ",
            "platform": "TIKTOK",
            "email": " ana@fit.example ",
            "niche": " running ",
        }),
    )
    .await;

    let expected = json!({
        "id": id,
        "handle": "Ana.Fit",
        "displayName": "Ana",
        "email": "ana@fit.example",
        "platform": "TIKTOK",
        "niche": "running",
        "followerCount": 1000,
    });
    assert_eq!(
        without_messages(payload),
        json!({ "influencer": expected, "userErrors": [] })
    );
    assert_eq!(read_influencer(&app, &id).await, expected);
}

#[tokio::test]
async fn update_influencer_with_only_an_id_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    let before = world(&app).await;

    let payload = update_influencer(&app, json!({ "id": id })).await;

    assert_eq!(
        without_messages(payload),
        json!({ "influencer": ana(&id), "userErrors": [] })
    );
    assert_eq!(world(&app).await, before);
}

#[tokio::test]
async fn update_influencer_null_clears_display_name_email_niche_and_follower_count() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;

    let payload = update_influencer(
        &app,
        json!({
            "id": id,
            "displayName": null,
            "email": null,
            "niche": null,
            "followerCount": null,
        }),
    )
    .await;

    let expected = json!({
        "id": id,
        "handle": "ana",
        "displayName": null,
        "email": null,
        "platform": "INSTAGRAM",
        "niche": null,
        "followerCount": null,
    });
    assert_eq!(
        without_messages(payload),
        json!({ "influencer": expected, "userErrors": [] })
    );
    assert_eq!(read_influencer(&app, &id).await, expected);
}

#[tokio::test]
async fn update_influencer_with_a_null_handle_and_platform_keeps_them() {
    // handle and platform are required on an influencer: null cannot clear them.
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;

    let payload = update_influencer(
        &app,
        json!({ "id": id, "handle": null, "platform": null, "niche": "yoga" }),
    )
    .await;

    let mut expected = ana(&id);
    expected["niche"] = json!("yoga");
    assert_eq!(
        without_messages(payload),
        json!({ "influencer": expected, "userErrors": [] })
    );
    assert_eq!(read_influencer(&app, &id).await, expected);
}

#[tokio::test]
async fn update_influencer_keeps_its_creation_time_and_segments() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    let fitness = app.create_segment("Fitness").await;
    app.assign(std::slice::from_ref(&id), &fitness).await;
    let query =
        "query($id: ID!) { influencer(id: $id) { createdAt unassigned segments { id name } } }";
    let before = app.data(query, json!({ "id": id })).await;

    let payload = update_influencer(&app, json!({ "id": id, "handle": "ana2" })).await;

    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(app.data(query, json!({ "id": id })).await, before);
    assert_eq!(
        before["influencer"]["segments"],
        json!([{ "id": fitness, "name": "Fitness" }])
    );
}

#[tokio::test]
async fn update_influencer_refuses_a_bad_email() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    assert_refused(
        &app,
        UPDATE_INFLUENCER,
        "updateInfluencer",
        "influencer",
        json!({ "id": id, "email": "not-an-email", "displayName": "Changed" }),
        json!([{ "field": ["input", "email"], "code": "INVALID" }]),
    )
    .await;
    assert_eq!(read_influencer(&app, &id).await, ana(&id));
}

#[tokio::test]
async fn update_influencer_refuses_a_negative_follower_count() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    assert_refused(
        &app,
        UPDATE_INFLUENCER,
        "updateInfluencer",
        "influencer",
        json!({ "id": id, "followerCount": -1, "niche": "changed" }),
        json!([{ "field": ["input", "followerCount"], "code": "INVALID" }]),
    )
    .await;
    assert_eq!(read_influencer(&app, &id).await, ana(&id));
}

#[tokio::test]
async fn update_influencer_refuses_a_handle_with_spaces() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    assert_refused(
        &app,
        UPDATE_INFLUENCER,
        "updateInfluencer",
        "influencer",
        json!({ "id": id, "handle": "ana fit", "platform": "YOUTUBE" }),
        json!([{ "field": ["input", "handle"], "code": "INVALID" }]),
    )
    .await;
    assert_eq!(read_influencer(&app, &id).await, ana(&id));
}

#[tokio::test]
async fn update_influencer_refuses_an_empty_handle() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    assert_refused(
        &app,
        UPDATE_INFLUENCER,
        "updateInfluencer",
        "influencer",
        json!({ "id": id, "handle": " @ " }),
        json!([{ "field": ["input", "handle"], "code": "INVALID" }]),
    )
    .await;
    assert_eq!(read_influencer(&app, &id).await, ana(&id));
}

#[tokio::test]
async fn update_influencer_reports_every_bad_field_together() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    assert_refused(
        &app,
        UPDATE_INFLUENCER,
        "updateInfluencer",
        "influencer",
        json!({
            "id": id,
            "handle": "two words",
            "displayName": "d".repeat(201),
            "email": "a@b",
            "niche": "n".repeat(81),
            "followerCount": -5,
        }),
        json!([
            { "field": ["input", "handle"], "code": "INVALID" },
            { "field": ["input", "displayName"], "code": "INVALID" },
            { "field": ["input", "email"], "code": "INVALID" },
            { "field": ["input", "niche"], "code": "INVALID" },
            { "field": ["input", "followerCount"], "code": "INVALID" },
        ]),
    )
    .await;
    assert_eq!(read_influencer(&app, &id).await, ana(&id));
}

#[tokio::test]
async fn update_influencer_refuses_a_handle_taken_on_the_same_platform_ignoring_case() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    create_influencer_with(&app, json!({ "handle": "bo", "platform": "INSTAGRAM" })).await;
    assert_refused(
        &app,
        UPDATE_INFLUENCER,
        "updateInfluencer",
        "influencer",
        json!({ "id": id, "handle": "@BO", "displayName": "Bo?" }),
        json!([{ "field": ["input", "handle"], "code": "NAME_TAKEN" }]),
    )
    .await;
    assert_eq!(read_influencer(&app, &id).await, ana(&id));
}

#[tokio::test]
async fn update_influencer_refuses_a_move_to_a_platform_where_its_handle_is_taken() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    create_influencer_with(&app, json!({ "handle": "ANA", "platform": "TIKTOK" })).await;
    assert_refused(
        &app,
        UPDATE_INFLUENCER,
        "updateInfluencer",
        "influencer",
        json!({ "id": id, "platform": "TIKTOK" }),
        json!([{ "field": ["input", "handle"], "code": "NAME_TAKEN" }]),
    )
    .await;
    assert_eq!(read_influencer(&app, &id).await, ana(&id));
}

#[tokio::test]
async fn update_influencer_may_change_the_case_of_its_own_handle() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;

    let payload = update_influencer(&app, json!({ "id": id, "handle": "@ANA" })).await;

    let mut expected = ana(&id);
    expected["handle"] = json!("ANA");
    assert_eq!(
        without_messages(payload),
        json!({ "influencer": expected, "userErrors": [] })
    );
    assert_eq!(read_influencer(&app, &id).await, expected);
}

#[tokio::test]
async fn update_influencer_may_move_to_a_platform_where_its_handle_is_free() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    // The same handle on another platform does not stand in the way of a third.
    create_influencer_with(&app, json!({ "handle": "ana", "platform": "TIKTOK" })).await;

    let payload = update_influencer(&app, json!({ "id": id, "platform": "YOUTUBE" })).await;

    let mut expected = ana(&id);
    expected["platform"] = json!("YOUTUBE");
    assert_eq!(
        without_messages(payload),
        json!({ "influencer": expected, "userErrors": [] })
    );
    assert_eq!(read_influencer(&app, &id).await, expected);
    assert_eq!(app.count_rows("influencer").await, 2);
}

#[tokio::test]
async fn update_influencer_may_take_a_handle_used_only_on_another_platform() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    create_influencer_with(&app, json!({ "handle": "bo", "platform": "TIKTOK" })).await;

    let payload = update_influencer(&app, json!({ "id": id, "handle": "Bo" })).await;

    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["influencer"]["handle"], json!("Bo"));
    assert_eq!(read_influencer(&app, &id).await["handle"], json!("Bo"));
}

#[tokio::test]
async fn update_influencer_frees_its_old_handle() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    let renamed = update_influencer(&app, json!({ "id": id, "handle": "ana.fit" })).await;
    assert_eq!(renamed["userErrors"], json!([]));

    let data = app
        .data(
            CREATE_INFLUENCER,
            json!({ "input": { "handle": "ANA", "platform": "INSTAGRAM" } }),
        )
        .await;

    assert_eq!(data["createInfluencer"]["userErrors"], json!([]));
    assert_eq!(app.count_rows("influencer").await, 2);
}

#[tokio::test]
async fn update_influencer_refuses_a_malformed_id() {
    let app = TestApp::spawn().await;
    create_ana(&app).await;
    assert_refused(
        &app,
        UPDATE_INFLUENCER,
        "updateInfluencer",
        "influencer",
        json!({ "id": "not-an-id", "displayName": "X" }),
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn update_influencer_refuses_a_segment_id() {
    let app = TestApp::spawn().await;
    create_ana(&app).await;
    let segment = app.create_segment("Fitness").await;
    assert_refused(
        &app,
        UPDATE_INFLUENCER,
        "updateInfluencer",
        "influencer",
        json!({ "id": segment, "displayName": "X" }),
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn update_influencer_of_an_unknown_id_is_not_found() {
    let app = TestApp::spawn().await;
    create_ana(&app).await;
    assert_refused(
        &app,
        UPDATE_INFLUENCER,
        "updateInfluencer",
        "influencer",
        json!({ "id": unknown_id(Kind::Influencer), "displayName": "X" }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn update_influencer_of_a_deleted_influencer_is_not_found() {
    let app = TestApp::spawn().await;
    create_ana(&app).await;
    let gone = app.create_influencer("gone").await;
    assert_eq!(
        delete_influencer(&app, &gone).await["userErrors"],
        json!([])
    );
    assert_refused(
        &app,
        UPDATE_INFLUENCER,
        "updateInfluencer",
        "influencer",
        json!({ "id": gone, "displayName": "X" }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

// ---- deleteInfluencer ----

#[tokio::test]
async fn delete_influencer_returns_the_deleted_id() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;

    let payload = delete_influencer(&app, &id).await;

    assert_eq!(
        without_messages(payload),
        json!({ "deletedInfluencerId": id, "userErrors": [] })
    );
}

#[tokio::test]
async fn deleted_influencer_is_gone_from_the_roster_and_every_lookup() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("h", 3).await;

    delete_influencer(&app, &ids[1]).await;

    let data = app
        .data(
            "query($id: ID!) {
                influencers(first: 10) { totalCount nodes { handle } }
                influencer(id: $id) { id }
                node(id: $id) { id }
            }",
            json!({ "id": ids[1] }),
        )
        .await;
    assert_eq!(
        data,
        json!({
            "influencers": { "totalCount": 2, "nodes": [{ "handle": "h0" }, { "handle": "h2" }] },
            "influencer": null,
            "node": null,
        })
    );
    assert_eq!(app.count_rows("influencer").await, 2);
}

#[tokio::test]
async fn deleted_influencer_is_no_longer_listed_under_unassigned() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("h", 3).await;
    assert_eq!(app.unassigned_handles().await, ["h0", "h1", "h2"]);

    delete_influencer(&app, &ids[0]).await;

    assert_eq!(app.unassigned_handles().await, ["h1", "h2"]);
}

#[tokio::test]
async fn deleted_influencer_leaves_its_segments_members_and_member_counts() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("h", 3).await;
    let fitness = app.create_segment("Fitness").await;
    let travel = app.create_segment("Travel").await;
    app.assign(&ids, &fitness).await;
    app.assign(&ids[..2], &travel).await;

    delete_influencer(&app, &ids[1]).await;

    assert_eq!(
        segment_members(&app, &fitness).await,
        json!({
            "name": "Fitness",
            "memberCount": 2,
            "influencers": { "totalCount": 2, "nodes": [{ "handle": "h0" }, { "handle": "h2" }] },
        })
    );
    assert_eq!(
        segment_members(&app, &travel).await,
        json!({
            "name": "Travel",
            "memberCount": 1,
            "influencers": { "totalCount": 1, "nodes": [{ "handle": "h0" }] },
        })
    );
    assert_eq!(app.count_rows("segment_membership").await, 3);
}

#[tokio::test]
async fn deleted_influencer_is_no_longer_a_campaign_recipient() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("h", 3).await;
    let fitness = app.create_segment("Fitness").await;
    app.assign(&ids, &fitness).await;
    let campaign = new_campaign(&app, "Spring launch", &[&fitness]).await;

    delete_influencer(&app, &ids[2]).await;

    assert_eq!(
        read_campaign(&app, &campaign).await["recipients"],
        json!({ "totalCount": 2, "nodes": [{ "handle": "h0" }, { "handle": "h1" }] })
    );
}

#[tokio::test]
async fn deleting_an_influencer_deletes_its_engagement_events_and_only_those() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("h", 2).await;
    let campaign = new_campaign(&app, "Spring launch", &[]).await;
    let gone_events = [
        record(&app, &campaign, &ids[0], "EMAIL_OPENED").await["event"]["id"].clone(),
        record(&app, &campaign, &ids[0], "LINK_CLICKED").await["event"]["id"].clone(),
    ];
    let kept_event = record(&app, &campaign, &ids[1], "EMAIL_OPENED").await["event"]["id"].clone();
    assert_eq!(app.count_rows("engagement_event").await, 3);

    delete_influencer(&app, &ids[0]).await;

    assert_eq!(app.count_rows("engagement_event").await, 1);
    let data = app
        .data(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [gone_events[0], gone_events[1], kept_event] }),
        )
        .await;
    assert_eq!(data["nodes"], json!([null, null, { "id": kept_event }]));
}

#[tokio::test]
async fn deleting_an_influencer_keeps_the_segments_and_campaigns() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    let fitness = app.create_segment("Fitness").await;
    app.assign(std::slice::from_ref(&id), &fitness).await;
    let campaign = new_campaign(&app, "Spring launch", &[&fitness]).await;
    new_automation(&app, &campaign, "EMAIL_REPLIED", &fitness).await;
    record(&app, &campaign, &id, "EMAIL_REPLIED").await;

    delete_influencer(&app, &id).await;

    assert_eq!(
        row_counts(&app).await,
        json!({
            "influencer": 0,
            "segment": 1,
            "segment_membership": 0,
            "campaign": 1,
            "campaign_audience": 1,
            "automation": 1,
            "engagement_event": 0,
        })
    );
}

#[tokio::test]
async fn delete_influencer_twice_is_not_found_the_second_time() {
    let app = TestApp::spawn().await;
    let id = create_ana(&app).await;
    app.create_influencer("bo").await;
    delete_influencer(&app, &id).await;
    assert_refused(
        &app,
        DELETE_INFLUENCER,
        "deleteInfluencer",
        "deletedInfluencerId",
        json!({ "id": id }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn delete_influencer_of_an_unknown_id_is_not_found() {
    let app = TestApp::spawn().await;
    create_ana(&app).await;
    assert_refused(
        &app,
        DELETE_INFLUENCER,
        "deleteInfluencer",
        "deletedInfluencerId",
        json!({ "id": unknown_id(Kind::Influencer) }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn delete_influencer_refuses_a_malformed_id() {
    let app = TestApp::spawn().await;
    create_ana(&app).await;
    assert_refused(
        &app,
        DELETE_INFLUENCER,
        "deleteInfluencer",
        "deletedInfluencerId",
        json!({ "id": "garbage" }),
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn delete_influencer_refuses_a_campaign_id() {
    let app = TestApp::spawn().await;
    create_ana(&app).await;
    let campaign = new_campaign(&app, "Spring launch", &[]).await;
    assert_refused(
        &app,
        DELETE_INFLUENCER,
        "deleteInfluencer",
        "deletedInfluencerId",
        json!({ "id": campaign }),
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}

// ---- updateCampaign ----

/// Influencers h0..h3; Fitness = {h0, h1}, Travel = {h1, h2}, Food = {h3}. Returns the segment
/// ids in that order.
async fn three_segments(app: &TestApp) -> (String, String, String) {
    let h = app.create_influencers("h", 4).await;
    let fitness = app.create_segment("Fitness").await;
    let travel = app.create_segment("Travel").await;
    let food = app.create_segment("Food").await;
    app.assign(&h[0..2], &fitness).await;
    app.assign(&h[1..3], &travel).await;
    app.assign(&h[3..4], &food).await;
    (fitness, travel, food)
}

#[tokio::test]
async fn update_campaign_renames_it_trimming_the_name() {
    let app = TestApp::spawn().await;
    let (fitness, _, _) = three_segments(&app).await;
    let id = new_campaign(&app, "Spring launch", &[&fitness]).await;

    let payload = update_campaign(&app, json!({ "id": id, "name": "  Summer launch \t" })).await;

    assert_eq!(
        without_messages(payload),
        json!({
            "campaign": {
                "id": id,
                "name": "Summer launch",
                "status": "DRAFT",
                "audience": [{ "id": fitness, "name": "Fitness" }],
            },
            "userErrors": [],
        })
    );
    assert_eq!(
        read_campaign(&app, &id).await,
        json!({
            "id": id,
            "name": "Summer launch",
            "status": "DRAFT",
            "audience": [{ "id": fitness, "name": "Fitness" }],
            "recipients": { "totalCount": 2, "nodes": [{ "handle": "h0" }, { "handle": "h1" }] },
        })
    );
}

#[tokio::test]
async fn update_campaign_accepts_a_name_of_120_characters() {
    let app = TestApp::spawn().await;
    let id = new_campaign(&app, "Spring launch", &[]).await;
    let name = "é".repeat(120);

    let payload = update_campaign(&app, json!({ "id": id, "name": name })).await;

    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["campaign"]["name"], json!(name));
    assert_eq!(read_campaign(&app, &id).await["name"], json!(name));
}

#[tokio::test]
async fn update_campaign_refuses_an_empty_name() {
    let app = TestApp::spawn().await;
    let id = new_campaign(&app, "Spring launch", &[]).await;
    assert_refused(
        &app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({ "id": id, "name": "", "status": "ACTIVE" }),
        json!([{ "field": ["input", "name"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn update_campaign_refuses_a_whitespace_only_name() {
    let app = TestApp::spawn().await;
    let id = new_campaign(&app, "Spring launch", &[]).await;
    assert_refused(
        &app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({ "id": id, "name": " \t\n " }),
        json!([{ "field": ["input", "name"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn update_campaign_refuses_a_name_over_120_characters() {
    let app = TestApp::spawn().await;
    let id = new_campaign(&app, "Spring launch", &[]).await;
    assert_refused(
        &app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({ "id": id, "name": "x".repeat(121), "status": "PAUSED" }),
        json!([{ "field": ["input", "name"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn update_campaign_moves_it_to_active_paused_and_completed() {
    let app = TestApp::spawn().await;
    let id = new_campaign(&app, "Spring launch", &[]).await;

    for status in ["ACTIVE", "PAUSED", "ACTIVE", "COMPLETED"] {
        let payload = update_campaign(&app, json!({ "id": id, "status": status })).await;

        let expected =
            json!({ "id": id, "name": "Spring launch", "status": status, "audience": [] });
        assert_eq!(
            without_messages(payload),
            json!({ "campaign": expected, "userErrors": [] }),
            "{status}"
        );
        assert_eq!(read_campaign(&app, &id).await["status"], json!(status));
    }
}

#[tokio::test]
async fn update_campaign_status_keeps_name_and_audience() {
    let app = TestApp::spawn().await;
    let (fitness, travel, _) = three_segments(&app).await;
    let id = new_campaign(&app, "Spring launch", &[&fitness, &travel]).await;
    let before = read_campaign(&app, &id).await;

    let payload = update_campaign(&app, json!({ "id": id, "status": "ACTIVE" })).await;

    assert_eq!(payload["userErrors"], json!([]));
    let mut expected = before;
    expected["status"] = json!("ACTIVE");
    assert_eq!(read_campaign(&app, &id).await, expected);
    assert_eq!(app.count_rows("campaign_audience").await, 2);
}

#[tokio::test]
async fn update_campaign_replaces_the_audience_and_recipients_follow() {
    let app = TestApp::spawn().await;
    let (fitness, travel, food) = three_segments(&app).await;
    let id = new_campaign(&app, "Spring launch", &[&fitness]).await;

    let payload = update_campaign(
        &app,
        json!({ "id": id, "audienceSegmentIds": [travel, food] }),
    )
    .await;

    assert_eq!(
        without_messages(payload),
        json!({
            "campaign": {
                "id": id,
                "name": "Spring launch",
                "status": "DRAFT",
                "audience": [{ "id": travel, "name": "Travel" }, { "id": food, "name": "Food" }],
            },
            "userErrors": [],
        })
    );
    assert_eq!(
        read_campaign(&app, &id).await,
        json!({
            "id": id,
            "name": "Spring launch",
            "status": "DRAFT",
            "audience": [{ "id": travel, "name": "Travel" }, { "id": food, "name": "Food" }],
            "recipients": {
                "totalCount": 3,
                "nodes": [{ "handle": "h1" }, { "handle": "h2" }, { "handle": "h3" }],
            },
        })
    );
    assert_eq!(app.count_rows("campaign_audience").await, 2);
}

#[tokio::test]
async fn update_campaign_with_an_empty_audience_leaves_no_recipients() {
    let app = TestApp::spawn().await;
    let (fitness, travel, _) = three_segments(&app).await;
    let id = new_campaign(&app, "Spring launch", &[&fitness, &travel]).await;

    let payload = update_campaign(&app, json!({ "id": id, "audienceSegmentIds": [] })).await;

    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["campaign"]["audience"], json!([]));
    assert_eq!(
        read_campaign(&app, &id).await["recipients"],
        json!({ "totalCount": 0, "nodes": [] })
    );
    assert_eq!(app.count_rows("campaign_audience").await, 0);
    assert_eq!(
        app.count_rows("segment").await,
        3,
        "segments themselves stay"
    );
}

#[tokio::test]
async fn update_campaign_lists_a_segment_named_twice_once() {
    let app = TestApp::spawn().await;
    let (fitness, travel, _) = three_segments(&app).await;
    let id = new_campaign(&app, "Spring launch", &[&fitness]).await;

    let payload = update_campaign(
        &app,
        json!({ "id": id, "audienceSegmentIds": [travel, travel, fitness] }),
    )
    .await;

    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(
        payload["campaign"]["audience"],
        json!([{ "id": fitness, "name": "Fitness" }, { "id": travel, "name": "Travel" }])
    );
    assert_eq!(app.count_rows("campaign_audience").await, 2);
}

#[tokio::test]
async fn update_campaign_changes_name_status_and_audience_in_one_call() {
    let app = TestApp::spawn().await;
    let (fitness, _, food) = three_segments(&app).await;
    let id = new_campaign(&app, "Spring launch", &[&fitness]).await;

    let payload = update_campaign(
        &app,
        json!({ "id": id, "name": "Food week", "status": "ACTIVE", "audienceSegmentIds": [food] }),
    )
    .await;

    assert_eq!(
        without_messages(payload),
        json!({
            "campaign": {
                "id": id,
                "name": "Food week",
                "status": "ACTIVE",
                "audience": [{ "id": food, "name": "Food" }],
            },
            "userErrors": [],
        })
    );
    assert_eq!(
        read_campaign(&app, &id).await["recipients"],
        json!({ "totalCount": 1, "nodes": [{ "handle": "h3" }] })
    );
}

#[tokio::test]
async fn update_campaign_refuses_an_unknown_audience_segment_naming_its_index() {
    let app = TestApp::spawn().await;
    let (fitness, travel, food) = three_segments(&app).await;
    let id = new_campaign(&app, "Spring launch", &[&fitness]).await;
    assert_refused(
        &app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({
            "id": id,
            "name": "Renamed",
            "status": "ACTIVE",
            "audienceSegmentIds": [travel, food, unknown_id(Kind::Segment)],
        }),
        json!([{ "field": ["input", "audienceSegmentIds", "2"], "code": "NOT_FOUND" }]),
    )
    .await;
    assert_eq!(
        read_campaign(&app, &id).await,
        json!({
            "id": id,
            "name": "Spring launch",
            "status": "DRAFT",
            "audience": [{ "id": fitness, "name": "Fitness" }],
            "recipients": { "totalCount": 2, "nodes": [{ "handle": "h0" }, { "handle": "h1" }] },
        })
    );
}

#[tokio::test]
async fn update_campaign_refuses_a_deleted_audience_segment() {
    let app = TestApp::spawn().await;
    let (fitness, travel, food) = three_segments(&app).await;
    let id = new_campaign(&app, "Spring launch", &[&fitness]).await;
    delete_segment(&app, &food).await;
    assert_refused(
        &app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({ "id": id, "audienceSegmentIds": [food, travel] }),
        json!([{ "field": ["input", "audienceSegmentIds", "0"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn update_campaign_refuses_malformed_and_wrong_type_audience_ids() {
    let app = TestApp::spawn().await;
    let (fitness, travel, _) = three_segments(&app).await;
    let influencer = app.create_influencer("ana").await;
    let id = new_campaign(&app, "Spring launch", &[&fitness]).await;
    assert_refused(
        &app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({ "id": id, "audienceSegmentIds": [travel, "not-an-id", influencer] }),
        json!([
            { "field": ["input", "audienceSegmentIds", "1"], "code": "INVALID" },
            { "field": ["input", "audienceSegmentIds", "2"], "code": "INVALID" },
        ]),
    )
    .await;
}

#[tokio::test]
async fn update_campaign_reports_a_bad_name_and_an_unknown_segment_together() {
    let app = TestApp::spawn().await;
    let (fitness, _, _) = three_segments(&app).await;
    let id = new_campaign(&app, "Spring launch", &[&fitness]).await;
    assert_refused(
        &app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({ "id": id, "name": "  ", "audienceSegmentIds": [unknown_id(Kind::Segment)] }),
        json!([
            { "field": ["input", "name"], "code": "INVALID" },
            { "field": ["input", "audienceSegmentIds", "0"], "code": "NOT_FOUND" },
        ]),
    )
    .await;
}

#[tokio::test]
async fn update_campaign_refuses_a_malformed_id() {
    let app = TestApp::spawn().await;
    new_campaign(&app, "Spring launch", &[]).await;
    assert_refused(
        &app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({ "id": "not-an-id", "status": "ACTIVE" }),
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn update_campaign_refuses_an_automation_id() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({ "id": f.automation, "status": "ACTIVE" }),
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn update_campaign_of_an_unknown_id_is_not_found() {
    let app = TestApp::spawn().await;
    new_campaign(&app, "Spring launch", &[]).await;
    assert_refused(
        &app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({ "id": unknown_id(Kind::Campaign), "status": "ACTIVE" }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn update_campaign_of_a_deleted_campaign_is_not_found() {
    let app = TestApp::spawn().await;
    new_campaign(&app, "Spring launch", &[]).await;
    let gone = new_campaign(&app, "Gone", &[]).await;
    assert_eq!(delete_campaign(&app, &gone).await["userErrors"], json!([]));
    assert_refused(
        &app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({ "id": gone, "name": "Back" }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn update_campaign_reports_a_malformed_id_and_a_malformed_audience_id_together() {
    let app = TestApp::spawn().await;
    let (fitness, _, _) = three_segments(&app).await;
    new_campaign(&app, "Spring launch", &[&fitness]).await;
    assert_refused(
        &app,
        UPDATE_CAMPAIGN,
        "updateCampaign",
        "campaign",
        json!({ "id": fitness, "audienceSegmentIds": [fitness, "junk"] }),
        json!([
            { "field": ["input", "id"], "code": "INVALID" },
            { "field": ["input", "audienceSegmentIds", "1"], "code": "INVALID" },
        ]),
    )
    .await;
}

// ---- deleteCampaign ----

/// "Spring launch" (audience Fitness = {ana}) with an automation EMAIL_REPLIED -> "Engaged", which
/// ana's reply set off; "Autumn" with an automation LINK_CLICKED -> "Clickers", which bo's click
/// set off.
struct TwoCampaigns {
    app: TestApp,
    ana: String,
    bo: String,
    fitness: String,
    engaged: String,
    clickers: String,
    spring: String,
    spring_automation: String,
    spring_event: Value,
    autumn: String,
    autumn_automation: String,
    autumn_event: Value,
}

async fn two_campaigns() -> TwoCampaigns {
    let app = TestApp::spawn().await;
    let ana = app.create_influencer("ana").await;
    let bo = app.create_influencer("bo").await;
    let fitness = app.create_segment("Fitness").await;
    let engaged = app.create_segment("Engaged").await;
    let clickers = app.create_segment("Clickers").await;
    app.assign(std::slice::from_ref(&ana), &fitness).await;
    let spring = new_campaign(&app, "Spring launch", &[&fitness]).await;
    let spring_automation = new_automation(&app, &spring, "EMAIL_REPLIED", &engaged).await;
    let autumn = new_campaign(&app, "Autumn", &[]).await;
    let autumn_automation = new_automation(&app, &autumn, "LINK_CLICKED", &clickers).await;
    let spring_payload = record(&app, &spring, &ana, "EMAIL_REPLIED").await;
    assert_eq!(
        spring_payload["assignedSegments"],
        json!([{ "id": engaged, "name": "Engaged" }])
    );
    let autumn_payload = record(&app, &autumn, &bo, "LINK_CLICKED").await;
    assert_eq!(
        autumn_payload["assignedSegments"],
        json!([{ "id": clickers, "name": "Clickers" }])
    );
    TwoCampaigns {
        app,
        ana,
        bo,
        fitness,
        engaged,
        clickers,
        spring,
        spring_automation,
        spring_event: spring_payload["event"]["id"].clone(),
        autumn,
        autumn_automation,
        autumn_event: autumn_payload["event"]["id"].clone(),
    }
}

#[tokio::test]
async fn delete_campaign_returns_the_deleted_id() {
    let t = two_campaigns().await;

    let payload = delete_campaign(&t.app, &t.spring).await;

    assert_eq!(
        without_messages(payload),
        json!({ "deletedCampaignId": t.spring, "userErrors": [] })
    );
}

#[tokio::test]
async fn deleted_campaign_is_gone_from_campaigns_and_every_lookup() {
    let t = two_campaigns().await;

    delete_campaign(&t.app, &t.spring).await;

    let data = t
        .app
        .data(
            "query($id: ID!) {
                campaigns(first: 10) { totalCount nodes { id name } }
                campaign(id: $id) { id }
                node(id: $id) { id }
            }",
            json!({ "id": t.spring }),
        )
        .await;
    assert_eq!(
        data,
        json!({
            "campaigns": { "totalCount": 1, "nodes": [{ "id": t.autumn, "name": "Autumn" }] },
            "campaign": null,
            "node": null,
        })
    );
}

#[tokio::test]
async fn deleting_a_campaign_deletes_its_automations_events_and_audience_only() {
    let t = two_campaigns().await;
    assert_eq!(
        row_counts(&t.app).await,
        json!({
            "influencer": 2,
            "segment": 3,
            "segment_membership": 3,
            "campaign": 2,
            "campaign_audience": 1,
            "automation": 2,
            "engagement_event": 2,
        })
    );

    delete_campaign(&t.app, &t.spring).await;

    assert_eq!(
        row_counts(&t.app).await,
        json!({
            "influencer": 2,
            "segment": 3,
            "segment_membership": 3,
            "campaign": 1,
            "campaign_audience": 0,
            "automation": 1,
            "engagement_event": 1,
        })
    );
    let data = t
        .app
        .data(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
            json!({ "ids": [t.spring_automation, t.spring_event, t.autumn_automation, t.autumn_event] }),
        )
        .await;
    assert_eq!(
        data["nodes"],
        json!([
            null,
            null,
            { "__typename": "Automation", "id": t.autumn_automation },
            { "__typename": "EngagementEvent", "id": t.autumn_event },
        ])
    );
}

#[tokio::test]
async fn deleting_a_campaign_keeps_the_memberships_its_automations_made_without_the_automation() {
    let t = two_campaigns().await;

    delete_campaign(&t.app, &t.spring).await;

    assert_eq!(
        memberships(&t.app, &t.ana).await,
        json!({
            "unassigned": false,
            "memberships": [
                { "segment": { "id": t.fitness }, "source": "MANUAL", "automation": null },
                { "segment": { "id": t.engaged }, "source": "AUTOMATION", "automation": null },
            ],
        })
    );
    assert_eq!(
        segment_members(&t.app, &t.engaged).await,
        json!({
            "name": "Engaged",
            "memberCount": 1,
            "influencers": { "totalCount": 1, "nodes": [{ "handle": "ana" }] },
        })
    );
}

#[tokio::test]
async fn deleting_a_campaign_leaves_other_campaigns_memberships_naming_their_automation() {
    let t = two_campaigns().await;

    delete_campaign(&t.app, &t.spring).await;

    assert_eq!(
        memberships(&t.app, &t.bo).await,
        json!({
            "unassigned": false,
            "memberships": [
                { "segment": { "id": t.clickers }, "source": "AUTOMATION", "automation": { "id": t.autumn_automation } },
            ],
        })
    );
    assert_eq!(
        automations_of(&t.app, &t.autumn).await,
        json!([{
            "id": t.autumn_automation,
            "trigger": "LINK_CLICKED",
            "action": "ASSIGN_TO_SEGMENT",
            "enabled": true,
            "segment": { "id": t.clickers, "name": "Clickers" },
            "campaign": { "id": t.autumn },
        }])
    );
}

#[tokio::test]
async fn recording_engagement_for_a_deleted_campaign_is_not_found() {
    let t = two_campaigns().await;
    delete_campaign(&t.app, &t.spring).await;

    let payload = t
        .app
        .data(
            RECORD_ENGAGEMENT,
            json!({ "input": { "campaignId": t.spring, "influencerId": t.bo, "kind": "EMAIL_REPLIED" } }),
        )
        .await["recordEngagement"]
        .clone();

    assert_eq!(
        without_messages(payload),
        json!({
            "event": null,
            "assignedSegments": null,
            "duplicate": false,
            "userErrors": [{ "field": ["input", "campaignId"], "code": "NOT_FOUND" }],
        })
    );
    assert_eq!(t.app.count_rows("engagement_event").await, 1);
}

#[tokio::test]
async fn delete_campaign_twice_is_not_found_the_second_time() {
    let t = two_campaigns().await;
    delete_campaign(&t.app, &t.spring).await;
    assert_refused(
        &t.app,
        DELETE_CAMPAIGN,
        "deleteCampaign",
        "deletedCampaignId",
        json!({ "id": t.spring }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn delete_campaign_of_an_unknown_id_is_not_found() {
    let t = two_campaigns().await;
    assert_refused(
        &t.app,
        DELETE_CAMPAIGN,
        "deleteCampaign",
        "deletedCampaignId",
        json!({ "id": unknown_id(Kind::Campaign) }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn delete_campaign_refuses_a_malformed_id() {
    let t = two_campaigns().await;
    assert_refused(
        &t.app,
        DELETE_CAMPAIGN,
        "deleteCampaign",
        "deletedCampaignId",
        json!({ "id": "Q2FtcGFpZ246MA" }), // "Campaign:0": no campaign has id 0
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn delete_campaign_refuses_a_segment_id() {
    let t = two_campaigns().await;
    assert_refused(
        &t.app,
        DELETE_CAMPAIGN,
        "deleteCampaign",
        "deletedCampaignId",
        json!({ "id": t.fitness }),
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}

// ---- updateAutomation ----

#[tokio::test]
async fn update_automation_with_only_an_id_changes_nothing() {
    let f = campaign_with_automation().await;
    let before = world(&f.app).await;

    let payload = update_automation(&f.app, json!({ "id": f.automation })).await;

    assert_eq!(
        without_messages(payload),
        json!({
            "automation": f.automation_json("EMAIL_REPLIED", true, f.engaged()),
            "userErrors": [],
        })
    );
    assert_eq!(world(&f.app).await, before);
}

#[tokio::test]
async fn update_automation_disables_it() {
    let f = campaign_with_automation().await;

    let payload = update_automation(&f.app, json!({ "id": f.automation, "enabled": false })).await;

    let expected = f.automation_json("EMAIL_REPLIED", false, f.engaged());
    assert_eq!(
        without_messages(payload),
        json!({ "automation": expected, "userErrors": [] })
    );
    assert_eq!(automations_of(&f.app, &f.campaign).await, json!([expected]));
}

#[tokio::test]
async fn a_disabled_automation_assigns_nothing() {
    let f = campaign_with_automation().await;
    update_automation(&f.app, json!({ "id": f.automation, "enabled": false })).await;

    let payload = record(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;

    assert_eq!(payload["assignedSegments"], json!([]));
    assert_eq!(
        memberships(&f.app, &f.influencer).await,
        json!({ "unassigned": true, "memberships": [] })
    );
    assert_eq!(f.app.count_rows("engagement_event").await, 1);
}

#[tokio::test]
async fn a_re_enabled_automation_assigns_again() {
    let f = campaign_with_automation().await;
    update_automation(&f.app, json!({ "id": f.automation, "enabled": false })).await;

    let payload = update_automation(&f.app, json!({ "id": f.automation, "enabled": true })).await;

    assert_eq!(
        without_messages(payload),
        json!({
            "automation": f.automation_json("EMAIL_REPLIED", true, f.engaged()),
            "userErrors": [],
        })
    );
    let recorded = record(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;
    assert_eq!(recorded["assignedSegments"], json!([f.engaged()]));
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
async fn update_automation_changes_the_trigger() {
    let f = campaign_with_automation().await;

    let payload = update_automation(
        &f.app,
        json!({ "id": f.automation, "trigger": "LINK_CLICKED" }),
    )
    .await;

    let expected = f.automation_json("LINK_CLICKED", true, f.engaged());
    assert_eq!(
        without_messages(payload),
        json!({ "automation": expected, "userErrors": [] })
    );
    assert_eq!(automations_of(&f.app, &f.campaign).await, json!([expected]));
}

#[tokio::test]
async fn an_automation_runs_on_its_new_trigger_and_not_its_old_one() {
    let f = campaign_with_automation().await;
    update_automation(
        &f.app,
        json!({ "id": f.automation, "trigger": "LINK_CLICKED" }),
    )
    .await;

    let old = record(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;
    assert_eq!(old["assignedSegments"], json!([]));
    assert_eq!(f.app.count_rows("segment_membership").await, 0);

    let new = record(&f.app, &f.campaign, &f.influencer, "LINK_CLICKED").await;
    assert_eq!(new["assignedSegments"], json!([f.engaged()]));
}

#[tokio::test]
async fn update_automation_retargets_to_an_existing_segment() {
    let f = campaign_with_automation().await;
    let warm = f.app.create_segment("Warm leads").await;

    let payload = update_automation(
        &f.app,
        json!({ "id": f.automation, "assignToSegment": { "id": warm } }),
    )
    .await;

    let expected = f.automation_json(
        "EMAIL_REPLIED",
        true,
        json!({ "id": warm, "name": "Warm leads" }),
    );
    assert_eq!(
        without_messages(payload),
        json!({ "automation": expected, "userErrors": [] })
    );
    assert_eq!(automations_of(&f.app, &f.campaign).await, json!([expected]));
}

#[tokio::test]
async fn a_retargeted_automation_assigns_to_its_new_segment() {
    let f = campaign_with_automation().await;
    let warm = f.app.create_segment("Warm leads").await;
    update_automation(
        &f.app,
        json!({ "id": f.automation, "assignToSegment": { "id": warm } }),
    )
    .await;

    let payload = record(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;

    assert_eq!(
        payload["assignedSegments"],
        json!([{ "id": warm, "name": "Warm leads" }])
    );
    assert_eq!(
        memberships(&f.app, &f.influencer).await,
        json!({
            "unassigned": false,
            "memberships": [
                { "segment": { "id": warm }, "source": "AUTOMATION", "automation": { "id": f.automation } },
            ],
        })
    );
}

#[tokio::test]
async fn update_automation_retargets_to_a_segment_it_creates() {
    let f = campaign_with_automation().await;

    let payload = update_automation(
        &f.app,
        json!({
            "id": f.automation,
            "assignToSegment": { "create": { "name": "  Hot leads ", "description": "replied" } },
        }),
    )
    .await;

    assert_eq!(payload["userErrors"], json!([]));
    let created = payload["automation"]["segment"]["id"]
        .as_str()
        .expect("a target segment")
        .to_owned();
    assert_ne!(created, f.segment);
    let expected = f.automation_json(
        "EMAIL_REPLIED",
        true,
        json!({ "id": created, "name": "Hot leads" }),
    );
    assert_eq!(
        without_messages(payload),
        json!({ "automation": expected, "userErrors": [] })
    );
    assert_eq!(automations_of(&f.app, &f.campaign).await, json!([expected]));
    let data = f
        .app
        .data(
            "query($id: ID!) { segment(id: $id) { name description memberCount } }",
            json!({ "id": created }),
        )
        .await;
    assert_eq!(
        data["segment"],
        json!({ "name": "Hot leads", "description": "replied", "memberCount": 0 })
    );
    assert_eq!(
        segment_names(&f.app).await,
        json!([{ "name": "Engaged" }, { "name": "Hot leads" }])
    );
}

#[tokio::test]
async fn update_automation_refuses_to_enable_it_once_its_segment_was_deleted() {
    let f = campaign_with_automation().await;
    delete_segment(&f.app, &f.segment).await;
    assert_refused(
        &f.app,
        UPDATE_AUTOMATION,
        "updateAutomation",
        "automation",
        json!({ "id": f.automation, "enabled": true, "trigger": "LINK_CLICKED" }),
        json!([{ "field": ["input", "enabled"], "code": "INVALID" }]),
    )
    .await;
    assert_eq!(
        automations_of(&f.app, &f.campaign).await,
        json!([f.automation_json("EMAIL_REPLIED", false, Value::Null)])
    );
}

#[tokio::test]
async fn update_automation_enables_it_with_a_new_target_once_its_segment_was_deleted() {
    let f = campaign_with_automation().await;
    delete_segment(&f.app, &f.segment).await;
    let warm = f.app.create_segment("Warm leads").await;

    let payload = update_automation(
        &f.app,
        json!({ "id": f.automation, "enabled": true, "assignToSegment": { "id": warm } }),
    )
    .await;

    let expected = f.automation_json(
        "EMAIL_REPLIED",
        true,
        json!({ "id": warm, "name": "Warm leads" }),
    );
    assert_eq!(
        without_messages(payload),
        json!({ "automation": expected, "userErrors": [] })
    );
    let recorded = record(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;
    assert_eq!(
        recorded["assignedSegments"],
        json!([{ "id": warm, "name": "Warm leads" }])
    );
}

#[tokio::test]
async fn update_automation_may_change_the_trigger_of_one_whose_segment_was_deleted() {
    let f = campaign_with_automation().await;
    delete_segment(&f.app, &f.segment).await;

    let payload = update_automation(
        &f.app,
        json!({ "id": f.automation, "trigger": "EMAIL_OPENED" }),
    )
    .await;

    let expected = f.automation_json("EMAIL_OPENED", false, Value::Null);
    assert_eq!(
        without_messages(payload),
        json!({ "automation": expected, "userErrors": [] })
    );
    assert_eq!(automations_of(&f.app, &f.campaign).await, json!([expected]));
}

#[tokio::test]
async fn update_automation_refuses_an_inline_segment_with_a_taken_name_and_creates_none() {
    let f = campaign_with_automation().await;
    f.app.create_segment("Warm leads").await;
    assert_refused(
        &f.app,
        UPDATE_AUTOMATION,
        "updateAutomation",
        "automation",
        json!({
            "id": f.automation,
            "trigger": "LINK_CLICKED",
            "assignToSegment": { "create": { "name": "WARM LEADS" } },
        }),
        json!([{ "field": ["input", "assignToSegment", "create", "name"], "code": "NAME_TAKEN" }]),
    )
    .await;
    assert_eq!(
        segment_names(&f.app).await,
        json!([{ "name": "Engaged" }, { "name": "Warm leads" }])
    );
    assert_eq!(
        automations_of(&f.app, &f.campaign).await,
        json!([f.automation_json("EMAIL_REPLIED", true, f.engaged())])
    );
}

#[tokio::test]
async fn update_automation_refuses_an_inline_segment_with_an_empty_name() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        UPDATE_AUTOMATION,
        "updateAutomation",
        "automation",
        json!({ "id": f.automation, "assignToSegment": { "create": { "name": "  " } } }),
        json!([{ "field": ["input", "assignToSegment", "create", "name"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn update_automation_refuses_an_unknown_target_segment() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        UPDATE_AUTOMATION,
        "updateAutomation",
        "automation",
        json!({
            "id": f.automation,
            "enabled": false,
            "assignToSegment": { "id": unknown_id(Kind::Segment) },
        }),
        json!([{ "field": ["input", "assignToSegment", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn update_automation_refuses_a_target_id_of_the_wrong_type() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        UPDATE_AUTOMATION,
        "updateAutomation",
        "automation",
        json!({ "id": f.automation, "assignToSegment": { "id": f.campaign } }),
        json!([{ "field": ["input", "assignToSegment", "id"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn update_automation_refuses_a_malformed_id() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        UPDATE_AUTOMATION,
        "updateAutomation",
        "automation",
        json!({ "id": "not-an-id", "enabled": false }),
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn update_automation_refuses_a_campaign_id() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        UPDATE_AUTOMATION,
        "updateAutomation",
        "automation",
        json!({ "id": f.campaign, "enabled": false }),
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn update_automation_of_an_unknown_id_is_not_found() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        UPDATE_AUTOMATION,
        "updateAutomation",
        "automation",
        json!({ "id": unknown_id(Kind::Automation), "enabled": false }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn update_automation_of_an_unknown_id_creates_no_inline_segment() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        UPDATE_AUTOMATION,
        "updateAutomation",
        "automation",
        json!({
            "id": unknown_id(Kind::Automation),
            "assignToSegment": { "create": { "name": "Orphan" } },
        }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
    assert_eq!(segment_names(&f.app).await, json!([{ "name": "Engaged" }]));
}

#[tokio::test]
async fn update_automation_reports_a_malformed_id_and_a_malformed_target_together() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        UPDATE_AUTOMATION,
        "updateAutomation",
        "automation",
        json!({ "id": "junk", "assignToSegment": { "id": f.influencer } }),
        json!([
            { "field": ["input", "id"], "code": "INVALID" },
            { "field": ["input", "assignToSegment", "id"], "code": "INVALID" },
        ]),
    )
    .await;
}

#[tokio::test]
async fn update_automation_of_a_deleted_campaign_is_not_found() {
    let f = campaign_with_automation().await;
    assert_eq!(
        delete_campaign(&f.app, &f.campaign).await["userErrors"],
        json!([])
    );
    assert_refused(
        &f.app,
        UPDATE_AUTOMATION,
        "updateAutomation",
        "automation",
        json!({ "id": f.automation, "enabled": false }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

// ---- deleteAutomation ----

#[tokio::test]
async fn delete_automation_returns_the_deleted_id() {
    let f = campaign_with_automation().await;

    let payload = delete_automation(&f.app, &f.automation).await;

    assert_eq!(
        without_messages(payload),
        json!({ "deletedAutomationId": f.automation, "userErrors": [] })
    );
}

#[tokio::test]
async fn deleted_automation_is_gone_from_its_campaign_and_node_lookup() {
    let f = campaign_with_automation().await;
    let warm = f.app.create_segment("Warm leads").await;
    let other = new_automation(&f.app, &f.campaign, "EMAIL_OPENED", &warm).await;

    delete_automation(&f.app, &f.automation).await;

    assert_eq!(
        automations_of(&f.app, &f.campaign).await,
        json!([{
            "id": other,
            "trigger": "EMAIL_OPENED",
            "action": "ASSIGN_TO_SEGMENT",
            "enabled": true,
            "segment": { "id": warm, "name": "Warm leads" },
            "campaign": { "id": f.campaign },
        }])
    );
    assert_eq!(node(&f.app, &f.automation).await, Value::Null);
    assert_eq!(
        node(&f.app, &other).await,
        json!({ "__typename": "Automation", "id": other })
    );
    assert_eq!(f.app.count_rows("automation").await, 1);
}

#[tokio::test]
async fn deleting_an_automation_keeps_the_memberships_it_made_without_the_automation() {
    let f = campaign_with_automation().await;
    record(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;
    assert_eq!(
        memberships(&f.app, &f.influencer).await["memberships"][0]["automation"],
        json!({ "id": f.automation })
    );

    delete_automation(&f.app, &f.automation).await;

    assert_eq!(
        memberships(&f.app, &f.influencer).await,
        json!({
            "unassigned": false,
            "memberships": [
                { "segment": { "id": f.segment }, "source": "AUTOMATION", "automation": null },
            ],
        })
    );
    assert_eq!(
        segment_members(&f.app, &f.segment).await,
        json!({
            "name": "Engaged",
            "memberCount": 1,
            "influencers": { "totalCount": 1, "nodes": [{ "handle": "ana" }] },
        })
    );
}

#[tokio::test]
async fn deleting_an_automation_keeps_the_campaigns_engagement_events() {
    let f = campaign_with_automation().await;
    let event =
        record(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await["event"]["id"].clone();

    delete_automation(&f.app, &f.automation).await;

    assert_eq!(f.app.count_rows("engagement_event").await, 1);
    assert_eq!(
        node(&f.app, event.as_str().unwrap()).await,
        json!({ "__typename": "EngagementEvent", "id": event })
    );
}

#[tokio::test]
async fn a_deleted_automation_assigns_nothing() {
    let f = campaign_with_automation().await;
    delete_automation(&f.app, &f.automation).await;

    let payload = record(&f.app, &f.campaign, &f.influencer, "EMAIL_REPLIED").await;

    assert_eq!(payload["assignedSegments"], json!([]));
    assert_eq!(f.app.count_rows("segment_membership").await, 0);
}

#[tokio::test]
async fn delete_automation_twice_is_not_found_the_second_time() {
    let f = campaign_with_automation().await;
    delete_automation(&f.app, &f.automation).await;
    assert_refused(
        &f.app,
        DELETE_AUTOMATION,
        "deleteAutomation",
        "deletedAutomationId",
        json!({ "id": f.automation }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn delete_automation_of_an_unknown_id_is_not_found() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        DELETE_AUTOMATION,
        "deleteAutomation",
        "deletedAutomationId",
        json!({ "id": unknown_id(Kind::Automation) }),
        json!([{ "field": ["input", "id"], "code": "NOT_FOUND" }]),
    )
    .await;
}

#[tokio::test]
async fn delete_automation_refuses_a_malformed_id() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        DELETE_AUTOMATION,
        "deleteAutomation",
        "deletedAutomationId",
        json!({ "id": "" }),
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}

#[tokio::test]
async fn delete_automation_refuses_an_influencer_id() {
    let f = campaign_with_automation().await;
    assert_refused(
        &f.app,
        DELETE_AUTOMATION,
        "deleteAutomation",
        "deletedAutomationId",
        json!({ "id": f.influencer }),
        json!([{ "field": ["input", "id"], "code": "INVALID" }]),
    )
    .await;
}
