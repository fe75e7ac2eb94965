mod common;

// The limits on one request, through the real HTTP stack: query depth, complexity, aliases,
// directives and tokens are refused before anything runs (HTTP 400 with a code), bodies over the
// size limit get 413, requests over the deadline get 408 and write nothing, introspection and
// suggestions can be switched off, and neither GET nor batches run operations.

use std::time::Duration;

use common::TestApp;
use pretty_assertions::assert_eq;
use reqwest::{StatusCode, header};
use segments_api::{
    config::HttpConfig,
    graphql::{
        runtime::limits::Limits,
        schema::ids::{Kind, encode},
    },
};
use serde_json::{Value, json};

struct Server {
    app: TestApp,
    base: String,
    client: reqwest::Client,
}

impl Server {
    async fn start_with(config: HttpConfig) -> Self {
        let app = TestApp::spawn().await;
        let base = format!("http://{}", app.serve(&config).await);
        let client = TestApp::client_with_key(&app.api_key().await);
        Self { app, base, client }
    }

    async fn start() -> Self {
        Self::start_with(HttpConfig::default()).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a JSON body; returns the status and the body as JSON (null when it is not JSON).
    async fn post_json(&self, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(body)
            .send()
            .await
            .expect("POST /graphql");
        let status = response.status();
        let text = response.text().await.expect("body");
        (
            status,
            common::without_cost(serde_json::from_str(&text).unwrap_or(Value::Null)),
        )
    }

    async fn graphql(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        self.post_json(&json!({ "query": query, "variables": variables }))
            .await
    }
}

/// The body of a request refused before execution.
/// The body of a request that never ran: no `data` entry at all (GraphQL over HTTP).
fn refused(code: &str, message: &str) -> Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

/// The body of a request the HTTP layer answered itself (no `data`).
fn http_error(code: &str, message: &str) -> Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

/// A query nested exactly `depth` fields deep (the leaf included), with pages of one so that its
/// complexity stays far under the limit: segments > nodes > influencers > nodes > segments > ...
fn nested_query(depth: usize) -> String {
    assert!(depth >= 2);
    let mut fields = vec!["segments(first: 1)".to_owned(), "nodes".to_owned()];
    let cycle = ["influencers(first: 1)", "nodes", "segments"];
    let mut i = 0;
    while fields.len() < depth - 1 {
        fields.push(cycle[i % 3].to_owned());
        i += 1;
    }
    let mut query = String::from("{ ");
    for field in &fields {
        query.push_str(field);
        query.push_str(" { ");
    }
    // A leaf of the innermost type (`__typename` would not count towards the depth).
    let last = fields.last().unwrap();
    query.push_str(if last.contains("(first: 1)") {
        "totalCount"
    } else {
        "id"
    });
    for _ in &fields {
        query.push_str(" }");
    }
    query.push_str(" }");
    query
}

#[tokio::test]
async fn a_query_nested_deeper_than_15_is_refused_before_it_runs() {
    let server = Server::start().await;
    server.app.create_segment("Fitness").await;

    let (status, body) = server.graphql(&nested_query(15), json!({})).await;
    assert_eq!(status, StatusCode::OK, "depth 15 is allowed: {body:#}");
    assert_eq!(
        body,
        json!({ "data": { "segments": { "nodes": [{ "influencers": { "nodes": [] } }] } } })
    );

    let (status, body) = server.graphql(&nested_query(16), json!({})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            refused("QUERY_TOO_DEEP", "Query is nested too deep.")
        )
    );
}

#[tokio::test]
async fn the_depth_limit_counts_fields_inside_fragments() {
    let server = Server::start().await;
    // 16 deep once the fragment is spread in: segments > nodes > ...F (14 more).
    let whole = nested_query(16);
    let rest = whole
        .strip_prefix("{ segments(first: 1) { nodes { ")
        .and_then(|q| q.strip_suffix(" } } }"))
        .expect("the nested query's shape");
    let query = format!(
        "{{ segments(first: 1) {{ nodes {{ ...F }} }} }} fragment F on Segment {{ {rest} }}"
    );
    let (status, body) = server.graphql(&query, json!({})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            refused("QUERY_TOO_DEEP", "Query is nested too deep.")
        ),
        "{query}"
    );
}

#[tokio::test]
async fn a_query_over_the_complexity_limit_is_refused_before_it_runs() {
    let server = Server::start().await;
    // 100 segments x 100 influencers x (their segments + memberships, 10 each by estimate):
    // 1 + 100 * (1 + 1 + 100 * (1 + 11 + 11)) = 230,201 > 100,000.
    let (status, body) = server
        .graphql(
            "{ segments(first: 100) { nodes { influencers(first: 100) { nodes { segments { name } memberships { source } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            refused("QUERY_TOO_COMPLEX", "Query is too complex.")
        )
    );
    // Aliases of a costly field add up.
    let aliased: String = (0..10)
        .map(|i| format!("a{i}: segments(first: 100) {{ nodes {{ influencers(first: 100) {{ nodes {{ handle }} }} }} }} "))
        .collect();
    let (status, body) = server.graphql(&format!("{{ {aliased} }}"), json!({})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            refused("QUERY_TOO_COMPLEX", "Query is too complex.")
        )
    );
}

#[tokio::test]
async fn a_realistic_dashboard_query_fits_the_complexity_limit() {
    let server = Server::start().await;
    let fitness = server.app.create_segment("Fitness").await;
    let cooking = server.app.create_segment("Cooking").await;
    let people = server.app.create_influencers("creator", 2).await;
    server.app.assign(&people, &fitness).await;
    server.app.assign(&people[..1], &cooking).await;

    // 50 segments x their first 20 influencers x those influencers' segments:
    // 1 + 50 * (1 + 1 + 1 + 1 + 20 * (1 + 1 + 11)) = 13,201.
    let (status, body) = server
        .graphql(
            "{ segments(first: 50) { totalCount nodes { name memberCount influencers(first: 20) { nodes { handle segments { name } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "data": { "segments": { "totalCount": 2, "nodes": [
            { "name": "Fitness", "memberCount": 2, "influencers": { "nodes": [
                { "handle": "creator0", "segments": [{ "name": "Fitness" }, { "name": "Cooking" }] },
                { "handle": "creator1", "segments": [{ "name": "Fitness" }] },
            ] } },
            { "name": "Cooking", "memberCount": 1, "influencers": { "nodes": [
                { "handle": "creator0", "segments": [{ "name": "Fitness" }, { "name": "Cooking" }] },
            ] } },
        ] } } })
    );
}

fn aliased_viewers(n: usize) -> String {
    let fields: String = (0..n)
        .map(|i| format!("v{i}: viewer {{ workspace {{ name }} }} "))
        .collect();
    format!("{{ {fields}}}")
}

#[tokio::test]
async fn thirty_aliases_pass_and_thirty_one_are_refused() {
    let server = Server::start().await;

    let (status, body) = server.graphql(&aliased_viewers(30), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let expected: serde_json::Map<String, Value> = (0..30)
        .map(|i| {
            (
                format!("v{i}"),
                json!({ "workspace": { "name": "Default" } }),
            )
        })
        .collect();
    assert_eq!(body, json!({ "data": expected }));

    let (status, body) = server.graphql(&aliased_viewers(31), json!({})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            refused(
                "TOO_MANY_ALIASES",
                "the query uses 31 aliases; at most 30 are allowed"
            )
        )
    );
}

#[tokio::test]
async fn aliases_inside_fragments_count_towards_the_limit() {
    let server = Server::start().await;
    let fields: String = (0..31).map(|i| format!("n{i}: name ")).collect();
    let query =
        format!("{{ segments {{ nodes {{ ...F }} }} }} fragment F on Segment {{ {fields}}}");
    let (status, body) = server.graphql(&query, json!({})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            refused(
                "TOO_MANY_ALIASES",
                "the query uses 31 aliases; at most 30 are allowed"
            )
        )
    );
}

#[tokio::test]
async fn eleven_directives_on_a_field_are_refused_as_too_many() {
    let server = Server::start().await;
    let directives = |n: usize| " @include(if: true)".repeat(n);

    let (status, body) = server
        .graphql(
            &format!("{{ viewer{} {{ workspace {{ name }} }} }}", directives(11)),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({ "errors": [{
                "message": "the query uses 11 directives; at most 10 are allowed",
                "extensions": { "code": "TOO_MANY_DIRECTIVES" },
            }] })
        )
    );

    // Ten are within the limit (repeating a non-repeatable directive is then a plain validation
    // error, not a limit).
    let (status, body) = server
        .graphql(
            &format!("{{ viewer{} {{ workspace {{ name }} }} }}", directives(10)),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert_eq!(
        body["errors"][0]["extensions"],
        json!({ "code": "GRAPHQL_VALIDATION_FAILED" }),
        "{body:#}"
    );
}

#[tokio::test]
async fn eleven_directives_in_one_query_are_refused() {
    // `--max-query-directives`: "Most directives in one query."
    let server = Server::start().await;
    let fields: String = (0..11)
        .map(|i| format!("v{i}: viewer @include(if: true) {{ workspace {{ name }} }} "))
        .collect();
    let (status, body) = server.graphql(&format!("{{ {fields}}}"), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert_eq!(
        body["errors"][0]["extensions"],
        json!({ "code": "TOO_MANY_DIRECTIVES" }),
        "{body:#}"
    );
}

#[tokio::test]
async fn a_query_of_more_than_10000_tokens_is_refused_and_10000_pass() {
    let server = Server::start().await;
    // `{`, n times `__typename`, `}`.
    let query = |n: usize| format!("{{ {}}}", "__typename ".repeat(n));

    let (status, body) = server.graphql(&query(9_998), json!({})).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({ "data": { "__typename": "Query" } }))
    );

    let (status, body) = server.graphql(&query(9_999), json!({})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            refused(
                "QUERY_TOO_LARGE",
                "the query has more than 10000 tokens; send lists as variables"
            )
        )
    );
}

#[tokio::test]
async fn a_list_written_into_the_query_text_counts_its_tokens() {
    let server = Server::start().await;
    let ids: Vec<String> = (1..=10_000)
        .map(|n| format!("\"{}\"", encode(Kind::Influencer, n).0))
        .collect();
    let query = format!(
        "mutation {{ assignToSegment(input: {{ influencerIds: [{}], segment: {{ create: {{ name: \"Big\" }} }} }}) {{ userErrors {{ code }} }} }}",
        ids.join(", ")
    );
    let (status, body) = server.graphql(&query, json!({})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            refused(
                "QUERY_TOO_LARGE",
                "the query has more than 10000 tokens; send lists as variables"
            )
        )
    );
    assert_eq!(server.app.count_rows("segment").await, 0);
}

#[tokio::test]
async fn a_body_over_max_body_bytes_gets_413() {
    let server = Server::start_with(HttpConfig {
        max_body_bytes: 1024,
        ..HttpConfig::default()
    })
    .await;
    let small = json!({ "query": "{ viewer { workspace { name } } }" });
    let (status, _) = server.post_json(&small).await;
    assert_eq!(status, StatusCode::OK, "a small body fits");

    // 2 KB: a mutation that would write, padded with a comment (which is no token).
    let big = json!({
        "query": format!(
            "# {}\nmutation {{ createSegment(input: {{ name: \"Padded\" }}) {{ userErrors {{ code }} }} }}",
            "x".repeat(2048)
        ),
    });
    let (status, body) = server.post_json(&big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(server.app.count_rows("segment").await, 0, "nothing ran");
}

#[tokio::test]
async fn ten_thousand_influencer_ids_in_variables_fit_the_default_body_limit() {
    let server = Server::start().await;
    let people = server.app.create_influencers("fan", 2).await;
    // 10,000 ids of realistic length (the two real ones, repeated; duplicates are merged).
    let ids: Vec<&String> = people.iter().cycle().take(10_000).collect();
    let body = json!({
        "query": "mutation($ids: [ID!]!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: \"Fans\" } } }) { segment { name memberCount } influencers { handle } userErrors { code } } }",
        "variables": { "ids": ids },
    });
    assert!(
        serde_json::to_vec(&body).unwrap().len() > 150_000,
        "a body the size of 10,000 ids"
    );
    let (status, body) = server.post_json(&body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "data": { "assignToSegment": {
            "segment": { "name": "Fans", "memberCount": 2 },
            "influencers": [{ "handle": "fan0" }, { "handle": "fan1" }],
            "userErrors": [],
        } } })
    );
}

#[tokio::test]
async fn a_page_of_more_than_100_is_refused() {
    let server = Server::start().await;
    server.app.create_segment("Fitness").await;
    for (query, message, column, path) in [
        (
            "{ segments(first: 101) { totalCount } }",
            "`first` must be at most 100 (got 101)",
            3,
            json!(["segments"]),
        ),
        (
            "{ influencers(last: 101) { totalCount } }",
            "`last` must be at most 100 (got 101)",
            3,
            json!(["influencers"]),
        ),
        (
            "{ segments { nodes { influencers(first: 101) { totalCount } } } }",
            "`first` must be at most 100 (got 101)",
            22,
            json!(["segments", "nodes", 0, "influencers"]),
        ),
    ] {
        let (status, body) = server.graphql(query, json!({})).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::OK,
                json!({ "data": null, "errors": [{
                    "message": message,
                    "locations": [{ "line": 1, "column": column }],
                    "path": path,
                    "extensions": { "code": "BAD_USER_INPUT" },
                }] })
            ),
            "{query}"
        );
    }
    let (status, body) = server
        .graphql("{ segments(first: 100) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({ "data": { "segments": { "totalCount": 1 } } })
        )
    );
}

#[tokio::test]
async fn a_request_over_the_deadline_gets_408_and_writes_nothing() {
    let server = Server::start_with(HttpConfig {
        request_timeout: Duration::ZERO,
        ..HttpConfig::default()
    })
    .await;
    let alice = server.app.create_influencer("alice").await;

    let mutation = "mutation($ids: [ID!]!, $name: String!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: $name } } }) { segment { name } userErrors { code } } }";
    let timed_out = http_error(
        "REQUEST_TIMEOUT",
        "the request took longer than the server allows and was cancelled",
    );

    // Many at once: whether the deadline is noticed before or after the commit is a race that a
    // busy server loses more often. (The timer ticks by the millisecond, so a few may even
    // finish: those answer 200 with their segment, which is fine.) Every request answered 408
    // ("cancelled") must have written nothing.
    let (server, alice) = (&server, &alice);
    let requests = (0..60).map(|attempt| async move {
        let name = format!("Late {attempt}");
        let answer = server
            .graphql(mutation, json!({ "ids": [alice], "name": name }))
            .await;
        (name, answer)
    });
    let answers = futures_util::future::join_all(requests).await;
    let mut cancelled = Vec::new();
    for (name, (status, body)) in answers {
        if status == StatusCode::OK {
            assert_eq!(
                body,
                json!({ "data": { "assignToSegment": { "segment": { "name": name }, "userErrors": [] } } })
            );
        } else {
            assert_eq!(
                (status, body),
                (StatusCode::REQUEST_TIMEOUT, timed_out.clone()),
                "{name}"
            );
            cancelled.push(name);
        }
    }
    assert!(!cancelled.is_empty(), "some requests time out");
    let names = server
        .app
        .data("{ segments(first: 100) { nodes { name } } }", json!({}))
        .await;
    let written: Vec<&str> = names["segments"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .filter(|name| cancelled.iter().any(|c| c == name))
        .collect();
    assert_eq!(
        written,
        Vec::<&str>::new(),
        "requests answered 408 (\"the request ... was cancelled\") committed their segment"
    );
}

#[tokio::test]
async fn introspection_can_be_switched_off() {
    let query = "{ __schema { types { name } } }";
    let on = Server::start().await;
    let (status, body) = on.graphql(query, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["data"]["__schema"]["types"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["name"] == "Segment")),
        "{body:#}"
    );

    let off = Server::start_with(HttpConfig {
        limits: Limits {
            introspection: false,
            ..Limits::default()
        },
        ..HttpConfig::default()
    })
    .await;
    // Nothing of the schema leaks...
    for query in [r#"{ __type(name: "Segment") { fields { name } } }"#, query] {
        let (_, body) = off.graphql(query, json!({})).await;
        let text = body.to_string();
        assert!(
            !text.contains("Segment\"") && !text.contains("memberCount"),
            "{query}: {body:#}"
        );
    }
    // ...and the client is told: `__schema` is non-null, so a bare null is no answer.
    let (status, body) = off.graphql(query, json!({})).await;
    assert!(
        body["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "refused with an error: {status} {body:#}"
    );
}

#[tokio::test]
async fn suggestions_for_misspelt_fields_can_be_switched_off() {
    let query = "{ segmnts { totalCount } }";
    let on = Server::start().await;
    let (status, body) = on.graphql(query, json!({})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({ "errors": [{
                "message": "Unknown field \"segmnts\" on type \"Query\". Did you mean \"segments\", \"segment\"?",
                "locations": [{ "line": 1, "column": 3 }],
                "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" },
            }] })
        )
    );

    let off = Server::start_with(HttpConfig {
        limits: Limits {
            suggestions: false,
            ..Limits::default()
        },
        ..HttpConfig::default()
    })
    .await;
    let (status, body) = off.graphql(query, json!({})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({ "errors": [{
                "message": "Unknown field \"segmnts\" on type \"Query\".",
                "locations": [{ "line": 1, "column": 3 }],
                "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" },
            }] })
        )
    );
}

#[tokio::test]
async fn get_graphql_with_a_mutation_in_the_query_string_runs_nothing() {
    let server = Server::start().await;
    let response = server
        .client
        .get(server.url("/graphql"))
        .query(&[(
            "query",
            r#"mutation { createSegment(input: { name: "ViaGet" }) { segment { id } } }"#,
        )])
        .send()
        .await
        .expect("GET /graphql");
    let status = response.status();
    let allow = response.headers().get(header::ALLOW).cloned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(allow.unwrap(), "POST");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "METHOD_NOT_ALLOWED"
    );
    assert_eq!(server.app.count_rows("segment").await, 0);
}

#[tokio::test]
async fn a_batch_body_is_refused_and_runs_nothing() {
    let server = Server::start().await;
    let batch = json!([
        { "query": r#"mutation { createSegment(input: { name: "One" }) { segment { id } } }"# },
        { "query": r#"mutation { createSegment(input: { name: "Two" }) { segment { id } } }"# },
    ]);
    let response = server
        .client
        .post(server.url("/graphql"))
        .json(&batch)
        .send()
        .await
        .expect("POST /graphql");
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_client_error(), "{status}: {text}");
    assert_eq!(server.app.count_rows("segment").await, 0, "{text}");

    // A batch of one is still a batch.
    let response = server
        .client
        .post(server.url("/graphql"))
        .json(&json!([{ "query": r#"mutation { createSegment(input: { name: "Solo" }) { segment { id } } }"# }]))
        .send()
        .await
        .expect("POST /graphql");
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_client_error(), "{status}: {text}");
    assert_eq!(server.app.count_rows("segment").await, 0, "{text}");
}

#[tokio::test]
async fn page_size_bulk_and_nodes_limits_are_configurable() {
    let server = Server::start_with(HttpConfig {
        limits: Limits {
            max_page_size: 5,
            max_bulk_ids: 3,
            max_nodes: 2,
            ..Limits::default()
        },
        ..HttpConfig::default()
    })
    .await;
    let (_, body) = server
        .graphql("{ segments(first: 6) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["message"],
        "`first` must be at most 5 (got 6)"
    );
    let (_, body) = server
        .graphql("{ segments(first: 5) { totalCount } }", json!({}))
        .await;
    assert_eq!(body, json!({ "data": { "segments": { "totalCount": 0 } } }));

    let ids: Vec<String> = (1..=4)
        .map(|n| {
            segments_api::graphql::schema::ids::encode(
                segments_api::graphql::schema::ids::Kind::Influencer,
                n,
            )
            .0
        })
        .collect();
    let (_, body) = server
        .graphql(
            "mutation($ids: [ID!]!) { assignToSegment(input: { influencerIds: $ids, segment: { create: { name: \"X\" } } }) { userErrors { field code } } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(
        body["data"]["assignToSegment"]["userErrors"],
        json!([{ "field": ["input", "influencerIds"], "code": "TOO_MANY" }])
    );

    let (_, body) = server
        .graphql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": &ids[..3] }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["message"],
        "at most 2 ids per call (got 3)"
    );
}
