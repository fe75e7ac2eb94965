//! GraphQL over HTTP as the spec describes it: media types chosen by `Accept`, GET for queries
//! only, request errors without `data`, and automatic persisted queries (Apollo's protocol) by
//! POST and by GET. The public `graphql-http` audit also runs against the binary in CI
//! (`e2e/audit.mjs`); these tests pin the behaviour in the Rust suite.
mod common;

use common::http::{GRAPHQL_RESPONSE, Server};
use pretty_assertions::assert_eq;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[tokio::test]
async fn the_response_type_follows_accept_and_decides_the_status_of_request_errors() {
    let server = Server::start().await;
    let good = json!({ "query": "{ __typename }" });
    let unparsable = json!({ "query": "{" });
    let invalid = json!({ "query": "{ noSuchField }" });
    // (Accept, the media type answered)
    let cases = [
        (None, "application/json"),
        (Some("*/*"), "application/json"),
        (Some("application/json"), "application/json"),
        (Some(GRAPHQL_RESPONSE), GRAPHQL_RESPONSE),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            GRAPHQL_RESPONSE,
        ),
        (
            Some("application/json, application/graphql-response+json;q=0.5"),
            "application/json",
        ),
        (Some("text/html, */*;q=0.1"), "application/json"),
    ];
    for (accept, media) in cases {
        let (status, content_type, body) = server.post(accept, &good).await;
        assert_eq!(status, StatusCode::OK, "{accept:?}");
        assert!(
            content_type.starts_with(media),
            "{accept:?}: {content_type}"
        );
        assert!(content_type.contains("charset=utf-8"), "{content_type}");
        assert_eq!(body, json!({ "data": { "__typename": "Query" } }));

        // application/json answers every well-formed request with 200; the newer type uses 400
        // for a request that could not run. Neither has a `data` entry then.
        let request_error = if media == GRAPHQL_RESPONSE {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        for (bad, code) in [
            (&unparsable, "GRAPHQL_PARSE_FAILED"),
            (&invalid, "GRAPHQL_VALIDATION_FAILED"),
        ] {
            let (status, content_type, body) = server.post(accept, bad).await;
            assert_eq!(status, request_error, "{accept:?} {bad}");
            assert!(content_type.starts_with(media), "{content_type}");
            assert_eq!(body.get("data"), None, "{body}");
            assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");
        }
    }
    let (status, _, body) = server.post(Some("text/html"), &good).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_ACCEPTABLE");
}

#[tokio::test]
async fn a_missing_or_null_required_variable_is_a_request_error() {
    let server = Server::start().await;
    let query = "query Profile($id: ID!) { node(id: $id) { id } }";
    for variables in [json!({}), json!({ "id": null })] {
        let body = json!({ "query": query, "variables": variables });
        let (status, _, answer) = server.post(Some(GRAPHQL_RESPONSE), &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer.get("data"), None);
        let error = &answer["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{answer}");
        assert!(
            error["message"].as_str().unwrap().contains("$id"),
            "{answer}"
        );
        let (status, _, _) = server.post(Some("application/json"), &body).await;
        assert_eq!(status, StatusCode::OK);
    }
    // A default or a nullable type needs no value.
    let body = json!({ "query": "query($first: Int! = 5, $after: String) { segments(first: $first, after: $after) { totalCount } }" });
    let (status, _, answer) = server.post(Some(GRAPHQL_RESPONSE), &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer,
        json!({ "data": { "segments": { "totalCount": 0 } } })
    );
}

#[tokio::test]
async fn get_runs_queries_and_refuses_mutations_with_405() {
    let server = Server::start().await;
    server.app.create_segment("Runners").await;
    let (status, _, body) = server
        .get(
            GRAPHQL_RESPONSE,
            &[
                (
                    "query",
                    "query Names($n: Int) { segments(first: $n) { nodes { name } } }",
                ),
                ("variables", r#"{"n": 5}"#),
                ("operationName", "Names"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "data": { "segments": { "nodes": [{ "name": "Runners" }] } } })
    );

    let mutation = r#"mutation { createSegment(input: { name: "Sneaky" }) { segment { id } } }"#;
    for accept in [GRAPHQL_RESPONSE, "application/json"] {
        let response = server
            .http
            .get(format!("{}/graphql", server.base))
            .bearer_auth(&server.key)
            .header(header::ACCEPT, accept)
            .query(&[("query", mutation)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "POST");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "METHOD_NOT_ALLOWED"
        );
    }
    // Also when the mutation is one of several operations, picked by name.
    let (status, _, _) = server
        .get(
            GRAPHQL_RESPONSE,
            &[
                (
                    "query",
                    &format!("query Q {{ __typename }} mutation M {}", &mutation[9..]),
                ),
                ("operationName", "M"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(server.app.count_rows("segment").await, 1, "nothing written");

    // GET with a query needs a key like POST; without one it is GraphiQL's page.
    let response = server
        .http
        .get(format!("{}/graphql", server.base))
        .query(&[("query", "{ __typename }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let page = server
        .http
        .get(format!("{}/graphql", server.base))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("graphiql"));
    // A browser following a link with a query in it gets the page too, not JSON.
    let page = server
        .http
        .get(format!("{}/graphql", server.base))
        .header(
            header::ACCEPT,
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .query(&[("query", "{ __typename }")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("graphiql"));
}

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

#[tokio::test]
async fn persisted_queries_by_hash_after_one_registration() {
    let server = Server::start().await;
    server.app.create_segment("Cyclists").await;
    let query = "query Folders { segments(first: 10) { nodes { name } } }";
    let hash = sha256(query);
    let expected = json!({ "data": { "segments": { "nodes": [{ "name": "Cyclists" }] } } });

    // The hash alone, unknown yet: the client must send the text (Apollo Client and urql do).
    for accept in [GRAPHQL_RESPONSE, "application/json"] {
        let (status, _, body) = server
            .post(Some(accept), &json!({ "extensions": persisted(&hash) }))
            .await;
        let expected_status = if accept == GRAPHQL_RESPONSE {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        assert_eq!(status, expected_status);
        assert_eq!(
            body,
            json!({ "errors": [{ "message": "PersistedQueryNotFound", "extensions": { "code": "PERSISTED_QUERY_NOT_FOUND" } }] })
        );
    }
    // Text and hash: runs and registers.
    let (status, _, body) = server
        .post(
            Some(GRAPHQL_RESPONSE),
            &json!({ "query": query, "extensions": persisted(&hash) }),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, expected.clone()));
    // From now on the hash is enough, by POST and by GET (cacheable URLs).
    let (status, _, body) = server
        .post(
            Some(GRAPHQL_RESPONSE),
            &json!({ "extensions": persisted(&hash) }),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, expected.clone()));
    let extensions = persisted(&hash).to_string();
    let (status, _, body) = server
        .get(GRAPHQL_RESPONSE, &[("extensions", extensions.as_str())])
        .await;
    assert_eq!((status, body), (StatusCode::OK, expected));

    // A text that does not match its hash, or a malformed extension, is refused.
    let (status, _, body) = server
        .post(
            Some(GRAPHQL_RESPONSE),
            &json!({ "query": "{ __typename }", "extensions": persisted(&hash) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_HASH_MISMATCH"
    );
    let (status, _, body) = server
        .post(
            Some("application/json"),
            &json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "nope" } } }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
}

#[tokio::test]
async fn a_persisted_mutation_runs_by_post_but_not_by_get() {
    let server = Server::start().await;
    let mutation =
        r#"mutation { createSegment(input: { name: "Persisted" }) { segment { name } } }"#;
    let hash = sha256(mutation);
    let (status, _, body) = server
        .post(
            Some(GRAPHQL_RESPONSE),
            &json!({ "query": mutation, "extensions": persisted(&hash) }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let extensions = persisted(&hash).to_string();
    let (status, _, _) = server
        .get(GRAPHQL_RESPONSE, &[("extensions", extensions.as_str())])
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(server.app.count_rows("segment").await, 1);
}

#[tokio::test]
async fn a_persisted_query_is_held_to_the_same_limits_as_a_sent_one() {
    let server = Server::start().await;
    let aliases: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    let query = format!("{{ {aliases} }}");
    let (status, _, body) = server
        .post(
            Some(GRAPHQL_RESPONSE),
            &json!({ "query": query, "extensions": persisted(&sha256(&query)) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["extensions"]["code"], "TOO_MANY_ALIASES");
    // Not kept (a text is kept only once its request has run), so by hash it is unknown and
    // runs nothing either.
    let (status, _, body) = server
        .post(
            Some(GRAPHQL_RESPONSE),
            &json!({ "extensions": persisted(&sha256(&query)) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
}

#[tokio::test]
async fn fields_come_back_in_the_order_asked_every_time() {
    let server = Server::start().await;
    let ids = server.app.create_influencers("order", 3).await;
    let segment = server.app.create_segment("Ordered").await;
    server.app.assign(&ids[..2], &segment).await;
    // Root fields that finish in different orders when resolved concurrently.
    let query = "{ unassigned(first: 5) { totalCount nodes { handle id } } viewer { workspace { name id } } segments(first: 5) { nodes { name memberCount id influencers(first: 5) { nodes { id handle } totalCount } } } b: __typename campaigns(first: 5) { totalCount } }";
    let expected_order = [
        "\"unassigned\"",
        "\"viewer\"",
        "\"segments\"",
        "\"b\"",
        "\"campaigns\"",
    ];
    for _ in 0..20 {
        let text = server
            .http
            .post(format!("{}/graphql", server.base))
            .bearer_auth(&server.key)
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let positions: Vec<usize> = expected_order
            .iter()
            .map(|key| text.find(key).unwrap_or_else(|| panic!("{key} in {text}")))
            .collect();
        assert!(positions.is_sorted(), "{text}");
        // Nested objects too: name before memberCount before id, totalCount after nodes.
        let segment_at = text.find("\"name\":\"Ordered\"").unwrap();
        let rest = &text[segment_at..];
        let (count, id) = (
            rest.find("\"memberCount\"").unwrap(),
            rest.find("\"id\"").unwrap(),
        );
        assert!(count < id, "{text}");
        let nodes = rest.find("\"nodes\"").unwrap();
        let total = rest.find("\"totalCount\"").unwrap();
        assert!(nodes < total, "{text}");
    }
}

#[tokio::test]
async fn a_request_without_a_query_is_malformed() {
    let server = Server::start().await;
    for accept in [None, Some("application/json"), Some(GRAPHQL_RESPONSE)] {
        for body in [
            json!({ "qeury": "{ __typename }" }),
            json!({ "query": "" }),
            json!({ "query": "   " }),
        ] {
            let (status, _, answer) = server.post(accept, &body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{accept:?} {body}");
            assert_eq!(answer["errors"][0]["extensions"]["code"], "BAD_REQUEST");
        }
    }
}
