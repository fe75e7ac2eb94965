//! Writes racing the deletion of what they refer to, through the real HTTP stack with real
//! parallel requests: each write either succeeds (it committed before the delete) or reports
//! NOT_FOUND (the delete committed first), never a fault; no automation is left enabled without a
//! segment; and subscribers hear the end of every membership, whichever write ended it.
//!
//! On PostgreSQL these are true races (row locks decide them). SQLite runs one writer at a time,
//! so there the same rounds check that the outcomes and the events are right in every order the
//! writes happen to commit in.

mod common;

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use common::{TestApp, ws::WsClient};
use pretty_assertions::assert_eq;
use sea_orm::{ConnectionTrait, Statement};
use segments_api::graphql::schema::ids::{Kind, encode};
use serde_json::{Value, json};
use tokio::sync::Barrier;

/// Rounds per race; enough for the defects to show on PostgreSQL in every run.
const ROUNDS: usize = 24;

/// Writes sent together with each delete.
const WRITERS: usize = 12;

const ASSIGN: &str = "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg } }) { segment { id } userErrors { code } } }";
const REMOVE: &str = "mutation($ids: [ID!]!, $seg: ID!) { removeFromSegment(input: { influencerIds: $ids, segmentId: $seg }) { userErrors { code } } }";
const DELETE_SEGMENT: &str = "mutation($id: ID!) { deleteSegment(input: { id: $id }) { deletedSegmentId userErrors { code } } }";
const DELETE_INFLUENCER: &str = "mutation($id: ID!) { deleteInfluencer(input: { id: $id }) { deletedInfluencerId userErrors { code } } }";
const DELETE_CAMPAIGN: &str = "mutation($id: ID!) { deleteCampaign(input: { id: $id }) { deletedCampaignId userErrors { code } } }";
const DELETE_AUTOMATION: &str = "mutation($id: ID!) { deleteAutomation(input: { id: $id }) { deletedAutomationId userErrors { code } } }";
const RECORD: &str = "mutation($c: ID!, $i: ID!) { recordEngagement(input: { campaignId: $c, influencerId: $i, kind: EMAIL_REPLIED }) { event { id } userErrors { code } } }";
const ADD_AUTOMATION: &str = "mutation($c: ID!, $s: ID!) { addAutomation(input: { campaignId: $c, trigger: EMAIL_REPLIED, assignToSegment: { id: $s } }) { automation { id } userErrors { code } } }";
const RETARGET_AUTOMATION: &str = "mutation($id: ID!, $s: ID!) { updateAutomation(input: { id: $id, enabled: true, assignToSegment: { id: $s } }) { automation { id } userErrors { code } } }";
const UPDATE_AUTOMATION: &str = "mutation($id: ID!, $t: EngagementKind!) { updateAutomation(input: { id: $id, trigger: $t }) { automation { id } userErrors { code } } }";
const UPDATE_INFLUENCER: &str = "mutation($id: ID!, $n: Int!) { updateInfluencer(input: { id: $id, followerCount: $n }) { influencer { id } userErrors { code } } }";
const UPDATE_SEGMENT: &str = "mutation($id: ID!, $d: String!) { updateSegment(input: { id: $id, description: $d }) { segment { id } userErrors { code } } }";
const UPDATE_CAMPAIGN: &str = "mutation($id: ID!, $n: String!) { updateCampaign(input: { id: $id, name: $n }) { campaign { id } userErrors { code } } }";
const UPDATE_AUDIENCE: &str = "mutation($id: ID!, $s: [ID!]!) { updateCampaign(input: { id: $id, audienceSegmentIds: $s }) { campaign { id } userErrors { code } } }";
const CREATE_CAMPAIGN: &str = "mutation($n: String!, $s: [ID!]!) { createCampaign(input: { name: $n, audienceSegmentIds: $s }) { campaign { id } userErrors { code } } }";

const CHANGES: &str = "subscription { segmentMembershipChanged { change influencerId segmentId } }";

/// The application served over HTTP on a local port.
struct Server {
    app: TestApp,
    addr: String,
    key: String,
    client: reqwest::Client,
}

impl Server {
    async fn start() -> Arc<Self> {
        let app = TestApp::spawn().await;
        let addr = app
            .serve(&segments_api::config::HttpConfig::default())
            .await;
        let key = app.api_key().await;
        let client = TestApp::client_with_key(&key);
        Arc::new(Self {
            app,
            addr,
            key,
            client,
        })
    }

    /// Runs an operation over HTTP; returns the whole response body.
    async fn post(&self, query: &str, variables: Value) -> Value {
        self.client
            .post(format!("http://{}/graphql", self.addr))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /graphql")
            .json()
            .await
            .expect("a JSON body")
    }

    /// Runs a mutation that must succeed; returns the id at `data.<mutation>.<object>.id`.
    async fn create(&self, query: &str, variables: Value, mutation: &str, object: &str) -> String {
        let body = self.post(query, variables).await;
        let payload = &body["data"][mutation];
        assert_eq!(payload["userErrors"], json!([]), "{body}");
        payload[object]["id"].as_str().expect("an id").to_owned()
    }

    async fn segment(&self, name: &str) -> String {
        self.create(
            "mutation($n: String!) { createSegment(input: { name: $n }) { segment { id } userErrors { code } } }",
            json!({ "n": name }),
            "createSegment",
            "segment",
        )
        .await
    }

    async fn influencer(&self, handle: &str) -> String {
        self.create(
            "mutation($h: String!) { createInfluencer(input: { handle: $h, platform: INSTAGRAM }) { influencer { id } userErrors { code } } }",
            json!({ "h": handle }),
            "createInfluencer",
            "influencer",
        )
        .await
    }

    async fn campaign(&self, name: &str) -> String {
        self.create(
            CREATE_CAMPAIGN,
            json!({ "n": name, "s": [] }),
            "createCampaign",
            "campaign",
        )
        .await
    }

    async fn automation(&self, campaign: &str, segment: &str) -> String {
        self.create(
            ADD_AUTOMATION,
            json!({ "c": campaign, "s": segment }),
            "addAutomation",
            "automation",
        )
        .await
    }

    /// A subscriber to every membership change of the workspace, live once this returns.
    async fn subscriber(&self) -> WsClient {
        let mut ws = WsClient::connect(&self.addr, &self.key).await;
        ws.subscribe("changes", CHANGES, json!({})).await;
        ws.sync().await;
        ws
    }

    async fn scalar(&self, sql: &str) -> i64 {
        let db = &self.app.db;
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }

    /// Asserts that `SELECT COUNT(*) <rows>` is 0: no row refers to something deleted.
    async fn assert_no_rows(&self, rows: &str) {
        let n = self.scalar(&format!("SELECT COUNT(*) AS n {rows}")).await;
        assert_eq!(n, 0, "rows left referring to something deleted: {rows}");
    }
}

/// One mutation to send in a race.
struct Write {
    mutation: &'static str,
    query: &'static str,
    variables: Value,
}

fn write(mutation: &'static str, query: &'static str, variables: Value) -> Write {
    Write {
        mutation,
        query,
        variables,
    }
}

/// How a write that raced a delete ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Outcome {
    Done,
    NotFound,
}

/// The outcome of a response, which must be a success or only NOT_FOUND user errors: never a
/// top-level error (INTERNAL_SERVER_ERROR and the like) nor another kind of user error.
fn outcome(mutation: &str, body: &Value) -> Outcome {
    assert!(
        body.get("errors").is_none(),
        "{mutation} failed instead of succeeding or reporting NOT_FOUND: {body}"
    );
    let errors = body["data"][mutation]["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("{mutation}: no userErrors in {body}"));
    if errors.is_empty() {
        Outcome::Done
    } else {
        assert!(
            errors.iter().all(|e| e["code"] == "NOT_FOUND"),
            "{mutation}: unexpected user errors {body}"
        );
        Outcome::NotFound
    }
}

/// Sends `writes` and `delete` at the same moment, each on its own task; the delete, which
/// names an object that exists, must succeed. Returns the tally of the writes' outcomes.
async fn race(server: &Arc<Server>, writes: Vec<Write>, delete: Write) -> HashMap<Outcome, usize> {
    let mut tally = HashMap::new();
    for outcome in race_each(server, writes, delete).await {
        *tally.entry(outcome).or_default() += 1;
    }
    tally
}

/// As [`race`], returning each write's outcome, in the order of `writes`.
async fn race_each(server: &Arc<Server>, writes: Vec<Write>, delete: Write) -> Vec<Outcome> {
    let middle = writes.len() / 2;
    let mut all: Vec<Write> = writes;
    all.insert(middle, delete);
    let start = Arc::new(Barrier::new(all.len()));
    let tasks: Vec<_> = all
        .into_iter()
        .map(|w| {
            let (server, start) = (server.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let body = server.post(w.query, w.variables).await;
                (w.mutation, outcome(w.mutation, &body))
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for (index, task) in tasks.into_iter().enumerate() {
        let (mutation, result) = task.await.expect("a request task");
        if index == middle {
            assert_eq!(result, Outcome::Done, "the {mutation} itself");
        } else {
            outcomes.push(result);
        }
    }
    outcomes
}

/// Every fourth write of a round is a removal, the others assignments.
fn is_removal(i: usize) -> bool {
    i % 4 == 3
}

/// The `i`th write of a round on `segment`: a removal of `ids` or an assignment of them.
fn assign_or_remove(i: usize, ids: Value, segment: &str) -> Write {
    let variables = json!({ "ids": ids, "seg": segment });
    if is_removal(i) {
        write("removeFromSegment", REMOVE, variables)
    } else {
        write("assignToSegment", ASSIGN, variables)
    }
}

fn add(total: &mut HashMap<Outcome, usize>, round: HashMap<Outcome, usize>) {
    for (outcome, n) in round {
        *total.entry(outcome).or_default() += n;
    }
}

/// Reads the subscriber's events up to a marker change made last, and checks that the last event
/// of every (segment, influencer) pair says what the database holds: ADDED for a membership that
/// exists, REMOVED for one that does not; and every existing membership was announced. Returns
/// every event read, as (segment, influencer, change).
async fn assert_last_words_match_the_database(
    server: &Server,
    ws: &mut WsClient,
) -> HashSet<(String, String, String)> {
    // Events arrive in commit order, so once the marker's arrives every earlier one has.
    let marker_segment = server.segment("marker").await;
    let marker_influencer = server.influencer("marker").await;
    let body = server
        .post(
            ASSIGN,
            json!({ "ids": [marker_influencer], "seg": marker_segment }),
        )
        .await;
    assert_eq!(outcome("assignToSegment", &body), Outcome::Done);
    let mut last: HashMap<(String, String), String> = HashMap::new();
    let mut seen = HashSet::new();
    loop {
        let message = ws
            .next_message(Duration::from_secs(15))
            .await
            .expect("the marker's event");
        assert_eq!(message["type"], "next", "{message}");
        let change = &message["payload"]["data"]["segmentMembershipChanged"];
        let pair = (
            change["segmentId"].as_str().unwrap().to_owned(),
            change["influencerId"].as_str().unwrap().to_owned(),
        );
        let marker = pair == (marker_segment.clone(), marker_influencer.clone());
        let kind = change["change"].as_str().unwrap().to_owned();
        seen.insert((pair.0.clone(), pair.1.clone(), kind.clone()));
        last.insert(pair, kind);
        if marker {
            break;
        }
    }
    let db = &server.app.db;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT segment_id, influencer_id FROM segment_membership".to_owned(),
        ))
        .await
        .unwrap();
    let members: HashSet<(String, String)> = rows
        .iter()
        .map(|row| {
            let segment: i64 = row.try_get("", "segment_id").unwrap();
            let influencer: i64 = row.try_get("", "influencer_id").unwrap();
            (
                encode(Kind::Segment, segment).0,
                encode(Kind::Influencer, influencer).0,
            )
        })
        .collect();
    for member in &members {
        assert_eq!(
            last.get(member).map(String::as_str),
            Some("ADDED"),
            "membership {member:?} exists"
        );
    }
    let wrong: Vec<_> = last
        .iter()
        .filter(|(pair, change)| !members.contains(*pair) && change.as_str() != "REMOVED")
        .collect();
    assert!(
        wrong.is_empty(),
        "memberships that no longer exist, whose last event is not REMOVED: {wrong:?}"
    );
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn assignments_and_removals_racing_segment_deletion_succeed_or_find_nothing_and_every_end_is_announced()
 {
    let server = Server::start().await;
    let mut ws = server.subscriber().await;
    let mut influencers = Vec::new();
    for i in 0..WRITERS {
        influencers.push(server.influencer(&format!("a{i}")).await);
    }
    let mut total = HashMap::new();
    for round in 0..ROUNDS {
        let segment = server.segment(&format!("s{round}")).await;
        let writes = (0..WRITERS)
            .map(|i| {
                let ids = json!([&influencers[i], &influencers[(i + 1) % WRITERS]]);
                assign_or_remove(i, ids, &segment)
            })
            .collect();
        let delete = write("deleteSegment", DELETE_SEGMENT, json!({ "id": segment }));
        add(&mut total, race(&server, writes, delete).await);
    }
    eprintln!("outcomes: {total:?}");
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) AS n FROM segment_membership")
            .await,
        0,
        "every raced segment is gone, with its memberships"
    );
    assert_last_words_match_the_database(&server, &mut ws).await;
}

/// An assignment names an influencer being deleted: to segments it is already in (whose members
/// the assignment reads without locking) and to segments it is not in (whose newcomers it locks).
/// One that succeeds where the influencer was not a member committed before the delete, so its
/// ADDED event was sent, and the delete's REMOVED after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn assignments_and_removals_racing_deletion_of_their_influencer_succeed_or_find_nothing() {
    let server = Server::start().await;
    let mut ws = server.subscriber().await;
    let stable = server.influencer("stable").await;
    let mut segments = Vec::new();
    for i in 0..WRITERS {
        segments.push(server.segment(&format!("s{i}")).await);
    }
    let mut total: HashMap<Outcome, usize> = HashMap::new();
    let mut made = Vec::new();
    for round in 0..ROUNDS {
        let doomed = server.influencer(&format!("d{round}")).await;
        for segment in segments.iter().step_by(2) {
            let body = server
                .post(ASSIGN, json!({ "ids": [doomed], "seg": segment }))
                .await;
            assert_eq!(outcome("assignToSegment", &body), Outcome::Done);
        }
        let writes = segments
            .iter()
            .enumerate()
            .map(|(i, segment)| assign_or_remove(i, json!([stable, doomed]), segment))
            .collect();
        let delete = write(
            "deleteInfluencer",
            DELETE_INFLUENCER,
            json!({ "id": doomed }),
        );
        for (i, outcome) in race_each(&server, writes, delete)
            .await
            .into_iter()
            .enumerate()
        {
            *total.entry(outcome).or_default() += 1;
            // The odd segments are those the doomed influencer was not in before the race.
            if outcome == Outcome::Done && i % 2 == 1 && !is_removal(i) {
                made.push((segments[i].clone(), doomed.clone()));
            }
        }
    }
    eprintln!("outcomes: {total:?}");
    server
        .assert_no_rows(
            "FROM segment_membership m WHERE NOT EXISTS \
                 (SELECT 1 FROM influencer i WHERE i.id = m.influencer_id)",
        )
        .await;
    let seen = assert_last_words_match_the_database(&server, &mut ws).await;
    let unannounced: Vec<_> = made
        .iter()
        .filter(|(segment, influencer)| {
            !seen.contains(&(segment.clone(), influencer.clone(), "ADDED".to_owned()))
        })
        .collect();
    assert!(
        unannounced.is_empty(),
        "assignments that succeeded for a newcomer without making it a member: {unannounced:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn engagements_racing_deletion_of_their_influencer_or_campaign_succeed_or_find_nothing() {
    let server = Server::start().await;
    let mut ws = server.subscriber().await;
    let target = server.segment("Replied").await;
    let campaign = server.campaign("Launch").await;
    server.automation(&campaign, &target).await;
    let mut total = HashMap::new();
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            // Every write names the influencer being deleted.
            let influencer = server.influencer(&format!("e{round}")).await;
            let writes = (0..WRITERS)
                .map(|_| {
                    write(
                        "recordEngagement",
                        RECORD,
                        json!({ "c": campaign, "i": influencer }),
                    )
                })
                .collect();
            let delete = write(
                "deleteInfluencer",
                DELETE_INFLUENCER,
                json!({ "id": influencer }),
            );
            add(&mut total, race(&server, writes, delete).await);
        } else {
            // Every write names the campaign being deleted, whose automation assigns.
            let doomed = server.campaign(&format!("c{round}")).await;
            let segment = server.segment(&format!("s{round}")).await;
            server.automation(&doomed, &segment).await;
            let mut writes = Vec::new();
            for i in 0..WRITERS {
                let influencer = server.influencer(&format!("e{round}x{i}")).await;
                writes.push(write(
                    "recordEngagement",
                    RECORD,
                    json!({ "c": doomed, "i": influencer }),
                ));
            }
            let delete = write("deleteCampaign", DELETE_CAMPAIGN, json!({ "id": doomed }));
            add(&mut total, race(&server, writes, delete).await);
        }
    }
    eprintln!("outcomes: {total:?}");
    server
        .assert_no_rows(
            "FROM engagement_event e WHERE NOT EXISTS \
                 (SELECT 1 FROM influencer i WHERE i.id = e.influencer_id) \
                 OR NOT EXISTS (SELECT 1 FROM campaign c WHERE c.id = e.campaign_id)",
        )
        .await;
    assert_last_words_match_the_database(&server, &mut ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn automations_aimed_at_a_segment_being_deleted_end_up_disabled_or_not_made() {
    let server = Server::start().await;
    let campaign = server.campaign("Launch").await;
    let spare = server.segment("Spare").await;
    let mut retargeted = Vec::new();
    for _ in 0..WRITERS / 3 {
        retargeted.push(server.automation(&campaign, &spare).await);
    }
    let mut total = HashMap::new();
    for round in 0..ROUNDS {
        if round % 3 != 2 {
            // New automations, and existing ones enabled and moved, aimed at the doomed segment.
            let segment = server.segment(&format!("s{round}")).await;
            let mut writes = Vec::new();
            for automation in &retargeted {
                writes.push(write(
                    "updateAutomation",
                    RETARGET_AUTOMATION,
                    json!({ "id": automation, "s": segment }),
                ));
            }
            while writes.len() < WRITERS {
                writes.push(write(
                    "addAutomation",
                    ADD_AUTOMATION,
                    json!({ "c": campaign, "s": segment }),
                ));
            }
            let delete = write("deleteSegment", DELETE_SEGMENT, json!({ "id": segment }));
            add(&mut total, race(&server, writes, delete).await);
        } else {
            // New automations of the doomed campaign.
            let doomed = server.campaign(&format!("c{round}")).await;
            let writes = (0..WRITERS)
                .map(|_| {
                    write(
                        "addAutomation",
                        ADD_AUTOMATION,
                        json!({ "c": doomed, "s": spare }),
                    )
                })
                .collect();
            let delete = write("deleteCampaign", DELETE_CAMPAIGN, json!({ "id": doomed }));
            add(&mut total, race(&server, writes, delete).await);
        }
        assert_eq!(
            server
                .scalar("SELECT COUNT(*) AS n FROM automation WHERE enabled AND segment_id IS NULL")
                .await,
            0,
            "enabled automations without a segment after round {round}"
        );
    }
    eprintln!("outcomes: {total:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn updates_racing_deletion_of_what_they_change_succeed_or_find_nothing() {
    let server = Server::start().await;
    let campaign = server.campaign("Launch").await;
    let mut total = HashMap::new();
    for round in 0..ROUNDS {
        let (writes, delete): (Vec<Write>, Write) = match round % 5 {
            0 => {
                let id = server.influencer(&format!("u{round}")).await;
                let writes = (0..WRITERS)
                    .map(|i| {
                        write(
                            "updateInfluencer",
                            UPDATE_INFLUENCER,
                            json!({ "id": id, "n": i }),
                        )
                    })
                    .collect();
                (
                    writes,
                    write("deleteInfluencer", DELETE_INFLUENCER, json!({ "id": id })),
                )
            }
            1 => {
                let id = server.segment(&format!("s{round}")).await;
                let writes = (0..WRITERS)
                    .map(|i| {
                        write(
                            "updateSegment",
                            UPDATE_SEGMENT,
                            json!({ "id": id, "d": format!("d{i}") }),
                        )
                    })
                    .collect();
                (
                    writes,
                    write("deleteSegment", DELETE_SEGMENT, json!({ "id": id })),
                )
            }
            2 => {
                let id = server.campaign(&format!("c{round}")).await;
                let writes = (0..WRITERS)
                    .map(|i| {
                        write(
                            "updateCampaign",
                            UPDATE_CAMPAIGN,
                            json!({ "id": id, "n": format!("n{i}") }),
                        )
                    })
                    .collect();
                (
                    writes,
                    write("deleteCampaign", DELETE_CAMPAIGN, json!({ "id": id })),
                )
            }
            3 => {
                let segment = server.segment(&format!("s{round}")).await;
                let id = server.automation(&campaign, &segment).await;
                let writes = (0..WRITERS)
                    .map(|i| {
                        let trigger = ["EMAIL_OPENED", "LINK_CLICKED"][i % 2];
                        write(
                            "updateAutomation",
                            UPDATE_AUTOMATION,
                            json!({ "id": id, "t": trigger }),
                        )
                    })
                    .collect();
                (
                    writes,
                    write("deleteAutomation", DELETE_AUTOMATION, json!({ "id": id })),
                )
            }
            _ => {
                // Audiences naming the segment being deleted, new and replaced.
                let segment = server.segment(&format!("s{round}")).await;
                let writes = (0..WRITERS)
                    .map(|i| {
                        if i % 2 == 0 {
                            write(
                                "createCampaign",
                                CREATE_CAMPAIGN,
                                json!({ "n": format!("a{round}x{i}"), "s": [segment] }),
                            )
                        } else {
                            write(
                                "updateCampaign",
                                UPDATE_AUDIENCE,
                                json!({ "id": campaign, "s": [segment] }),
                            )
                        }
                    })
                    .collect();
                (
                    writes,
                    write("deleteSegment", DELETE_SEGMENT, json!({ "id": segment })),
                )
            }
        };
        add(&mut total, race(&server, writes, delete).await);
    }
    eprintln!("outcomes: {total:?}");
    server
        .assert_no_rows(
            "FROM campaign_audience a WHERE NOT EXISTS \
                 (SELECT 1 FROM segment s WHERE s.id = a.segment_id)",
        )
        .await;
}

/// Inserts an automation row directly, bypassing the service's rules.
async fn insert_automation(
    db: &sea_orm::DatabaseConnection,
    campaign: i64,
    enabled: bool,
    segment: Option<i64>,
) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
    let segment = segment.map_or("NULL".to_owned(), |s| s.to_string());
    let enabled = if enabled { "TRUE" } else { "FALSE" };
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "INSERT INTO automation (workspace_id, campaign_id, \"trigger\", action, segment_id, \
             enabled, created_at) SELECT workspace_id, id, 'EMAIL_REPLIED', 'ASSIGN_TO_SEGMENT', \
             {segment}, {enabled}, CURRENT_TIMESTAMP FROM campaign WHERE id = {campaign}"
        ),
    ))
    .await
}

#[tokio::test]
async fn the_database_refuses_an_enabled_automation_without_a_segment() {
    let server = Server::start().await;
    let campaign = server.campaign("Launch").await;
    let segment = server.segment("Target").await;
    let (_, campaign_id) = segments_api::graphql::schema::ids::parse(&campaign).unwrap();
    let (_, segment_id) = segments_api::graphql::schema::ids::parse(&segment).unwrap();
    let db = &server.app.db;

    assert!(
        insert_automation(db, campaign_id, true, None)
            .await
            .is_err()
    );
    insert_automation(db, campaign_id, false, None)
        .await
        .unwrap();
    insert_automation(db, campaign_id, true, Some(segment_id))
        .await
        .unwrap();
    let enable = "UPDATE automation SET enabled = TRUE WHERE segment_id IS NULL";
    let clear = "UPDATE automation SET segment_id = NULL WHERE enabled";
    for sql in [enable, clear] {
        let result = db
            .execute_raw(Statement::from_string(
                db.get_database_backend(),
                sql.to_owned(),
            ))
            .await;
        assert!(result.is_err(), "{sql} was allowed");
    }
    // Deleting the segment disables the automation that aimed at it.
    common::delete_segment(&server.app, &segment).await;
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) AS n FROM automation WHERE enabled")
            .await,
        0
    );
}

#[tokio::test]
async fn migrating_disables_automations_left_enabled_without_a_segment() {
    use migration::{Migrator, MigratorTrait};
    let (url, _dir) = common::fresh_database_url().await;
    let db = common::one_connection(&url).await;
    // The schema as it was before the constraint.
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name().starts_with("m20261201_000001"))
        .expect("the constraint's migration is registered");
    Migrator::up(&db, Some(before as u32)).await.unwrap();
    let backend = db.get_database_backend();
    let run = |sql: &str| db.execute_raw(Statement::from_string(backend, sql.to_owned()));
    run(
        "INSERT INTO campaign (workspace_id, name, status, created_at) \
         SELECT id, 'Launch', 'DRAFT', CURRENT_TIMESTAMP FROM workspace",
    )
    .await
    .unwrap();
    run(
        "INSERT INTO segment (workspace_id, name, name_key, created_at) \
         SELECT id, 'Target', 'target', CURRENT_TIMESTAMP FROM workspace",
    )
    .await
    .unwrap();
    let campaign: i64 = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT id AS n FROM campaign".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    let segment: i64 = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT id AS n FROM segment".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    insert_automation(&db, campaign, true, None).await.unwrap();
    insert_automation(&db, campaign, true, Some(segment))
        .await
        .unwrap();
    insert_automation(&db, campaign, false, None).await.unwrap();

    Migrator::up(&db, None).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT enabled, segment_id FROM automation ORDER BY id".to_owned(),
        ))
        .await
        .unwrap();
    let state: Vec<(bool, Option<i64>)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "enabled").unwrap(),
                r.try_get("", "segment_id").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        state,
        vec![(false, None), (true, Some(segment)), (false, None)]
    );
    // The rule holds from now on, and the migration can be undone and redone.
    assert!(insert_automation(&db, campaign, true, None).await.is_err());
    Migrator::down(&db, Some((Migrator::migrations().len() - before) as u32))
        .await
        .unwrap();
    insert_automation(&db, campaign, true, None).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(
        db.query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM automation WHERE enabled AND segment_id IS NULL".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap(),
        0
    );
}
