mod common;

// Workspace isolation: acting as workspace A with workspace B's ids, cursors, names or external
// ids gets exactly what a value of nothing gets (null, NOT_FOUND, not counted), and leaves B's
// data as it was. Names are unique per workspace, not globally.
//
// The reads and writes tried are data (`QUERY_PROBES`, `MUTATION_ATTACKS`); a test introspects
// the schema and fails when a Query or Mutation field, or an id, cursor or search argument, or an
// id-carrying input field, has no entry, so a new one cannot ship untested.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::{Request, Variables};
use common::TestApp;
use pretty_assertions::{assert_eq, assert_ne};
use sea_orm::{ConnectionTrait, Statement};
use segments_api::{
    graphql::schema::ids::{Kind, encode},
    service::{WorkspaceId, auth::create_workspace},
};
use serde_json::{Value, json};

// ---- running operations as a given workspace ----

/// Runs an operation for `ws`; returns the whole response (`data`, `errors`) as JSON.
async fn exec_as(app: &TestApp, ws: WorkspaceId, query: &str, variables: Value) -> Value {
    let request = Request::new(query).variables(Variables::from_json(variables));
    let response = app
        .schema
        .execute(app.schema.scoped(request, ws, None))
        .await;
    serde_json::to_value(&response).expect("serialize response")
}

/// Runs an operation for `ws` that must not fail; returns `data`.
async fn data_as(app: &TestApp, ws: WorkspaceId, query: &str, variables: Value) -> Value {
    let response = exec_as(app, ws, query, variables).await;
    assert!(
        response.get("errors").is_none(),
        "unexpected errors: {response:#}"
    );
    response["data"].clone()
}

/// Runs a mutation for `ws` that must be accepted; returns its payload.
async fn mutate_as(
    app: &TestApp,
    ws: WorkspaceId,
    field: &str,
    query: &str,
    variables: Value,
) -> Value {
    let payload = data_as(app, ws, query, variables).await[field].clone();
    assert_eq!(payload["userErrors"], json!([]), "{field}: {payload:#}");
    payload
}

fn id_at(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("an id, got {value}"))
        .to_owned()
}

fn id_of_nothing(kind: Kind) -> String {
    encode(kind, 999_999).0
}

async fn new_workspace(app: &TestApp, name: &str) -> WorkspaceId {
    WorkspaceId(
        create_workspace(&app.db, name)
            .await
            .expect("create a workspace")
            .id,
    )
}

// ---- fixtures, built through the API as each workspace ----

const CREATE_INFLUENCER: &str = "mutation($input: CreateInfluencerInput!) { createInfluencer(input: $input) { influencer { id } userErrors { field message code } } }";
const CREATE_SEGMENT: &str = "mutation($name: String!) { createSegment(input: { name: $name, description: \"fixture\" }) { segment { id } userErrors { field message code } } }";
const ASSIGN: &str = "mutation($ids: [ID!]!, $segment: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $segment } }) { segment { id } userErrors { field message code } } }";
const CREATE_CAMPAIGN: &str = "mutation($name: String!, $audience: [ID!]) { createCampaign(input: { name: $name, audienceSegmentIds: $audience }) { campaign { id } userErrors { field message code } } }";
const ADD_AUTOMATION: &str = "mutation($campaign: ID!, $name: String!) { addAutomation(input: { campaignId: $campaign, trigger: EMAIL_REPLIED, assignToSegment: { create: { name: $name } } }) { automation { id segment { id } } userErrors { field message code } } }";
const RECORD: &str = "mutation($campaign: ID!, $influencer: ID!, $externalId: String) { recordEngagement(input: { campaignId: $campaign, influencerId: $influencer, kind: EMAIL_REPLIED, externalId: $externalId }) { event { id } assignedSegments { id } duplicate userErrors { field message code } } }";
const DELETE_INFLUENCER: &str = "mutation($id: ID!) { deleteInfluencer(input: { id: $id }) { deletedInfluencerId userErrors { field message code } } }";
const DELETE_SEGMENT: &str = "mutation($id: ID!) { deleteSegment(input: { id: $id }) { deletedSegmentId userErrors { field message code } } }";
const DELETE_CAMPAIGN: &str = "mutation($id: ID!) { deleteCampaign(input: { id: $id }) { deletedCampaignId userErrors { field message code } } }";
const CREATE_GROUP: &str = "mutation($name: String!, $ids: [ID!]) { createSegmentGroup(input: { name: $name, exclusive: true, segmentIds: $ids }) { group { id } userErrors { field message code } } }";
const DELETE_GROUP: &str = "mutation($id: ID!) { deleteSegmentGroup(input: { id: $id }) { deletedGroupId userErrors { field message code } } }";

/// One workspace's data.
struct Fixture {
    ws: WorkspaceId,
    /// i0 and i1 are in `segments[0]`, i1 also in `segments[1]`, the automation put i2 in
    /// `segments[2]`, i3 is Unassigned.
    influencers: Vec<String>,
    handles: Vec<String>,
    /// "<tag> Fitness", "<tag> Beauty", and "<tag> Repliers" (made by the automation).
    segments: Vec<String>,
    segment_names: Vec<String>,
    /// Aimed at `segments[0]`.
    campaign: String,
    /// On `campaign`: EMAIL_REPLIED assigns to `segments[2]`.
    automation: String,
    /// i2 replied to `campaign`.
    event: String,
    external_id: String,
    /// "<tag> Pipeline": `segments[1]` is its one stage.
    group: String,
    /// An export of `segments[0]`.
    export: String,
}

async fn create_influencer(app: &TestApp, ws: WorkspaceId, input: Value) -> String {
    let payload = mutate_as(
        app,
        ws,
        "createInfluencer",
        CREATE_INFLUENCER,
        json!({ "input": input }),
    )
    .await;
    id_at(&payload["influencer"]["id"])
}

async fn create_segment(app: &TestApp, ws: WorkspaceId, name: &str) -> String {
    let payload = mutate_as(
        app,
        ws,
        "createSegment",
        CREATE_SEGMENT,
        json!({ "name": name }),
    )
    .await;
    id_at(&payload["segment"]["id"])
}

async fn assign(app: &TestApp, ws: WorkspaceId, ids: &[&String], segment: &str) {
    mutate_as(
        app,
        ws,
        "assignToSegment",
        ASSIGN,
        json!({ "ids": ids, "segment": segment }),
    )
    .await;
}

async fn create_campaign(
    app: &TestApp,
    ws: WorkspaceId,
    name: &str,
    audience: &[&String],
) -> String {
    let payload = mutate_as(
        app,
        ws,
        "createCampaign",
        CREATE_CAMPAIGN,
        json!({ "name": name, "audience": audience }),
    )
    .await;
    id_at(&payload["campaign"]["id"])
}

async fn delete(app: &TestApp, ws: WorkspaceId, field: &str, query: &str, id: &str) {
    mutate_as(app, ws, field, query, json!({ "id": id })).await;
}

async fn populate(app: &TestApp, ws: WorkspaceId, tag: &str) -> Fixture {
    let lower = tag.to_lowercase();
    let mut influencers = Vec::new();
    let mut handles = Vec::new();
    for (i, name) in ["ana", "ben", "cleo", "dev"].into_iter().enumerate() {
        let handle = format!("{lower}-{name}");
        influencers.push(
            create_influencer(
                app,
                ws,
                json!({
                    "handle": handle,
                    "platform": "INSTAGRAM",
                    "displayName": format!("{tag} {name}"),
                    "email": format!("{name}@{lower}.example"),
                    "niche": "fitness",
                    "followerCount": 1000 * (i + 1),
                }),
            )
            .await,
        );
        handles.push(handle);
    }
    let mut segment_names = vec![format!("{tag} Fitness"), format!("{tag} Beauty")];
    let mut segments = Vec::new();
    for name in &segment_names {
        segments.push(create_segment(app, ws, name).await);
    }
    assign(app, ws, &[&influencers[0], &influencers[1]], &segments[0]).await;
    assign(app, ws, &[&influencers[1]], &segments[1]).await;
    let campaign = create_campaign(app, ws, &format!("{tag} Launch"), &[&segments[0]]).await;
    segment_names.push(format!("{tag} Repliers"));
    let added = mutate_as(
        app,
        ws,
        "addAutomation",
        ADD_AUTOMATION,
        json!({ "campaign": campaign, "name": segment_names[2] }),
    )
    .await;
    let automation = id_at(&added["automation"]["id"]);
    segments.push(id_at(&added["automation"]["segment"]["id"]));
    let external_id = format!("{lower}-evt-1");
    let recorded = mutate_as(
        app,
        ws,
        "recordEngagement",
        RECORD,
        json!({ "campaign": campaign, "influencer": influencers[2], "externalId": external_id }),
    )
    .await;
    assert_eq!(
        recorded["assignedSegments"],
        json!([{ "id": segments[2] }]),
        "the automation ran"
    );
    let group = mutate_as(
        app,
        ws,
        "createSegmentGroup",
        CREATE_GROUP,
        json!({ "name": format!("{tag} Pipeline"), "ids": [segments[1]] }),
    )
    .await;
    let export = mutate_as(
        app,
        ws,
        "exportInfluencers",
        "mutation($s: ID!) { exportInfluencers(input: { format: CSV, segmentId: $s }) { job { id } userErrors { field message code } } }",
        json!({ "s": segments[0] }),
    )
    .await;
    Fixture {
        ws,
        export: id_at(&export["job"]["id"]),
        group: id_at(&group["group"]["id"]),
        event: id_at(&recorded["event"]["id"]),
        influencers,
        handles,
        segments,
        segment_names,
        campaign,
        automation,
        external_id,
    }
}

// ---- what a workspace sees ----

const SNAPSHOT: &str = "query($events: [ID!]!) {
  viewer { workspace { id name createdAt } }
  influencers(first: 50) { totalCount pageInfo { ...Info } edges { cursor node { ...Person } } }
  unassigned(first: 50) { totalCount pageInfo { ...Info } edges { cursor node { id } } }
  segments(first: 50) { totalCount pageInfo { ...Info } edges { cursor node {
    id name description createdAt memberCount
    influencers(first: 50) { totalCount pageInfo { ...Info } edges { cursor node { id } } } } } }
  campaigns(first: 50) { totalCount pageInfo { ...Info } edges { cursor node {
    id name status createdAt audience { id name }
    recipients(first: 50) { totalCount pageInfo { ...Info } edges { cursor node { id } } }
    automations { id trigger action enabled createdAt campaign { id } segment { id } } } } }
  events: nodes(ids: $events) { id ... on EngagementEvent { kind occurredAt externalId campaign { id } influencer { id } } }
}
fragment Info on PageInfo { hasNextPage hasPreviousPage startCursor endCursor }
fragment Person on Influencer {
  id handle displayName email platform niche followerCount createdAt unassigned segments { id name }
  memberships { segment { id } influencer { id } assignedAt source automation { id } }
}";

/// Everything of a workspace, read as that workspace (engagement events by id: nothing lists
/// them).
async fn snapshot(app: &TestApp, fixture: &Fixture) -> Value {
    data_as(
        app,
        fixture.ws,
        SNAPSHOT,
        json!({ "events": [fixture.event] }),
    )
    .await
}

fn node_ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("a connection, got {connection}"))
        .iter()
        .map(|edge| id_at(&edge["node"]["id"]))
        .collect()
}

/// What a snapshot lists, to compare with what a fixture made.
fn listed(view: &Value) -> Value {
    let segments: Vec<Value> = view["segments"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = &e["node"];
            json!({
                "id": s["id"],
                "memberCount": s["memberCount"],
                "members": { "totalCount": s["influencers"]["totalCount"], "ids": node_ids(&s["influencers"]) },
            })
        })
        .collect();
    let campaigns: Vec<Value> = view["campaigns"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let c = &e["node"];
            json!({
                "id": c["id"],
                "audience": c["audience"].as_array().unwrap().iter().map(|s| s["id"].clone()).collect::<Vec<_>>(),
                "recipients": { "totalCount": c["recipients"]["totalCount"], "ids": node_ids(&c["recipients"]) },
                "automations": c["automations"].as_array().unwrap().iter().map(|a| a["id"].clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "influencers": { "totalCount": view["influencers"]["totalCount"], "ids": node_ids(&view["influencers"]) },
        "unassigned": { "totalCount": view["unassigned"]["totalCount"], "ids": node_ids(&view["unassigned"]) },
        "segments": { "totalCount": view["segments"]["totalCount"], "items": segments },
        "campaigns": { "totalCount": view["campaigns"]["totalCount"], "items": campaigns },
        "events": view["events"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect::<Vec<_>>(),
    })
}

/// What [`listed`] shows for a workspace holding exactly `f`.
fn listed_for(f: &Fixture) -> Value {
    let i = &f.influencers;
    let s = &f.segments;
    json!({
        "influencers": { "totalCount": 4, "ids": i },
        "unassigned": { "totalCount": 1, "ids": [i[3]] },
        "segments": { "totalCount": 3, "items": [
            { "id": s[0], "memberCount": 2, "members": { "totalCount": 2, "ids": [i[0], i[1]] } },
            { "id": s[1], "memberCount": 1, "members": { "totalCount": 1, "ids": [i[1]] } },
            { "id": s[2], "memberCount": 1, "members": { "totalCount": 1, "ids": [i[2]] } },
        ] },
        "campaigns": { "totalCount": 1, "items": [{
            "id": f.campaign,
            "audience": [s[0]],
            "recipients": { "totalCount": 2, "ids": [i[0], i[1]] },
            "automations": [f.automation],
        }] },
        "events": [f.event],
    })
}

const TABLES: [&str; 12] = [
    "influencer",
    "export_job",
    "segment",
    "segment_membership",
    "segment_membership_change",
    "segment_group",
    "segment_group_member",
    "campaign",
    "campaign_audience",
    "automation",
    "engagement_event",
    "api_key",
];

/// Rows of each table that belong to `ws`, read straight from the database.
async fn rows_of(app: &TestApp, ws: WorkspaceId) -> BTreeMap<&'static str, i64> {
    let mut counts = BTreeMap::new();
    for table in TABLES {
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                format!(
                    "SELECT COUNT(*) AS n FROM {table} WHERE workspace_id = {}",
                    ws.0
                ),
            ))
            .await
            .unwrap()
            .unwrap();
        counts.insert(table, row.try_get::<i64>("", "n").unwrap());
    }
    counts
}

/// Rows of each table, all workspaces together.
async fn all_rows(app: &TestApp) -> BTreeMap<&'static str, i64> {
    let mut counts = BTreeMap::new();
    for table in TABLES.into_iter().chain(["workspace"]) {
        counts.insert(table, app.count_rows(table).await);
    }
    counts
}

// ---- the values tried: another workspace's, or those of nothing ----

/// Cursors of one item of each connection.
struct Cursors {
    influencer: String,
    unassigned: String,
    /// Of a member in a segment's `influencers`.
    member: String,
    /// Of a recipient in a campaign's `recipients`.
    recipient: String,
    segment: String,
    campaign: String,
    group: String,
}

/// The values an operation is tried with: all B's, or all naming nothing.
struct Target {
    /// An Unassigned influencer.
    influencer: String,
    /// An influencer in `segment`.
    member: String,
    segment: String,
    campaign: String,
    automation: String,
    event: String,
    workspace: String,
    cursors: Cursors,
    handle: String,
    segment_names: [String; 2],
    external_id: String,
    group: String,
    group_name: String,
    export: String,
}

/// Valid ids of the workspace acting, to go with the target's in inputs with several ids.
struct Own {
    influencer: String,
    segment: String,
    campaign: String,
    automation: String,
    group: String,
}

impl Own {
    fn of(f: &Fixture) -> Self {
        Self {
            influencer: f.influencers[0].clone(),
            segment: f.segments[0].clone(),
            campaign: f.campaign.clone(),
            automation: f.automation.clone(),
            group: f.group.clone(),
        }
    }
}

const CURSORS: &str = "query($segment: ID!, $campaign: ID!) {
  influencers(first: 100) { edges { cursor node { id } } }
  unassigned(first: 100) { edges { cursor node { id } } }
  segment(id: $segment) { influencers(first: 100) { edges { cursor node { id } } } }
  campaign(id: $campaign) { recipients(first: 100) { edges { cursor node { id } } } }
  segments(first: 100) { edges { cursor node { id } } }
  campaigns(first: 100) { edges { cursor node { id } } }
  segmentGroups(first: 100) { edges { cursor node { id } } }
}";

fn cursor_of(connection: &Value, id: &str) -> String {
    let edges = connection["edges"].as_array().unwrap();
    let edge = edges
        .iter()
        .find(|e| e["node"]["id"] == id)
        .unwrap_or_else(|| panic!("{id} is listed in {connection}"));
    id_at(&edge["cursor"])
}

async fn read_cursors(app: &TestApp, ws: WorkspaceId, segment: &str, campaign: &str) -> Value {
    data_as(
        app,
        ws,
        CURSORS,
        json!({ "segment": segment, "campaign": campaign }),
    )
    .await
}

/// B's data and A's around it, with a gap: A's first items, then all of B's, then items A made
/// and deleted (their cursors are cursors of nothing), then A's last items. So B's cursors and
/// the cursors of nothing fall at the same place in each of A's lists, mid-list.
struct World {
    app: TestApp,
    a: Fixture,
    b: Fixture,
    theirs: Target,
    nothing: Target,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let a = populate(&app, app.workspace, "Alpha").await;
    let b_ws = new_workspace(&app, "B").await;
    let b = populate(&app, b_ws, "Bravo").await;

    let seen = read_cursors(&app, b.ws, &b.segments[0], &b.campaign).await;
    let theirs = Target {
        influencer: b.influencers[3].clone(),
        member: b.influencers[0].clone(),
        segment: b.segments[0].clone(),
        campaign: b.campaign.clone(),
        automation: b.automation.clone(),
        event: b.event.clone(),
        workspace: encode(Kind::Workspace, b.ws.0).0,
        cursors: Cursors {
            influencer: cursor_of(&seen["influencers"], &b.influencers[0]),
            unassigned: cursor_of(&seen["unassigned"], &b.influencers[3]),
            member: cursor_of(&seen["segment"]["influencers"], &b.influencers[0]),
            recipient: cursor_of(&seen["campaign"]["recipients"], &b.influencers[0]),
            segment: cursor_of(&seen["segments"], &b.segments[0]),
            campaign: cursor_of(&seen["campaigns"], &b.campaign),
            group: cursor_of(&seen["segmentGroups"], &b.group),
        },
        handle: b.handles[0].clone(),
        segment_names: [b.segment_names[0].clone(), b.segment_names[1].clone()],
        external_id: b.external_id.clone(),
        group: b.group.clone(),
        group_name: "Bravo Pipeline".into(),
        export: b.export.clone(),
    };

    // Items of A that will be deleted, so their cursors name nothing.
    let ws = a.ws;
    let ghost = create_influencer(
        &app,
        ws,
        json!({ "handle": "alpha-ghost", "platform": "INSTAGRAM" }),
    )
    .await;
    let ghost_segment = create_segment(&app, ws, "Alpha Ghost").await;
    let ghost_campaign = create_campaign(&app, ws, "Alpha Ghost", &[]).await;
    let ghost_group = id_at(
        &mutate_as(
            &app,
            ws,
            "createSegmentGroup",
            CREATE_GROUP,
            json!({ "name": "Alpha Ghost" }),
        )
        .await["group"]["id"],
    );
    let unassigned = read_cursors(&app, ws, &a.segments[0], &a.campaign).await;
    assign(&app, ws, &[&ghost], &a.segments[0]).await;
    let member = read_cursors(&app, ws, &a.segments[0], &a.campaign).await;
    let ghost_cursors = Cursors {
        influencer: cursor_of(&unassigned["influencers"], &ghost),
        unassigned: cursor_of(&unassigned["unassigned"], &ghost),
        member: cursor_of(&member["segment"]["influencers"], &ghost),
        recipient: cursor_of(&member["campaign"]["recipients"], &ghost),
        segment: cursor_of(&unassigned["segments"], &ghost_segment),
        campaign: cursor_of(&unassigned["campaigns"], &ghost_campaign),
        group: cursor_of(&unassigned["segmentGroups"], &ghost_group),
    };
    delete(&app, ws, "deleteInfluencer", DELETE_INFLUENCER, &ghost).await;
    delete(&app, ws, "deleteSegment", DELETE_SEGMENT, &ghost_segment).await;
    delete(&app, ws, "deleteCampaign", DELETE_CAMPAIGN, &ghost_campaign).await;
    delete(&app, ws, "deleteSegmentGroup", DELETE_GROUP, &ghost_group).await;
    let nothing = Target {
        influencer: id_of_nothing(Kind::Influencer),
        member: id_of_nothing(Kind::Influencer),
        segment: id_of_nothing(Kind::Segment),
        campaign: id_of_nothing(Kind::Campaign),
        automation: id_of_nothing(Kind::Automation),
        event: id_of_nothing(Kind::EngagementEvent),
        workspace: id_of_nothing(Kind::Workspace),
        cursors: ghost_cursors,
        handle: "nobody-ana".into(),
        segment_names: ["Nobody Fitness".into(), "Nobody Beauty".into()],
        external_id: "nobody-evt-1".into(),
        group: id_of_nothing(Kind::SegmentGroup),
        group_name: "Nobody Pipeline".into(),
        export: id_of_nothing(Kind::ExportJob),
    };

    // A's last items: after the gap in every list.
    let tail = create_influencer(
        &app,
        ws,
        json!({ "handle": "alpha-tail", "platform": "INSTAGRAM" }),
    )
    .await;
    create_influencer(
        &app,
        ws,
        json!({ "handle": "alpha-loner", "platform": "YOUTUBE" }),
    )
    .await;
    assign(&app, ws, &[&tail], &a.segments[0]).await;
    create_segment(&app, ws, "Alpha Tail").await;
    create_campaign(&app, ws, "Alpha Tail", &[]).await;
    mutate_as(
        &app,
        ws,
        "createSegmentGroup",
        CREATE_GROUP,
        json!({ "name": "Alpha Tail" }),
    )
    .await;

    World {
        app,
        a,
        b,
        theirs,
        nothing,
    }
}

// ---- the reads tried ----

/// A read that takes an id, a cursor or a search term.
struct Probe {
    /// The Query field it reads through.
    field: &'static str,
    /// Where it puts the target's values: `Type.field.argument`.
    covers: &'static [&'static str],
    query: &'static str,
    vars: fn(&Target, &Own) -> Value,
}

macro_rules! node_fields {
    () => {
        " fragment N on Node { __typename id ... on Influencer { handle email memberships { source } } ... on Segment { name memberCount influencers { totalCount } } ... on Campaign { name status recipients { totalCount } } ... on Automation { enabled trigger } ... on EngagementEvent { kind externalId } ... on Workspace { name } }"
    };
}

macro_rules! influencer_page {
    () => {
        " fragment P on InfluencerConnection { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id handle } } }"
    };
}

macro_rules! segment_page {
    () => {
        " fragment P on SegmentConnection { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id name memberCount } } }"
    };
}

macro_rules! campaign_page {
    () => {
        " fragment P on CampaignConnection { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id name } } }"
    };
}

/// Subscription arguments, tried over WebSocket in `tests/subscriptions.rs`
/// (`another_workspaces_changes_never_reach_a_subscriber`).
const COVERED_BY_SUBSCRIPTION_TESTS: &[&str] = &["Subscription.segmentMembershipChanged.segmentId"];

/// History cursors, tried in `tests/history.rs`
/// (`cursors_from_elsewhere_are_refused_and_show_nothing`, and over WebSocket in
/// `a_subscription_refuses_a_cursor_from_elsewhere`): a cursor names its workspace, so one of
/// another workspace is a BAD_USER_INPUT error, which the probes above do not expect.
const COVERED_BY_HISTORY_TESTS: &[&str] = &[
    "Query.membershipChanges.after",
    "Query.membershipChanges.before",
    "Influencer.history.after",
    "Influencer.history.before",
    "Segment.history.after",
    "Segment.history.before",
    "Subscription.segmentMembershipChanged.after",
];

/// Filter arguments that name segments and campaigns, tried in
/// `a_filter_argument_naming_another_workspaces_segments_or_campaigns_is_refused_as_for_nothing`:
/// ids of nothing there are a BAD_USER_INPUT error, which the probes above do not expect.
const COVERED_BY_FILTER_TESTS: &[&str] = &[
    "Query.influencers.filter.inAnySegment",
    "Query.influencers.filter.inAllSegments",
    "Query.influencers.filter.inNoSegment",
    "Query.influencers.filter.engaged.campaignId",
];

/// A filter naming the target's segment in each segment list and its campaign.
fn filter_naming(t: &Target) -> Value {
    json!({
        "anyOf": [
            { "inAnySegment": [t.segment] },
            { "inAllSegments": [t.segment] },
            { "inNoSegment": [t.segment] },
            { "engaged": { "campaignId": t.campaign } },
        ]
    })
}

const FILTER_PATHS: [&str; 4] = [
    "inAnySegment",
    "inAllSegments",
    "inNoSegment",
    "engaged.campaignId",
];

const QUERY_PROBES: &[Probe] = &[
    Probe {
        field: "exportJob",
        covers: &["Query.exportJob.id"],
        query: "query($id: ID!) { exportJob(id: $id) { id status format rowCount url } }",
        vars: |t, _| json!({ "id": t.export }),
    },
    Probe {
        field: "viewer",
        covers: &[],
        query: "{ viewer { workspace { id name createdAt } } }",
        vars: |_, _| json!({}),
    },
    Probe {
        field: "node",
        covers: &["Query.node.id"],
        query: concat!(
            "query($i: ID!, $m: ID!, $s: ID!, $c: ID!, $a: ID!, $e: ID!, $w: ID!) { influencer: node(id: $i) { ...N } member: node(id: $m) { ...N } segment: node(id: $s) { ...N } campaign: node(id: $c) { ...N } automation: node(id: $a) { ...N } event: node(id: $e) { ...N } workspace: node(id: $w) { ...N } }",
            node_fields!()
        ),
        vars: |t, _| json!({ "i": t.influencer, "m": t.member, "s": t.segment, "c": t.campaign, "a": t.automation, "e": t.event, "w": t.workspace }),
    },
    Probe {
        field: "nodes",
        covers: &["Query.nodes.ids"],
        query: concat!(
            "query($ids: [ID!]!) { nodes(ids: $ids) { ...N } }",
            node_fields!()
        ),
        vars: |t, o| json!({ "ids": [o.influencer, t.influencer, t.member, t.segment, t.campaign, t.automation, t.event, t.workspace, o.segment] }),
    },
    Probe {
        field: "influencer",
        covers: &["Query.influencer.id"],
        query: "query($i: ID!, $m: ID!) { unassigned: influencer(id: $i) { ...I } member: influencer(id: $m) { ...I } } fragment I on Influencer { id handle displayName email unassigned segments { id name } memberships { source segment { id } } }",
        vars: |t, _| json!({ "i": t.influencer, "m": t.member }),
    },
    Probe {
        field: "segment",
        covers: &["Query.segment.id"],
        query: "query($id: ID!) { segment(id: $id) { id name memberCount influencers { totalCount edges { cursor node { id } } } } }",
        vars: |t, _| json!({ "id": t.segment }),
    },
    Probe {
        field: "campaign",
        covers: &["Query.campaign.id"],
        query: "query($id: ID!) { campaign(id: $id) { id name audience { id } recipients { totalCount nodes { id } } automations { id } } }",
        vars: |t, _| json!({ "id": t.campaign }),
    },
    Probe {
        field: "segmentGroup",
        covers: &["Query.segmentGroup.id"],
        query: "query($id: ID!) { segmentGroup(id: $id) { id name exclusive segments { id name } createdAt } }",
        vars: |t, _| json!({ "id": t.group }),
    },
    Probe {
        field: "segmentGroups",
        covers: &["Query.segmentGroups.after"],
        query: "query($c: String!) { segmentGroups(first: 1, after: $c) { totalCount pageInfo { hasNextPage hasPreviousPage } edges { cursor node { id name } } } }",
        vars: |t, _| json!({ "c": t.cursors.group }),
    },
    Probe {
        field: "segmentGroups",
        covers: &["Query.segmentGroups.before"],
        query: "query($c: String!) { segmentGroups(last: 1, before: $c) { totalCount pageInfo { hasNextPage hasPreviousPage } edges { cursor node { id name } } } }",
        vars: |t, _| json!({ "c": t.cursors.group }),
    },
    Probe {
        field: "segments",
        covers: &["Query.segments.groupId"],
        query: "query($g: ID!) { segments(groupId: $g) { totalCount nodes { id name group { id } } } }",
        vars: |t, _| json!({ "g": t.group }),
    },
    Probe {
        field: "membershipChanges",
        covers: &["Query.membershipChanges.segmentId"],
        query: "query($s: ID!) { membershipChanges(segmentId: $s) { totalCount nodes { change segmentName influencer { id } segment { id } } } }",
        vars: |t, _| json!({ "s": t.segment }),
    },
    Probe {
        field: "influencers",
        covers: &["Query.influencers.after"],
        query: concat!(
            "query($c: String!) { influencers(first: 1, after: $c) { ...P } }",
            influencer_page!()
        ),
        vars: |t, _| json!({ "c": t.cursors.influencer }),
    },
    Probe {
        field: "influencers",
        covers: &["Query.influencers.before"],
        query: concat!(
            "query($c: String!) { influencers(last: 1, before: $c) { ...P } }",
            influencer_page!()
        ),
        vars: |t, _| json!({ "c": t.cursors.influencer }),
    },
    Probe {
        field: "influencers",
        covers: &["Query.influencers.search"],
        query: concat!(
            "query($q: String!) { influencers(search: $q) { ...P } }",
            influencer_page!()
        ),
        vars: |t, _| json!({ "q": t.handle }),
    },
    Probe {
        field: "unassigned",
        covers: &["Query.unassigned.after"],
        query: concat!(
            "query($c: String!) { unassigned(first: 1, after: $c) { ...P } }",
            influencer_page!()
        ),
        vars: |t, _| json!({ "c": t.cursors.unassigned }),
    },
    Probe {
        field: "unassigned",
        covers: &["Query.unassigned.before"],
        query: concat!(
            "query($c: String!) { unassigned(last: 1, before: $c) { ...P } }",
            influencer_page!()
        ),
        vars: |t, _| json!({ "c": t.cursors.unassigned }),
    },
    Probe {
        field: "segments",
        covers: &["Query.segments.after"],
        query: concat!(
            "query($c: String!) { segments(first: 1, after: $c) { ...P } }",
            segment_page!()
        ),
        vars: |t, _| json!({ "c": t.cursors.segment }),
    },
    Probe {
        field: "segments",
        covers: &["Query.segments.before"],
        query: concat!(
            "query($c: String!) { segments(last: 1, before: $c) { ...P } }",
            segment_page!()
        ),
        vars: |t, _| json!({ "c": t.cursors.segment }),
    },
    Probe {
        field: "segments",
        covers: &["Query.segments.search"],
        query: concat!(
            "query($q: String!) { segments(search: $q) { ...P } }",
            segment_page!()
        ),
        vars: |t, _| json!({ "q": t.segment_names[0] }),
    },
    Probe {
        field: "campaigns",
        covers: &["Query.campaigns.after"],
        query: concat!(
            "query($c: String!) { campaigns(first: 1, after: $c) { ...P } }",
            campaign_page!()
        ),
        vars: |t, _| json!({ "c": t.cursors.campaign }),
    },
    Probe {
        field: "campaigns",
        covers: &["Query.campaigns.before"],
        query: concat!(
            "query($c: String!) { campaigns(last: 1, before: $c) { ...P } }",
            campaign_page!()
        ),
        vars: |t, _| json!({ "c": t.cursors.campaign }),
    },
    Probe {
        field: "segment",
        covers: &["Segment.influencers.after"],
        query: concat!(
            "query($s: ID!, $c: String!) { segment(id: $s) { id memberCount influencers(first: 1, after: $c) { ...P } } }",
            influencer_page!()
        ),
        vars: |t, o| json!({ "s": o.segment, "c": t.cursors.member }),
    },
    Probe {
        field: "segment",
        covers: &["Segment.influencers.before"],
        query: concat!(
            "query($s: ID!, $c: String!) { segment(id: $s) { id memberCount influencers(last: 1, before: $c) { ...P } } }",
            influencer_page!()
        ),
        vars: |t, o| json!({ "s": o.segment, "c": t.cursors.member }),
    },
    Probe {
        field: "campaign",
        covers: &["Campaign.recipients.after"],
        query: concat!(
            "query($id: ID!, $c: String!) { campaign(id: $id) { id recipients(first: 1, after: $c) { ...P } } }",
            influencer_page!()
        ),
        vars: |t, o| json!({ "id": o.campaign, "c": t.cursors.recipient }),
    },
    Probe {
        field: "campaign",
        covers: &["Campaign.recipients.before"],
        query: concat!(
            "query($id: ID!, $c: String!) { campaign(id: $id) { id recipients(last: 1, before: $c) { ...P } } }",
            influencer_page!()
        ),
        vars: |t, o| json!({ "id": o.campaign, "c": t.cursors.recipient }),
    },
];

// ---- the writes tried ----

/// A mutation given the target's values where it expects its own.
struct Attack {
    /// The Mutation field.
    field: &'static str,
    /// The input fields it puts the target's values in: `mutation.argument.field...`.
    covers: &'static [&'static str],
    query: &'static str,
    vars: fn(&Target, &Own) -> Value,
    /// The codes of the `userErrors` values of nothing get (none: the input is accepted).
    nothing_gets: &'static [&'static str],
    /// Rows each accepted run adds to the acting workspace's tables.
    adds: &'static [(&'static str, i64)],
}

const MUTATION_ATTACKS: &[Attack] = &[
    Attack {
        field: "exportInfluencers",
        covers: &["exportInfluencers.input.segmentId"],
        query: "mutation($s: ID!) { exportInfluencers(input: { format: CSV, segmentId: $s }) { job { rowCount } userErrors { field message code } } }",
        vars: |t, _| json!({ "s": t.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "exportInfluencers",
        covers: &["exportInfluencers.input.campaignRecipientsOf"],
        query: "mutation($c: ID!) { exportInfluencers(input: { format: JSONL, campaignRecipientsOf: $c }) { job { rowCount } userErrors { field message code } } }",
        vars: |t, _| json!({ "c": t.campaign }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "createSegment",
        covers: &[
            "createSegment.input.rule.inAnySegment",
            "createSegment.input.rule.inAllSegments",
            "createSegment.input.rule.inNoSegment",
            "createSegment.input.rule.engaged.campaignId",
        ],
        query: "mutation($rule: InfluencerFilter!) { createSegment(input: { name: \"Ruled\", rule: $rule }) { segment { id memberCount } userErrors { field message code } } }",
        vars: |t, _| json!({ "rule": filter_naming(t) }),
        nothing_gets: &["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"],
        adds: &[],
    },
    // A's segment is MANUAL: the rule is refused before its ids are looked up, the same for B's
    // ids as for ids of nothing.
    Attack {
        field: "updateSegment",
        covers: &[
            "updateSegment.input.rule.inAnySegment",
            "updateSegment.input.rule.inAllSegments",
            "updateSegment.input.rule.inNoSegment",
            "updateSegment.input.rule.engaged.campaignId",
        ],
        query: "mutation($id: ID!, $rule: InfluencerFilter!) { updateSegment(input: { id: $id, rule: $rule }) { segment { id memberCount } userErrors { field message code } } }",
        vars: |t, o| json!({ "id": o.segment, "rule": filter_naming(t) }),
        nothing_gets: &["INVALID"],
        adds: &[],
    },
    // A rule inside another change is refused whatever it names.
    Attack {
        field: "assignToSegment",
        covers: &[
            "assignToSegment.input.segment.create.rule.inAnySegment",
            "assignToSegment.input.segment.create.rule.inAllSegments",
            "assignToSegment.input.segment.create.rule.inNoSegment",
            "assignToSegment.input.segment.create.rule.engaged.campaignId",
        ],
        query: "mutation($ids: [ID!]!, $rule: InfluencerFilter!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: \"Inline\", rule: $rule } } }) { segment { id } userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [o.influencer], "rule": filter_naming(t) }),
        nothing_gets: &["INVALID"],
        adds: &[],
    },
    Attack {
        field: "addAutomation",
        covers: &[
            "addAutomation.input.assignToSegment.create.rule.inAnySegment",
            "addAutomation.input.assignToSegment.create.rule.inAllSegments",
            "addAutomation.input.assignToSegment.create.rule.inNoSegment",
            "addAutomation.input.assignToSegment.create.rule.engaged.campaignId",
        ],
        query: "mutation($campaign: ID!, $rule: InfluencerFilter!) { addAutomation(input: { campaignId: $campaign, trigger: LINK_CLICKED, assignToSegment: { create: { name: \"Inline\", rule: $rule } } }) { automation { id } userErrors { field message code } } }",
        vars: |t, o| json!({ "campaign": o.campaign, "rule": filter_naming(t) }),
        nothing_gets: &["INVALID"],
        adds: &[],
    },
    Attack {
        field: "updateAutomation",
        covers: &[
            "updateAutomation.input.assignToSegment.create.rule.inAnySegment",
            "updateAutomation.input.assignToSegment.create.rule.inAllSegments",
            "updateAutomation.input.assignToSegment.create.rule.inNoSegment",
            "updateAutomation.input.assignToSegment.create.rule.engaged.campaignId",
        ],
        query: "mutation($id: ID!, $rule: InfluencerFilter!) { updateAutomation(input: { id: $id, assignToSegment: { create: { name: \"Inline\", rule: $rule } } }) { automation { id } userErrors { field message code } } }",
        vars: |t, o| json!({ "id": o.automation, "rule": filter_naming(t) }),
        nothing_gets: &["INVALID"],
        adds: &[],
    },
    Attack {
        field: "convertSegment",
        covers: &["convertSegment.input.id"],
        query: "mutation($id: ID!) { convertSegment(input: { id: $id, to: MANUAL }) { segment { id kind } userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "assignToSegment",
        covers: &[
            "assignToSegment.input.filter.inAnySegment",
            "assignToSegment.input.filter.inAllSegments",
            "assignToSegment.input.filter.inNoSegment",
            "assignToSegment.input.filter.engaged.campaignId",
        ],
        query: "mutation($filter: InfluencerFilter!, $segment: ID!) { assignToSegment(input: { filter: $filter, segment: { id: $segment } }) { segment { id memberCount } addedCount userErrors { field message code } } }",
        vars: |t, o| json!({ "filter": filter_naming(t), "segment": o.segment }),
        nothing_gets: &["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "removeFromSegment",
        covers: &[
            "removeFromSegment.input.filter.inAnySegment",
            "removeFromSegment.input.filter.inAllSegments",
            "removeFromSegment.input.filter.inNoSegment",
            "removeFromSegment.input.filter.engaged.campaignId",
        ],
        query: "mutation($filter: InfluencerFilter!, $segment: ID!) { removeFromSegment(input: { filter: $filter, segmentId: $segment }) { segment { id memberCount } removedCount userErrors { field message code } } }",
        vars: |t, o| json!({ "filter": filter_naming(t), "segment": o.segment }),
        nothing_gets: &["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "createSegmentGroup",
        covers: &["createSegmentGroup.input.segmentIds"],
        query: "mutation($ids: [ID!]) { createSegmentGroup(input: { name: \"Taken Over\", exclusive: true, segmentIds: $ids }) { group { exclusive segments { id } } userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [o.segment, t.segment] }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "createSegmentGroup",
        covers: &["createSegmentGroup.input.name"],
        query: "mutation($name: String!) { createSegmentGroup(input: { name: $name, exclusive: false }) { group { exclusive segments { id } } userErrors { field message code } } }",
        vars: |t, _| json!({ "name": t.group_name }),
        nothing_gets: &[],
        adds: &[("segment_group", 1)],
    },
    Attack {
        field: "updateSegmentGroup",
        covers: &["updateSegmentGroup.input.id"],
        query: "mutation($id: ID!) { updateSegmentGroup(input: { id: $id, name: \"Taken Over\", segmentIds: [] }) { group { id name segments { id } } userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.group }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "updateSegmentGroup",
        covers: &["updateSegmentGroup.input.segmentIds"],
        query: "mutation($id: ID!, $ids: [ID!]) { updateSegmentGroup(input: { id: $id, segmentIds: $ids }) { group { id name segments { id } } userErrors { field message code } } }",
        vars: |t, o| json!({ "id": o.group, "ids": [t.segment] }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "deleteSegmentGroup",
        covers: &["deleteSegmentGroup.input.id"],
        query: "mutation($id: ID!) { deleteSegmentGroup(input: { id: $id }) { deletedGroupId userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.group }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "moveToSegment",
        covers: &["moveToSegment.input.influencerIds"],
        query: "mutation($ids: [ID!]!, $from: ID, $to: ID!) { moveToSegment(input: { influencerIds: $ids, from: $from, to: { id: $to } }) { segment { id memberCount } movedCount userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [t.member], "to": o.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "moveToSegment",
        covers: &["moveToSegment.input.from"],
        query: "mutation($ids: [ID!]!, $from: ID, $to: ID!) { moveToSegment(input: { influencerIds: $ids, from: $from, to: { id: $to } }) { segment { id memberCount } movedCount userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [o.influencer], "from": t.segment, "to": o.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "moveToSegment",
        covers: &["moveToSegment.input.to.id"],
        query: "mutation($ids: [ID!]!, $from: ID, $to: ID!) { moveToSegment(input: { influencerIds: $ids, from: $from, to: { id: $to } }) { segment { id memberCount } movedCount userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [o.influencer], "from": o.segment, "to": t.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "moveToSegment",
        covers: &[
            "moveToSegment.input.to.create.rule.inAnySegment",
            "moveToSegment.input.to.create.rule.inAllSegments",
            "moveToSegment.input.to.create.rule.inNoSegment",
            "moveToSegment.input.to.create.rule.engaged.campaignId",
        ],
        query: "mutation($ids: [ID!]!, $from: ID!, $rule: InfluencerFilter!) { moveToSegment(input: { influencerIds: $ids, from: $from, to: { create: { name: \"Inline\", rule: $rule } } }) { segment { id } userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [o.influencer], "from": o.segment, "rule": filter_naming(t) }),
        nothing_gets: &["INVALID"],
        adds: &[],
    },
    Attack {
        field: "updateMemberships",
        covers: &["updateMemberships.input.add.influencerIds"],
        query: "mutation($input: UpdateMembershipsInput!) { updateMemberships(input: $input) { addedCount removedCount userErrors { field message code } } }",
        vars: |t, o| json!({ "input": { "add": [{ "influencerIds": [t.influencer], "segment": { "id": o.segment } }] } }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "updateMemberships",
        covers: &["updateMemberships.input.add.segment.id"],
        query: "mutation($input: UpdateMembershipsInput!) { updateMemberships(input: $input) { addedCount removedCount userErrors { field message code } } }",
        vars: |t, o| json!({ "input": { "add": [{ "influencerIds": [o.influencer], "segment": { "id": t.segment } }] } }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "updateMemberships",
        covers: &["updateMemberships.input.remove.influencerIds"],
        query: "mutation($input: UpdateMembershipsInput!) { updateMemberships(input: $input) { addedCount removedCount userErrors { field message code } } }",
        vars: |t, o| json!({ "input": { "remove": [{ "influencerIds": [t.member], "segment": { "id": o.segment } }] } }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "updateMemberships",
        covers: &["updateMemberships.input.remove.segment.id"],
        query: "mutation($input: UpdateMembershipsInput!) { updateMemberships(input: $input) { addedCount removedCount userErrors { field message code } } }",
        vars: |t, o| json!({ "input": { "remove": [{ "influencerIds": [o.influencer], "segment": { "id": t.segment } }] } }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "updateMemberships",
        covers: &[
            "updateMemberships.input.add.segment.create.rule.inAnySegment",
            "updateMemberships.input.add.segment.create.rule.inAllSegments",
            "updateMemberships.input.add.segment.create.rule.inNoSegment",
            "updateMemberships.input.add.segment.create.rule.engaged.campaignId",
            "updateMemberships.input.remove.segment.create.rule.inAnySegment",
            "updateMemberships.input.remove.segment.create.rule.inAllSegments",
            "updateMemberships.input.remove.segment.create.rule.inNoSegment",
            "updateMemberships.input.remove.segment.create.rule.engaged.campaignId",
        ],
        query: "mutation($input: UpdateMembershipsInput!) { updateMemberships(input: $input) { addedCount removedCount userErrors { field message code } } }",
        vars: |t, o| {
            json!({ "input": {
            "add": [{ "influencerIds": [o.influencer], "segment": { "create": { "name": "Inline", "rule": filter_naming(t) } } }],
            "remove": [{ "influencerIds": [o.influencer], "segment": { "create": { "name": "Inline", "rule": filter_naming(t) } } }],
        } })
        },
        nothing_gets: &["INVALID"],
        adds: &[],
    },
    Attack {
        field: "createInfluencer",
        covers: &["createInfluencer.input.handle"],
        query: "mutation($handle: String!) { createInfluencer(input: { handle: $handle, platform: INSTAGRAM }) { influencer { platform unassigned segments { id } } userErrors { field message code } } }",
        vars: |t, _| json!({ "handle": t.handle }),
        nothing_gets: &[],
        adds: &[("influencer", 1)],
    },
    Attack {
        field: "updateInfluencer",
        covers: &["updateInfluencer.input.id"],
        query: "mutation($id: ID!) { updateInfluencer(input: { id: $id, handle: \"taken-over\", email: null }) { influencer { id handle email } userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.member }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "deleteInfluencer",
        covers: &["deleteInfluencer.input.id"],
        query: "mutation($id: ID!) { deleteInfluencer(input: { id: $id }) { deletedInfluencerId userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.member }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "createSegment",
        covers: &["createSegment.input.name"],
        query: "mutation($name: String!) { createSegment(input: { name: $name }) { segment { description memberCount influencers { totalCount } } userErrors { field message code } } }",
        vars: |t, _| json!({ "name": t.segment_names[0] }),
        nothing_gets: &[],
        adds: &[("segment", 1)],
    },
    Attack {
        field: "updateSegment",
        covers: &["updateSegment.input.id"],
        query: "mutation($id: ID!) { updateSegment(input: { id: $id, name: \"Taken Over\", description: null }) { segment { id name description } userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "deleteSegment",
        covers: &["deleteSegment.input.id"],
        query: "mutation($id: ID!) { deleteSegment(input: { id: $id }) { deletedSegmentId userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "assignToSegment",
        covers: &["assignToSegment.input.influencerIds"],
        query: "mutation($ids: [ID!]!, $segment: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $segment } }) { segment { id memberCount } influencers { id } userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [o.influencer, t.influencer], "segment": o.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "assignToSegment",
        covers: &["assignToSegment.input.segment.id"],
        query: "mutation($ids: [ID!]!, $segment: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $segment } }) { segment { id memberCount } influencers { id } userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [o.influencer], "segment": t.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "assignToSegment",
        covers: &[
            "assignToSegment.input.influencerIds",
            "assignToSegment.input.segment.id",
        ],
        query: "mutation($ids: [ID!]!, $segment: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $segment } }) { segment { id memberCount } influencers { id } userErrors { field message code } } }",
        vars: |t, _| json!({ "ids": [t.influencer], "segment": t.segment }),
        nothing_gets: &["NOT_FOUND", "NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "assignToSegment",
        covers: &["assignToSegment.input.segment.create.name"],
        query: "mutation($ids: [ID!]!, $name: String!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: $name } } }) { segment { memberCount description } influencers { id } userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [o.influencer], "name": t.segment_names[1] }),
        nothing_gets: &[],
        adds: &[
            ("segment", 1),
            ("segment_membership", 1),
            ("segment_membership_change", 1),
        ],
    },
    Attack {
        field: "removeFromSegment",
        covers: &["removeFromSegment.input.influencerIds"],
        query: "mutation($ids: [ID!]!, $segment: ID!) { removeFromSegment(input: { influencerIds: $ids, segmentId: $segment }) { segment { id memberCount } influencers { id } userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [t.member], "segment": o.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "removeFromSegment",
        covers: &["removeFromSegment.input.segmentId"],
        query: "mutation($ids: [ID!]!, $segment: ID!) { removeFromSegment(input: { influencerIds: $ids, segmentId: $segment }) { segment { id memberCount } influencers { id } userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [o.influencer], "segment": t.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "removeFromSegment",
        covers: &[
            "removeFromSegment.input.influencerIds",
            "removeFromSegment.input.segmentId",
        ],
        query: "mutation($ids: [ID!]!, $segment: ID!) { removeFromSegment(input: { influencerIds: $ids, segmentId: $segment }) { segment { id memberCount } influencers { id } userErrors { field message code } } }",
        vars: |t, _| json!({ "ids": [t.member], "segment": t.segment }),
        nothing_gets: &["NOT_FOUND", "NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "createCampaign",
        covers: &["createCampaign.input.audienceSegmentIds"],
        query: "mutation($ids: [ID!]) { createCampaign(input: { name: \"Taken Over\", audienceSegmentIds: $ids }) { campaign { id name audience { id } } userErrors { field message code } } }",
        vars: |t, o| json!({ "ids": [o.segment, t.segment] }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "updateCampaign",
        covers: &["updateCampaign.input.id"],
        query: "mutation($id: ID!) { updateCampaign(input: { id: $id, name: \"Taken Over\", status: COMPLETED }) { campaign { id name status audience { id } } userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.campaign }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "updateCampaign",
        covers: &["updateCampaign.input.audienceSegmentIds"],
        query: "mutation($id: ID!, $ids: [ID!]) { updateCampaign(input: { id: $id, audienceSegmentIds: $ids }) { campaign { id name status audience { id } } userErrors { field message code } } }",
        vars: |t, o| json!({ "id": o.campaign, "ids": [t.segment] }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "updateCampaign",
        covers: &[
            "updateCampaign.input.id",
            "updateCampaign.input.audienceSegmentIds",
        ],
        query: "mutation($id: ID!, $ids: [ID!]) { updateCampaign(input: { id: $id, audienceSegmentIds: $ids }) { campaign { id name status audience { id } } userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.campaign, "ids": [t.segment] }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "deleteCampaign",
        covers: &["deleteCampaign.input.id"],
        query: "mutation($id: ID!) { deleteCampaign(input: { id: $id }) { deletedCampaignId userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.campaign }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "addAutomation",
        covers: &["addAutomation.input.campaignId"],
        query: "mutation($campaign: ID!, $segment: ID!) { addAutomation(input: { campaignId: $campaign, trigger: LINK_CLICKED, assignToSegment: { id: $segment } }) { automation { id enabled campaign { id } segment { id } } userErrors { field message code } } }",
        vars: |t, o| json!({ "campaign": t.campaign, "segment": o.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "addAutomation",
        covers: &["addAutomation.input.assignToSegment.id"],
        query: "mutation($campaign: ID!, $segment: ID!) { addAutomation(input: { campaignId: $campaign, trigger: LINK_CLICKED, assignToSegment: { id: $segment } }) { automation { id enabled campaign { id } segment { id } } userErrors { field message code } } }",
        vars: |t, o| json!({ "campaign": o.campaign, "segment": t.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "addAutomation",
        covers: &[
            "addAutomation.input.campaignId",
            "addAutomation.input.assignToSegment.id",
        ],
        query: "mutation($campaign: ID!, $segment: ID!) { addAutomation(input: { campaignId: $campaign, trigger: LINK_CLICKED, assignToSegment: { id: $segment } }) { automation { id enabled campaign { id } segment { id } } userErrors { field message code } } }",
        vars: |t, _| json!({ "campaign": t.campaign, "segment": t.segment }),
        nothing_gets: &["NOT_FOUND", "NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "updateAutomation",
        covers: &["updateAutomation.input.id"],
        query: "mutation($id: ID!) { updateAutomation(input: { id: $id, enabled: false, trigger: LINK_CLICKED }) { automation { id enabled trigger segment { id } } userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.automation }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "updateAutomation",
        covers: &["updateAutomation.input.assignToSegment.id"],
        query: "mutation($id: ID!, $segment: ID!) { updateAutomation(input: { id: $id, assignToSegment: { id: $segment } }) { automation { id enabled trigger segment { id } } userErrors { field message code } } }",
        vars: |t, o| json!({ "id": o.automation, "segment": t.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "updateAutomation",
        covers: &[
            "updateAutomation.input.id",
            "updateAutomation.input.assignToSegment.id",
        ],
        query: "mutation($id: ID!, $segment: ID!) { updateAutomation(input: { id: $id, assignToSegment: { id: $segment } }) { automation { id enabled trigger segment { id } } userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.automation, "segment": t.segment }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "deleteAutomation",
        covers: &["deleteAutomation.input.id"],
        query: "mutation($id: ID!) { deleteAutomation(input: { id: $id }) { deletedAutomationId userErrors { field message code } } }",
        vars: |t, _| json!({ "id": t.automation }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "recordEngagement",
        covers: &["recordEngagement.input.campaignId"],
        query: "mutation($campaign: ID!, $influencer: ID!) { recordEngagement(input: { campaignId: $campaign, influencerId: $influencer, kind: EMAIL_REPLIED }) { event { id } assignedSegments { id } duplicate userErrors { field message code } } }",
        vars: |t, o| json!({ "campaign": t.campaign, "influencer": o.influencer }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "recordEngagement",
        covers: &["recordEngagement.input.influencerId"],
        query: "mutation($campaign: ID!, $influencer: ID!) { recordEngagement(input: { campaignId: $campaign, influencerId: $influencer, kind: EMAIL_REPLIED }) { event { id } assignedSegments { id } duplicate userErrors { field message code } } }",
        vars: |t, o| json!({ "campaign": o.campaign, "influencer": t.influencer }),
        nothing_gets: &["NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "recordEngagement",
        covers: &[
            "recordEngagement.input.campaignId",
            "recordEngagement.input.influencerId",
        ],
        // As B this would run B's automation and put the influencer in B's "Repliers".
        query: "mutation($campaign: ID!, $influencer: ID!) { recordEngagement(input: { campaignId: $campaign, influencerId: $influencer, kind: EMAIL_REPLIED }) { event { id } assignedSegments { id } duplicate userErrors { field message code } } }",
        vars: |t, _| json!({ "campaign": t.campaign, "influencer": t.influencer }),
        nothing_gets: &["NOT_FOUND", "NOT_FOUND"],
        adds: &[],
    },
    Attack {
        field: "recordEngagement",
        covers: &["recordEngagement.input.externalId"],
        // B has recorded this external id: for A it is new, not a repeat of B's event.
        query: "mutation($campaign: ID!, $influencer: ID!, $externalId: String!) { recordEngagement(input: { campaignId: $campaign, influencerId: $influencer, kind: LINK_CLICKED, externalId: $externalId }) { event { kind campaign { id } influencer { id } } assignedSegments { id } duplicate userErrors { field message code } } }",
        vars: |t, o| json!({ "campaign": o.campaign, "influencer": o.influencer, "externalId": t.external_id }),
        nothing_gets: &[],
        adds: &[("engagement_event", 1)],
    },
];

/// Whether an operation selects this root field (plainly or under an alias).
fn uses_field(query: &str, field: &str) -> bool {
    query.contains(&format!(" {field}(")) || query.contains(&format!("{{ {field} {{"))
}

fn label(field: &str, covers: &[&str]) -> String {
    format!("{field} [{}]", covers.join(", "))
}

fn user_error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("a payload with userErrors, got {payload}"))
        .iter()
        .map(|e| id_at(&e["code"]))
        .collect()
}

// ---- tests ----

#[tokio::test]
async fn another_workspaces_data_is_in_none_of_the_lists_or_counts() {
    let app = TestApp::spawn().await;
    let a = populate(&app, app.workspace, "Alpha").await;
    let a_alone = snapshot(&app, &a).await;
    assert_eq!(listed(&a_alone), listed_for(&a));

    let b_ws = new_workspace(&app, "B").await;
    let b = populate(&app, b_ws, "Bravo").await;
    assert_eq!(
        snapshot(&app, &a).await,
        a_alone,
        "A's view is the same whether or not B has data"
    );
    let b_view = snapshot(&app, &b).await;
    assert_eq!(listed(&b_view), listed_for(&b));

    populate(&app, app.workspace, "Charlie").await;
    assert_eq!(
        snapshot(&app, &b).await,
        b_view,
        "B's view is the same when A adds more"
    );
}

#[tokio::test]
async fn reads_with_another_workspaces_ids_cursors_and_names_answer_as_for_nothing() {
    let w = world().await;
    let (own, b_own) = (Own::of(&w.a), Own::of(&w.b));
    for probe in QUERY_PROBES {
        let what = label(probe.field, probe.covers);
        let for_nothing =
            exec_as(&w.app, w.a.ws, probe.query, (probe.vars)(&w.nothing, &own)).await;
        assert!(
            for_nothing.get("errors").is_none() && uses_field(probe.query, probe.field),
            "{what}: {for_nothing:#}"
        );
        let with_theirs = exec_as(&w.app, w.a.ws, probe.query, (probe.vars)(&w.theirs, &own)).await;
        assert_eq!(with_theirs, for_nothing, "{what}, as A with B's values");

        // Control: the values are live, B itself sees something else with them.
        let as_b = exec_as(&w.app, w.b.ws, probe.query, (probe.vars)(&w.theirs, &b_own)).await;
        assert!(as_b.get("errors").is_none(), "{what} as B: {as_b:#}");
        assert_ne!(as_b, for_nothing, "{what}: B's values name B's data for B");
    }
}

#[tokio::test]
async fn a_filter_argument_naming_another_workspaces_segments_or_campaigns_is_refused_as_for_nothing()
 {
    let w = world().await;
    const QUERY: &str = "query($filter: InfluencerFilter!) { influencers(filter: $filter) { totalCount nodes { id } } }";
    let for_nothing = exec_as(
        &w.app,
        w.a.ws,
        QUERY,
        json!({ "filter": filter_naming(&w.nothing) }),
    )
    .await;
    assert_eq!(for_nothing["data"], Value::Null, "{for_nothing:#}");
    let error = &for_nothing["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
    let problems = common::paths_and_codes(&error["extensions"]["problems"]);
    let expected: Vec<(String, String)> = FILTER_PATHS
        .iter()
        .enumerate()
        .map(|(index, path)| {
            let list = if path.contains('.') { "" } else { ".0" };
            (
                format!("filter.anyOf.{index}.{path}{list}"),
                "NOT_FOUND".to_owned(),
            )
        })
        .collect();
    assert_eq!(problems, expected);
    let with_theirs = exec_as(
        &w.app,
        w.a.ws,
        QUERY,
        json!({ "filter": filter_naming(&w.theirs) }),
    )
    .await;
    assert_eq!(
        with_theirs, for_nothing,
        "as A with B's segment and campaign"
    );

    // Control: B's own ids filter B's roster.
    let as_b = exec_as(
        &w.app,
        w.b.ws,
        QUERY,
        json!({ "filter": filter_naming(&w.theirs) }),
    )
    .await;
    assert!(as_b.get("errors").is_none(), "{as_b:#}");
    assert!(as_b["data"]["influencers"]["totalCount"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn writes_with_another_workspaces_ids_and_names_answer_as_for_nothing_and_leave_it_unchanged()
{
    let w = world().await;
    let own = Own::of(&w.a);
    let b_before = snapshot(&w.app, &w.b).await;
    let b_rows = rows_of(&w.app, w.b.ws).await;
    let mut a_rows = rows_of(&w.app, w.a.ws).await;
    let mut all = all_rows(&w.app).await;

    for attack in MUTATION_ATTACKS {
        let what = label(attack.field, attack.covers);
        let for_nothing = exec_as(
            &w.app,
            w.a.ws,
            attack.query,
            (attack.vars)(&w.nothing, &own),
        )
        .await;
        assert!(
            for_nothing.get("errors").is_none(),
            "{what}: {for_nothing:#}"
        );
        assert_eq!(
            user_error_codes(&for_nothing["data"][attack.field]),
            attack.nothing_gets,
            "{what}: values of nothing get {for_nothing:#}"
        );
        let with_theirs =
            exec_as(&w.app, w.a.ws, attack.query, (attack.vars)(&w.theirs, &own)).await;
        assert_eq!(with_theirs, for_nothing, "{what}, as A with B's values");
        assert_eq!(
            snapshot(&w.app, &w.b).await,
            b_before,
            "B's data after {what}"
        );
        assert_eq!(
            rows_of(&w.app, w.b.ws).await,
            b_rows,
            "B's rows after {what}"
        );
        for (table, n) in attack.adds {
            *a_rows.get_mut(table).unwrap() += 2 * n;
            *all.get_mut(table).unwrap() += 2 * n;
        }
        assert_eq!(
            rows_of(&w.app, w.a.ws).await,
            a_rows,
            "A's rows after {what}: only accepted inputs write"
        );
    }
    assert_eq!(all_rows(&w.app).await, all);
}

#[tokio::test]
async fn names_and_handles_are_unique_per_workspace_and_each_viewer_names_its_own() {
    let app = TestApp::spawn().await;
    let a = app.workspace;
    let b = new_workspace(&app, "B").await;
    let mut made = Vec::new();
    for ws in [a, b] {
        let segment = create_segment(&app, ws, "UGC Creators").await;
        let influencer = create_influencer(
            &app,
            ws,
            json!({ "handle": "same.handle", "platform": "TIKTOK" }),
        )
        .await;
        made.push((segment, influencer));
    }
    assert_ne!(made[0], made[1]);

    const OWN: &str = "{ viewer { workspace { id name } } segments(search: \"ugc\") { totalCount nodes { id name } } influencers(search: \"same\") { totalCount nodes { id handle platform } } }";
    const CLASH: &str = "mutation { createSegment(input: { name: \"ugc creators\" }) { segment { id } userErrors { field code } } createInfluencer(input: { handle: \"@SAME.handle\", platform: TIKTOK }) { influencer { id } userErrors { field code } } }";
    for (ws, name, (segment, influencer)) in [(a, "Default", &made[0]), (b, "B", &made[1])] {
        assert_eq!(
            data_as(&app, ws, OWN, json!({})).await,
            json!({
                "viewer": { "workspace": { "id": encode(Kind::Workspace, ws.0).0, "name": name } },
                "segments": { "totalCount": 1, "nodes": [{ "id": segment, "name": "UGC Creators" }] },
                "influencers": { "totalCount": 1, "nodes": [{ "id": influencer, "handle": "same.handle", "platform": "TIKTOK" }] },
            }),
            "{name}"
        );
        // Within one workspace the names still clash.
        assert_eq!(
            data_as(&app, ws, CLASH, json!({})).await,
            json!({
                "createSegment": { "segment": null, "userErrors": [{ "field": ["input", "name"], "code": "NAME_TAKEN" }] },
                "createInfluencer": { "influencer": null, "userErrors": [{ "field": ["input", "handle"], "code": "NAME_TAKEN" }] },
            }),
            "{name}"
        );
    }

    const NODE: &str =
        "query($id: ID!) { node(id: $id) { __typename id ... on Workspace { name } } }";
    let b_id = encode(Kind::Workspace, b.0).0;
    let as_a_with_bs = exec_as(&app, a, NODE, json!({ "id": b_id })).await;
    assert_eq!(
        as_a_with_bs,
        exec_as(
            &app,
            a,
            NODE,
            json!({ "id": id_of_nothing(Kind::Workspace) })
        )
        .await
    );
    assert_eq!(as_a_with_bs, json!({ "data": { "node": null } }));
    assert_eq!(
        data_as(&app, b, NODE, json!({ "id": b_id })).await,
        json!({ "node": { "__typename": "Workspace", "id": b_id, "name": "B" } })
    );
}

// ---- every field and every id-carrying argument has an entry ----

const INTROSPECTION: &str = "{ __schema {
  queryType { name fields { name } }
  mutationType { name fields { name } }
  types { kind name fields { name args { name type { ...Ref } } } inputFields { name type { ...Ref } } }
} }
fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// The named type under any NON_NULL and LIST wrappers.
fn named(ty: &Value) -> &Value {
    match ty["kind"].as_str() {
        Some("NON_NULL" | "LIST") => named(&ty["ofType"]),
        _ => ty,
    }
}

fn names(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| id_at(&f["name"]))
        .collect()
}

/// Every leaf path `prefix.field...` under an input type, and whether it carries an ID. A type
/// nested in itself (a filter's `anyOf`, `allOf`, `not`) is followed once: its fields below are
/// the same fields, read by the same code.
fn input_paths(
    types: &BTreeMap<String, Value>,
    ty: &Value,
    prefix: String,
    out: &mut BTreeMap<String, bool>,
) {
    input_paths_below(types, ty, prefix, &mut Vec::new(), out);
}

fn input_paths_below(
    types: &BTreeMap<String, Value>,
    ty: &Value,
    prefix: String,
    enclosing: &mut Vec<String>,
    out: &mut BTreeMap<String, bool>,
) {
    let ty = named(ty);
    if ty["kind"] == "INPUT_OBJECT" {
        let name = id_at(&ty["name"]);
        if enclosing.contains(&name) {
            return;
        }
        enclosing.push(name.clone());
        for field in types[&name]["inputFields"].as_array().unwrap() {
            let path = format!("{prefix}.{}", field["name"].as_str().unwrap());
            input_paths_below(types, &field["type"], path, enclosing, out);
        }
        enclosing.pop();
    } else {
        out.insert(prefix, ty["name"] == "ID");
    }
}

#[tokio::test]
async fn every_query_and_mutation_field_and_every_id_cursor_or_search_argument_has_an_isolation_check()
 {
    let app = TestApp::spawn().await;
    let schema = data_as(&app, app.workspace, INTROSPECTION, json!({})).await["__schema"].clone();
    let types: BTreeMap<String, Value> = schema["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (id_at(&t["name"]), t.clone()))
        .collect();

    // Root fields.
    let query_fields = names(&schema["queryType"]["fields"]);
    let mutation_fields = names(&schema["mutationType"]["fields"]);
    let probed: BTreeSet<String> = QUERY_PROBES.iter().map(|p| p.field.to_owned()).collect();
    let attacked: BTreeSet<String> = MUTATION_ATTACKS
        .iter()
        .map(|a| a.field.to_owned())
        .collect();
    let unprobed: Vec<&String> = query_fields.difference(&probed).collect();
    let unattacked: Vec<&String> = mutation_fields.difference(&attacked).collect();
    assert_eq!(
        unprobed,
        Vec::<&String>::new(),
        "Query fields with no entry in QUERY_PROBES"
    );
    assert_eq!(
        unattacked,
        Vec::<&String>::new(),
        "Mutation fields with no entry in MUTATION_ATTACKS"
    );
    assert_eq!(
        probed.difference(&query_fields).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "QUERY_PROBES entries for no Query field"
    );
    assert_eq!(
        attacked.difference(&mutation_fields).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "MUTATION_ATTACKS entries for no Mutation field"
    );

    // Arguments of output fields that take an id, a cursor or a search term.
    let mut arguments = BTreeMap::new();
    for ty in types.values() {
        let type_name = ty["name"].as_str().unwrap();
        if ty["kind"] != "OBJECT" || type_name.starts_with("__") {
            continue;
        }
        for field in ty["fields"].as_array().unwrap() {
            for arg in field["args"].as_array().unwrap() {
                let arg_name = arg["name"].as_str().unwrap();
                let path = format!("{type_name}.{}.{arg_name}", field["name"].as_str().unwrap());
                if named(&arg["type"])["kind"] == "INPUT_OBJECT" {
                    // An input argument (a filter): each of its fields that takes an id. The
                    // inputs of mutations are checked below, against MUTATION_ATTACKS.
                    if ty["name"] == schema["mutationType"]["name"] {
                        continue;
                    }
                    input_paths(&types, &arg["type"], path, &mut arguments);
                    continue;
                }
                let sensitive = named(&arg["type"])["name"] == "ID"
                    || ["after", "before", "search"].contains(&arg_name);
                arguments.insert(path, sensitive);
            }
        }
    }
    let covered: BTreeSet<&str> = QUERY_PROBES
        .iter()
        .flat_map(|p| p.covers.iter().copied())
        .chain(COVERED_BY_SUBSCRIPTION_TESTS.iter().copied())
        .chain(COVERED_BY_FILTER_TESTS.iter().copied())
        .chain(COVERED_BY_HISTORY_TESTS.iter().copied())
        .collect();
    let untried: Vec<&String> = arguments
        .iter()
        .filter(|(path, sensitive)| **sensitive && !covered.contains(path.as_str()))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(
        untried,
        Vec::<&String>::new(),
        "id, cursor and search arguments no QUERY_PROBES entry tries"
    );
    let stale: Vec<&&str> = covered
        .iter()
        .filter(|c| !arguments.contains_key(**c))
        .collect();
    assert_eq!(
        stale,
        Vec::<&&str>::new(),
        "QUERY_PROBES covers arguments that do not exist"
    );

    // Input fields of mutations that carry an id.
    let mut inputs = BTreeMap::new();
    let mutation_type = &types[schema["mutationType"]["name"].as_str().unwrap()];
    for field in mutation_type["fields"].as_array().unwrap() {
        for arg in field["args"].as_array().unwrap() {
            let prefix = format!(
                "{}.{}",
                field["name"].as_str().unwrap(),
                arg["name"].as_str().unwrap()
            );
            input_paths(&types, &arg["type"], prefix, &mut inputs);
        }
    }
    let covered: BTreeSet<&str> = MUTATION_ATTACKS
        .iter()
        .flat_map(|a| a.covers.iter().copied())
        .collect();
    let untried: Vec<&String> = inputs
        .iter()
        .filter(|(path, carries_id)| **carries_id && !covered.contains(path.as_str()))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(
        untried,
        Vec::<&String>::new(),
        "id-carrying input fields no MUTATION_ATTACKS entry tries"
    );
    let stale: Vec<&&str> = covered
        .iter()
        .filter(|c| !inputs.contains_key(**c))
        .collect();
    assert_eq!(
        stale,
        Vec::<&&str>::new(),
        "MUTATION_ATTACKS covers input fields that do not exist"
    );
}
