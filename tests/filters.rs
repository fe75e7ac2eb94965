//! The roster filter: each condition and a few compositions, on a small roster whose every
//! answer is known, through `influencers(filter:)` (pages both ways, `totalCount`); the bad
//! filters; and assigning and removing by filter. On SQLite by default, on PostgreSQL with
//! `TEST_DATABASE_URL`: the answers are the same on both.

mod common;

use chrono::{Duration, Utc};
use common::TestApp;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CreateInfluencerInput!) { createInfluencer(input: $input) { influencer { id } userErrors { field code } } }";
const ENGAGE: &str = "mutation($c: ID!, $i: ID!, $kind: EngagementKind!, $at: DateTime!) { recordEngagement(input: { campaignId: $c, influencerId: $i, kind: $kind, occurredAt: $at }) { event { id } userErrors { field code } } }";
const FILTERED: &str = "query($filter: InfluencerFilter, $search: String, $first: Int, $after: String, $last: Int, $before: String) { influencers(filter: $filter, search: $search, first: $first, after: $after, last: $last, before: $before) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { handle } } }";

/// The roster every case runs on, in creation order.
struct Roster {
    app: TestApp,
    ids: Vec<String>,
    /// Segments "A", "B", "C".
    a: String,
    b: String,
    c: String,
    /// Campaigns.
    c1: String,
    c2: String,
    /// A time between the fourth and the fifth influencer's creation.
    middle: String,
}

/// | handle | platform | niche | followers | segments | engagement |
/// |---|---|---|---|---|---|
/// | ana | INSTAGRAM | Fitness | 120,000 | A | replied to c1, 2 days ago |
/// | ben | TIKTOK | fitness | 60,000 | A, B | opened c1, 40 days ago |
/// | cal | TIKTOK | FITNESS | 40,000 | | clicked in c2, 2 days ago |
/// | dee | YOUTUBE | Gaming | none | B | |
/// | eve | TIKTOK | none | 55,000 | C | replied to c2, 10 days ago |
/// | fay | INSTAGRAM | Beauty | 50,000 | | |
/// | gus | TIKTOK | Fitness | 75,000 | A, B, C | replied to c1, 40 days ago |
/// | émile ("Émile Zola") | X | Café (decomposed é) | 1,000 | | |
async fn roster() -> Roster {
    let app = TestApp::spawn().await;
    let people = [
        json!({ "handle": "ana", "platform": "INSTAGRAM", "niche": "Fitness", "followerCount": 120_000 }),
        json!({ "handle": "ben", "platform": "TIKTOK", "niche": "fitness", "followerCount": 60_000 }),
        json!({ "handle": "cal", "platform": "TIKTOK", "niche": "FITNESS", "followerCount": 40_000 }),
        json!({ "handle": "dee", "platform": "YOUTUBE", "niche": "Gaming" }),
        json!({ "handle": "eve", "platform": "TIKTOK", "followerCount": 55_000 }),
        json!({ "handle": "fay", "platform": "INSTAGRAM", "niche": "Beauty", "followerCount": 50_000 }),
        json!({ "handle": "gus", "platform": "TIKTOK", "niche": "Fitness", "followerCount": 75_000 }),
        json!({ "handle": "émile", "displayName": "Émile Zola", "platform": "X", "niche": "Cafe\u{301}", "followerCount": 1_000 }),
    ];
    let mut ids = Vec::new();
    let mut middle = String::new();
    for (index, person) in people.into_iter().enumerate() {
        if index == 4 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            middle = Utc::now().to_rfc3339();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let data = app.data(CREATE, json!({ "input": person })).await;
        assert_eq!(data["createInfluencer"]["userErrors"], json!([]));
        ids.push(
            data["createInfluencer"]["influencer"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (a, b, c) = (
        app.create_segment("A").await,
        app.create_segment("B").await,
        app.create_segment("C").await,
    );
    app.assign(&[ids[0].clone(), ids[1].clone(), ids[6].clone()], &a)
        .await;
    app.assign(&[ids[1].clone(), ids[3].clone(), ids[6].clone()], &b)
        .await;
    app.assign(&[ids[4].clone(), ids[6].clone()], &c).await;
    let campaigns = [
        app.create_campaign("c1").await,
        app.create_campaign("c2").await,
    ];
    let days_ago = |n: i64| (Utc::now() - Duration::days(n)).to_rfc3339();
    for (who, campaign, kind, at) in [
        (0, 0, "EMAIL_REPLIED", days_ago(2)),
        (1, 0, "EMAIL_OPENED", days_ago(40)),
        (2, 1, "LINK_CLICKED", days_ago(2)),
        (4, 1, "EMAIL_REPLIED", days_ago(10)),
        (6, 0, "EMAIL_REPLIED", days_ago(40)),
    ] {
        let data = app
            .data(
                ENGAGE,
                json!({ "c": campaigns[campaign], "i": ids[who], "kind": kind, "at": at }),
            )
            .await;
        assert_eq!(data["recordEngagement"]["userErrors"], json!([]));
    }
    Roster {
        app,
        ids,
        a,
        b,
        c,
        c1: campaigns[0].clone(),
        c2: campaigns[1].clone(),
        middle,
    }
}

/// The handles a filter matches (first page of 100) after checking that `totalCount` agrees.
async fn matching(app: &TestApp, filter: Value) -> Vec<String> {
    let data = app
        .data(FILTERED, json!({ "filter": filter, "first": 100 }))
        .await;
    let connection = &data["influencers"];
    let handles = handles(connection);
    assert_eq!(
        connection["totalCount"].as_u64().unwrap() as usize,
        handles.len(),
        "totalCount of {filter}"
    );
    handles
}

fn handles(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["handle"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_condition_and_composition_matches_exactly_the_influencers_it_describes() {
    let r = roster().await;
    let since_15_days = (Utc::now() - Duration::days(15)).to_rfc3339();
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({}),
            vec!["ana", "ben", "cal", "dee", "eve", "fay", "gus", "émile"],
        ),
        (
            json!({ "platformIn": ["TIKTOK"] }),
            vec!["ben", "cal", "eve", "gus"],
        ),
        (
            json!({ "platformIn": ["YOUTUBE", "X"] }),
            vec!["dee", "émile"],
        ),
        (json!({ "platformIn": [] }), vec![]),
        // Niches ignore case and encoding: "Café" with a composed é matches the decomposed one.
        (
            json!({ "nicheIn": ["FITNESS"] }),
            vec!["ana", "ben", "cal", "gus"],
        ),
        (
            json!({ "nicheIn": ["CAFÉ", "beauty"] }),
            vec!["fay", "émile"],
        ),
        (json!({ "nicheIn": [] }), vec![]),
        // Inclusive bounds; an influencer without a follower count is outside every range.
        (
            json!({ "followerCount": { "min": 50000, "max": 75000 } }),
            vec!["ben", "eve", "fay", "gus"],
        ),
        (json!({ "followerCount": { "max": 1000 } }), vec!["émile"]),
        (
            json!({ "followerCount": {} }),
            vec!["ana", "ben", "cal", "eve", "fay", "gus", "émile"],
        ),
        // ...and so passes the range's `not`: conditions are never unknown.
        (
            json!({ "not": { "followerCount": { "min": 50000 } } }),
            vec!["cal", "dee", "émile"],
        ),
        (
            json!({ "not": { "nicheIn": ["fitness"] } }),
            vec!["dee", "eve", "fay", "émile"],
        ),
        (
            json!({ "createdAt": { "from": r.middle } }),
            vec!["eve", "fay", "gus", "émile"],
        ),
        (
            json!({ "createdAt": { "to": r.middle } }),
            vec!["ana", "ben", "cal", "dee"],
        ),
        (json!({ "search": "MIL" }), vec!["émile"]),
        (json!({ "search": "zola" }), vec!["émile"]),
        (
            json!({ "not": { "search": "zola" } }),
            vec!["ana", "ben", "cal", "dee", "eve", "fay", "gus"],
        ),
        (
            json!({ "inAnySegment": [r.a, r.c] }),
            vec!["ana", "ben", "eve", "gus"],
        ),
        (json!({ "inAnySegment": [] }), vec![]),
        (json!({ "inAllSegments": [r.a, r.b] }), vec!["ben", "gus"]),
        (
            json!({ "inAllSegments": [r.a, r.a, r.b, r.b] }),
            vec!["ben", "gus"],
        ),
        (json!({ "inAllSegments": [r.a, r.b, r.c] }), vec!["gus"]),
        (
            json!({ "inAllSegments": [] }),
            vec!["ana", "ben", "cal", "dee", "eve", "fay", "gus", "émile"],
        ),
        (
            json!({ "inNoSegment": [r.a] }),
            vec!["cal", "dee", "eve", "fay", "émile"],
        ),
        (
            json!({ "inNoSegment": [r.a, r.b] }),
            vec!["cal", "eve", "fay", "émile"],
        ),
        (json!({ "unassigned": true }), vec!["cal", "fay", "émile"]),
        (
            json!({ "unassigned": false }),
            vec!["ana", "ben", "dee", "eve", "gus"],
        ),
        (
            json!({ "engaged": {} }),
            vec!["ana", "ben", "cal", "eve", "gus"],
        ),
        (
            json!({ "engaged": { "kinds": ["EMAIL_REPLIED"] } }),
            vec!["ana", "eve", "gus"],
        ),
        (
            json!({ "engaged": { "campaignId": r.c1 } }),
            vec!["ana", "ben", "gus"],
        ),
        (
            json!({ "engaged": { "withinDays": 30 } }),
            vec!["ana", "cal", "eve"],
        ),
        (
            json!({ "engaged": { "withinDays": 5 } }),
            vec!["ana", "cal"],
        ),
        (
            json!({ "engaged": { "since": since_15_days } }),
            vec!["ana", "cal", "eve"],
        ),
        (
            json!({ "engaged": { "kinds": ["EMAIL_REPLIED"], "withinDays": 30, "campaignId": r.c2 } }),
            vec!["eve"],
        ),
        (
            json!({ "not": { "engaged": {} } }),
            vec!["dee", "fay", "émile"],
        ),
        (
            json!({ "anyOf": [{ "platformIn": ["YOUTUBE"] }, { "nicheIn": ["beauty"] }] }),
            vec!["dee", "fay"],
        ),
        (json!({ "anyOf": [] }), vec![]),
        (
            json!({ "allOf": [] }),
            vec!["ana", "ben", "cal", "dee", "eve", "fay", "gus", "émile"],
        ),
        (
            json!({ "allOf": [{ "platformIn": ["TIKTOK"] }, { "followerCount": { "min": 50000 } }] }),
            vec!["ben", "eve", "gus"],
        ),
        // Every field given must hold.
        (
            json!({ "platformIn": ["TIKTOK", "INSTAGRAM"], "nicheIn": ["fitness"], "followerCount": { "min": 50000 }, "not": { "inAnySegment": [r.b] } }),
            vec!["ana"],
        ),
        (
            json!({ "engaged": { "kinds": ["EMAIL_REPLIED"] }, "not": { "engaged": { "withinDays": 30 } } }),
            vec!["gus"],
        ),
        // Five levels: four `not`s around a condition.
        (
            json!({ "not": { "not": { "not": { "not": { "platformIn": ["X"] } } } } }),
            vec!["émile"],
        ),
        (
            json!({ "anyOf": [{ "allOf": [{ "unassigned": true }, { "platformIn": ["TIKTOK"] }] }, { "inAllSegments": [r.a, r.c] }] }),
            vec!["cal", "gus"],
        ),
    ];
    let mut failures = Vec::new();
    for (filter, expected) in &cases {
        let found = matching(&r.app, filter.clone()).await;
        if &found != expected {
            failures.push(format!("{filter}: expected {expected:?}, found {found:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_largest_filter_allowed_is_answered_on_both_backends() {
    // 50 conditions, each a list of 1,000 values: 50,000 values, more than SQLite binds in one
    // statement, so each list goes as one parameter.
    let r = roster().await;
    let list = |n: usize, last: &str| -> Vec<String> {
        let mut values: Vec<String> = (1..1000).map(|k| format!("niche {n}-{k}")).collect();
        values.push(last.into());
        values
    };
    let mut any_of: Vec<Value> = (0..48)
        .map(|n| json!({ "nicheIn": list(n, "gaming") }))
        .collect();
    let segments: Vec<String> = std::iter::repeat_n(r.c.clone(), 1000).collect();
    any_of.push(json!({ "inAnySegment": segments }));
    any_of.push(json!({ "nicheIn": list(49, "beauty") }));
    assert_eq!(
        matching(&r.app, json!({ "anyOf": any_of })).await,
        vec!["dee", "eve", "fay", "gus"]
    );
}

#[tokio::test]
async fn a_filtered_roster_pages_both_ways_and_search_narrows_it_further() {
    let r = roster().await;
    let tiktok = json!({ "platformIn": ["TIKTOK"] });
    let first = r
        .app
        .data(FILTERED, json!({ "filter": tiktok, "first": 3 }))
        .await;
    assert_eq!(handles(&first["influencers"]), ["ben", "cal", "eve"]);
    assert_eq!(first["influencers"]["totalCount"], 4);
    assert_eq!(first["influencers"]["pageInfo"]["hasNextPage"], true);
    let after = first["influencers"]["pageInfo"]["endCursor"].clone();
    let next = r
        .app
        .data(
            FILTERED,
            json!({ "filter": tiktok, "first": 3, "after": after }),
        )
        .await;
    assert_eq!(handles(&next["influencers"]), ["gus"]);
    assert_eq!(next["influencers"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(next["influencers"]["pageInfo"]["hasPreviousPage"], true);

    let last = r
        .app
        .data(FILTERED, json!({ "filter": tiktok, "last": 2 }))
        .await;
    assert_eq!(handles(&last["influencers"]), ["eve", "gus"]);
    let before = last["influencers"]["pageInfo"]["startCursor"].clone();
    let earlier = r
        .app
        .data(
            FILTERED,
            json!({ "filter": tiktok, "last": 2, "before": before }),
        )
        .await;
    assert_eq!(handles(&earlier["influencers"]), ["ben", "cal"]);
    assert_eq!(earlier["influencers"]["pageInfo"]["hasPreviousPage"], false);

    let both = r
        .app
        .data(
            FILTERED,
            json!({ "filter": { "platformIn": ["INSTAGRAM"] }, "search": "a", "first": 10 }),
        )
        .await;
    assert_eq!(handles(&both["influencers"]), ["ana", "fay"]);
    assert_eq!(both["influencers"]["totalCount"], 2);
}

/// The problems of a refused filter argument: `(path, code)` each.
fn problems(response: &Value) -> Vec<(String, String)> {
    assert_eq!(response["data"], Value::Null, "{response:#}");
    let errors = response["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{response:#}");
    assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(errors[0]["path"], json!(["influencers"]));
    common::paths_and_codes(&errors[0]["extensions"]["problems"])
}

fn nested_nots(levels: usize) -> Value {
    let mut filter = json!({ "platformIn": ["X"] });
    for _ in 0..levels {
        filter = json!({ "not": filter });
    }
    filter
}

#[tokio::test]
async fn a_bad_filter_argument_is_a_bad_user_input_naming_each_problem_and_its_path() {
    let r = roster().await;
    let app = &r.app;
    let nothing = common::unknown_id(segments_api::graphql::schema::ids::Kind::Segment);
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            nested_nots(5),
            vec![("filter.not.not.not.not.not", "TOO_MANY")],
        ),
        (
            json!({ "allOf": (0..51).map(|_| json!({ "unassigned": true })).collect::<Vec<_>>() }),
            vec![("filter", "TOO_MANY")],
        ),
        (
            json!({ "platformIn": vec!["X"; 1001] }),
            vec![("filter.platformIn", "TOO_MANY")],
        ),
        (
            json!({ "inAnySegment": vec![r.a.clone(); 1001] }),
            vec![("filter.inAnySegment", "TOO_MANY")],
        ),
        (
            json!({ "followerCount": { "min": 10, "max": 9 } }),
            vec![("filter.followerCount", "INVALID")],
        ),
        (
            json!({ "createdAt": { "from": r.middle, "to": r.middle } }),
            vec![("filter.createdAt", "INVALID")],
        ),
        (
            json!({ "engaged": { "withinDays": 0 } }),
            vec![("filter.engaged.withinDays", "INVALID")],
        ),
        (
            json!({ "anyOf": [{ "engaged": { "withinDays": 3651 } }] }),
            vec![("filter.anyOf.0.engaged.withinDays", "INVALID")],
        ),
        (
            json!({ "inAnySegment": [r.a, nothing], "engaged": { "campaignId": r.c1 } }),
            vec![("filter.inAnySegment.1", "NOT_FOUND")],
        ),
        (
            json!({ "engaged": { "campaignId": r.a } }),
            vec![("filter.engaged.campaignId", "INVALID")],
        ),
        (
            json!({ "inNoSegment": [r.ids[0]] }),
            vec![("filter.inNoSegment.0", "INVALID")],
        ),
        (
            json!({ "nicheIn": ["fit", " "] }),
            vec![("filter.nicheIn.1", "INVALID")],
        ),
        (
            json!({ "nicheIn": ["fit\u{0}ness"] }),
            vec![("filter.nicheIn.0", "INVALID")],
        ),
        (
            json!({ "search": "a\u{0}b" }),
            vec![("filter.search", "INVALID")],
        ),
        // Every problem of the filter's shape at once; the ids it names are looked up once the
        // shape is right.
        (
            json!({ "followerCount": { "min": 2, "max": 1 }, "not": { "engaged": { "withinDays": -1 }, "inAllSegments": [nothing] } }),
            vec![
                ("filter.followerCount", "INVALID"),
                ("filter.not.engaged.withinDays", "INVALID"),
            ],
        ),
        (
            json!({ "not": { "inAllSegments": [nothing] }, "anyOf": [{ "engaged": { "campaignId": r.c1 } }, { "inNoSegment": [r.b, nothing] }] }),
            vec![
                ("filter.anyOf.1.inNoSegment.1", "NOT_FOUND"),
                ("filter.not.inAllSegments.0", "NOT_FOUND"),
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (filter, expected) in &cases {
        let response = app
            .exec(FILTERED, json!({ "filter": filter, "first": 5 }))
            .await;
        let found = problems(&response);
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
            .collect();
        if found != expected {
            failures.push(format!("{filter}: expected {expected:?}, found {found:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Five levels are allowed; the sixth is refused (above).
    assert_eq!(matching(app, nested_nots(4)).await, ["émile"]);
}

/// Expected `(path, code)` pairs.
type Problems = Vec<(&'static str, &'static str)>;

const ASSIGN: &str = "mutation($input: AssignToSegmentInput!) { assignToSegment(input: $input) { segment { name memberCount } influencers { handle } addedCount userErrors { field code } } }";
const REMOVE: &str = "mutation($input: RemoveFromSegmentInput!) { removeFromSegment(input: $input) { segment { name memberCount } influencers { handle } removedCount userErrors { field code } } }";

#[tokio::test]
async fn assigning_and_removing_by_filter_takes_every_match_and_counts_what_changed() {
    let r = roster().await;
    let app = &r.app;
    let fitness = json!({ "nicheIn": ["fitness"] });
    let assigned = app
        .data(
            ASSIGN,
            json!({ "input": { "filter": fitness, "segment": { "create": { "name": "Fit" } } } }),
        )
        .await;
    assert_eq!(
        assigned["assignToSegment"],
        json!({ "segment": { "name": "Fit", "memberCount": 4 }, "influencers": null, "addedCount": 4, "userErrors": [] })
    );
    // Assigning again adds nobody.
    let again = app
        .data(
            ASSIGN,
            json!({ "input": { "filter": { "platformIn": ["TIKTOK"] }, "segment": { "create": { "name": "TikTok" } } } }),
        )
        .await;
    assert_eq!(again["assignToSegment"]["addedCount"], 4);
    let segment_id = {
        let data = app
            .data("{ segments(search: \"fit\") { nodes { id } } }", json!({}))
            .await;
        data["segments"]["nodes"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let repeat = app
        .data(
            ASSIGN,
            json!({ "input": { "filter": fitness, "segment": { "id": segment_id } } }),
        )
        .await;
    assert_eq!(repeat["assignToSegment"]["addedCount"], 0);
    assert_eq!(repeat["assignToSegment"]["segment"]["memberCount"], 4);
    assert_eq!(
        matching(app, json!({ "inAnySegment": [segment_id] })).await,
        ["ana", "ben", "cal", "gus"]
    );

    // Removing by filter ends only the matching memberships of that segment.
    let removed = app
        .data(
            REMOVE,
            json!({ "input": { "filter": { "platformIn": ["TIKTOK"] }, "segmentId": segment_id } }),
        )
        .await;
    assert_eq!(
        removed["removeFromSegment"],
        json!({ "segment": { "name": "Fit", "memberCount": 1 }, "influencers": null, "removedCount": 3, "userErrors": [] })
    );
    assert_eq!(
        matching(app, json!({ "inAnySegment": [segment_id] })).await,
        ["ana"]
    );
    // cal was in Fit only (and TikTok, made above): still assigned.
    assert_eq!(
        matching(app, json!({ "unassigned": true })).await,
        ["fay", "émile"]
    );

    // By ids, the counts are there too.
    let by_ids = app
        .data(
            ASSIGN,
            json!({ "input": { "influencerIds": [r.ids[5], r.ids[0]], "segment": { "id": segment_id } } }),
        )
        .await;
    assert_eq!(by_ids["assignToSegment"]["addedCount"], 1);
    assert_eq!(
        by_ids["assignToSegment"]["influencers"],
        json!([{ "handle": "fay" }, { "handle": "ana" }])
    );
    let by_ids = app
        .data(
            REMOVE,
            json!({ "input": { "influencerIds": [r.ids[5], r.ids[1]], "segmentId": segment_id } }),
        )
        .await;
    assert_eq!(by_ids["removeFromSegment"]["removedCount"], 1);
}

#[tokio::test]
async fn a_refused_assignment_or_removal_by_filter_writes_nothing() {
    let r = roster().await;
    let app = &r.app;
    let memberships = app.count_rows("segment_membership").await;
    let segments = app.count_rows("segment").await;
    let nothing = common::unknown_id(segments_api::graphql::schema::ids::Kind::Segment);
    let refused: Vec<(&str, Value, Problems)> = vec![
        (
            ASSIGN,
            json!({ "filter": { "inAnySegment": [nothing] }, "segment": { "create": { "name": "New" } } }),
            vec![("input.filter.inAnySegment.0", "NOT_FOUND")],
        ),
        (
            ASSIGN,
            json!({ "filter": { "followerCount": { "min": 3, "max": 2 } }, "segment": { "id": r.a } }),
            vec![("input.filter.followerCount", "INVALID")],
        ),
        (
            ASSIGN,
            json!({ "influencerIds": [r.ids[0]], "filter": {}, "segment": { "id": r.a } }),
            vec![("input.filter", "INVALID")],
        ),
        (
            ASSIGN,
            json!({ "segment": { "id": r.a } }),
            vec![("input.influencerIds", "INVALID")],
        ),
        (
            ASSIGN,
            json!({ "filter": { "engaged": { "campaignId": r.c2, "withinDays": 0 } }, "segment": { "id": nothing } }),
            vec![("input.filter.engaged.withinDays", "INVALID")],
        ),
        (
            REMOVE,
            json!({ "filter": { "inAllSegments": [r.b, nothing] }, "segmentId": nothing }),
            vec![
                ("input.segmentId", "NOT_FOUND"),
                ("input.filter.inAllSegments.1", "NOT_FOUND"),
            ],
        ),
        (
            REMOVE,
            json!({ "filter": nested_nots(5), "segmentId": r.a }),
            vec![("input.filter.not.not.not.not.not", "TOO_MANY")],
        ),
    ];
    for (mutation, input, expected) in refused {
        let data = app.data(mutation, json!({ "input": input })).await;
        let payload = data.as_object().unwrap().values().next().unwrap();
        let found = common::paths_and_codes(&payload["userErrors"]);
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
            .collect();
        assert_eq!(found, expected, "{input}");
        assert_eq!(payload["segment"], Value::Null, "{input}");
        assert_eq!(app.count_rows("segment_membership").await, memberships);
        assert_eq!(app.count_rows("segment").await, segments);
    }
}

#[tokio::test]
async fn an_assignment_by_filter_of_more_influencers_than_any_id_list_takes_runs_the_same_statements()
 {
    let app = TestApp::spawn().await;
    // Over the id lists' hard cap (30,000), so no list of ids could name them all.
    let seeded = segments_api::cli::seed::seed(&app.db, app.workspace, 31_000)
        .await
        .expect("seed");
    let roster = seeded.influencers as i64;
    let assign = |name: &str, filter: Value| json!({ "input": { "filter": filter, "segment": { "create": { "name": name } } } });
    let unassigned =
        app.data("{ unassigned { totalCount } }", json!({})).await["unassigned"]["totalCount"]
            .as_i64()
            .unwrap();
    // The first write after the seed compiles the workspace's rules (one statement more, once):
    // one that leaves Unassigned as it is.
    let warm = app
        .data(ASSIGN, assign("Assigned", json!({ "unassigned": false })))
        .await;
    assert_eq!(warm["assignToSegment"]["addedCount"], roster - unassigned);
    app.take_statement_count();
    let some = app
        .data(ASSIGN, assign("Some", json!({ "unassigned": true })))
        .await;
    assert_eq!(some["assignToSegment"]["addedCount"], unassigned);
    let some_statements = app.take_statement_count();
    let all = app.data(ASSIGN, assign("Everyone", json!({}))).await;
    assert_eq!(all["assignToSegment"]["addedCount"], roster);
    assert_eq!(all["assignToSegment"]["segment"]["memberCount"], roster);
    assert_eq!(app.take_statement_count(), some_statements);
    assert!(roster > 30_000, "{roster}");
    assert_eq!(
        app.data("{ unassigned { totalCount } }", json!({})).await["unassigned"]["totalCount"],
        0
    );
}
