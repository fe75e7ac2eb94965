//! RULE segments: made with a rule, their members are the rule's matches and stay so through
//! every write that can change a match (influencer created or updated, memberships of segments
//! rules name, engagement), through chains of rules, rule changes, and the periodic refresh of
//! rolling windows; refused where they would contradict themselves; frozen by convertSegment.
//! On SQLite by default, on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use common::TestApp;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const CREATE_INFLUENCER: &str = "mutation($input: CreateInfluencerInput!) { createInfluencer(input: $input) { influencer { id } userErrors { field code } } }";
const UPDATE_INFLUENCER: &str = "mutation($input: UpdateInfluencerInput!) { updateInfluencer(input: $input) { influencer { id } userErrors { field code } } }";
const CREATE_SEGMENT: &str = "mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id name kind rule memberCount } userErrors { field code message } } }";
const UPDATE_SEGMENT: &str = "mutation($input: UpdateSegmentInput!) { updateSegment(input: $input) { segment { id kind rule memberCount } userErrors { field code message } } }";
const CONVERT: &str = "mutation($input: ConvertSegmentInput!) { convertSegment(input: $input) { segment { id kind rule memberCount } userErrors { field code message } } }";
const ASSIGN: &str = "mutation($input: AssignToSegmentInput!) { assignToSegment(input: $input) { segment { id } userErrors { field code } } }";
const REMOVE: &str = "mutation($input: RemoveFromSegmentInput!) { removeFromSegment(input: $input) { segment { id } userErrors { field code } } }";
const MEMBERS: &str = "query($id: ID!) { segment(id: $id) { memberCount influencers(first: 100) { nodes { handle memberships { source segment { id } } } } } }";

async fn influencer(app: &TestApp, input: Value) -> String {
    let data = app.data(CREATE_INFLUENCER, json!({ "input": input })).await;
    assert_eq!(data["createInfluencer"]["userErrors"], json!([]), "{input}");
    data["createInfluencer"]["influencer"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Creates a RULE segment; returns its id.
async fn rule_segment(app: &TestApp, name: &str, rule: Value) -> String {
    let data = app
        .data(
            CREATE_SEGMENT,
            json!({ "input": { "name": name, "rule": rule } }),
        )
        .await;
    let payload = &data["createSegment"];
    assert_eq!(payload["userErrors"], json!([]), "{name}: {payload:#}");
    assert_eq!(payload["segment"]["kind"], "RULE");
    payload["segment"]["id"].as_str().unwrap().to_owned()
}

/// The handles of a segment's members, checking that each membership says the rule made it
/// and that `memberCount` agrees.
async fn members(app: &TestApp, segment: &str) -> Vec<String> {
    let data = app.data(MEMBERS, json!({ "id": segment })).await;
    let nodes = data["segment"]["influencers"]["nodes"].as_array().unwrap();
    assert_eq!(data["segment"]["memberCount"], nodes.len());
    nodes
        .iter()
        .map(|n| {
            let membership = n["memberships"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["segment"]["id"] == segment)
                .unwrap();
            assert_eq!(membership["source"], "RULE", "{n}");
            n["handle"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The handles the segment's own rule matches now, read through `influencers(filter:)`.
async fn matches(app: &TestApp, segment: &str) -> Vec<String> {
    let data = app
        .data(
            "query($id: ID!) { segment(id: $id) { rule } }",
            json!({ "id": segment }),
        )
        .await;
    let rule = data["segment"]["rule"].clone();
    let data = app
        .data(
            "query($f: InfluencerFilter) { influencers(filter: $f, first: 100) { nodes { handle } } }",
            json!({ "f": rule }),
        )
        .await;
    data["influencers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["handle"].as_str().unwrap().to_owned())
        .collect()
}

async fn assert_in_step(app: &TestApp, segment: &str, expected: &[&str]) {
    assert_eq!(members(app, segment).await, expected, "members");
    assert_eq!(matches(app, segment).await, expected, "matches");
}

/// Each instance keeps the rules compiled while their version stays the same: a rule made,
/// changed, converted or deleted through one instance is what the next write through another
/// evaluates, never the rules that instance compiled before.
#[tokio::test]
async fn a_write_through_one_instance_follows_the_rules_another_changed() {
    let app = TestApp::spawn().await;
    let other = app.another_instance();
    let ana = influencer(
        &app,
        json!({ "handle": "ana", "platform": "TIKTOK", "followerCount": 10 }),
    )
    .await;
    let update = |followers: i64| json!({ "input": { "id": ana, "followerCount": followers } });
    // The first instance compiles the workspace's rules (none yet).
    app.data(UPDATE_INFLUENCER, update(20)).await;
    let big = rule_segment(&other, "Big", json!({ "followerCount": { "min": 100 } })).await;
    app.data(UPDATE_INFLUENCER, update(500)).await;
    assert_in_step(&app, &big, &["ana"]).await;
    let data = other
        .data(
            UPDATE_SEGMENT,
            json!({ "input": { "id": big, "rule": { "followerCount": { "min": 1000 } } } }),
        )
        .await;
    assert_eq!(data["updateSegment"]["userErrors"], json!([]));
    assert_in_step(&app, &big, &[]).await;
    // The old rule would take 700 in; the new one does not.
    app.data(UPDATE_INFLUENCER, update(700)).await;
    assert_in_step(&app, &big, &[]).await;
    app.data(UPDATE_INFLUENCER, update(5000)).await;
    assert_in_step(&app, &big, &["ana"]).await;
    // Frozen through the other instance: the first no longer follows it.
    let data = other
        .data(CONVERT, json!({ "input": { "id": big, "to": "MANUAL" } }))
        .await;
    assert_eq!(data["convertSegment"]["userErrors"], json!([]));
    app.data(UPDATE_INFLUENCER, update(1)).await;
    let data = app.data(MEMBERS, json!({ "id": big })).await;
    assert_eq!(data["segment"]["memberCount"], 1, "{data:#}");
    // A RULE segment deleted through the other instance is not evaluated by the first.
    let small = rule_segment(&other, "Small", json!({ "followerCount": { "max": 100 } })).await;
    app.data(UPDATE_INFLUENCER, update(2)).await;
    assert_in_step(&app, &small, &["ana"]).await;
    common::delete_segment(&other, &small).await;
    let data = app.data(UPDATE_INFLUENCER, update(3)).await;
    assert_eq!(data["updateInfluencer"]["userErrors"], json!([]));
    let memberships = common::memberships(&app, &ana).await;
    assert_eq!(
        memberships["memberships"],
        json!([{ "segment": { "id": big }, "source": "MANUAL", "automation": null }]),
        "only the frozen segment's membership is left: {memberships:#}"
    );
}

#[tokio::test]
async fn a_rule_segment_holds_its_matches_and_follows_every_write_that_changes_one() {
    let app = TestApp::spawn().await;
    let ana = influencer(&app, json!({ "handle": "ana", "platform": "TIKTOK", "niche": "Fitness", "followerCount": 60000 })).await;
    influencer(
        &app,
        json!({ "handle": "ben", "platform": "TIKTOK", "niche": "Gaming", "followerCount": 90000 }),
    )
    .await;
    influencer(&app, json!({ "handle": "cal", "platform": "INSTAGRAM", "niche": "fitness", "followerCount": 70000 })).await;
    let big = rule_segment(
        &app,
        "Big TikTok fitness",
        json!({ "platformIn": ["TIKTOK"], "nicheIn": ["FITNESS"], "followerCount": { "min": 50000 } }),
    )
    .await;
    assert_in_step(&app, &big, &["ana"]).await;
    // In a RULE segment is not Unassigned.
    assert_eq!(app.unassigned_handles().await, vec!["ben", "cal"]);

    // A new influencer that matches joins; an update that stops matching leaves.
    let dee = influencer(&app, json!({ "handle": "dee", "platform": "TIKTOK", "niche": "fitness", "followerCount": 51000 })).await;
    assert_in_step(&app, &big, &["ana", "dee"]).await;
    let updated = app
        .data(
            UPDATE_INFLUENCER,
            json!({ "input": { "id": ana, "followerCount": 10 } }),
        )
        .await;
    assert_eq!(updated["updateInfluencer"]["userErrors"], json!([]));
    assert_in_step(&app, &big, &["dee"]).await;
    app.data(
        UPDATE_INFLUENCER,
        json!({ "input": { "id": dee, "platform": "INSTAGRAM" } }),
    )
    .await;
    assert_in_step(&app, &big, &[]).await;
    app.data(
        UPDATE_INFLUENCER,
        json!({ "input": { "id": ana, "followerCount": 50000 } }),
    )
    .await;
    assert_in_step(&app, &big, &["ana"]).await;
    assert_eq!(app.unassigned_handles().await, vec!["ben", "cal", "dee"]);

    // The rule comes back as an InfluencerFilter value that can be sent back as is.
    let data = app
        .data(
            "query($id: ID!) { segment(id: $id) { rule } }",
            json!({ "id": big }),
        )
        .await;
    assert_eq!(
        data["segment"]["rule"],
        json!({ "platformIn": ["TIKTOK"], "nicheIn": ["FITNESS"], "followerCount": { "min": 50000 } })
    );
}

/// An update evaluates only the rules with a condition whose verdict it changes, decided on the
/// old and new row: a count moved within every rule's bounds, a platform within a rule's list,
/// an email or a niche spelt anew evaluates none, in the two statements of the update itself
/// (the rules are locked with the row); a count moved across a bound evaluates that rule and the
/// rules naming its segment, one statement adding and deleting memberships on PostgreSQL, and a
/// rule the row decides is written without reading it from the database.
#[tokio::test]
async fn an_update_evaluates_only_the_rules_whose_conditions_change_verdict() {
    let app = TestApp::spawn().await;
    let ana = influencer(&app, json!({ "handle": "ana", "platform": "TIKTOK", "niche": "Fitness", "followerCount": 12000 })).await;
    let big = rule_segment(&app, "Big", json!({ "followerCount": { "min": 100000 } })).await;
    let small_fitness = rule_segment(
        &app,
        "Fitness, not big",
        json!({ "nicheIn": ["FITNESS"], "not": { "inAnySegment": [big] } }),
    )
    .await;
    let mid = rule_segment(
        &app,
        "Mid",
        json!({ "platformIn": ["TIKTOK", "INSTAGRAM"], "followerCount": { "min": 10000, "max": 20000 } }),
    )
    .await;
    assert_in_step(&app, &big, &[]).await;
    assert_in_step(&app, &small_fitness, &["ana"]).await;
    assert_in_step(&app, &mid, &["ana"]).await;

    let update = |input: Value| {
        let app = &app;
        async move {
            app.take_statements();
            let data = app.data(UPDATE_INFLUENCER, json!({ "input": input })).await;
            assert_eq!(data["updateInfluencer"]["userErrors"], json!([]), "{input}");
            app.take_statements()
        }
    };
    // The first write after the rules changed reads them once to compile them.
    update(json!({ "id": ana, "followerCount": 13000 })).await;
    // Within every bound: the rules are locked with the row, in its first statement, and none
    // is evaluated: the update reads its row and writes it, nothing more.
    let within = update(json!({ "id": ana, "followerCount": 15000 })).await;
    assert_eq!(within.len(), 2, "{within:#?}");
    assert!(within[0].contains("rules_version"), "{within:#?}");
    let within = within.len();
    // An email, or a niche spelt anew, is read by no rule: the same two statements.
    let email = update(json!({ "id": ana, "email": "ana@example.com" })).await;
    assert_eq!(email.len(), within, "{email:#?}");
    let niche = update(json!({ "id": ana, "niche": "FITNESS" })).await;
    assert_eq!(niche.len(), within, "{niche:#?}");
    // A new platform within Mid's list: also looked up for the handle there, one statement.
    let platform = update(json!({ "id": ana, "platform": "INSTAGRAM" })).await;
    assert_eq!(platform.len(), within + 1, "{platform:#?}");
    assert_in_step(&app, &small_fitness, &["ana"]).await;
    assert_in_step(&app, &mid, &["ana"]).await;

    // Across the bounds of Big and Mid: both are evaluated, and the rule naming Big follows.
    let crossed = update(json!({ "id": ana, "followerCount": 150000 })).await;
    // In and out at once (Big in, Mid out): on PostgreSQL one statement adds and deletes; on
    // SQLite an insert and a delete. Then the rule naming Big's segment removes its member.
    let writes: Vec<_> = crossed
        .iter()
        .filter(|s| s.contains(r#"INSERT INTO "segment_membership""#) || s.starts_with("DELETE"))
        .collect();
    let both = writes
        .iter()
        .filter(|s| s.starts_with("WITH") && s.contains("DELETE FROM"))
        .count();
    let postgres = common::backend() == "postgres";
    assert_eq!(
        (writes.len(), both),
        if postgres { (2, 1) } else { (3, 0) },
        "{crossed:#?}"
    );
    let crossed = crossed.len();
    assert!(
        crossed > within,
        "{crossed} statements, {within} within the bounds"
    );
    assert_in_step(&app, &big, &["ana"]).await;
    assert_in_step(&app, &small_fitness, &[]).await;
    assert_in_step(&app, &mid, &[]).await;
    // Out of a niche list: the niche rule alone decides again.
    update(json!({ "id": ana, "niche": "Travel", "followerCount": 11000 })).await;
    assert_in_step(&app, &big, &[]).await;
    assert_in_step(&app, &small_fitness, &[]).await;
    assert_in_step(&app, &mid, &["ana"]).await;
    // Out of Mid by the count alone: the row decides Mid (and, outside its niche, the rule on
    // Big's segment), so no rule is read from the database; the membership is deleted.
    let statements = update(json!({ "id": ana, "followerCount": 30000 })).await;
    let reads = statements
        .iter()
        .filter(|s| s.contains(r#""fm"."segment_id""#))
        .count();
    let deletes = statements
        .iter()
        .filter(|s| s.starts_with(r#"DELETE FROM "segment_membership""#))
        .count();
    assert_eq!((reads, deletes), (0, 1), "{statements:#?}");
    assert_in_step(&app, &mid, &[]).await;
}

/// The row decides many rules on its own (a count under a rule's minimum settles the rule,
/// whatever else it asks), and the database decides the rest. After every step of a long run of
/// edits, creations and manual memberships, drawn from a fixed sequence, every rule's members
/// are its matches. The rules mix conditions the row decides with every other kind (each kind
/// of membership condition, engagement, creation time, a search over handles and display
/// names), compositions, and three levels of rules on RULE segments, so that every path is
/// taken: decided by the row, left to the database, and unchanged.
#[tokio::test]
async fn every_rule_equals_its_matches_through_a_long_run_of_edits() {
    let app = TestApp::spawn().await;
    let manual = app.create_segment("Manual").await;
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(
            influencer(
                &app,
                json!({ "handle": format!("a{n}"), "platform": "TIKTOK" }),
            )
            .await,
        );
    }
    let big = rule_segment(&app, "Big", json!({ "followerCount": { "min": 10000 } })).await;
    let rules = [
        big.clone(),
        rule_segment(&app, "Mid", json!({ "followerCount": { "min": 5000, "max": 50000 }, "platformIn": ["TIKTOK", "X"] })).await,
        rule_segment(&app, "Niche", json!({ "nicheIn": ["Food", "Tech"], "not": { "followerCount": { "max": 1000 } } })).await,
        rule_segment(&app, "Food or manual", json!({ "anyOf": [{ "nicheIn": ["Food"] }, { "inAnySegment": [manual] }] })).await,
        rule_segment(&app, "Big and manual", json!({ "followerCount": { "min": 20000 }, "inAnySegment": [manual] })).await,
        rule_segment(&app, "Instagram, not big", json!({ "platformIn": ["INSTAGRAM"], "not": { "inAnySegment": [big] } })).await,
        rule_segment(&app, "Search", json!({ "search": "b", "followerCount": { "min": 1000 } })).await,
        rule_segment(&app, "TikTok, not food", json!({ "allOf": [{ "platformIn": ["TIKTOK"] }, { "not": { "nicheIn": ["Food"] } }] })).await,
        rule_segment(&app, "Manual and big", json!({ "inAllSegments": [manual, big], "platformIn": ["TIKTOK", "X"] })).await,
        rule_segment(&app, "Small, not manual", json!({ "inNoSegment": [manual], "followerCount": { "max": 5000 } })).await,
        rule_segment(&app, "Tech repliers", json!({ "engaged": { "kinds": ["EMAIL_REPLIED"] }, "nicheIn": ["Tech"] })).await,
        rule_segment(&app, "Since 2000", json!({ "createdAt": { "from": "2000-01-01T00:00:00Z" }, "followerCount": { "min": 15000 } })).await,
    ];
    // A third level: a rule on a rule ("Instagram, not big") on a rule (Big).
    let third = rule_segment(
        &app,
        "Third",
        json!({ "inAnySegment": [rules[5]], "followerCount": { "max": 20000 } }),
    )
    .await;
    let rules: Vec<String> = rules.into_iter().chain([third]).collect();
    let counts = [
        Value::Null,
        json!(500),
        json!(5000),
        json!(15000),
        json!(30000),
        json!(100000),
    ];
    let platforms = ["TIKTOK", "INSTAGRAM", "X"];
    let niches = [
        Value::Null,
        json!("Food"),
        json!("food "),
        json!("Tech"),
        json!("Travel"),
    ];
    let handles = ["a", "b", "ab", "c"];
    let names = [Value::Null, json!("Bea"), json!("Cal")];
    // xorshift64: a fixed sequence, the same on every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    for step in 0..80 {
        let who = ids[next(ids.len())].clone();
        match next(10) {
            0 => {
                let id = influencer(
                    &app,
                    json!({
                        "handle": format!("n{step}{}", handles[next(handles.len())]),
                        "platform": platforms[next(platforms.len())],
                        "niche": niches[next(niches.len())],
                        "followerCount": counts[next(counts.len())],
                    }),
                )
                .await;
                ids.push(id);
            }
            1 => {
                app.assign(std::slice::from_ref(&who), &manual).await;
            }
            2 => {
                let data = app
                    .data(
                        REMOVE,
                        json!({ "input": { "influencerIds": [who], "segmentId": manual } }),
                    )
                    .await;
                assert_eq!(data["removeFromSegment"]["userErrors"], json!([]));
            }
            _ => {
                let mut input = json!({ "id": who });
                for _ in 0..1 + next(2) {
                    match next(5) {
                        0 => input["followerCount"] = counts[next(counts.len())].clone(),
                        1 => input["platform"] = json!(platforms[next(platforms.len())]),
                        2 => input["niche"] = niches[next(niches.len())].clone(),
                        3 => input["displayName"] = names[next(names.len())].clone(),
                        _ => {
                            input["handle"] =
                                json!(format!("u{step}{}", handles[next(handles.len())]))
                        }
                    }
                }
                let data = app.data(UPDATE_INFLUENCER, json!({ "input": input })).await;
                assert_eq!(data["updateInfluencer"]["userErrors"], json!([]), "{input}");
            }
        }
        for rule in &rules {
            let (members, matches) = (members(&app, rule).await, matches(&app, rule).await);
            assert_eq!(members, matches, "rule {rule} after step {step}");
        }
    }
}

#[tokio::test]
async fn rules_follow_memberships_of_the_segments_they_name_through_chains_and_engagement() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("i", 4).await;
    let shortlist = app.create_segment("Shortlist").await;
    let declined = app.create_segment("Declined").await;
    // Shortlisted and not declined; and a rule on that rule's segment.
    let ready = rule_segment(
        &app,
        "Ready",
        json!({ "inAnySegment": [shortlist], "not": { "inAnySegment": [declined] } }),
    )
    .await;
    let campaign = app.create_campaign("Launch").await;
    let ready_and_replied = rule_segment(
        &app,
        "Ready and replied",
        json!({ "inAllSegments": [ready], "engaged": { "kinds": ["EMAIL_REPLIED"], "campaignId": campaign } }),
    )
    .await;
    assert_in_step(&app, &ready, &[]).await;

    app.assign(&ids[..3], &shortlist).await;
    assert_in_step(&app, &ready, &["i0", "i1", "i2"]).await;
    app.assign(&ids[1..2], &declined).await;
    assert_in_step(&app, &ready, &["i0", "i2"]).await;
    assert_in_step(&app, &ready_and_replied, &[]).await;

    for (who, kind) in [
        (0, "EMAIL_REPLIED"),
        (2, "EMAIL_OPENED"),
        (3, "EMAIL_REPLIED"),
    ] {
        let data = app
            .data(
                "mutation($c: ID!, $i: ID!, $k: EngagementKind!) { recordEngagement(input: { campaignId: $c, influencerId: $i, kind: $k }) { userErrors { code } } }",
                json!({ "c": campaign, "i": ids[who], "k": kind }),
            )
            .await;
        assert_eq!(data["recordEngagement"]["userErrors"], json!([]));
    }
    assert_in_step(&app, &ready_and_replied, &["i0"]).await;

    // Removing from a named segment moves both rules, in the same write.
    let removed = app
        .data(
            REMOVE,
            json!({ "input": { "influencerIds": [ids[0]], "segmentId": shortlist } }),
        )
        .await;
    assert_eq!(removed["removeFromSegment"]["userErrors"], json!([]));
    assert_in_step(&app, &ready, &["i2"]).await;
    assert_in_step(&app, &ready_and_replied, &[]).await;

    // And so does an assignment by filter.
    let assigned = app
        .data(
            ASSIGN,
            json!({ "input": { "filter": {}, "segment": { "id": shortlist } } }),
        )
        .await;
    assert_eq!(assigned["assignToSegment"]["userErrors"], json!([]));
    assert_in_step(&app, &ready, &["i0", "i2", "i3"]).await;
    assert_in_step(&app, &ready_and_replied, &["i0", "i3"]).await;
}

#[tokio::test]
async fn changing_a_rule_re_evaluates_it_and_the_rules_that_name_its_segment() {
    let app = TestApp::spawn().await;
    for (handle, platform) in [("a", "TIKTOK"), ("b", "INSTAGRAM"), ("c", "YOUTUBE")] {
        influencer(&app, json!({ "handle": handle, "platform": platform })).await;
    }
    let video = rule_segment(
        &app,
        "Video",
        json!({ "platformIn": ["TIKTOK", "YOUTUBE"] }),
    )
    .await;
    let not_video = rule_segment(&app, "Not video", json!({ "inNoSegment": [video] })).await;
    assert_in_step(&app, &video, &["a", "c"]).await;
    assert_in_step(&app, &not_video, &["b"]).await;

    let changed = app
        .data(
            UPDATE_SEGMENT,
            json!({ "input": { "id": video, "rule": { "platformIn": ["INSTAGRAM"] } } }),
        )
        .await;
    assert_eq!(changed["updateSegment"]["userErrors"], json!([]));
    assert_eq!(changed["updateSegment"]["segment"]["memberCount"], 1);
    assert_in_step(&app, &video, &["b"]).await;
    assert_in_step(&app, &not_video, &["a", "c"]).await;
}

#[tokio::test]
async fn converting_to_manual_freezes_the_members_and_stops_following() {
    let app = TestApp::spawn().await;
    influencer(&app, json!({ "handle": "a", "platform": "TIKTOK" })).await;
    let tiktok = rule_segment(&app, "TikTok", json!({ "platformIn": ["TIKTOK"] })).await;
    let converted = app
        .data(
            CONVERT,
            json!({ "input": { "id": tiktok, "to": "MANUAL" } }),
        )
        .await;
    assert_eq!(
        converted["convertSegment"],
        json!({ "segment": { "id": tiktok, "kind": "MANUAL", "rule": null, "memberCount": 1 }, "userErrors": [] })
    );
    let data = app.data(MEMBERS, json!({ "id": tiktok })).await;
    assert_eq!(
        data["segment"]["influencers"]["nodes"][0]["memberships"][0]["source"],
        "MANUAL"
    );
    // No longer followed: a new TikTok influencer stays out, and people may assign again.
    let b = influencer(&app, json!({ "handle": "b", "platform": "TIKTOK" })).await;
    assert_eq!(
        app.data(MEMBERS, json!({ "id": tiktok })).await["segment"]["memberCount"],
        1
    );
    let assigned = app.assign(&[b], &tiktok).await;
    assert_eq!(assigned["userErrors"], json!([]));
    // Converting to RULE is refused.
    let refused = app
        .data(CONVERT, json!({ "input": { "id": tiktok, "to": "RULE" } }))
        .await;
    assert_eq!(
        common::without_messages(refused["convertSegment"].clone()),
        json!({ "segment": null, "userErrors": [{ "field": ["input", "to"], "code": "INVALID" }] })
    );
}

/// A mutation field, its document, its input and the `(path, code)` of the errors it gets.
type Refusal = (
    &'static str,
    &'static str,
    Value,
    Vec<(&'static str, &'static str)>,
);

/// Rows of the tables a refused write could touch.
async fn rows(app: &TestApp) -> [i64; 5] {
    [
        app.count_rows("segment").await,
        app.count_rows("segment_membership").await,
        app.count_rows("automation").await,
        app.count_rows("campaign").await,
        app.count_rows("rule_segment_reference").await,
    ]
}

#[tokio::test]
async fn what_would_contradict_a_rule_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("i", 2).await;
    let manual = app.create_segment("Manual").await;
    let campaign = app.create_campaign("C").await;
    let rule = rule_segment(
        &app,
        "Rule",
        json!({ "anyOf": [{ "inAnySegment": [manual] }, { "engaged": { "campaignId": campaign } }] }),
    )
    .await;
    let chain_top = {
        let mut below = rule.clone();
        for level in 2..=5 {
            below = rule_segment(
                &app,
                &format!("Level {level}"),
                json!({ "inAnySegment": [below] }),
            )
            .await;
        }
        below
    };
    let before = rows(&app).await;
    let cases: Vec<Refusal> = vec![
        (
            "assignToSegment",
            ASSIGN,
            json!({ "influencerIds": [ids[0]], "segment": { "id": rule } }),
            vec![("input.segment.id", "INVALID")],
        ),
        (
            "assignToSegment",
            ASSIGN,
            json!({ "influencerIds": [ids[0]], "segment": { "create": { "name": "Inline", "rule": {} } } }),
            vec![("input.segment.create.rule", "INVALID")],
        ),
        (
            "removeFromSegment",
            REMOVE,
            json!({ "filter": {}, "segmentId": rule }),
            vec![("input.segmentId", "INVALID")],
        ),
        (
            "addAutomation",
            "mutation($input: AddAutomationInput!) { addAutomation(input: $input) { automation { id } userErrors { field code } } }",
            json!({ "campaignId": campaign, "trigger": "EMAIL_REPLIED", "assignToSegment": { "id": rule } }),
            vec![("input.assignToSegment.id", "INVALID")],
        ),
        (
            "createSegment",
            CREATE_SEGMENT,
            json!({ "name": "Contradiction", "rule": { "allOf": [{ "platformIn": ["X"] }, { "not": { "unassigned": false } }] } }),
            vec![("input.rule.allOf.1.not.unassigned", "INVALID")],
        ),
        (
            "createSegment",
            CREATE_SEGMENT,
            json!({ "name": "Too deep", "rule": { "inAnySegment": [chain_top] } }),
            vec![("input.rule", "INVALID")],
        ),
        (
            "createSegment",
            CREATE_SEGMENT,
            json!({ "name": "Manual", "rule": { "inAnySegment": [common::unknown_id(segments_api::graphql::schema::ids::Kind::Segment)] } }),
            vec![
                ("input.rule.inAnySegment.0", "NOT_FOUND"),
                ("input.name", "NAME_TAKEN"),
            ],
        ),
        (
            "updateSegment",
            UPDATE_SEGMENT,
            // The bottom of the chain naming the top: a circle.
            json!({ "id": rule, "rule": { "inAnySegment": [chain_top] } }),
            vec![("input.rule", "INVALID")],
        ),
        (
            "updateSegment",
            UPDATE_SEGMENT,
            json!({ "id": rule, "rule": { "inAnySegment": [rule] } }),
            vec![("input.rule", "INVALID")],
        ),
        (
            "updateSegment",
            UPDATE_SEGMENT,
            json!({ "id": manual, "rule": { "platformIn": ["X"] } }),
            vec![("input.rule", "INVALID")],
        ),
        (
            "deleteSegment",
            "mutation($input: DeleteSegmentInput!) { deleteSegment(input: $input) { deletedSegmentId userErrors { field code } } }",
            json!({ "id": manual }),
            vec![("input.id", "INVALID")],
        ),
        (
            "deleteCampaign",
            "mutation($input: DeleteCampaignInput!) { deleteCampaign(input: $input) { deletedCampaignId userErrors { field code } } }",
            json!({ "id": campaign }),
            vec![("input.id", "INVALID")],
        ),
    ];
    for (field, mutation, input, expected) in cases {
        let data = app.data(mutation, json!({ "input": input })).await;
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
            .collect();
        assert_eq!(
            common::paths_and_codes(&data[field]["userErrors"]),
            expected,
            "{field} {input}"
        );
        assert_eq!(rows(&app).await, before, "{field} {input} wrote nothing");
    }
}

#[tokio::test]
async fn a_rolling_window_is_evaluated_again_as_time_passes() {
    let app = TestApp::spawn().await;
    let config = segments_api::config::HttpConfig {
        rule_refresh: std::time::Duration::from_secs(1),
        ..Default::default()
    };
    let addr = app.serve(&config).await;
    let key = app.api_key().await;
    let ids = app.create_influencers("i", 2).await;
    let campaign = app.create_campaign("C").await;
    // i0 replied 30 days ago less three seconds: inside a 30-day window for three more seconds.
    for (who, ago) in [
        (0, Duration::days(30) - Duration::seconds(3)),
        (1, Duration::days(1)),
    ] {
        app.data(
            "mutation($c: ID!, $i: ID!, $at: DateTime!) { recordEngagement(input: { campaignId: $c, influencerId: $i, kind: EMAIL_REPLIED, occurredAt: $at }) { userErrors { code } } }",
            json!({ "c": campaign, "i": ids[who], "at": (Utc::now() - ago).to_rfc3339() }),
        )
        .await;
    }
    let recent = rule_segment(&app, "Recent", json!({ "engaged": { "withinDays": 30 } })).await;
    assert_eq!(members(&app, &recent).await, ["i0", "i1"]);
    // No write happens; the server's own refresh moves i0 out once the window passes it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let data = common::graphql_at(
            &addr,
            &key,
            "query($id: ID!) { segment(id: $id) { influencers { nodes { handle } } } }",
            json!({ "id": recent }),
        )
        .await;
        let handles: BTreeSet<String> = data["segment"]["influencers"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["handle"].as_str().unwrap().to_owned())
            .collect();
        if handles == BTreeSet::from(["i1".to_owned()]) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {handles:?} 20 s later"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn concurrent_writes_racing_a_rule_change_leave_members_equal_to_matches() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("i", 6).await;
    let rule = rule_segment(&app, "Big", json!({ "followerCount": { "min": 100 } })).await;
    for round in 0..8 {
        let threshold = if round % 2 == 0 { 50 } else { 150 };
        let followers = 100 + round * 10;
        let rule_change = app.exec(
            UPDATE_SEGMENT,
            json!({ "input": { "id": rule, "rule": { "followerCount": { "min": threshold } } } }),
        );
        let updates = futures_util::future::join_all(ids.iter().map(|id| {
            app.exec(
                UPDATE_INFLUENCER,
                json!({ "input": { "id": id, "followerCount": followers } }),
            )
        }));
        let (changed, updated) = tokio::join!(rule_change, updates);
        assert!(changed.get("errors").is_none(), "{changed:#}");
        for response in updated {
            assert!(response.get("errors").is_none(), "{response:#}");
        }
        let members = members(&app, &rule).await;
        assert_eq!(members, matches(&app, &rule).await, "round {round}");
    }
}

#[tokio::test]
async fn writes_racing_the_creation_of_a_rule_segment_are_in_it_once_both_commit() {
    let app = TestApp::spawn().await;
    let ids = app.create_influencers("i", 4).await;
    for round in 0..6 {
        let created = app.exec(
            CREATE_SEGMENT,
            json!({ "input": { "name": format!("Round {round}"), "rule": { "followerCount": { "min": 100 } } } }),
        );
        let new_influencer = app.exec(
            CREATE_INFLUENCER,
            json!({ "input": { "handle": format!("new{round}"), "platform": "X", "followerCount": 500 } }),
        );
        let updates = futures_util::future::join_all(ids.iter().enumerate().map(|(n, id)| {
            let followers = if (n + round) % 2 == 0 { 50 } else { 150 };
            app.exec(
                UPDATE_INFLUENCER,
                json!({ "input": { "id": id, "followerCount": followers } }),
            )
        }));
        let (created, new_influencer, updated) = tokio::join!(created, new_influencer, updates);
        for response in updated.iter().chain([&created, &new_influencer]) {
            assert!(response.get("errors").is_none(), "{response:#}");
        }
        let segment = created["data"]["createSegment"]["segment"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            members(&app, &segment).await,
            matches(&app, &segment).await,
            "round {round}"
        );
    }
}

#[tokio::test]
async fn two_writes_that_each_make_half_of_a_match_leave_the_influencer_in_the_rule_segment() {
    let app = TestApp::spawn().await;
    let (s1, s2) = (
        app.create_segment("S1").await,
        app.create_segment("S2").await,
    );
    let both = rule_segment(&app, "Both", json!({ "inAllSegments": [s1, s2] })).await;
    let tiktok_in_s1 = rule_segment(
        &app,
        "TikTok in S1",
        json!({ "platformIn": ["TIKTOK"], "inAnySegment": [s1] }),
    )
    .await;
    let ids = app.create_influencers("i", 8).await;
    for id in &ids {
        let assign = |segment: &str| {
            app.exec(
                ASSIGN,
                json!({ "input": { "influencerIds": [id], "segment": { "id": segment } } }),
            )
        };
        // Memberships of two segments at once; then a membership and a field at once.
        let (a, b) = tokio::join!(assign(&s1), assign(&s2));
        for response in [a, b] {
            assert!(response.get("errors").is_none(), "{response:#}");
        }
    }
    assert_eq!(members(&app, &both).await.len(), ids.len());
    let ids = app.create_influencers("j", 8).await;
    for id in &ids {
        let update = app.exec(
            UPDATE_INFLUENCER,
            json!({ "input": { "id": id, "platform": "TIKTOK" } }),
        );
        let assign = app.exec(
            ASSIGN,
            json!({ "input": { "influencerIds": [id], "segment": { "id": s1 } } }),
        );
        let (a, b) = tokio::join!(update, assign);
        for response in [a, b] {
            assert!(response.get("errors").is_none(), "{response:#}");
        }
    }
    assert_eq!(members(&app, &tiktok_in_s1).await.len(), ids.len());
    assert_eq!(
        members(&app, &tiktok_in_s1).await,
        matches(&app, &tiktok_in_s1).await
    );
}

#[tokio::test]
async fn many_rules_with_long_lists_are_followed_by_listed_and_whole_roster_writes() {
    // 101 rules, each with a list of 400 niches: more values than SQLite binds in one statement,
    // and more rules than one statement evaluates, so the evaluation takes each list as one
    // parameter and splits the rules.
    const RULES: usize = 101;
    let app = TestApp::spawn().await;
    let ana = influencer(
        &app,
        json!({ "handle": "ana", "platform": "TIKTOK", "niche": "fitness" }),
    )
    .await;
    let ben = influencer(
        &app,
        json!({ "handle": "ben", "platform": "TIKTOK", "niche": "cooking" }),
    )
    .await;
    let cal = influencer(
        &app,
        json!({ "handle": "cal", "platform": "TIKTOK", "niche": "cooking" }),
    )
    .await;
    let named = app.create_segment("Shortlist").await;
    for n in 0..RULES {
        let mut niches: Vec<String> = (1..400).map(|k| format!("niche {n}-{k}")).collect();
        niches.push("fitness".into());
        rule_segment(
            &app,
            &format!("Rule {n}"),
            json!({ "anyOf": [{ "nicheIn": niches }, { "inAnySegment": [named] }] }),
        )
        .await;
    }
    let segments_of = async |id: &str| {
        let data = app
            .data(
                "query($id: ID!) { influencer(id: $id) { segments { id } } }",
                json!({ "id": id }),
            )
            .await;
        data["influencer"]["segments"].as_array().unwrap().len()
    };
    assert_eq!(segments_of(&ana).await, RULES);
    assert_eq!(segments_of(&ben).await, 0);

    // A write of one influencer follows every rule.
    let updated = app
        .data(
            UPDATE_INFLUENCER,
            json!({ "input": { "id": ben, "niche": "Fitness" } }),
        )
        .await;
    assert_eq!(updated["updateInfluencer"]["userErrors"], json!([]));
    assert_eq!(segments_of(&ben).await, RULES);

    // An assignment by filter to the segment every rule names follows them over the roster.
    let assigned = app
        .data(
            ASSIGN,
            json!({ "input": { "filter": { "nicheIn": ["cooking"] }, "segment": { "id": named } } }),
        )
        .await;
    assert_eq!(assigned["assignToSegment"]["userErrors"], json!([]));
    assert_eq!(segments_of(&cal).await, RULES + 1);
    assert_eq!(
        app.count_rows("segment_membership").await,
        3 * RULES as i64 + 1
    );
}
