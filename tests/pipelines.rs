//! Segment groups (folders and pipelines), atomic moves and membership sets, and the automation
//! actions that move and remove: an influencer is in at most one stage of a pipeline whatever
//! route puts them in one, every change is in the history, and bad input writes nothing.
mod common;

use std::collections::BTreeSet;

use common::TestApp;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const CREATE_GROUP: &str = "mutation($name: String!, $exclusive: Boolean!, $ids: [ID!]) { createSegmentGroup(input: { name: $name, exclusive: $exclusive, segmentIds: $ids }) { group { id name exclusive segments { name } } userErrors { field message code } } }";
const MOVE: &str = "mutation($ids: [ID!]!, $from: ID, $to: SegmentRef!) { moveToSegment(input: { influencerIds: $ids, from: $from, to: $to }) { segment { name } movedCount userErrors { field message code } } }";
const UPDATE: &str = "mutation($input: UpdateMembershipsInput!) { updateMemberships(input: $input) { addedCount removedCount userErrors { field message code } } }";

/// `(field, code)` of each user error of a payload.
fn problems(payload: &Value) -> Vec<(String, String)> {
    common::paths_and_codes(&payload["userErrors"])
}

async fn group(app: &TestApp, name: &str, exclusive: bool, ids: &[&str]) -> Value {
    app.data(
        CREATE_GROUP,
        json!({ "name": name, "exclusive": exclusive, "ids": ids }),
    )
    .await["createSegmentGroup"]
        .clone()
}

/// The names of the segments `influencer` is in, sorted.
async fn segments_of(app: &TestApp, influencer: &str) -> Vec<String> {
    let data = app
        .data(
            "query($i: ID!) { influencer(id: $i) { segments { name } } }",
            json!({ "i": influencer }),
        )
        .await;
    let mut names: Vec<String> = data["influencer"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// `change segmentName actor` of an influencer's history, oldest first.
async fn history_of(app: &TestApp, influencer: &str) -> Vec<String> {
    let data = app
        .data(
            "query($i: ID!) { influencer(id: $i) { history(first: 100) { nodes { change segmentName actor { kind } } } } }",
            json!({ "i": influencer }),
        )
        .await;
    data["influencer"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["change"].as_str().unwrap(),
                c["segmentName"].as_str().unwrap(),
                c["actor"]["kind"].as_str().unwrap()
            )
        })
        .collect()
}

/// A pipeline "Outreach" with stages Prospect, Contacted, Negotiating (in that order).
async fn pipeline(app: &TestApp) -> (String, [String; 3]) {
    let stages = [
        app.create_segment("Prospect").await,
        app.create_segment("Contacted").await,
        app.create_segment("Negotiating").await,
    ];
    let made = group(
        app,
        "Outreach",
        true,
        &stages.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(made["userErrors"], json!([]));
    (made["group"]["id"].as_str().unwrap().to_owned(), stages)
}

#[tokio::test]
async fn groups_hold_segments_in_order_and_deleting_one_keeps_them() {
    let app = TestApp::spawn().await;
    let (outreach, stages) = pipeline(&app).await;
    let loose = app.create_segment("Loose").await;
    let folder = group(&app, "Niches", false, &[]).await;
    let folder_id = folder["group"]["id"].clone();

    let data = app
        .data(
            "query($g: ID!) { segmentGroup(id: $g) { name exclusive segments { name group { name } } } segmentGroups { totalCount nodes { name } } grouped: segments(groupId: $g) { totalCount } ungrouped: segments(ungrouped: true) { nodes { name group { id } } } }",
            json!({ "g": outreach }),
        )
        .await;
    assert_eq!(
        data["segmentGroup"],
        json!({ "name": "Outreach", "exclusive": true, "segments": [
            { "name": "Prospect", "group": { "name": "Outreach" } },
            { "name": "Contacted", "group": { "name": "Outreach" } },
            { "name": "Negotiating", "group": { "name": "Outreach" } },
        ] })
    );
    assert_eq!(data["segmentGroups"]["totalCount"], 2);
    assert_eq!(data["grouped"]["totalCount"], 3);
    assert_eq!(
        data["ungrouped"]["nodes"],
        json!([{ "name": "Loose", "group": null }])
    );

    // Reordered, and one stage taken out; the folder takes the loose segment.
    let updated = app
        .data(
            "mutation($g: ID!, $ids: [ID!]) { updateSegmentGroup(input: { id: $g, name: \"Deals\", segmentIds: $ids }) { group { name segments { name } } userErrors { code } } }",
            json!({ "g": outreach, "ids": [stages[2], stages[0]] }),
        )
        .await;
    assert_eq!(
        updated["updateSegmentGroup"],
        json!({ "group": { "name": "Deals", "segments": [{ "name": "Negotiating" }, { "name": "Prospect" }] }, "userErrors": [] })
    );
    let filed = app
        .data(
            "mutation($g: ID!, $ids: [ID!]) { updateSegmentGroup(input: { id: $g, segmentIds: $ids }) { group { segments { name } } userErrors { code } } }",
            json!({ "g": folder_id, "ids": [loose, stages[1]] }),
        )
        .await;
    assert_eq!(filed["updateSegmentGroup"]["userErrors"], json!([]));

    // Deleting the pipeline keeps its segments, ungrouped.
    let deleted = app
        .data(
            "mutation($g: ID!) { deleteSegmentGroup(input: { id: $g }) { deletedGroupId userErrors { code } } }",
            json!({ "g": outreach }),
        )
        .await;
    assert_eq!(
        deleted["deleteSegmentGroup"]["deletedGroupId"],
        json!(outreach)
    );
    let after = app
        .data(
            "{ segments(ungrouped: true) { nodes { name } } segmentGroups { nodes { name segments { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        after,
        json!({
            "segments": { "nodes": [{ "name": "Prospect" }, { "name": "Negotiating" }] },
            "segmentGroups": { "nodes": [{ "name": "Niches", "segments": [{ "name": "Loose" }, { "name": "Contacted" }] }] },
        })
    );
    // Deleting a segment takes it out of its group.
    common::delete_segment(&app, &loose).await;
    let folder = app
        .data(
            "query($g: ID!) { segmentGroup(id: $g) { segments { name } } }",
            json!({ "g": folder_id }),
        )
        .await;
    assert_eq!(
        folder["segmentGroup"]["segments"],
        json!([{ "name": "Contacted" }])
    );
}

#[tokio::test]
async fn a_group_refuses_what_it_cannot_hold_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (_, stages) = pipeline(&app).await;
    let free = app.create_segment("Free").await;
    let other = app.create_segment("Other").await;
    let both = app.create_influencers("b", 2).await;
    app.assign(&both, &free).await;
    app.assign(&both[..1], &other).await;
    let ruled = app
        .data(
            "mutation { createSegment(input: { name: \"Ruled\", rule: { platformIn: [TIKTOK] } }) { segment { id } } }",
            json!({}),
        )
        .await["createSegment"]["segment"]["id"]
        .clone();
    let unknown = common::unknown_id(segments_api::graphql::schema::ids::Kind::Segment);
    let groups_before = app.count_rows("segment_group").await;

    // (name, exclusive, segment ids, expected user errors)
    type Case<'a> = (&'a str, bool, Vec<Value>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        // A stage of another group.
        (
            "Taken",
            false,
            vec![json!(stages[0])],
            vec![("input.segmentIds.0", "INVALID")],
        ),
        (
            "Twice",
            false,
            vec![json!(free), json!(free)],
            vec![("input.segmentIds.1", "INVALID")],
        ),
        (
            "Ghost",
            false,
            vec![json!(free), json!(unknown)],
            vec![("input.segmentIds.1", "NOT_FOUND")],
        ),
        (
            "Ruled",
            true,
            vec![ruled.clone()],
            vec![("input.segmentIds.0", "INVALID")],
        ),
        // Free and Other share an influencer: they cannot be stages of one pipeline.
        (
            "Shared",
            true,
            vec![json!(free), json!(other)],
            vec![("input.segmentIds", "INVALID")],
        ),
        (
            "Outreach",
            false,
            vec![],
            vec![("input.name", "NAME_TAKEN")],
        ),
        (" ", false, vec![], vec![("input.name", "INVALID")]),
    ];
    for (name, exclusive, ids, expected) in cases {
        let made = app
            .data(
                CREATE_GROUP,
                json!({ "name": name, "exclusive": exclusive, "ids": ids }),
            )
            .await;
        let payload = &made["createSegmentGroup"];
        assert_eq!(payload["group"], Value::Null, "{name}");
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(f, c)| (f.to_owned(), c.to_owned()))
            .collect();
        assert_eq!(problems(payload), expected, "{name}: {payload}");
        if name == "Shared" {
            let message = payload["userErrors"][0]["message"].as_str().unwrap();
            assert!(message.starts_with("1 influencer"), "{message}");
        }
    }
    // The same segments as a folder are fine: folders may share members.
    let folder = group(&app, "Shared", false, &[&free, &other]).await;
    assert_eq!(folder["userErrors"], json!([]));
    assert_eq!(app.count_rows("segment_group").await, groups_before + 1);
    assert_eq!(app.count_rows("segment_group_member").await, 5);
}

#[tokio::test]
async fn entering_a_stage_by_any_route_leaves_the_others_and_says_so() {
    let app = TestApp::spawn().await;
    let (_, stages) = pipeline(&app).await;
    let [prospect, contacted, negotiating] = &stages;
    let ana = app.create_influencer("ana").await;
    let elsewhere = app.create_segment("Elsewhere").await;
    app.assign(std::slice::from_ref(&ana), prospect).await;
    app.assign(std::slice::from_ref(&ana), &elsewhere).await;

    // Assigning to another stage.
    app.assign(std::slice::from_ref(&ana), contacted).await;
    assert_eq!(segments_of(&app, &ana).await, ["Contacted", "Elsewhere"]);

    // An automation: "replied" moves to Negotiating.
    let campaign = app.create_campaign("Launch").await;
    let added = app
        .data(
            "mutation($c: ID!, $s: ID!) { addAutomation(input: { campaignId: $c, trigger: EMAIL_REPLIED, assignToSegment: { id: $s }, action: MOVE_TO_SEGMENT }) { automation { action } userErrors { code } } }",
            json!({ "c": campaign, "s": negotiating }),
        )
        .await;
    assert_eq!(
        added["addAutomation"]["automation"]["action"],
        "MOVE_TO_SEGMENT"
    );
    let recorded = app
        .data(
            "mutation($c: ID!, $i: ID!) { recordEngagement(input: { campaignId: $c, influencerId: $i, kind: EMAIL_REPLIED }) { assignedSegments { name } userErrors { code } } }",
            json!({ "c": campaign, "i": ana }),
        )
        .await;
    assert_eq!(
        recorded["recordEngagement"]["assignedSegments"],
        json!([{ "name": "Negotiating" }])
    );
    assert_eq!(segments_of(&app, &ana).await, ["Elsewhere", "Negotiating"]);

    // A move without `from`: into the first stage again, out of the others.
    let moved = app
        .data(MOVE, json!({ "ids": [ana], "to": { "id": prospect } }))
        .await;
    assert_eq!(
        moved["moveToSegment"],
        json!({ "segment": { "name": "Prospect" }, "movedCount": 1, "userErrors": [] })
    );
    assert_eq!(segments_of(&app, &ana).await, ["Elsewhere", "Prospect"]);

    // A set of adds: into Contacted (out of Prospect).
    let updated = app
        .data(
            UPDATE,
            json!({ "input": { "add": [{ "influencerIds": [ana], "segment": { "id": contacted } }] } }),
        )
        .await;
    assert_eq!(updated["updateMemberships"]["addedCount"], 1);
    assert_eq!(segments_of(&app, &ana).await, ["Contacted", "Elsewhere"]);

    // The history tells each step, with who made it (the in-process caller has no key).
    assert_eq!(
        history_of(&app, &ana).await,
        [
            "ADDED Prospect SYSTEM",
            "ADDED Elsewhere SYSTEM",
            "REMOVED Prospect SYSTEM",
            "ADDED Contacted SYSTEM",
            "REMOVED Contacted AUTOMATION",
            "ADDED Negotiating AUTOMATION",
            "REMOVED Negotiating SYSTEM",
            "ADDED Prospect SYSTEM",
            "REMOVED Prospect SYSTEM",
            "ADDED Contacted SYSTEM",
        ]
    );
}

#[tokio::test]
async fn an_automation_can_take_an_influencer_out_of_a_segment() {
    let app = TestApp::spawn().await;
    let ana = app.create_influencer("ana").await;
    let cold = app.create_segment("Cold").await;
    app.assign(std::slice::from_ref(&ana), &cold).await;
    let campaign = app.create_campaign("Launch").await;
    let added = app
        .data(
            "mutation($c: ID!, $s: ID!) { addAutomation(input: { campaignId: $c, trigger: LINK_CLICKED, assignToSegment: { id: $s }, action: REMOVE_FROM_SEGMENT }) { automation { action segment { name } } userErrors { code } } }",
            json!({ "c": campaign, "s": cold }),
        )
        .await;
    assert_eq!(
        added["addAutomation"]["automation"],
        json!({ "action": "REMOVE_FROM_SEGMENT", "segment": { "name": "Cold" } })
    );
    let recorded = app
        .data(
            "mutation($c: ID!, $i: ID!) { recordEngagement(input: { campaignId: $c, influencerId: $i, kind: LINK_CLICKED }) { assignedSegments { name } userErrors { code } } }",
            json!({ "c": campaign, "i": ana }),
        )
        .await;
    assert_eq!(recorded["recordEngagement"]["assignedSegments"], json!([]));
    assert_eq!(segments_of(&app, &ana).await, Vec::<String>::new());
    assert_eq!(
        history_of(&app, &ana).await,
        ["ADDED Cold SYSTEM", "REMOVED Cold AUTOMATION"]
    );
}

#[tokio::test]
async fn moves_and_membership_sets_are_all_or_nothing() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("m", 3).await;
    let a = app.create_segment("A").await;
    let b = app.create_segment("B").await;
    app.assign(&ids[..2], &a).await;
    let unknown = common::unknown_id(segments_api::graphql::schema::ids::Kind::Influencer);

    // A move between two folders' segments, into one made on the spot.
    let moved = app
        .data(
            MOVE,
            json!({ "ids": [ids[0], ids[1]], "from": a, "to": { "create": { "name": "C" } } }),
        )
        .await;
    assert_eq!(
        moved["moveToSegment"],
        json!({ "segment": { "name": "C" }, "movedCount": 2, "userErrors": [] })
    );
    assert_eq!(segments_of(&app, &ids[0]).await, ["C"]);

    let changes_before = app.count_rows("segment_membership_change").await;
    let segments_before = app.count_rows("segment").await;
    let refused_moves = [
        (
            json!({ "ids": [ids[0]], "from": b, "to": { "id": b } }),
            vec![("input.to", "INVALID")],
        ),
        // Not a stage: a move needs `from`.
        (
            json!({ "ids": [ids[0]], "to": { "id": b } }),
            vec![("input.from", "INVALID")],
        ),
        (
            json!({ "ids": [ids[0], unknown], "from": a, "to": { "create": { "name": "D" } } }),
            vec![("input.influencerIds.1", "NOT_FOUND")],
        ),
    ];
    for (variables, expected) in refused_moves {
        let data = app.data(MOVE, variables.clone()).await;
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(f, c)| (f.to_owned(), c.to_owned()))
            .collect();
        assert_eq!(problems(&data["moveToSegment"]), expected, "{variables}");
    }

    // Adds and removes together.
    let done = app
        .data(
            UPDATE,
            json!({ "input": {
                "remove": [{ "influencerIds": [ids[0]], "segment": { "id": a } }],
                "add": [
                    { "influencerIds": [ids[2]], "segment": { "id": b } },
                    { "influencerIds": [ids[2], ids[0]], "segment": { "create": { "name": "E" } } },
                ],
            } }),
        )
        .await;
    assert_eq!(
        done["updateMemberships"],
        json!({ "addedCount": 3, "removedCount": 0, "userErrors": [] })
    );
    let changes_before = changes_before + 3;
    let segments_before = segments_before + 1;

    let refused_sets = [
        (json!({}), vec![("input", "INVALID")]),
        (
            json!({ "add": [], "remove": [] }),
            vec![("input", "INVALID")],
        ),
        (
            json!({
                "add": [{ "influencerIds": [ids[1]], "segment": { "id": b } }],
                "remove": [{ "influencerIds": [ids[0], ids[1]], "segment": { "id": b } }],
            }),
            vec![("input.remove.0.influencerIds.1", "INVALID")],
        ),
        (
            json!({ "remove": [{ "influencerIds": [ids[1]], "segment": { "create": { "name": "F" } } }] }),
            vec![("input.remove.0.segment.create", "INVALID")],
        ),
        // One unknown id anywhere refuses the whole set, the segment to create included.
        (
            json!({
                "add": [
                    { "influencerIds": [ids[1]], "segment": { "create": { "name": "G" } } },
                    { "influencerIds": [unknown], "segment": { "id": b } },
                ],
                "remove": [{ "influencerIds": [ids[2]], "segment": { "id": b } }],
            }),
            vec![("input.add.1.influencerIds.0", "NOT_FOUND")],
        ),
    ];
    for (input, expected) in refused_sets {
        let data = app.data(UPDATE, json!({ "input": input })).await;
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(f, c)| (f.to_owned(), c.to_owned()))
            .collect();
        assert_eq!(problems(&data["updateMemberships"]), expected, "{input}");
        assert_eq!(data["updateMemberships"]["addedCount"], Value::Null);
    }
    assert_eq!(
        app.count_rows("segment_membership_change").await,
        changes_before
    );
    assert_eq!(app.count_rows("segment").await, segments_before);

    // The bulk limit (10,000 ids) holds for the whole call: two sets of 6,000 are too many,
    // and are refused before any id is looked up.
    let many: Vec<String> = (1..=6_000)
        .map(|n| {
            segments_api::graphql::schema::ids::encode(
                segments_api::graphql::schema::ids::Kind::Influencer,
                1_000_000 + n,
            )
            .0
        })
        .collect();
    let data = app
        .data(
            UPDATE,
            json!({ "input": {
                "add": [{ "influencerIds": many, "segment": { "id": a } }],
                "remove": [{ "influencerIds": many, "segment": { "id": b } }],
            } }),
        )
        .await;
    assert_eq!(
        problems(&data["updateMemberships"]),
        [("input".to_owned(), "TOO_MANY".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_moves_of_one_influencer_leave_it_in_exactly_one_stage() {
    let app = TestApp::spawn().await;
    let (_, stages) = pipeline(&app).await;
    let ana = app.create_influencer("ana").await;
    app.assign(std::slice::from_ref(&ana), &stages[0]).await;

    let moves = (0..20).map(|n| {
        let (app, ana, to) = (&app, &ana, &stages[n % 3]);
        async move {
            let response = app
                .exec(MOVE, json!({ "ids": [ana], "to": { "id": to } }))
                .await;
            assert_eq!(
                response["data"]["moveToSegment"]["userErrors"],
                json!([]),
                "{response}"
            );
        }
    });
    futures_util::future::join_all(moves).await;

    let now_in = segments_of(&app, &ana).await;
    assert_eq!(now_in.len(), 1, "{now_in:?}");
    // The history, replayed, gives the same one stage, and never two at once.
    let mut members = BTreeSet::new();
    for line in history_of(&app, &ana).await {
        let mut parts = line.split(' ');
        let (change, segment) = (parts.next().unwrap(), parts.next().unwrap().to_owned());
        let fresh = if change == "ADDED" {
            members.insert(segment)
        } else {
            members.remove(&segment)
        };
        assert!(fresh, "{line} does not follow from the changes before it");
        assert!(members.len() <= 1, "two stages at once: {members:?}");
    }
    assert_eq!(members.into_iter().collect::<Vec<_>>(), now_in);
}
